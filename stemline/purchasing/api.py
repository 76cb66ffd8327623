"""API methods of purchasing: purchase orders, the farm's confirmation, AWBs and box codes,
receiving, and vendor invoices. A Vendor token sees and changes only its own."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import BeforeValidator, Field

from stemline.api.errors import ApiError
from stemline.api.listing import Paged, listing
from stemline.api.registry import COMPANY, USER, VENDOR, api_method
from stemline.api.schemas import (
    Cost,
    Day,
    Envelope,
    Id,
    Number,
    OptBool,
    OptCost,
    OptDay,
    OptId,
    OptMoney,
    OptPage,
    OptRows,
    Out,
    Params,
    Rendered,
    Required,
    Since,
    Str,
    blank_to_none,
    flag,
)
from stemline.catalog.models import UnitType
from stemline.core import files
from stemline.core.errors import DomainError, Invalid
from stemline.inventory.models import AWB_MAX_LENGTH
from stemline.sales import prebooking
from stemline.sales.services import next_shipping_day

from . import queries, services
from .models import PurchaseOrder, PurchaseOrderItem

MAX_LINES = 200
MAX_WINDOW_DAYS = 184  # six months (reference §1.5)
FUTURE_WINDOW_DAYS = 4
# An unpaged purchase.order.list (vendor.invoice.list, awb.list) longer than this is streamed,
# a chunk of 500 at a time.
STREAM_FROM = 1000


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _codes(value):
    """Box codes as a JSON list or a comma-separated text."""
    value = blank_to_none(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


Boxes = Annotated[int, Field(ge=1, le=services.MAX_BOXES_PER_LINE)]
OptBoxes = Annotated[Boxes | None, BeforeValidator(blank_to_none)]
ConfirmBoxes = Annotated[int, Field(ge=0, le=services.MAX_BOXES_PER_LINE)]
PerBox = Annotated[int, Field(ge=1, le=100_000)]
OptPerBox = Annotated[PerBox | None, BeforeValidator(blank_to_none)]
UnitTypeIn = Annotated[
    Literal["stem", "bunch"] | None, BeforeValidator(lambda v: _lower(blank_to_none(v)))
]
BoxCodes = Annotated[
    Annotated[list[Required(30)], Field(max_length=services.MAX_BOXES_PER_LINE)] | None,
    BeforeValidator(_codes),
]


def _unit_type(value: str | None) -> str | None:
    return {"stem": UnitType.STEM, "bunch": UnitType.BUNCH}.get(value or "")


def _vendor_scope(call) -> int | None:
    return call.vendor_id if call.is_vendor else None


# ---------------------------------------------------------------- purchase.order.create


class BreakdownIn(Params):
    productId: OptId = None
    productCode: Str(20) | None = None
    productDescription: Str(300) | None = None
    unitType: UnitTypeIn = None
    bunches: PerBox
    stemsBunch: PerBox
    unitCost: Cost


class POItemIn(Params):
    prebookItemId: OptId = None
    productId: OptId = None
    productCode: Str(20) | None = None
    productDescription: Str(300) | None = None
    boxTypeId: OptId = None
    boxTypeCode: Str(10) | None = None
    boxes: OptBoxes = None
    unitType: UnitTypeIn = None
    bunches: OptPerBox = None
    stemsBunch: OptPerBox = None
    unitCost: OptCost = None
    priceA: OptCost = Field(None, description="Stemline: the price future inventory sells at.")
    priceB: OptCost = None
    markCode: Str(20) = ""
    notes: Str(200) = ""


class MixedItemIn(POItemIn):
    breakdowns: Annotated[list[BreakdownIn], Field(min_length=1, max_length=50)]


class POCreateIn(Params):
    shipDate: Day
    arrivalDate: OptDay = Field(
        None, description="Stemline: when the boxes arrive (default: the day after shipDate)."
    )
    vendorId: OptId = None
    vendorCode: Str(10) | None = None
    companyLocationCode: Str(10) | None = None
    companyLocationId: OptId = None
    carrierId: OptId = None
    carrierCode: Str(10) | None = None
    awbNumber: Str(AWB_MAX_LENGTH) = ""
    purchaseOrderNumber: Str(10) | None = None
    purchaseOrderItems: Annotated[list[POItemIn], Field(min_length=1, max_length=MAX_LINES)]


class POMixedCreateIn(POCreateIn):
    purchaseOrderItems: Annotated[list[MixedItemIn], Field(min_length=1, max_length=MAX_LINES)]


class POCreatedItemOut(Out):
    poItemId: int
    prebookItemId: int | None
    totalBoxes: int
    status: str


class POCreatedOut(Envelope):
    purchaseOrderId: int
    purchaseOrderNumber: str
    purchaseOrderStatus: str
    purchaseOrderItems: list[POCreatedItemOut]


def _specs(company, items, mixed: bool) -> list[services.LineSpec]:
    specs = []
    for n, row in enumerate(items):
        where = f"purchaseOrderItems[{n}]"
        spec = services.LineSpec(
            field=where,
            prebook_item_id=row.prebookItemId,
            boxes=row.boxes,
            unit_type=_unit_type(row.unitType),
            bunches=row.bunches,
            stems_bunch=row.stemsBunch,
            unit_cost=row.unitCost,
            price_a=row.priceA,
            price_b=row.priceB,
            mark_code=row.markCode,
            notes=row.notes,
        )
        if row.prebookItemId is None or mixed:
            spec.product = services.product_of(
                company,
                product_id=row.productId,
                code=row.productCode,
                description=row.productDescription,
                field=where,
            )
            spec.box_type = services.box_type_of(
                company, box_type_id=row.boxTypeId, code=row.boxTypeCode, field=where
            )
        if mixed:
            spec.breakdowns = [
                services.BreakdownSpec(
                    product=services.product_of(
                        company,
                        product_id=b.productId,
                        code=b.productCode,
                        description=b.productDescription,
                        field=f"{where}.breakdowns[{k}]",
                    ),
                    unit_type=_unit_type(b.unitType) or UnitType.STEM,
                    bunches=b.bunches,
                    stems_bunch=b.stemsBunch,
                    unit_cost=b.unitCost,
                )
                for k, b in enumerate(row.breakdowns)
            ]
        specs.append(spec)
    return specs


def _create(call, p: POCreateIn, *, mixed: bool):
    company = call.company
    vendor = services.vendor_of(
        company,
        vendor_id=p.vendorId,
        vendor_code=p.vendorCode,
        token_vendor_id=_vendor_scope(call),
    )
    location = None
    if p.purchaseOrderNumber is None:
        location = services.location_for(
            company, location_id=p.companyLocationId, location_code=p.companyLocationCode
        )
    carrier = services.inbound_carrier(company, carrier_id=p.carrierId, carrier_code=p.carrierCode)
    po, items = services.create_order(
        company=company,
        vendor=vendor,
        specs=_specs(company, p.purchaseOrderItems, mixed),
        ship_date=p.shipDate,
        arrival_date=p.arrivalDate,
        location=location,
        carrier=carrier,
        awb_number=p.awbNumber,
        number=p.purchaseOrderNumber,
        by_vendor=call.is_vendor,
        mixed=mixed,
    )
    return {
        "message": "The purchase order was successfully saved.",
        "purchaseOrderId": po.pk,
        "purchaseOrderNumber": po.number,
        "purchaseOrderStatus": po.status,
        "purchaseOrderItems": [
            {
                "poItemId": i.pk,
                "prebookItemId": i.prebook_item_id,
                "totalBoxes": i.boxes,
                "status": i.status,
            }
            for i in items
        ],
    }


@api_method(
    "purchase.order.create",
    request=POCreateIn,
    response=POCreatedOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
    creates=True,
)
def purchase_order_create(call, p: POCreateIn):
    """Create a PO to a vendor (or append lines to one by number), filling prebook lines or
    standalone."""
    return _create(call, p, mixed=False)


@api_method(
    "purchase.order.mixed.create",
    request=POMixedCreateIn,
    response=POCreatedOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
    creates=True,
)
def purchase_order_mixed_create(call, p: POMixedCreateIn):
    """Create a PO of assorted (mixed) boxes, each with its breakdown of products."""
    return _create(call, p, mixed=True)


# ---------------------------------------------------------------- purchase.order.list


class BreakdownOut(Out):
    productId: int
    productDescription: str
    unitType: str
    bunches: int
    stemsBunch: int
    unitCost: Number


class BoxOut(Out):
    boxCode: str
    awb: str
    received: int
    receivedAt: datetime | None


class PODetailOut(Out):
    poItemId: int
    inventoryId: int
    prebookItemId: int | None
    prebook: int | None
    prebookTruckDate: date | None
    customerId: int | None
    customerName: str
    carrierId: int | None
    productId: int
    productDescription: str
    productCode: str
    vendorId: int
    totalBoxes: int
    confirmedBoxes: int
    boxTypeId: int
    boxType: str
    unitType: str
    bunches: int
    stemsBunch: int
    unitsPerBox: int
    unitCost: Number
    markCode: str
    notes: str
    orderType: str
    status: str
    isMixed: int
    splitFromPoItemId: int | None
    awb: str
    shipDate: date | None
    breakdowns: list[BreakdownOut]
    boxes: list[BoxOut]
    CustomFields: list[dict]


class POOut(Out):
    id: int
    number: str
    shipDate: date
    arrivalDate: date
    status: str
    vendorId: int
    vendorCode: str
    vendorName: str
    origin: str
    carrierId: int | None
    carrierName: str
    awbNumber: str
    locationId: int
    totalBoxes: int
    totalCost: Number
    createdAt: datetime
    details: list[PODetailOut]


class POListIn(Params):
    date: OptDay = None
    dateFrom: OptDay = Field(None, description="Stemline: a ship-date window (≤ 6 months).")
    dateTo: OptDay = None
    futureInventoryAvailableFrom: OptDay = None
    futureInventoryAvailableTo: OptDay = None
    vendor: Str(50) | None = None
    vendorId: OptId = None
    customerId: OptId = None
    customerPONumber: Str(50) | None = None
    product: Str(100) | None = None
    number: Str(500) | None = None
    origin: Str(4) | None = None
    prebook: Annotated[
        int | None, Field(ge=1, le=2_000_000_000), BeforeValidator(blank_to_none)
    ] = None
    locationId: OptId = None
    status: Str(20) | None = None
    statusLine: Str(20) | None = None
    page: OptPage = None
    rows: OptRows = None


class POListOut(Envelope):
    # Only in a paged answer (`page`/`rows` sent).
    total: int | None = None
    page: int | None = None
    rows: int | None = None
    purchaseOrders: list[POOut]


def _one_of(value: str | None, choices, name: str) -> str | None:
    if not value:
        return None
    for choice in choices:
        # "Partial Conf..." appears truncated in the reference: a prefix of 7+ letters will do.
        if choice.lower() == value.lower() or (
            len(value) >= 7 and choice.lower().startswith(value.lower())
        ):
            return choice
    raise Invalid(f"must be one of {', '.join(choices)}", field=name)


def _window(p: POListIn) -> tuple[date | None, date | None]:
    if p.date is not None:
        return p.date, p.date
    if p.dateFrom is None and p.dateTo is None:
        if p.number or p.futureInventoryAvailableFrom:
            return None, None
        raise Invalid("required unless number is given", field="date")
    start = p.dateFrom or p.dateTo
    end = p.dateTo or p.dateFrom
    if end < start:
        raise Invalid("must not be before dateFrom", field="dateTo")
    if (end - start).days > MAX_WINDOW_DAYS:
        raise Invalid("the window is at most 6 months", field="dateTo")
    return start, end


def _future_window(p: POListIn):
    start, end = p.futureInventoryAvailableFrom, p.futureInventoryAvailableTo
    if start is None and end is None:
        return None, None
    start, end = start or end, end or start
    if end < start:
        raise Invalid(
            "must not be before futureInventoryAvailableFrom", field="futureInventoryAvailableTo"
        )
    if (end - start).days > FUTURE_WINDOW_DAYS:
        raise Invalid("the window is at most 4 days", field="futureInventoryAvailableTo")
    return start, end


@api_method(
    "purchase.order.list",
    request=POListIn,
    response=POListOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
    read=True,
)
def purchase_order_list(call, p: POListIn):
    """Purchase orders with their lines, breakdowns and shipped boxes (a Vendor token: its own).

    In ship-date order. A long answer is streamed as it is read. Paging: send `page` (from 1)
    and/or `rows` (1-1,000; 100 when only `page` is sent) for one page, with `total` (how many
    match), `page` and `rows` in the answer; without them the whole list comes, as before."""
    start, end = _window(p)
    future_from, future_to = _future_window(p)
    numbers = [n.strip() for n in (p.number or "").split(",") if n.strip()]
    line_status = _one_of(p.statusLine, PurchaseOrderItem.Status.values, "statusLine")
    qs = queries.purchase_orders(
        call.company,
        vendor_id=_vendor_scope(call),
        ship_from=start,
        ship_to=end,
        arrival_from=future_from,
        arrival_to=future_to,
        vendor=p.vendor,
        vendor_pk=None if call.is_vendor else p.vendorId,
        customer_id=p.customerId,
        customer_po=p.customerPONumber,
        product=p.product,
        numbers=numbers,
        origin=p.origin,
        prebook_number=p.prebook,
        location_id=p.locationId,
        status=_one_of(p.status, PurchaseOrder.Status.values, "status"),
        line_status=line_status,
    )
    return listing(
        p,
        qs,
        order=queries.LIST_ORDER,
        key="purchaseOrders",
        rows=lambda part: queries.po_values(part, line_status),
        empty="Purchase orders not found.",
        stream_from=STREAM_FROM,
    )


# ---------------------------------------------------------------- purchase.order.sync


class POSyncOut(Envelope):
    maxSeq: int
    more: int
    purchaseOrders: list[POOut]


class POSyncIn(Params):
    since: Since = 0


@api_method(
    "purchase.order.sync",
    request=POSyncIn,
    response=POSyncOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
    read=True,
)
def purchase_order_sync(call, p: POSyncIn):
    """Purchase orders changed after a sequence number, as they are now (cancelled lines show
    as Cancelled), at most 200 at a time."""
    found = queries.changed_since(call.company, p.since, vendor_id=_vendor_scope(call))
    head = {
        "status": 1,
        "message": "OK",
        "maxSeq": found[-1][1] if found else p.since,
        "more": flag(len(found) == queries.SYNC_ROWS),
    }
    return Rendered(head, "purchaseOrders", [queries.po_values([pk for pk, _seq in found])])


# ---------------------------------------------------------------- purchase.order.confirm


class ConfirmItemIn(Params):
    poItemId: Id
    boxes: ConfirmBoxes


class POConfirmIn(Params):
    purchaseOrderId: OptId = None
    purchaseOrderNumber: Str(10) | None = None
    poItems: Annotated[list[ConfirmItemIn], Field(max_length=MAX_LINES)] = Field(
        default_factory=list,
        description="Lines the farm confirms with fewer boxes than ordered (0 cancels one).",
    )


class POConfirmedOut(Envelope):
    purchaseOrderId: int
    purchaseOrderNumber: str
    purchaseOrderStatus: str
    purchaseOrderItems: list[POCreatedItemOut]


@api_method(
    "purchase.order.confirm",
    request=POConfirmIn,
    response=POConfirmedOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
)
def purchase_order_confirm(call, p: POConfirmIn):
    """Stemline: the farm confirms its PO (Confirmed by Farm), per line all boxes or fewer."""
    po = services.order_of(
        call.company,
        vendor_id=_vendor_scope(call),
        po_id=p.purchaseOrderId,
        number=p.purchaseOrderNumber,
    )
    boxes = {}
    for row in p.poItems:
        if row.poItemId in boxes:
            raise Invalid(f"poItemId {row.poItemId} is named twice", field="poItems")
        boxes[row.poItemId] = row.boxes
    po = services.confirm_order(company=call.company, po=po, boxes=boxes)
    return {
        "message": "The purchase order was successfully confirmed.",
        "purchaseOrderId": po.pk,
        "purchaseOrderNumber": po.number,
        "purchaseOrderStatus": po.status,
        "purchaseOrderItems": [
            {
                "poItemId": i.pk,
                "prebookItemId": i.prebook_item_id,
                "totalBoxes": i.confirmed_boxes,
                "status": i.status,
            }
            for i in po.items.order_by("line_id")
        ],
    }


# ---------------------------------------------------------------- purchase.order.item.delete


class POItemDeleteIn(Params):
    poItemId: Id


@api_method(
    "purchase.order.item.delete",
    request=POItemDeleteIn,
    response=Envelope,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
)
def purchase_order_item_delete(call, p: POItemDeleteIn):
    """Delete (cancel) a PO line that has not shipped; prebook lines it filled need a PO again."""
    item = services.item_of(call.company, p.poItemId, _vendor_scope(call))
    services.delete_item(company=call.company, item=item)
    return {"message": "OK"}


# ---------------------------------------------------------------- shipping on AWBs


class AwbAddIn(Params):
    poItemId: Id
    awb: Required(AWB_MAX_LENGTH)
    houseAWB: Str(AWB_MAX_LENGTH) = ""
    shipDate: Day
    boxCodes: BoxCodes = None
    boxes: OptBoxes = Field(None, description="Stemline: boxes shipped when no codes are sent.")
    lotNumber: Str(20) = ""


class AwbAddOut(Envelope):
    poItemId: int
    awbId: int
    boxCodes: list[str]
    lotNumber: str
    newPOItemId: int | None


def _ship(call, row, vendor_id, *, locked=False) -> dict:
    item = services.item_of(call.company, row.poItemId, vendor_id)
    shipment = services.ship_item(
        company=call.company,
        item=item,
        awb_number=row.awb,
        ship_date=row.shipDate,
        box_codes=row.boxCodes,
        boxes=row.boxes,
        lot_number=row.lotNumber,
        house_awb=row.houseAWB,
        locked=locked,
    )
    return {
        "poItemId": item.pk,
        "awbId": shipment.awb.pk,
        "boxCodes": shipment.box_codes,
        "lotNumber": row.lotNumber,
        "newPOItemId": shipment.new_item.pk if shipment.new_item else None,
    }


@api_method(
    "purchase.order.item.awb.add",
    request=AwbAddIn,
    response=AwbAddOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
    creates=True,
)
def purchase_order_item_awb_add(call, p: AwbAddIn):
    """Ship a PO line's boxes on an AWB with box codes; shipping fewer splits the line."""
    return {"message": "OK", **_ship(call, p, _vendor_scope(call))}


