"""API methods of inventory: adding and changing lines, the open-market and shop lists, feeds."""

from datetime import date, datetime
from typing import Annotated, Literal

from django.db.models import F, Q
from pydantic import BeforeValidator, Field

from stemline.api.registry import COMPANY, CUSTOMER, USER, VENDOR, api_method
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
    Out,
    Params,
    Required,
    Since,
    Str,
    flag,
    or_default,
)
from stemline.catalog.models import BoxType, Product, UnitType
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor

from . import queries, services, totals
from .models import AWB_MAX_LENGTH, InventoryChange, InventoryLine, Origin
from .rows import pack_fields, shop_row

ORIGIN_NAMES = {1: "On Hand", 2: "Future Sales", 3: "Vendor Availability", 4: "K2K"}


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _comma_list(value):
    """Komet sends ID lists as "1,2,3"; JSON clients may send a list."""
    if value is None:
        return value
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            out.extend(part.strip() for part in item.split(",") if part.strip())
        else:
            out.append(item)
    return out


IdList = Annotated[list[Id], BeforeValidator(_comma_list), Field(min_length=1, max_length=200)]
CodeList = Annotated[
    Annotated[list[Required(30)], Field(max_length=services.MAX_BOXES_PER_CALL)] | None,
    BeforeValidator(_comma_list),
]
Boxes = Annotated[int, Field(ge=1, le=services.MAX_BOXES_PER_CALL)]
PerBox = Annotated[int, Field(ge=1, le=100_000)]
OriginIn = Annotated[int, Field(ge=1, le=4)]


def _origin(value: int) -> int:
    if value not in Origin.values:
        raise Invalid(f"this company does not offer {ORIGIN_NAMES[value]}", field="inventoryOrigin")
    return value


# ---------------------------------------------------------------- rows


class InventoryItemOut(Out):
    inventoryId: int
    orderItemId: int
    companyProductId: int
    productDescription: str
    productCode: str
    grade: str
    category: str
    quantity: int
    available: int
    held: int
    sold: int
    totalUnits: int
    growerId: int | None
    growerName: str
    boxTypeId: int
    boxTypeCode: str
    unitType: str
    bunches: int
    unitsPerBox: int
    unitsInventory: bool = False
    stemsBunch: int
    unitCost: Number | None
    priceA: Number | None
    priceB: Number | None
    awb: str
    lotNumber: str
    markCode: str
    locationId: int
    customerId: int | None
    externalId: str
    inventoryOrigin: int
    arrivalDate: date | None
    boxCodes: list[str] | None = None


def _product_fields(line: InventoryLine) -> dict:
    product = line.product
    return {
        "companyProductId": product.pk,
        "productDescription": product.description,
        "productCode": product.legacy_code,
        "grade": product.grade,
        "category": product.category.name,
    }


def _inventory_item(line, today, *, quantity: int, show_prices: bool, boxes=None) -> dict:
    return {
        "inventoryId": line.pk,
        "orderItemId": line.pk,
        **_product_fields(line),
        "quantity": quantity,
        "available": line.available,
        "held": line.held,
        "sold": line.committed,
        "totalUnits": quantity * line.units_per_box,
        "growerId": line.vendor_id,
        "growerName": line.vendor.name if line.vendor else "",
        **pack_fields(line),
        "unitCost": line.unit_cost,
        # A grower sees what it is paid, not what the company sells for.
        "priceA": line.price_a if show_prices else None,
        "priceB": line.price_b if show_prices else None,
        "awb": line.awb,
        "lotNumber": line.lot_number,
        "markCode": line.mark_code,
        "locationId": line.location_id,
        "customerId": line.reserved_for_id,
        "externalId": line.external_id,
        "inventoryOrigin": line.origin_on(today),
        "arrivalDate": line.arrival_date,
        "boxCodes": boxes,
    }


# ---------------------------------------------------------------- inventory.add


