"""Every write to companies, locations and users."""

import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from stemline.core.errors import Conflict, DomainError, Invalid

from . import ratelimit
from .models import STAFF_ROLES, Company, Location, LoginThrottle, Role, User

T = TypeVar("T")


def _unique_account_id() -> int:
    for _ in range(50):
        candidate = secrets.randbelow(900_000) + 100_000
        if not Company.objects.filter(account_id=candidate).exists():
            return candidate
    raise Conflict("could not allocate a Company ID")


@transaction.atomic
def set_hoarding_limits(
    *, company: Company, share_of_line: int | None, share_of_market: int | None
) -> Company:
    """The most one customer may hold at once, in percent of a line's unsold boxes and of the
    open market's (None or 100: no limit); a marketplace channel may override them."""
    for value, field in ((share_of_line, "shareOfLine"), (share_of_market, "shareOfMarket")):
        if value is not None and not 1 <= value <= 100:
            raise Invalid("must be a percentage between 1 and 100, or off", field=field)
    company = Company.objects.select_for_update().get(pk=company.pk)
    company.max_share_of_line = share_of_line
    company.max_share_of_market = share_of_market
    company.save(update_fields=["max_share_of_line", "max_share_of_market"])
    return company


@transaction.atomic
def create_company(
    *,
    name: str,
    location_name: str = "Main Warehouse",
    location_code: str = "MAIN",
    multi_location: bool = False,
    auto_confirm: bool = False,
) -> Company:
    from stemline.catalog.services import create_standard_box_types

    name = (name or "").strip()
    if not name:
        raise Invalid("a company needs a name", field="name")
    company = Company.objects.create(
        name=name,
        account_id=_unique_account_id(),
        multi_location=multi_location,
        auto_confirm=auto_confirm,
    )
    Location.objects.create(
        company=company, name=location_name, code=location_code, is_default=True
    )
    create_standard_box_types(company=company)
    return company