class AwbItemsAddIn(Params):
    poItems: Annotated[list[AwbAddIn], Field(min_length=1, max_length=MAX_LINES)]
    vendorId: OptId = None


class AwbItemResultOut(Out):
    poItemId: int
    status: int
    message: str
    awbId: int | None = None
    boxCodes: list[str] = []
    lotNumber: str = ""
    newPOItemId: int | None = None


class AwbItemsAddOut(Envelope):
    purchaseOrderItemDetailsAWBAddAPIResultList: list[AwbItemResultOut]


@api_method(
    "purchase.order.items.awb.add",
    request=AwbItemsAddIn,
    response=AwbItemsAddOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
    creates=True,
)
def purchase_order_items_awb_add(call, p: AwbItemsAddIn):
    """Ship several PO lines on AWBs; each line succeeds or fails on its own."""
    company = call.company
    scope = _vendor_scope(call)
    if scope is None:
        if p.vendorId is None:
            raise Invalid("required with a Company token", field="vendorId")
        scope = services.vendor_of(company, vendor_id=p.vendorId).pk
    ids = [row.poItemId for row in p.poItems]
    po_ids = PurchaseOrderItem.objects.filter(
        company=company, pk__in=ids, purchase_order__vendor_id=scope
    ).values_list("purchase_order_id", flat=True)
    # Every PO first, in pk order, then line by line in pk order: the lock order of all
    # purchasing writes.
    services.lock_orders(company, po_ids)
    results: dict[int, dict] = {}
    for n in sorted(range(len(p.poItems)), key=lambda k: ids[k]):
        row = p.poItems[n]
        try:
            shipped = _ship(call, row, scope, locked=True)
            results[n] = {"status": 1, "message": "OK", **shipped}
        except DomainError as exc:
            results[n] = {"poItemId": row.poItemId, "status": 0, "message": exc.message}
    rows = [results[n] for n in range(len(p.poItems))]
    ok = sum(r["status"] for r in rows)
    return {
        "status": 1 if ok else 0,
        "message": f"{ok} items were successfully shipped. {len(rows) - ok} items could not be shipped",
        "purchaseOrderItemDetailsAWBAddAPIResultList": rows,
    }


