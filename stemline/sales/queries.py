"""Reads of sales documents shared by the API: web orders with their lines and documents, stock
picked by product spec, invoices found by number."""

import re
from datetime import date, datetime

from django.db.models import Case, F, IntegerField, Prefetch, Q, Sum, When

from stemline.catalog.models import BoxType, Product, UnitType
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company
from stemline.core.sql import id_in
from stemline.inventory import feeds
from stemline.inventory import queries as stock_queries
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine

from .models import (
    DocumentChange,
    Invoice,
    InvoiceCharge,
    InvoiceItem,
    Prebook,
    PrebookBreakdown,
    PrebookItem,
    StandingOrder,
    StandingOrderItem,
    WebOrder,
    WebOrderItem,
)

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
    lock: bool = True,
    priced: bool = True,
) -> list[tuple[int, int]]:
    """(line id, boxes) filling `quantity` boxes of one product spec, oldest line first.

    Runs inside the caller's transaction, after the customer's pending web order is locked,
    and locks the candidate lines in primary-key order (the order every stock writer uses), so
    what it picks is still there when it is held. Not enough boxes in all: Conflict with the
    shortage, nothing picked.

    `lock=False` picks without locking, for a caller that commits several specs' lines in one
    `stock.commit` (which locks them all in primary-key order and refuses what went meanwhile);
    `priced=False` also takes lines without a price for this customer (the caller names one)."""
    today = stock.today()
    # Boxes in transit are never on hand; growers' offers are their own origin (3).
    qs = InventoryLine.objects.filter(
        company=company,
        location_id=location_id,
        product=product,
        box_type=box_type,
        in_units=False,  # a product spec names boxes
    ).filter(stock_queries.AVAILABLE, stock_queries.of_origin(origin, today))
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
    if lock:
        qs = qs.select_for_update()
    for line in qs.order_by("pk"):
        if priced and stock.customer_price(line, customer) is None:
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
    qs = Invoice.objects.filter(company=company, number=document_number(number, "invoiceNumber"))
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


def document_number(value: str, field: str) -> int:
    """A document number as people write it: a UI prefix (`W`, `T`) and zeros stripped."""
    match = re.fullmatch(r"[A-Za-z]*0*(\d{1,9})", value.strip())
    if match is None:
        raise Invalid("must be a number such as 123 or W000123", field=field)
    return int(match.group(1))


FEED_ROWS = 1000


def invoices(
    company: Company,
    *,
    customer_id: int | None = None,
    customer: str | None = None,
    carrier_id: int | None = None,
    carrier_name: str | None = None,
    product: str | None = None,
    number: int | None = None,
    invoice_id: int | None = None,
    status: int | None = None,
    location_ids: list[int] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    updated_since: datetime | None = None,
    synced: bool | None = None,
    is_ecommerce: bool | None = None,
):
    """The company's invoices matching the reference's filters (IDs exact, names substring,
    case-insensitive); an order number or ID overrides the date window."""
    qs = Invoice.objects.filter(company=company)
    if invoice_id is not None:
        qs = qs.filter(pk=invoice_id)
    if number is not None:
        qs = qs.filter(number=number)
    if invoice_id is None and number is None:
        if date_from is not None:
            qs = qs.filter(ship_date__gte=date_from)
        if date_to is not None:
            qs = qs.filter(ship_date__lte=date_to)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if customer:
        qs = qs.filter(customer__name__icontains=customer)
    if carrier_id is not None:
        qs = qs.filter(carrier_id=carrier_id)
    if carrier_name:
        qs = qs.filter(carrier__name__icontains=carrier_name)
    if product:
        qs = qs.filter(
            pk__in=InvoiceItem.objects.filter(
                company=company, product__description__icontains=product
            ).values("invoice_id")
        )
    if status is not None:
        qs = qs.filter(status=status)
    if location_ids:
        qs = qs.filter(location_id__in=location_ids)
    if updated_since is not None:
        qs = qs.filter(updated_at__gt=updated_since)
    if synced is not None:
        qs = qs.filter(synced=synced)
    if is_ecommerce is not None:
        qs = qs.filter(web_order__isnull=not is_ecommerce)
    return qs


HEADER_RELATIONS = ("customer", "customer__sales_person", "carrier", "location", "ship_to")


