"""Setup > Settings > Tokens: list, New Token (Generate), the token page (Copy, Save), reset
and revoke. Only Admin and Setup reach these pages; a person grants only methods their own role
may call, and only an Admin sees a token's secret."""

from django.contrib import messages
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from stemline.api.registry import registry
from stemline.core.errors import Conflict, DomainError
from stemline.core.models import Role
from stemline.parties.models import Customer, Vendor
from stemline.tokens import crypto
from stemline.tokens import services as tokens
from stemline.tokens.models import ApiToken
from stemline.web.access import area_required, paginate, sorted_by
from stemline.web.forms import (
    FAILURES_AS_200_LABEL,
    STRICT_PARAMETERS_LABEL,
    TOKEN_TYPES,
    TokenForm,
    add_service_error,
    beyond_role_message,
)

SHORT_LIST = 50


def _token_of(request, token_id: int) -> ApiToken:
    token = (
        ApiToken.objects.filter(company_id=request.user.company_id, pk=token_id)
        .exclude(token_type="user")
        .select_related("customer", "vendor")
        .first()
    )
    if token is None:
        raise Http404("no such token")
    return token


# The registry's areas, in the order a person thinks of them, with their headings.
AREA_LABELS = {
    "master": "Master data: customers, vendors, carriers, products",
    "inventory": "Inventory",
    "sales": "Sales: orders, invoices, prebooks",
    "purchasing": "Purchasing: purchase orders, AWBs",
    "auth": "Sign-in",
}


def _method_groups(checked: dict[str, set[str]], user, held: frozenset[str] = frozenset()):
    """The methods of each token type, straight from the registry, grouped by area with their
    one-line descriptions; those beyond the person's role are shown but cannot be ticked
    (unless the token holds them already)."""
    groups = []
    for token_type, label in TOKEN_TYPES:
        methods = [
            {
                "name": m.name,
                "area": m.area,
                "description": m.description,
                "checked": m.name in checked.get(token_type, set()),
                "allowed": m.name in held or tokens.may_grant(user, m.name),
            }
            for m in registry.grantable(token_type)
        ]
        order = list(AREA_LABELS)
        areas = sorted(
            {m["area"] for m in methods},
            key=lambda a: (order.index(a) if a in order else len(order), a),
        )
        groups.append(
            {
                "type": token_type,
                "label": label,
                "methods": methods,
                "areas": [
                    {
                        "key": area,
                        "label": AREA_LABELS.get(area, area.title()),
                        "methods": [m for m in methods if m["area"] == area],
                    }
                    for area in areas
                ],
            }
        )
    return groups


def shows_secrets(user) -> bool:
    """Only Admins see token secrets; everyone else sees a masked value."""
    return user.role == Role.ADMIN


def masked(token: ApiToken) -> str:
    return f"{token.key_prefix}{'•' * 12}"


def _parties(model, company_id, q: str = "", selected=None):
    qs = model.objects.filter(company_id=company_id, active=True)
    if q:
        qs = qs.filter(name__icontains=q) | model.objects.filter(
            company_id=company_id, active=True, code__iexact=q
        )
    rows = [(p.pk, _label(p)) for p in qs.order_by(Lower("name"), "id")[:SHORT_LIST]]
    if selected and all(pk != selected for pk, _ in rows):
        extra = model.objects.filter(company_id=company_id, pk=selected).first()
        if extra is not None:
            rows.insert(0, (extra.pk, _label(extra)))
    return rows


def _label(party) -> str:
    return f"{party.name} ({party.code})" if party.code else party.name


TOKEN_SORTS = {
    "created": ["created_at"],
    "description": [Lower("description")],
    "type": ["token_type"],
    "last_used": [F("last_used_at").asc(nulls_first=True)],
}


