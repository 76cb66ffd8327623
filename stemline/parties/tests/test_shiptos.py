"""customer.shipto.list, .add, .update and .delete through the API."""

from datetime import UTC, datetime

import pytest

from stemline.parties.models import ShipTo

from .helpers import ok, refused


def shiptos(api, token, params) -> list[dict]:
    return ok(api("customer.shipto.list", token, params, verb="GET"))["shiptos"]


@pytest.fixture
def customer(party_factory):
    return party_factory.customer(name="Bloom Room")


@pytest.fixture
def carrier(party_factory):
    return party_factory.carrier(name="FedEx Priority", code="FDX")


def test_add_then_list(api, company_token, customer, carrier):
    body = ok(
        api(
            "customer.shipto.add",
            company_token,
            {
                "customerId": customer.pk,
                "name": "Coral Gables Store",
                "shipToCode": "CG1",
                "address": "1 Flower St",
                "city": "Coral Gables",
                "state": "FL",
                "zipcode": "33134",
                "country": "US",
                "phone": "305-555-0101",
                "fax": "305-555-0102",
                "carrierId": carrier.pk,
                "carrierAccount": "ACCT-9",
                "salesPersonCodeForFlowers": "F1",
                "salesPersonCodeForPlants": "P1",
            },
        )
    )
    assert body["message"] == "Ship to was successfully saved"
    [row] = shiptos(api, company_token, {"customerId": customer.pk})
    assert row["id"] == body["shipToId"]
    assert row["customerId"] == customer.pk
    assert (
        row["name"],
        row["shipToCode"],
        row["address"],
        row["city"],
        row["state"],
        row["zipcode"],
        row["country"],
        row["phone"],
        row["fax"],
    ) == (
        "Coral Gables Store",
        "CG1",
        "1 Flower St",
        "Coral Gables",
        "FL",
        "33134",
        "US",
        "305-555-0101",
        "305-555-0102",
    )
    assert (row["carrierId"], row["carrierName"], row["carrierCode"], row["carrierAccount"]) == (
        carrier.pk,
        "FedEx Priority",
        "FDX",
        "ACCT-9",
    )
    assert (row["salesPersonCodeForFlowers"], row["salesPersonCodeForPlants"]) == ("F1", "P1")
    assert row["updatedAsOf"]


def test_add_without_carrier(api, company_token, customer):
    body = ok(
        api(
            "customer.shipto.add",
            company_token,
            {"customerId": customer.pk, "name": "Store", "carrierId": ""},
        )
    )
    [row] = shiptos(api, company_token, {"customerId": customer.pk})
    assert (row["id"], row["carrierId"], row["carrierName"]) == (body["shipToId"], None, "")


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"name": "Store"}, 422, "customerId"),
        ({"customerId": 999999, "name": "Store"}, 404, "customerId"),
        ({"customer": True}, 422, "name"),
        ({"customer": True, "name": " "}, 422, "name"),
        ({"customer": True, "name": "Store", "zipcode": "12345678901"}, 422, "zipcode"),
        ({"customer": True, "name": "Store", "carrierId": 999999}, 404, "carrierId"),
        ({"customer": True, "name": "Store", "carrierId": "fedex"}, 422, "carrierId"),
    ],
)
def test_add_refuses(api, company_token, customer, data, status, field):
    if data.pop("customer", False):
        data["customerId"] = customer.pk
    refused(api("customer.shipto.add", company_token, data), status, field)
    assert not ShipTo.objects.exists()


def test_update_changes_only_the_fields_sent(api, company_token, customer, carrier, party_factory):
    ship_to = party_factory.ship_to(customer, name="Store", city="Miami", carrier=carrier)
    ok(
        api(
            "customer.shipto.update",
            company_token,
            {"shipToId": ship_to.pk, "customerId": customer.pk, "city": "Tampa"},
        )
    )
    ship_to.refresh_from_db()
    assert (ship_to.name, ship_to.city, ship_to.carrier_id) == ("Store", "Tampa", carrier.pk)
    ok(api("customer.shipto.update", company_token, {"shipToId": ship_to.pk, "carrierId": None}))
    ship_to.refresh_from_db()
    assert ship_to.carrier_id is None


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({}, 422, "shipToId"),
        ({"shipToId": 999999}, 404, "shipToId"),
        ({"name": ""}, 422, "name"),
        ({"carrierId": 999999}, 404, "carrierId"),
        ({"phone": "1" * 21}, 422, "phone"),
    ],
)
def test_update_refuses(api, company_token, customer, party_factory, data, status, field):
    ship_to = party_factory.ship_to(customer, name="Store", phone="111")
    if data and "shipToId" not in data:
        data = {"shipToId": ship_to.pk, **data}
    refused(api("customer.shipto.update", company_token, data), status, field)
    ship_to.refresh_from_db()
    assert (ship_to.name, ship_to.phone, ship_to.carrier_id) == ("Store", "111", None)


