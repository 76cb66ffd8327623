"""API methods of prebooks (reference §2.F): create, update, delete, line delete (Vendor-token
rules), lines from future inventory, the lists with lines and breakdowns, and the feed."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from stemline.api.listing import Paged, listing
from stemline.api.registry import COMPANY, CUSTOMER, USER, VENDOR, api_method
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
    Str,
    blank_to_none,
    day,
    flag,
    number,
    stamp,
)
from stemline.core.errors import Invalid

from . import invoicing, prebooking, queries
from .api_invoices import DocumentSyncIn, _unit_type
from .models import Prebook

MAX_LINES_PER_CALL = 200
MAX_LIST_DAYS = 183
MAX_VENDOR_SHIP_DAYS = 7
# An unpaged prebook.list / prebook.details.list longer than this is streamed.
STREAM_FROM = 1000

Boxes = Annotated[int, Field(ge=1, le=10_000)]
PerBox = Annotated[int, Field(ge=1, le=100_000)]
OptPerBox = Annotated[PerBox | None, BeforeValidator(blank_to_none)]
Price = Annotated[Money(10, 3), Field(ge=0)]
OptPrice = Annotated[Price | None, BeforeValidator(blank_to_none)]
UnitTypeIn = Annotated[Literal["Stem", "Bunch"], BeforeValidator(_unit_type)]
ShipVia = Annotated[Annotated[int, Field(ge=0, le=1)] | None, BeforeValidator(blank_to_none)]


class BreakdownIn(Params):
    productId: Id
    stemsBunch: PerBox
    bunches: PerBox
    price: Price = Decimal("0")


class PrebookItemIn(Params):
    prebookItemId: OptId = None
    vendorId: OptId = None
    vendorCode: Str(20) | None = None
    vendorName: Str(200) | None = None
    productId: OptId = None
    productCode: Str(20) | None = None
    boxTypeId: OptId = None
    boxTypeCode: Str(3) | None = None
    unitType: UnitTypeIn = "Stem"
    boxes: Boxes
    bunches: OptPerBox = None
    stemsBunch: OptPerBox = None
    cost: OptPrice = None
    price: Price = Decimal("0")
    markCode: Str(20) = ""
    notes: Str(200) = ""
    breakdowns: Annotated[list[BreakdownIn], Field(max_length=50)] = []


def _items(call, items: list[PrebookItemIn]) -> list[prebooking.ItemRequest]:
    out = []
    for n, p in enumerate(items):
        vendor_id = p.vendorId
        if vendor_id is None and p.vendorCode and not call.is_vendor:
            from stemline.parties.models import Vendor

            found = Vendor.objects.filter(company=call.company, code__iexact=p.vendorCode).first()
            if found is None:
                raise Invalid(
                    f"vendor {p.vendorCode!r} does not exist", field=f"prebookItems[{n}].vendorCode"
                )
            vendor_id = found.pk
        out.append(
            prebooking.ItemRequest(
                boxes=p.boxes,
                product_id=p.productId,
                product_code=p.productCode,
                box_type_id=p.boxTypeId,
                box_type_code=p.boxTypeCode,
                unit_type=p.unitType,
                bunches=p.bunches,
                stems_bunch=p.stemsBunch,
                vendor_id=vendor_id,
                cost=p.cost,
                price=p.price,
                mark_code=p.markCode,
                notes=p.notes,
                item_id=p.prebookItemId,
                parts=[
                    prebooking.PartRequest(b.productId, b.stemsBunch, b.bunches, b.price)
                    for b in p.breakdowns
                ],
                field=f"prebookItems[{n}]",
            )
        )
    return out


class PrebookCreateIn(Params):
    customerId: OptId = None
    customerCode: Str(10) | None = None
    customerDescription: Str(200) | None = None
    carrierId: OptId = None
    carrierCode: Str(10) | None = None
    carrierDescription: Str(200) | None = None
    shipDate: Day
    createdBy: OptId = None
    shipViaId: ShipVia = None
    customerPO: Str(20) = ""
    isEcommerce: OptBool = None
    useExisting: OptBool = None
    comments: Str(200) = ""
    shipToId: OptId = None
    locationId: OptId = None
    locationCode: Str(10) | None = None
    prebookItems: Annotated[list[PrebookItemIn], Field(max_length=MAX_LINES_PER_CALL)] = []


class PrebookItemRefOut(Out):
    prebookItemId: int
    boxes: int


class PrebookCreatedOut(Envelope):
    prebookId: int
    prebookNumber: int
    transactionFee: Number
    prebookItems: list[PrebookItemRefOut]


@api_method(
    "prebook.create",
    request=PrebookCreateIn,
    response=PrebookCreatedOut,
    tokens=[COMPANY, VENDOR, USER],
    area="sales",
    creates=True,
)
def prebook_create(call, p: PrebookCreateIn):
    """Create a prebook: header, lines, and breakdowns of assorted boxes (useExisting appends)."""
    company = call.company
    if p.carrierId is not None and p.carrierCode:
        raise Invalid("send carrierId or carrierCode, not both", field="carrierCode")
    created_by = None
    if p.createdBy is not None:
        from stemline.core.models import User

        created_by = User.objects.filter(company=company, pk=p.createdBy).first()
        if created_by is None:
            raise Invalid(f"user {p.createdBy} does not exist", field="createdBy")
    prebook, items, _ = prebooking.create_prebook(
        company=company,
        customer=invoicing.customer_by(company, p.customerId, p.customerCode),
        location=invoicing.location_by(company, p.locationId, p.locationCode),
        carrier=invoicing.carrier_by(company, p.carrierId, p.carrierCode),
        ship_date=p.shipDate,
        ship_to_id=p.shipToId,
        customer_po=p.customerPO,
        comments=p.comments,
        ship_via=p.shipViaId or 0,
        is_ecommerce=bool(p.isEcommerce),
        use_existing=bool(p.useExisting),
        token_vendor_id=call.vendor_id if call.is_vendor else None,
        created_by=created_by,
        items=_items(call, p.prebookItems),
    )
    return {
        "message": "The prebook was successfully created.",
        "prebookId": prebook.pk,
        "prebookNumber": prebook.number,
        "transactionFee": prebook.transaction_fee,
        "prebookItems": [{"prebookItemId": i.pk, "boxes": i.boxes} for i in items],
    }


class PrebookUpdateIn(Params):
    prebookId: Id
    carrierId: OptId = None
    shipDate: OptDay = None
    shipViaId: ShipVia = None
    customerPO: Str(20) | None = None
    comments: Str(200) | None = None
    prebookItems: Annotated[list[PrebookItemIn], Field(max_length=MAX_LINES_PER_CALL)] = []


@api_method(
    "prebook.update",
    request=PrebookUpdateIn,
    response=PrebookCreatedOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def prebook_update(call, p: PrebookUpdateIn):
    """Edit a prebook's header; given prebookItems, add lines or update them by prebookItemId."""
    fields = {}
    if p.carrierId is not None:
        fields["carrier"] = invoicing.carrier_by(call.company, p.carrierId, None)
    for name, value in (
        ("ship_date", p.shipDate),
        ("ship_via", p.shipViaId),
        ("customer_po", p.customerPO),
        ("comments", p.comments),
    ):
        if value is not None:
            fields[name] = value
    prebook, items = prebooking.update_prebook(
        company=call.company,
        prebook_id=p.prebookId,
        items=_items(call, p.prebookItems),
        **fields,
    )
    return {
        "message": "success",
        "prebookId": prebook.pk,
        "prebookNumber": prebook.number,
        "transactionFee": prebook.transaction_fee,
        "prebookItems": [{"prebookItemId": i.pk, "boxes": i.boxes} for i in items],
    }


