"""Sales: the open-market inventory, and the orders (invoices and prebooks) that arrived through
the API or a marketplace, waiting for a sales rep to confirm them."""

from django.contrib import messages
from django.db.models import F, Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError
from stemline.core.limits import parse_id
from stemline.inventory import queries as inventory
from stemline.inventory import services as stock
from stemline.sales import services as sales_services
from stemline.sales.models import DocumentStatus, Invoice, Prebook
from stemline.web.access import area_required, paginate, sorted_by
from stemline.web.forms import OpenBoxForm, add_service_error

INVENTORY_SORTS = {
    "arrives": [F("arrival_date").asc(nulls_first=True), "product__description"],
    "product": ["product__description"],
    "box": ["box_type__code"],
    "vendor": ["vendor__name"],
    "available": ["available_boxes"],
    "price_a": [F("price_a").asc(nulls_first=True)],
    "price_b": [F("price_b").asc(nulls_first=True)],
}
ORDER_SORTS = {
    "received": ["created_at"],
    "number": ["number"],
    "customer": ["customer__name"],
    "ship": [F("ship_date").asc(nulls_first=True)],
    "amount": ["amount"],
}


@area_required("inventory")
def inventory_page(request):
    company = request.user.company
    today = stock.today()
    origin = request.GET.get("origin", "all")
    q = request.GET.get("q", "").strip()
    everything = inventory.lines(company).filter(open_market_filter())
    # Boxes above, the units inventory (opened boxes, loose bunches and stems) below.
    qs = everything.filter(in_units=False)
    units = _units_lines(everything.filter(in_units=True), q)
    totals = qs.aggregate(
        on_hand_total=Sum("total", filter=inventory.on_hand(today)),
        on_hand_held=Sum("held", filter=inventory.on_hand(today)),
        on_hand_committed=Sum("committed", filter=inventory.on_hand(today)),
        future_total=Sum("total", filter=inventory.future(today)),
        future_held=Sum("held", filter=inventory.future(today)),
        future_committed=Sum("committed", filter=inventory.future(today)),
    )
    totals = {k: v or 0 for k, v in totals.items()}
    totals["on_hand_available"] = (
        totals["on_hand_total"] - totals["on_hand_held"] - totals["on_hand_committed"]
    )
    totals["future_available"] = (
        totals["future_total"] - totals["future_held"] - totals["future_committed"]
    )
    if origin == "onhand":
        qs = qs.filter(inventory.on_hand(today))
    elif origin == "future":
        qs = qs.filter(inventory.future(today))
    if q:
        qs = qs.filter(
            Q(product__description__icontains=q)
            | Q(product__legacy_code__iexact=q)
            | Q(vendor__name__icontains=q)
            | Q(awb__iexact=q)
        )
    qs = qs.select_related("location").only(
        *inventory.ROW_FIELDS, "location__name", "location__code"
    )
    qs = qs.annotate(available_boxes=F("total") - F("held") - F("committed"))
    qs, sort = sorted_by(request, qs, INVENTORY_SORTS, "arrives")
    return render(
        request,
        "web/sales/inventory.html",
        {
            "section": "sales",
            "page_obj": paginate(request, qs),
            "totals": totals,
            "origin": origin,
            "q": q,
            "sort": sort,
            "today": today,
            "multi_location": company.multi_location,
            "units": units,
        },
    )


UNITS_SHOWN = 200


def _units_lines(qs, q: str):
    """The units lines with something left, product order (the first UNITS_SHOWN)."""
    if q:
        qs = qs.filter(Q(product__description__icontains=q) | Q(product__legacy_code__iexact=q))
    qs = qs.filter(total__gt=F("committed")).annotate(
        available_units=F("total") - F("held") - F("committed")
    )
    return list(qs.order_by("product__description", "unit_type", "id")[:UNITS_SHOWN])


