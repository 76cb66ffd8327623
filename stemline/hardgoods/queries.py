"""Reads of hard goods shared by the API, the web application and the shop."""

from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from stemline.core.models import Company, Location
from stemline.core.sql import id_in

from .models import HardGoodInventory, HardGoodProduct, HardGoodSale

AVAILABLE = Q(total__gt=F("committed") + F("held"))
# The inventoryOrigin of hard goods in the shop and in web-order-item.add (Stemline's own:
# the reference's origins are 1 to 4, all boxes).
HARD_GOODS_ORIGIN = 5


# A document's hard-goods lines as plain values (long lists: no model per row).
SALE_VALUES = (
    "document_id",
    "pk",
    "product_id",
    "product__sku",
    "product__description",
    "quantity",
    "unit_price",
    "amount",
)


def held_on(document_kind: str) -> Exists:
    """Whether the outer row (a sales document of `document_kind`) has hard goods not given
    back, as an expression to annotate it with in the statement that reads it."""
    return Exists(
        HardGoodSale.objects.filter(
            company_id=OuterRef("company_id"),
            document_kind=document_kind,
            document_id=OuterRef("pk"),
            released_at__isnull=True,
        )
    )


def sale_values(company_id: int, document_kind: str, ids: list[int]) -> dict[int, list[tuple]]:
    """The hard goods sold (not given back) on these documents, SALE_VALUES by document: one
    query."""
    by_document: dict[int, list[tuple]] = {pk: [] for pk in ids}
    if not ids:
        return by_document
    for row in (
        HardGoodSale.objects.filter(
            id_in(ids, "document_id"),
            company_id=company_id,
            document_kind=document_kind,
            released_at__isnull=True,
        )
        .order_by("id")
        .values_list(*SALE_VALUES)
    ):
        by_document[row[0]].append(row)
    return by_document


def products(company: Company) -> QuerySet:
    return HardGoodProduct.objects.filter(company=company).select_related("vendor", "category")


def search_products(company: Company, text: str = "") -> QuerySet:
    found = products(company)
    text = (text or "").strip()
    if text:
        found = found.filter(
            Q(sku__icontains=text)
            | Q(description__icontains=text)
            | Q(category__name__icontains=text)
            | Q(subcategory__icontains=text)
            | Q(vendor__name__icontains=text)
            | Q(unit_upc__icontains=text)
            | Q(case_upc__icontains=text)
        )
    return found


class StockRow:
    """A product's stock at one location: its inventory rows taken together."""

    def __init__(self, product: HardGoodProduct, location):
        self.product = product
        self.location = location
        self.inventory_ids: list[int] = []
        self.total = 0
        self.available = 0
        self.committed = 0
        self.held = 0
        self.unit_cost: Decimal | None = None
        self.stock_price: Decimal | None = None

    @property
    def unit_price(self) -> Decimal:
        return self.stock_price if self.stock_price is not None else self.product.selling_price


def stock(
    company: Company,
    *,
    location_id: int | None = None,
    vendor_code: str | None = None,
    sku: str | None = None,
    category: str | None = None,
    search: str | None = None,
    available_only: bool = True,
    active_only: bool = True,
) -> list[StockRow]:
    """Stock by product and location in a constant number of queries, newest row's cost
    and price standing for the group."""
    rows = HardGoodInventory.objects.filter(company=company).select_related(
        "product", "product__vendor", "product__category", "location"
    )
    if location_id is not None:
        rows = rows.filter(location_id=location_id)
    if vendor_code:
        rows = rows.filter(product__vendor__code__iexact=vendor_code)
    if sku:
        rows = rows.filter(product__sku__iexact=sku)
    if category:
        rows = rows.filter(product__category__name__icontains=category)
    if search:
        rows = rows.filter(
            Q(product__sku__icontains=search) | Q(product__description__icontains=search)
        )
    if active_only:
        rows = rows.filter(product__active_per_item=True, product__active_per_vendor=True)
    groups: dict[tuple[int, int], StockRow] = {}
    for row in rows.order_by("product__description", "product_id", "location_id", "pk"):
        key = (row.product_id, row.location_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = StockRow(row.product, row.location)
        group.inventory_ids.append(row.pk)
        group.total += row.total
        group.available += row.available
        group.committed += row.committed
        group.held += row.held
        group.unit_cost = row.unit_cost
        if row.unit_price is not None:
            group.stock_price = row.unit_price
    out = list(groups.values())
    if available_only:
        out = [g for g in out if g.available > 0]
    return out


def shown_in_channels(company_id: int) -> bool:
    # Read from the row: a channel's event is written in the change's transaction.
    return Company.objects.filter(pk=company_id, hard_goods_in_channels=True).exists()


def shop_rows(company: Company, buyer, *, location_id: int, search: str | None = None):
    """Hard goods a shop shows (ecommerce/inventory.list), or None when the company does not
    show them (its setting as the API call's company has it: no query then); registered with
    inventory.services.on_shop_list."""
    if not company.hard_goods_in_shop:
        return None
    if location_id is None:
        location_id = Location.objects.get(company=company, is_default=True).pk
    return [
        {
            "inventoryIds": str(row.product.pk),
            "inventoryOrigin": HARD_GOODS_ORIGIN,
            "productId": row.product.pk,
            "sku": row.product.sku,
            "productDescription": row.product.description,
            "category": row.product.category.name,
            "subcategory": row.product.subcategory,
            "color": row.product.color,
            "packSize": row.product.pack_size,
            "quantity": row.available,
            "price": row.unit_price,
            "discount": row.product.discount,
            "qtyForDiscount": row.product.qty_for_discount,
            "vendorId": row.product.vendor_id,
            "vendor": row.product.vendor.name,
            "companyLocationId": row.location.pk,
        }
        for row in stock(company, location_id=location_id, search=search)
    ]
