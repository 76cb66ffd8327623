"""API methods of the catalog: products, categories, box types."""

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from stemline.api.registry import COMPANY, USER, VENDOR, api_method
from stemline.api.schemas import (
    Envelope,
    Id,
    Money,
    NoParams,
    Number,
    Out,
    Params,
    Required,
    Str,
    blank_to_none,
    flag,
)
from stemline.core.filters import iexact

from . import queries, services
from .models import DIVISION_IDS, BoxType, Category


class ProductListIn(Params):
    id: Id | None = None
    description: Str(200) | None = None
    legacyCode: Str(50) | None = None
    includeInactive: bool = False


class ProductOut(Out):
    id: int
    description: str
    active: int
    category: str
    divisionId: int
    divisionDescription: str
    variety: str
    color: str
    grade: str
    legacyCode: str
    tags: str
    defaultUnitType: str


class ProductListOut(Envelope):
    products: list[ProductOut]


def product_row(row: tuple) -> dict:
    pk, description, active, category, division, variety, color, grade, code, tags, unit = row
    return {
        "id": pk,
        "description": description,
        "active": flag(active),
        "category": category,
        "divisionId": DIVISION_IDS.get(division, 1),
        "divisionDescription": division,
        "variety": variety,
        "color": color,
        "grade": grade,
        "legacyCode": code,
        "tags": tags,
        "defaultUnitType": unit,
    }


@api_method(
    "product.list",
    request=ProductListIn,
    response=ProductListOut,
    tokens=[COMPANY, VENDOR, USER],
    area="master",
    read=True,
)
def product_list(call, p: ProductListIn):
    """Products sorted by description."""
    rows = queries.product_rows(
        company_id=call.company.pk,
        product_id=p.id,
        description=p.description,
        legacy_code=p.legacyCode,
        include_inactive=p.includeInactive,
    )
    return {"products": [product_row(row) for row in rows]}


# Default prices per level (Stemline's addition, not Komet's): inventory added without prices
# takes them.
Price = Annotated[Annotated[Money(10, 3), Field(ge=0)] | None, BeforeValidator(blank_to_none)]
PRICE_A = "Stemline: the default price per unit at level A; inventory added without one takes it."
PRICE_B = "Stemline: the default price per unit at level B; inventory added without one takes it."


class ProductAddIn(Params):
    category: Required(200)
    variety: Str(100) = ""
    color: Str(100) = ""
    grade: Str(100) = ""
    code: Str(20) = ""
    regionsOfOrigin: list[Str(50)] = Field(default_factory=list, max_length=50)
    productRollUpCode: Str(20) = ""
    defaultUnitType: Literal["Stem", "Bunch"] = "Stem"
    description: Str(300) = ""
    tags: Str(200) = ""
    priceA: Price = Field(None, description=PRICE_A)
    priceB: Price = Field(None, description=PRICE_B)


class ProductSavedOut(Envelope):
    productId: int


def _product_changes(p) -> dict:
    return {
        "variety": p.variety,
        "color": p.color,
        "grade": p.grade,
        "legacy_code": p.code,
        "regions_of_origin": p.regionsOfOrigin,
        "product_roll_up_code": p.productRollUpCode,
        "default_unit_type": p.defaultUnitType,
        "description": p.description,
        "tags": p.tags,
        "price_a": p.priceA,
        "price_b": p.priceB,
    }


@api_method(
    "product.add",
    request=ProductAddIn,
    response=ProductSavedOut,
    tokens=[COMPANY, USER],
    area="master",
    creates=True,
)
def product_add(call, p: ProductAddIn):
    """Create a product."""
    product = services.add_product(company=call.company, category=p.category, **_product_changes(p))
    return {"message": "The product was successfully saved.", "productId": product.pk}


class ProductUpdateIn(Params):
    productId: Id
    category: Str(200) | None = None
    variety: Str(100) | None = None
    color: Str(100) | None = None
    grade: Str(100) | None = None
    code: Str(20) | None = None
    regionsOfOrigin: list[Str(50)] | None = Field(default=None, max_length=50)
    productRollUpCode: Str(20) | None = None
    defaultUnitType: Literal["Stem", "Bunch"] | None = None
    description: Str(300) | None = None
    tags: Str(200) | None = None
    priceA: Price = Field(None, description=PRICE_A)
    priceB: Price = Field(None, description=PRICE_B)
    active: bool | None = None


@api_method(
    "product.update",
    request=ProductUpdateIn,
    response=ProductSavedOut,
    tokens=[COMPANY, USER],
    area="master",
)
def product_update(call, p: ProductUpdateIn):
    """Update a product (only the fields sent change)."""
    changes = _product_changes(p)
    changes["active"] = p.active
    product = services.update_product(
        company=call.company, product_id=p.productId, category=p.category, **changes
    )
    return {"message": "The product was successfully saved.", "productId": product.pk}


class CategoryOut(Out):
    categoryId: int
    categoryName: str
    kometNetworkId: int | None
    kometNetworkName: str
    active: bool


class CategoryListOut(Envelope):
    categoryItems: list[CategoryOut]


@api_method(
    "category.list",
    request=NoParams,
    response=CategoryListOut,
    tokens=[COMPANY, USER],
    area="master",
    read=True,
)
def category_list(call, p: NoParams):
    """Product categories."""
    return {
        "categoryItems": [
            {
                "categoryId": c.pk,
                "categoryName": c.name,
                "kometNetworkId": c.komet_network_id,
                "kometNetworkName": c.komet_network_name,
                "active": c.active,
            }
            for c in Category.objects.filter(company=call.company)
        ]
    }


class BoxTypeListIn(Params):
    id: Id | None = None
    code: Str(3) | None = None


class BoxTypeOut(Out):
    id: int
    code: str
    kometNetworkName: str
    kometNetworkId: int | None
    fbe: Number


class BoxTypeListOut(Envelope):
    boxtypes: list[BoxTypeOut]


@api_method(
    "boxtype.list",
    request=BoxTypeListIn,
    response=BoxTypeListOut,
    tokens=[COMPANY, VENDOR, USER],
    area="master",
    read=True,
)
def boxtype_list(call, p: BoxTypeListIn):
    """Box types ordered by code."""
    qs = BoxType.objects.filter(company=call.company)
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    qs = iexact(qs, "code", p.code)
    return {
        "boxtypes": [
            {
                "id": b.pk,
                "code": b.code,
                "kometNetworkName": b.komet_network_name,
                "kometNetworkId": b.komet_network_id,
                "fbe": b.fbe,
            }
            for b in qs.order_by("code", "id")
        ]
    }