class InventoryAddIn(Params):
    growerId: OptId = None
    vendorCode: Str(20) | None = None
    awb: Required(AWB_MAX_LENGTH)
    isTmpAwb: OptBool = None
    reference: Str(20) = ""
    shipDate: Day
    arrivalDate: OptDay = None
    customerId: OptId = None
    productId: OptId = None
    productCode: Str(20) | None = None
    productDescription: Str(300) | None = None
    quantity: Boxes
    boxTypeId: OptId = None
    boxTypeCode: Str(10) | None = None
    unitType: Annotated[Literal["stem", "bunch"], BeforeValidator(_lower)]
    stemsBunch: PerBox
    bunches: PerBox
    unitCost: Cost
    priceA: OptCost = None
    priceB: OptCost = None
    markCode: Str(20) = ""
    lotNumber: Str(20) = ""
    locationId: OptId = None
    confirmInventory: OptBool = None
    externalId: Str(100) = ""
    boxCodes: CodeList = None


class InventoryAddOut(Envelope):
    inventoryIds: list[int]
    boxCodes: list[str]


def _vendor(company, p: InventoryAddIn) -> Vendor:
    if p.growerId is not None:
        found = Vendor.objects.filter(company=company, pk=p.growerId).first()
        if found is None:
            raise NotFound(f"grower {p.growerId} does not exist", field="growerId")
        return found
    if p.vendorCode:
        found = Vendor.objects.filter(company=company, code__iexact=p.vendorCode).first()
        if found is None:
            raise NotFound(f"vendor {p.vendorCode!r} does not exist", field="vendorCode")
        return found
    raise Invalid("send growerId or vendorCode", field="growerId")


def _product(company, p: InventoryAddIn) -> Product:
    products = Product.objects.filter(company=company)
    if p.productId is not None:
        field, label, found = "productId", p.productId, list(products.filter(pk=p.productId))
    elif p.productCode:
        field, label = "productCode", repr(p.productCode)
        found = list(products.filter(legacy_code__iexact=p.productCode)[:2])
    elif p.productDescription:
        field, label = "productDescription", repr(p.productDescription)
        found = list(products.filter(description__iexact=p.productDescription)[:2])
    else:
        raise Invalid("send productId, productCode or productDescription", field="productId")
    if not found:
        raise NotFound(f"product {label} does not exist", field=field)
    if len(found) > 1:
        raise Invalid(f"product {label} names several products; send productId", field=field)
    if not found[0].active:
        raise Invalid(f"product {label} is inactive", field=field)
    return found[0]


def _box_type(company, p: InventoryAddIn) -> BoxType:
    box_types = BoxType.objects.filter(company=company)
    if p.boxTypeId is not None:
        field, label, found = "boxTypeId", p.boxTypeId, box_types.filter(pk=p.boxTypeId).first()
    elif p.boxTypeCode:
        field, label = "boxTypeCode", repr(p.boxTypeCode)
        found = box_types.filter(code__iexact=p.boxTypeCode).first()
    else:
        raise Invalid("send boxTypeId or boxTypeCode", field="boxTypeId")
    if found is None:
        raise NotFound(f"box type {label} does not exist", field=field)
    if not found.active:
        raise Invalid(f"box type {label} is inactive", field=field)
    return found


@api_method(
    "inventory.add",
    request=InventoryAddIn,
    response=InventoryAddOut,
    tokens=[COMPANY, USER],
    area="inventory",
    creates=True,
)
def inventory_add(call, p: InventoryAddIn):
    """Add boxes from a grower on an AWB (future inventory when arrivalDate is after today)."""
    company = call.company
    vendor = _vendor(company, p)
    product = _product(company, p)
    box_type = _box_type(company, p)
    reserved_for = queries.customer(company, p.customerId) if p.customerId is not None else None
    where = queries.location(company, p.locationId, "locationId", required_if_multi=True)
    line = services.add_line(
        company=company,
        quantity=p.quantity,
        box_codes=p.boxCodes,
        location=where or queries.default_location(company),
        product=product,
        box_type=box_type,
        vendor=vendor,
        reserved_for=reserved_for,
        awb=p.awb,
        is_tmp_awb=bool(p.isTmpAwb),
        reference=p.reference,
        lot_number=p.lotNumber,
        mark_code=p.markCode,
        ship_date=p.shipDate,
        arrival_date=p.arrivalDate,
        unit_type=UnitType.BUNCH if p.unitType == "bunch" else UnitType.STEM,
        bunches=p.bunches,
        stems_bunch=p.stemsBunch,
        unit_cost=p.unitCost,
        # Boxes sent without prices take the product's default prices (Setup > Products).
        price_a=p.priceA if p.priceA is not None else product.price_a,
        price_b=p.priceB if p.priceB is not None else product.price_b,
        external_id=p.externalId,
        confirm_inventory=bool(p.confirmInventory),
        # Confirmations of these boxes go back to the system that shared them.
        source_token=call.token if p.confirmInventory else None,
    )
    codes = list(line.boxes.order_by("id").values_list("code", flat=True))
    return {
        "message": "The inventory was successfully added.",
        "inventoryIds": [line.pk],
        "boxCodes": codes,
    }


