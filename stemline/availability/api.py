"""API methods of vendor availability: growers' offers listed, offered, sold onto prebooks,
and the purchase orders that bought what was sold of them."""

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from stemline.api.registry import COMPANY, USER, VENDOR, api_method
from stemline.api.schemas import (
    Envelope,
    Id,
    Money,
    Number,
    OptBool,
    OptId,
    OptInt,
    Out,
    Params,
    Str,
    blank_to_none,
)
from stemline.core.errors import Invalid
from stemline.inventory import queries as stock_queries
from stemline.inventory import services as stock
from stemline.parties.models import Customer
from stemline.purchasing import services as purchasing

from . import queries, services
from .models import Offer

MAX_IDS = 100


def _comma_list(value):
    """Komet sends ID lists as "428545, 428544"; JSON clients may send a list."""
    value = blank_to_none(value)
    if value is None:
        return value
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out.extend(part.strip() for part in item.replace(":", ",").split(",") if part.strip())
        else:
            out.append(item)
    return out


IdList = Annotated[list[Id], BeforeValidator(_comma_list), Field(min_length=1, max_length=MAX_IDS)]
OptIdList = Annotated[
    Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS)] | None,
    BeforeValidator(_comma_list),
]
OptDate = Annotated[date | None, BeforeValidator(blank_to_none)]
Boxes = Annotated[int, Field(ge=1, le=services.MAX_BOXES)]
UnitTypeIn = Annotated[
    Literal["Stem", "Bunch"],
    BeforeValidator(lambda v: v.strip().capitalize() if isinstance(v, str) else v),
]


# ---------------------------------------------------------------- rows


class OfferOut(Out):
    inventoryId: int
    companyProductId: int
    productDescription: str
    productCode: str
    grade: str
    category: str
    color: str
    vendorId: int
    vendorCode: str
    vendorName: str
    vendorProduct: str
    boxTypeId: int
    boxTypeCode: str
    unitType: str
    bunches: int
    stemsBunch: int
    unitsPerBox: int
    quantity: int
    offered: int
    sold: int
    availableFrom: date
    availableTo: date
    unitCost: Number | None
    price: Number | None
    fobPrice: Number | None
    locationId: int
    inventoryOrigin: int


def offer_row(offer: Offer, *, buyer: Customer | None, show_cost: bool) -> dict:
    line = offer.line
    product = line.product
    return {
        "inventoryId": offer.pk,
        "companyProductId": product.pk,
        "productDescription": product.description,
        "productCode": product.legacy_code,
        "grade": product.grade,
        "category": product.category.name,
        "color": product.color,
        "vendorId": offer.vendor_id,
        "vendorCode": offer.vendor.code,
        "vendorName": offer.vendor.name,
        "vendorProduct": offer.vendor_product,
        "boxTypeId": line.box_type_id,
        "boxTypeCode": line.box_type.code,
        "unitType": line.unit_type,
        "bunches": line.bunches,
        "stemsBunch": line.stems_bunch,
        "unitsPerBox": line.units_per_box,
        "quantity": max(0, line.available),
        "offered": offer.offered,
        "sold": offer.offered - max(0, line.available),
        "availableFrom": offer.available_from,
        "availableTo": offer.available_to,
        "unitCost": line.unit_cost if show_cost else None,
        "price": line.price_a,
        "fobPrice": stock.customer_price(line, buyer) if buyer is not None else None,
        "locationId": line.location_id,
        "inventoryOrigin": 3,
    }


# ---------------------------------------------------------------- vendor.availability.items.list


class ItemsListIn(Params):
    dateFrom: date
    dateTo: date
    exactDate: OptBool = None
    locationId: OptId = None
    customerId: OptId = None
    shipViaId: Annotated[int | None, Field(ge=0, le=1), BeforeValidator(blank_to_none)] = None
    availableOnly: OptBool = None
    vendorId: OptId = None


class ItemsListOut(Envelope):
    inventoryItems: list[OfferOut]


