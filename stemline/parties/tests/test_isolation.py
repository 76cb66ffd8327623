"""Another company's tokens never see or change this company's parties, whatever IDs they send."""

import pytest

from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor

from .helpers import ok, refused


@pytest.fixture
def a(company, party_factory):
    """Company A's rows, which company B goes after."""

    class Rows:
        pass

    rows = Rows()
    rows.rep = create_user(company=company, email="rep@a.example", role=Role.SALES)
    rows.location = party_factory.location(name="Miami", code="MIA")
    rows.carrier = party_factory.carrier(name="A Freight", code="AFR")
    rows.customer = party_factory.customer(
        name="A Florist", code="AFL", phone="111", sales_person=rows.rep
    )
    rows.customer.locations.set([rows.location])
    rows.ship_to = party_factory.ship_to(
        rows.customer, name="A Store", city="Miami", carrier=rows.carrier
    )
    rows.vendor = party_factory.vendor(name="A Farm", code="AFM", port_origin="BOG")
    return rows


@pytest.fixture(params=["company", "user"])
def b_token(request, other_company, make_token):
    return make_token(other_company, request.param)


@pytest.fixture
def b_customer(other_company, party_factory):
    return party_factory.customer(company=other_company, name="B Florist")


def _unchanged(a):
    a.customer.refresh_from_db()
    a.ship_to.refresh_from_db()
    assert (a.customer.name, a.customer.code, a.customer.phone, a.customer.active) == (
        "A Florist",
        "AFL",
        "111",
        True,
    )
    assert list(a.customer.locations.all()) == [a.location]
    assert (a.ship_to.name, a.ship_to.city, a.ship_to.removed_at) == ("A Store", "Miami", None)


def test_lists_never_show_the_other_company(api, a, b_token):
    def rows(method, key, params):
        return ok(api(method, b_token, params, verb="GET"))[key]

    for params in ({}, {"id": a.carrier.pk}, {"name": "freight"}, {"code": "AFR"}):
        assert rows("carrier.list", "carriers", params) == []
    for params in (
        {},
        {"id": a.customer.pk},
        {"name": "florist"},
        {"code": "AFL"},
        {"salesPersonId": a.rep.pk},
        {"includeInactive": "1"},
        {"updateAsOf": "2000-01-01"},
    ):
        assert rows("customer.list", "customers", params) == []
    for params in ({}, {"id": a.vendor.pk}, {"name": "farm"}, {"portOrigin": "BOG"}):
        assert rows("vendor.list", "vendors", params) == []
    for params in (
        {"name": "store"},
        {"updatedAsOf": "2000-01-01"},
        {"name": "A", "id": a.ship_to.pk},
    ):
        assert rows("customer.shipto.list", "shiptos", params) == []
    refused(
        api("customer.list", b_token, {"locationId": a.location.pk}, verb="GET"), 404, "locationId"
    )
    refused(
        api("customer.shipto.list", b_token, {"customerId": a.customer.pk}, verb="GET"),
        404,
        "customerId",
    )
    refused(
        api("customer.details.get", b_token, {"customerId": a.customer.pk}, verb="GET"),
        404,
        "customerId",
    )


def test_writes_never_reach_the_other_company(api, a, b_token, b_customer):
    refused(
        api(
            "customer.update",
            b_token,
            {
                "customerId": a.customer.pk,
                "name": "Taken",
                "code": "TKN",
                "phone": "999",
                "active": "0",
                "locationCodes": "",
            },
        ),
        404,
        "customerId",
    )
    refused(
        api("customer.shipto.add", b_token, {"customerId": a.customer.pk, "name": "Mine"}),
        404,
        "customerId",
    )
    refused(
        api(
            "customer.shipto.update",
            b_token,
            {"shipToId": a.ship_to.pk, "name": "Taken", "city": "Elsewhere"},
        ),
        404,
        "shipToId",
    )
    refused(
        api(
            "customer.shipto.update",
            b_token,
            {"shipToId": a.ship_to.pk, "customerId": b_customer.pk, "name": "Taken"},
        ),
        404,
        "shipToId",
    )
    refused(api("customer.shipto.delete", b_token, {"shipToId": a.ship_to.pk}), 404, "shipToId")
    _unchanged(a)
    assert ShipTo.objects.filter(customer=a.customer).count() == 1


def test_references_to_the_other_companys_rows_are_refused(api, a, b_token, b_customer):
    refused(
        api(
            "customer.shipto.add",
            b_token,
            {"customerId": b_customer.pk, "name": "B Store", "carrierId": a.carrier.pk},
        ),
        404,
        "carrierId",
    )
    b_ship_to = ShipTo.objects.create(company=b_customer.company, customer=b_customer, name="S")
    refused(
        api(
            "customer.shipto.update", b_token, {"shipToId": b_ship_to.pk, "carrierId": a.carrier.pk}
        ),
        404,
        "carrierId",
    )
    refused(
        api("customer.add", b_token, {"name": "B2", "salesPersonId": a.rep.pk}),
        404,
        "salesPersonId",
    )
    refused(
        api("customer.update", b_token, {"customerId": b_customer.pk, "salesPersonId": a.rep.pk}),
        404,
        "salesPersonId",
    )
    # Company A's location code means nothing in company B (both have their own MAIN).
    refused(
        api("customer.add", b_token, {"name": "B3", "locationCodes": "MIA"}), 422, "locationCodes"
    )
    b_ship_to.refresh_from_db()
    assert b_ship_to.carrier_id is None
    assert not Customer.objects.filter(name__in=["B2", "B3"]).exists()


def test_codes_are_per_company(api, a, b_token):
    ok(api("carrier.add", b_token, {"name": "B Freight", "code": "afr"}))
    ok(api("customer.add", b_token, {"name": "B Florist", "code": "AFL"}))
    ok(
        api(
            "vendor.add",
            b_token,
            {"name": "B Farm", "portOrigin": "MDE", "vendorType": 1, "code": "AFM"},
        )
    )
    assert Carrier.objects.filter(code__iexact="AFR").count() == 2
    assert Customer.objects.filter(code="AFL").count() == 2
    assert Vendor.objects.filter(code="AFM").count() == 2


def test_other_companys_customer_token_sees_nothing_here(api, a, other_company, make_token):
    token = make_token(other_company, "customer")
    refused(
        api("customer.details.get", token, {"customerId": a.customer.pk}, verb="GET"),
        404,
        "customerId",
    )
    refused(
        api("customer.shipto.list", token, {"customerId": a.customer.pk}, verb="GET"),
        404,
        "customerId",
    )
    assert ok(api("customer.shipto.list", token, {"name": "store"}, verb="GET"))["shiptos"] == []
