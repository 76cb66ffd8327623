"""API methods of standing orders (reference §2.F, §3.6): the list, v2/standing-order (POST
creates, PUT updates, GET lists) and v2/standing-order/item (DELETE)."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from stemline.api.listing import Paged, listing, values_by, values_in_order
from stemline.api.registry import COMPANY, CUSTOMER, USER, api_method
from stemline.api.schemas import (
    Day,
    Envelope,
    Id,
    Number,
    OptDay,
    OptId,
    OptPage,
    OptRows,
    Out,
    Params,
    Str,
    blank_to_none,
    day,
    number,
)
from stemline.core.errors import Invalid, NotFound
from stemline.parties.models import Vendor

from . import invoicing, prebooking, queries, standing
from .api_prebooks import PrebookItemIn
from .models import StandingOrder, StandingOrderItem

# An unpaged standing.order.list longer than this is streamed, 500 orders at a time.
STREAM_FROM = 1000


def _day_names(value):
    value = blank_to_none(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _day_index(name: str) -> int:
    for n, day_name in enumerate(standing.DAY_NAMES):
        if name.strip().lower() in (day_name.lower(), day_name[:3].lower()):
            return n
    raise ValueError(f"{name!r} is not a day name (Monday ... Sunday)")


DayNames = Annotated[
    Annotated[list[Str(10)], Field(min_length=1, max_length=7)] | None,
    BeforeValidator(_day_names),
]
Recurrence = Annotated[Annotated[int, Field(ge=1, le=4)] | None, BeforeValidator(blank_to_none)]


class StandingItemIn(PrebookItemIn):
    standingOrderItemId: OptId = None
    identifier: Str(50) | None = None


class StandingOrderIn(Params):
    standingOrderID: OptId = None
    standingOrderId: OptId = None
    standingOrderItemId: OptId = None
    customerId: OptId = None
    customerCode: Str(10) | None = None
    customerDescription: Str(200) | None = None
    carrierId: OptId = None
    carrierCode: Str(10) | None = None
    carrierDescription: Str(200) | None = None
    startDate: OptDay = None
    endDate: OptDay = None
    shipViaId: Annotated[
        Annotated[int, Field(ge=0, le=1)] | None, BeforeValidator(blank_to_none)
    ] = None
    shipToId: OptId = None
    customerPO: Str(20) | None = None
    companyLocationId: OptId = None
    companyLocationCode: Str(10) | None = None
    recurrence: Recurrence = None
    truckDays: DayNames = None
    comments: Str(200) | None = None
    invoiceNotes: Str(200) | None = None
    status: Literal["All", "Active", "Cancelled"] | None = None
    items: Annotated[list[StandingItemIn], Field(max_length=200)] = []


class StandingItemOut(Out):
    standingOrderItemId: int
    productId: int
    productDescription: str
    boxTypeId: int
    boxType: str
    unitType: str
    boxes: int
    bunches: int
    stemsBunch: int
    price: Number
    vendorId: int | None
    markCode: str


class StandingOrderOut(Out):
    id: int
    number: int
    status: str
    customerId: int
    customerName: str
    priceList: str
    carrierId: int | None
    carrierName: str
    locationId: int
    recurrence: int
    days: str
    startDate: date
    endDate: date | None
    customerPO: str
    comments: str
    items: list[StandingItemOut]


class StandingOrderAnswer(Envelope):
    standingOrderId: int | None = None
    standingOrderNumber: int | None = None
    standingOrders: list[StandingOrderOut] = []


def _row(order: StandingOrder) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "customerId": order.customer_id,
        "customerName": order.customer.name,
        "priceList": order.customer.default_price,
        "carrierId": order.carrier_id,
        "carrierName": order.carrier.name if order.carrier else "",
        "locationId": order.location_id,
        "recurrence": order.recurrence,
        "days": ", ".join(standing.DAY_NAMES[d] for d in sorted(order.truck_days)),
        "startDate": order.start_date,
        "endDate": order.end_date,
        "customerPO": order.customer_po,
        "comments": order.comments,
        "items": [
            {
                "standingOrderItemId": i.pk,
                "productId": i.product_id,
                "productDescription": i.product.description,
                "boxTypeId": i.box_type_id,
                "boxType": i.box_type.code,
                "unitType": i.unit_type,
                "boxes": i.boxes,
                "bunches": i.bunches,
                "stemsBunch": i.stems_bunch,
                "price": i.price,
                "vendorId": i.vendor_id,
                "markCode": i.mark_code,
            }
            for i in order.lines
        ],
    }


def _items(call, items: list[StandingItemIn]) -> list[standing.SOItem]:
    out = []
    for n, p in enumerate(items):
        r = prebooking.ItemRequest(
            boxes=p.boxes,
            product_id=p.productId,
            product_code=p.productCode,
            box_type_id=p.boxTypeId,
            box_type_code=p.boxTypeCode,
            field=f"items[{n}]",
        )
        if p.bunches is None or p.stemsBunch is None:
            raise Invalid("bunches and stemsBunch are required", field=f"items[{n}].bunches")
        vendor = None
        if p.vendorId is not None:
            vendor = Vendor.objects.filter(company=call.company, pk=p.vendorId).first()
            if vendor is None:
                raise NotFound(f"vendor {p.vendorId} does not exist", field=f"items[{n}].vendorId")
        out.append(
            standing.SOItem(
                product=prebooking._product(call.company, r),
                box_type=prebooking._box_type(call.company, r),
                unit_type=p.unitType,
                boxes=p.boxes,
                bunches=p.bunches,
                stems_bunch=p.stemsBunch,
                price=p.price or Decimal("0"),
                vendor=vendor,
                mark_code=p.markCode,
                notes=p.notes,
                item_id=p.standingOrderItemId,
            )
        )
    return out


def _days(names: list[str]) -> list[int]:
    try:
        return sorted({_day_index(n) for n in names})
    except ValueError as exc:
        raise Invalid(str(exc), field="truckDays") from exc


def _list(call, *, customer_id=None, status=None, number=None, date_from=None, date_to=None):
    filters = {}
    customer_id = call.own_customer(customer_id)
    if customer_id is not None:
        filters["customer_id"] = customer_id
    if status and status != "All":
        filters["status"] = status
    if number is not None:
        filters["number"] = number
    qs = queries.standing_orders(call.company, **filters)
    if date_to is not None:
        qs = qs.filter(start_date__lte=date_to)
    if date_from is not None:
        qs = qs.exclude(end_date__lt=date_from)
    return [_row(o) for o in qs.order_by("number", "id")]


@api_method(
    "v2/standing-order",
    request=StandingOrderIn,
    response=StandingOrderAnswer,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    verbs=("GET", "POST", "PUT"),
    creates=True,
)
def standing_order_v2(call, p: StandingOrderIn):
    """Standing orders: POST creates, PUT updates (generated prebooks stay), GET lists."""
    verb = call.request.method
    company = call.company
    if verb == "GET":
        return {"standingOrders": _list(call, customer_id=p.customerId, status=p.status)}
    carrier = invoicing.carrier_by(company, p.carrierId, p.carrierCode)
    fields = {}
    if verb == "POST":
        customer_id = call.own_customer(p.customerId)
        customer = invoicing.customer_by(company, customer_id, p.customerCode)
        for name in ("startDate", "recurrence", "truckDays"):
            if getattr(p, name) is None:
                raise Invalid("required", field=name)
        if p.endDate is not None and p.endDate < p.startDate:
            raise Invalid("must not be before startDate", field="endDate")
        order = standing.create(
            company=company,
            location=invoicing.location_by(company, p.companyLocationId, p.companyLocationCode),
            customer=customer,
            carrier=carrier,
            ship_to=invoicing.ship_to_by(company, customer, p.shipToId) if p.shipToId else None,
            start_date=p.startDate,
            end_date=p.endDate,
            recurrence=p.recurrence,
            truck_days=_days(p.truckDays),
            ship_via=p.shipViaId or 0,
            customer_po=p.customerPO or "",
            comments=p.comments or "",
            invoice_notes=p.invoiceNotes or "",
            items=_items(call, p.items),
        )
        message = "The standing order was successfully saved."
    else:
        order_id = p.standingOrderID or p.standingOrderId
        if order_id is None:
            raise Invalid("required", field="standingOrderID")
        current = StandingOrder.objects.filter(company=company, pk=order_id).first()
        if current is None or (call.is_customer and current.customer_id != call.customer_id):
            raise NotFound(f"standing order {order_id} does not exist", field="standingOrderID")
        if carrier is not None:
            fields["carrier"] = carrier
        for name, value in (
            ("start_date", p.startDate),
            ("end_date", p.endDate),
            ("recurrence", p.recurrence),
            ("ship_via", p.shipViaId),
            ("customer_po", p.customerPO),
            ("comments", p.comments),
            ("invoice_notes", p.invoiceNotes),
        ):
            if value is not None:
                fields[name] = value
        if p.truckDays is not None:
            fields["truck_days"] = _days(p.truckDays)
        if p.shipToId is not None:
            fields["ship_to"] = invoicing.ship_to_by(company, current.customer, p.shipToId)
        if p.status in ("Active", "Cancelled"):
            fields["status"] = p.status
        order = standing.update(
            company=company, standing_order_id=order_id, items=_items(call, p.items), **fields
        )
        message = "The standing order was successfully updated."
    return {
        "message": message,
        "standingOrderId": order.pk,
        "standingOrderNumber": order.number,
        "standingOrders": _list(call, number=order.number)[:1],
    }


class StandingItemDeleteIn(Params):
    standingOrderId: Id
    standingOrderItemId: Id


class StandingItemDeletedOut(Envelope):
    standingOrderId: int
    standingOrderItemId: int


@api_method(
    "v2/standing-order/item",
    request=StandingItemDeleteIn,
    response=StandingItemDeletedOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="sales",
    verbs=("DELETE",),
)
def standing_order_item_delete(call, p: StandingItemDeleteIn):
    """Remove a standing-order line (prebooks already generated keep theirs)."""
    if (
        call.is_customer
        and not StandingOrder.objects.filter(
            company=call.company, pk=p.standingOrderId, customer_id=call.customer_id
        ).exists()
    ):
        raise NotFound(
            f"standing order {p.standingOrderId} does not exist", field="standingOrderId"
        )
    standing.delete_item(
        company=call.company, standing_order_id=p.standingOrderId, item_id=p.standingOrderItemId
    )
    return {
        "message": "Standing Order Item was deleted successfully.",
        "standingOrderId": p.standingOrderId,
        "standingOrderItemId": p.standingOrderItemId,
    }


class StandingListIn(Params):
    dateFrom: Day
    dateTo: Day
    customer: Str(50) | None = None
    customerId: OptId = None
    number: Str(10) | None = None
    locationId: OptId = None
    status: Literal["All", "Active", "Cancelled"] = "Active"
    page: OptPage = None
    rows: OptRows = None


class StandingListOut(Paged):
    standingOrders: list[StandingOrderOut]


@api_method(
    "standing.order.list",
    request=StandingListIn,
    response=StandingListOut,
    tokens=[COMPANY, USER],
    area="sales",
    read=True,
)
def standing_order_list(call, p: StandingListIn):
    """Standing orders active in a date window (status Active by default, or All/Cancelled).

    In number order, then id. A long answer is streamed as it is read. Paging: send `page`
    (from 1) and/or `rows` (1-1,000; 100 when only `page` is sent) for one page in the list's
    order, with `total` (how many match), `page` and `rows` in the answer; without them the
    whole list comes, as before."""
    if p.dateTo < p.dateFrom:
        raise Invalid("must not be before dateFrom", field="dateTo")
    qs = StandingOrder.objects.filter(company=call.company)
    customer_id = call.own_customer(p.customerId)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if p.status and p.status != "All":
        qs = qs.filter(status=p.status)
    if p.number:
        qs = qs.filter(number=queries.document_number(p.number, "number"))
    qs = qs.filter(start_date__lte=p.dateTo).exclude(end_date__lt=p.dateFrom)
    if p.customer:
        qs = qs.filter(customer__name__icontains=p.customer)
    if p.locationId is not None:
        qs = qs.filter(location_id=p.locationId)
    return listing(
        p,
        qs,
        order=("number", "id"),
        key="standingOrders",
        rows=_standing_rows,
        method="standing.order.list",
        stream_from=STREAM_FROM,
    )


STANDING_VALUES = (
    "number",
    "status",
    "customer_id",
    "customer__name",
    "customer__default_price",
    "carrier_id",
    "carrier__name",
    "location_id",
    "recurrence",
    "truck_days",
    "start_date",
    "end_date",
    "customer_po",
    "comments",
)
STANDING_ITEM_VALUES = (
    "id",
    "product_id",
    "product__description",
    "box_type_id",
    "box_type__code",
    "unit_type",
    "boxes",
    "bunches",
    "stems_bunch",
    "price",
    "vendor_id",
    "mark_code",
)


def _standing_rows(ids: list[int]) -> list[dict]:
    """standing.order.list's rows of these standing orders with their lines: two queries."""
    items = values_by(StandingOrderItem.objects, "standing_order_id", ids, STANDING_ITEM_VALUES)
    rows = []
    for (
        pk,
        number_,
        status,
        customer_id,
        customer_name,
        price_list,
        carrier_id,
        carrier_name,
        location_id,
        recurrence,
        truck_days,
        start_date,
        end_date,
        customer_po,
        comments,
    ) in values_in_order(StandingOrder, ids, STANDING_VALUES):
        rows.append(
            {
                "id": pk,
                "number": number_,
                "status": status,
                "customerId": customer_id,
                "customerName": customer_name,
                "priceList": price_list,
                "carrierId": carrier_id,
                "carrierName": carrier_name or "",
                "locationId": location_id,
                "recurrence": recurrence,
                "days": ", ".join(standing.DAY_NAMES[d] for d in sorted(truck_days)),
                "startDate": day(start_date),
                "endDate": day(end_date),
                "customerPO": customer_po,
                "comments": comments,
                "items": [
                    {
                        "standingOrderItemId": item_id,
                        "productId": product_id,
                        "productDescription": description,
                        "boxTypeId": box_type_id,
                        "boxType": box_type,
                        "unitType": unit_type,
                        "boxes": boxes,
                        "bunches": bunches,
                        "stemsBunch": stems_bunch,
                        "price": number(price),
                        "vendorId": vendor_id,
                        "markCode": mark_code,
                    }
                    for (
                        item_id,
                        product_id,
                        description,
                        box_type_id,
                        box_type,
                        unit_type,
                        boxes,
                        bunches,
                        stems_bunch,
                        price,
                        vendor_id,
                        mark_code,
                    ) in items[pk]
                ],
            }
        )
    return rows