# ---------------------------------------------------------------- inventory.update / delete


class InventoryUpdateIn(Params):
    inventoryId: Id
    quantity: Annotated[int | None, Field(ge=0, le=services.MAX_BOXES_PER_CALL)] = None
    unitCost: OptCost = None
    priceA: OptCost = None
    priceB: OptCost = None


class InventoryChangedOut(Envelope):
    inventoryId: int
    quantity: int
    available: int


def _not_an_offer(company, line_id: int) -> None:
    """A grower's offer (origin 3) changes through its grower (vendor.availability.items.add),
    which keeps what was offered and what was bought of it together."""
    if InventoryLine.objects.filter(
        company=company, pk=line_id, offered_until__isnull=False
    ).exists():
        raise Conflict(
            f"inventory line {line_id} is a grower's offer (vendor availability); change it "
            "with vendor.availability.items.add",
            field="inventoryId",
        )


@api_method(
    "inventory.update",
    request=InventoryUpdateIn,
    response=InventoryChangedOut,
    tokens=[COMPANY, USER],
    area="inventory",
)
def inventory_update(call, p: InventoryUpdateIn):
    """Change a line's boxes (never below those sold or held), cost or prices."""
    if all(v is None for v in (p.quantity, p.unitCost, p.priceA, p.priceB)):
        raise Invalid("send quantity, unitCost, priceA or priceB", field="quantity")
    _not_an_offer(call.company, p.inventoryId)
    line = services.update_line(
        company=call.company,
        line_id=p.inventoryId,
        quantity=p.quantity,
        unit_cost=p.unitCost,
        price_a=p.priceA,
        price_b=p.priceB,
    )
    return {
        "message": "The inventory Item has been updated successfully",
        "inventoryId": line.pk,
        "quantity": line.total,
        "available": line.available,
    }


class InventoryDeleteIn(Params):
    inventoryId: Id
    quantity: Annotated[int | None, Field(ge=1, le=2_000_000_000)] = None


class InventoryDeletedOut(InventoryChangedOut):
    deleted: int


@api_method(
    "inventory.delete",
    request=InventoryDeleteIn,
    response=InventoryDeletedOut,
    tokens=[COMPANY, USER],
    area="inventory",
)
def inventory_delete(call, p: InventoryDeleteIn):
    """Delete unsold boxes of a line (all of them unless quantity says how many)."""
    _not_an_offer(call.company, p.inventoryId)
    deleted = services.delete_boxes(
        company=call.company, line_id=p.inventoryId, quantity=p.quantity
    )
    line = InventoryLine.objects.get(pk=p.inventoryId)
    return {
        "message": "The inventory was successfully deleted.",
        "inventoryId": line.pk,
        "deleted": deleted,
        "quantity": line.total,
        "available": line.available,
    }


# ---------------------------------------------------------------- inventory.list


class InventoryListIn(Params):
    includeBoxes: OptBool = None
    inventoryType: Str(20) | None = None
    excludeHeldItems: OptBool = None
    lotNumber: Str(20) | None = None
    locationId: OptId = None


class InventoryListOut(Envelope):
    inventoryItems: list[InventoryItemOut]


INVENTORY_TYPES = {"M", "L", "S", "P"}


def _wants_open_market(inventory_type: str | None) -> bool:
    if not inventory_type or inventory_type.lower() == "all":
        return True
    kinds = {part.strip().upper() for part in inventory_type.split(",") if part.strip()}
    unknown = kinds - INVENTORY_TYPES
    if unknown or not kinds:
        raise Invalid("must be M, L, S, P (comma-combined) or all", field="inventoryType")
    # Stemline keeps open-market boxes only; local, standing-order and prebook stock is none.
    return "M" in kinds