# ---------------------------------------------------------------- box.code.change


class BoxCodeIn(Params):
    currentBoxCode: Required(30)
    newBoxCode: Required(30)


class BoxCodeChangeIn(Params):
    boxes: Annotated[list[BoxCodeIn], Field(min_length=1, max_length=1000)]


class BoxCodeResultOut(Out):
    currentBoxCode: str
    newBoxCode: str
    status: int
    message: str


class BoxCodeChangeOut(Envelope):
    boxes: list[BoxCodeResultOut]


@api_method(
    "box.code.change",
    request=BoxCodeChangeIn,
    response=BoxCodeChangeOut,
    tokens=[COMPANY, VENDOR, USER],
    area="purchasing",
)
def box_code_change(call, p: BoxCodeChangeIn):
    """Relabel boxes; each box succeeds or fails on its own (a Vendor token: its own boxes)."""
    results = services.change_box_codes(
        company=call.company,
        pairs=[(b.currentBoxCode, b.newBoxCode) for b in p.boxes],
        vendor_id=_vendor_scope(call),
    )
    ok = sum(r.ok for r in results)
    return {
        "status": 1 if ok else 0,
        "message": f"{ok} boxes were successfully updated. {len(results) - ok} boxes could not "
        "be updated",
        "boxes": [
            {
                "currentBoxCode": r.current,
                "newBoxCode": r.new,
                "status": flag(r.ok),
                "message": r.message,
            }
            for r in results
        ],
    }


