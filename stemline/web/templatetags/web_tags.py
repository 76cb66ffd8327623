"""Template helpers: role checks for the navigation and query strings for pagination."""

from django import template
from django.utils import timezone

from stemline.web import access

register = template.Library()


@register.filter
def can(user, area: str) -> bool:
    return access.can(user, area)


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    """The current URL's query string with another page number."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


@register.filter
def initials(user) -> str:
    name = user.get_full_name() or user.username
    parts = [p for p in name.replace("@", " ").replace(".", " ").split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


@register.filter
def zoned(value, fmt: str = "Y-m-d H:i") -> str:
    """A moment in the company's time zone (activated per request), saying which zone it is:
    "2026-12-01 10:42 EST"."""
    if not value:
        return ""
    from django.utils.dateformat import format as date_format  # noqa: PLC0415

    local = timezone.localtime(value)
    return f"{date_format(local, fmt)} {local.tzname()}"


@register.filter
def percent(fraction) -> str:
    """A stored fraction as people read it: 0.0150 -> "1.50"."""
    from decimal import Decimal  # noqa: PLC0415

    return f"{Decimal(fraction or 0) * 100:.2f}"


@register.simple_tag(takes_context=True)
def sort_url(context, key) -> str:
    """The current URL sorted by `key` (ascending, or descending when it already is), back
    on the first page."""
    query = context["request"].GET.copy()
    current = context.get("sort", "")
    query["sort"] = f"-{key}" if current == key else key
    query.pop("page", None)
    return "?" + query.urlencode()


@register.inclusion_tag("web/_sort_th.html", takes_context=True)
def sort_th(context, key, label, css=""):
    current = context.get("sort", "")
    state = "asc" if current == key else "desc" if current == f"-{key}" else ""
    return {"url": sort_url(context, key), "label": label, "css": css, "state": state}
