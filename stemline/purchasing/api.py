"""API methods of purchasing: purchase orders, the farm's confirmation, AWBs and box codes,
receiving, and vendor invoices. A Vendor token sees and changes only its own."""

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import BeforeValidator, Field

from stemline.api.errors import ApiError
from stemline.api.registry import COMPANY, USER, VENDOR, api_method
from stemline.api.schemas import (
    Envelope,
    Id,
    Number,
    OptBool,
    OptId,
    OptMoney,
    Out,
    Params,
    Required,
    Str,
    blank_to_none,
    flag,
)
from stemline.catalog.models import UnitType
from stemline.core.errors import DomainError, Invalid
from stemline.inventory.api import Cost, Day, OptCost, OptDay, Since
from stemline.inventory.models import AWB_MAX_LENGTH

from . import queries, services
from .models import PurchaseOrder, PurchaseOrderItem

MAX_LINES = 200
MAX_WINDOW_DAYS = 184  # six months (reference §1.5)
FUTURE_WINDOW_DAYS = 4


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


class POListOut(Envelope):
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
    """Purchase orders with their lines, breakdowns and shipped boxes (a Vendor token: its own)."""
    start, end = _window(p)
    future_from, future_to = _future_window(p)
    numbers = [n.strip() for n in (p.number or "").split(",") if n.strip()]
    orders = queries.purchase_orders(
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
        line_status=_one_of(p.statusLine, PurchaseOrderItem.Status.values, "statusLine"),
    )
    return {"purchaseOrders": [queries.po_row(po) for po in orders]}


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
    orders = queries.changed_since(call.company, p.since, vendor_id=_vendor_scope(call))
    return {
        "maxSeq": orders[-1].seq if orders else p.since,
        "more": flag(len(orders) == queries.SYNC_ROWS),
        "purchaseOrders": [queries.po_row(po) for po in orders],
    }


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


class AwbListOut(Envelope):
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
    """AWBs with their pieces (boxes shipped) and pieces received, by AWB or ship date."""
    if not p.awb and p.shipDate is None:
        raise Invalid("send awb (its last 4 digits will do) or shipDate", field="awb")
    awbs = queries.awbs(
        call.company,
        awb=p.awb,
        ship_date=p.shipDate,
        origin=p.originCode,
        location_code=p.locationCode,
    )
    return {"awbs": [queries.awb_row(a) for a in awbs]}


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


def _byte(value) -> int:
    number = int(str(value).strip())
    if not -128 <= number <= 255:
        raise ValueError(number)
    return number % 256  # Java's signed bytes: -30 is 226


def _attachment(value: Any) -> bytes:
    """The file as Komet sends it (a byte array: JSON numbers or their comma-separated text,
    signed or not) or as base64 text (a data: URL too)."""
    if isinstance(value, list):
        numbers = value
    elif isinstance(value, str) and value.startswith("data:"):
        value = value.partition(",")[2]
        numbers = None
    elif isinstance(value, str) and "," in value[:20]:
        numbers = value.split(",")
    else:
        numbers = None
    if numbers is not None:
        try:
            return bytes(_byte(n) for n in numbers)
        except (ValueError, TypeError):
            raise Invalid(
                "must be a byte array (numbers from -128 to 255)", field="attachment"
            ) from None
    if not isinstance(value, str):
        raise Invalid("must be a byte array or base64 text", field="attachment")
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("must be a byte array or base64 text", field="attachment") from None


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
    upload = call.request.FILES.get("attachment")
    if upload is not None:
        if upload.size > services.MAX_FILE_BYTES:
            raise ApiError.for_field(
                "attachment", "too_large", "the file is larger than 20 MB", 413
            )
        data = upload.read()
    elif p.attachment is None or p.attachment == "" or p.attachment == []:
        raise Invalid("the file is required (empty or missing)", field="attachment")
    else:
        data = _attachment(p.attachment)
    if len(data) > services.MAX_FILE_BYTES:
        raise ApiError.for_field("attachment", "too_large", "the file is larger than 20 MB", 413)
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
    externalSystemSynced: int


class VendorInvoiceListOut(Envelope):
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
    """Stemline: the vendor invoices uploaded to the company, newest first (at most 1,000)."""
    rows = queries.vendor_invoices(
        call.company,
        po_number=p.poNumber,
        vendor_id=p.vendorId,
        synced=p.externalSystemSynced,
        date_from=p.dateFrom,
        date_to=p.dateTo,
    )
    return {
        "vendorInvoices": [
            {
                "vendorInvoiceId": v.pk,
                "poNumber": v.purchase_order.number,
                "purchaseOrderId": v.purchase_order_id,
                "vendorId": v.vendor_id,
                "vendorName": v.vendor.name,
                "invoiceNumber": v.invoice_number,
                "invoiceTotal": v.invoice_total,
                "contentType": v.content_type,
                "size": v.size,
                "sha256": v.sha256,
                "uploadedAt": v.uploaded_at,
                "externalSystemSynced": flag(v.synced_at is not None),
            }
            for v in rows
        ]
    }
