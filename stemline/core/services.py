"""Every write to companies, locations and users."""

import secrets

from django.db import transaction

from stemline.core.errors import Conflict, Invalid

from .models import Company, Location, Role, User


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
