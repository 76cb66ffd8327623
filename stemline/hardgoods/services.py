"""Every write to hard goods: products, their stock in units, and units sold on documents.

Stock moves only here, with the inventory rows locked in primary-key order and guarded
updates, so two buyers can never take the same unit."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company, Location
from stemline.parties.models import Vendor, VendorType

from .models import (
    HardGoodCategory,
    HardGoodInventory,
    HardGoodProduct,
    HardGoodSale,
    HardGoodTake,
)

MAX_UNITS_PER_CALL = 999  # hardgood.inventory.add (reference §1.5)
# update_product: clear an optional value (None alone means "unchanged").
CLEAR = object()

PRODUCT_FIELDS = (
    "subcategory",
    "description",
    "sku",
    "color",
    "pack_size",
    "case_upc",
    "unit_upc",
    "unit_cost",
    "unit_price",
    "unit_price_markup",
    "discount",
    "qty_for_discount",
    "active_per_item",
    "active_per_vendor",
)

# What higher layers do in the same transaction as a change of what can be bought (the
# channels register here in their AppConfig.ready(), so this app imports none of them).
CHANGE_HOOKS: list = []


def on_change(hook) -> None:
    """hook(product, location_id, kind): after a change of a product's stock or terms."""
    if hook not in CHANGE_HOOKS:
        CHANGE_HOOKS.append(hook)


def _changed(product: HardGoodProduct, location_id: int | None, kind: str) -> None:
    for hook in CHANGE_HOOKS:
        hook(product, location_id, kind)


class NotEnoughHardGoods(Conflict):
    """A product does not have the units asked for at a location; nothing was taken."""

    def __init__(self, product: HardGoodProduct, requested: int, available: int):
        super().__init__(
            f"hard good {product.sku} has {available} units available, {requested} asked",
            field="quantity",
            productId=product.pk,
            requested=requested,
            available=available,
        )


# ---------------------------------------------------------------- products


def hard_goods_vendor(company: Company, *, vendor_id=None, vendor_code=None) -> Vendor:
    """The company's vendor by id or code, which must sell hard goods (vendorType 3)."""
    vendors = Vendor.objects.filter(company=company)
    if vendor_id is not None:
        field, label, found = "vendorId", vendor_id, vendors.filter(pk=vendor_id).first()
    elif vendor_code:
        field, label = "vendorCode", repr(vendor_code)
        found = vendors.filter(code__iexact=vendor_code).first()
    else:
        raise Invalid("send vendorId or vendorCode", field="vendorId")
    if found is None:
        raise NotFound(f"vendor {label} does not exist", field=field)
    if found.vendor_type != VendorType.HARD_GOODS:
        raise Invalid(f"vendor {label} is not a hard-goods vendor (vendorType 3)", field=field)
    if not found.active:
        raise Invalid(f"vendor {label} is inactive", field=field)
    return found


def category_named(company: Company, name: str) -> HardGoodCategory:
    name = name.strip()
    if not name:
        raise Invalid("must not be empty", field="category")
    found = HardGoodCategory.objects.filter(company=company, name__iexact=name).first()
    if found is not None:
        return found
    # A concurrent maker of the same name loses on the unique constraint and reads it back.
    obj, _ = HardGoodCategory.objects.get_or_create(company=company, name=name)
    return obj


def _check_product(company: Company, product: HardGoodProduct) -> None:
    if product.pack_size < 1:
        raise Invalid("must be at least 1", field="packSize")
    if not 0 <= product.discount <= 100:
        raise Invalid("must be between 0 and 100", field="discount")
    clash = HardGoodProduct.objects.filter(
        company=company, vendor=product.vendor, sku__iexact=product.sku
    ).exclude(pk=product.pk)
    if clash.exists():
        raise Conflict(
            f"sku {product.sku!r} is already a product of vendor {product.vendor.name}",
            field="sku",
        )


@transaction.atomic
def add_product(*, company: Company, vendor: Vendor, category: str, **fields) -> HardGoodProduct:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    product = HardGoodProduct(
        company=company, vendor=vendor, category=category_named(company, category), **fields
    )
    _check_product(company, product)
    product.save()
    _changed(product, None, "added")
    return product


def lock_product(company: Company, product_id: int, field: str = "productId") -> HardGoodProduct:
    found = (
        HardGoodProduct.objects.select_for_update()
        .select_related("vendor", "category")
        .filter(company=company, pk=product_id)
        .first()
    )
    if found is None:
        raise NotFound(f"hard-goods product {product_id} does not exist", field=field)
    return found


@transaction.atomic
def update_product(
    *,
    company: Company,
    product_id: int,
    vendor: Vendor | None = None,
    category: str | None = None,
    **changes,
) -> HardGoodProduct:
    """Change a product; fields not given (None) keep their value."""
    product = lock_product(company, product_id, field="Id")
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    if vendor is not None:
        product.vendor = vendor
    if category is not None:
        product.category = category_named(company, category)
    for name, value in changes.items():
        if value is CLEAR:
            setattr(product, name, None)
        elif value is not None:
            setattr(product, name, value)
    _check_product(company, product)
    product.save()
    _changed(product, None, "updated")
    return product