class PrebookDeleteIn(Params):
    prebookId: Id


class PrebookRefOut(Envelope):
    prebookId: int


@api_method(
    "prebook.delete",
    request=PrebookDeleteIn,
    response=PrebookRefOut,
    tokens=[COMPANY, USER],
    area="sales",
)
def prebook_delete(call, p: PrebookDeleteIn):
    """Delete a whole prebook; boxes drawn from future inventory are available again."""
    prebooking.delete_prebook(company=call.company, prebook_id=p.prebookId)
    return {"message": "The prebook was successfully deleted ", "prebookId": p.prebookId}


class PrebookItemDeleteIn(Params):
    prebookId: Id
    prebookItemId: Id


class PrebookItemDeletedOut(Envelope):
    prebookId: int
    prebookItemId: int
    kept: int


@api_method(
    "prebook.item.delete",
    request=PrebookItemDeleteIn,
    response=PrebookItemDeletedOut,
    tokens=[COMPANY, VENDOR, USER],
    area="sales",
)
def prebook_item_delete(call, p: PrebookItemDeleteIn):
    """Remove a prebook line; with a Vendor token (own lines only) it is kept with 0 boxes."""
    kept = prebooking.delete_item(
        company=call.company,
        prebook_id=p.prebookId,
        item_id=p.prebookItemId,
        token_vendor_id=call.vendor_id if call.is_vendor else None,
    )
    return {
        "message": "The item was successfully deleted.",
        "prebookId": p.prebookId,
        "prebookItemId": p.prebookItemId,
        "kept": flag(kept is not None),
    }