@api_method(
    "vendor.availability.items.list",
    request=ItemsListIn,
    response=ItemsListOut,
    tokens=[COMPANY, USER, VENDOR],
    area="inventory",
    read=True,
)
def vendor_availability_items_list(call, p: ItemsListIn):
    """Growers' offers (vendor availability, origin 3) that can ship in a date range.

    An offer is listed when its shipping window (`availableFrom`..`availableTo`) overlaps
    `dateFrom`..`dateTo`; with `exactDate` only when it covers the whole range. `quantity` is
    what is left to sell, `sold` what shops have sold of it (bought from the grower on purchase
    orders, or in carts now); `availableOnly` leaves out offers with nothing left. `price` is
    the company's selling price (the grower's cost plus the company's markup); `fobPrice` that
    price for `customerId` when sent. `shipViaId` (0 warehouse, 1 grower) is accepted and does
    not narrow the list: every offer ships through the company's warehouse. A Vendor token sees
    its own offers only, without the company's prices."""
    if p.dateTo < p.dateFrom:
        raise Invalid("must not be before dateFrom", field="dateTo")
    if (p.dateTo - p.dateFrom) > timedelta(days=366):
        raise Invalid("the range is at most a year", field="dateTo")
    company = call.company
    stock_queries.location(company, p.locationId, "locationId")
    buyer = stock_queries.customer(company, p.customerId) if p.customerId is not None else None
    vendor_id = call.vendor_id if call.is_vendor else p.vendorId
    found = queries.offers(
        company,
        date_from=p.dateFrom,
        date_to=p.dateTo,
        exact=bool(p.exactDate),
        location_id=p.locationId,
        vendor_id=vendor_id,
        available_only=bool(p.availableOnly),
        today=stock.today(),
    )
    rows = [offer_row(o, buyer=buyer, show_cost=True) for o in found]
    if call.is_vendor:
        for row in rows:
            row.update(price=None, fobPrice=None)
    message = "OK" if rows else "Inventory items not found."
    return {"message": message, "inventoryItems": rows}


# ---------------------------------------------------------------- vendor.availability.items.add


class OfferItemIn(Params):
    productId: OptId = None
    productCode: Str(20) | None = None
    productDescription: Str(300) | None = None
    boxTypeId: OptId = None
    boxTypeCode: Str(10) | None = None
    unitType: UnitTypeIn
    bunches: Annotated[int, Field(ge=1, le=100_000)]
    stemsBunch: Annotated[int, Field(ge=1, le=100_000)]
    quantity: Annotated[int, Field(ge=0, le=services.MAX_BOXES)]
    unitCost: Annotated[Money(10, 3), Field(ge=0)]
    availableFrom: date
    availableTo: date
    vendorProduct: Str(100) = ""


class OfferAddIn(Params):
    vendorId: OptId = None
    vendorCode: Str(20) | None = None
    locationId: OptId = None
    mode: Literal["add", "replace"] = "add"
    items: Annotated[list[OfferItemIn], Field(max_length=services.MAX_ROWS)]


class OfferResultOut(Out):
    status: int
    message: str
    inventoryId: int | None
    offered: int
    quantity: int


class OfferAddOut(Envelope):
    items: list[OfferResultOut]


@api_method(
    "vendor.availability.items.add",
    request=OfferAddIn,
    response=OfferAddOut,
    tokens=[COMPANY, VENDOR],
    area="purchasing",
    creates=True,
    max_body=2 * 1024 * 1024,
)
def vendor_availability_items_add(call, p: OfferAddIn):
    """Stemline's addition: a grower offers what it can ship, by date.

    The API door of the Vendor Portal's form and CSV upload. Each item names a company product (`productId`, `productCode` or `productDescription`), a
    box type, the pack, the boxes (`quantity`), the grower's `unitCost` and the shipping window
    (`availableFrom`..`availableTo`). `mode` `add` (the default) adds the boxes to the matching
    offer (same product, pack and window) or makes a new one; `replace` makes the items the
    grower's whole offer at the location: a matching offer gets the item's boxes, the grower's
    other open offers are withdrawn, and none ever goes below what was sold of it (such an item
    answers "kept at N boxes"). All items or none: a refused item names its index. A Vendor
    token offers for its own vendor; a Company token names `vendorId` or `vendorCode`. The
    answer's `inventoryId` is the vendor-availability item id shops buy with
    (`inventoryOrigin` 3)."""
    company = call.company
    vendor = purchasing.vendor_of(
        company,
        vendor_id=p.vendorId,
        vendor_code=p.vendorCode,
        token_vendor_id=call.vendor_id if call.is_vendor else None,
    )
    location = None
    if p.locationId is not None:
        location = stock_queries.location(company, p.locationId, "locationId")
    rows = []
    for n, item in enumerate(p.items):
        where = f"items[{n}]"
        rows.append(
            services.OfferRow(
                line_number=n,
                product=purchasing.product_of(
                    company,
                    product_id=item.productId,
                    code=item.productCode,
                    description=item.productDescription,
                    field=where,
                ),
                box_type=purchasing.box_type_of(
                    company, box_type_id=item.boxTypeId, code=item.boxTypeCode, field=where
                ),
                unit_type=item.unitType,
                bunches=item.bunches,
                stems_bunch=item.stemsBunch,
                boxes=item.quantity,
                unit_cost=item.unitCost,
                available_from=item.availableFrom,
                available_to=item.availableTo,
                vendor_product=item.vendorProduct,
                field=where,
            )
        )
    results = services.offer(
        company=company, vendor=vendor, rows=rows, replace=p.mode == "replace", location=location
    )
    return {
        "message": "The availability was successfully saved.",
        "items": [
            {
                "status": 1,
                "message": r.message,
                "inventoryId": r.offer.pk if r.offer else None,
                "offered": r.offered,
                "quantity": r.available,
            }
            for r in results
        ],
    }