def test_update_through_another_customer_is_404(api, company_token, customer, party_factory):
    ship_to = party_factory.ship_to(customer, name="Store")
    other = party_factory.customer(name="Other")
    refused(
        api(
            "customer.shipto.update",
            company_token,
            {"shipToId": ship_to.pk, "customerId": other.pk, "name": "Moved"},
        ),
        404,
        "shipToId",
    )
    ship_to.refresh_from_db()
    assert (ship_to.customer_id, ship_to.name) == (customer.pk, "Store")


def test_delete_hides_it_from_lists_and_keeps_the_row(api, company_token, customer, party_factory):
    gone = party_factory.ship_to(customer, name="Old Store")
    kept = party_factory.ship_to(customer, name="New Store")
    body = ok(api("customer.shipto.delete", company_token, {"shipToId": gone.pk}))
    assert body["message"] == "Ship to removed."
    assert [r["id"] for r in shiptos(api, company_token, {"customerId": customer.pk})] == [kept.pk]
    gone.refresh_from_db()
    assert gone.removed_at is not None
    # Once removed it can be neither removed again nor changed.
    refused(api("customer.shipto.delete", company_token, {"shipToId": gone.pk}), 404, "shipToId")
    refused(
        api("customer.shipto.update", company_token, {"shipToId": gone.pk, "city": "X"}),
        404,
        "shipToId",
    )
    refused(api("customer.shipto.delete", company_token, {}), 422, "shipToId")


def test_list_needs_a_customer_a_name_or_a_date(api, company_token, customer, party_factory):
    party_factory.ship_to(customer)
    refused(api("customer.shipto.list", company_token, {}, verb="GET"), 422, "customerId")
    ship_to = ShipTo.objects.get()
    refused(
        api("customer.shipto.list", company_token, {"id": ship_to.pk}, verb="GET"),
        422,
        "customerId",
    )


def test_list_filters(api, company_token, customer, party_factory):
    other = party_factory.customer(name="Other")
    coral = party_factory.ship_to(customer, name="Coral Gables Store")
    doral = party_factory.ship_to(customer, name="Doral Warehouse")
    other_store = party_factory.ship_to(other, name="Kendall Store")
    ShipTo.objects.filter(pk=coral.pk).update(updated_on=datetime(2024, 1, 1, tzinfo=UTC))
    ShipTo.objects.filter(pk__in=[doral.pk, other_store.pk]).update(
        updated_on=datetime(2024, 6, 1, tzinfo=UTC)
    )

    def ids(params):
        return [r["id"] for r in shiptos(api, company_token, params)]

    assert ids({"customerId": customer.pk}) == [coral.pk, doral.pk]
    assert ids({"name": "STORE"}) == [coral.pk, other_store.pk]  # substring, any case
    assert ids({"name": "store", "customerId": other.pk}) == [other_store.pk]
    assert ids({"updatedAsOf": "2024-03-01"}) == [doral.pk, other_store.pk]
    assert ids({"updateAsOf": "2024-03-01 00:00:00"}) == [doral.pk, other_store.pk]
    assert ids({"customerId": customer.pk, "id": doral.pk}) == [doral.pk]
    refused(
        api("customer.shipto.list", company_token, {"customerId": 999999}, verb="GET"),
        404,
        "customerId",
    )


def test_customer_token_sees_only_its_own_ship_tos(api, company, make_token, party_factory):
    token = make_token(company, "customer")
    own_customer = token.token.customer
    own = party_factory.ship_to(own_customer, name="My Store")
    stranger = party_factory.customer(name="Stranger")
    party_factory.ship_to(stranger, name="Their Store")

    # Its own customer is implied, so no filter is needed.
    assert [r["id"] for r in shiptos(api, token, {})] == [own.pk]
    assert [r["id"] for r in shiptos(api, token, {"name": "store"})] == [own.pk]
    assert [r["id"] for r in shiptos(api, token, {"customerId": own_customer.pk})] == [own.pk]
    body = refused(
        api("customer.shipto.list", token, {"customerId": stranger.pk}, verb="GET"),
        404,
        "customerId",
    )
    assert "Their Store" not in str(body)
    refused(api("customer.shipto.add", token, {"customerId": own_customer.pk, "name": "X"}), 403)
    refused(api("customer.shipto.delete", token, {"shipToId": own.pk}), 403)


def test_vendor_token_lists_ship_tos(api, company, make_token, customer, party_factory):
    ship_to = party_factory.ship_to(customer)
    token = make_token(company, "vendor")
    assert [r["id"] for r in shiptos(api, token, {"customerId": customer.pk})] == [ship_to.pk]
    refused(api("customer.shipto.update", token, {"shipToId": ship_to.pk, "name": "X"}), 403)
