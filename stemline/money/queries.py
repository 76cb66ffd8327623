"""Reads of the ledger that several callers need: a customer's balance, the aging report,
statements (open items or activity), and the lists of payments and credits."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from stemline.parties.models import Customer

from .models import Application, Credit, CreditStatus, Payment, Receivable

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=16, decimal_places=2)
BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "over_90")
BUCKET_TITLES = ("Current", "1-30", "31-60", "61-90", "Over 90")


def _sum(expr):
    return Coalesce(Sum(expr, output_field=MONEY), Value(ZERO), output_field=MONEY)


def cents(value) -> Decimal:
    """SQLite sums decimals in floating point: every sum read is rounded back to cents."""
    return Decimal(value or 0).quantize(CENT)


def _total(qs, expr) -> Decimal:
    return cents(qs.aggregate(s=_sum(expr))["s"])


@dataclass
class Balance:
    open_invoices: Decimal
    unapplied_payments: Decimal
    open_credits: Decimal

    @property
    def balance(self) -> Decimal:
        return self.open_invoices - self.unapplied_payments - self.open_credits


def balance(company_id: int, customer_id: int) -> Balance:
    """The customer's balance from the ledger: open invoice amounts less unapplied payments
    and open credits. Three queries."""
    invoices = Receivable.objects.filter(company_id=company_id, customer_id=customer_id)
    payments = Payment.objects.filter(
        company_id=company_id, customer_id=customer_id, status=Payment.Status.ACTIVE
    )
    credits = Credit.objects.filter(
        company_id=company_id, customer_id=customer_id, status=CreditStatus.APPROVED
    )
    return Balance(
        _total(invoices, "open_amount"),
        _total(payments, F("amount") - F("applied")),
        _total(credits, F("amount") - F("applied")),
    )


def ledger_balance(company_id: int, customer_id: int) -> Decimal:
    """The same balance from the documents alone: invoice totals less payments, discounts and
    approved credits. The ledger's invariant is that both always agree."""
    invoiced = _total(
        Receivable.objects.filter(company_id=company_id, customer_id=customer_id), "total"
    )
    paid = _total(
        Payment.objects.filter(
            company_id=company_id, customer_id=customer_id, status=Payment.Status.ACTIVE
        ),
        "amount",
    )
    discounts = _total(
        Application.objects.filter(
            company_id=company_id, payment__customer_id=customer_id, voided_at__isnull=True
        ),
        "discount",
    )
    credited = _total(
        Credit.objects.filter(
            company_id=company_id, customer_id=customer_id, status=CreditStatus.APPROVED
        ),
        "amount",
    )
    return invoiced - paid - discounts - credited


# ---------------------------------------------------------------- aging


@dataclass
class AgingRow:
    customer_id: int
    name: str
    code: str
    current: Decimal = ZERO
    d1_30: Decimal = ZERO
    d31_60: Decimal = ZERO
    d61_90: Decimal = ZERO
    over_90: Decimal = ZERO
    unapplied: Decimal = ZERO
    credit_limit: Decimal | None = None
    credit_hold: bool = False

    @property
    def open_total(self) -> Decimal:
        return self.current + self.d1_30 + self.d31_60 + self.d61_90 + self.over_90

    @property
    def balance(self) -> Decimal:
        return self.open_total - self.unapplied

    def buckets(self) -> list[Decimal]:
        return [getattr(self, b) for b in BUCKETS]


@dataclass
class Aging:
    day: date
    rows: list[AgingRow]
    totals: AgingRow = field(default_factory=lambda: AgingRow(0, "Total", ""))


def _bucket_sums(qs, day: date):
    # Sum(..., filter=) is an aggregate FILTER clause on PostgreSQL (a CASE on SQLite).
    def between(lo, hi):
        cond = Q(due_date__lt=day - timedelta(days=lo - 1))
        if hi is not None:
            cond &= Q(due_date__gte=day - timedelta(days=hi))
        return Sum("open_amount", filter=cond, output_field=MONEY)

    return qs.annotate(
        current=Sum("open_amount", filter=Q(due_date__gte=day), output_field=MONEY),
        d1_30=between(1, 30),
        d31_60=between(31, 60),
        d61_90=between(61, 90),
        over_90=between(91, None),
    )


