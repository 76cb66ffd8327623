"""Who may open which page: sign-in, company staff only, and the roles of each area."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models.expressions import OrderBy
from django.shortcuts import redirect

from stemline.core.models import Role

ADMIN, SETUP, SALES, PURCHASING = Role.ADMIN, Role.SETUP, Role.SALES, Role.PURCHASING
ACCOUNTING = Role.ACCOUNTING

# The roles of each area of the web application; a page names its area, and so does the
# navigation, so a link is shown exactly when the page behind it opens.
AREAS: dict[str, frozenset[str]] = {
    "tokens": frozenset({ADMIN, SETUP}),
    "setup": frozenset({ADMIN, SETUP}),
    "inventory": frozenset({ADMIN, SETUP, SALES, PURCHASING}),
    "orders": frozenset({ADMIN, SALES}),
    "purchasing": frozenset({ADMIN, PURCHASING}),
    "receivables": frozenset({ADMIN, ACCOUNTING}),
    "profile": frozenset({ADMIN, SETUP, SALES, PURCHASING, ACCOUNTING}),
    # The company's own settings (name, address, logo, time zone, fee rate): Admin only.
    "company": frozenset({ADMIN}),
    "people": frozenset({ADMIN}),
}


def can(user, area: str) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and getattr(user, "is_company_staff", False)
        and user.role in AREAS[area]
    )


def area_required(area: str):
    """The page needs a signed-in company user whose role belongs to the area (403 if not).
    A Vendor Portal user is sent to the portal instead."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if user.role == Role.VENDOR and user.vendor_id:
                return redirect("vendor_portal:home")
            if not can(user, area):
                raise PermissionDenied(f"your role may not open {area}")
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def vendor_required(view):
    """The page needs a signed-in Vendor Portal user."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if user.role != Role.VENDOR or not user.vendor_id or not user.company_id:
            raise PermissionDenied("the Vendor Portal is for growers' users")
        if not user.vendor.active:
            # Deactivating the vendor closes the sessions its people already have, too.
            raise PermissionDenied(f"the Vendor Portal access of {user.vendor.name} is closed")
        return view(request, *args, **kwargs)

    return wrapped


PAGE_SIZE = 25


def paginate(request, qs, per_page: int = PAGE_SIZE):
    """The page of `qs` the request asks for (`?page=`); out-of-range pages give the last."""
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def sorted_by(request, qs, sorts: dict, default: str):
    """`qs` in the order `?sort=` asks for (`name`, or `-name` for descending), one of
    `sorts` (a column's key -> the ORM expressions it orders by), else `default`. The id
    breaks ties, so a page boundary never shows a row twice. Returns (qs, sort)."""
    sort = request.GET.get("sort", "") or default
    key = sort.lstrip("-")
    if key not in sorts:
        sort, key = default, default.lstrip("-")
    descending = sort.startswith("-")
    order = []
    for expression in sorts[key]:
        if isinstance(expression, str):
            order.append(expression if not descending else f"-{expression}")
        elif isinstance(expression, OrderBy):
            # An ordering of its own (nulls first): descending flips it, nulls going last.
            if descending:
                expression = expression.copy()
                expression.reverse_ordering()
            order.append(expression)
        else:
            order.append(expression.desc() if descending else expression.asc())
    return qs.order_by(*order, "-id" if descending else "id"), sort


def listing(request, qs, *, sorts: dict, default: str, search=None, per_page: int = PAGE_SIZE):
    """Search, sort and paginate a list the same way on every page: `search(qs, q)` narrows
    the set for `?q=`, `sorted_by` orders it. Returns the page and what the template needs to
    draw the headers (`sort_th`) and keep the filters."""
    q = request.GET.get("q", "").strip()[:200]
    if q and search is not None:
        qs = search(qs, q)
    qs, sort = sorted_by(request, qs, sorts, default)
    return {"page_obj": paginate(request, qs, per_page), "q": q, "sort": sort}
