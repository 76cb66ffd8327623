"""Customer statements as PDF (fpdf2): open items with their aging, or the activity over a
period with the balance carried in; one customer, or every customer in one file."""

from decimal import ROUND_HALF_UP, Decimal

from fpdf import FPDF

from .queries import BUCKET_TITLES, Statement

CENT = Decimal("0.01")


def _text(value) -> str:
    # The core fonts speak Latin-1; anything else is shown as '?' rather than failing.
    return str(value or "").encode("latin-1", "replace").decode("latin-1")


def _money(value) -> str:
    return f"{Decimal(value).quantize(CENT, ROUND_HALF_UP):,.2f}"


def file_name(statement: Statement | None) -> str:
    if statement is None:
        return "Statements.pdf"
    return _text(
        f"Statement {statement.customer.code or statement.customer.pk} {statement.day}.pdf"
    )


def _page(pdf: FPDF, company, st: Statement) -> None:
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _text(company.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    title = "Statement of open items" if st.mode == "open" else "Statement of account"
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    period = f"{st.start} to {st.end}" if st.mode == "activity" else f"as of {st.day}"
    pdf.cell(0, 6, _text(f"Date: {st.day}   ({period})"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    c = st.customer
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, _text(c.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for part in (
        c.bill_address,
        ", ".join(p for p in (c.bill_city, c.bill_state, c.bill_zipcode) if p),
    ):
        if part:
            pdf.cell(0, 5, _text(part), new_x="LMARGIN", new_y="NEXT")
    if c.terms:
        pdf.cell(0, 5, _text(f"Terms: {c.terms}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    widths = (24, 28, 22, 44, 24, 24, 26)
    heads = ("Date", "Type", "Number", "Description", "Charges", "Credits", "Balance")
    pdf.set_font("Helvetica", "B", 9)
    for w, h in zip(widths, heads, strict=True):
        pdf.cell(w, 7, h, border="B", align="R" if w in (24, 26) and h not in ("Date",) else "L")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    if st.mode == "activity":
        pdf.cell(sum(widths[:-1]), 6, "Balance carried in", align="R")
        pdf.cell(widths[-1], 6, _money(st.opening), align="R", new_x="LMARGIN", new_y="NEXT")
    for li in st.lines:
        desc = li.description
        if li.days_overdue:
            desc = f"{desc} ({li.days_overdue} d overdue)"
        cells = (
            str(li.day),
            li.kind,
            li.number,
            _text(desc)[:28],
            _money(li.charge) if li.charge else "",
            _money(li.payment) if li.payment else "",
            _money(li.balance),
        )
        for w, v, h in zip(widths, cells, heads, strict=True):
            pdf.cell(w, 6, v, align="L" if h in ("Date", "Type", "Number", "Description") else "R")
        pdf.ln()
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(widths[:-1]), 7, "Balance due", align="R")
    pdf.cell(widths[-1], 7, _money(st.closing), align="R", new_x="LMARGIN", new_y="NEXT")
    if st.aging is not None:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 9)
        cols = (*BUCKET_TITLES, "Unapplied", "Balance")
        for title in cols:
            pdf.cell(27, 6, title, border="B", align="R")
        pdf.ln()
        pdf.set_font("Helvetica", "", 9)
        values = (*st.aging.buckets(), -st.aging.unapplied, st.aging.balance)
        for v in values:
            pdf.cell(27, 6, _money(v), align="R")
        pdf.ln()


def render(company, statements: list[Statement]) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    for st in statements:
        _page(pdf, company, st)
    if not statements:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 11)
        pdf.cell(0, 10, "No customer has anything open.")
    return bytes(pdf.output())
