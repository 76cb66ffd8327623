"""inventory.units.add / inventory.units.delete: the units inventory (loose bunches and stems,
reference §2.C and §3.9). Boxes are opened into units from the web application."""

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from stemline.api.registry import COMPANY, USER, api_method
from stemline.api.schemas import Envelope, OptId, Params, Required, Str, blank_to_none
from stemline.catalog.models import BoxType, Product
from stemline.core.errors import Invalid, NotFound
from stemline.parties.models import Customer

from . import queries, services
from .api import OptCost, OptDay, PerBox
from .models import InventoryLine

MAX_UNITS_PER_CALL = 100_000


def _unit_type(value):
    # The reference spells them Stem and Bunch; inventory.add takes them lower case.
    return value.strip().capitalize() if isinstance(value, str) else value


UnitTypeIn = Annotated[Literal["Stem", "Bunch"], BeforeValidator(_unit_type)]
Units = Annotated[int, Field(ge=1, le=MAX_UNITS_PER_CALL)]


class UnitsIn(Params):
    productCode: Required(20)
    stemsBunch: PerBox
    unitType: UnitTypeIn
    quantity: Units
    block: Str(20) = ""
    bed: Str(20) = ""
    cutter: Annotated[
        Annotated[int, Field(ge=0, le=9_999_999_999)] | None, BeforeValidator(blank_to_none)
    ] = None
    customerCode: Str(20) | None = None
    locationId: OptId = None


class UnitsAddIn(UnitsIn):
    cutDate: OptDay = None
    # Not in the reference (Komet takes them from the product): a units line's own prices
    # and cost per unit, and the box type its labels show.
    unitCost: OptCost = None
    priceA: OptCost = None
    priceB: OptCost = None
    boxTypeCode: Str(10) | None = None


class UnitsAddOut(Envelope):
    inventoryId: int
    unitType: str
    quantity: int
    available: int


class UnitsDeleteOut(Envelope):
    inventoryIds: list[int]
    unitType: str
    decreased: int
    available: int


def _product(company, code: str) -> Product:
    found = Product.objects.filter(company=company, legacy_code__iexact=code).first()
    if found is None:
        raise NotFound(f"product {code!r} does not exist", field="productCode")
    if not found.active:
        raise Invalid(f"product {code!r} is inactive", field="productCode")
    return found


def _customer(company, code: str | None) -> Customer | None:
    if not code:
        return None
    found = Customer.objects.filter(company=company, code__iexact=code, active=True).first()
    if found is None:
        raise NotFound(f"customer code {code!r} does not exist", field="customerCode")
    return found


def _box_type(company, code: str | None) -> BoxType:
    box_types = BoxType.objects.filter(company=company, active=True)
    if code:
        found = box_types.filter(code__iexact=code).first()
        if found is None:
            raise NotFound(f"box type {code!r} does not exist", field="boxTypeCode")
        return found
    # Units carry the box type of the labels they are sold in: the smallest the company has.
    found = box_types.order_by("fbe", "id").first()
    if found is None:
        raise NotFound("the company has no box type; add one first", field="boxTypeCode")
    return found


def _where(company, p: UnitsIn):
    where = queries.location(company, p.locationId, "locationId", required_if_multi=True)
    return where or queries.default_location(company)


@api_method(
    "inventory.units.add",
    request=UnitsAddIn,
    response=UnitsAddOut,
    tokens=[COMPANY, USER],
    area="inventory",
    creates=True,
)
def inventory_units_add(call, p: UnitsAddIn):
    """Add loose units (bunches or stems) of a product to the units inventory.

    `quantity` counts units of `unitType`; stems come in whole bunches (a multiple of
    `stemsBunch`). Units of the same product, pack, block, bed, cutter, cut date and customer
    go onto one units line, which is sold like a box line (its `inventoryId`), by the unit.
    Prices not sent are the product's when they are per this unit type."""
    company = call.company
    product = _product(company, p.productCode)
    line = services.add_units(
        company=company,
        product=product,
        unit_type=p.unitType,
        stems_bunch=p.stemsBunch,
        quantity=p.quantity,
        location=_where(company, p),
        box_type=_box_type(company, p.boxTypeCode),
        block=p.block,
        bed=p.bed,
        cutter=p.cutter,
        cut_date=p.cutDate,
        reserved_for=_customer(company, p.customerCode),
        unit_cost=p.unitCost,
        price_a=p.priceA,
        price_b=p.priceB,
    )
    return {
        "message": "The inventory unit has been created successfully",
        "inventoryId": line.pk,
        "unitType": line.unit_type,
        "quantity": line.total,
        "available": line.available,
    }


@api_method(
    "inventory.units.delete",
    request=UnitsIn,
    response=UnitsDeleteOut,
    tokens=[COMPANY, USER],
    area="inventory",
)
def inventory_units_delete(call, p: UnitsIn):
    """Decrease the units inventory of a product by units nobody bought or holds.

    Takes from the units lines of that product and pack (and block, bed, cutter and customer
    when sent), oldest first; refused (409, nothing removed) when they have fewer unsold
    units than asked."""
    company = call.company
    lines = services.delete_units(
        company=company,
        product=_product(company, p.productCode),
        unit_type=p.unitType,
        stems_bunch=p.stemsBunch,
        quantity=p.quantity,
        location=_where(company, p),
        block=p.block,
        bed=p.bed,
        cutter=p.cutter,
        reserved_for=_customer(company, p.customerCode),
    )
    left = InventoryLine.objects.filter(pk__in=[line.pk for line in lines])
    return {
        "message": "The inventory in units has been decreased by "
        f"{services.unit_words(p.unitType, p.quantity)} successfully",
        "inventoryIds": [line.pk for line in lines],
        "unitType": p.unitType,
        "decreased": p.quantity,
        "available": sum(max(0, line.available) for line in left),
    }