class FutureItemAddIn(Params):
    prebookId: Id
    inventoryId: Id
    boxes: Boxes
    price: Price
    markCode: Str(20) = ""


class FutureItemAddedOut(Envelope):
    prebookId: int
    prebookItemId: int
    transactionFee: Number


@api_method(
    "prebook.future.item.add",
    request=FutureItemAddIn,
    response=FutureItemAddedOut,
    tokens=[COMPANY, USER],
    area="sales",
    creates=True,
)
def prebook_future_item_add(call, p: FutureItemAddIn):
    """Add a line drawn from future inventory (its id from future.inventory.openmarket.list)."""
    item = prebooking.add_future_item(
        company=call.company,
        prebook_id=p.prebookId,
        inventory_id=p.inventoryId,
        boxes=p.boxes,
        price=p.price,
        mark_code=p.markCode,
    )
    prebook = Prebook.objects.get(pk=p.prebookId)
    return {
        "message": "The item was successfully added.",
        "prebookId": prebook.pk,
        "prebookItemId": item.pk,
        "transactionFee": prebook.transaction_fee,
    }


# ---------------------------------------------------------------- lists


class PrebookListIn(Params):
    dateFrom: OptDay = None
    dateTo: OptDay = None
    prebook: Str(20) | None = None
    customer: Str(50) | None = None
    customerId: OptId = None
    carrierName: Str(50) | None = None
    carrierId: OptId = None
    salesPersonId: OptId = None
    soNumber: Annotated[int | None, BeforeValidator(blank_to_none)] = None
    customerPONumber: Str(20) | None = None
    CompanyLocationId: OptId = None
    brandId: OptId = None
    prebookStatus: Str(50) | None = None
    isEcommerce: OptBool = None
    checkOutStatus: ShipVia = None
    page: OptPage = None
    rows: OptRows = None


class PrebookHeaderOut(Out):
    id: int
    number: int
    type: str
    locationId: int
    locationCode: str
    locationName: str
    customerId: int
    customerName: str
    customerCode: str
    truckDate: date | None
    customerPONumber: str
    carrierId: int | None
    carrierName: str
    shipvia: int
    comments: str
    status: int
    checkOutStatus: int
    isEcommerce: int
    standingOrderNumber: int | None
    totalBoxes: int
    total: Number
    transactionFee: Number
    createdOn: datetime
    updatedOn: datetime
    # Why the company voided or rejected it (empty otherwise), as invoice.list's voidReason.
    voidReason: str


class PrebookListOut(Paged):
    prebooks: list[PrebookHeaderOut]


def _window(start, end, days, field_from, field_to, *, required: bool):
    if start is None or end is None:
        if required:
            raise Invalid("required", field=field_from if start is None else field_to)
        return
    if end < start:
        raise Invalid(f"must not be before {field_from}", field=field_to)
    if end - start > timedelta(days=days):
        raise Invalid(f"at most {days} days after {field_from}", field=field_to)


def _header(row: tuple, boxes: int) -> dict:
    """A header of prebook.list / prebook.details.list from queries.PREBOOK_VALUES."""
    (
        pk,
        number_,
        kind,
        location_id,
        location_code,
        location_name,
        customer_id,
        customer_name,
        customer_code,
        ship_date,
        customer_po,
        carrier_id,
        carrier_name,
        ship_via,
        comments,
        status,
        web_order_id,
        is_ecommerce,
        standing_order_number,
        amount,
        transaction_fee,
        created_at,
        updated_at,
        void_reason,
    ) = row
    return {
        "id": pk,
        "number": number_,
        "type": kind,
        "locationId": location_id,
        "locationCode": location_code,
        "locationName": location_name,
        "customerId": customer_id,
        "customerName": customer_name,
        "customerCode": customer_code,
        "truckDate": day(ship_date),
        "customerPONumber": customer_po,
        "carrierId": carrier_id,
        "carrierName": carrier_name or "",
        "shipvia": ship_via,
        "comments": comments,
        "status": status,
        "checkOutStatus": flag(web_order_id is not None),
        "isEcommerce": flag(is_ecommerce or web_order_id is not None),
        "standingOrderNumber": standing_order_number,
        "totalBoxes": boxes,
        "total": number(amount),
        "transactionFee": number(transaction_fee),
        "createdOn": stamp(created_at),
        "updatedOn": stamp(updated_at),
        "voidReason": void_reason,
    }


