"""Reads of sales documents shared by the API: web orders with their lines and documents, stock
picked by product spec, invoices found by number."""

import re

from django.db.models import Case, F, IntegerField, Prefetch, Q, When

from stemline.catalog.models import BoxType, Product, UnitType
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine, Origin

from .models import Invoice, Prebook, WebOrder, WebOrderItem

# A customer's cart and recent orders are small; a list that size never needs paging.
MAX_WEB_ORDERS = 100


def web_order(company: Company, customer_id: int, web_order_id: int) -> WebOrder:
    """One of this customer's web orders in any status; another customer's is not found."""
    order = WebOrder.objects.filter(
        company=company, customer_id=customer_id, pk=web_order_id
    ).first()
    if order is None:
        raise NotFound(f"web order {web_order_id} does not exist", field="webOrderId")
    return order


def web_orders(
    *,
    company: Company,
    customer_id: int,
    web_order_id: int | None = None,
    status: int | None = None,
    location_id: int | None = None,
) -> list[WebOrder]:
    """Web orders with their lines (`lines`) and the invoice and prebook they became
    (`invoice`, `prebook`, None when not created), in four queries whatever their size."""
    qs = WebOrder.objects.filter(company=company, customer_id=customer_id)
    if web_order_id is not None:
        qs = qs.filter(pk=web_order_id)
    if status is not None:
        qs = qs.filter(status=status)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    items = WebOrderItem.objects.select_related("line__product", "line__box_type").order_by("id")
    orders = list(
        qs.order_by("-id").prefetch_related(Prefetch("items", queryset=items, to_attr="lines"))[
            :MAX_WEB_ORDERS
        ]
    )
    ids = [o.pk for o in orders]
    invoices = {
        d.web_order_id: d for d in Invoice.objects.filter(company=company, web_order__in=ids)
    }
    prebooks = {
        d.web_order_id: d for d in Prebook.objects.filter(company=company, web_order__in=ids)
    }
    for order in orders:
        order.invoice = invoices.get(order.pk)
        order.prebook = prebooks.get(order.pk)
    return orders


def product_by_spec(
    company: Company, *, product_code: str | None, product_id: int | None
) -> Product:
    if product_code:
        product = Product.objects.filter(
            company=company, legacy_code__iexact=product_code, active=True
        ).first()
        if product is None:
            raise NotFound(f"product code {product_code!r} does not exist", field="productCode")
        if product_id is not None and product.pk != product_id:
            raise Invalid(
                f"product code {product_code!r} is not product {product_id}",
                field="companyProductId",
            )
        return product
    product = Product.objects.filter(company=company, pk=product_id, active=True).first()
    if product is None:
        raise NotFound(f"product {product_id} does not exist", field="companyProductId")
    return product


def box_type_by_code(company: Company, code: str) -> BoxType:
    box_type = BoxType.objects.filter(company=company, code__iexact=code).first()
    if box_type is None:
        raise NotFound(f"box type {code!r} does not exist", field="boxTypeCode")
    return box_type


def pick_lines(
    *,
    company: Company,
    customer,
    location_id: int,
    product: Product,
    box_type: BoxType,
    origin: int,
    quantity: int,
    unit_type: str | None = None,
    units_per_box: int | None = None,
    reserved: bool = False,
) -> list[tuple[int, int]]:
    """(line id, boxes) filling `quantity` boxes of one product spec, oldest line first.

    Runs inside the caller's transaction, after the customer's pending web order is locked,
    and locks the candidate lines in primary-key order (the order every stock writer uses), so
    what it picks is still there when it is held. Not enough boxes in all: Conflict with the
    shortage, nothing picked."""
    today = stock.today()
    on_hand = Q(arrival_date__isnull=True) | Q(arrival_date__lte=today)
    qs = InventoryLine.objects.filter(
        company=company,
        location_id=location_id,
        product=product,
        box_type=box_type,
        total__gt=F("committed") + F("held"),
    ).filter(on_hand if origin == Origin.ON_HAND else ~on_hand)
    # reservedInventory: only the lines reserved for this customer, else only unreserved ones.
    qs = qs.filter(reserved_for=customer) if reserved else qs.filter(reserved_for__isnull=True)
    if unit_type is not None:
        qs = qs.filter(unit_type=unit_type)
    if units_per_box is not None:
        qs = qs.annotate(
            per_box=Case(
                When(unit_type=UnitType.BUNCH, then=F("bunches")),
                default=F("bunches") * F("stems_bunch"),
                output_field=IntegerField(),
            )
        ).filter(per_box=units_per_box)
    picked, wanted, available = [], quantity, 0
    for line in qs.select_for_update().order_by("pk"):
        if stock.customer_price(line, customer) is None:
            continue
        available += line.available
        if wanted:
            take = min(wanted, line.available)
            picked.append((line.pk, take))
            wanted -= take
    if wanted:
        raise Conflict(
            f"{available} boxes of {product.description} in {box_type.code} are available, "
            f"{quantity} asked",
            field="quantity",
            shortages=[
                {
                    "productId": product.pk,
                    "boxTypeCode": box_type.code,
                    "requested": quantity,
                    "available": available,
                }
            ],
        )
    return picked


def invoice_id(
    company: Company, *, invoice_id: int | None, number: str | None, location_id: int | None
) -> int:
    """The invoice named by ID or by number (its UI prefix such as `W` stripped; numbers are
    per location, so a number used at several locations needs the location)."""
    if invoice_id is not None:
        return invoice_id
    if not number:
        raise Invalid("send invoiceId or invoiceNumber", field="invoiceId")
    match = re.fullmatch(r"[A-Za-z]*0*(\d{1,9})", number)
    if match is None:
        raise Invalid("must be an invoice number such as 123 or W000123", field="invoiceNumber")
    qs = Invoice.objects.filter(company=company, number=int(match.group(1)))
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    found = list(qs.values_list("pk", flat=True)[:2])
    if not found:
        raise NotFound(f"invoice {number} does not exist", field="invoiceNumber")
    if len(found) > 1:
        raise Invalid(
            f"invoice number {number} is used at several locations; send locationId",
            field="locationId",
        )
    return found[0]
