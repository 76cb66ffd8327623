"""Every write to tokens: create, reset, revoke, and finding the token a request carries."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from stemline.api.registry import COMPANY, CUSTOMER, USER, VENDOR, registry
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Company
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
    created_by=None,
    all_methods: bool = False,
) -> IssuedToken:
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
        granted = all_grants(token_type)
    else:
        granted = _check_grants(token_type, grants or [])

    token = ApiToken(
        company=company,
        description=description[:200],
        token_type=token_type,
        customer=customer,
        vendor=vendor,
        user=user,
        grants=granted,
        transactional=transactional,
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


def reset_token(*, token: ApiToken) -> IssuedToken:
    """A new secret with the same grants; the old secret stops working at once."""
    if token.revoked_at is not None:
        raise Conflict("a revoked token cannot be reset", field="token")
    secret = _issue_secret(token)
    token.reset_at = timezone.now()
    token.rate_tat = 0
    token.version += 1
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
    return IssuedToken(token, secret)


def revoke_token(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.version += 1
        token.save(update_fields=["revoked_at", "version"])
    return token


def update_grants(*, token: ApiToken, grants: list[str], transactional: bool) -> ApiToken:
    token.grants = _check_grants(token.token_type, grants)
    token.transactional = transactional
    token.version += 1
    token.save(update_fields=["grants", "transactional", "version"])
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