def create_user(
    *,
    company: Company | None,
    email: str,
    role: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    vendor=None,
) -> User:
    email = (email or "").strip()
    if "@" not in email:
        raise Invalid("must be an e-mail address", field="email")
    if role not in Role.values:
        raise Invalid(f"must be one of {', '.join(Role.values)}", field="role")
    if role == Role.VENDOR:
        # A Vendor Portal user signs in for one grower of the company that invited it.
        if vendor is None or company is None or vendor.company_id != company.pk:
            raise Invalid("a Vendor Portal user needs a vendor of the company", field="vendorId")
    elif vendor is not None:
        raise Invalid("only Vendor Portal users belong to a vendor", field="vendorId")
    if User.objects.filter(username__iexact=email).exists():
        raise Conflict(f"a user {email} already exists", field="email")
    user = User(
        vendor=vendor,
        username=email,
        email=email,
        company=company,
        role=role,
        first_name=first_name,
        last_name=last_name,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def bootstrap(*, company_name: str, admin_email: str, password: str | None = None):
    """A ready company: default location, standard box types, an admin and a Company token
    holding every Company method. Returns (company, admin, issued token)."""
    from stemline.tokens.services import create_token

    company = create_company(name=company_name)
    admin = create_user(company=company, email=admin_email, role=Role.ADMIN, password=password)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    issued = create_token(
        company=company,
        token_type="company",
        description="Company token (bootstrap)",
        all_methods=True,
        created_by=admin,
    )
    return company, admin, issued


# ---------------------------------------------------------------- sign-in throttle
#
# One throttle for every door that checks a password or sends a reset link: the API's `login`,
# the web sign-in form (the Vendor Portal's too) and the password-reset form. Its state is rows
# of LoginThrottle, so all processes and all doors share it. Each attempt takes one slot from
# the login name's bucket and one from the client address's; a sign-in that succeeds gives
# them back, so only wrong passwords (and reset requests) count.

# (burst, seconds per slot). 30 wrong passwords lock a name; then one guess a minute.
NAME_LIMIT = (30, 60.0)
# One address (an office behind one NAT may hold many people): 100, then one every 10 s.
ADDRESS_LIMIT = (100, 10.0)
# Rows whose bucket has been full this long are the same as no row: they are deleted.
PRUNE_AFTER = 60.0


class TooManyAttempts(DomainError):
    """Too many wrong passwords for this login name or from this address (429)."""

    code = "throttled"

    def __init__(self, message: str, verdict: ratelimit.Verdict):
        super().__init__(message)
        self.verdict = verdict


@dataclass
class _Bucket:
    key: str
    burst: int
    per: float

    @property
    def rate(self) -> float:
        return 1.0 / self.per


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or, behind STEMLINE_PROXIES trusted proxies, the
    address the outermost of them saw (X-Forwarded-For is written by the client otherwise)."""
    address = request.META.get("REMOTE_ADDR") or ""
    proxies = getattr(settings, "STEMLINE_PROXIES", 0)
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        # Each trusted proxy appends the address it was reached from; anything left of the
        # outermost proxy's entry the client could have made up.
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if ip.version == 6:
        # One machine holds a whole /64: counting each address would let it guess forever.
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _buckets(username: str, address: str) -> list[_Bucket]:
    out = [_Bucket(f"addr:{address}", *ADDRESS_LIMIT)] if address else []
    out.append(_Bucket(f"login:{(username or '').strip().lower()[:180]}", *NAME_LIMIT))
    return out


def _take(bucket: _Bucket) -> ratelimit.Verdict:
    for _ in range(5):
        # A new row starts full at "now" (as good as 0), so no pruner takes it right away.
        row, created = LoginThrottle.objects.get_or_create(
            key=bucket.key, defaults={"rate_tat": time.time()}
        )
        if created:
            # Each new row clears up to 100 stale ones, so the table stays about the size of
            # what is being throttled now, even with no scheduler running.
            prune_login_throttles(limit=100)
        verdict = ratelimit.take(
            LoginThrottle.objects.filter(pk=row.pk),
            row.rate_tat,
            rate=bucket.rate,
            burst=bucket.burst,
        )
        if verdict is not None:
            return verdict
    return ratelimit.Verdict(False, bucket.burst, 0, 1, 1)


def _give_back(bucket: _Bucket) -> None:
    ratelimit.give_back(LoginThrottle.objects.filter(key=bucket.key), rate=bucket.rate)


def _charge(username: str, address: str) -> list[_Bucket]:
    taken: list[_Bucket] = []
    for bucket in _buckets(username, address):
        verdict = _take(bucket)
        if not verdict.allowed:
            # A refused attempt costs nothing elsewhere: a locked name does not use up the
            # allowance of the office it is tried from.
            for done in taken:
                _give_back(done)
            what = "from this address" if bucket.key.startswith("addr:") else "for this login"
            minutes = max(1, round(verdict.retry_after / 60))
            raise TooManyAttempts(
                f"too many sign-in attempts {what}: try again in "
                f"{minutes} minute{'s' if minutes != 1 else ''}",
                verdict,
            )
        taken.append(bucket)
    return taken


def throttled_sign_in(*, username: str, address: str, attempt: Callable[[], T]) -> T:
    """Run `attempt` (a password check returning the user, or None or raising when wrong)
    under the sign-in throttle. Raises TooManyAttempts before trying when the name or the
    address has no attempt left. Not atomic on purpose: a wrong guess must stay counted
    whatever the caller rolls back."""
    taken = _charge(username, address)
    result = attempt()
    if result is not None:
        for bucket in taken:
            _give_back(bucket)
    return result


def throttle_reset_request(*, email: str, address: str) -> None:
    """A password-reset request counts as a sign-in attempt for that login and address (each
    one sends a mail): raises TooManyAttempts like a wrong password would."""
    _charge(email, address)


def prune_login_throttles(*, limit: int = 10_000) -> int:
    """Delete throttle rows that have been full for a while (the same as no row); at most
    `limit` in one call, so it never holds the table long. Safe to run anywhere, any time:
    an attempt whose row is deleted under it makes the row again."""
    cutoff = time.time() - PRUNE_AFTER
    stale = list(
        LoginThrottle.objects.filter(rate_tat__lt=cutoff).values_list("pk", flat=True)[:limit]
    )
    if not stale:
        return 0
    deleted, _ = LoginThrottle.objects.filter(pk__in=stale, rate_tat__lt=cutoff).delete()
    return deleted


COMPANY_SETTINGS = (
    "name",
    "address",
    "address_2",
    "city",
    "state",
    "zipcode",
    "country",
    "phone",
    "email",
    "time_zone",
    "currency",
    "transaction_fee_rate",
    "auto_confirm",
    "default_terms",
)


@transaction.atomic
def update_company(
    *, company: Company, logo: bytes | None = None, remove_logo: bool = False, **fields
) -> Company:
    """Setup > Company: the company's name, address, time zone, currency, fee rate and
    auto-confirm; a new logo is checked by its content (a PNG or JPEG that decodes) before it
    is stored, under a name of the server's choosing."""
    from . import files  # noqa: PLC0415  (Pillow is loaded only by the pages that need it)

    unknown = set(fields) - set(COMPANY_SETTINGS)
    if unknown:
        raise Invalid(f"not a company setting: {', '.join(sorted(unknown))}", field="company")
    row = Company.objects.select_for_update().get(pk=company.pk)
    for name, value in fields.items():
        setattr(row, name, value)
    try:
        row.full_clean(exclude=["account_id", "logo"])
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise Invalid(messages[0], field=name) from None
    if logo is not None:
        kind = files.sniff(logo, field="logo")
        if kind not in (files.PNG, files.JPEG):
            raise Invalid("must be a PNG or JPEG image (checked by its content)", field="logo")
        old = row.logo.name if row.logo else ""
        row.logo.save(files.EXTENSIONS[kind], ContentFile(logo), save=False)
        if old:
            transaction.on_commit(lambda: row.logo.storage.delete(old))
    elif remove_logo and row.logo:
        old = row.logo.name
        row.logo = ""
        transaction.on_commit(lambda: Company.logo.field.storage.delete(old))
    row.save()
    return row


# ---------------------------------------------------------------- people and locations


@transaction.atomic
def update_staff_user(
    *,
    company: Company,
    user_id: int,
    by: User,
    role: str | None = None,
    active: bool | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> User:
    """Change a colleague's role, name or whether they may sign in. Nobody takes away their own
    Admin role or access, and the company always keeps one active Admin."""
    if role is not None and (role not in Role.values or role == Role.VENDOR):
        raise Invalid("must be a staff role: admin, setup, sales or purchasing", field="role")
    # The company's active Admins first, in pk order, then the person: two Admins demoting
    # each other at once take the same locks in the same order, so one waits for the other
    # and sees that it would leave none (instead of both succeeding, or a deadlock).
    admins = [
        u.pk
        for u in User.objects.select_for_update()
        .filter(company=company, role=Role.ADMIN, is_active=True)
        .order_by("pk")
    ]
    user = (
        User.objects.select_for_update()
        .filter(company=company, pk=user_id, role__in=STAFF_ROLES)
        .first()
    )
    if user is None:
        raise Invalid(f"user {user_id} is not staff of the company", field="userId")
    losing_admin = (
        user.role == Role.ADMIN
        and user.is_active
        and ((role is not None and role != Role.ADMIN) or active is False)
    )
    if losing_admin and user.pk == by.pk:
        raise Invalid("you cannot take away your own Admin role or access", field="role")
    if losing_admin and not [pk for pk in admins if pk != user.pk]:
        raise Invalid("the company needs at least one active Admin", field="role")
    if role is not None:
        user.role = role
    if active is not None:
        user.is_active = active
    if first_name is not None:
        user.first_name = first_name.strip()[:150]
    if last_name is not None:
        user.last_name = last_name.strip()[:150]
    user.save()
    return user


LOCATION_TEXT = {"name": 100, "short_name": 20, "code": 10, "address": 200, "city": 50, "state": 50}


@transaction.atomic
def save_location(*, company: Company, location_id: int | None = None, **changes) -> Location:
    """Add a location (location_id None) or change one; `is_default` moves the default here."""
    if location_id is None:
        location = Location(company=company)
    else:
        location = (
            Location.objects.select_for_update().filter(company=company, pk=location_id).first()
        )
        if location is None:
            raise Invalid(f"location {location_id} does not exist", field="locationId")
    for name, max_length in LOCATION_TEXT.items():
        if changes.get(name) is not None:
            value = changes[name].strip()
            if len(value) > max_length:
                raise Invalid(f"at most {max_length} characters", field=name)
            setattr(location, name, value)
    for name in ("name", "code"):
        if not getattr(location, name):
            raise Invalid("is required", field=name)
    for name in ("name", "code"):
        taken = Location.objects.filter(
            company=company, **{f"{name}__iexact": getattr(location, name)}
        ).exclude(pk=location.pk)
        if taken.exists():
            raise Conflict(f"another location already has this {name}", field=name)
    if changes.get("active") is not None:
        location.active = changes["active"]
    if changes.get("is_default") and not location.is_default:
        Location.objects.filter(company=company, is_default=True).update(is_default=False)
        location.is_default = True
    if location.is_default and not location.active:
        raise Invalid("the default location must stay active", field="active")
    location.save()
    return location