def invoice_details(qs) -> list[Invoice]:
    """Invoices with their lines (`lines`), each line with its product, box type and
    inventory line's grower: three queries whatever the number of invoices (the PDF, the
    e-mail and the invoice page; the API's list reads plain values: `detail_values`)."""
    invoices = list(qs.select_related(*HEADER_RELATIONS).order_by("ship_date", "number", "id"))
    # The lines alone, then each product, box type and grower's line once: a day's invoices
    # repeat a few products thousands of times, and one object per line (not five) is what
    # keeps 10,000 lines quick. Three more queries, whatever the number of invoices.
    items = list(
        InvoiceItem.objects.filter(invoice__in=[i.pk for i in invoices]).order_by(
            "invoice_id", "id"
        )
    )
    products = Product.objects.only("description").in_bulk({i.product_id for i in items})
    box_types = BoxType.objects.only("code").in_bulk({i.box_type_id for i in items})
    lines = (
        InventoryLine.objects.select_related("vendor")
        .only("awb", "stems_bunch", "bunches", "reference", "in_units", "vendor__name")
        .in_bulk({i.line_id for i in items if i.line_id})
    )
    by_invoice: dict[int, list[InvoiceItem]] = {i.pk: [] for i in invoices}
    for item in items:
        item.product = products[item.product_id]
        item.box_type = box_types[item.box_type_id]
        item.line = lines.get(item.line_id) if item.line_id else None
        by_invoice[item.invoice_id].append(item)
    # Their additional charges and taxes (additionalChargesDetails, the PDF): one query more.
    charge_rows: dict[int, list[InvoiceCharge]] = {i.pk: [] for i in invoices}
    for row in InvoiceCharge.objects.filter(invoice__in=[i.pk for i in invoices]):
        charge_rows[row.invoice_id].append(row)
    for invoice in invoices:
        invoice.lines = by_invoice[invoice.pk]
        invoice.charge_rows = charge_rows[invoice.pk]
    return invoices


# ---------------------------------------------------------------- long lists as plain values
# invoice.list and invoice.details.list read rows as tuples of values, never a model per row
# (issue 16 item 4): the ids in the list's order first (narrow: the page, or all of them), then
# a chunk of documents at a time with their lines and charges, three queries per chunk.

LIST_ORDER = ("ship_date", "number", "id")
HEADER_VALUES = (
    "id",
    "number",
    "ship_date",
    "created_at",
    "updated_at",
    "status",
    "customer_id",
    "customer__name",
    "customer__code",
    "customer_po",
    "web_order_id",
    "customer__sales_person_id",
    "customer__sales_person__first_name",
    "customer__sales_person__last_name",
    "customer__sales_person__email",
    "carrier_id",
    "carrier__name",
    "location_id",
    "location__name",
    "ship_to_id",
    "ship_to__name",
    "ship_to__address",
    "ship_to__city",
    "ship_to__state",
    "ship_to__zipcode",
    "ship_to__country",
    "customer__bill_address",
    "customer__bill_city",
    "customer__bill_state",
    "customer__bill_zipcode",
    "customer__bill_country",
    "amount",
    "additional_charges",
    "taxes",
    "transaction_fee",
    "reference",
    "warehouse_instructions",
    "invoice_notes",
    "synced",
    "sync_error",
    "void_reason",
    "labels_printed_at",
    "bol_printed_at",
    "pod_received_at",
)
ITEM_VALUES = (
    "invoice_id",
    "id",
    "line_id",
    "line__awb",
    "product_id",
    "product__description",
    "product_alias",
    "box_type_id",
    "box_type__code",
    "unit_type",
    "line__stems_bunch",
    "line__bunches",
    "units_per_box",
    "boxes",
    "price",
    "line__vendor_id",
    "line__vendor__name",
    "line__reference",
    "notes",
    "mark_code",
    "line__in_units",
)
CHARGE_VALUES = (
    "invoice_id",
    "charge_id",
    "code",
    "name",
    "amount_type",
    "value",
    "purpose",
    "amount",
)


def header_values(ids: list[int]) -> list[tuple]:
    """Invoice headers (HEADER_VALUES, in the order of `ids`) with their parties: one query."""
    found = {row[0]: row for row in Invoice.objects.filter(id_in(ids)).values_list(*HEADER_VALUES)}
    return [found[pk] for pk in ids]