@api_method(
    "inventory.list",
    request=InventoryListIn,
    response=InventoryListOut,
    tokens=[COMPANY, VENDOR, USER],
    area="inventory",
    read=True,
)
def inventory_list(call, p: InventoryListIn):
    """Unsold boxes per line, on hand and future (a Vendor token sees its own lines only)."""
    if not _wants_open_market(p.inventoryType):
        return {"inventoryItems": []}
    unsold = queries.AVAILABLE if p.excludeHeldItems else Q(total__gt=F("committed"))
    # Growers' offers are not boxes of the company's (vendor.availability.items.list has them).
    qs = queries.lines(call.company).filter(unsold, queries.BOXES)
    if call.is_vendor:
        qs = qs.filter(vendor_id=call.vendor_id)
    if p.locationId is not None:
        qs = qs.filter(location_id=p.locationId)
    if p.lotNumber:
        qs = qs.filter(lot_number__iexact=p.lotNumber)
    if p.includeBoxes:
        qs = qs.prefetch_related("boxes")
    today = services.today()
    rows = []
    for line in qs.order_by("product__description", "id"):
        quantity = line.available if p.excludeHeldItems else line.total - line.committed
        boxes = None
        if p.includeBoxes:
            boxes = [
                b.code for b in line.boxes.all() if b.removed_at is None and b.opened_at is None
            ]
        rows.append(
            _inventory_item(
                line, today, quantity=quantity, show_prices=not call.is_vendor, boxes=boxes
            )
        )
    return {"inventoryItems": rows}


# ---------------------------------------------------------------- open market lists


class MarketItemOut(Out):
    inventoryId: int
    companyProductId: int
    productDescription: str
    productCode: str
    grade: str
    category: str
    vendor: str
    growerId: int | None
    portOfOrigin: str
    quantity: int
    totalUnits: int
    boxTypeId: int
    boxTypeCode: str
    unitType: str
    bunches: int
    unitsPerBox: int
    unitsInventory: bool = False
    stemsBunch: int
    price: Number | None
    priceB: Number | None
    fobPrice: Number | None
    markCode: str
    locationId: int
    inventoryOrigin: int
    availableDate: date


class MarketListOut(Envelope):
    inventoryItems: list[MarketItemOut]


def _market_rows(qs, buyer: Customer | None, today) -> list[dict]:
    rows = []
    for line in qs:
        rows.append(
            {
                "inventoryId": line.pk,
                **_product_fields(line),
                "vendor": line.vendor.name if line.vendor else "",
                "growerId": line.vendor_id,
                "portOfOrigin": line.vendor.port_origin if line.vendor else "",
                "quantity": line.available,
                "totalUnits": line.available * line.units_per_box,
                **pack_fields(line),
                "price": line.price_a,
                "priceB": line.price_b,
                "fobPrice": services.customer_price(line, buyer) if buyer else None,
                "markCode": line.mark_code,
                "locationId": line.location_id,
                "inventoryOrigin": line.origin_on(today),
                "availableDate": queries.first_day(line, today),
            }
        )
    return rows


class OpenMarketListIn(Params):
    locationId: OptId = None
    customerId: OptId = None


@api_method(
    "inventory.openmarket.list",
    request=OpenMarketListIn,
    response=MarketListOut,
    tokens=[COMPANY, USER],
    area="inventory",
    read=True,
)
def inventory_openmarket_list(call, p: OpenMarketListIn):
    """On-hand boxes for sale to anyone, with a customer's FOB price when customerId is sent."""
    company = call.company
    buyer = queries.customer(company, p.customerId) if p.customerId is not None else None
    queries.location(company, p.locationId, "locationId")
    today = services.today()
    qs = queries.market(company, today=today, origin=Origin.ON_HAND, location_id=p.locationId)
    return {"inventoryItems": _market_rows(qs, buyer, today)}


class ConsolidatedItemOut(Out):
    inventoryItemIds: str
    companyProductId: int
    productDescription: str
    productCode: str
    grade: str
    category: str
    quantity: int
    totalUnits: int
    boxTypeId: int
    boxTypeCode: str
    unitType: str
    bunches: int
    unitsPerBox: int
    unitsInventory: bool = False
    stemsBunch: int
    price: Number | None
    priceB: Number | None
    fobPrice: Number | None
    markCode: str
    locationId: int


class ConsolidatedListOut(Envelope):
    inventoryItems: list[ConsolidatedItemOut]


