"""API methods of hard goods: products, their stock in units, the stock list."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from stemline.api.registry import COMPANY, USER, api_method
from stemline.api.schemas import (
    Envelope,
    Id,
    Money,
    Number,
    OptBool,
    OptId,
    Out,
    Params,
    Required,
    Str,
    blank_to_none,
)
from stemline.core.errors import Invalid
from stemline.inventory import queries as stock_queries

from . import queries, services
from .models import SKU_MAX_LENGTH, UPC_MAX_LENGTH

Cost = Annotated[Money(10, 2), Field(ge=0)]
OptCost = Annotated[Cost | None, BeforeValidator(blank_to_none)]
Percent = Annotated[Money(6, 2), Field(ge=0, le=1000)]
OptPercent = Annotated[Percent | None, BeforeValidator(blank_to_none)]
Discount = Annotated[
    Annotated[Money(5, 2), Field(ge=0, le=100)] | None, BeforeValidator(blank_to_none)
]
PackSize = Annotated[int, Field(ge=1, le=99_999)]  # int5
OptPackSize = Annotated[PackSize | None, BeforeValidator(blank_to_none)]
QtyForDiscount = Annotated[
    Annotated[int, Field(ge=0, le=99_999)] | None, BeforeValidator(blank_to_none)
]
Units = Annotated[int, Field(ge=1, le=services.MAX_UNITS_PER_CALL)]


# ---------------------------------------------------------------- products


class ProductFields(Params):
    vendorId: OptId = None
    vendorCode: Str(10) | None = None
    color: Str(50) = ""
    caseUPC: Str(UPC_MAX_LENGTH) = ""
    unitUPC: Str(UPC_MAX_LENGTH) = ""
    unitPrice: OptCost = None
    unitPriceMarkup: OptPercent = None
    discount: Discount = None
    qtyForDiscount: QtyForDiscount = None
    activePerVendor: OptBool = None


class HardGoodProductAddIn(ProductFields):
    category: Required(100)
    subcategory: Required(100)
    description: Required(200)
    sku: Required(SKU_MAX_LENGTH)
    packSize: PackSize
    unitCost: Cost
    activePerItem: OptBool = None


class HardGoodProductUpdateIn(ProductFields):
    Id: Id
    activePerItem: bool
    category: Str(100, min_length=1) | None = None
    subcategory: Str(100, min_length=1) | None = None
    description: Str(200, min_length=1) | None = None
    sku: Str(SKU_MAX_LENGTH, min_length=1) | None = None
    packSize: OptPackSize = None
    unitCost: OptCost = None


class HardGoodProductSavedOut(Envelope):
    productId: int


def _vendor(call, p: ProductFields, *, required: bool):
    if p.vendorId is None and not p.vendorCode:
        if required:
            raise Invalid("send vendorId or vendorCode", field="vendorId")
        return None
    return services.hard_goods_vendor(call.company, vendor_id=p.vendorId, vendor_code=p.vendorCode)


def _common(p: ProductFields) -> dict:
    return {
        "unit_price": p.unitPrice,
        "unit_price_markup": p.unitPriceMarkup,
        "discount": p.discount,
        "qty_for_discount": p.qtyForDiscount,
        "active_per_vendor": p.activePerVendor,
    }


@api_method(
    "hardgood.product.add",
    request=HardGoodProductAddIn,
    response=HardGoodProductSavedOut,
    tokens=[COMPANY, USER],
    area="master",
    creates=True,
)
def hardgood_product_add(call, p: HardGoodProductAddIn):
    """Create a hard-goods product of a hard-goods vendor (vendorType 3).

    SKU, category and subcategory, pack size, UPCs, cost, price or markup, quantity discount.
    `discount` (percent) applies when at least `qtyForDiscount` packs of `packSize` units are
    bought at once. Without `unitPrice` the unit sells at `unitCost` plus `unitPriceMarkup`
    percent. The SKU is unique per vendor.
    """
    vendor = _vendor(call, p, required=True)
    common = {k: v for k, v in _common(p).items() if v is not None}
    product = services.add_product(
        company=call.company,
        vendor=vendor,
        category=p.category,
        subcategory=p.subcategory,
        description=p.description,
        sku=p.sku,
        color=p.color,
        pack_size=p.packSize,
        case_upc=p.caseUPC,
        unit_upc=p.unitUPC,
        unit_cost=p.unitCost,
        active_per_item=True if p.activePerItem is None else p.activePerItem,
        **common,
    )
    return {"message": "The product was successfully saved.", "productId": product.pk}


@api_method(
    "hardgood.product.update",
    request=HardGoodProductUpdateIn,
    response=HardGoodProductSavedOut,
    tokens=[COMPANY, USER],
    area="master",
)
def hardgood_product_update(call, p: HardGoodProductUpdateIn):
    """Update a hard-goods product by its `Id` (capital I, as the reference has it).

    Fields not sent keep their value; `activePerItem` is always sent."""
    sent = p.model_fields_set
    product = services.update_product(
        company=call.company,
        product_id=p.Id,
        vendor=_vendor(call, p, required=False),
        category=p.category,
        subcategory=p.subcategory,
        description=p.description,
        sku=p.sku,
        pack_size=p.packSize,
        unit_cost=p.unitCost,
        active_per_item=p.activePerItem,
        color=p.color if "color" in sent else None,
        case_upc=p.caseUPC if "caseUPC" in sent else None,
        unit_upc=p.unitUPC if "unitUPC" in sent else None,
        **_common(p),
    )
    return {"message": "The product was successfully saved.", "productId": product.pk}


# ---------------------------------------------------------------- stock


class HardGoodInventoryAddIn(Params):
    productId: Id
    locationId: OptId = None
    quantity: Units
    unitCost: Cost
    unitPrice: OptCost = None


class HardGoodInventoryAddOut(Envelope):
    hardGoodInventoryId: int


def _location(call, location_id):
    where = stock_queries.location(call.company, location_id, "locationId", required_if_multi=True)
    return where or stock_queries.default_location(call.company)


@api_method(
    "hardgood.inventory.add",
    request=HardGoodInventoryAddIn,
    response=HardGoodInventoryAddOut,
    tokens=[COMPANY, USER],
    area="inventory",
    creates=True,
)
def hardgood_inventory_add(call, p: HardGoodInventoryAddIn):
    """Add units of a hard-goods product to a location's stock (at most 999 units a call)."""
    row = services.add_inventory(
        company=call.company,
        product_id=p.productId,
        location=_location(call, p.locationId),
        quantity=p.quantity,
        unit_cost=p.unitCost,
        unit_price=p.unitPrice,
    )
    return {"message": "The inventory was successfully added.", "hardGoodInventoryId": row.pk}