# ---------------------------------------------------------------- awb.list / awb.receive


class AwbListIn(Params):
    awb: Str(AWB_MAX_LENGTH) | None = None
    shipDate: OptDay = None
    originCode: Str(5) | None = None
    locationCode: Str(10) | None = None
    page: OptPage = None
    rows: OptRows = None


class AwbOut(Out):
    awbId: int
    awb: str
    houseAWB: str
    origin: str
    shipDate: date
    arrivalDate: date | None
    pieces: int
    piecesReceived: int
    boxesCodes: str
    locationCode: str
    status: int


class AwbListOut(Paged):
    awbs: list[AwbOut]


@api_method(
    "awb.list",
    request=AwbListIn,
    response=AwbListOut,
    tokens=[COMPANY, USER],
    area="purchasing",
    read=True,
)
def awb_list(call, p: AwbListIn):
    """AWBs with their pieces (boxes shipped) and pieces received, by AWB or ship date.

    In ship-date order, then id. A long answer is streamed as it is read. Paging: send `page`
    (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent) for one page, with `total`
    (how many match), `page` and `rows` in the answer; without them the whole list comes, as
    before."""
    if not p.awb and p.shipDate is None:
        raise Invalid("send awb (its last 4 digits will do) or shipDate", field="awb")
    qs = queries.awbs(
        call.company,
        awb=p.awb,
        ship_date=p.shipDate,
        origin=p.originCode,
        location_code=p.locationCode,
    )
    return listing(
        p,
        qs,
        order=queries.AWB_ORDER,
        key="awbs",
        rows=queries.awb_values,
        method="awb.list",
        stream_from=STREAM_FROM,
    )