@api_method(
    "inventory.consolidated.openmarket.list",
    request=OpenMarketListIn,
    response=ConsolidatedListOut,
    tokens=[COMPANY, USER],
    area="inventory",
    read=True,
)
def inventory_consolidated_openmarket_list(call, p: OpenMarketListIn):
    """inventory.openmarket.list with the lines of one offer merged into one row.

    Lines merge when they sell as one: same product, pack (box type, unit type, units per
    box, bunches, stems per bunch), location, mark code and prices A and B; the vendor is not
    part of it (nor shown), so two farms' identical boxes are one row. `inventoryItemIds` is
    the merged lines' ids, comma-separated, in id order (any of them can be sold with
    invoice.item.add / web-order-item.add); `quantity` and `totalUnits` are their sums of
    unsold boxes. Without cost or aging, like the list it consolidates; `fobPrice` is the
    price for `customerId` when sent. Lines with a different price stay separate rows."""
    company = call.company
    buyer = queries.customer(company, p.customerId) if p.customerId is not None else None
    queries.location(company, p.locationId, "locationId")
    today = services.today()
    qs = queries.market(company, today=today, origin=Origin.ON_HAND, location_id=p.locationId)
    rows = []
    for group in queries.consolidated(qs):
        first = group[0]
        boxes = sum(line.available for line in group)
        rows.append(
            {
                "inventoryItemIds": ",".join(str(line.pk) for line in group),
                **_product_fields(first),
                "quantity": boxes,
                "totalUnits": boxes * first.units_per_box,
                **pack_fields(first),
                "price": first.price_a,
                "priceB": first.price_b,
                "fobPrice": services.customer_price(first, buyer) if buyer else None,
                "markCode": first.mark_code,
                "locationId": first.location_id,
            }
        )
    return {"inventoryItems": rows}


class FutureOpenMarketListIn(OpenMarketListIn):
    dateFrom: Day
    dateTo: Day


@api_method(
    "future.inventory.openmarket.list",
    request=FutureOpenMarketListIn,
    response=MarketListOut,
    tokens=[COMPANY, USER],
    area="inventory",
    read=True,
)
def future_inventory_openmarket_list(call, p: FutureOpenMarketListIn):
    """Future boxes for sale to anyone whose arrival date falls between dateFrom and dateTo."""
    if p.dateTo < p.dateFrom:
        raise Invalid("must not be before dateFrom", field="dateTo")
    company = call.company
    buyer = queries.customer(company, p.customerId) if p.customerId is not None else None
    queries.location(company, p.locationId, "locationId")
    today = services.today()
    qs = queries.market(
        company,
        today=today,
        origin=Origin.FUTURE,
        location_id=p.locationId,
        date_from=p.dateFrom,
        date_to=p.dateTo,
    )
    return {"inventoryItems": _market_rows(qs, buyer, today)}


# ---------------------------------------------------------------- e-commerce


class ShopItemOut(Out):
    inventoryIds: str
    inventoryOrigin: int
    availableDate: date
    availableDateTo: date
    productId: int
    companyProductId: int
    productDescription: str
    productCode: str
    categoryId: int
    category: str
    variety: str
    color: str
    grade: str
    boxTypeId: int
    boxTypeCode: str
    unitType: str
    unitsPerBox: int
    unitsInventory: bool = False
    stemsBunch: int
    bunches: int
    quantity: int
    price: Number | None
    vendorId: int | None
    vendor: str
    companyLocationId: int
    markCode: str


def _buyer(call, customer_id: int) -> Customer:
    return queries.customer(call.company, call.own_customer(customer_id))


class ShopListIn(Params):
    customerId: Id
    reservedInventory: OptBool = Field(default=None, json_schema_extra={"transactional": True})
    companyLocationId: OptId = None
    availableDate: OptDay = None
    page: Annotated[int, Field(ge=1, le=1_000_000), or_default(1)] = 1
    rows: Annotated[int, Field(ge=1, le=500), or_default(30)] = 30
    searchText: Str(100) | None = None
    categoryId: OptId = None
    color: Str(100) | None = None
    cursor: Str(400) | None = None


class ShopHardGoodOut(Out):
    """A hard good in the shop (sold by the unit; ordered with inventoryOrigin 5)."""

    inventoryIds: str
    inventoryOrigin: int
    productId: int
    sku: str
    productDescription: str
    category: str
    subcategory: str
    color: str
    packSize: int
    quantity: int
    price: Number
    discount: Number
    qtyForDiscount: int
    vendorId: int
    vendor: str
    companyLocationId: int


