"""Every write to the receivables ledger: receivables kept with their invoices, payments and
their applications, voids, credits from raising to review, opening balances, sync marks.

Lock order, the same everywhere here (and in sales, whose invoice changes reach
`sync_invoice` through a hook): a payment or credit row, then the invoice row, then its
invoice lines (primary-key order), then the number counter, then receivables (primary-key
order), then the feed counter (`record` comes last)."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from stemline.core import files
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.inventory import services as stock
from stemline.parties.models import Customer, PaymentMethod
from stemline.sales.models import DocumentStatus, Invoice, InvoiceCharge, InvoiceItem
from stemline.sales.services import next_number

from .models import (
    STANDARD_REASONS,
    Application,
    Credit,
    CreditComment,
    CreditLine,
    CreditReason,
    CreditStatus,
    MoneyChange,
    Payment,
    Receivable,
    VendorCredit,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DEFAULT_TERMS_DAYS = 30
# Credits still in play: they count against what an invoice line can still be credited.
LIVE = (
    CreditStatus.NEW,
    CreditStatus.PENDING_REVIEW,
    CreditStatus.APPROVED,
    CreditStatus.RESUBMITTED,
)
REVIEWABLE = (CreditStatus.NEW, CreditStatus.PENDING_REVIEW, CreditStatus.RESUBMITTED)


# ---------------------------------------------------------------- terms and the feed


def terms_days(terms: str) -> int:
    """Days to pay from a customer's terms as Komet stores them (free text, e.g. "Net 30"):
    COD, prepaid and due on receipt are due at once; a number is the days; empty or
    unreadable terms are Net 30."""
    text = (terms or "").strip().lower()
    if not text:
        return DEFAULT_TERMS_DAYS
    if re.match(r"(c\.?o\.?d|prepaid|pre-paid|due on receipt|cash)", text):
        return 0
    found = re.search(r"\d{1,3}", text)
    return int(found.group()) if found else DEFAULT_TERMS_DAYS


def record(obj, kind: str) -> None:
    """A row of payment.sync / credit.sync, numbered with the company's feed counter. The one
    place this app takes a feed number, taken last in every transaction."""
    feed = "payments" if isinstance(obj, Payment) else "credits"
    MoneyChange.objects.create(
        company_id=obj.company_id,
        feed=feed,
        seq=stock.next_seq(obj.company_id, feed),
        object_id=obj.pk,
        kind=kind,
    )


def seed_company(*, company: Company) -> None:
    CreditReason.objects.bulk_create(
        [CreditReason(company=company, name=name) for name in STANDARD_REASONS],
        ignore_conflicts=True,
    )


# ---------------------------------------------------------------- receivables


def _invoice_date(invoice: Invoice) -> date:
    if invoice.ship_date:
        return invoice.ship_date
    if invoice.confirmed_at:
        return timezone.localdate(invoice.confirmed_at)
    return timezone.localdate()


def terms_of(customer: Customer) -> str:
    """The customer's own terms, else the company's default (Setup > Company)."""
    return (customer.terms or "").strip() or customer.company.default_terms


def sync_invoice(invoice: Invoice, kind: str) -> None:
    """Hook of sales.record_change: keep the invoice's receivable with it. A confirmed
    invoice owes its total from its date plus the customer's terms; one that is no longer
    confirmed (voided, un-confirmed) owes nothing, which is refused while payments or credits
    are applied to it (they would be lost)."""
    rec = (
        None  # a new invoice has no receivable yet
        if kind == "created"
        else Receivable.objects.select_for_update().filter(invoice_id=invoice.pk).first()
    )
    if invoice.status == DocumentStatus.CONFIRMED:
        total = invoice.total
        if rec is None:
            day = _invoice_date(invoice)
            customer = Customer.objects.select_related("company").get(pk=invoice.customer_id)
            Receivable.objects.create(
                company_id=invoice.company_id,
                invoice=invoice,
                customer_id=invoice.customer_id,
                invoice_date=day,
                due_date=day + timedelta(days=terms_days(terms_of(customer))),
                total=total,
                open_amount=total,
            )
            return
        if rec.total == total:
            return
        settled = rec.paid + rec.credited
        if total < settled:
            raise Conflict(
                f"invoice {invoice.number} has {settled} paid and credited; its total cannot go "
                f"below that (it would be {total})",
                field="invoiceId",
            )
        rec.total, rec.open_amount = total, total - settled
        rec.save(update_fields=["total", "open_amount"])
        return
    if rec is None or rec.total == 0:
        return
    if rec.paid or rec.credited:
        raise Conflict(
            f"invoice {invoice.number} has payments or credits applied "
            f"({rec.paid + rec.credited}); void them first",
            field="invoiceId",
        )
    # Kept at zero rather than deleted: voided applications may still name it.
    rec.total = rec.open_amount = ZERO
    rec.save(update_fields=["total", "open_amount"])


def ensure(company: Company, *, customer_id: int | None = None, invoice_ids=None) -> int:
    """Receivables for confirmed invoices that have none: invoices confirmed before this
    ledger existed, or by a path that does not report through sales.record_change. One query
    when none is missing; safe when two callers race (the second insert is ignored)."""
    qs = Invoice.objects.filter(
        company=company, status=DocumentStatus.CONFIRMED, receivable__isnull=True
    )
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if invoice_ids is not None:
        qs = qs.filter(pk__in=invoice_ids)
    missing = list(qs.select_related("customer__company"))
    rows = []
    for invoice in missing:
        day = _invoice_date(invoice)
        rows.append(
            Receivable(
                company_id=invoice.company_id,
                invoice=invoice,
                customer_id=invoice.customer_id,
                invoice_date=day,
                due_date=day + timedelta(days=terms_days(terms_of(invoice.customer))),
                total=invoice.total,
                open_amount=invoice.total,
            )
        )
    if rows:
        Receivable.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# ---------------------------------------------------------------- applications


@dataclass
class ApplyRequest:
    invoice_id: int
    amount: Decimal
    discount: Decimal = ZERO
    field: str = "invoices"


def _cents(value, field: str, *, positive: bool = False) -> Decimal:
    value = Decimal(value)
    if value != value.quantize(CENT):
        raise Invalid("at most 2 decimals", field=field)
    if value < 0 or (positive and value == 0):
        raise Invalid("must be more than 0" if positive else "must not be negative", field=field)
    return value


def _lock_receivables(company: Company, customer_id: int, requests) -> dict[int, Receivable]:
    invoice_ids = sorted({r.invoice_id for r in requests})
    ensure(company, invoice_ids=invoice_ids)
    found = {
        rec.invoice_id: rec
        for rec in Receivable.objects.select_for_update(of=("self",))
        .select_related("invoice")
        .filter(company=company, invoice_id__in=invoice_ids)
        .order_by("pk")
    }
    for r in requests:
        rec = found.get(r.invoice_id)
        if rec is None or rec.customer_id != customer_id:
            raise NotFound(
                f"invoice {r.invoice_id} is not a confirmed invoice of this customer",
                field=r.field,
            )
    return found


def _apply(source, requests: list[ApplyRequest]) -> list[Application]:
    """Put `source`'s money (a locked payment or approved credit) against invoices: none
    beyond an invoice's open amount, none beyond the source's unapplied amount."""
    if not requests:
        return []
    company = source.company
    is_payment = isinstance(source, Payment)
    receivables = _lock_receivables(company, source.customer_id, requests)
    left = source.amount - source.applied
    made = []
    for r in requests:
        amount = _cents(r.amount, f"{r.field}.amount")
        discount = _cents(r.discount, f"{r.field}.discount")
        if not is_payment and discount:
            raise Invalid("a credit is applied without a discount", field=f"{r.field}.discount")
        if amount + discount == 0:
            raise Invalid("amount and discount are both 0", field=f"{r.field}.amount")
        rec = receivables[r.invoice_id]
        if amount + discount > rec.open_amount:
            raise Conflict(
                f"invoice {rec.invoice.number}: {amount + discount} is more than its open amount "
                f"{rec.open_amount}",
                field=f"{r.field}.amount",
                openAmount=str(rec.open_amount),
            )
        if amount > left:
            raise Conflict(
                f"{amount} is more than the {left} left to apply of this "
                f"{'payment' if is_payment else 'credit'}",
                field=f"{r.field}.amount",
                unapplied=str(left),
            )
        left -= amount
        if is_payment:
            rec.paid += amount + discount
        else:
            rec.credited += amount
        rec.open_amount -= amount + discount
        made.append(
            Application(
                company_id=company.pk,
                receivable=rec,
                payment=source if is_payment else None,
                credit=None if is_payment else source,
                amount=amount,
                discount=discount,
            )
        )
    for rec in {id(r): r for r in receivables.values()}.values():
        rec.save(update_fields=["paid", "credited", "open_amount"])
    source.applied = source.amount - left
    source.save(update_fields=["applied", "updated_at"])
    return Application.objects.bulk_create(made)


# ---------------------------------------------------------------- payments


def _refuse_if_synced(obj) -> None:
    if obj.synced:
        raise Conflict(
            f"{obj} is synchronized with an external system and locked",
            field="paymentId" if isinstance(obj, Payment) else "creditId",
        )


def lock_payment(company: Company, payment_id: int) -> Payment:
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(company=company, pk=payment_id)
        .first()
    )
    if payment is None:
        raise NotFound(f"payment {payment_id} does not exist", field="paymentId")
    return payment


@transaction.atomic
def receive_payment(
    *,
    company: Company,
    customer: Customer,
    location: Location,
    method: PaymentMethod,
    day: date,
    applications: list[ApplyRequest],
    amount: Decimal | None = None,
    reference_number: str = "",
    notes: str = "",
    user=None,
    via_api: bool = False,
) -> Payment:
    """Record a payment and apply it; what is not applied stays on account (overpayment)."""
    applied = sum((Decimal(a.amount) for a in applications), ZERO)
    if amount is None:
        amount = applied
    amount = _cents(amount, "totalPayment", positive=True)
    if amount < applied:
        raise Invalid(
            f"must be at least the sum of the invoices' amounts ({applied})", field="totalPayment"
        )
    payment = Payment.objects.create(
        company=company,
        location=location,
        control_number=next_number(company, location, "payment"),
        customer=customer,
        method=method,
        date=day,
        reference_number=reference_number,
        notes=notes,
        amount=amount,
        via_api=via_api,
        created_by=user,
    )
    _apply(payment, applications)
    record(payment, "created")
    return payment


@transaction.atomic
def apply_payment(
    *, company: Company, payment_id: int, applications: list[ApplyRequest]
) -> list[Application]:
    """Apply more of a payment (its overpayment) to open invoices."""
    payment = lock_payment(company, payment_id)
    _refuse_if_synced(payment)
    if payment.status != Payment.Status.ACTIVE:
        raise Conflict(f"payment {payment.control_number} is voided", field="paymentId")
    made = _apply(payment, applications)
    record(payment, "applied")
    return made


@transaction.atomic
def void_payment(*, company: Company, payment_id: int, reason: str = "") -> Payment:
    """A bounced check: the payment no longer counts and its invoices are open again."""
    payment = lock_payment(company, payment_id)
    _refuse_if_synced(payment)
    if payment.status == Payment.Status.VOIDED:
        raise Conflict(f"payment {payment.control_number} is already voided", field="paymentId")
    apps = list(payment.applications.filter(voided_at__isnull=True))
    recs = (
        Receivable.objects.select_for_update()
        .filter(pk__in={a.receivable_id for a in apps})
        .order_by("pk")
        .in_bulk()
    )
    for a in apps:
        rec = recs[a.receivable_id]
        rec.paid -= a.amount + a.discount
        rec.open_amount += a.amount + a.discount
    for rec in recs.values():
        rec.save(update_fields=["paid", "open_amount"])
    now = timezone.now()
    Application.objects.filter(pk__in=[a.pk for a in apps]).update(voided_at=now)
    payment.status = Payment.Status.VOIDED
    payment.applied = ZERO
    payment.voided_at = now
    payment.void_reason = reason
    payment.save(update_fields=["status", "applied", "voided_at", "void_reason", "updated_at"])
    record(payment, "voided")
    return payment


# ---------------------------------------------------------------- credits


@dataclass
class CreditLineRequest:
    invoice_item_id: int
    quantity: int
    reason_id: int
    item_type: str = CreditLine.ItemType.BOX
    photo: object = None
    field: str = "details"


MAX_PHOTO_BYTES = 10 * 1024 * 1024


def _checked_photo(photo, field: str):
    """A PNG or JPEG (by its content, as purchasing checks vendor invoices) of at most 10 MB."""
    if photo.size > MAX_PHOTO_BYTES:
        raise Invalid("the photo is larger than 10 MB", field=field)
    data = photo.read()
    photo.seek(0)
    try:
        kind = files.sniff(data, field)
    except Invalid:
        kind = None
    if kind not in (files.PNG, files.JPEG):
        raise Invalid("must be a PNG or JPEG photo", field=field)
    return photo


def reason_of(company: Company, reason_id: int, field: str = "reasonId") -> CreditReason:
    reason = CreditReason.objects.filter(company=company, pk=reason_id, active=True).first()
    if reason is None:
        raise NotFound(f"credit reason {reason_id} does not exist", field=field)
    return reason


def lock_credit(company: Company, credit_id: int) -> Credit:
    credit = (
        Credit.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(company=company, pk=credit_id)
        .first()
    )
    if credit is None:
        raise NotFound(f"credit {credit_id} does not exist", field="creditId")
    return credit


def _lock_invoice(company: Company, invoice_id: int) -> Invoice:
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .filter(company=company, pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist", field="invoiceId")
    if invoice.status != DocumentStatus.CONFIRMED:
        raise Conflict(
            f"invoice {invoice.number} is {invoice.get_status_display()}; only a confirmed "
            "invoice can be credited",
            field="invoiceId",
        )
    return invoice


def _check_caps(invoice: Invoice, lines: list[CreditLine], charge_amount, charge, exclude=None):
    """What is asked on each line, with every live credit of that line, within what was
    invoiced on it; on a charge, within the charge. The invoice and its lines are locked."""
    item_ids = sorted({line.invoice_item_id for line in lines})
    items = InvoiceItem.objects.select_for_update().filter(invoice=invoice, pk__in=item_ids)
    items = {i.pk: i for i in items.order_by("pk")}
    live = CreditLine.objects.filter(invoice_item_id__in=item_ids, credit__status__in=LIVE)
    if exclude is not None:
        live = live.exclude(credit=exclude)
    taken = dict(
        live.values("invoice_item_id").annotate(n=Sum("units")).values_list("invoice_item_id", "n")
    )
    for line in lines:
        item = items.get(line.invoice_item_id)
        if item is None:
            raise NotFound(
                f"invoice line {line.invoice_item_id} is not on invoice {invoice.number}",
                field=line._field,
            )
        invoiced = item.boxes * item.units_per_box
        left = invoiced - taken.get(item.pk, 0)
        if line.units > left:
            raise Conflict(
                f"invoice line {item.pk} has {left} of its {invoiced} units left to credit; "
                f"{line.units} asked",
                field=line._field,
                unitsLeft=left,
            )
        taken[item.pk] = taken.get(item.pk, 0) + line.units
        line.amount = (line.units * item.price).quantize(CENT, ROUND_HALF_UP)
        line._item = item
    if charge is not None:
        used = Credit.objects.filter(charge=charge, status__in=LIVE)
        if exclude is not None:
            used = used.exclude(pk=exclude.pk)
        used = Decimal(used.aggregate(s=Sum("amount"))["s"] or 0).quantize(CENT)
        if charge_amount > charge.amount - used:
            raise Conflict(
                f"the charge {charge.name} has {charge.amount - used} left to credit",
                field="chargeAmount",
            )


@transaction.atomic
def raise_credit(
    *,
    company: Company,
    invoice_id: int,
    lines: list[CreditLineRequest],
    charge_id: int | None = None,
    charge_amount: Decimal | None = None,
    comment: str = "",
    user=None,
    day: date | None = None,
    submit: bool = False,
) -> Credit:
    """A credit on an invoice's lines (boxes or units, each with a reason), or standalone on
    one of its additional charges. New, or Pending Review when submitted at once."""
    invoice = _lock_invoice(company, invoice_id)
    if not lines and charge_id is None:
        raise Invalid("send at least one line, or a charge", field="details")
    made = []
    for r in lines:
        if r.item_type not in (CreditLine.ItemType.BOX, CreditLine.ItemType.UNIT):
            raise Invalid("must be box or UN", field=f"{r.field}.itemType")
        if r.quantity < 1:
            raise Invalid("must be at least 1", field=f"{r.field}.quantity")
        line = CreditLine(
            company_id=company.pk,
            invoice_item_id=r.invoice_item_id,
            item_type=r.item_type,
            quantity=r.quantity,
            units=r.quantity,
            reason=reason_of(company, r.reason_id, f"{r.field}.reasonId"),
        )
        if r.photo:
            line.photo = _checked_photo(r.photo, f"{r.field}.photo")
        line._field = r.field
        made.append(line)
    # Units per box are known once the lines are locked; a box credit counts in units.
    charge = None
    if charge_id is not None:
        charge = InvoiceCharge.objects.filter(invoice=invoice, pk=charge_id).first()
        if charge is None:
            raise NotFound(f"charge {charge_id} is not on this invoice", field="chargeId")
        charge_amount = _cents(charge_amount or 0, "chargeAmount", positive=True)
    items = InvoiceItem.objects.filter(invoice=invoice, pk__in=[m.invoice_item_id for m in made])
    per_box = dict(items.values_list("pk", "units_per_box"))
    for m in made:
        if m.item_type == CreditLine.ItemType.BOX:
            m.units = m.quantity * per_box.get(m.invoice_item_id, 0) or m.quantity
    _check_caps(invoice, made, charge_amount, charge)
    credit = Credit.objects.create(
        company=company,
        location_id=invoice.location_id,
        number=next_number(company, invoice.location, "credit"),
        customer_id=invoice.customer_id,
        invoice=invoice,
        charge=charge,
        date=day or timezone.localdate(),
        status=CreditStatus.PENDING_REVIEW if submit else CreditStatus.NEW,
        amount=sum((m.amount for m in made), charge_amount or ZERO),
        created_by=user,
    )
    for m in made:
        m.credit = credit
    CreditLine.objects.bulk_create(made)
    if comment:
        _comment(credit, user, comment)
    record(credit, "created")
    return credit


def _comment(credit: Credit, user, text: str) -> CreditComment:
    name = (user.get_full_name() or user.email or user.username) if user else "API"
    return CreditComment.objects.create(
        company_id=credit.company_id, credit=credit, author=user, author_name=name, text=text
    )


def _editable(credit: Credit) -> None:
    _refuse_if_synced(credit)
    if credit.kind != Credit.Kind.MEMO:
        raise Conflict("an opening balance has no review", field="creditId")


@transaction.atomic
def add_comment(*, company: Company, credit_id: int, text: str, user=None) -> CreditComment:
    credit = lock_credit(company, credit_id)
    _refuse_if_synced(credit)
    if not text.strip():
        raise Invalid("must not be empty", field="comment")
    made = _comment(credit, user, text.strip()[:500])
    record(credit, "commented")
    return made


@transaction.atomic
def submit_credit(*, company: Company, credit_id: int, user=None) -> Credit:
    credit = lock_credit(company, credit_id)
    _editable(credit)
    if credit.status != CreditStatus.NEW:
        raise Conflict(
            f"credit {credit.number} is {credit.get_status_display()}; only a New one is "
            "submitted for review",
            field="creditId",
        )
    credit.status = CreditStatus.PENDING_REVIEW
    credit.save(update_fields=["status", "updated_at"])
    record(credit, "submitted")
    return credit


@transaction.atomic
def approve_credit(*, company: Company, credit_id: int, user=None, comment: str = "") -> Credit:
    """Approve: the credit goes to its invoice's open amount as far as that reaches, the rest
    stays on account; credited boxes of a vendor's AWB become a credit on that vendor."""
    credit = lock_credit(company, credit_id)
    _editable(credit)
    if credit.status not in REVIEWABLE:
        raise Conflict(
            f"credit {credit.number} is {credit.get_status_display()}; it cannot be approved",
            field="creditId",
        )
    invoice = _lock_invoice(company, credit.invoice_id)
    lines = list(credit.lines.select_related("invoice_item__line").order_by("pk"))
    for line in lines:
        line._field = "creditId"
    ensure(company, invoice_ids=[invoice.pk])
    rec = Receivable.objects.select_for_update().get(invoice=invoice)
    take = min(credit.amount, rec.open_amount)
    rec.credited += take
    rec.open_amount -= take
    rec.save(update_fields=["credited", "open_amount"])
    credit.applied = take
    credit.status = CreditStatus.APPROVED
    credit.reviewed_by = user
    credit.reviewed_at = timezone.now()
    credit.save(update_fields=["status", "applied", "reviewed_by", "reviewed_at", "updated_at"])
    vendor_credits = []
    for line in lines:
        inv_line = line.invoice_item.line
        if inv_line is not None and inv_line.vendor_id and inv_line.awb:
            vendor_credits.append(
                VendorCredit(
                    company_id=company.pk,
                    vendor_id=inv_line.vendor_id,
                    credit_line=line,
                    awb=inv_line.awb,
                    units=line.units,
                    amount=(line.units * inv_line.unit_cost).quantize(CENT, ROUND_HALF_UP),
                )
            )
    VendorCredit.objects.bulk_create(vendor_credits)
    if comment:
        _comment(credit, user, comment)
    record(credit, "approved")
    return credit


