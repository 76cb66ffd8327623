"""The start page and My Profile."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from stemline.core.models import Role
from stemline.sales.models import DocumentStatus, Invoice, Prebook
from stemline.tokens import services as tokens
from stemline.tokens.models import ApiToken, TokenType
from stemline.web.access import area_required, can


@login_required
def home(request):
    user = request.user
    if user.role == Role.VENDOR and user.vendor_id:
        return redirect("vendor_portal:home")
    pending = 0
    if can(user, "orders"):
        pending = sum(
            model.objects.filter(
                company_id=user.company_id, status=DocumentStatus.PENDING_APPROVAL
            ).count()
            for model in (Invoice, Prebook)
        )
    return render(request, "web/home.html", {"pending": pending})


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