# ---------------------------------------------------------------- stock


@transaction.atomic
def add_inventory(
    *,
    company: Company,
    product_id: int,
    location: Location,
    quantity: int,
    unit_cost: Decimal,
    unit_price: Decimal | None = None,
) -> HardGoodInventory:
    """Units of a product received at a location (at most 999 a call)."""
    if not 1 <= quantity <= MAX_UNITS_PER_CALL:
        raise Invalid(f"must be between 1 and {MAX_UNITS_PER_CALL} units", field="quantity")
    product = lock_product(company, product_id)
    if not product.active:
        raise Invalid(f"hard-goods product {product_id} is inactive", field="productId")
    row = HardGoodInventory.objects.create(
        company=company,
        product=product,
        location=location,
        total=quantity,
        unit_cost=unit_cost,
        unit_price=unit_price,
    )
    _changed(product, location.pk, "added")
    return row


@transaction.atomic
def update_inventory(
    *,
    company: Company,
    product_id: int,
    location: Location,
    unit_cost: Decimal,
    unit_price: Decimal | None = None,
) -> int:
    """New cost (and price) for the product's stock at a location; the rows changed."""
    product = lock_product(company, product_id)
    rows = list(_lock_rows(company, product, location.pk))
    if not rows:
        raise NotFound(
            f"hard-goods product {product_id} has no inventory at location {location.pk}",
            field="productId",
        )
    changes = {"unit_cost": unit_cost, "updated_at": timezone.now()}
    if unit_price is not None:
        changes["unit_price"] = unit_price
    HardGoodInventory.objects.filter(pk__in=[r.pk for r in rows]).update(**changes)
    _changed(product, location.pk, "updated")
    return len(rows)


def _lock_rows(company: Company, product: HardGoodProduct, location_id: int):
    return (
        HardGoodInventory.objects.select_for_update()
        .filter(company=company, product=product, location_id=location_id)
        .order_by("pk")
    )


# ---------------------------------------------------------------- selling


@dataclass(frozen=True)
class Wanted:
    product_id: int
    quantity: int
    unit_price: Decimal | None = None  # None: the stock's or product's price, discount applied


def unit_price_of(product: HardGoodProduct, rows: list[HardGoodInventory], quantity: int):
    """What one unit sells for: the newest stock row's price, else the product's; the
    quantity discount on top."""
    priced = [r.unit_price for r in rows if r.unit_price is not None]
    return product.price_for(quantity, priced[-1] if priced else None)


def _take(
    company: Company,
    location: Location,
    wanted: Iterable[Wanted],
    *,
    into: str,
    document_kind: str,
    document_id: int,
) -> list[HardGoodSale]:
    """Move available units into `held` or `committed` and write the sale lines. Products
    are locked in primary-key order, then their rows at the location; all or nothing."""
    items = list(wanted)
    by_product: dict[int, int] = {}
    for item in items:
        if item.quantity < 1:
            raise Invalid("must be at least 1 unit", field="quantity")
        by_product[item.product_id] = by_product.get(item.product_id, 0) + item.quantity
    products = {pid: lock_product(company, pid) for pid in sorted(by_product)}
    rows_of: dict[int, list[HardGoodInventory]] = {}
    for pid in sorted(by_product):
        product = products[pid]
        if not product.active:
            raise Invalid(f"hard-goods product {pid} is inactive", field="productId")
        rows_of[pid] = list(_lock_rows(company, product, location.pk))
        available = sum(max(0, r.available) for r in rows_of[pid])
        if available < by_product[pid]:
            raise NotEnoughHardGoods(product, by_product[pid], available)
    sales = []
    for item in items:
        product, rows = products[item.product_id], rows_of[item.product_id]
        price = (
            unit_price_of(product, rows, item.quantity)
            if item.unit_price is None
            else item.unit_price
        )
        sale = HardGoodSale.objects.create(
            company=company,
            document_kind=document_kind,
            document_id=document_id,
            product=product,
            location=location,
            quantity=item.quantity,
            unit_price=price,
            amount=(price * item.quantity).quantize(Decimal("0.01")),
        )
        left = item.quantity
        for row in rows:  # oldest stock first
            if left == 0:
                break
            part = min(left, row.available)
            if part <= 0:
                continue
            ok = (
                HardGoodInventory.objects.filter(pk=row.pk)
                .filter(total__gte=F("committed") + F("held") + part)
                .update(**{into: F(into) + part})
            )
            if not ok:  # only if a lock was not honoured
                raise NotEnoughHardGoods(product, item.quantity, item.quantity - left)
            setattr(row, into, getattr(row, into) + part)
            HardGoodTake.objects.create(sale=sale, inventory=row, quantity=part)
            left -= part
        sales.append(sale)
    for pid in sorted(by_product):
        _changed(products[pid], location.pk, "sold" if into == "committed" else "held")
    return sales