class ShopListOut(Envelope):
    total: int
    page: int | None
    rows: int
    # Stemline: the next page by keyset (send it as `cursor`); null on the last page.
    nextCursor: str | None = None
    inventoryItems: list[ShopItemOut]
    # Only when the company shows hard goods in its shop (Setup > Hard goods), on page 1.
    hardGoodItems: list[ShopHardGoodOut] | None = None


@api_method(
    "ecommerce/inventory.list",
    request=ShopListIn,
    response=ShopListOut,
    tokens=[COMPANY, CUSTOMER],
    area="inventory",
    read=True,
    account_required=True,
)
def ecommerce_inventory_list(call, p: ShopListIn):
    """What a customer can buy, on hand and future, at its own price, a page at a time.

    In product-description order. `page` and `rows` as the reference; `nextCursor` (Stemline)
    names the next page: send it back as `cursor` (with the same filters and `rows`) to get
    that page by keyset, which costs the same on the last page as on the first (`page` is then
    null in the answer, and `total` the count of the first page, carried by the cursor). A
    cursor that cannot be read is refused (422, `cursor`).

    When the company shows hard goods in its shop, page 1 also carries `hardGoodItems`: the
    hard goods in stock at the location (matching `searchText`), in units, at their unit
    price; `inventoryIds` is the hard good's productId, to order with web-order-item.add and
    `inventoryOrigin` 5."""
    company = call.company
    buyer = _buyer(call, p.customerId)
    queries.location(company, p.companyLocationId, "companyLocationId", required_if_multi=True)
    today = services.today()
    qs = queries.shop(
        company,
        buyer,
        today=today,
        reserved=bool(p.reservedInventory),
        location_id=p.companyLocationId,
        search=p.searchText,
        category_id=p.categoryId,
        color=p.color,
        day=p.availableDate,
    )
    if p.cursor is not None:
        description, after, total = queries.read_cursor(p.cursor, "cursor")
        page, more = queries.page_after(qs, description, after, p.rows)
    else:
        # Filtered by a product's columns, the list is counted each time (see totals).
        by_product = bool(p.searchText) or p.categoryId is not None or bool(p.color)
        total = qs.count() if by_product else totals.shop_total(company.pk, qs)
        page, more = queries.numbered_page(qs, total, (p.page - 1) * p.rows, p.rows)
    answer = {
        "total": total,
        "page": None if p.cursor is not None else p.page,
        "rows": p.rows,
        "nextCursor": queries.cursor_of(page[-1], total) if more else None,
        "inventoryItems": [shop_row(line, buyer, today) for line in page],
    }
    if p.page == 1 and p.cursor is None:
        # Hard goods (a higher app's rows, through a hook: inventory imports none of it).
        for hook in services.SHOP_HOOKS:
            extra = hook(company, buyer, location_id=p.companyLocationId, search=p.searchText)
            if extra is not None:
                answer["hardGoodItems"] = extra
    return answer


class ShopGetIn(Params):
    customerId: Id
    inventoryLineIds: IdList
    inventoryOrigin: OriginIn
    date: Day
    availableFrom: OptDay = None
    availableTo: OptDay = None
    companyLocationId: OptId = None
    carrierId: OptId = None


class ShopGetItemOut(ShopItemOut):
    availableOnDate: int


class ShopGetOut(Envelope):
    inventoryItems: list[ShopGetItemOut]


def _shop_lines(call, buyer: Customer, ids: list[int], origin: int, location_id, today):
    """The named lines, each one the customer may see, of the origin it was told."""
    found = queries.lines_by_id(call.company, ids)
    for line_id in dict.fromkeys(ids):
        line = found.get(line_id)
        if (
            line is None
            or line.reserved_for_id not in (None, buyer.pk)
            or (location_id is not None and line.location_id != location_id)
        ):
            raise NotFound(f"inventory line {line_id} does not exist", field="inventoryLineIds")
        if line.origin_on(today) != origin:
            raise Invalid(
                f"inventory line {line_id} is {Origin(line.origin_on(today)).label}",
                field="inventoryOrigin",
            )
    return [found[i] for i in dict.fromkeys(ids)]