def box_counts(ids: list[int]) -> dict[int, int]:
    return dict(
        InvoiceItem.objects.filter(id_in(ids, "invoice_id"))
        # Boxes: a line of the units inventory counts stems or bunches, not boxes.
        .exclude(line__in_units=True)
        .values("invoice_id")
        .annotate(n=Sum("boxes"))
        .values_list("invoice_id", "n")
    )


def item_values(ids: list[int]) -> dict[int, list[tuple]]:
    """The lines (ITEM_VALUES) of these invoices in id order, by invoice: one query."""
    by_invoice: dict[int, list[tuple]] = {pk: [] for pk in ids}
    rows = InvoiceItem.objects.filter(id_in(ids, "invoice_id")).order_by("id")
    for row in rows.values_list(*ITEM_VALUES):
        by_invoice[row[0]].append(row)
    return by_invoice


def charge_values(ids: list[int]) -> dict[int, list[tuple]]:
    """Their additional charges and taxes (CHARGE_VALUES), by invoice: one query."""
    by_invoice: dict[int, list[tuple]] = {pk: [] for pk in ids}
    for row in (
        InvoiceCharge.objects.filter(id_in(ids, "invoice_id"))
        .order_by("id")
        .values_list(*CHARGE_VALUES)
    ):
        by_invoice[row[0]].append(row)
    return by_invoice


def changes(company: Company, feed: str, since: int) -> list[DocumentChange]:
    # What has committed gets its number first, so nothing committed is skipped.
    feeds.sequence(company.pk, feed, DocumentChange, where={"feed": feed})
    return list(
        DocumentChange.objects.filter(company=company, feed=feed, seq__gt=since).order_by("seq")[
            :FEED_ROWS
        ]
    )


def document_feed(company: Company, feed: str, model, since: int, row, customer_id=None) -> dict:
    """A document feed's answer (`invoice.sync`, `prebook.sync`): the changes after `since`,
    each shaped by `row(change, document)` (document None once it is gone); with `customer_id`
    (a Customer token) only that customer's documents. Two queries."""
    found = changes(company, feed, since)
    by_id = model.objects.filter(company=company, pk__in={c.document_id for c in found}).in_bulk()
    rows = []
    for change in found:
        document = by_id.get(change.document_id)
        if customer_id is not None and (document is None or document.customer_id != customer_id):
            continue
        rows.append(row(change, document))
    return {
        "maxSeq": found[-1].seq if found else since,
        "more": int(len(found) == FEED_ROWS),
        "changes": rows,
    }


def prebooks(
    company: Company,
    *,
    customer_id: int | None = None,
    customer: str | None = None,
    carrier_id: int | None = None,
    carrier_name: str | None = None,
    number: int | None = None,
    location_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    updated_since: datetime | None = None,
    sales_person_id: int | None = None,
    so_number: int | None = None,
    customer_po: str | None = None,
    is_ecommerce: bool | None = None,
    vendor_ship_from: date | None = None,
    vendor_ship_to: date | None = None,
):
    """The company's prebooks (deleted ones never) matching the reference's filters."""
    qs = Prebook.objects.filter(company=company, deleted_at__isnull=True)
    if number is not None:
        qs = qs.filter(number=number)
    else:
        if date_from is not None:
            qs = qs.filter(ship_date__gte=date_from)
        if date_to is not None:
            qs = qs.filter(ship_date__lte=date_to)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if customer:
        qs = qs.filter(customer__name__icontains=customer)
    if carrier_id is not None:
        qs = qs.filter(carrier_id=carrier_id)
    if carrier_name:
        qs = qs.filter(carrier__name__icontains=carrier_name)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if updated_since is not None:
        qs = qs.filter(updated_at__gt=updated_since)
    if sales_person_id is not None:
        qs = qs.filter(customer__sales_person_id=sales_person_id)
    if so_number is not None:
        qs = qs.filter(standing_order__number=so_number)
    if customer_po:
        qs = qs.filter(customer_po__iexact=customer_po)
    if is_ecommerce is not None:
        ecommerce = Q(is_ecommerce=True) | Q(web_order__isnull=False)
        qs = qs.filter(ecommerce if is_ecommerce else ~ecommerce)
    if vendor_ship_from is not None or vendor_ship_to is not None:
        lines = InventoryLine.objects.filter(company=company)
        if vendor_ship_from is not None:
            lines = lines.filter(ship_date__gte=vendor_ship_from)
        if vendor_ship_to is not None:
            lines = lines.filter(ship_date__lte=vendor_ship_to)
        qs = qs.filter(
            pk__in=PrebookItem.objects.filter(line__in=lines.values("pk")).values("prebook_id")
        )
    return qs