@transaction.atomic
def sell(
    *, company: Company, location: Location, wanted: Iterable[Wanted], invoice_id: int
) -> list[HardGoodSale]:
    """Units sold straight onto an invoice."""
    return _take(
        company,
        location,
        wanted,
        into="committed",
        document_kind=HardGoodSale.Document.INVOICE,
        document_id=invoice_id,
    )


@transaction.atomic
def hold(
    *, company: Company, location: Location, wanted: Iterable[Wanted], web_order_id: int
) -> list[HardGoodSale]:
    """Units held for a pending web order until it is checked out or let go."""
    return _take(
        company,
        location,
        wanted,
        into="held",
        document_kind=HardGoodSale.Document.WEB_ORDER,
        document_id=web_order_id,
    )


def sales_on(company_id: int, document_kind: str, document_id: int):
    return (
        HardGoodSale.objects.filter(
            company_id=company_id,
            document_kind=document_kind,
            document_id=document_id,
            released_at__isnull=True,
        )
        .select_related("product", "location")
        .order_by("pk")
    )


def _lock_sales_rows(sales: list[HardGoodSale]) -> list[HardGoodTake]:
    takes = list(HardGoodTake.objects.filter(sale__in=sales).order_by("pk"))
    ids = sorted({t.inventory_id for t in takes})
    # Products first, then rows, as _take does, so releasing never waits in a cycle on it.
    product_ids = sorted({s.product_id for s in sales})
    list(HardGoodProduct.objects.select_for_update().filter(pk__in=product_ids).order_by("pk"))
    list(HardGoodInventory.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    return takes


@transaction.atomic
def release(*, company: Company, document_kind: str, document_id: int) -> int:
    """Give back every unit on a document (an invoice voided, a web order canceled or
    expired); the units given back."""
    sales = list(sales_on(company.pk, document_kind, document_id))
    if not sales:
        return 0
    return _give_back(company, sales, document_kind)


def _give_back(company: Company, sales: list[HardGoodSale], document_kind: str) -> int:
    field = "held" if document_kind == HardGoodSale.Document.WEB_ORDER else "committed"
    takes = _lock_sales_rows(sales)
    for take in takes:
        ok = (
            HardGoodInventory.objects.filter(pk=take.inventory_id)
            .filter(**{f"{field}__gte": take.quantity})
            .update(**{field: F(field) - take.quantity})
        )
        if not ok:
            raise Conflict(f"hard-goods inventory {take.inventory_id} holds fewer units")
    HardGoodSale.objects.filter(pk__in=[s.pk for s in sales]).update(released_at=timezone.now())
    for sale in {s.product_id: s for s in sales}.values():
        _changed(sale.product, sale.location_id, "released")
    return sum(s.quantity for s in sales)


@transaction.atomic
def release_sale(*, company: Company, sale_id: int) -> int:
    """Give back the units of one sale line (taken off its document); the units given back."""
    sale = HardGoodSale.objects.filter(
        company=company, pk=sale_id, released_at__isnull=True
    ).first()
    if sale is None:
        raise NotFound(f"hard-goods line {sale_id} does not exist", field="saleId")
    return _give_back(company, [sale], sale.document_kind)


@transaction.atomic
def check_out(*, company: Company, web_order_id: int, invoice_id: int) -> list[HardGoodSale]:
    """A web order's held units become sold on the invoice its checkout made."""
    sales = list(sales_on(company.pk, HardGoodSale.Document.WEB_ORDER, web_order_id))
    if not sales:
        return []
    for take in _lock_sales_rows(sales):
        ok = (
            HardGoodInventory.objects.filter(pk=take.inventory_id)
            .filter(held__gte=take.quantity)
            .update(held=F("held") - take.quantity, committed=F("committed") + take.quantity)
        )
        if not ok:
            raise Conflict(f"hard-goods inventory {take.inventory_id} holds fewer units")
    HardGoodSale.objects.filter(pk__in=[s.pk for s in sales]).update(
        document_kind=HardGoodSale.Document.INVOICE, document_id=invoice_id
    )
    for sale in {s.product_id: s for s in sales}.values():
        _changed(sale.product, sale.location_id, "sold")
    return sales


def amount_on(company_id: int, document_kind: str, document_id: int) -> Decimal:
    return sum((s.amount for s in sales_on(company_id, document_kind, document_id)), Decimal(0))


# ---------------------------------------------------------------- settings


@transaction.atomic
def set_settings(*, company: Company, in_ecommerce: bool, in_channels: bool) -> Company:
    """Where the company shows its hard goods: its e-commerce catalogue, its channels."""
    Company.objects.filter(pk=company.pk).update(
        hard_goods_in_shop=in_ecommerce, hard_goods_in_channels=in_channels
    )
    company.hard_goods_in_shop, company.hard_goods_in_channels = in_ecommerce, in_channels
    return company