@api_method(
    "ecommerce/inventory.get",
    request=ShopGetIn,
    response=ShopGetOut,
    tokens=[COMPANY, CUSTOMER],
    area="inventory",
    read=True,
    account_required=True,
)
def ecommerce_inventory_get(call, p: ShopGetIn):
    """Catalogue lines by ID with the boxes a customer can buy of them on a date."""
    company = call.company
    buyer = _buyer(call, p.customerId)
    origin = _origin(p.inventoryOrigin)
    queries.location(company, p.companyLocationId, "companyLocationId")
    if (
        p.carrierId is not None
        and not Carrier.objects.filter(company=company, pk=p.carrierId, active=True).exists()
    ):
        raise NotFound(f"carrier {p.carrierId} does not exist", field="carrierId")
    today = services.today()
    rows = []
    for line in _shop_lines(call, buyer, p.inventoryLineIds, origin, p.companyLocationId, today):
        on_date = p.date in queries.available_dates(line, today)
        row = shop_row(line, buyer, today, quantity=max(0, line.available) if on_date else 0)
        row["availableOnDate"] = flag(on_date and line.available > 0)
        rows.append(row)
    return {"inventoryItems": rows}


class AvailableDatesIn(Params):
    customerId: Id
    inventoryLineIds: IdList
    inventoryOrigin: OriginIn
    companyLocationId: OptId = None


class AvailableDatesOut(Envelope):
    availableDateFrom: date | None
    availableDateTo: date | None
    availableDates: list[date]


@api_method(
    "ecommerce/inventory-available-dates.list",
    request=AvailableDatesIn,
    response=AvailableDatesOut,
    tokens=[COMPANY, CUSTOMER],
    area="inventory",
    read=True,
    account_required=True,
)
def ecommerce_available_dates(call, p: AvailableDatesIn):
    """The dates for which a catalogue line can be bought (any of its lines with boxes left)."""
    buyer = _buyer(call, p.customerId)
    origin = _origin(p.inventoryOrigin)
    queries.location(call.company, p.companyLocationId, "companyLocationId")
    today = services.today()
    days: set[date] = set()
    for line in _shop_lines(call, buyer, p.inventoryLineIds, origin, p.companyLocationId, today):
        if line.available > 0:
            days.update(queries.available_dates(line, today))
    ordered = sorted(days)
    return {
        "availableDateFrom": ordered[0] if ordered else None,
        "availableDateTo": ordered[-1] if ordered else None,
        "availableDates": ordered,
    }


class CustomerCarriersIn(Params):
    customerId: Id
    date: OptDay = None
    availableFrom: OptDay = None
    availableTo: OptDay = None
    companyLocationId: OptId = None


class CarrierOptionOut(Out):
    carrierId: int
    carrierName: str
    carrierCode: str
    carrierCubeRate: Number | None


class CustomerCarriersOut(Envelope):
    carrierId: int | None
    carrierName: str
    carrierCubeRate: Number | None
    carriers: list[CarrierOptionOut]


@api_method(
    "ecommerce/customer-carriers.list",
    request=CustomerCarriersIn,
    response=CustomerCarriersOut,
    tokens=[COMPANY, CUSTOMER],
    area="inventory",
    read=True,
    account_required=True,
)
def ecommerce_customer_carriers(call, p: CustomerCarriersIn):
    """The company's outbound carriers, suggesting the one on the customer's first ship-to."""
    company = call.company
    buyer = _buyer(call, p.customerId)
    queries.location(company, p.companyLocationId, "companyLocationId")
    carriers = list(
        Carrier.objects.filter(
            company=company, active=True, direction=Carrier.Direction.OUTBOUND
        ).order_by("name", "id")
    )
    by_id = {c.pk: c for c in carriers}
    preferred = (
        ShipTo.objects.filter(
            company=company, customer=buyer, removed_at__isnull=True, carrier_id__in=by_id
        )
        .order_by("id")
        .values_list("carrier_id", flat=True)
        .first()
    )
    suggested = by_id.get(preferred) or (carriers[0] if carriers else None)
    # Stemline keeps no per-customer cube rates yet: none is quoted rather than a made-up one.
    return {
        "carrierId": suggested.pk if suggested else None,
        "carrierName": suggested.name if suggested else "",
        "carrierCubeRate": None,
        "carriers": [
            {
                "carrierId": c.pk,
                "carrierName": c.name,
                "carrierCode": c.code,
                "carrierCubeRate": None,
            }
            for c in carriers
        ],
    }