@area_required("tokens")
def token_list(request):
    qs = (
        ApiToken.objects.filter(company_id=request.user.company_id)
        .exclude(token_type="user")
        .select_related("customer", "vendor")
    )
    q = request.GET.get("q", "").strip()[:100]
    if q:
        qs = qs.filter(
            Q(description__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(vendor__name__icontains=q)
        )
    qs, sort = sorted_by(request, qs, TOKEN_SORTS, "-created")
    show_revoked = request.GET.get("revoked") == "1"
    if not show_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    token_type = request.GET.get("type", "")
    if token_type in dict(TOKEN_TYPES):
        qs = qs.filter(token_type=token_type)
    return render(
        request,
        "web/setup/tokens.html",
        {
            "section": "setup",
            "page": "tokens",
            "page_obj": paginate(request, qs),
            "show_revoked": show_revoked,
            "token_type": token_type,
            "token_types": TOKEN_TYPES,
            "q": q,
            "sort": sort,
        },
    )


@area_required("tokens")
def token_new(request):
    company_id = request.user.company_id
    data = request.POST if request.method == "POST" else None
    selected_customer = _int(data.get("customer")) if data else None
    selected_vendor = _int(data.get("vendor")) if data else None
    form = TokenForm(
        data,
        customers=_parties(Customer, company_id, selected=selected_customer),
        vendors=_parties(Vendor, company_id, selected=selected_vendor),
        user=request.user,
    )
    existing = None
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        try:
            issued = tokens.create_token(
                company=request.user.company,
                token_type=d["token_type"],
                description=d["description"],
                grants=form.grants,
                customer_id=d["customer"] if d["token_type"] == "customer" else None,
                vendor_id=d["vendor"] if d["token_type"] == "vendor" else None,
                transactional=d["transactional"],
                strict_parameters=d["strict_parameters"],
                failures_as_200=d["failures_as_200"],
                created_by=request.user,
                granted_by=request.user,
            )
        except DomainError as error:
            add_service_error(form, error, TokenForm.ERROR_FIELDS)
            if isinstance(error, Conflict) and error.field in ("customerId", "vendorId"):
                existing = ApiToken.objects.filter(
                    company_id=company_id,
                    revoked_at__isnull=True,
                    **(
                        {"customer_id": d["customer"]}
                        if error.field == "customerId"
                        else {"vendor_id": d["vendor"]}
                    ),
                ).first()
        else:
            messages.success(
                request,
                "Token generated. Copy it and send it to whoever integrates with it."
                if shows_secrets(request.user)
                else "Token generated. An Admin can show and copy its secret.",
            )
            return redirect("token_detail", token_id=issued.token.pk)
    checked = {}
    if data is not None:
        checked = {t: set(data.getlist(f"grants_{t}")) for t, _ in TOKEN_TYPES}
    return render(
        request,
        "web/setup/token_new.html",
        {
            "section": "setup",
            "page": "tokens",
            "form": form,
            "groups": _method_groups(checked, request.user),
            "existing": existing,
        },
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@area_required("tokens")
def token_parties(request):
    """The searchable Customer / Vendor field: options matching what was typed (htmx)."""
    kind = request.GET.get("kind")
    model = {"customer": Customer, "vendor": Vendor}.get(kind)
    if model is None:
        raise Http404("unknown kind")
    q = (request.GET.get(f"{kind}_q") or request.GET.get("q") or "").strip()
    rows = _parties(model, request.user.company_id, q)
    return render(
        request,
        "web/setup/_party_options.html",
        {"rows": rows, "kind": kind, "q": q},
    )


@never_cache  # shows the token's secret: no copy in any cache or back-button history
@area_required("tokens")
def token_detail(request, token_id: int):
    token = _token_of(request, token_id)
    grants_error = ""
    if request.method == "POST":
        if token.revoked_at is not None:
            messages.error(request, "A revoked token cannot be changed.")
            return redirect("token_detail", token_id=token.pk)
        ticked = request.POST.getlist(f"grants_{token.token_type}")
        beyond = [
            g for g in ticked if g not in token.grants and not tokens.may_grant(request.user, g)
        ]
        if not ticked:
            grants_error = "Tick at least one method the token may call."
        elif beyond:
            grants_error = beyond_role_message(request.user, beyond)
        else:
            try:
                tokens.update_grants(
                    token=token,
                    grants=ticked,
                    transactional=request.POST.get("transactional") == "on",
                    strict_parameters=request.POST.get("strict_parameters") == "on",
                    failures_as_200=request.POST.get("failures_as_200") == "on",
                    granted_by=request.user,
                )
            except DomainError as error:
                grants_error = error.message
            else:
                messages.success(request, "Saved.")
                return redirect("token_detail", token_id=token.pk)
        checked = set(ticked)
    else:
        checked = set(token.grants)
    secret = None
    if token.revoked_at is None and shows_secrets(request.user):
        secret = crypto.decrypt(token.secret_encrypted)
    group = _method_groups({token.token_type: checked}, request.user, frozenset(token.grants))
    group = next(g for g in group if g["type"] == token.token_type)
    return render(
        request,
        "web/setup/token_detail.html",
        {
            "section": "setup",
            "page": "tokens",
            "token": token,
            "secret": secret,
            "shows_secrets": shows_secrets(request.user),
            "masked": masked(token),
            "group": group,
            "grants_error": grants_error,
            "strict_label": STRICT_PARAMETERS_LABEL,
            "failures_label": FAILURES_AS_200_LABEL,
        },
    )


@require_POST
@area_required("tokens")
def token_reset(request, token_id: int):
    token = _token_of(request, token_id)
    try:
        tokens.reset_token(token=token)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Token reset: the old token stopped working. Copy the new one."
            if shows_secrets(request.user)
            else "Token reset: the old token stopped working. An Admin can copy the new one.",
        )
    return redirect("token_detail", token_id=token.pk)


@require_POST
@area_required("tokens")
def token_revoke(request, token_id: int):
    token = _token_of(request, token_id)
    tokens.revoke_token(token=token)
    messages.success(request, f"Token “{token.description}” revoked; it no longer works.")
    return redirect("tokens")
