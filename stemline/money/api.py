"""API methods of payments and credits (reference §2.H, §3.7): payment.receive and its list,
credits with their lines and comments, opening balances, the accounting summaries of
invoices, the export-once sync marks and the payment/credit change feeds."""

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from django.db.models import Q, Sum
from pydantic import BeforeValidator, Field

from stemline.api.listing import Paged, listing, values_by, values_in_order
from stemline.api.registry import COMPANY, USER, api_method
from stemline.api.schemas import (
    Day,
    Envelope,
    Id,
    Money,
    Number,
    OptBool,
    OptDateTime,
    OptDay,
    OptId,
    OptMoney,
    OptPage,
    OptRows,
    Out,
    Params,
    Required,
    Since,
    Str,
    blank_to_none,
    day,
    flag,
    number,
    stamp,
)
from stemline.core.errors import Invalid, NotFound
from stemline.core.sql import id_in
from stemline.parties.models import PaymentMethod
from stemline.sales import invoicing
from stemline.sales import queries as sales_queries
from stemline.sales.models import DocumentStatus, Invoice, InvoiceItem

from . import queries, services
from .models import (
    Application,
    Credit,
    CreditComment,
    CreditLine,
    CreditStatus,
    MoneyChange,
    Payment,
)

MAX_INVOICES_PER_PAYMENT = 100
MAX_OPEN_CREDITS = 50
MAX_ACCOUNTING_DAYS = 31
MAX_CREDIT_DAYS = 183
MAX_LIST_ROWS = 5000  # an unpaged payment.list / credit.details.list, as before
# An unpaged list longer than this is streamed, 500 documents at a time.
STREAM_FROM = 1000
FEED_ROWS = 1000
Amount = Annotated[Money(10, 2), Field(ge=0)]


