"""Sales > New order: a sales rep takes a phone order. Choose the customer, find the boxes
(on hand and future) at the customer's prices, add them (held as a web order's are), and save:
on-hand lines become an invoice, future lines a prebook, confirmed or pending, without the
transaction fee of API orders. Every write is the web-order service the API's checkout uses;
an order left unsaved is released by the hold expiry like any web order."""

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError
from stemline.core.limits import parse_id
from stemline.core.models import Location
from stemline.inventory import queries as inventory
from stemline.inventory import services as stock
from stemline.inventory.models import Origin
from stemline.parties.models import Carrier, Customer, ShipTo
from stemline.sales import services as sales_services
from stemline.sales.models import WebOrder
from stemline.web.access import area_required

STOCK_ROWS = 30
CUSTOMER_ROWS = 12


def _customers(company, q: str):
    qs = Customer.objects.filter(company=company, active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__istartswith=q))
    return qs.order_by("name", "id")[:CUSTOMER_ROWS]


@area_required("orders")
def customer_search(request):
    """The customers matching what is typed (htmx swaps them under the search field)."""
    q = request.GET.get("q", "").strip()[:100]
    return render(
        request,
        "web/desk/_customer_results.html",
        {"customers": _customers(request.user.company, q), "q": q},
    )


@area_required("orders")
def order_new(request):
    """Step one: the customer (and, for a multi-location company, the location)."""
    company = request.user.company
    if request.method == "POST":
        customer_id = parse_id(request.POST.get("customer", ""))
        location_id = parse_id(request.POST.get("location", "")) or None
        if customer_id is None:
            messages.error(request, "Choose a customer first.")
            return redirect("order_entry")
        try:
            order = sales_services.create_web_order(
                company=company, customer_id=customer_id, location_id=location_id
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("order_entry")
        return redirect("order_build", web_order_id=order.pk)
    q = request.GET.get("q", "").strip()[:100]
    return render(
        request,
        "web/desk/order_new.html",
        {
            "section": "order_entry",
            "q": q,
            "customers": _customers(company, q),
            "locations": Location.objects.filter(company=company, active=True)
            if company.multi_location
            else [],
        },
    )


def _order(request, web_order_id: int) -> WebOrder:
    order = (
        WebOrder.objects.filter(company=request.user.company, pk=web_order_id, token__isnull=True)
        .select_related("customer", "location")
        .first()
    )
    if order is None:
        raise Http404("no such order")
    return order


def _header(request, order: WebOrder, items) -> dict:
    """The order's ship-to, carrier, ship date and PO: what the rep chose (in the query or the
    form), else what the lines were added with, else the customer's defaults."""
    data = request.POST if request.method == "POST" else request.GET
    ship_tos = list(
        ShipTo.objects.filter(
            company=order.company_id, customer=order.customer, removed_at__isnull=True
        )
        .select_related("carrier")
        .order_by("id")
    )
    first = items[0] if items else None
    ship_to_id = parse_id(data.get("ship_to", "")) or (first.ship_to_id if first else None)
    if ship_to_id is None and ship_tos:
        ship_to_id = ship_tos[0].pk
    chosen = next((s for s in ship_tos if s.pk == ship_to_id), None)
    carrier_id = parse_id(data.get("carrier", "")) or (first.carrier_id if first else None)
    if carrier_id is None and chosen is not None:
        carrier_id = chosen.carrier_id
    ship_date = data.get("ship_date", "").strip() or (
        first.ship_date.isoformat() if first and first.ship_date else ""
    )
    if not ship_date:
        ship_date = sales_services.next_shipping_day(order.company).isoformat()
    return {
        "ship_tos": ship_tos,
        "ship_to": ship_to_id,
        "carriers": Carrier.objects.filter(company=order.company_id, active=True).order_by("name"),
        "carrier": carrier_id,
        "ship_date": ship_date,
        "customer_po": data.get("customer_po", order.customer_po)[:20],
    }


def _stock(order: WebOrder, q: str, origin: str):
    """The sellable lines at the order's location: open market and those reserved for this
    customer, with boxes left, matching product, color, grade, vendor or AWB."""
    today = stock.today()
    qs = (
        inventory.lines(order.company)
        .filter(inventory.AVAILABLE, location=order.location)
        .filter(Q(reserved_for__isnull=True) | Q(reserved_for=order.customer))
    )
    if origin == "onhand":
        qs = qs.filter(inventory.on_hand(today))
    elif origin == "future":
        qs = qs.filter(inventory.future(today))
    for word in q.split()[:5]:
        qs = qs.filter(
            Q(product__description__icontains=word)
            | Q(product__legacy_code__iexact=word)
            | Q(product__color__icontains=word)
            | Q(product__grade__iexact=word)
            | Q(vendor__name__icontains=word)
            | Q(awb__icontains=word)
        )
    rows = list(qs.order_by("arrival_date", "product__description", "id")[:STOCK_ROWS])
    for line in rows:
        line.price = stock.customer_price(line, order.customer)
        line.is_future = line.origin_on(today) == Origin.FUTURE
    return rows


def _items(order: WebOrder):
    items = list(
        order.items.select_related("line__product", "line__box_type", "line__vendor").order_by("id")
    )
    for item in items:
        item.units = item.quantity * item.line.units_per_box
        item.amount = (item.units * item.price).quantize(Decimal("0.01"))
        item.is_future = item.origin == Origin.FUTURE
    return items


@area_required("orders")
def order_build(request, web_order_id: int):
    order = _order(request, web_order_id)
    if order.status != WebOrder.Status.PENDING:
        messages.info(request, f"That order is {order.get_status_display().lower()}.")
        return redirect("sales_invoices")
    items = _items(order)
    q = request.GET.get("q", "").strip()[:100]
    origin = request.GET.get("origin", "all")
    header = _header(request, order, items)
    return render(
        request,
        "web/desk/order_build.html",
        {
            "section": "order_entry",
            "order": order,
            "items": items,
            "stock": _stock(order, q, origin),
            "q": q,
            "origin": origin,
            "h": header,
            "total": sum((i.amount for i in items), Decimal("0.00")),
            "boxes": sum(i.quantity for i in items),
            "on_hand": sum(1 for i in items if not i.is_future),
            "future": sum(1 for i in items if i.is_future),
        },
    )


def _back(order: WebOrder, request, **extra) -> str:
    """The order's page again, keeping the header and the search the rep had."""
    keep = {
        k: request.POST.get(k, "")
        for k in ("ship_to", "carrier", "ship_date", "customer_po", "q", "origin")
    }
    keep.update(extra)
    query = urlencode({k: v for k, v in keep.items() if v})
    return reverse("order_build", args=[order.pk]) + (f"?{query}" if query else "")


def _price(value: str) -> Decimal | None:
    try:
        price = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        return None
    return price.quantize(Decimal("0.001")) if price.is_finite() and 0 <= price < 10**7 else None


@require_POST
@area_required("orders")
def order_action(request, web_order_id: int, action: str):
    order = _order(request, web_order_id)
    company = request.user.company
    header = _header(request, order, [])
    try:
        if action == "search":
            return redirect(_back(order, request))
        if action == "add":
            return _add(request, order, header)
        if action == "remove":
            item_id = parse_id(request.POST.get("item", ""))
            sales_services.delete_item(
                company=company,
                customer_id=order.customer_id,
                web_order_id=order.pk,
                item_id=item_id or 0,
            )
            messages.success(request, "Line removed; its boxes are back in the inventory.")
            return redirect(_back(order, request))
        if action == "cancel":
            sales_services.cancel(
                company=company, customer_id=order.customer_id, web_order_id=order.pk
            )
            messages.success(request, "Order abandoned; its boxes are back in the inventory.")
            return redirect("order_entry")
        if action in ("confirm", "pending"):
            return _save(request, order, header, confirm=action == "confirm")
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_back(order, request))
    raise Http404(f"no action {action}")