def _prebooks(call, p, start, end, **extra):
    customer_id = call.own_customer(p.customerId)
    return queries.prebooks(
        call.company,
        customer_id=customer_id,
        customer=p.customer,
        carrier_id=p.carrierId,
        carrier_name=p.carrierName,
        number=queries.document_number(p.prebook, "prebook") if p.prebook else None,
        date_from=start,
        date_to=end,
        sales_person_id=p.salesPersonId,
        so_number=p.soNumber,
        customer_po=p.customerPONumber,
        **extra,
    )


@api_method(
    "prebook.list",
    request=PrebookListIn,
    response=PrebookListOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    read=True,
)
def prebook_list(call, p: PrebookListIn):
    """Prebook headers in a truck-date window (at most 6 months), or one by number.

    In truck-date order (then number, then id). A long answer is streamed as it is read.
    Paging: send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent)
    for one page in the list's order, with `total` (how many match), `page` and `rows` in
    the answer; without them the whole list comes, as before."""
    _window(p.dateFrom, p.dateTo, MAX_LIST_DAYS, "dateFrom", "dateTo", required=not p.prebook)
    qs = _prebooks(
        call,
        p,
        p.dateFrom,
        p.dateTo,
        location_id=p.CompanyLocationId,
        is_ecommerce=p.isEcommerce,
    )
    if p.checkOutStatus is not None:
        qs = qs.filter(web_order__isnull=not p.checkOutStatus)
    if p.brandId is not None or p.prebookStatus:
        qs = qs.none()  # Stemline keeps no brands or custom prebook statuses yet: none match

    def headers(ids):
        counts = queries.prebook_box_counts(ids)
        return [_header(row, counts.get(row[0]) or 0) for row in queries.prebook_header_values(ids)]

    return _prebook_listing(p, qs, headers, "prebook.list")


def _prebook_listing(p, qs, rows, method: str):
    return listing(
        p,
        qs,
        order=queries.PREBOOK_ORDER,
        key="prebooks",
        rows=rows,
        method=method,
        stream_from=STREAM_FROM,
    )


class PrebookDetailsIn(Params):
    date: OptDay = None
    dateFrom: OptDay = None
    dateTo: OptDay = None
    prebook: Str(20) | None = None
    updatedAsOf: OptDateTime = None
    customer: Str(50) | None = None
    customerId: OptId = None
    carrierName: Str(50) | None = None
    carrierId: OptId = None
    vendorShipDateFrom: OptDay = None
    vendorShipDateTo: OptDay = None
    salesPersonId: OptId = None
    soNumber: Annotated[int | None, BeforeValidator(blank_to_none)] = None
    customerPONumber: Str(20) | None = None
    locationId: OptId = None
    brandId: OptId = None
    unableToSource: OptBool = None
    page: OptPage = None
    rows: OptRows = None


class PrebookBreakdownOut(Out):
    productId: int
    productDescription: str
    stemsBunch: int
    bunches: int
    price: Number


class PrebookDetailOut(Out):
    prebookItemId: int
    inventoryId: int | None
    vendorId: int | None
    vendorName: str
    productId: int
    productDescription: str
    totalBoxes: int
    boxTypeId: int
    boxType: str
    bunches: int | None
    stemsBunch: int | None
    unitPrice: Number
    cost: Number | None
    units: int
    unitType: str
    totalUnits: int
    totalPrice: Number
    markCode: str
    notes: str
    brandId: int | None
    brandName: str
    breakdowns: list[PrebookBreakdownOut]


class PrebookWithDetailsOut(PrebookHeaderOut):
    details: list[PrebookDetailOut]


class PrebookDetailsOut(Paged):
    prebooks: list[PrebookWithDetailsOut]


