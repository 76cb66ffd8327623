"""The start page and My Profile."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_POST

from stemline.core.models import Role
from stemline.tokens import services as tokens
from stemline.tokens.models import ApiToken, TokenType
from stemline.web import dashboard
from stemline.web.access import area_required, can


@login_required
def home(request):
    """The day at a glance, each role its own: sales for Sales, what is due for Purchasing,
    the inventory's age for everyone who sells or buys it."""
    user = request.user
    if user.role == Role.VENDOR and user.vendor_id:
        return redirect("vendor_portal:home")
    company_id = user.company_id
    context = {"today": timezone.localdate()}
    charts = {}
    if can(user, "orders"):
        context["sales"] = dashboard.sales(company_id)
        context["pending"] = dashboard.pending(company_id)
        context["top_customers"] = dashboard.top_customers(company_id)
        charts["today"] = {
            "labels": context["sales"]["channels"],
            "data": context["sales"]["today"],
        }
        charts["week"] = {"labels": context["sales"]["days"], "series": context["sales"]["week"]}
    if can(user, "purchasing"):
        context["due"] = dashboard.purchasing_due(company_id)
    if can(user, "inventory"):
        context["age"] = dashboard.inventory_age(company_id)
        charts["age"] = {"labels": context["age"]["labels"], "data": context["age"]["boxes"]}
    context["charts"] = charts
    return render(request, "web/home.html", context)


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the API docs, a PDF)."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


# Revoked keys stay listed for a while, so a person sees what they ended.
PROFILE_KEYS = 10


@area_required("profile")
def profile(request):
    keys = ApiToken.objects.filter(user=request.user, token_type=TokenType.USER).order_by(
        F("revoked_at").desc(nulls_first=True), "-created_at", "-id"
    )[:PROFILE_KEYS]
    return render(request, "web/profile.html", {"section": "profile", "api_keys": keys})


@require_POST
@area_required("profile")
def api_key_revoke(request, token_id: int):
    """A person ends an API key `login` gave them (a lost laptop, a script retired)."""
    token = ApiToken.objects.filter(
        user=request.user, token_type=TokenType.USER, pk=token_id
    ).first()
    if token is None:
        raise Http404("no such API key")
    tokens.revoke_token(token=token)
    messages.success(request, "API key revoked; it no longer works. login gives a new one.")
    return redirect("profile")
