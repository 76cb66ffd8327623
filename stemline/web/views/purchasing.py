"""Purchasing: the purchase orders sent to growers, and the AWBs their boxes fly on, received
at the warehouse box by box or all at once."""

from datetime import date

from django.contrib import messages
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from stemline.core.errors import DomainError, NotFound
from stemline.core.limits import parse_id
from stemline.parties.models import Vendor
from stemline.purchasing import queries
from stemline.purchasing import services as purchasing
from stemline.purchasing.models import Awb, AwbBox, PurchaseOrder, PurchaseOrderItem
from stemline.web.access import area_required, paginate, sorted_by

PO_SORTS = {
    "number": ["number"],
    "vendor": ["vendor__name"],
    "ship": ["ship_date"],
    "arrival": ["arrival_date"],
    "status": ["status"],
    "boxes": [F("box_count").asc(nulls_first=True)],
}
AWB_SORTS = {
    "number": ["number"],
    "ship": ["ship_date"],
    "arrival": [F("arrival_date").asc(nulls_first=True)],
    "pieces": ["pieces"],
    "received": ["pieces_received"],
}

MAX_CODES = 2000


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value else None
    except ValueError:
        return None


@area_required("purchasing")
def purchase_orders(request):
    company = request.user.company
    status = request.GET.get("status", "")
    vendor = request.GET.get("vendor", "")
    day = _date(request.GET.get("date", ""))
    live = ~Q(items__status=PurchaseOrderItem.Status.CANCELLED)
    qs = PurchaseOrder.objects.filter(company=company)
    if status in PurchaseOrder.Status.values:
        qs = qs.filter(status=status)
    if parse_id(vendor):
        qs = qs.filter(vendor_id=parse_id(vendor))
    if day is not None:
        qs = qs.filter(ship_date=day)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        qs = qs.filter(Q(number__iexact=q) | Q(vendor__name__icontains=q) | Q(awb_number=q))
    qs = qs.select_related("vendor").annotate(
        line_count=Count("items", filter=live), box_count=Sum("items__boxes", filter=live)
    )
    qs, sort = sorted_by(request, qs, PO_SORTS, "-ship")
    return render(
        request,
        "web/purchasing/orders.html",
        {
            "section": "purchasing",
            "page_obj": paginate(request, qs),
            "statuses": PurchaseOrder.Status.values,
            "vendors": Vendor.objects.filter(company=company).order_by("name").only("pk", "name"),
            "filters": {"status": status, "vendor": vendor, "date": day.isoformat() if day else ""},
            "q": q,
            "sort": sort,
        },
    )


@area_required("purchasing")
def purchase_order(request, po_id: int):
    company = request.user.company
    found = queries.with_details(PurchaseOrder.objects.filter(company=company, pk=po_id)).first()
    if found is None:
        raise Http404(f"purchase order {po_id} does not exist")
    return render(
        request,
        "web/purchasing/order.html",
        {"section": "purchasing", "po": found, "row": queries.po_row(found)},
    )


@area_required("purchasing")
def awbs(request):
    company = request.user.company
    q = request.GET.get("q", "").strip()
    qs = Awb.objects.filter(company=company).select_related("location")
    if q:
        qs = qs.filter(Q(number__iexact=q) | Q(number__endswith=q))
    qs, sort = sorted_by(request, qs, AWB_SORTS, "-ship")
    return render(
        request,
        "web/purchasing/awbs.html",
        {
            "section": "purchasing",
            "page_obj": paginate(request, qs),
            "q": q,
            "sort": sort,
        },
    )


def _awb(company, awb_id: int) -> Awb:
    try:
        return queries.awb_of(company, awb_id=awb_id)
    except NotFound as error:
        raise Http404(error.message) from error


@area_required("purchasing")
def awb_detail(request, awb_id: int):
    awb = _awb(request.user.company, awb_id)
    boxes = (
        AwbBox.objects.filter(awb=awb)
        .select_related("box", "item__line__product", "item__purchase_order")
        .order_by("box_id")
    )
    return render(
        request,
        "web/purchasing/awb.html",
        {
            "section": "purchasing",
            "awb": awb,
            "boxes": boxes,
            "expected": awb.pieces - awb.pieces_received,
        },
    )


def _receipt_message(receipt) -> str:
    count = len(receipt.received)
    text = f"{count} box{'es' if count != 1 else ''} received on AWB {receipt.awb.number}."
    if receipt.lines_on_hand:
        text += f" {len(receipt.lines_on_hand)} PO line(s) now on hand."
    if receipt.invoices:
        made = ", ".join(f"{i.number} ({i.customer.name})" for i in receipt.invoices)
        text += f" Invoices made for prebooked boxes: {made}."
    return text


@require_POST
@area_required("purchasing")
def awb_receive(request, awb_id: int):
    company = request.user.company
    awb = _awb(company, awb_id)
    codes = None
    if "all" not in request.POST:
        codes = [c.strip() for c in request.POST.getlist("codes") if c.strip()][:MAX_CODES]
        if not codes:
            messages.warning(request, "Tick the boxes to receive first.")
            return redirect("purchasing_awb", awb_id=awb.pk)
    try:
        receipt = purchasing.receive(company=company, awb=awb, box_codes=codes, user=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _receipt_message(receipt))
    return redirect("purchasing_awb", awb_id=awb.pk)