def _colon_ids(value):
    value = blank_to_none(value)
    if isinstance(value, str):
        return [part.strip() for part in value.replace(",", ":").split(":") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


ColonIds = Annotated[Annotated[list[Id], Field(max_length=100)] | None, BeforeValidator(_colon_ids)]


# ---------------------------------------------------------------- payment.receive


def _location(company, code: str | None):
    try:
        return invoicing.location_by(company, None, code)
    except (Invalid, NotFound) as exc:
        # The refusal names this method's parameter, locationCode.
        raise type(exc)(exc.message, field="locationCode") from None


class PaymentInvoiceIn(Params):
    invoiceNumber: Required(20)
    amount: Amount
    discount: OptMoney(10, 2) = None


class PaymentReceiveIn(Params):
    customerId: Id
    locationCode: Str(10) | None = None
    methodId: Id
    date: Day
    totalPayment: OptMoney(10, 2) = None
    referenceNumber: Str(100) = ""
    notes: Str(200) = ""
    invoices: Annotated[list[PaymentInvoiceIn], Field(max_length=MAX_INVOICES_PER_PAYMENT)] = []


class PaymentReceivedOut(Envelope):
    paymentId: int
    controlNumber: int
    totalPayment: Number
    applied: Number
    overpayment: Number


@api_method(
    "payment.receive",
    request=PaymentReceiveIn,
    response=PaymentReceivedOut,
    tokens=[COMPANY, USER],
    area="money",
    creates=True,
)
def payment_receive(call, p: PaymentReceiveIn):
    """Record a customer payment and apply it to invoices (by number) with optional discounts.

    `totalPayment` defaults to the sum of the invoices' amounts and must not be below it; the
    excess stays on the customer's account as an overpayment (the answer's `overpayment`),
    which can be applied later in the web application. An invoice must be confirmed and the
    customer's; an amount plus discount above its open amount is refused (409), so is the
    whole payment: nothing is recorded. Send an Idempotency-Key to retry safely."""
    company = call.company
    customer = invoicing.customer_by(company, p.customerId, None)
    location = _location(company, p.locationCode)
    method = PaymentMethod.objects.filter(company=company, pk=p.methodId, active=True).first()
    if method is None:
        raise NotFound(f"payment method {p.methodId} does not exist", field="methodId")
    requests = []
    for i, row in enumerate(p.invoices):
        field = f"invoices[{i}]"
        try:
            invoice_id = sales_queries.invoice_id(
                company, invoice_id=None, number=row.invoiceNumber, location_id=location.pk
            )
        except NotFound:
            raise NotFound(
                f"invoice {row.invoiceNumber} does not exist", field=f"{field}.invoiceNumber"
            ) from None
        except Invalid as exc:
            raise Invalid(exc.message, field=f"{field}.invoiceNumber") from None
        requests.append(
            services.ApplyRequest(invoice_id, row.amount, row.discount or 0, field=field)
        )
    payment = services.receive_payment(
        company=company,
        customer=customer,
        location=location,
        method=method,
        day=p.date,
        applications=requests,
        amount=p.totalPayment,
        reference_number=p.referenceNumber,
        notes=p.notes,
        user=call.user,
        via_api=True,
    )
    return {
        "message": "The payment was successfully received.",
        "paymentId": payment.pk,
        "controlNumber": payment.control_number,
        "totalPayment": payment.amount,
        "applied": payment.applied,
        "overpayment": payment.amount - payment.applied,
    }


# ---------------------------------------------------------------- payment.list


class PaymentListIn(Params):
    dateFrom: OptDay = None
    dateTo: OptDay = None
    customer: Str(50) | None = None
    customerId: OptId = None
    controlNumber: OptId = None
    paymentMethod: Str(50) | None = None
    invoiceNumber: Str(20) | None = None
    checkReference: Str(100) | None = None
    updatedAsOf: OptDateTime = None
    locationId: OptId = None
    externalSystemSynced: OptBool = None
    page: OptPage = None
    rows: OptRows = None


class AppliedOut(Out):
    invoiceId: int
    invoiceNumber: int
    amount: Number
    discount: Number
    voided: int


class PaymentOut(Out):
    id: int
    controlNumber: int
    date: date
    customerId: int
    customer: str
    customerCode: str
    methodId: int
    method: str
    referenceNumber: str
    notes: str
    locationId: int
    totalPayment: Number
    applied: Number
    unapplied: Number
    status: str
    voidReason: str
    externalSystemSynced: int
    createdOn: datetime
    updatedOn: datetime
    invoices: list[AppliedOut]


class PaymentListOut(Paged):
    payments: list[PaymentOut]


PAYMENT_STATUS_NAMES = dict(Payment.Status.choices)
PAYMENT_VALUES = (
    "control_number",
    "date",
    "customer_id",
    "customer__name",
    "customer__code",
    "method_id",
    "method__name",
    "reference_number",
    "notes",
    "location_id",
    "amount",
    "applied",
    "status",
    "void_reason",
    "synced",
    "created_at",
    "updated_at",
)
APPLICATION_VALUES = (
    "receivable__invoice_id",
    "receivable__invoice__number",
    "amount",
    "discount",
    "voided_at",
)


def _payment_rows(ids: list[int]) -> list[dict]:
    """payment.list's rows of these payments with the invoices they settled: two queries."""
    applied_to = values_by(Application.objects, "payment_id", ids, APPLICATION_VALUES)
    rows = []
    for (
        pk,
        control_number,
        date_,
        customer_id,
        customer_name,
        customer_code,
        method_id,
        method_name,
        reference_number,
        notes,
        location_id,
        amount,
        applied,
        status,
        void_reason,
        synced,
        created_at,
        updated_at,
    ) in values_in_order(Payment, ids, PAYMENT_VALUES):
        active = status == Payment.Status.ACTIVE
        rows.append(
            {
                "id": pk,
                "controlNumber": control_number,
                "date": day(date_),
                "customerId": customer_id,
                "customer": customer_name,
                "customerCode": customer_code,
                "methodId": method_id,
                "method": method_name,
                "referenceNumber": reference_number,
                "notes": notes,
                "locationId": location_id,
                "totalPayment": number(amount),
                "applied": number(applied),
                "unapplied": number(amount - applied if active else 0),
                "status": PAYMENT_STATUS_NAMES.get(status, status),
                "voidReason": void_reason,
                "externalSystemSynced": flag(synced),
                "createdOn": stamp(created_at),
                "updatedOn": stamp(updated_at),
                "invoices": [
                    {
                        "invoiceId": invoice_id,
                        "invoiceNumber": invoice_number,
                        "amount": number(applied_amount),
                        "discount": number(discount),
                        "voided": flag(voided_at is not None),
                    }
                    for invoice_id, invoice_number, applied_amount, discount, voided_at in (
                        applied_to[pk]
                    )
                ],
            }
        )
    return rows


@api_method(
    "payment.list",
    request=PaymentListIn,
    response=PaymentListOut,
    tokens=[COMPANY, USER],
    area="money",
    read=True,
)
def payment_list(call, p: PaymentListIn):
    """Payments and the invoices they settled; at least one filter is required.

    `customer`, `paymentMethod` and `checkReference` match part of the name or reference
    (any case); the others exactly. Voided payments are listed with status Voided and their
    applications flagged `voided`. In date order, then id.

    Paging: send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent) for
    one page in the list's order, with `total` (how many match), `page` and `rows` in the
    answer, through all of them; without them at most 5,000 payments come, as before (narrow
    the dates), a long answer streamed as it is read."""
    given = {k: v for k, v in p.model_dump().items() if v is not None and k not in ("page", "rows")}
    if not given:
        raise Invalid("send at least one filter (dateFrom/dateTo, customer, ...)", field="dateFrom")
    qs = Payment.objects.filter(company=call.company)
    if p.dateFrom:
        qs = qs.filter(date__gte=p.dateFrom)
    if p.dateTo:
        qs = qs.filter(date__lte=p.dateTo)
    if p.customer:
        qs = qs.filter(customer__name__icontains=p.customer)
    if p.customerId:
        qs = qs.filter(customer_id=p.customerId)
    if p.controlNumber:
        qs = qs.filter(control_number=p.controlNumber)
    if p.paymentMethod:
        qs = qs.filter(method__name__icontains=p.paymentMethod)
    if p.invoiceNumber:
        number = sales_queries.document_number(p.invoiceNumber, "invoiceNumber")
        qs = qs.filter(applications__receivable__invoice__number=number).distinct()
    if p.checkReference:
        qs = qs.filter(reference_number__icontains=p.checkReference)
    if p.updatedAsOf:
        qs = qs.filter(updated_at__gte=p.updatedAsOf)
    if p.locationId:
        qs = qs.filter(location_id=p.locationId)
    if p.externalSystemSynced is not None:
        qs = qs.filter(synced=p.externalSystemSynced)
    return listing(
        p,
        qs,
        order=("date", "id"),
        key="payments",
        rows=_payment_rows,
        empty="Payments not found.",
        stream_from=STREAM_FROM,
        limit=MAX_LIST_ROWS,
    )


# ---------------------------------------------------------------- mark.sync


class PaymentRefIn(Params):
    paymentId: Id


class PaymentMarkSyncIn(Params):
    payments: Annotated[list[PaymentRefIn], Field(min_length=1, max_length=500)]


class PaymentSyncResultOut(Out):
    paymentId: int
    status: int
    message: str


class PaymentMarkSyncOut(Envelope):
    payments: list[PaymentSyncResultOut]


MARK_MESSAGES = {
    "ok": (1, "The {} was successfully synchronized"),
    "cancelled": (0, "The {} was cancelled"),
    "missing": (0, "The {} doesn't exist"),
}


def _marks(results: dict[int, str], what: str, key: str) -> list[dict]:
    rows = []
    for pk, outcome in results.items():
        status, text = MARK_MESSAGES[outcome]
        rows.append({key: pk, "status": status, "message": text.format(what)})
    return rows


def _mark_answer(rows: list[dict], what: str) -> tuple[int, str]:
    done = sum(r["status"] for r in rows)
    if done == len(rows):
        return 1, "OK"
    return (1 if done else 0), f"{done} {what}s were synchronized. {len(rows) - done} were not"


@api_method(
    "payment.mark.sync",
    request=PaymentMarkSyncIn,
    response=PaymentMarkSyncOut,
    tokens=[COMPANY, USER],
    area="money",
)
def payment_mark_sync(call, p: PaymentMarkSyncIn):
    """Flag payments as synchronized with the accounting system, each with its own result.

    A synchronized payment is locked: it can no longer be applied further or voided. A voided
    payment is answered "The payment was cancelled", an unknown ID (or another company's)
    "The payment doesn't exist"; the others are marked even when some are not."""
    ids = list(dict.fromkeys(r.paymentId for r in p.payments))
    results = services.mark_synced(company=call.company, model=Payment, ids=ids)
    rows = _marks(results, "payment", "paymentId")
    status, message = _mark_answer(rows, "payment")
    return {"status": status, "message": message, "payments": rows}


class CreditRefIn(Params):
    creditId: Id


class CreditMarkSyncIn(Params):
    credits: Annotated[list[CreditRefIn], Field(min_length=1, max_length=500)]


class CreditSyncResultOut(Out):
    creditId: int
    status: int
    message: str


class CreditMarkSyncOut(Envelope):
    credits: list[CreditSyncResultOut]


@api_method(
    "credit.mark.sync",
    request=CreditMarkSyncIn,
    response=CreditMarkSyncOut,
    tokens=[COMPANY, USER],
    area="money",
)
def credit_mark_sync(call, p: CreditMarkSyncIn):
    """Flag credits as synchronized with the accounting system, each with its own result.

    A synchronized credit is locked against review, comments and application. A rejected
    credit is answered "The credit was cancelled", an unknown ID "The credit doesn't exist"."""
    ids = list(dict.fromkeys(r.creditId for r in p.credits))
    results = services.mark_synced(company=call.company, model=Credit, ids=ids)
    rows = _marks(results, "credit", "creditId")
    status, message = _mark_answer(rows, "credit")
    return {"status": status, "message": message, "credits": rows}


# ---------------------------------------------------------------- credit.details.list


def _item_type(value):
    value = blank_to_none(value)
    if isinstance(value, str):
        low = value.strip().lower()
        return {"box": "box", "boxes": "box", "un": "UN", "unit": "UN", "all": "all"}.get(
            low, value
        )
    return value


def _credit_status(value):
    value = blank_to_none(value)
    if value is not None and str(value).strip() not in {"1", "2", "3", "4", "5"}:
        raise ValueError(
            "must be 1 (New), 2 (Pending Review), 3 (Approved), 4 (Rejected) or 5 (Resubmitted)"
        )
    return None if value is None else int(value)


class CreditDetailsIn(Params):
    creditDateFrom: Day
    creditDateTo: Day
    itemType: Annotated[Literal["box", "UN", "all"], BeforeValidator(_item_type)]
    status: Annotated[int | None, BeforeValidator(_credit_status)] = None
    customer: Str(50) | None = None
    customerId: OptId = None
    carrierName: Str(50) | None = None
    carrierId: OptId = None
    product: Str(50) | None = None
    number: Str(20) | None = None
    locationId: OptId = None
    externalSystemSynced: OptBool = None
    page: OptPage = None
    rows: OptRows = None


class CreditDetailOut(Out):
    detailId: int
    invoiceItemId: int
    awb: str
    productId: int
    productDescription: str
    growerId: int | None
    growerName: str
    boxTypeId: int
    boxType: str
    itemType: str
    quantityBoxes: int
    flowerSales: Number
    creditQuantity: int
    creditUnits: int
    creditAmount: Number
    creditFreight: Number
    creditReasons: str


class CreditCommentOut(Out):
    comment: str
    createdBy: str
    createdOn: datetime


class CreditOut(Out):
    id: int
    number: int
    kind: str
    invoiceId: int | None
    invoiceNumber: int | None
    creditDate: date
    customerId: int
    customerName: str
    shipDate: date | None
    carrierId: int | None
    carrierName: str
    salesPersonId: int | None
    salesPersonName: str
    locationId: int
    locationName: str
    customerPONumber: str
    totalBoxesOrder: int
    totalOrder: Number
    totalCredit: Number
    appliedToInvoice: Number
    openCredit: Number
    returnedTax: Number
    chargeId: int | None
    chargeName: str
    status: int
    statusName: str
    externalSystemSynced: int
    details: list[CreditDetailOut]
    comments: list[CreditCommentOut]


class CreditDetailsOut(Paged):
    credits: list[CreditOut]


STATUS_NAMES = dict(CreditStatus.choices)


CREDIT_VALUES = (
    "number",
    "kind",
    "invoice_id",
    "invoice__number",
    "date",
    "customer_id",
    "customer__name",
    "invoice__ship_date",
    "invoice__carrier_id",
    "invoice__carrier__name",
    "customer__sales_person_id",
    "customer__sales_person__first_name",
    "customer__sales_person__last_name",
    "customer__sales_person__email",
    "location_id",
    "location__name",
    "invoice__customer_po",
    "invoice__amount",
    "invoice__additional_charges",
    "invoice__taxes",
    "amount",
    "applied",
    "charge_id",
    "charge__name",
    "status",
    "synced",
)
CREDIT_LINE_VALUES = (
    "id",
    "invoice_item_id",
    "invoice_item__line_id",
    "invoice_item__line__awb",
    "invoice_item__product_id",
    "invoice_item__product__description",
    "invoice_item__line__vendor_id",
    "invoice_item__line__vendor__name",
    "invoice_item__box_type_id",
    "invoice_item__box_type__code",
    "item_type",
    "invoice_item__boxes",
    "invoice_item__units_per_box",
    "invoice_item__price",
    "quantity",
    "units",
    "amount",
    "reason__name",
)


def _credit_line(row: tuple) -> dict:
    (
        pk,
        item_id,
        line_id,
        awb,
        product_id,
        description,
        vendor_id,
        vendor_name,
        box_type_id,
        box_type,
        item_type,
        boxes,
        units_per_box,
        price,
        quantity,
        units,
        amount,
        reason,
    ) = row
    return {
        "detailId": pk,
        "invoiceItemId": item_id,
        "awb": awb if line_id is not None else "",
        "productId": product_id,
        "productDescription": description,
        "growerId": vendor_id,
        "growerName": vendor_name if vendor_id is not None else "",
        "boxTypeId": box_type_id,
        "boxType": box_type,
        "itemType": item_type,
        "quantityBoxes": boxes,
        "flowerSales": number(boxes * units_per_box * price),
        "creditQuantity": quantity,
        "creditUnits": units,
        "creditAmount": number(amount),
        "creditFreight": 0.0,
        "creditReasons": reason,
    }


def _credit_rows(ids: list[int], item_type: str) -> list[dict]:
    """credit.details.list's rows of these credits with their lines (of `item_type`, or all)
    and comments: four queries."""
    lines = CreditLine.objects.all()
    if item_type != "all":
        lines = lines.filter(item_type=item_type)
    lines_of = values_by(lines, "credit_id", ids, CREDIT_LINE_VALUES)
    comments_of = values_by(
        CreditComment.objects,
        "credit_id",
        ids,
        ("text", "author_name", "created_at"),
        order=("created_at", "id"),
    )
    credits = values_in_order(Credit, ids, CREDIT_VALUES)
    invoice_ids = [row[3] for row in credits if row[3] is not None]
    boxes_of = dict(
        InvoiceItem.objects.filter(id_in(invoice_ids, "invoice_id"))
        .order_by()
        .values("invoice_id")
        .annotate(n=Sum("boxes"))
        .values_list("invoice_id", "n")
        if invoice_ids
        else ()
    )
    rows = []
    for (
        pk,
        number_,
        kind,
        invoice_id,
        invoice_number,
        date_,
        customer_id,
        customer_name,
        ship_date,
        carrier_id,
        carrier_name,
        person_id,
        person_first,
        person_last,
        person_email,
        location_id,
        location_name,
        customer_po,
        invoice_amount,
        additional_charges,
        taxes,
        amount,
        applied,
        charge_id,
        charge_name,
        status,
        synced,
    ) in credits:
        invoiced = invoice_id is not None
        rows.append(
            {
                "id": pk,
                "number": number_,
                "kind": kind,
                "invoiceId": invoice_id,
                "invoiceNumber": invoice_number,
                "creditDate": day(date_),
                "customerId": customer_id,
                "customerName": customer_name,
                "shipDate": day(ship_date),
                "carrierId": carrier_id,
                "carrierName": carrier_name or "",
                "salesPersonId": person_id,
                "salesPersonName": (f"{person_first} {person_last}".strip() or person_email)
                if person_id is not None
                else "",
                "locationId": location_id,
                "locationName": location_name,
                "customerPONumber": customer_po if invoiced else "",
                "totalBoxesOrder": (boxes_of.get(invoice_id) or 0) if invoiced else 0,
                "totalOrder": number(invoice_amount + additional_charges + taxes)
                if invoiced
                else 0.0,
                "totalCredit": number(amount),
                "appliedToInvoice": number(applied),
                "openCredit": number(amount - applied if status == CreditStatus.APPROVED else 0),
                "returnedTax": 0.0,
                "chargeId": charge_id,
                "chargeName": charge_name or "",
                "status": status,
                "statusName": STATUS_NAMES[status],
                "externalSystemSynced": flag(synced),
                "details": [_credit_line(line) for line in lines_of[pk]],
                "comments": [
                    {"comment": text, "createdBy": author, "createdOn": stamp(created_at)}
                    for text, author, created_at in comments_of[pk]
                ],
            }
        )
    return rows


@api_method(
    "credit.details.list",
    request=CreditDetailsIn,
    response=CreditDetailsOut,
    tokens=[COMPANY, USER],
    area="money",
    read=True,
    verbs=["POST"],
)
def credit_details_list(call, p: CreditDetailsIn):
    """Customer credits (credit memos) dated in a window (at most 6 months), with their lines
    and comments.

    `itemType` box or UN keeps the credits with lines of that kind (and only those lines);
    all lists every credit, opening balances and credits on a charge included. `number`
    matches the credit's number or its invoice's number. `returnedTax` and `creditFreight`
    are 0: Stemline credits the lines' amount. POST JSON, as Komet's. In credit-date order,
    then id.

    Paging: send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent) for
    one page in the list's order, with `total` (how many match), `page` and `rows` in the
    answer, through all of them; without them at most 5,000 credits come, as before, a long
    answer streamed as it is read."""
    if p.creditDateTo < p.creditDateFrom:
        raise Invalid("must not be before creditDateFrom", field="creditDateTo")
    if p.creditDateTo - p.creditDateFrom > timedelta(days=MAX_CREDIT_DAYS):
        raise Invalid(f"at most {MAX_CREDIT_DAYS} days after creditDateFrom", "creditDateTo")
    qs = Credit.objects.filter(company=call.company, date__range=(p.creditDateFrom, p.creditDateTo))
    if p.itemType != "all":
        qs = qs.filter(lines__item_type=p.itemType).distinct()
    if p.status:
        qs = qs.filter(status=p.status)
    if p.customer:
        qs = qs.filter(customer__name__icontains=p.customer)
    if p.customerId:
        qs = qs.filter(customer_id=p.customerId)
    if p.carrierName:
        qs = qs.filter(invoice__carrier__name__icontains=p.carrierName)
    if p.carrierId:
        qs = qs.filter(invoice__carrier_id=p.carrierId)
    if p.product:
        qs = qs.filter(lines__invoice_item__product__description__icontains=p.product).distinct()
    if p.number:
        n = sales_queries.document_number(p.number, "number")
        qs = qs.filter(Q(number=n) | Q(invoice__number=n))
    if p.locationId:
        qs = qs.filter(location_id=p.locationId)
    if p.externalSystemSynced is not None:
        qs = qs.filter(synced=p.externalSystemSynced)
    return listing(
        p,
        qs,
        order=("date", "id"),
        key="credits",
        rows=lambda ids: _credit_rows(ids, p.itemType),
        empty="Credits not found.",
        stream_from=STREAM_FROM,
        limit=MAX_LIST_ROWS,
    )


# ---------------------------------------------------------------- open.credit.balance.create


class OpenCreditIn(Params):
    date: Day
    balance: Annotated[Money(10, 2), Field(gt=0)]


class OpenCreditCreateIn(Params):
    customerCode: Required(10)
    locationCode: Str(10) | None = None
    openCredits: Annotated[list[OpenCreditIn], Field(min_length=1, max_length=MAX_OPEN_CREDITS)]


class OpenCreditCreatedOut(Envelope):
    customerId: int
    creditIds: list[int]
    openCredits: Number


@api_method(
    "open.credit.balance.create",
    request=OpenCreditCreateIn,
    response=OpenCreditCreatedOut,
    tokens=[COMPANY, USER],
    area="money",
    creates=True,
)
def open_credit_balance_create(call, p: OpenCreditCreateIn):
    """Load a customer's opening (legacy) open-credit balances, at most 50 per call.

    Each becomes an approved credit of kind opening, on the customer's account until it is
    applied to invoices; the answer's `openCredits` is the customer's open credit after."""
    customer = invoicing.customer_by(call.company, None, p.customerCode)
    location = _location(call.company, p.locationCode)
    made = services.load_opening_credits(
        company=call.company,
        customer=customer,
        location=location,
        balances=[(row.date, row.balance) for row in p.openCredits],
        user=call.user,
    )
    return {
        "message": "Open Credits Balance Adjustment was successfully saved.",
        "customerId": customer.pk,
        "creditIds": [c.pk for c in made],
        "openCredits": queries.balance(call.company.pk, customer.pk).open_credits,
    }


# ---------------------------------------------------------------- invoice.accounting.details.list


def _accounting_status(value):
    value = blank_to_none(value)
    if value is not None and str(value).strip() not in {"0", "1"}:
        raise ValueError("must be 1 (Confirmed) or 0 (Pending Approval)")
    return None if value is None else int(value)


class AccountingListIn(Params):
    orderDateFrom: Day
    orderDateTo: Day
    status: Annotated[int | None, BeforeValidator(_accounting_status)] = None
    locationIds: ColonIds = None
    excludeTransfer: OptBool = None
    externalSystemSynced: OptBool = None
    page: OptPage = None
    rows: OptRows = None


class AccountingInvoiceOut(Out):
    id: int
    number: int
    shipDate: date | None
    status: int
    locationId: int
    locationName: str
    customerId: int
    customerName: str
    customerCode: str
    customerAccountingCode: str
    terms: str
    dueDate: date | None
    subtotal: Number
    additionalCharges: Number
    taxes: Number
    total: Number
    paid: Number
    credited: Number
    openAmount: Number
    transactionFee: Number
    externalSystemSynced: int


class AccountingListOut(Paged):
    invoices: list[AccountingInvoiceOut]


@api_method(
    "invoice.accounting.details.list",
    request=AccountingListIn,
    response=AccountingListOut,
    tokens=[COMPANY, USER],
    area="money",
    read=True,
)
def invoice_accounting_details_list(call, p: AccountingListIn):
    """Accounting summaries of invoices shipped in a window of at most 31 days.

    `status` 1 lists confirmed invoices, 0 those pending approval; without it both. With
    the ledger's figures: `dueDate` (ship date plus the customer's terms), `paid` (payments
    and discounts), `credited` (approved credits) and `openAmount`; a pending invoice owes
    nothing yet (dueDate null, openAmount 0). `locationIds` are colon-separated.
    Stemline has no transfer orders, so `excludeTransfer` changes nothing. In ship-date
    order, then id. A long answer is streamed as it is read.

    Paging: send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent) for
    one page in the list's order, with `total` (how many match), `page` and `rows` in the
    answer; without them the whole list comes, as before."""
    if p.orderDateTo < p.orderDateFrom:
        raise Invalid("must not be before orderDateFrom", field="orderDateTo")
    if p.orderDateTo - p.orderDateFrom > timedelta(days=MAX_ACCOUNTING_DAYS):
        raise Invalid(f"at most {MAX_ACCOUNTING_DAYS} days after orderDateFrom", "orderDateTo")
    services.ensure(call.company)
    qs = Invoice.objects.filter(
        company=call.company,
        ship_date__range=(p.orderDateFrom, p.orderDateTo),
        status__in=(
            [p.status]
            if p.status is not None
            else [DocumentStatus.CONFIRMED, DocumentStatus.PENDING_APPROVAL]
        ),
    )
    if p.locationIds:
        qs = qs.filter(location_id__in=p.locationIds)
    if p.externalSystemSynced is not None:
        qs = qs.filter(synced=p.externalSystemSynced)
    return listing(
        p,
        qs,
        order=("ship_date", "id"),
        key="invoices",
        rows=_accounting_rows,
        empty="Orders not found.",
        stream_from=STREAM_FROM,
    )


ACCOUNTING_VALUES = (
    "number",
    "ship_date",
    "status",
    "location_id",
    "location__name",
    "customer_id",
    "customer__name",
    "customer__code",
    "customer__accounting_code",
    "customer__terms",
    "amount",
    "additional_charges",
    "taxes",
    "transaction_fee",
    "synced",
    "receivable__id",
    "receivable__due_date",
    "receivable__paid",
    "receivable__credited",
    "receivable__open_amount",
)


def _accounting_rows(ids: list[int]) -> list[dict]:
    """invoice.accounting.details.list's rows of these invoices with their ledger figures: one
    query."""
    rows = []
    for (
        pk,
        number_,
        ship_date,
        status,
        location_id,
        location_name,
        customer_id,
        customer_name,
        customer_code,
        accounting_code,
        terms,
        amount,
        additional_charges,
        taxes,
        transaction_fee,
        synced,
        receivable_id,
        due_date,
        paid,
        credited,
        open_amount,
    ) in values_in_order(Invoice, ids, ACCOUNTING_VALUES):
        # A pending invoice owes nothing yet, whatever its ledger row says.
        ledger = receivable_id is not None and status == DocumentStatus.CONFIRMED
        rows.append(
            {
                "id": pk,
                "number": number_,
                "shipDate": day(ship_date),
                "status": status,
                "locationId": location_id,
                "locationName": location_name,
                "customerId": customer_id,
                "customerName": customer_name,
                "customerCode": customer_code,
                "customerAccountingCode": accounting_code,
                "terms": terms,
                "dueDate": day(due_date) if ledger else None,
                "subtotal": number(amount),
                "additionalCharges": number(additional_charges),
                "taxes": number(taxes),
                "total": number(amount + additional_charges + taxes),
                "paid": number(paid) if ledger else 0.0,
                "credited": number(credited) if ledger else 0.0,
                "openAmount": number(open_amount) if ledger else 0.0,
                "transactionFee": number(transaction_fee),
                "externalSystemSynced": flag(synced),
            }
        )
    return rows


# ---------------------------------------------------------------- payment.sync, credit.sync


class MoneySyncIn(Params):
    since: Since = 0


class PaymentChangeOut(Out):
    seq: int
    change: str
    paymentId: int
    controlNumber: int | None
    customerId: int | None
    date: date | None
    totalPayment: Number | None
    applied: Number | None
    status: str | None
    externalSystemSynced: int | None
    changedAt: datetime


class PaymentSyncOut(Envelope):
    maxSeq: int
    more: int
    changes: list[PaymentChangeOut]


def _feed(company, feed: str, model, since: int, row) -> dict:
    found = list(
        MoneyChange.objects.filter(company=company, feed=feed, seq__gt=since).order_by("seq")[
            :FEED_ROWS
        ]
    )
    by_id = model.objects.filter(company=company, pk__in={c.object_id for c in found}).in_bulk()
    return {
        "maxSeq": found[-1].seq if found else since,
        "more": int(len(found) == FEED_ROWS),
        "changes": [row(c, by_id.get(c.object_id)) for c in found],
    }


@api_method(
    "payment.sync",
    request=MoneySyncIn,
    response=PaymentSyncOut,
    tokens=[COMPANY, USER],
    area="money",
    read=True,
)
def payment_sync(call, p: MoneySyncIn):
    """What changed in payments after a sequence number (at most 1,000 changes).

    Changes: created, applied, voided, synced. Keep `maxSeq` and send it as `since` next."""

    def row(change, pay):
        return {
            "seq": change.seq,
            "change": change.kind,
            "paymentId": change.object_id,
            "controlNumber": pay.control_number if pay else None,
            "customerId": pay.customer_id if pay else None,
            "date": pay.date if pay else None,
            "totalPayment": pay.amount if pay else None,
            "applied": pay.applied if pay else None,
            "status": pay.get_status_display() if pay else None,
            "externalSystemSynced": flag(pay.synced) if pay else None,
            "changedAt": change.created_at,
        }

    return _feed(call.company, "payments", Payment, p.since, row)


class CreditChangeOut(Out):
    seq: int
    change: str
    creditId: int
    number: int | None
    customerId: int | None
    invoiceId: int | None
    date: date | None
    totalCredit: Number | None
    status: int | None
    externalSystemSynced: int | None
    changedAt: datetime


class CreditSyncOut(Envelope):
    maxSeq: int
    more: int
    changes: list[CreditChangeOut]


@api_method(
    "credit.sync",
    request=MoneySyncIn,
    response=CreditSyncOut,
    tokens=[COMPANY, USER],
    area="money",
    read=True,
)
def credit_sync(call, p: MoneySyncIn):
    """What changed in credits after a sequence number (at most 1,000 changes).

    Changes: created, submitted, approved, rejected, resubmitted, commented, applied, synced."""

    def row(change, c):
        return {
            "seq": change.seq,
            "change": change.kind,
            "creditId": change.object_id,
            "number": c.number if c else None,
            "customerId": c.customer_id if c else None,
            "invoiceId": c.invoice_id if c else None,
            "date": c.date if c else None,
            "totalCredit": c.amount if c else None,
            "status": c.status if c else None,
            "externalSystemSynced": flag(c.synced) if c else None,
            "changedAt": change.created_at,
        }

    return _feed(call.company, "credits", Credit, p.since, row)
