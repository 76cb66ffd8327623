"""API methods of invoices (reference §2.E): create and edit, checkout, void, the lists with
their lines, the accounting-sync marks, the PDF and the change feed."""

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from stemline.api.listing import listing
from stemline.api.registry import COMPANY, CUSTOMER, USER, api_method
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
    OptPage,
    OptRows,
    Out,
    Params,
    Rendered,
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
from stemline.hardgoods import queries as hard_goods_queries
from stemline.hardgoods.models import HardGoodSale

from . import invoicing, pdf, queries
from .models import DocumentStatus, Invoice

MAX_LINES_PER_CALL = 200
MAX_LIST_DAYS = 183  # "6 months"
MAX_DETAIL_DAYS = 4


def _unit_type(value):
    value = blank_to_none(value)
    return value.strip().capitalize() if isinstance(value, str) else value


def _id_list(value):
    value = blank_to_none(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


UnitTypeIn = Annotated[Literal["Stem", "Bunch"] | None, BeforeValidator(_unit_type)]
Boxes = Annotated[int, Field(ge=1, le=10_000)]
OptBoxes = Annotated[Boxes | None, BeforeValidator(blank_to_none)]
Price = Annotated[Money(10, 3), Field(ge=0)]


def _status(value):
    if value is not None and value not in (0, 1, 2, 4):
        raise ValueError("must be 0 (Pending Approval), 1 (Confirmed), 2 (Draft) or 4 (Voided)")
    return value


StatusIn = Annotated[int | None, BeforeValidator(blank_to_none), AfterValidator(_status)]
IdsIn = Annotated[Annotated[list[Id], Field(max_length=100)] | None, BeforeValidator(_id_list)]


# ---------------------------------------------------------------- rows


class InvoiceItemIn(Params):
    inventoryId: OptId = None
    orderItemId: OptId = None
    productCode: Str(20) | None = None
    boxTypeCode: Str(3) | None = None
    unitsPerBox: OptId = None
    unitType: UnitTypeIn = None
    boxes: Boxes
    price: Price
    markCode: Str(20) = ""
    productAlias: Str(50) = ""
    notes: Str(200) = ""


def _line(p, field: str) -> invoicing.LineRequest:
    if p.inventoryId is not None and p.orderItemId is not None and p.inventoryId != p.orderItemId:
        raise Invalid("inventoryId and orderItemId name different lines", field=field)
    return invoicing.LineRequest(
        boxes=p.boxes,
        price=p.price,
        inventory_id=p.inventoryId if p.inventoryId is not None else p.orderItemId,
        product_code=p.productCode,
        box_type_code=p.boxTypeCode,
        units_per_box=p.unitsPerBox,
        unit_type=p.unitType,
        mark_code=p.markCode,
        product_alias=p.productAlias,
        notes=p.notes,
        field=field,
    )


def _invoice_id(call, p) -> int:
    return queries.invoice_id(
        call.company,
        invoice_id=getattr(p, "invoiceId", None),
        number=getattr(p, "invoiceNumber", None),
        location_id=getattr(p, "locationId", None),
    )


# ---------------------------------------------------------------- invoice.create


class InvoiceCreateIn(Params):
    customerId: OptId = None
    customerCode: Str(10) | None = None
    customerDescription: Str(200) | None = None
    carrierId: OptId = None
    carrierCode: Str(10) | None = None
    carrierDescription: Str(200) | None = None
    shipDate: Day
    shipToId: OptId = None
    poNumber: Str(20) = ""
    reference: Str(20) = ""
    warehouseInstructions: Str(200) = ""
    invoiceNotes: Str(200) = ""
    returnAvailableBoxes: OptBool = None
    statusDraft: OptBool = None
    locationId: OptId = None
    locationCode: Str(10) | None = None
    invoiceItems: Annotated[list[InvoiceItemIn], Field(max_length=MAX_LINES_PER_CALL)] = []


class InvoiceItemOut(Out):
    invoiceItemId: int
    inventoryId: int | None
    boxes: int
    price: Number
    amount: Number
    availableBoxes: int | None = None


class InvoiceCreatedOut(Envelope):
    invoiceId: int
    invoiceNumber: int
    invoiceStatus: int
    amount: Number
    transactionFee: Number
    invoiceItems: list[InvoiceItemOut]


def _items_out(items, available: dict | None) -> list[dict]:
    return [
        {
            "invoiceItemId": i.pk,
            "inventoryId": i.line_id,
            "boxes": i.boxes,
            "price": i.price,
            "amount": i.amount,
            "availableBoxes": available.get(i.line_id) if available is not None else None,
        }
        for i in items
    ]


@api_method(
    "invoice.create",
    request=InvoiceCreateIn,
    response=InvoiceCreatedOut,
    tokens=[COMPANY, USER],
    area="sales",
    creates=True,
)
def invoice_create(call, p: InvoiceCreateIn):
    """Create an invoice (Pending Approval, or Draft with statusDraft) with its lines."""
    company = call.company
    if p.carrierId is not None and p.carrierCode:
        raise Invalid("send carrierId or carrierCode, not both", field="carrierCode")
    invoice, items = invoicing.create_invoice(
        company=company,
        customer=invoicing.customer_by(company, p.customerId, p.customerCode),
        location=invoicing.location_by(company, p.locationId, p.locationCode),
        carrier=invoicing.carrier_by(company, p.carrierId, p.carrierCode),
        ship_date=p.shipDate,
        ship_to_id=p.shipToId,
        customer_po=p.poNumber,
        reference=p.reference,
        warehouse_instructions=p.warehouseInstructions,
        invoice_notes=p.invoiceNotes,
        draft=bool(p.statusDraft),
        lines=[_line(item, f"invoiceItems[{n}]") for n, item in enumerate(p.invoiceItems)],
    )
    available = invoicing.available_boxes(items) if p.returnAvailableBoxes else None
    return {
        "message": "The invoice was successfully created.",
        "invoiceId": invoice.pk,
        "invoiceNumber": invoice.number,
        "invoiceStatus": invoice.status,
        "amount": invoice.amount,
        "transactionFee": invoice.transaction_fee,
        "invoiceItems": _items_out(items, available),
    }


# ---------------------------------------------------------------- invoice.update


class InvoiceUpdateIn(Params):
    invoiceId: Id
    carrierId: OptId = None
    carrierCode: Str(10) | None = None
    carrierDescription: Str(200) | None = None
    shipDate: OptDay = None
    poNumber: Str(20) | None = None
    reference: Str(20) | None = None
    warehouseInstructions: Str(200) | None = None
    invoiceNotes: Str(200) | None = None


class InvoiceRefOut(Envelope):
    invoiceId: int
    invoiceNumber: int


@api_method(
    "invoice.update",
    request=InvoiceUpdateIn,
    response=InvoiceRefOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_update(call, p: InvoiceUpdateIn):
    """Change an invoice's header (carrier, ship date, PO, reference, notes); lines stay."""
    if p.carrierId is not None and p.carrierCode:
        raise Invalid("send carrierId or carrierCode, not both", field="carrierCode")
    fields = {}
    carrier = invoicing.carrier_by(call.company, p.carrierId, p.carrierCode)
    if carrier is not None:
        fields["carrier"] = carrier
    for name, value in (
        ("ship_date", p.shipDate),
        ("customer_po", p.poNumber),
        ("reference", p.reference),
        ("warehouse_instructions", p.warehouseInstructions),
        ("invoice_notes", p.invoiceNotes),
    ):
        if value is not None:
            fields[name] = value
    invoice = invoicing.update_invoice(company=call.company, invoice_id=p.invoiceId, **fields)
    return {"message": "success", "invoiceId": invoice.pk, "invoiceNumber": invoice.number}


# ---------------------------------------------------------------- invoice.item.*


class InvoiceItemAddIn(InvoiceItemIn):
    invoiceId: Id
    returnAvailableBoxes: OptBool = None
    locationId: OptId = None


class InvoiceItemAddedOut(Envelope):
    invoiceId: int
    invoiceNumber: int
    invoiceItemId: int
    invoiceItemIds: list[int]
    availableBoxes: int | None = None
    transactionFee: Number


@api_method(
    "invoice.item.add",
    request=InvoiceItemAddIn,
    response=InvoiceItemAddedOut,
    tokens=[COMPANY, USER],
    area="sales",
    creates=True,
)
def invoice_item_add(call, p: InvoiceItemAddIn):
    """Add a line (an inventory line, or a product spec picked from on-hand lines)."""
    if (
        p.locationId is not None
        and not Invoice.objects.filter(
            company=call.company, pk=p.invoiceId, location_id=p.locationId
        ).exists()
    ):
        raise NotFound(f"invoice {p.invoiceId} is not at location {p.locationId}", "locationId")
    items = invoicing.add_item(
        company=call.company, invoice_id=p.invoiceId, line=_line(p, "orderItemId")
    )
    invoice = Invoice.objects.get(pk=p.invoiceId)
    available = None
    if p.returnAvailableBoxes:
        left = invoicing.available_boxes(items)
        available = sum(left.values())
    return {
        "message": "The item was successfully added.",
        "invoiceId": invoice.pk,
        "invoiceNumber": invoice.number,
        "invoiceItemId": items[0].pk,
        "invoiceItemIds": [i.pk for i in items],
        "availableBoxes": available,
        "transactionFee": invoice.transaction_fee,
    }


class InvoiceItemUpdateIn(Params):
    invoiceId: Id
    invoiceItemId: Id
    boxes: OptBoxes = None
    price: Price
    markCode: Str(20) | None = None
    productAlias: Str(50) | None = None
    notes: Str(200) | None = None
    returnAvailableBoxes: OptBool = None


class InvoiceItemChangedOut(Envelope):
    invoiceId: int
    invoiceNumber: int
    invoiceItemId: int
    availableBoxes: int | None = None


@api_method(
    "invoice.item.update",
    request=InvoiceItemUpdateIn,
    response=InvoiceItemChangedOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_item_update(call, p: InvoiceItemUpdateIn):
    """Change a line's boxes (drawn from or given back to its inventory line), price, notes."""
    item = invoicing.update_item(
        company=call.company,
        invoice_id=p.invoiceId,
        item_id=p.invoiceItemId,
        boxes=p.boxes,
        price=p.price,
        mark_code=p.markCode,
        product_alias=p.productAlias,
        notes=p.notes,
    )
    invoice = Invoice.objects.get(pk=p.invoiceId)
    available = invoicing.available_boxes([item]).get(item.line_id)
    return {
        "message": "The item was successfully updated",
        "invoiceId": invoice.pk,
        "invoiceNumber": invoice.number,
        "invoiceItemId": item.pk,
        "availableBoxes": available if p.returnAvailableBoxes else None,
    }


class InvoiceItemDeleteIn(Params):
    invoiceId: Id
    invoiceItemId: Id
    returnAvailableBoxes: OptBool = None


class InvoiceItemDeletedOut(Envelope):
    invoiceId: int
    invoiceNumber: int
    invoiceItemId: int
    availableBoxes: int | None = None


@api_method(
    "invoice.item.delete",
    request=InvoiceItemDeleteIn,
    response=InvoiceItemDeletedOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_item_delete(call, p: InvoiceItemDeleteIn):
    """Remove a line; its boxes are available again at once."""
    item = invoicing.delete_item(
        company=call.company, invoice_id=p.invoiceId, item_id=p.invoiceItemId
    )
    invoice = Invoice.objects.get(pk=p.invoiceId)
    available = invoicing.available_boxes([item]).get(item.line_id)
    return {
        "message": "The item was successfully deleted.",
        "invoiceId": invoice.pk,
        "invoiceNumber": invoice.number,
        "invoiceItemId": p.invoiceItemId,
        "availableBoxes": available if p.returnAvailableBoxes else None,
    }


# ---------------------------------------------------------------- status changes


class InvoiceByNumberIn(Params):
    invoiceNumber: Str(20) | None = None
    invoiceId: OptId = None
    locationId: OptId = None


class InvoiceStatusOut(InvoiceRefOut):
    invoiceStatus: int


def _status_answer(message: str, invoice: Invoice) -> dict:
    return {
        "message": message,
        "invoiceId": invoice.pk,
        "invoiceNumber": invoice.number,
        "invoiceStatus": invoice.status,
    }


@api_method(
    "invoice.checkout",
    request=InvoiceByNumberIn,
    response=InvoiceStatusOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_checkout(call, p: InvoiceByNumberIn):
    """Move a Draft invoice to Pending Approval (by invoiceNumber, no prefix)."""
    invoice = invoicing.checkout(company=call.company, invoice_id=_invoice_id(call, p))
    return _status_answer("The invoice was successfully checked out.", invoice)


class InvoiceVoidIn(InvoiceByNumberIn):
    reason: Required(300)


@api_method(
    "invoice.void",
    request=InvoiceVoidIn,
    response=InvoiceStatusOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_void(call, p: InvoiceVoidIn):
    """Void an invoice, with a reason; its boxes are available again."""
    invoice = invoicing.void(company=call.company, invoice_id=_invoice_id(call, p), reason=p.reason)
    return _status_answer("The invoice was successfully voided.", invoice)


class MarkSyncOkIn(Params):
    invoiceId: Id
    invoiceNumber: Str(20) | None = None


class MarkSyncErrorIn(Params):
    invoiceId: Id
    message: Required(50)
    unconfirm: OptBool = None


def _check_number(invoice: Invoice, number: str | None) -> None:
    if number and queries.document_number(number, "invoiceNumber") != invoice.number:
        raise Invalid(f"invoice {invoice.pk} is number {invoice.number}", field="invoiceNumber")


@api_method(
    "invoice.mark.sync.status.ok",
    request=MarkSyncOkIn,
    response=InvoiceStatusOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_mark_sync_ok(call, p: MarkSyncOkIn):
    """Flag an invoice as synchronized with the external system: locked for everyone."""
    invoice = invoicing.mark_synced(company=call.company, invoice_id=p.invoiceId)
    _check_number(invoice, p.invoiceNumber)
    return _status_answer("OK", invoice)


@api_method(
    "invoice.mark.sync.status.error",
    request=MarkSyncErrorIn,
    response=InvoiceStatusOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def invoice_mark_sync_error(call, p: MarkSyncErrorIn):
    """Flag an invoice as not synchronized (unlocks it); unconfirm (default 1) un-confirms it."""
    invoice = invoicing.mark_sync_error(
        company=call.company,
        invoice_id=p.invoiceId,
        message=p.message,
        unconfirm=True if p.unconfirm is None else p.unconfirm,
    )
    return _status_answer("OK", invoice)


# ---------------------------------------------------------------- lists


class InvoiceListIn(Params):
    orderDateFrom: OptDay = None
    orderDateTo: OptDay = None
    status: StatusIn = None
    customer: Str(50) | None = None
    customerId: OptId = None
    locationId: OptId = None
    locationIds: IdsIn = None
    carrierName: Str(50) | None = None
    carrierId: OptId = None
    product: Str(50) | None = None
    order: Str(20) | None = None
    orderId: OptId = None
    isEcommerce: OptBool = None
    updatedAsOf: OptDateTime = None
    excludeTransfer: OptBool = None
    externalSystemSynced: OptBool = None
    page: OptPage = None
    rows: OptRows = None


class InvoiceHeaderOut(Out):
    id: int
    number: int
    shipDate: date | None
    createdOn: datetime
    updatedOn: datetime
    status: int
    statusName: str
    customerId: int
    customerName: str
    customerCode: str
    customerPONumber: str
    isEcommerce: int
    salesPersonId: int | None
    salesPersonName: str
    carrierId: int | None
    carrierName: str
    locationId: int
    locationName: str
    shipToId: int | None
    shipName: str
    shipAddress: str
    shipCity: str
    shipState: str
    shipZipCode: str
    shipCountry: str
    billAddress: str
    billCity: str
    billState: str
    billZipCode: str
    billCountry: str
    subtotal: Number
    additionalCharges: Number
    taxes: Number
    total: Number
    totalBoxes: int
    transactionFee: Number
    orderRef: str
    reference: str
    warehouseInstructions: str
    invoiceNotes: str
    externalSystemSynced: int
    syncMessage: str
    voidReason: str
    boxLabelsPrintedOn: datetime | None
    bolPrintedOn: datetime | None
    proofOfDeliveryReceivedOn: datetime | None


class Paged(Envelope):
    # Only in a paged answer (`page`/`rows` sent).
    total: int | None = None
    page: int | None = None
    rows: int | None = None


class InvoiceListOut(Paged):
    invoices: list[InvoiceHeaderOut]


def _window(p, *, single: date | None, days: int, required: str) -> tuple:
    """The ship-date window: one day, or From/To at most `days` apart; an order number or
    ID makes it optional."""
    if p.order or p.orderId:
        return None, None
    start, end = p.orderDateFrom, p.orderDateTo
    if single is not None:
        if start or end:
            raise Invalid("send orderDate or orderDateFrom/orderDateTo, not both", "orderDate")
        return single, single
    if start is None or end is None:
        raise Invalid(f"required (or {required}, order or orderId)", field="orderDateFrom")
    if end < start:
        raise Invalid("must not be before orderDateFrom", field="orderDateTo")
    if end - start > timedelta(days=days):
        raise Invalid(f"at most {days} days after orderDateFrom", field="orderDateTo")
    return start, end


def _filtered(call, p, start, end):
    customer_id = call.own_customer(p.customerId)
    location_ids = list(p.locationIds or [])
    if p.locationId is not None:
        location_ids.append(p.locationId)
    return queries.invoices(
        call.company,
        customer_id=customer_id,
        customer=p.customer,
        carrier_id=p.carrierId,
        carrier_name=p.carrierName,
        product=p.product,
        number=queries.document_number(p.order, "order") if p.order else None,
        invoice_id=p.orderId,
        status=p.status,
        location_ids=location_ids,
        date_from=start,
        date_to=end,
        updated_since=p.updatedAsOf,
        synced=p.externalSystemSynced,
        is_ecommerce=p.isEcommerce,
    )


# The labels, read once: Django's get_status_display() hashes the choices on every call, which
# costs more than the rest of a header in a list of thousands.
STATUS_NAMES = dict(DocumentStatus.choices)


def _header(row: tuple, boxes: int) -> dict:
    """A header of invoice.list / invoice.details.list from queries.HEADER_VALUES."""
    (
        pk,
        number_,
        ship_date,
        created_at,
        updated_at,
        status,
        customer_id,
        customer_name,
        customer_code,
        customer_po,
        web_order_id,
        person_id,
        person_first,
        person_last,
        person_email,
        carrier_id,
        carrier_name,
        location_id,
        location_name,
        ship_to_id,
        ship_name,
        ship_address,
        ship_city,
        ship_state,
        ship_zipcode,
        ship_country,
        bill_address,
        bill_city,
        bill_state,
        bill_zipcode,
        bill_country,
        amount,
        additional_charges,
        taxes,
        transaction_fee,
        reference,
        warehouse_instructions,
        invoice_notes,
        synced,
        sync_error,
        void_reason,
        labels_printed_at,
        bol_printed_at,
        pod_received_at,
    ) = row
    ship_to = ship_to_id is not None
    return {
        "id": pk,
        "number": number_,
        "shipDate": day(ship_date),
        "createdOn": stamp(created_at),
        "updatedOn": stamp(updated_at),
        "status": status,
        "statusName": STATUS_NAMES[status],
        "customerId": customer_id,
        "customerName": customer_name,
        "customerCode": customer_code,
        "customerPONumber": customer_po,
        "isEcommerce": flag(web_order_id is not None),
        "salesPersonId": person_id,
        "salesPersonName": (f"{person_first} {person_last}".strip() or person_email)
        if person_id is not None
        else "",
        "carrierId": carrier_id,
        "carrierName": carrier_name or "",
        "locationId": location_id,
        "locationName": location_name,
        "shipToId": ship_to_id,
        "shipName": ship_name if ship_to else customer_name,
        "shipAddress": ship_address if ship_to else bill_address,
        "shipCity": ship_city if ship_to else bill_city,
        "shipState": ship_state if ship_to else bill_state,
        "shipZipCode": ship_zipcode if ship_to else bill_zipcode,
        "shipCountry": ship_country if ship_to else bill_country,
        "billAddress": bill_address,
        "billCity": bill_city,
        "billState": bill_state,
        "billZipCode": bill_zipcode,
        "billCountry": bill_country,
        "subtotal": number(amount),
        # Fuel surcharge and the customer's other charges; the tax apart, as the reference
        # has it (total = subtotal + additionalCharges + taxes).
        "additionalCharges": number(additional_charges),
        "taxes": number(taxes),
        "total": number(amount + additional_charges + taxes),
        "totalBoxes": boxes,
        "transactionFee": number(transaction_fee),
        "orderRef": reference,
        "reference": reference,
        "warehouseInstructions": warehouse_instructions,
        "invoiceNotes": invoice_notes,
        "externalSystemSynced": flag(synced),
        "syncMessage": sync_error,
        "voidReason": void_reason,
        "boxLabelsPrintedOn": stamp(labels_printed_at),
        "bolPrintedOn": stamp(bol_printed_at),
        "proofOfDeliveryReceivedOn": stamp(pod_received_at),
    }


# An unpaged answer longer than this is streamed: written a chunk at a time while it is sent.
STREAM_FROM = 1000


def _listing(p, qs, key: str, chunk_rows, empty: str) -> Rendered:
    """A long list's answer (api.listing): the ids in the list's order (one page, or all), then
    the rows a chunk of documents at a time (`chunk_rows(ids)`), never the whole list as
    models."""
    return listing(
        p,
        qs,
        order=queries.LIST_ORDER,
        key=key,
        rows=chunk_rows,
        empty=empty,
        stream_from=STREAM_FROM,
    )


@api_method(
    "invoice.list",
    request=InvoiceListIn,
    response=InvoiceListOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    read=True,
)
def invoice_list(call, p: InvoiceListIn):
    """Invoice headers in a ship-date window (at most 6 months), or one by order/orderId.

    `subtotal` is the lines' amount; `additionalCharges` the fuel surcharge and the
    customer's other automatic charges; `taxes` the tax of customers with chargeTax (a
    percentage of the lines); `total` = subtotal + additionalCharges + taxes, each rounded to
    cents half up. An invoice's charges are worked out from the customer's settings when its
    lines are made or changed and when it is confirmed; a confirmed invoice keeps them. An
    invoice without lines carries none. The transaction fee is the company's, not in the
    total.

    Paging: send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent)
    for one page in the list's order, with `total` (how many match), `page` and `rows` in
    the answer; without them the whole list comes, as before."""
    start, end = _window(p, single=None, days=MAX_LIST_DAYS, required="orderDateTo")

    def headers(ids):
        counts = queries.box_counts(ids)
        return [_header(row, counts.get(row[0]) or 0) for row in queries.header_values(ids)]

    return _listing(p, _filtered(call, p, start, end), "invoices", headers, "Orders not found.")


class InvoiceDetailsIn(InvoiceListIn):
    orderDate: OptDay = None
    includeMappingK2k: OptBool = None


class DetailOut(Out):
    detailId: int
    inventoryId: int | None
    awb: str
    productId: int
    productDescription: str
    productAlias: str
    boxTypeId: int
    boxType: str
    unitType: str
    stemsBunch: int | None
    bunchesBox: int | None
    units: int
    totalUnits: int
    totalBoxes: int
    unitsInventory: bool = False
    unitPrice: Number
    amount: Number
    growerId: int | None
    growerName: str
    salesType: str
    ref: str
    notes: str
    markCode: str
    brandId: int | None
    brandName: str


class BoxOut(Out):
    detailId: int
    boxNumber: int
    productId: int
    boxType: str
    units: int


class BreakdownOut(Out):
    detailId: int
    productId: int
    productDescription: str
    stemsBunch: int
    bunches: int
    price: Number


class ChargeOut(Out):
    additionalChargeId: int | None
    code: str
    description: str
    amountType: str
    amountValue: Number
    isTax: int
    amount: Number


class HardGoodDetailOut(Out):
    hardGoodItemId: int
    productId: int
    sku: str
    productDescription: str
    quantity: int
    unitPrice: Number
    amount: Number


class InvoiceDetailOut(InvoiceHeaderOut):
    details: list[DetailOut]
    boxes: list[BoxOut]
    breakdowns: list[BreakdownOut]
    additionalChargesDetails: list[ChargeOut]
    # Stemline's own: the hard goods sold on the invoice (in its amount, beside the boxes).
    hardGoodItems: list[HardGoodDetailOut]


class InvoiceDetailsOut(Paged):
    invoices: list[InvoiceDetailOut]


def _detail(row: tuple) -> dict:
    """A line of invoice.details.list from queries.ITEM_VALUES."""
    (
        _invoice,
        pk,
        line_id,
        awb,
        product_id,
        description,
        alias,
        box_type_id,
        box_type,
        unit_type,
        stems_bunch,
        bunches,
        units,
        boxes,
        price,
        vendor_id,
        vendor_name,
        line_reference,
        notes,
        mark_code,
        in_units,
    ) = row
    line = line_id is not None
    return {
        "detailId": pk,
        "inventoryId": line_id,
        "awb": awb if line else "",
        "productId": product_id,
        "productDescription": description,
        "productAlias": alias,
        "boxTypeId": box_type_id,
        "boxType": box_type,
        "unitType": unit_type,
        "stemsBunch": stems_bunch,
        "bunchesBox": bunches,
        "units": units,
        "totalUnits": boxes * units,
        # A line of units (opened boxes): its quantity counts units of unitType, no boxes.
        "totalBoxes": 0 if in_units else boxes,
        "unitsInventory": bool(in_units),
        "unitPrice": number(price),
        "amount": number(boxes * units * price),
        "growerId": vendor_id,
        "growerName": vendor_name or "",
        "salesType": "OM",
        "ref": line_reference if line else "",
        "notes": notes,
        "markCode": mark_code,
        "brandId": None,
        "brandName": "",
    }


def _hard_good(row: tuple) -> dict:
    """A hard-goods line of invoice.details.list from hardgoods.queries.SALE_VALUES."""
    _invoice, pk, product_id, sku, description, quantity, unit_price, amount = row
    return {
        "hardGoodItemId": pk,
        "productId": product_id,
        "sku": sku,
        "productDescription": description,
        "quantity": quantity,
        "unitPrice": number(unit_price),
        "amount": number(amount),
    }


def _detailed(header: tuple, items: list[tuple], charges: list[tuple], hard_goods) -> dict:
    details, boxes, count = [], [], 0
    for item in items:
        details.append(_detail(item))
        if item[20]:
            continue  # units go in the boxes of other lines
        detail_id, product_id, box_type, units = item[1], item[4], item[8], item[12]
        for _ in range(item[13]):
            count += 1
            boxes.append(
                {
                    "detailId": detail_id,
                    "boxNumber": count,
                    "productId": product_id,
                    "boxType": box_type,
                    "units": units,
                }
            )
    row = _header(header, count)
    row.update(
        details=details,
        boxes=boxes,
        breakdowns=[],
        additionalChargesDetails=[
            {
                "additionalChargeId": charge_id,
                "code": code,
                "description": name,
                "amountType": amount_type,
                "amountValue": number(value),
                "isTax": flag(purpose == "tax"),
                "amount": number(amount),
            }
            for _invoice, charge_id, code, name, amount_type, value, purpose, amount in charges
        ],
        hardGoodItems=[_hard_good(sale) for sale in hard_goods],
    )
    return row


@api_method(
    "invoice.details.list",
    request=InvoiceDetailsIn,
    response=InvoiceDetailsOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    read=True,
)
def invoice_details_list(call, p: InvoiceDetailsIn):
    """Invoices of a ship date (or a window of at most 4 days) with lines, boxes, breakdowns.

    Totals as invoice.list's. `additionalChargesDetails` lists each charge of the invoice:
    its `code`, `description`, `amountType` (`%` of the lines or `$` per invoice),
    `amountValue` (the rate or amount applied), `isTax` and `amount`. `hardGoodItems` (Stemline's
    own) lists the hard goods sold on the invoice: `hardGoodItemId`, `productId`, `sku`,
    `productDescription`, `quantity` (units), `unitPrice` and `amount`, counted in its total.

    No limit on boxes: a long answer is streamed as it is read. Paging:
    send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent)
    for one page in the list's order, with `total` (how many match), `page` and `rows` in
    the answer; without them the whole list comes, as before."""
    start, end = _window(p, single=p.orderDate, days=MAX_DETAIL_DAYS, required="orderDate")

    def detailed(ids):
        items, charges = queries.item_values(ids), queries.charge_values(ids)
        sold = hard_goods_queries.sale_values(call.company.pk, HardGoodSale.Document.INVOICE, ids)
        return [
            _detailed(h, items[h[0]], charges[h[0]], sold[h[0]]) for h in queries.header_values(ids)
        ]

    return _listing(p, _filtered(call, p, start, end), "invoices", detailed, "Orders not found.")


# ---------------------------------------------------------------- invoice.pdf.get


class InvoicePdfIn(Params):
    invoiceId: Id
    enableDistributeAdditionalCharges: OptBool = None
    addAdditionalChargesInUnitPrice: OptBool = None


class InvoicePdfOut(Envelope):
    suggestedFileName: str
    file: str


@api_method(
    "invoice.pdf.get",
    request=InvoicePdfIn,
    response=InvoicePdfOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    read=True,
)
def invoice_pdf_get(call, p: InvoicePdfIn):
    """The invoice as a PDF, in `file` as comma-separated signed bytes (the reference's form)."""
    qs = queries.invoices(call.company, invoice_id=p.invoiceId)
    if call.is_customer:
        qs = qs.filter(customer_id=call.customer_id)
    found = queries.invoice_details(qs)
    if not found:
        raise NotFound(f"invoice {p.invoiceId} does not exist", field="invoiceId")
    invoice = found[0]
    data = pdf.render(invoice, invoice.lines)
    return {
        "message": "The invoice was successfully generated",
        "suggestedFileName": pdf.file_name(invoice),
        "file": pdf.as_byte_string(data),
    }


# ---------------------------------------------------------------- invoice.sync


class DocumentSyncIn(Params):
    since: Since = 0


class InvoiceChangeOut(Out):
    seq: int
    change: str
    invoiceId: int
    invoiceNumber: int | None
    status: int | None
    customerId: int | None
    shipDate: date | None
    total: Number | None
    externalSystemSynced: int | None
    changedAt: datetime


class InvoiceSyncOut(Envelope):
    maxSeq: int
    more: int
    changes: list[InvoiceChangeOut]


@api_method(
    "invoice.sync",
    request=DocumentSyncIn,
    response=InvoiceSyncOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    read=True,
)
def invoice_sync(call, p: DocumentSyncIn):
    """What changed in invoices after a sequence number (at most 1,000 changes)."""

    def row(change, invoice):
        return {
            "seq": change.seq,
            "change": change.kind,
            "invoiceId": change.document_id,
            "invoiceNumber": invoice.number if invoice else None,
            "status": invoice.status if invoice else None,
            "customerId": invoice.customer_id if invoice else None,
            "shipDate": invoice.ship_date if invoice else None,
            "total": invoice.total if invoice else None,
            "externalSystemSynced": flag(invoice.synced) if invoice else None,
            "changedAt": change.created_at,
        }

    customer_id = call.customer_id if call.is_customer else None
    return queries.document_feed(call.company, "invoices", Invoice, p.since, row, customer_id)
