"""API methods of the core: login and locations."""

from django.contrib.auth import authenticate

from stemline.api.errors import ApiError, unauthorized
from stemline.api.registry import COMPANY, USER, VENDOR, api_method
from stemline.api.schemas import Envelope, Id, Out, Params, Required, Str, flag
from stemline.core.errors import NotFound
from stemline.core.filters import icontains, iexact
from stemline.parties.models import Customer

from .models import Location
from .services import TooManyAttempts, client_address, throttled_sign_in


class LoginIn(Params):
    username: Required(100)
    password: Required(100)


class LoginOut(Envelope):
    apiKey: str


@api_method(
    "login",
    request=LoginIn,
    response=LoginOut,
    tokens=[],
    area="auth",
    atomic=False,
)
def login(call, p: LoginIn):
    """Obtain a user's long-lived API key (a User token acting with that user's role)."""
    from stemline.tokens.services import user_token

    def attempt():
        user = authenticate(call.request, username=p.username, password=p.password)
        return user if user is not None and user.is_company_staff else None

    # The web sign-in form shares this throttle (and its state): guesses count on both doors.
    try:
        user = throttled_sign_in(
            username=p.username, address=client_address(call.request), attempt=attempt
        )
    except TooManyAttempts as refused:
        raise ApiError(f"{refused.message}", 429, headers=refused.verdict.headers()) from None
    if user is None:
        raise unauthorized("username or password is not correct")
    issued = user_token(user=user)
    return {"apiKey": issued.secret}


class LocationListIn(Params):
    id: Id | None = None
    name: Str(100) | None = None
    code: Str(10) | None = None


class LocationOut(Out):
    id: int
    name: str
    code: str


class LocationListOut(Envelope):
    locations: list[LocationOut]


@api_method(
    "location.list",
    request=LocationListIn,
    response=LocationListOut,
    tokens=[COMPANY, USER],
    area="master",
    read=True,
)
def location_list(call, p: LocationListIn):
    """Company locations sorted by name."""
    qs = Location.objects.filter(company=call.company)
    if p.id is not None:
        qs = qs.filter(pk=p.id)
    qs = iexact(icontains(qs, "name", p.name), "code", p.code)
    return {"locations": [{"id": x.pk, "name": x.name, "code": x.code} for x in qs]}


class CompanyLocationListIn(Params):
    customerId: Id


class CompanyLocationOut(Out):
    id: int
    name: str
    shortName: str
    code: str
    active: int


class CompanyLocationListOut(Envelope):
    locations: list[CompanyLocationOut]


@api_method(
    "company.location.list",
    request=CompanyLocationListIn,
    response=CompanyLocationListOut,
    tokens=[COMPANY, VENDOR, USER],
    area="master",
    read=True,
    account_required=True,
)
def company_location_list(call, p: CompanyLocationListIn):
    """Locations a customer buys from (all of the company's when none are assigned)."""
    customer = Customer.objects.filter(company=call.company, pk=p.customerId).first()
    if customer is None:
        raise NotFound(f"customer {p.customerId} does not exist", field="customerId")
    locations = list(customer.locations.order_by("name", "id"))
    if not locations:
        locations = list(Location.objects.filter(company=call.company, active=True))
    return {
        "locations": [
            {
                "id": x.pk,
                "name": x.name,
                "shortName": x.short_name or x.code,
                "code": x.code,
                "active": flag(x.active),
            }
            for x in locations
        ]
    }


# Methods of core that live beside this module; importing them registers them.
from . import api_password  # noqa: E402, F401
