"""The invoice as a PDF (fpdf2): the company's letterhead (logo, address), the invoice's dates
and terms, bill-to and ship-to, the lines (the table's header repeated on every page), the
charges, taxes and total. The same document for the web application and invoice.pdf.get."""

import io
import logging
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from fpdf import FPDF
from PIL import Image

from stemline.core import timezones
from stemline.hardgoods import services as hard_goods_stock

from .charges import label
from .models import Invoice

CENT = Decimal("0.01")
log = logging.getLogger("stemline.sales")

INK = (33, 37, 41)
MUTED = (108, 117, 125)
RULE = (206, 212, 218)
BAND = (241, 243, 245)
ACCENT = (31, 94, 66)

# The table: (heading, width in mm, alignment); 186 mm fill a Letter page's text width.
COLUMNS = (
    ("Product", 70, "L"),
    ("Box", 16, "C"),
    ("Boxes", 16, "R"),
    ("Units", 20, "R"),
    ("Unit type", 18, "C"),
    ("Unit price", 20, "R"),
    ("Amount", 26, "R"),
)
ROW_HEIGHT = 6.5


def _text(value) -> str:
    # The core fonts speak Latin-1; anything else is shown as '?' rather than failing.
    return str(value or "").encode("latin-1", "replace").decode("latin-1")


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):,.2f}"


def file_name(invoice: Invoice) -> str:
    return f"Invoice #{invoice.number:06d}.pdf"


def invoice_date(invoice: Invoice) -> date:
    """The day the invoice was issued, in the company's time zone: when it was confirmed, or
    made when it is not confirmed yet."""
    moment = invoice.confirmed_at or invoice.created_at or timezone.now()
    with timezones.company_time(invoice.company):
        return timezone.localtime(moment).date()


def terms_and_due_date(invoice: Invoice) -> tuple[str, date]:
    """The payment terms printed and the due date they give. The due date of the invoice's
    receivable (the money app's, once it is confirmed) wins; else the customer's terms, or the
    company's default terms ("Net 30": 30 days after the invoice date; COD, prepaid: due on
    receipt), read as the receivables ledger reads them."""
    issued = invoice_date(invoice)
    terms = (invoice.customer.terms or "").strip() or invoice.company.default_terms.strip()
    receivable = getattr(invoice, "receivable", None)  # a reverse relation: no import of money
    due = getattr(receivable, "due_date", None)
    if due is not None:
        return terms or "Due on receipt", due
    if re.match(r"(c\.?o\.?d|prepaid|pre-paid|due on receipt|cash)", terms.lower()):
        return terms, issued
    match = re.search(r"(\d{1,3})", terms)
    if terms and match:
        return terms, issued + timedelta(days=int(match.group(1)))
    return terms or "Due on receipt", issued


def _logo(company) -> bytes | None:
    if not company.logo:
        return None
    try:
        with company.logo.open("rb") as handle:
            return handle.read()
    except OSError:
        # A logo lost from the storage must not stop the invoice from printing.
        log.warning("the logo of company %s cannot be read", company.pk)
        return None


def _boxes(item) -> int:
    """The boxes of a line: none for a line of the units inventory (it counts units)."""
    return 0 if item.line_id and item.line.in_units else item.boxes