def prebook_details(qs) -> list[Prebook]:
    """Prebooks with lines (`lines`) and each line's breakdowns (`parts`): four queries."""
    parts = PrebookBreakdown.objects.select_related("product").order_by("id")
    items = (
        PrebookItem.objects.select_related("product", "box_type", "vendor")
        .prefetch_related(Prefetch("breakdowns", queryset=parts, to_attr="parts"))
        .order_by("id")
    )
    return list(
        qs.select_related("customer", "carrier", "location", "standing_order")
        .prefetch_related(Prefetch("items", queryset=items, to_attr="lines"))
        .order_by("ship_date", "number", "id")
    )


def standing_orders(company: Company, **filters):
    qs = StandingOrder.objects.filter(company=company, **filters)
    items = StandingOrderItem.objects.select_related("product", "box_type").order_by("id")
    return qs.select_related("customer", "carrier", "location", "ship_to").prefetch_related(
        Prefetch("items", queryset=items, to_attr="lines")
    )


# ---------------------------------------------------------------- prebook lists as plain values
# prebook.list and prebook.details.list, as invoice.list's: the ids in the list's order, then a
# chunk of prebooks with their box counts (or lines and breakdowns) in two or three queries.

PREBOOK_ORDER = ("ship_date", "number", "id")
PREBOOK_VALUES = (
    "id",
    "number",
    "kind",
    "location_id",
    "location__code",
    "location__name",
    "customer_id",
    "customer__name",
    "customer__code",
    "ship_date",
    "customer_po",
    "carrier_id",
    "carrier__name",
    "ship_via",
    "comments",
    "status",
    "web_order_id",
    "is_ecommerce",
    "standing_order__number",
    "amount",
    "transaction_fee",
    "created_at",
    "updated_at",
    "void_reason",
)
PREBOOK_ITEM_VALUES = (
    "prebook_id",
    "id",
    "line_id",
    "vendor_id",
    "vendor__name",
    "product_id",
    "product__description",
    "boxes",
    "box_type_id",
    "box_type__code",
    "bunches",
    "stems_bunch",
    "price",
    "cost",
    "units_per_box",
    "unit_type",
    "mark_code",
    "notes",
)
PREBOOK_BREAKDOWN_VALUES = (
    "item_id",
    "product_id",
    "product__description",
    "stems_bunch",
    "bunches",
    "price",
)


def prebook_header_values(ids: list[int]) -> list[tuple]:
    """Prebook headers (PREBOOK_VALUES, in the order of `ids`) with their parties: one query."""
    rows = Prebook.objects.filter(id_in(ids)).order_by().values_list(*PREBOOK_VALUES)
    found = {row[0]: row for row in rows}
    return [found[pk] for pk in ids]


def prebook_box_counts(ids: list[int]) -> dict[int, int]:
    """Boxes of all lines of each prebook: one query."""
    return dict(
        PrebookItem.objects.filter(id_in(ids, "prebook_id"))
        .order_by()
        .values("prebook_id")
        .annotate(n=Sum("boxes"))
        .values_list("prebook_id", "n")
    )


def prebook_item_values(ids: list[int]) -> dict[int, list[tuple]]:
    """The lines (PREBOOK_ITEM_VALUES) of these prebooks in id order, by prebook, each with
    the list of its breakdowns (PREBOOK_BREAKDOWN_VALUES without the item) appended: two
    queries."""
    by_prebook: dict[int, list[tuple]] = {pk: [] for pk in ids}
    items = list(
        PrebookItem.objects.filter(id_in(ids, "prebook_id"))
        .order_by("id")
        .values_list(*PREBOOK_ITEM_VALUES)
    )
    parts: dict[int, list[tuple]] = {}
    if items:
        for item_id, *rest in (
            PrebookBreakdown.objects.filter(id_in([row[1] for row in items], "item_id"))
            .order_by("id")
            .values_list(*PREBOOK_BREAKDOWN_VALUES)
        ):
            parts.setdefault(item_id, []).append(tuple(rest))
    for row in items:
        by_prebook[row[0]].append((*row, parts.get(row[1], [])))
    return by_prebook