@transaction.atomic
def reject_credit(*, company: Company, credit_id: int, user=None, comment: str = "") -> Credit:
    credit = lock_credit(company, credit_id)
    _editable(credit)
    if credit.status not in REVIEWABLE:
        raise Conflict(
            f"credit {credit.number} is {credit.get_status_display()}; it cannot be rejected",
            field="creditId",
        )
    credit.status = CreditStatus.REJECTED
    credit.reviewed_by = user
    credit.reviewed_at = timezone.now()
    credit.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    if comment:
        _comment(credit, user, comment)
    record(credit, "rejected")
    return credit


@transaction.atomic
def resubmit_credit(*, company: Company, credit_id: int, user=None, comment: str = "") -> Credit:
    """A rejected credit back for review; its lines count against the invoice's again, so
    they must still fit."""
    credit = lock_credit(company, credit_id)
    _editable(credit)
    if credit.status != CreditStatus.REJECTED:
        raise Conflict(
            f"credit {credit.number} is {credit.get_status_display()}; only a Rejected one is "
            "resubmitted",
            field="creditId",
        )
    invoice = _lock_invoice(company, credit.invoice_id)
    lines = list(credit.lines.order_by("pk"))
    for line in lines:
        line._field = "creditId"
    charge_amount = credit.amount - sum((li.amount for li in lines), ZERO)
    _check_caps(invoice, lines, charge_amount, credit.charge, exclude=credit)
    credit.status = CreditStatus.RESUBMITTED
    credit.save(update_fields=["status", "updated_at"])
    if comment:
        _comment(credit, user, comment)
    record(credit, "resubmitted")
    return credit