class AwbFutureListIn(Params):
    awb: Str(25) | None = None
    shipDate: OptDay = None
    originCode: Str(5) | None = None


class HouseOut(Out):
    house: str
    vendorId: int
    vendorCode: str
    locationCode: str
    instructions: str


class FutureAwbOut(Out):
    awbId: int
    awb: str
    originCode: str
    shipDate: date
    pieces: int
    instructions: str
    houses: list[HouseOut]


class AwbFutureListOut(Envelope):
    awbs: list[FutureAwbOut]


@api_method(
    "awb.future.list",
    request=AwbFutureListIn,
    response=AwbFutureListOut,
    tokens=[COMPANY, USER],
    area="purchasing",
    read=True,
)
def awb_future_list(call, p: AwbFutureListIn):
    """AWBs on their way: shipped by growers, nothing of them received yet, by AWB or date.

    An AWB is "future" from the moment a grower puts boxes on it until the warehouse scans
    the first one in (then awb.list follows its receiving). Each AWB lists its houses: one per
    vendor with boxes on it, with the house AWB the grower gave. Stemline keeps no shipping
    instructions, so `instructions` is always empty. `awb` matches the number or its last
    digits; an empty answer says "AWBs not found."."""
    if not p.awb and p.shipDate is None:
        raise Invalid("send awb (its last 4 digits will do) or shipDate", field="awb")
    rows = queries.future_awbs(call.company, awb=p.awb, ship_date=p.shipDate, origin=p.originCode)
    return {"message": "OK" if rows else "AWBs not found.", "awbs": rows}


class AwbReceiveIn(Params):
    awbId: OptId = None
    awb: Str(AWB_MAX_LENGTH) | None = None
    boxCodes: BoxCodes = Field(
        None, description="Boxes scanned in; default: every box still expected."
    )


class InvoiceMadeOut(Out):
    invoiceId: int
    invoiceNumber: int
    customerId: int
    boxes: int


class AwbReceiveOut(Envelope):
    awbId: int
    awb: str
    pieces: int
    piecesReceived: int
    awbStatus: int
    receivedBoxCodes: list[str]
    inventoryIds: list[int]
    invoices: list[InvoiceMadeOut]