def aging(company, day: date, customer_id: int | None = None) -> Aging:
    """Open amounts per customer by days past due (current, 1-30, 31-60, 61-90, over 90),
    with unapplied payments and open credits apart, and totals. Four queries whatever the
    number of customers and invoices."""
    recs = Receivable.objects.filter(company=company, open_amount__gt=0)
    pays = Payment.objects.filter(company=company, status=Payment.Status.ACTIVE).filter(
        amount__gt=F("applied")
    )
    creds = Credit.objects.filter(company=company, status=CreditStatus.APPROVED).filter(
        amount__gt=F("applied")
    )
    if customer_id is not None:
        recs, pays, creds = (qs.filter(customer_id=customer_id) for qs in (recs, pays, creds))
    by_customer: dict[int, dict] = {}
    for row in _bucket_sums(recs.values("customer_id"), day).order_by():
        by_customer[row["customer_id"]] = {b: cents(row[b]) for b in BUCKETS}
    unapplied: dict[int, Decimal] = {}
    for qs in (pays, creds):
        for row in qs.values("customer_id").annotate(s=_sum(F("amount") - F("applied"))).order_by():
            unapplied[row["customer_id"]] = unapplied.get(row["customer_id"], ZERO) + cents(
                row["s"]
            )
    ids = set(by_customer) | set(unapplied)
    customers = Customer.objects.filter(company=company, pk__in=ids).only(
        "name", "code", "credit_limit", "credit_hold"
    )
    rows = []
    totals = AgingRow(0, "Total", "")
    for c in customers.order_by("name", "id"):
        found = by_customer.get(c.pk, {})
        row = AgingRow(
            c.pk,
            c.name,
            c.code,
            *(found.get(b, ZERO) for b in BUCKETS),
            unapplied=unapplied.get(c.pk, ZERO),
            credit_limit=c.credit_limit,
            credit_hold=c.credit_hold,
        )
        rows.append(row)
        for b in (*BUCKETS, "unapplied"):
            setattr(totals, b, getattr(totals, b) + getattr(row, b))
    return Aging(day, rows, totals)


# ---------------------------------------------------------------- statements


@dataclass
class StatementLine:
    day: date
    kind: str  # Invoice, Payment, Discount, Credit, Opening credit
    number: str
    description: str
    charge: Decimal = ZERO
    payment: Decimal = ZERO
    open_amount: Decimal | None = None
    due_date: date | None = None
    days_overdue: int = 0
    balance: Decimal = ZERO


@dataclass
class Statement:
    customer: Customer
    day: date
    mode: str  # "open" or "activity"
    start: date | None
    end: date | None
    opening: Decimal
    lines: list[StatementLine]
    closing: Decimal
    aging: AgingRow | None


