"""Every write to tokens: create, reset, revoke, and finding the token a request carries."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from stemline.api.registry import COMPANY, CUSTOMER, USER, VENDOR, registry
from stemline.core.errors import Conflict, Invalid, NotFound, PermissionDenied
from stemline.core.models import Company, Role
from stemline.parties.models import Customer, Vendor

from . import crypto
from .models import ApiToken

# What a token made in the Vendor Portal may call, and the recommended minimum for vendors.
VENDOR_PORTAL_GRANTS = [
    "boxtype.list",
    "carrier.list",
    "product.list",
    "purchase.order.item.awb.add",
    "purchase.order.list",
    "v2/vendor/invoice",
]


# Called with (token, why) inside the transaction of every revocation and every reset ("revoked"
# or "reset"): higher layers stop what the old secret set up (channels: the token's webhook
# endpoint and its queued deliveries) in the same transaction. They register in their
# AppConfig.ready(), since tokens sit below them.
_stop_hooks: list[Callable[[ApiToken, str], None]] = []


def on_token_stopped(hook: Callable[[ApiToken, str], None]) -> None:
    if hook not in _stop_hooks:
        _stop_hooks.append(hook)


def _stopped(token: ApiToken, why: str) -> None:
    for hook in _stop_hooks:
        hook(token, why)


@dataclass
class IssuedToken:
    token: ApiToken
    secret: str


def _check_grants(token_type: str, grants: list[str]) -> list[str]:
    clean = []
    for name in grants:
        method = registry.get(name)
        if method is None:
            raise Invalid(f"unknown API method {name!r}", field="grants")
        if token_type not in method.grantable_types:
            raise Invalid(f"{name} cannot be granted to a {token_type} token", field="grants")
        if method.deprecated:
            raise Invalid(f"{name} is retired and can no longer be granted", field="grants")
        if name not in clean:
            clean.append(name)
    return sorted(clean)


def all_grants(token_type: str) -> list[str]:
    return [m.name for m in registry.grantable(token_type)]


def may_grant(user, name: str) -> bool:
    """A person may give a token a method only if their own role may call it (Admin may call
    everything); None is the system itself (commands, channel presets, the demo)."""
    if user is None or user.role == Role.ADMIN:
        return True
    method = registry.get(name)
    return method is not None and user.role in method.roles


def _check_role(granted_by, grants: list[str], held: frozenset[str] = frozenset()) -> None:
    """Refuse methods beyond the role of the person granting them; what the token already
    holds (granted by someone else) may stay."""
    refused = [g for g in grants if g not in held and not may_grant(granted_by, g)]
    if refused:
        role = Role(granted_by.role).label
        raise PermissionDenied(
            f"the {role} role may not call, so may not grant: {', '.join(refused)}",
            field="grants",
        )


def _issue_secret(token: ApiToken) -> str:
    secret = crypto.new_secret()
    token.key_hash = crypto.lookup_hash(secret)
    token.key_prefix = secret[:6]
    token.secret_encrypted = crypto.encrypt(secret)
    return secret


def create_token(
    *,
    company: Company,
    token_type: str,
    description: str,
    grants: list[str] | None = None,
    customer_id: int | None = None,
    vendor_id: int | None = None,
    user=None,
    transactional: bool = False,
    strict_parameters: bool = False,
    failures_as_200: bool = False,
    created_by=None,
    all_methods: bool = False,
    granted_by=None,
) -> IssuedToken:
    """A new token. `granted_by` is the person choosing its methods: they must be methods that
    person's role may call (all_methods then means all of those)."""
    if token_type not in (COMPANY, CUSTOMER, VENDOR, USER):
        raise Invalid("must be company, customer or vendor", field="tokenType")
    description = (description or "").strip()
    if not description:
        raise Invalid("a description is required", field="description")
    customer = vendor = None
    if token_type == CUSTOMER:
        if not customer_id:
            raise Invalid("a Customer token must name its customer", field="customerId")
        customer = Customer.objects.filter(company=company, pk=customer_id).first()
        if customer is None:
            raise NotFound(f"customer {customer_id} does not exist", field="customerId")
    elif customer_id:
        raise Invalid("only a Customer token names a customer", field="customerId")
    if token_type == VENDOR:
        if not vendor_id:
            raise Invalid("a Vendor token must name its vendor", field="vendorId")
        vendor = Vendor.objects.filter(company=company, pk=vendor_id).first()
        if vendor is None:
            raise NotFound(f"vendor {vendor_id} does not exist", field="vendorId")
    elif vendor_id:
        raise Invalid("only a Vendor token names a vendor", field="vendorId")
    if token_type == USER:
        if user is None or user.company_id != company.pk:
            raise Invalid("a User token belongs to a user of the company", field="user")
        granted: list[str] = []
    elif all_methods:
        granted = [g for g in all_grants(token_type) if may_grant(granted_by, g)]
    else:
        granted = _check_grants(token_type, grants or [])
        _check_role(granted_by, granted)

    token = ApiToken(
        company=company,
        description=description[:200],
        token_type=token_type,
        customer=customer,
        vendor=vendor,
        user=user,
        grants=granted,
        transactional=transactional,
        strict_parameters=strict_parameters,
        failures_as_200=failures_as_200,
        created_by=created_by,
    )
    secret = _issue_secret(token)
    try:
        with transaction.atomic():
            token.save()
    except IntegrityError as exc:
        holder = "customer" if customer else "vendor" if vendor else "user"
        raise Conflict(
            f"this {holder} already has an active token; reset or revoke it instead of "
            "creating a second one",
            field=f"{holder}Id",
        ) from exc
    return IssuedToken(token, secret)