def _add(request, order: WebOrder, header: dict):
    line_id = parse_id(request.POST.get("add", ""))
    if line_id is None:
        messages.error(request, "Choose the line to add.")
        return redirect(_back(order, request))
    boxes = parse_id(request.POST.get(f"boxes_{line_id}", "") or "1")
    price = _price(request.POST.get(f"price_{line_id}", ""))
    if boxes is None or boxes < 1 or boxes > 100_000:
        messages.error(request, "Boxes: a whole number of at least 1.")
        return redirect(_back(order, request))
    if price is None and request.POST.get(f"price_{line_id}", "").strip():
        messages.error(request, "Unit price: a number such as 0.550.")
        return redirect(_back(order, request))
    today = stock.today()
    line = inventory.lines(order.company).filter(pk=line_id).first()
    if line is None:
        raise Http404("no such line")
    customer_price = stock.customer_price(line, order.customer)
    sales_services.add_items(
        company=request.user.company,
        customer_id=order.customer_id,
        requests=[sales_services.ItemRequest(inventory_id=line_id, quantity=boxes)],
        origin=line.origin_on(today),
        location_id=order.location_id,
        web_order_id=order.pk,
        carrier_id=header["carrier"],
        ship_to_id=header["ship_to"],
        ship_date=_date(header["ship_date"]),
        # The rep's price when it differs from the customer's (or the customer has none).
        staff_price=price if price is not None and price != customer_price else None,
    )
    messages.success(request, f"{boxes} × {line.product.description} added.")
    return redirect(_back(order, request))


def _date(value: str):
    from datetime import date  # noqa: PLC0415

    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _save(request, order: WebOrder, header: dict, *, confirm: bool):
    result = sales_services.checkout(
        company=request.user.company,
        customer_id=order.customer_id,
        web_order_id=order.pk,
        customer_po=header["customer_po"],
        via_api=False,
        confirm=confirm,
        user=request.user,
        ship_to_id=header["ship_to"],
        carrier_id=header["carrier"],
        ship_date=_date(header["ship_date"]),
    )
    made = []
    if result.invoice is not None:
        made.append(f"invoice {result.invoice.number:06d}")
    if result.prebook is not None:
        made.append(f"prebook {result.prebook.number:06d}")
    state = "confirmed" if confirm else "pending approval"
    messages.success(request, f"Order saved ({state}): {' and '.join(made)}.")
    if result.invoice is not None:
        return redirect("sales_invoice", invoice_id=result.invoice.pk)
    return redirect("sales_prebook", prebook_id=result.prebook.pk)