# ---------------------------------------------------------------- prebook.vendor.availability.item.add


class PrebookVaAddIn(Params):
    prebookId: Id
    inventoryIds: IdList
    quantity: Boxes
    price: Annotated[Money(10, 2), Field(ge=0)]
    markCode: Str(20) = ""
    boxTypeId: OptId = None
    boxTypeCode: Str(10) | None = None
    stemsBunch: OptInt = None
    unitType: Annotated[UnitTypeIn | None, BeforeValidator(blank_to_none)] = None
    bunches: OptInt = None


class PrebookVaAddOut(Envelope):
    prebookItemId: int
    prebookItemIds: list[int]
    purchaseOrderItemIds: list[int]


@api_method(
    "prebook.vendor.availability.item.add",
    request=PrebookVaAddIn,
    response=PrebookVaAddOut,
    tokens=[COMPANY],
    area="sales",
    creates=True,
)
def prebook_vendor_availability_item_add(call, p: PrebookVaAddIn):
    """Add a line sourced from Vendor Availability to a prebook (one line per id in
    `inventoryIds`, `quantity` boxes of each, at `price`).

    The boxes are sold at once (409 naming each short item and its boxes left, nothing
    written), and bought from the grower in the same call: the prebook line goes onto the
    open purchase order to that grower for its ship date, or a new one (`purchaseOrderItemIds`;
    purchase.order.va.details.list reads them back). The pack fields (`boxTypeId`,
    `boxTypeCode`, `stemsBunch`, `unitType`, `bunches`), when sent, must be the offer's:
    Stemline sells an offer as the grower packs it. `prebookItemId` is the first line's id,
    `prebookItemIds` all of them."""
    company = call.company
    pack = {
        "box_type_id": p.boxTypeId,
        "stems_bunch": p.stemsBunch,
        "unit_type": p.unitType,
        "bunches": p.bunches,
    }
    if p.boxTypeCode:
        pack["box_type_id"] = purchasing.box_type_of(company, code=p.boxTypeCode, field="pack").pk
    items = services.add_to_prebook(
        company=company,
        prebook_id=p.prebookId,
        offer_ids=p.inventoryIds,
        boxes=p.quantity,
        price=p.price,
        mark_code=p.markCode,
        pack=pack,
    )
    po_items = queries.purchase_items_of([i.pk for i in items])
    return {
        "message": "The item was successfully added to the prebook.",
        "prebookItemId": items[0].pk,
        "prebookItemIds": [i.pk for i in items],
        "purchaseOrderItemIds": po_items,
    }


# ---------------------------------------------------------------- purchase.order.va.details.list


class VaDetailsIn(Params):
    purchaseOrderNumbers: Annotated[
        Annotated[list[Str(10)], Field(min_length=1, max_length=MAX_IDS)] | None,
        BeforeValidator(_comma_list),
    ] = None
    purchaseOrderItemIds: OptIdList = None
    shipDate: OptDate = None


class VaDetailOut(Out):
    productDescription: str
    productCode: str
    availableFrom: date
    availableTo: date
    postHarvest: str
    unitType: str
    unitsAllocated: int
    boxesAllocated: int
    vendorAvailabilityId: int
    prebookItemId: int | None


class VaLineOut(Out):
    poItemId: int
    boxes: int
    unitCost: Number
    status: str
    vendorAvailabilityDetails: list[VaDetailOut]


class VaOrderOut(Out):
    id: int
    number: str
    shipDate: date
    vendorId: int
    vendorName: str
    status: str
    details: list[VaLineOut]


class VaDetailsOut(Envelope):
    purchaseOrders: list[VaOrderOut]


@api_method(
    "purchase.order.va.details.list",
    request=VaDetailsIn,
    response=VaDetailsOut,
    tokens=[COMPANY, VENDOR],
    area="purchasing",
    read=True,
)
def purchase_order_va_details_list(call, p: VaDetailsIn):
    """Purchase orders created from vendor availability: each line with the offer its boxes
    were bought from (`vendorAvailabilityDetails`: the offer's product and window, and the
    boxes and units of it allocated to this line).

    Send `purchaseOrderNumbers` (comma list) and/or `purchaseOrderItemIds`; `shipDate` narrows
    to POs shipping that day. Lines of those POs that did not come from vendor availability
    are not listed. A Vendor token sees its own POs only."""
    if not p.purchaseOrderNumbers and not p.purchaseOrderItemIds:
        raise Invalid(
            "send purchaseOrderNumbers or purchaseOrderItemIds", field="purchaseOrderNumbers"
        )
    orders = queries.va_orders(
        call.company,
        numbers=p.purchaseOrderNumbers,
        item_ids=p.purchaseOrderItemIds,
        ship_date=p.shipDate,
        vendor_id=call.vendor_id if call.is_vendor else None,
    )
    return {
        "message": "OK" if orders else "Purchase orders not found.",
        "purchaseOrders": orders,
    }