class HardGoodInventoryUpdateIn(Params):
    productId: Id
    locationId: OptId = None
    unitCost: Cost
    unitPrice: OptCost = None


class HardGoodInventoryUpdatedOut(Envelope):
    productId: int
    inventoryIds: list[int]


@api_method(
    "hardgood.inventory.update",
    request=HardGoodInventoryUpdateIn,
    response=HardGoodInventoryUpdatedOut,
    tokens=[COMPANY, USER],
    area="inventory",
)
def hardgood_inventory_update(call, p: HardGoodInventoryUpdateIn):
    """Change the cost (and price) of a product's stock at a location.

    Units already sold keep the price they were sold at."""
    where = _location(call, p.locationId)
    services.update_inventory(
        company=call.company,
        product_id=p.productId,
        location=where,
        unit_cost=p.unitCost,
        unit_price=p.unitPrice,
    )
    rows = queries.stock(
        call.company, location_id=where.pk, available_only=False, active_only=False
    )
    ids = [i for r in rows if r.product.pk == p.productId for i in r.inventory_ids]
    return {
        "message": "The item was successfully updated",
        "productId": p.productId,
        "inventoryIds": ids,
    }


class HardGoodInventoryListIn(Params):
    locationId: OptId = None
    vendorCode: Str(10) | None = None
    sku: Str(SKU_MAX_LENGTH) | None = None
    category: Str(100) | None = None


class HardGoodItemOut(Out):
    inventoryIds: str
    vendorId: int
    vendorCode: str
    vendorName: str
    productId: int
    productVendorId: int
    productDescription: str
    locationCode: str
    locationName: str
    locationId: int
    categoryId: int
    category: str
    subcategory: str
    color: str
    sku: str
    quantity: int
    packSize: int
    totalUnits: int
    unitCost: Number | None
    unitPrice: Number
    caseUPC: str
    unitUPC: str
    image: str


class HardGoodInventoryListOut(Envelope):
    inventoryItems: list[HardGoodItemOut]


def item_row(row: queries.StockRow) -> dict:
    product = row.product
    return {
        "inventoryIds": ",".join(str(i) for i in row.inventory_ids),
        "vendorId": product.vendor_id,
        "vendorCode": product.vendor.code,
        "vendorName": product.vendor.name,
        "productId": product.pk,
        "productVendorId": product.pk,
        "productDescription": product.description,
        "locationCode": row.location.code,
        "locationName": row.location.name,
        "locationId": row.location.pk,
        "categoryId": product.category_id,
        "category": product.category.name,
        "subcategory": product.subcategory,
        "color": product.color,
        "sku": product.sku,
        "quantity": row.available,
        "packSize": product.pack_size,
        "totalUnits": row.available,
        "unitCost": row.unit_cost,
        "unitPrice": row.unit_price,
        "caseUPC": product.case_upc,
        "unitUPC": product.unit_upc,
        "image": "",
    }


@api_method(
    "hardgood/inventory.list",
    request=HardGoodInventoryListIn,
    response=HardGoodInventoryListOut,
    tokens=[COMPANY, USER],
    area="inventory",
    read=True,
)
def hardgood_inventory_list(call, p: HardGoodInventoryListIn):
    """Hard goods in stock, one row per product and location.

    `inventoryIds` lists the rows added by hardgood.inventory.add; `quantity` and
    `totalUnits` are the units that can still be sold (received less sold and held)."""
    where = stock_queries.location(call.company, p.locationId, "locationId", required_if_multi=True)
    rows = queries.stock(
        call.company,
        location_id=where.pk if where else None,
        vendor_code=p.vendorCode,
        sku=p.sku,
        category=p.category,
    )
    return {"inventoryItems": [item_row(r) for r in rows]}