def statement(
    company,
    customer: Customer,
    *,
    day: date,
    mode: str = "open",
    start: date | None = None,
    end: date | None = None,
) -> Statement:
    """A customer's statement: its open items (open invoices, unapplied payments and open
    credits) with their aging, or its activity over [start, end] with the balance carried
    in and a running balance. A constant number of queries whatever the customer's size."""
    aged = aging(company, day, customer_id=customer.pk)
    aged_row = aged.rows[0] if aged.rows else AgingRow(customer.pk, customer.name, customer.code)
    recs = Receivable.objects.filter(company=company, customer=customer).select_related("invoice")
    pays = Payment.objects.filter(
        company=company, customer=customer, status=Payment.Status.ACTIVE
    ).select_related("method")
    creds = Credit.objects.filter(
        company=company, customer=customer, status=CreditStatus.APPROVED
    ).select_related("invoice")
    lines: list[StatementLine] = []
    if mode == "open":
        for r in recs.filter(open_amount__gt=0).order_by("due_date", "id"):
            lines.append(
                StatementLine(
                    r.invoice_date,
                    "Invoice",
                    f"{r.invoice.number:06d}",
                    f"Due {r.due_date:%Y-%m-%d}",
                    charge=r.total,
                    payment=r.total - r.open_amount,
                    open_amount=r.open_amount,
                    due_date=r.due_date,
                    days_overdue=max(0, (day - r.due_date).days),
                )
            )
        for p in pays.filter(amount__gt=F("applied")).order_by("date", "id"):
            left = p.amount - p.applied
            lines.append(
                StatementLine(
                    p.date,
                    "Payment",
                    str(p.control_number),
                    f"Unapplied {p.method.name} {p.reference_number}".strip(),
                    payment=left,
                    open_amount=-left,
                )
            )
        for c in creds.filter(amount__gt=F("applied")).order_by("date", "id"):
            left = c.amount - c.applied
            lines.append(
                StatementLine(
                    c.date,
                    "Credit" if c.kind == Credit.Kind.MEMO else "Opening credit",
                    str(c.number),
                    "Open credit",
                    payment=left,
                    open_amount=-left,
                )
            )
        running = ZERO
        for line in lines:
            running += line.open_amount
            line.balance = running
        return Statement(customer, day, mode, None, None, ZERO, lines, running, aged_row)

    start = start or day.replace(day=1)
    end = end or day
    before = (
        _total(recs.filter(invoice_date__lt=start), "total")
        - _total(pays.filter(date__lt=start), "amount")
        - _total(
            Application.objects.filter(
                payment__in=pays.filter(date__lt=start), voided_at__isnull=True
            ),
            "discount",
        )
        - _total(creds.filter(date__lt=start), "amount")
    )
    for r in recs.filter(invoice_date__range=(start, end), total__gt=0):
        lines.append(
            StatementLine(
                r.invoice_date,
                "Invoice",
                f"{r.invoice.number:06d}",
                f"Due {r.due_date:%Y-%m-%d}",
                charge=r.total,
                due_date=r.due_date,
            )
        )
    in_period = pays.filter(date__range=(start, end))
    discounts: dict[int, Decimal] = {}
    for a in Application.objects.filter(
        payment__in=in_period, voided_at__isnull=True, discount__gt=0
    ).values("payment_id", "discount"):
        discounts[a["payment_id"]] = discounts.get(a["payment_id"], ZERO) + a["discount"]
    for p in in_period:
        lines.append(
            StatementLine(
                p.date,
                "Payment",
                str(p.control_number),
                f"{p.method.name} {p.reference_number}".strip(),
                payment=p.amount,
            )
        )
        if p.pk in discounts:
            lines.append(
                StatementLine(
                    p.date,
                    "Discount",
                    str(p.control_number),
                    "Discount taken",
                    payment=discounts[p.pk],
                )
            )
    for c in creds.filter(date__range=(start, end)):
        what = f"On invoice {c.invoice.number:06d}" if c.invoice else "Opening balance"
        lines.append(
            StatementLine(
                c.date,
                "Credit" if c.kind == Credit.Kind.MEMO else "Opening credit",
                str(c.number),
                what,
                payment=c.amount,
            )
        )
    order = {"Invoice": 0, "Credit": 1, "Opening credit": 1, "Payment": 2, "Discount": 3}
    lines.sort(key=lambda li: (li.day, order[li.kind], li.number))
    running = before
    for line in lines:
        running += line.charge - line.payment
        line.balance = running
    return Statement(customer, day, mode, start, end, before, lines, running, aged_row)


def customers_with_activity(company) -> list[int]:
    """Customers a statement run is for: those with anything open."""
    ids = set(
        Receivable.objects.filter(company=company, open_amount__gt=0)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    ids |= set(
        Payment.objects.filter(
            company=company, status=Payment.Status.ACTIVE, amount__gt=F("applied")
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )
    ids |= set(
        Credit.objects.filter(
            company=company, status=CreditStatus.APPROVED, amount__gt=F("applied")
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )
    return sorted(ids)