# ---------------------------------------------------------------- feeds


class SyncIn(Params):
    since: Since = 0


class SyncRowOut(Out):
    seq: int
    change: str
    inventoryId: int
    available: int
    inventoryOrigin: int | None
    availableDate: date | None
    companyProductId: int | None
    productDescription: str
    boxTypeCode: str
    unitType: str
    unitsPerBox: int | None
    unitsInventory: bool = False
    price: Number | None
    priceA: Number | None
    priceB: Number | None
    unitCost: Number | None
    companyLocationId: int | None
    customerId: int | None
    externalId: str
    changedAt: datetime


class SyncOut(Envelope):
    maxSeq: int
    more: int
    changes: list[SyncRowOut]


def _sync_row(change: InventoryChange, line: InventoryLine | None, buyer, today) -> dict:
    row = {
        "seq": change.seq,
        "change": change.kind,
        "inventoryId": change.line_id,
        "available": 0,
        "inventoryOrigin": None,
        "availableDate": None,
        "companyProductId": None,
        "productDescription": "",
        "boxTypeCode": "",
        "unitType": "",
        "unitsPerBox": None,
        "price": None,
        "priceA": None,
        "priceB": None,
        "unitCost": None,
        "companyLocationId": None,
        "customerId": None,
        "externalId": "",
        "changedAt": change.created_at,
    }
    if line is None:  # removed from the database altogether: nothing of it can be bought
        return row
    row.update(
        available=max(0, line.available),
        inventoryOrigin=line.origin_on(today),
        availableDate=queries.first_day(line, today),
        companyProductId=line.product_id,
        productDescription=line.product.description,
        boxTypeCode=line.box_type.code,
        unitType=line.unit_type,
        unitsPerBox=line.units_per_box,
        unitsInventory=line.in_units,
        companyLocationId=line.location_id,
        customerId=line.reserved_for_id,
    )
    if buyer is not None:
        row["price"] = services.customer_price(line, buyer)
    else:
        row.update(
            price=line.price_a,
            priceA=line.price_a,
            priceB=line.price_b,
            unitCost=line.unit_cost,
            externalId=line.external_id,
        )
    return row


@api_method(
    "inventory.sync",
    request=SyncIn,
    response=SyncOut,
    tokens=[COMPANY, CUSTOMER, USER],
    area="inventory",
    read=True,
)
def inventory_sync(call, p: SyncIn):
    """What changed in the inventory after a sequence number (at most 1,000 changes)."""
    company = call.company
    buyer = None
    if call.is_customer:
        buyer = Customer.objects.get(company=company, pk=call.customer_id)
    found = queries.changes(company, p.since)
    by_id = queries.lines_by_id(company, [c.line_id for c in found])
    today = services.today()
    rows = []
    for change in found:
        line = by_id.get(change.line_id)
        # A customer follows only the lines it could buy.
        if buyer is not None and line is not None and line.reserved_for_id not in (None, buyer.pk):
            continue
        rows.append(_sync_row(change, line, buyer, today))
    return {
        "maxSeq": found[-1].seq if found else p.since,
        "more": flag(len(found) == queries.FEED_ROWS),
        "changes": rows,
    }


class ConfirmationOut(Out):
    seq: int
    event: str
    inventoryId: int
    externalId: str
    quantity: int
    createdAt: datetime


class ConfirmationsOut(Envelope):
    maxSeq: int
    more: int
    confirmations: list[ConfirmationOut]


@api_method(
    "inventory.confirmations.list",
    request=SyncIn,
    response=ConfirmationsOut,
    tokens=[COMPANY, USER],
    area="inventory",
    read=True,
)
def inventory_confirmations_list(call, p: SyncIn):
    """Boxes this token shared with confirmInventory that were sold or deleted since `since`."""
    found = queries.confirmations(call.company, call.token, p.since)
    return {
        "maxSeq": found[-1].seq if found else p.since,
        "more": flag(len(found) == queries.FEED_ROWS),
        "confirmations": [
            {
                "seq": c.seq,
                "event": c.event,
                "inventoryId": c.line_id,
                "externalId": c.external_id,
                "quantity": c.quantity,
                "createdAt": c.created_at,
            }
            for c in found
        ],
    }


# The retired e-commerce method and the units inventory live beside this module; importing
# them registers them.
from . import api_storefront, api_units  # noqa: E402, F401