@api_method(
    "awb.receive",
    request=AwbReceiveIn,
    response=AwbReceiveOut,
    tokens=[COMPANY, USER],
    area="purchasing",
)
def awb_receive(call, p: AwbReceiveIn):
    """Stemline: receive an AWB's boxes (named ones or all): they become on-hand inventory,
    and what was prebooked of them goes onto invoices."""
    awb = queries.awb_of(call.company, awb_id=p.awbId, number=p.awb)
    receipt = services.receive(company=call.company, awb=awb, box_codes=p.boxCodes, user=call.user)
    awb = receipt.awb
    return {
        "message": f"{len(receipt.received)} boxes were received.",
        "awbId": awb.pk,
        "awb": awb.number,
        "pieces": awb.pieces,
        "piecesReceived": awb.pieces_received,
        "awbStatus": 0 if awb.closed_at else 1,
        "receivedBoxCodes": receipt.received,
        "inventoryIds": receipt.lines_on_hand,
        "invoices": [
            {
                "invoiceId": i.pk,
                "invoiceNumber": i.number,
                "customerId": i.customer_id,
                "boxes": sum(x.boxes for x in i.items.all()),
            }
            for i in receipt.invoices
        ],
    }


# ---------------------------------------------------------------- vendor invoices


def uploaded_file(call, value: Any, field: str) -> bytes:
    """The request's file (multipart part, byte array or base64), over 20 MB answered 413."""
    try:
        return files.from_request(call.request, value, field)
    except files.TooLarge as exc:
        raise ApiError.for_field(field, "too_large", exc.message, 413) from exc


class VendorInvoiceIn(Params):
    poNumber: Required(20)
    attachment: Any = Field(
        None,
        description="The file: a byte array, base64 text, or a multipart file part of this name.",
    )
    invoiceNumber: Str(200) = ""
    invoiceTotal: OptMoney(10, 2) = None
    locationId: OptId = None


class VendorInvoiceOut(Envelope):
    vendorInvoiceId: int
    contentType: str
    size: int


