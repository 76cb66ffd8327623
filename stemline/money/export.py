"""The accounting export: invoices, payments (with discounts) and approved credits of a period
as journal entries in the QuickBooks Online journal-entry import layout (Journal No, Journal
Date, Account Name, Debits, Credits, Description, Name), as CSV or Excel. Each document is
one balanced entry against Accounts Receivable."""

import csv
import io
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from .models import Application, Credit, CreditStatus, Payment, Receivable

HEADERS = ["Journal No", "Journal Date", "Account Name", "Debits", "Credits", "Description", "Name"]
AR = "Accounts Receivable (A/R)"
ACCOUNTS = {
    "sales": "Sales of Product Income",
    "charges": "Shipping and Delivery Income",
    "tax": "Sales Tax Payable",
    "funds": "Undeposited Funds",
    "discount": "Discounts given",
    "returns": "Sales Returns and Allowances",
    "opening": "Opening Balance Equity",
}


def _m(value: Decimal) -> str:
    return f"{value:.2f}" if value else ""


def rows(company, start: date, end: date):
    """Journal lines of the period, in date order; one query per kind of document."""
    entries = []
    recs = (
        Receivable.objects.filter(company=company, invoice_date__range=(start, end), total__gt=0)
        .select_related("invoice", "customer")
        .order_by("invoice_date", "id")
    )
    for r in recs:
        inv, name = r.invoice, r.customer.name
        no, memo = f"INV-{inv.number:06d}", f"Invoice {inv.number:06d} due {r.due_date}"
        lines = [(AR, r.total, 0), (ACCOUNTS["sales"], 0, inv.amount)]
        if inv.additional_charges:
            lines.append((ACCOUNTS["charges"], 0, inv.additional_charges))
        if inv.taxes:
            lines.append((ACCOUNTS["tax"], 0, inv.taxes))
        entries += [(r.invoice_date, no, a, d, c, memo, name) for a, d, c in lines]
    pays = (
        Payment.objects.filter(
            company=company, date__range=(start, end), status=Payment.Status.ACTIVE
        )
        .select_related("customer", "method")
        .order_by("date", "id")
    )
    discounts = dict(
        Application.objects.filter(payment__in=pays, voided_at__isnull=True)
        .values("payment_id")
        .annotate(s=Sum("discount"))
        .values_list("payment_id", "s")
    )
    for p in pays:
        no = f"PMT-{p.control_number}"
        memo = f"Payment {p.control_number} {p.method.name} {p.reference_number}".strip()
        disc = Decimal(discounts.get(p.pk) or 0).quantize(Decimal("0.01"))
        lines = [(ACCOUNTS["funds"], p.amount, 0)]
        if disc:
            lines.append((ACCOUNTS["discount"], disc, 0))
        lines.append((AR, 0, p.amount + disc))
        entries += [(p.date, no, a, d, c, memo, p.customer.name) for a, d, c in lines]
    creds = (
        Credit.objects.filter(
            company=company, date__range=(start, end), status=CreditStatus.APPROVED
        )
        .select_related("customer", "invoice")
        .order_by("date", "id")
    )
    for c in creds:
        no = f"CRD-{c.number}"
        if c.kind == Credit.Kind.OPENING:
            account, memo = ACCOUNTS["opening"], f"Opening credit {c.number}"
        else:
            account = ACCOUNTS["returns"]
            memo = f"Credit {c.number} on invoice {c.invoice.number:06d}" if c.invoice else ""
        lines = [(account, c.amount, 0), (AR, 0, c.amount)]
        entries += [(c.date, no, a, d, cr, memo, c.customer.name) for a, d, cr in lines]
    entries.sort(key=lambda e: (e[0], e[1]))
    for day, no, account, debit, credit, memo, name in entries:
        yield [no, day.strftime("%m/%d/%Y"), account, _m(debit), _m(credit), memo, name]


def safe(value):
    """A text cell that a spreadsheet would read as a formula (= + - @, tab, CR) is quoted
    with an apostrophe: a customer named "=HYPERLINK(...)" stays a name."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def as_csv(company, start: date, end: date) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows(company, start, end):
        writer.writerow([safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")
