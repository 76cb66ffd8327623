"""The company's time zone: activated for each web request and API call, so Django's
`timezone.localdate()` / `localtime()` (and with them every "today" of inventory, sales and
purchasing, and every time a template shows) are the company's."""

from contextlib import contextmanager
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone


@lru_cache(maxsize=512)
def zone(name: str | None):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def activate_for(company) -> None:
    if company is None:
        timezone.deactivate()
    else:
        timezone.activate(zone(company.time_zone))


@contextmanager
def company_time(company):
    """Within the block, 'today' and local times are the company's (for tasks and commands)."""
    previous = timezone.get_current_timezone()
    activate_for(company)
    try:
        yield
    finally:
        timezone.activate(previous)


class CompanyTimeZoneMiddleware:
    """After authentication: a signed-in person sees the company's times and dates."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        company = None
        if user is not None and user.is_authenticated:
            company = getattr(user, "company", None)
        activate_for(company)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