@api_method(
    "v2/vendor/invoice",
    request=VendorInvoiceIn,
    response=VendorInvoiceOut,
    tokens=[COMPANY, VENDOR],
    area="purchasing",
    creates=True,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
def vendor_invoice_upload(call, p: VendorInvoiceIn):
    """Upload a vendor's invoice (PDF, PNG or JPEG, at most 20 MB) against its PO."""
    data = uploaded_file(call, p.attachment, "attachment")
    po = services.order_of(
        call.company, vendor_id=_vendor_scope(call), number=p.poNumber, field="poNumber"
    )
    invoice = services.upload_vendor_invoice(
        company=call.company,
        po=po,
        data=data,
        invoice_number=p.invoiceNumber,
        invoice_total=p.invoiceTotal,
    )
    return {
        "message": "The invoice was successfully uploaded.",
        "vendorInvoiceId": invoice.pk,
        "contentType": invoice.content_type,
        "size": invoice.size,
    }


class MailedInvoiceIn(Params):
    mailFrom: Required(320) = Field(
        description="The sender: an address of the PO's vendor or of the company."
    )
    poNumber: Required(20)
    file: Any = Field(
        None,
        description="The file: a byte array, base64 text, or a multipart file part of this name.",
    )
    invoiceNumber: Str(200) = ""
    invoiceTotal: OptMoney(10, 2) = None


class MailedInvoiceOut(VendorInvoiceOut):
    mailFrom: str


@api_method(
    "vendor.invoice.mail.receive",
    request=MailedInvoiceIn,
    response=MailedInvoiceOut,
    tokens=[COMPANY],
    area="purchasing",
    creates=True,
    max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
)
def vendor_invoice_mail_receive(call, p: MailedInvoiceIn):
    """Attach a vendor invoice that came by e-mail to its PO (token as `companyToken`).

    For a mail gateway of the company: the token may come as `companyToken` in the body (the
    reference's name) or as usual. The file is checked as v2/vendor/invoice checks it (PDF,
    PNG or JPEG by content, at most 20 MB: else 422 or 413 naming `file`). `mailFrom` must be
    one of the vendor's "e-mail for POs" addresses, a Vendor Portal user of that vendor or a
    company user (forwarding it); any other sender is 403 naming `mailFrom`, so a stranger's
    mail cannot attach files to a PO. The invoice is listed by vendor.invoice.list with its
    `mailFrom`."""
    data = uploaded_file(call, p.file, "file")
    po = services.order_of(call.company, number=p.poNumber, field="poNumber")
    sender = services.authorised_sender(call.company, po, p.mailFrom)
    invoice = services.upload_vendor_invoice(
        company=call.company,
        po=po,
        data=data,
        invoice_number=p.invoiceNumber,
        invoice_total=p.invoiceTotal,
        mail_from=sender,
        field="file",
    )
    return {
        "message": "The invoice was successfully uploaded.",
        "vendorInvoiceId": invoice.pk,
        "contentType": invoice.content_type,
        "size": invoice.size,
        "mailFrom": invoice.mail_from,
    }


class VendorInvoiceSyncIn(Params):
    poNumber: Required(20)
    invoiceNumber: Required(200)


@api_method(
    "vendor.invoice.mark.sync",
    request=VendorInvoiceSyncIn,
    response=Envelope,
    tokens=[COMPANY, USER],
    area="purchasing",
)
def vendor_invoice_mark_sync(call, p: VendorInvoiceSyncIn):
    """Flag a vendor invoice as synchronized with the accounting system."""
    services.mark_vendor_invoice_synced(
        company=call.company, po_number=p.poNumber, invoice_number=p.invoiceNumber
    )
    return {"message": "OK"}


class VendorInvoiceListIn(Params):
    poNumber: Str(20) | None = None
    vendorId: OptId = None
    externalSystemSynced: OptBool = None
    dateFrom: OptDay = None
    dateTo: OptDay = None
    page: OptPage = None
    rows: OptRows = None


class VendorInvoiceRowOut(Out):
    vendorInvoiceId: int
    poNumber: str
    purchaseOrderId: int
    vendorId: int
    vendorName: str
    invoiceNumber: str
    invoiceTotal: Number | None
    contentType: str
    size: int
    sha256: str
    uploadedAt: datetime
    mailFrom: str
    externalSystemSynced: int


class VendorInvoiceListOut(Paged):
    vendorInvoices: list[VendorInvoiceRowOut]


@api_method(
    "vendor.invoice.list",
    request=VendorInvoiceListIn,
    response=VendorInvoiceListOut,
    tokens=[COMPANY, USER],
    area="purchasing",
    read=True,
)
def vendor_invoice_list(call, p: VendorInvoiceListIn):
    """Stemline: the vendor invoices uploaded to the company, newest first.

    Paging: send `page` (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent) for
    one page, with `total` (how many match), `page` and `rows` in the answer, through all of
    them; without them the newest 1,000 come, as before."""
    qs = queries.vendor_invoices(
        call.company,
        po_number=p.poNumber,
        vendor_id=p.vendorId,
        synced=p.externalSystemSynced,
        date_from=p.dateFrom,
        date_to=p.dateTo,
    )
    return listing(
        p,
        qs,
        order=queries.VENDOR_INVOICE_ORDER,
        key="vendorInvoices",
        rows=queries.vendor_invoice_values,
        method="vendor.invoice.list",
        stream_from=STREAM_FROM,
        limit=queries.MAX_VENDOR_INVOICES,
    )


# ---------------------------------------------------------------- multiple.prebooks.create
# A prebook method (area sales) that lives here because with autoGeneratePOsfromPrebooks it
# also writes purchase orders, and purchasing is the app that may use both.

ADDRESS_PARTS = ("Street", "City", "State", "Zipcode", "Country")
ShipVia = Annotated[
    int, Field(ge=0, le=1), BeforeValidator(lambda v: 0 if blank_to_none(v) is None else v)
]


class MultiPrebookItemIn(Params):
    carrierCode: Str(10) | None = None
    carrierName: Str(200) | None = None
    shipDate: OptDay = Field(None, description="Truck date; default the next shipping day.")
    productId: OptId = None
    productCode: Str(20) | None = None
    boxTypeId: OptId = None
    boxTypeCode: Str(3) | None = None
    unitType: UnitTypeIn = None
    boxes: Boxes
    bunches: OptPerBox = None
    stemsBunch: OptPerBox = None
    price: OptCost = None
    cost: OptCost = Field(None, description="Unit cost; required with automatic POs.")
    vendorCode: Str(10) | None = Field(None, description="Required with automatic POs.")
    vendorName: Str(200) | None = None
    markCode: Str(20) = ""
    notes: Str(200) = ""


def _flatten_addresses(data):
    """`customerBilling: {street, city, ...}` as an object is taken as the flat fields."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for prefix in ("customerBilling", "customerShipping"):
        nested = data.get(prefix)
        if isinstance(nested, dict):
            del data[prefix]
            parts = {k.lower(): v for k, v in nested.items()}
            for part in ADDRESS_PARTS:
                if part.lower() in parts:
                    data.setdefault(prefix + part, parts.pop(part.lower()))
            for rest, value in parts.items():
                data[f"{prefix}.{rest}"] = value  # refused by name as unknown
    return data


class MultiPrebooksIn(Params):
    customerCode: Required(10)
    customerName: Required(200)
    customerBillingStreet: Required(200)
    customerBillingCity: Required(50)
    customerBillingState: Required(50)
    customerBillingZipcode: Required(10)
    customerBillingCountry: Required(50)
    customerShippingStreet: Required(200)
    customerShippingCity: Required(50)
    customerShippingState: Required(50)
    customerShippingZipcode: Required(10)
    customerShippingCountry: Required(50)
    customerPhone: Required(20)
    shipViaId: ShipVia = Field(0, description="0 from the warehouse, 1 by the grower.")
    customerPO: Str(20) = ""
    comments: Str(200) = ""
    autoGeneratePOsfromPrebooks: OptBool = None
    companyLocationCode: Str(10) | None = None
    prebookItems: Annotated[list[MultiPrebookItemIn], Field(min_length=1, max_length=MAX_LINES)]

    # The gateway's leniency brings the nested form to the flat one before it sets aside
    # what the schema does not know.
    prepare_input = staticmethod(_flatten_addresses)

    @classmethod
    def model_validate(cls, obj, *args, **kwargs):
        # Before any validator: ninja's own wraps the input in an attribute getter.
        return super().model_validate(_flatten_addresses(obj), *args, **kwargs)


class BatchItemOut(Out):
    prebookItemId: int
    prebookId: int
    prebookNumber: int


class BatchPrebookOut(Out):
    prebookId: int
    prebookNumber: int
    shipDate: date
    carrierId: int | None
    totalBoxes: int
    transactionFee: Number
    prebookItemIds: list[int]


class BatchOrderItemOut(Out):
    poItemId: int
    prebookItemId: int | None


class BatchOrderOut(Out):
    purchaseOrderId: int
    purchaseOrderNumber: str
    purchaseOrderStatus: str
    vendorId: int
    shipDate: date
    purchaseOrderItems: list[BatchOrderItemOut]


class MultiPrebooksOut(Envelope):
    customerId: int
    customerCreated: int
    shipToId: int | None
    prebooks: list[BatchPrebookOut]
    prebookItems: list[BatchItemOut]
    purchaseOrders: list[BatchOrderOut]


def _address(p, prefix: str) -> services.Address:
    return services.Address(*(getattr(p, prefix + part) for part in ADDRESS_PARTS))


@api_method(
    "multiple.prebooks.create",
    request=MultiPrebooksIn,
    response=MultiPrebooksOut,
    tokens=[COMPANY, USER],
    area="sales",
    creates=True,
    # customerCode finds the customer; customerName and the addresses make a new one.
    check_names=False,
)
def multiple_prebooks_create(call, p: MultiPrebooksIn):
    """Prebooks in bulk for a customer named by code and address (made when new), with POs.

    The customer is found by `customerCode`; an unknown code makes a new customer with that
    code, name, billing address and phone (an existing customer's data is never overwritten).
    When the shipping address is not the customer's billing address, the prebooks ship to the
    customer's ship-to at that address (made when there is none). Lines go onto one prebook
    per carrier (`carrierCode`, its `carrierName` checked to agree) and truck date
    (`shipDate`; default the company's next shipping day), with the transaction fee.
    `autoGeneratePOsfromPrebooks` 1: every line needs `vendorCode` and `cost` and a truck date
    after today, and one purchase order per vendor and vendor ship date fills the lines,
    created **Approved** (from the warehouse the farm ships the day before the truck date, by
    grower on it). All or nothing: a refused line names its field (`prebookItems[2].cost`)
    and leaves nothing behind. Also accepts `customerBilling` / `customerShipping` as objects
    (`{"street", "city", "state", "zipcode", "country"}`)."""
    company = call.company
    location = services.location_for(company, location_code=p.companyLocationCode)
    default_day = next_shipping_day(company)
    lines = []
    for n, item in enumerate(p.prebookItems):
        lines.append(
            services.BatchLine(
                item=prebooking.ItemRequest(
                    boxes=item.boxes,
                    product_id=item.productId,
                    product_code=item.productCode,
                    box_type_id=item.boxTypeId,
                    box_type_code=item.boxTypeCode,
                    unit_type=_unit_type(item.unitType) or UnitType.STEM,
                    bunches=item.bunches,
                    stems_bunch=item.stemsBunch,
                    cost=item.cost,
                    price=item.price or 0,
                    mark_code=item.markCode,
                    notes=item.notes,
                    field=f"prebookItems[{n}]",
                ),
                ship_date=item.shipDate or default_day,
                carrier_code=item.carrierCode,
                carrier_name=item.carrierName,
                vendor_code=item.vendorCode,
                vendor_name=item.vendorName,
            )
        )
    batch = services.create_prebook_batch(
        company=company,
        customer_code=p.customerCode,
        customer_name=p.customerName,
        billing=_address(p, "customerBilling"),
        shipping=_address(p, "customerShipping"),
        phone=p.customerPhone,
        lines=lines,
        location=location,
        ship_via=p.shipViaId,
        customer_po=p.customerPO,
        comments=p.comments,
        auto_orders=bool(p.autoGeneratePOsfromPrebooks),
    )
    prebook_of = {item.pk: prebook for prebook, items in batch.prebooks for item in items}
    return {
        "message": "The prebooks were successfully created.",
        "customerId": batch.customer.pk,
        "customerCreated": flag(batch.customer_created),
        "shipToId": batch.ship_to.pk if batch.ship_to else None,
        "prebooks": [
            {
                "prebookId": prebook.pk,
                "prebookNumber": prebook.number,
                "shipDate": prebook.ship_date,
                "carrierId": prebook.carrier_id,
                "totalBoxes": sum(i.boxes for i in items),
                "transactionFee": prebook.transaction_fee,
                "prebookItemIds": [i.pk for i in items],
            }
            for prebook, items in batch.prebooks
        ],
        "prebookItems": [
            {
                "prebookItemId": item.pk,
                "prebookId": prebook_of[item.pk].pk,
                "prebookNumber": prebook_of[item.pk].number,
            }
            for item in batch.items
        ],
        "purchaseOrders": [
            {
                "purchaseOrderId": po.pk,
                "purchaseOrderNumber": po.number,
                "purchaseOrderStatus": po.status,
                "vendorId": po.vendor_id,
                "shipDate": po.ship_date,
                "purchaseOrderItems": [
                    {"poItemId": i.pk, "prebookItemId": i.prebook_item_id} for i in po_items
                ],
            }
            for po, po_items in batch.orders
        ],
    }
