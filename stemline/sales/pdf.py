"""The invoice as a PDF (fpdf2): header, customer, lines with their amounts and the total."""

from decimal import ROUND_HALF_UP, Decimal

from fpdf import FPDF

from .charges import label
from .models import Invoice

CENT = Decimal("0.01")


def _text(value) -> str:
    # The core fonts speak Latin-1; anything else is shown as '?' rather than failing.
    return str(value or "").encode("latin-1", "replace").decode("latin-1")


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):,.2f}"


def file_name(invoice: Invoice) -> str:
    return f"Invoice #{invoice.number:06d}.pdf"


def render(invoice: Invoice, lines) -> bytes:
    """`lines`: the invoice's items with product and box type loaded."""
    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(invoice.company.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, f"Invoice #{invoice.number:06d}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Status: {invoice.get_status_display()}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Ship date: {invoice.ship_date or ''}", new_x="LMARGIN", new_y="NEXT")
    if invoice.customer_po:
        pdf.cell(0, 6, _text(f"Customer PO: {invoice.customer_po}"), new_x="LMARGIN", new_y="NEXT")
    if invoice.carrier:
        pdf.cell(0, 6, _text(f"Carrier: {invoice.carrier.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    customer = invoice.customer
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 6, _text(customer.name), new_x="LMARGIN", new_y="NEXT")
    address = ", ".join(
        part for part in (customer.bill_address, customer.bill_city, customer.bill_state) if part
    )
    if address:
        pdf.cell(0, 6, _text(address), new_x="LMARGIN", new_y="NEXT")
    if invoice.ship_to:
        pdf.cell(0, 6, _text(f"Ship to: {invoice.ship_to.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    widths = (80, 18, 16, 20, 24, 32)
    heads = ("Product", "Box", "Boxes", "Units", "Unit price", "Amount")
    pdf.set_font("Helvetica", "B", 10)
    for width, head in zip(widths, heads, strict=True):
        pdf.cell(width, 7, head, border="B", align="L" if head == "Product" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for item in lines:
        amount = item.amount.quantize(CENT, ROUND_HALF_UP)
        cells = (
            _text(item.product_alias or item.product.description)[:45],
            item.box_type.code,
            str(item.boxes),
            str(item.boxes * item.units_per_box),
            f"{item.price:.3f}",
            _money(amount),
        )
        for width, value, head in zip(widths, cells, heads, strict=True):
            pdf.cell(width, 6, value, align="L" if head == "Product" else "R")
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    charges = getattr(invoice, "charge_rows", None)
    if charges is None:
        charges = list(invoice.charges.all())
    # The customer's additional charges, then its taxes, each on its own line; the
    # transaction fee is the platform's charge to the company, not the customer's.
    extra = [r for r in charges if r.purpose != "tax"]
    taxes = [r for r in charges if r.purpose == "tax"]
    # The invoice's own figures (as the API reports them), not a re-addition of the lines.
    totals = [("Subtotal", invoice.amount)]
    totals += [(_text(label(r)), r.amount) for r in extra]
    totals.append(("Additional charges", invoice.additional_charges))
    totals += [(_text(label(r)), r.amount) for r in taxes]
    totals.append(("Total", invoice.total))
    for name, value in totals:
        pdf.cell(sum(widths[:-1]), 6, name, align="R")
        pdf.cell(widths[-1], 6, _money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.invoice_notes:
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(0, 5, _text(invoice.invoice_notes))
    return bytes(pdf.output())


def as_byte_string(data: bytes) -> str:
    """The reference's wire form of a file: comma-separated signed bytes (Java's byte[])."""
    return ", ".join(str(b - 256 if b > 127 else b) for b in data)
