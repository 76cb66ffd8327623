"""Every write to the catalog: products, categories, box types."""

from decimal import Decimal

from django.db import IntegrityError, transaction

from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company

from .models import STANDARD_BOX_TYPES, BoxType, Category, Product, UnitType


def category_named(*, company: Company, name: str, create: bool = True) -> Category:
    category = Category.objects.filter(company=company, name__iexact=name).first()
    if category is None:
        if not create:
            raise NotFound(f"category {name!r} does not exist", field="category")
        category, _ = Category.objects.get_or_create(company=company, name=name)
    return category


def _description(fields: dict) -> str:
    parts = [fields.get("category_name", "")] + [
        fields.get(k) or "" for k in ("variety", "color", "grade")
    ]
    return " ".join(p for p in parts if p)[:300]


PRODUCT_FIELDS = (
    "variety",
    "color",
    "grade",
    "legacy_code",
    "default_unit_type",
    "regions_of_origin",
    "product_roll_up_code",
    "tags",
    "description",
    "active",
    "price_a",
    "price_b",
)


# A price may be cleared (the product then has no default at that level): the caller sends
# CLEAR rather than None, which means "leave as it is".
CLEAR = object()


def _apply(product: Product, changes: dict) -> None:
    for name in PRODUCT_FIELDS:
        if name in changes and changes[name] is not None:
            value = None if changes[name] is CLEAR else changes[name]
            if name in ("price_a", "price_b") and value is not None and value < 0:
                raise Invalid(
                    "must be 0 or more", field="priceA" if name == "price_a" else "priceB"
                )
            setattr(product, name, value)
    if product.default_unit_type not in UnitType.values:
        raise Invalid("must be Stem or Bunch", field="defaultUnitType")
    if not (product.variety or product.color or product.grade):
        raise Invalid("give at least one of variety, color, grade", field="variety")
    if not product.description:
        product.description = _description(
            {
                "category_name": product.category.name,
                "variety": product.variety,
                "color": product.color,
                "grade": product.grade,
            }
        )


def _code_taken(product: Product) -> Conflict:
    return Conflict(f"another product already has the code {product.legacy_code!r}", field="code")


def _save(product: Product) -> Product:
    # Codes are looked up case-insensitively (legacyCode filter, ordering by productCode), so
    # "rfr50" beside "RFR50" would make a code name two products.
    if product.legacy_code and (
        Product.objects.filter(
            company_id=product.company_id, legacy_code__iexact=product.legacy_code
        )
        .exclude(pk=product.pk)
        .exists()
    ):
        raise _code_taken(product)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise _code_taken(product) from exc
    return product


def add_product(*, company: Company, category: str, **changes) -> Product:
    product = Product(company=company, category=category_named(company=company, name=category))
    _apply(product, changes)
    return _save(product)


def update_product(
    *, company: Company, product_id: int, category: str | None = None, **changes
) -> Product:
    product = (
        Product.objects.select_related("category").filter(company=company, pk=product_id).first()
    )
    if product is None:
        raise NotFound(f"product {product_id} does not exist", field="productId")
    if category:
        product.category = category_named(company=company, name=category)
    _apply(product, changes)
    return _save(product)


def create_standard_box_types(*, company: Company) -> list[BoxType]:
    boxes = []
    for code, name, fbe, network_id in STANDARD_BOX_TYPES:
        box, _ = BoxType.objects.get_or_create(
            company=company,
            code=code,
            defaults={
                "name": name,
                "fbe": Decimal(fbe),
                "komet_network_id": network_id,
                "komet_network_name": code,
            },
        )
        boxes.append(box)
    return boxes


@transaction.atomic
def save_box_type(
    *,
    company: Company,
    box_type_id: int | None = None,
    code: str | None = None,
    name: str | None = None,
    fbe: Decimal | None = None,
    active: bool | None = None,
) -> BoxType:
    """Add a box type (box_type_id None) or change one."""
    if box_type_id is None:
        box = BoxType(company=company)
    else:
        box = BoxType.objects.select_for_update().filter(company=company, pk=box_type_id).first()
        if box is None:
            raise NotFound(f"box type {box_type_id} does not exist", field="boxTypeId")
    if code is not None:
        box.code = code.strip().upper()
    if not box.code:
        raise Invalid("is required", field="code")
    if len(box.code) > 3:
        raise Invalid("at most 3 characters", field="code")
    if name is not None:
        box.name = name.strip()[:50]
    if fbe is not None:
        box.fbe = fbe
    if box.fbe is None or not Decimal("0") < box.fbe <= Decimal("10"):
        raise Invalid("must be more than 0 and at most 10", field="fbe")
    if active is not None:
        box.active = active
    if BoxType.objects.filter(company=company, code__iexact=box.code).exclude(pk=box.pk).exists():
        raise Conflict(f"another box type already has the code {box.code!r}", field="code")
    try:
        with transaction.atomic():
            box.save()
    except IntegrityError as exc:
        raise Conflict(f"another box type already has the code {box.code!r}", field="code") from exc
    return box
