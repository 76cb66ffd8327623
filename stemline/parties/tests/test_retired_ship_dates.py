"""carriers.by.customer.ship.date.list: retired (no new token may be granted it), yet it still
answers the tokens that hold it, with real dates and carriers."""

from datetime import timedelta

import pytest

from stemline.api.registry import registry
from stemline.core.errors import Invalid
from stemline.inventory import services as stock
from stemline.parties.models import Carrier, ShipTo
from stemline.tokens.models import ApiToken
from stemline.tokens.services import all_grants, create_token

from .helpers import ok, refused

METHOD = "carriers.by.customer.ship.date.list"


def _us(day) -> str:
    return day.strftime("%m/%d/%Y")


@pytest.fixture
def holder(stocked, make_token):
    """A Customer token made before the method was retired: its grants hold it."""
    issued = make_token(stocked.company, "customer", customer_id=stocked.florist.pk)
    ApiToken.objects.filter(pk=issued.token.pk).update(grants=[METHOD, "customer.details.get"])
    return issued


@pytest.fixture
def carriers(stocked):
    fedex = Carrier.objects.create(company=stocked.company, name="FedEx", code="FDX")
    armellini = Carrier.objects.create(company=stocked.company, name="Armellini", code="ARM")
    Carrier.objects.create(
        company=stocked.company, name="Inbound Air", code="AIR", direction="inbound"
    )
    Carrier.objects.create(company=stocked.company, name="Old Trucks", code="OLD", active=False)
    return fedex, armellini


def test_it_is_retired_in_the_registry_and_not_offered(stocked):
    assert registry.get(METHOD).deprecated
    assert METHOD not in all_grants("customer")
    with pytest.raises(Invalid):
        create_token(
            company=stocked.company,
            token_type="customer",
            description="new",
            grants=[METHOD],
            customer_id=stocked.market.pk,
        )


def test_a_token_holding_it_gets_the_days_and_carriers(api, stocked, holder, carriers):
    fedex, armellini = carriers
    ShipTo.objects.create(
        company=stocked.company, customer=stocked.florist, name="Store", carrier=fedex
    )
    body = ok(api(METHOD, holder, {"customerId": stocked.florist.pk}, verb="GET"))
    today = stock.today()
    days = [_us(today + timedelta(days=n)) for n in range(14)]
    assert body["deliverDates"] == days
    assert body["carrierDate"] == [
        {"carrierId": armellini.pk, "carrierName": "Armellini"},
        {"carrierId": fedex.pk, "carrierName": "FedEx"},
    ]
    # The default of every day is the carrier of the customer's ship-to.
    assert set(body["defaultCarriersByDate"]) == set(days)
    assert body["defaultCarriersByDate"][days[0]] == {"carrierId": fedex.pk, "carrierName": "FedEx"}


def test_future_dates_start_with_the_first_arrival(api, stocked, holder, carriers):
    body = ok(api(METHOD, holder, {"customerId": stocked.florist.pk, "inventoryOrigin": 2}))
    assert body["deliverDates"] == [] and body["defaultCarriersByDate"] == {}
    stocked.add(5, future_days=6)
    stocked.add(5, future_days=3)
    body = ok(api(METHOD, holder, {"customerId": stocked.florist.pk, "inventoryOrigin": "2"}))
    first = stock.today() + timedelta(days=3)
    assert body["deliverDates"][0] == _us(first) and len(body["deliverDates"]) == 14
    # Without a ship-to carrier the first carrier by name is the default.
    assert body["defaultCarriersByDate"][_us(first)]["carrierName"] == "Armellini"


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"inventoryOrigin": 4}, 422, "inventoryOrigin"),
        ({"inventoryOrigin": 9}, 422, "inventoryOrigin"),
        ({"inventoryOrigin": "soon"}, 422, "inventoryOrigin"),
        ({"companyLocationId": 99999999}, 404, "companyLocationId"),
    ],
)
def test_refusals(api, stocked, holder, params, status, field):
    refused(api(METHOD, holder, {"customerId": stocked.florist.pk, **params}), status, field)


def test_only_its_own_customer_and_only_customer_tokens(api, stocked, holder, company_token):
    refused(api(METHOD, holder, {"customerId": stocked.market.pk}, verb="GET"), 404, "customerId")
    ApiToken.objects.filter(pk=company_token.token.pk).update(grants=[METHOD])
    refused(api(METHOD, company_token, {"customerId": stocked.florist.pk}, verb="GET"), 403)


def test_a_token_without_it_is_refused(api, stocked, make_token):
    issued = make_token(stocked.company, "customer", customer_id=stocked.market.pk)
    body = refused(api(METHOD, issued, {"customerId": stocked.market.pk}, verb="GET"), 403)
    assert "not among the methods granted" in body["message"]


def test_multi_location_company_must_name_the_location(api, stocked, holder):
    stocked.company.multi_location = True
    stocked.company.save()
    refused(api(METHOD, holder, {"customerId": stocked.florist.pk}), 422, "companyLocationId")
    body = ok(
        api(
            METHOD,
            holder,
            {"customerId": stocked.florist.pk, "companyLocationId": stocked.location.pk},
        )
    )
    assert len(body["deliverDates"]) == 14