class InvoicePdf(FPDF):
    def __init__(self, invoice: Invoice):
        super().__init__(format="Letter", unit="mm")
        self.invoice = invoice
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=False, margin=18)
        self.alias_nb_pages()
        self.set_title(_text(f"Invoice {invoice.number:06d}"))
        self.set_author(_text(invoice.company.name))

    def footer(self):
        self.set_y(-13)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(*MUTED)
        company = self.invoice.company
        self.cell(0, 5, _text(f"{company.name} - Invoice #{self.invoice.number:06d}"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    # ------------------------------------------------------------ blocks

    def letterhead(self):
        company = self.invoice.company
        top = self.get_y()
        x = self.l_margin
        logo = _logo(company)
        if logo:
            try:
                # At most 40 x 20 mm, its proportions kept; the name starts beside it.
                with Image.open(io.BytesIO(logo)) as picture:
                    ratio = picture.width / max(picture.height, 1)
                height = min(20.0, 40.0 / ratio)
                self.image(io.BytesIO(logo), x=x, y=top, h=height)
                x += height * ratio + 6
            except Exception:  # Pillow/fpdf raise many kinds for an odd image
                log.warning("the logo of company %s cannot be drawn", company.pk)
        self.set_xy(x, top)
        self.set_font("Helvetica", "B", 15)
        self.cell(100, 7, _text(company.name), new_x="LEFT", new_y="NEXT")
        self.set_font("Helvetica", "", 9)
        self.set_text_color(*MUTED)
        contact = [p for p in (company.phone, company.email) if p]
        for line in [*company.address_lines, "  ".join(contact)]:
            if line:
                self.cell(100, 4.5, _text(line), new_x="LEFT", new_y="NEXT")
        self.set_text_color(*INK)
        bottom = max(self.get_y(), top + 22)
        # The title and the document's numbers, right.
        issued = invoice_date(self.invoice)
        terms, due = terms_and_due_date(self.invoice)
        self.set_xy(125, top)
        self.set_font("Helvetica", "B", 20)
        self.set_text_color(*ACCENT)
        self.cell(76, 9, "INVOICE", align="R", new_x="LEFT", new_y="NEXT")
        self.set_text_color(*INK)
        rows = [
            ("Invoice #", f"{self.invoice.number:06d}"),
            ("Invoice date", issued.isoformat()),
            ("Ship date", self.invoice.ship_date.isoformat() if self.invoice.ship_date else "-"),
            ("Terms", terms),
            ("Due date", due.isoformat()),
        ]
        if self.invoice.status != 1:
            rows.append(("Status", self.invoice.get_status_display()))
        for name, value in rows:
            self.set_x(125)
            self.set_font("Helvetica", "", 9)
            self.set_text_color(*MUTED)
            self.cell(36, 5, name, align="R")
            self.set_text_color(*INK)
            self.set_font("Helvetica", "B", 9)
            self.cell(40, 5, _text(value), align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_y(max(bottom, self.get_y()) + 4)
        self.set_draw_color(*ACCENT)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_line_width(0.2)
        self.ln(4)

    def parties(self):
        invoice, customer = self.invoice, self.invoice.customer
        bill = [customer.name, customer.bill_address]
        bill.append(
            " ".join(
                p
                for p in (
                    ", ".join(p for p in (customer.bill_city, customer.bill_state) if p),
                    customer.bill_zipcode,
                )
                if p
            )
        )
        bill.append(customer.bill_country)
        ship_to = invoice.ship_to
        if ship_to is not None:
            ship = [ship_to.name, ship_to.address]
            ship.append(
                " ".join(
                    p
                    for p in (
                        ", ".join(p for p in (ship_to.city, ship_to.state) if p),
                        ship_to.zipcode,
                    )
                    if p
                )
            )
            ship.append(ship_to.country)
        else:
            ship = list(bill)
        shipping = [
            ("Carrier", invoice.carrier.name if invoice.carrier else "-"),
            ("Customer PO", invoice.customer_po or "-"),
            ("Customer code", customer.code or "-"),
        ]
        if invoice.reference:
            shipping.append(("Reference", invoice.reference))
        top = self.get_y()
        heights = []
        for x, title, lines in (
            (self.l_margin, "BILL TO", bill),
            (self.l_margin + 64, "SHIP TO", ship),
        ):
            self.set_xy(x, top)
            self.set_font("Helvetica", "B", 8)
            self.set_text_color(*MUTED)
            self.cell(60, 5, title, new_x="LEFT", new_y="NEXT")
            self.set_text_color(*INK)
            for i, line in enumerate(p for p in lines if p):
                self.set_font("Helvetica", "B" if i == 0 else "", 9.5)
                self.cell(60, 4.8, _text(line)[:48], new_x="LEFT", new_y="NEXT")
            heights.append(self.get_y())
        self.set_xy(self.l_margin + 128, top)
        self.set_font("Helvetica", "B", 8)
        self.set_text_color(*MUTED)
        self.cell(58, 5, "SHIPPING", new_x="LEFT", new_y="NEXT")
        for name, value in shipping:
            self.set_x(self.l_margin + 128)
            self.set_font("Helvetica", "", 8.5)
            self.set_text_color(*MUTED)
            self.cell(24, 4.8, name)
            self.set_text_color(*INK)
            self.set_font("Helvetica", "", 9)
            self.cell(34, 4.8, _text(value)[:22], new_x="LMARGIN", new_y="NEXT")
        heights.append(self.get_y())
        self.set_y(max(heights) + 6)

    def table_header(self):
        self.set_font("Helvetica", "B", 8.5)
        self.set_fill_color(*ACCENT)
        self.set_text_color(255, 255, 255)
        for head, width, align in COLUMNS:
            self.cell(width, 7, head, align=align, fill=True)
        self.ln()
        self.set_text_color(*INK)

    def need(self, height: float, *, repeat_header: bool):
        """A new page when `height` does not fit, with the table's header again."""
        if self.get_y() + height > self.h - self.b_margin:
            self.add_page()
            self.set_font("Helvetica", "", 9)
            self.set_text_color(*MUTED)
            self.cell(
                0,
                6,
                _text(f"Invoice #{self.invoice.number:06d} (continued)"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.set_text_color(*INK)
            if repeat_header:
                self.table_header()

    def lines(self, items):
        self.table_header()
        self.set_draw_color(*RULE)
        for n, item in enumerate(items):
            self.need(ROW_HEIGHT, repeat_header=True)
            units = item.boxes * item.units_per_box
            cells = (
                _text(item.product_alias or item.product.description)[:44],
                _text(item.box_type.code),
                str(_boxes(item)),
                f"{units:,}",
                _text(item.unit_type),
                f"{item.price:.3f}",
                _money(item.amount),
            )
            fill = n % 2 == 1
            self.set_fill_color(*BAND)
            self.set_font("Helvetica", "", 8.5)
            for (_, width, align), value in zip(COLUMNS, cells, strict=True):
                self.cell(width, ROW_HEIGHT, value, align=align, fill=fill)
            self.ln()
        if not items:
            self.set_font("Helvetica", "I", 9)
            self.cell(0, ROW_HEIGHT, "No lines.", new_x="LMARGIN", new_y="NEXT")
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(3)

    def totals(self, items):
        invoice = self.invoice
        charges = getattr(invoice, "charge_rows", None)
        if charges is None:
            charges = list(invoice.charges.all())
        # The customer's additional charges, then its taxes, each on its own line.
        extra = [r for r in charges if r.purpose != "tax"]
        taxes = [r for r in charges if r.purpose == "tax"]
        boxes = sum(_boxes(i) for i in items)
        units = sum(i.boxes * i.units_per_box for i in items)
        # The invoice's own figures (as the API reports them), not a re-addition of the lines.
        rows = [(f"Subtotal ({boxes} boxes, {units:,} units)", invoice.amount, False)]
        rows += [(_text(label(r)), r.amount, False) for r in extra]
        if extra:
            rows.append(("Additional charges", invoice.additional_charges, False))
        rows += [(_text(label(r)), r.amount, False) for r in taxes]
        rows.append((f"Total {invoice.company.currency}", invoice.total, True))
        self.need(7 * len(rows) + 12, repeat_header=False)
        x = self.w - self.r_margin - 96
        for name, value, strong in rows:
            self.set_x(x)
            if strong:
                self.set_fill_color(*BAND)
                self.set_font("Helvetica", "B", 11)
                self.cell(66, 8, name, align="R", fill=True)
                self.cell(30, 8, _money(value), align="R", fill=True, new_x="LMARGIN", new_y="NEXT")
            else:
                self.set_font("Helvetica", "", 9)
                self.cell(66, 6, name, align="R")
                self.cell(30, 6, _money(value), align="R", new_x="LMARGIN", new_y="NEXT")
        if invoice.transaction_fee:
            # The platform's fee on an API order is the company's cost, not the customer's: it
            # is shown for the record and is not part of the total.
            self.set_x(x)
            self.set_font("Helvetica", "I", 7.5)
            self.set_text_color(*MUTED)
            self.cell(
                96,
                5,
                _text(
                    f"API order: transaction fee {_money(invoice.transaction_fee)} "
                    f"({invoice.fee_rate * 100:.2f}%) is charged to {invoice.company.name}, "
                    "not to the customer"
                ),
                align="R",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.set_text_color(*INK)
        notes = [n for n in (invoice.invoice_notes,) if n]
        if notes:
            self.ln(4)
            self.need(20, repeat_header=False)
            self.set_font("Helvetica", "B", 8)
            self.set_text_color(*MUTED)
            self.cell(0, 5, "NOTES", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(*INK)
            self.set_font("Helvetica", "", 9)
            self.multi_cell(0, 4.8, _text("\n".join(notes)))


HARD_GOODS_COLUMNS = (
    ("Hard goods", 70, "L"),
    ("SKU", 32, "L"),
    ("Units", 20, "R"),
    ("", 18, "C"),
    ("Unit price", 20, "R"),
    ("Amount", 26, "R"),
)


def hard_goods(pdf: InvoicePdf, sales) -> None:
    """The hard goods sold on the invoice, a table of their own under the boxes."""
    if not sales:
        return
    pdf.need(ROW_HEIGHT * 2, repeat_header=False)
    pdf.set_font("Helvetica", "B", 8.5)
    pdf.set_fill_color(*ACCENT)
    pdf.set_text_color(255, 255, 255)
    for head, width, align in HARD_GOODS_COLUMNS:
        pdf.cell(width, 7, head, align=align, fill=True)
    pdf.ln()
    pdf.set_text_color(*INK)
    for n, sale in enumerate(sales):
        pdf.need(ROW_HEIGHT, repeat_header=False)
        cells = (
            _text(sale.product.description)[:44],
            _text(sale.product.sku),
            f"{sale.quantity:,}",
            "",
            f"{sale.unit_price:.2f}",
            _money(sale.amount),
        )
        pdf.set_fill_color(*BAND)
        pdf.set_font("Helvetica", "", 8.5)
        for (_, width, align), value in zip(HARD_GOODS_COLUMNS, cells, strict=True):
            pdf.cell(width, ROW_HEIGHT, value, align=align, fill=n % 2 == 1)
        pdf.ln()
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)


def render(invoice: Invoice, lines) -> bytes:
    """`lines`: the invoice's items with product and box type loaded."""
    pdf = InvoicePdf(invoice)
    pdf.add_page()
    pdf.letterhead()
    pdf.parties()
    pdf.lines(list(lines))
    hard_goods(pdf, list(hard_goods_stock.sales_on(invoice.company_id, "invoice", invoice.pk)))
    pdf.totals(list(lines))
    return bytes(pdf.output())


def as_byte_string(data: bytes) -> str:
    """The reference's wire form of a file: comma-separated signed bytes (Java's byte[])."""
    return ", ".join(str(b - 256 if b > 127 else b) for b in data)