@transaction.atomic
def reset_token(*, token: ApiToken) -> IssuedToken:
    """A new secret with the same grants; the old secret stops working at once, and so does
    whatever it set up (its webhook endpoint)."""
    current = ApiToken.objects.select_for_update().get(pk=token.pk)
    if current.revoked_at is not None:
        token.revoked_at = current.revoked_at
        raise Conflict("a revoked token cannot be reset", field="token")
    secret = _issue_secret(token)
    token.reset_at = timezone.now()
    token.rate_tat = 0
    token.version = current.version + 1
    token.save(
        update_fields=[
            "key_hash",
            "key_prefix",
            "secret_encrypted",
            "reset_at",
            "rate_tat",
            "version",
        ]
    )
    _stopped(token, "reset")
    return IssuedToken(token, secret)


@transaction.atomic
def revoke_token(*, token: ApiToken) -> ApiToken:
    current = ApiToken.objects.select_for_update().get(pk=token.pk)
    if current.revoked_at is None:
        token.revoked_at = timezone.now()
        token.version = current.version + 1
        token.save(update_fields=["revoked_at", "version"])
        _stopped(token, "revoked")
    else:
        token.revoked_at = current.revoked_at
    return token


@transaction.atomic
def revoke_user_tokens(*, user) -> int:
    """Revoke the API keys `login` gave this user (a password change or reset: whoever knew the
    old password may have fetched one). Returns how many were active."""
    tokens = list(
        ApiToken.objects.select_for_update()
        .filter(user=user, revoked_at__isnull=True)
        .order_by("pk")
    )
    for token in tokens:
        revoke_token(token=token)
    return len(tokens)


@transaction.atomic
def update_grants(
    *,
    token: ApiToken,
    grants: list[str],
    transactional: bool,
    strict_parameters: bool | None = None,
    failures_as_200: bool | None = None,
    granted_by=None,
) -> ApiToken:
    """New methods and settings. `granted_by` may add only methods their role may call; the
    ones the token holds already stay allowed (someone with a wider role gave them)."""
    current = ApiToken.objects.select_for_update().get(pk=token.pk)
    if current.revoked_at is not None:
        raise Conflict("a revoked token cannot be changed", field="token")
    clean = _check_grants(token.token_type, grants)
    _check_role(granted_by, clean, held=frozenset(current.grants))
    token.grants = clean
    token.transactional = transactional
    fields = ["grants", "transactional", "version"]
    if strict_parameters is not None:
        token.strict_parameters = strict_parameters
        fields.append("strict_parameters")
    if failures_as_200 is not None:
        token.failures_as_200 = failures_as_200
        fields.append("failures_as_200")
    token.version = current.version + 1
    token.save(update_fields=fields)
    return token


def user_token(*, user) -> IssuedToken:
    """The long-lived key `login` hands a company user: the same one each time."""
    token = ApiToken.objects.filter(user=user, revoked_at__isnull=True).first()
    if token is not None:
        secret = crypto.decrypt(token.secret_encrypted)
        if secret is not None:
            return IssuedToken(token, secret)
        return reset_token(token=token)
    return create_token(
        company=user.company,
        token_type=USER,
        description=f"API key of {user.username}",
        user=user,
    )


def get_token(*, company: Company, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(company=company, pk=token_id).first()
    if token is None:
        raise NotFound(f"token {token_id} does not exist", field="tokenId")
    return token