def _detail(row: tuple) -> dict:
    """A line of prebook.details.list from queries.PREBOOK_ITEM_VALUES and its breakdowns."""
    (
        _prebook,
        pk,
        line_id,
        vendor_id,
        vendor_name,
        product_id,
        description,
        boxes,
        box_type_id,
        box_type,
        bunches,
        stems_bunch,
        price,
        cost,
        units,
        unit_type,
        mark_code,
        notes,
        parts,
    ) = row
    return {
        "prebookItemId": pk,
        "inventoryId": line_id,
        "vendorId": vendor_id,
        "vendorName": vendor_name if vendor_id is not None else "",
        "productId": product_id,
        "productDescription": description,
        "totalBoxes": boxes,
        "boxTypeId": box_type_id,
        "boxType": box_type,
        "bunches": bunches,
        "stemsBunch": stems_bunch,
        "unitPrice": number(price),
        "cost": number(cost),
        "units": units,
        "unitType": unit_type,
        "totalUnits": boxes * units,
        "totalPrice": number(boxes * units * price),
        "markCode": mark_code,
        "notes": notes,
        "brandId": None,
        "brandName": "",
        "breakdowns": [
            {
                "productId": part_product,
                "productDescription": part_description,
                "stemsBunch": part_stems,
                "bunches": part_bunches,
                "price": number(part_price),
            }
            for part_product, part_description, part_stems, part_bunches, part_price in parts
        ],
    }


@api_method(
    "prebook.details.list",
    request=PrebookDetailsIn,
    response=PrebookDetailsOut,
    tokens=[COMPANY, USER],
    area="sales",
    read=True,
)
def prebook_details_list(call, p: PrebookDetailsIn):
    """Prebooks of a truck date (or a window) with their lines and breakdowns.

    In truck-date order (then number, then id). A long answer is streamed as it is read.
    Paging: send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent)
    for one page in the list's order, with `total` (how many match), `page` and `rows` in
    the answer; without them the whole list comes, as before."""
    start, end = p.dateFrom, p.dateTo
    if p.date is not None:
        start = end = p.date
    vendor_window = p.vendorShipDateFrom or p.vendorShipDateTo
    _window(
        p.vendorShipDateFrom,
        p.vendorShipDateTo,
        MAX_VENDOR_SHIP_DAYS,
        "vendorShipDateFrom",
        "vendorShipDateTo",
        required=bool(vendor_window),
    )
    _window(
        start,
        end,
        MAX_LIST_DAYS,
        "dateFrom",
        "dateTo",
        required=not (p.prebook or vendor_window),
    )
    if start is None and not (p.prebook or vendor_window):
        raise Invalid("required unless prebook or a vendor ship-date range is given", "date")
    qs = _prebooks(
        call,
        p,
        start,
        end,
        location_id=p.locationId,
        updated_since=p.updatedAsOf,
        vendor_ship_from=p.vendorShipDateFrom,
        vendor_ship_to=p.vendorShipDateTo,
    )
    if p.brandId is not None or p.unableToSource:
        qs = qs.none()  # no brands, and no line is flagged unable to source yet

    def detailed(ids):
        items = queries.prebook_item_values(ids)
        rows = []
        for header in queries.prebook_header_values(ids):
            lines = items[header[0]]
            row = _header(header, sum(line[7] for line in lines))
            row["details"] = [_detail(line) for line in lines]
            rows.append(row)
        return rows

    return _prebook_listing(p, qs, detailed, "prebook.details.list")


# ---------------------------------------------------------------- prebook.sync


class PrebookChangeOut(Out):
    seq: int
    change: str
    prebookId: int
    prebookNumber: int | None
    type: str | None
    customerId: int | None
    truckDate: date | None
    total: Number | None
    changedAt: datetime


class PrebookSyncOut(Envelope):
    maxSeq: int
    more: int
    changes: list[PrebookChangeOut]


@api_method(
    "prebook.sync",
    request=DocumentSyncIn,
    response=PrebookSyncOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    read=True,
)
def prebook_sync(call, p: DocumentSyncIn):
    """What changed in prebooks after a sequence number (deletions included; at most 1,000)."""

    def row(change, prebook):
        return {
            "seq": change.seq,
            "change": change.kind,
            "prebookId": change.document_id,
            "prebookNumber": prebook.number if prebook else None,
            "type": prebook.kind if prebook else None,
            "customerId": prebook.customer_id if prebook else None,
            "truckDate": prebook.ship_date if prebook else None,
            "total": prebook.amount if prebook else None,
            "changedAt": change.created_at,
        }

    customer_id = call.customer_id if call.is_customer else None
    return queries.document_feed(call.company, "prebooks", Prebook, p.since, row, customer_id)