@transaction.atomic
def apply_credit(
    *, company: Company, credit_id: int, applications: list[ApplyRequest]
) -> list[Application]:
    """Apply an open credit (what an approved credit or opening balance has left) to invoices."""
    credit = lock_credit(company, credit_id)
    _refuse_if_synced(credit)
    if credit.status != CreditStatus.APPROVED:
        raise Conflict(f"credit {credit.number} is not approved", field="creditId")
    made = _apply(credit, applications)
    record(credit, "applied")
    return made


@transaction.atomic
def load_opening_credits(
    *,
    company: Company,
    customer: Customer,
    location: Location,
    balances: list[tuple[date, Decimal]],
    user=None,
) -> list[Credit]:
    """Open credits a customer had in a previous system (open.credit.balance.create)."""
    made = []
    for i, (day, amount) in enumerate(balances):
        amount = _cents(amount, f"openCredits[{i}].balance", positive=True)
        credit = Credit.objects.create(
            company=company,
            location=location,
            number=next_number(company, location, "credit"),
            kind=Credit.Kind.OPENING,
            customer=customer,
            date=day,
            status=CreditStatus.APPROVED,
            amount=amount,
            created_by=user,
        )
        made.append(credit)
    for credit in made:
        record(credit, "created")
    return made


# ---------------------------------------------------------------- sync marks


