"""API methods of the catalog: products, categories, box types."""

from typing import Literal

from pydantic import Field

from stemline.api.registry import COMPANY, USER, VENDOR, api_method
from stemline.api.schemas import Envelope, Id, NoParams, Number, Out, Params, Required, Str, flag
from stemline.core.filters import icontains, iexact

from . import services
from .models import DIVISION_IDS, BoxType, Category, Product


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


# Read as plain values: a 1,000-row list is then a third of the cost of model instances.
PRODUCT_COLUMNS = (
    "id",
    "description",
    "active",
    "category__name",
    "division",
    "variety",
    "color",
    "grade",
    "legacy_code",
    "tags",
    "default_unit_type",
)


def product_row(v: dict) -> dict:
    return {
        "id": v["id"],
        "description": v["description"],
        "active": flag(v["active"]),
        "category": v["category__name"],
        "divisionId": DIVISION_IDS.get(v["division"], 1),
        "divisionDescription": v["division"],
        "variety": v["variety"],
        "color": v["color"],
        "grade": v["grade"],
        "legacyCode": v["legacy_code"],
        "tags": v["tags"],
        "defaultUnitType": v["default_unit_type"],
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
    if p.id is not None:
        # One row needs no order; building the ORDER BY is a third of this query's cost.
        qs = Product.objects.filter(company_id=call.company.pk, pk=p.id)
    else:
        qs = Product.objects.filter(company_id=call.company.pk).order_by("description", "id")
        if not p.includeInactive:
            qs = qs.filter(active=True)
    qs = icontains(qs, "description", p.description)
    qs = iexact(qs, "legacy_code", p.legacyCode)
    return {"products": [product_row(v) for v in qs.values(*PRODUCT_COLUMNS)]}


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