@area_required("inventory")
def open_box(request, line_id: int):
    """Open boxes of a line into its bunches or stems (stock.open_boxes), irreversibly."""
    company = request.user.company
    line = (
        inventory.lines(company)
        .filter(pk=line_id, in_units=False)
        .select_related("location")
        .first()
    )
    if line is None:
        raise Http404("no such inventory line")
    form = OpenBoxForm(request.POST if request.method == "POST" else None, initial={"boxes": 1})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opened = stock.open_boxes(
                company=company,
                line_id=line.pk,
                boxes=data["boxes"],
                unit_type=data["unit_type"],
                price_a=data["price_a"],
                price_b=data["price_b"],
            )
        except DomainError as error:
            add_service_error(form, error, OpenBoxForm.ERROR_FIELDS)
        else:
            messages.success(
                request,
                f"Opened {opened.boxes} box{'es' if opened.boxes != 1 else ''} of "
                f"{line.product.description}: "
                f"{stock.unit_words(opened.units_line.unit_type, opened.units)} in units.",
            )
            return redirect("sales_inventory")
    return render(
        request,
        "web/sales/open_box.html",
        {
            "section": "sales",
            "form": form,
            "line": line,
            "stems_per_box": line.bunches * line.stems_bunch,
        },
    )


def open_market_filter() -> Q:
    # Open market: offered to everyone, not set aside for one customer.
    return Q(reserved_for__isnull=True)


def _pending(model, company_id):
    return (
        model.objects.filter(company_id=company_id, status=DocumentStatus.PENDING_APPROVAL)
        .select_related("customer__payment_method", "location", "web_order__token")
        .annotate(boxes=Sum("items__boxes"))
        .order_by("created_at", "id")
    )


@area_required("orders")
def orders(request):
    kind = "prebook" if request.GET.get("kind") == "prebook" else "invoice"
    model = Prebook if kind == "prebook" else Invoice
    company_id = request.user.company_id
    counts = {
        "invoice": Invoice.objects.filter(
            company_id=company_id, status=DocumentStatus.PENDING_APPROVAL
        ).count(),
        "prebook": Prebook.objects.filter(
            company_id=company_id, status=DocumentStatus.PENDING_APPROVAL
        ).count(),
    }
    confirmed = request.GET.get("confirmed")
    failed = [x for x in request.GET.get("failed", "").split(",") if parse_id(x)]
    qs = _pending(model, company_id)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        number = parse_id(q)
        qs = qs.filter(Q(customer__name__icontains=q) | Q(number=number if number else -1))
    qs, sort = sorted_by(request, qs, ORDER_SORTS, "received")
    return render(
        request,
        "web/sales/orders.html",
        {
            "section": "orders",
            "kind": kind,
            "page_obj": paginate(request, qs),
            "q": q,
            "sort": sort,
            "counts": counts,
            "can_confirm": True,
            "confirmed": confirmed,
            "failed": failed,
        },
    )


def _confirm(kind: str, company, ids: list[int], user) -> tuple[list[int], list[str]]:
    """Confirm each document in turn (each in its own transaction); answers what failed."""
    failed, errors = [], []
    for pk in ids:
        try:
            if kind == "prebook":
                sales_services.confirm_prebook(company=company, prebook_id=pk, user=user)
            else:
                sales_services.confirm_invoice(company=company, invoice_id=pk, user=user)
        except DomainError as error:
            failed.append(pk)
            errors.append(error.message)
    return failed, errors


@require_POST
@area_required("orders")
def confirm_orders(request):
    kind = "prebook" if request.POST.get("kind") == "prebook" else "invoice"
    single = request.POST.get("single", "")
    raw = [single] if single else request.POST.getlist("ids")
    ids = [pk for pk in map(parse_id, raw) if pk is not None][:500]
    failed, errors = _confirm(kind, request.user.company, ids, request.user)
    if request.headers.get("X-Requested-With") == "fetch":
        return JsonResponse({"confirmed": len(ids) - len(failed), "failed": failed})
    if not ids:
        messages.warning(request, "Tick the orders to confirm first.")
    elif not failed:
        messages.success(request, f"{len(ids)} {kind}{'s' if len(ids) != 1 else ''} confirmed.")
    else:
        messages.error(request, "; ".join(sorted(set(errors))))
    return redirect(reverse("sales_orders") + f"?kind={kind}")