@transaction.atomic
def mark_synced(*, company: Company, model, ids: list[int]) -> dict[int, str]:
    """Flag payments or credits as synchronized: per id "ok", "cancelled" (a voided payment,
    a rejected credit: nothing to export) or "missing"."""
    found = (
        model.objects.select_for_update()
        .filter(company=company, pk__in=ids)
        .order_by("pk")
        .in_bulk()
    )
    result = {}
    for pk in ids:
        obj = found.get(pk)
        if obj is None:
            result[pk] = "missing"
        elif (model is Payment and obj.status == Payment.Status.VOIDED) or (
            model is Credit and obj.status == CreditStatus.REJECTED
        ):
            result[pk] = "cancelled"
        else:
            result[pk] = "ok"
            if not obj.synced:
                obj.synced, obj.synced_at = True, timezone.now()
                obj.save(update_fields=["synced", "synced_at", "updated_at"])
                record(obj, "synced")
    return result


# ---------------------------------------------------------------- credit standing


def credit_problem(customer: Customer, adding: Decimal = ZERO) -> str:
    """Why a customer's new order must wait for a sales rep ("" when it need not): on credit
    hold, or its balance with the order over its credit limit (empty limit = unlimited)."""
    if customer.credit_hold:
        return "Customer is on credit hold"
    if customer.credit_limit is None:
        return ""
    from .queries import balance

    owed = balance(customer.company_id, customer.pk).balance + adding
    if owed > customer.credit_limit:
        return (
            f"Over credit limit: balance with this order {owed:,.2f}, "
            f"limit {customer.credit_limit:,.2f}"
        )
    return ""
