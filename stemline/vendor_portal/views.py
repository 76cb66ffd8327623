"""Pages of the Vendor Portal: the grower's purchase orders and its Vendor Token."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from stemline.api.registry import VENDOR, registry
from stemline.core.errors import DomainError, NotFound
from stemline.tokens import crypto
from stemline.tokens import services as tokens
from stemline.tokens.models import ApiToken
from stemline.web.access import paginate, vendor_required


def portal_grants() -> list[str]:
    """The default methods of a portal-made token (product.md), those the API offers today."""
    return [
        name
        for name in tokens.VENDOR_PORTAL_GRANTS
        if (m := registry.get(name)) is not None and VENDOR in m.grantable_types
    ]


def _purchase_orders(user):
    try:
        from stemline.purchasing.models import PurchaseOrder
    except ImportError:
        return None
    from django.db.models import Sum

    return (
        PurchaseOrder.objects.filter(company_id=user.company_id, vendor_id=user.vendor_id)
        .select_related("carrier", "location")
        .annotate(box_count=Sum("items__boxes"))
        .order_by("-ship_date", "-id")
    )


def _active_token(user) -> ApiToken | None:
    return ApiToken.objects.filter(
        company_id=user.company_id, vendor_id=user.vendor_id, revoked_at__isnull=True
    ).first()


@vendor_required
def home(request):
    orders = _purchase_orders(request.user)
    return render(
        request,
        "vendor_portal/home.html",
        {
            "purchasing_ready": orders is not None,
            "page_obj": paginate(request, orders) if orders is not None else None,
            "confirmable": CONFIRMABLE,
        },
    )


# A grower confirms what the company sent it, not what is confirmed or cancelled already.
CONFIRMABLE = ("Pending Approval", "Approved")


def _order(user, po_id: int):
    from stemline.purchasing import services as purchasing

    try:
        return purchasing.order_of(user.company, vendor_id=user.vendor_id, po_id=po_id)
    except NotFound as error:
        raise Http404(error.message) from error


def _lines(po):
    from stemline.purchasing.models import PurchaseOrderItem

    return (
        PurchaseOrderItem.objects.filter(purchase_order=po)
        .select_related("line__product", "line__box_type", "awb")
        .order_by("line_id")
    )


@vendor_required
def order(request, po_id: int):
    """A purchase order's lines: what the grower is asked to confirm and ship."""
    po = _order(request.user, po_id)
    lines = list(_lines(po))
    for item in lines:
        item.units = item.line.units_per_box * item.boxes
    return render(
        request,
        "vendor_portal/order.html",
        {"po": po, "lines": lines, "confirmable": CONFIRMABLE, "section": "orders"},
    )


@vendor_required
def ship(request, po_id: int, item_id: int):
    """Put a PO line's boxes on an AWB with box codes: the same service the API's
    purchase.order.item.awb.add calls, so the rules (splitting, closed AWBs) are the same."""
    from stemline.purchasing import services as purchasing
    from stemline.web.forms import add_service_error

    from .forms import ShipForm

    user = request.user
    po = _order(user, po_id)
    item = _lines(po).filter(pk=item_id).first()
    if item is None:
        raise Http404("no such line on this purchase order")
    form = ShipForm(
        request.POST if request.method == "POST" else None,
        initial={"ship_date": po.ship_date, "awb": po.awb_number, "boxes": item.boxes},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            shipment = purchasing.ship_item(
                company=user.company,
                item=item,
                awb_number=data["awb"],
                ship_date=data["ship_date"],
                box_codes=data["box_codes"] or None,
                boxes=None if data["box_codes"] else data["boxes"],
                lot_number=data["lot_number"],
                house_awb=data["house_awb"],
            )
        except DomainError as error:
            add_service_error(form, error, ShipForm.ERROR_FIELDS)
        else:
            rest = " The rest stays on a new line." if shipment.new_item else ""
            messages.success(
                request,
                f"{len(shipment.box_codes)} boxes shipped on AWB {shipment.awb.number}: "
                f"{', '.join(shipment.box_codes)}.{rest}",
            )
            return redirect("vendor_portal:order", po_id=po.pk)
    return render(
        request,
        "vendor_portal/ship.html",
        {"po": po, "item": item, "form": form, "section": "orders"},
    )


@require_POST
@vendor_required
def confirm(request, po_id: int):
    """The grower confirms its purchase order, all its boxes ("Confirmed by Farm")."""
    from stemline.purchasing import services as purchasing

    user = request.user
    try:
        po = purchasing.order_of(user.company, vendor_id=user.vendor_id, po_id=po_id)
    except NotFound as error:
        raise Http404(error.message) from error
    if po.status not in CONFIRMABLE:
        messages.error(request, f"Purchase order {po.number} is {po.status}; nothing to confirm.")
        return redirect("vendor_portal:home")
    try:
        purchasing.confirm_order(company=user.company, po=po)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Purchase order {po.number} confirmed.")
    return redirect("vendor_portal:home")


@vendor_required
def profile(request):
    return render(request, "web/profile.html", {"base_template": "vendor_portal/base.html"})


@never_cache  # shows the Vendor Token's secret
@vendor_required
def token(request):
    user = request.user
    current = _active_token(user)
    if request.method == "POST" and current is None:
        try:
            tokens.create_token(
                company=user.company,
                token_type=VENDOR,
                description=f"Vendor Portal token of {user.vendor.name}",
                vendor_id=user.vendor_id,
                grants=portal_grants(),
                created_by=user,
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Your Vendor Token is ready. Click it to copy it.")
        return redirect("vendor_portal:token")
    secret = None
    if current is not None:
        secret = crypto.decrypt(current.secret_encrypted)
        if secret is None:
            # The protecting key changed since the token was made: only a new secret can be
            # shown, so the old one is replaced (it could not be shown to anyone anyway).
            secret = tokens.reset_token(token=current).secret
    return render(
        request,
        "vendor_portal/token.html",
        {"current": current, "secret": secret},
    )


@require_POST
@vendor_required
def token_reset(request):
    current = _active_token(request.user)
    if current is None:
        return redirect("vendor_portal:token")
    tokens.reset_token(token=current)
    messages.success(
        request, "Token reset: the old one stopped working. Give the new one to your systems."
    )
    return redirect("vendor_portal:token")
