"""customer.list, customer.details.get, customer.add and customer.update through the API."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stemline.core.models import Location, Role
from stemline.core.services import create_user
from stemline.parties.models import Customer, Vendor

from .helpers import ok, refused


def details(api, token, customer_id) -> dict:
    body = ok(api("customer.details.get", token, {"customerId": customer_id}, verb="GET"))
    assert len(body["customer"]) == 1
    return body["customer"][0]


def list_ids(api, token, params=None) -> list[int]:
    rows = ok(api("customer.list", token, params or {}, verb="GET"))["customers"]
    return [r["id"] for r in rows]


# ---------------------------------------------------------------- customer.add


def test_add_with_every_field_then_read_it_back(
    api, company, company_token, sales_user, party_factory
):
    party_factory.location(name="Miami", code="MIA")
    body = ok(
        api(
            "customer.add",
            company_token,
            {
                "name": "Bloom Room",
                "code": "BLR",
                "accountingCode": "4100-BLR",
                "type": 3,
                "locationCodes": "MAIN:mia",
                "defaultPrice": "b",
                "priceBMarkup": "12.5",
                "phone": "305-555-0101",
                "fax": "305-555-0102",
                "website": "bloomroom.example",
                "terms": "Net 30",
                "emailForInvoices": "ap@bloomroom.example; boss@bloomroom.example",
                "emailForStatements": "ap@bloomroom.example",
                "creditHold": "1",
                "creditLimit": "2500.50",
                "salesPersonId": sales_user.pk,
                "billAddress": "1 Flower St",
                "billCity": "Miami",
                "billState": "FL",
                "billZipCode": "33101",
                "billCountry": "US",
            },
        )
    )
    assert body["message"] == "The customer was successfully saved."
    c = details(api, company_token, body["customerId"])
    assert c["name"] == "Bloom Room" and c["code"] == "BLR"
    assert (c["type"], c["customerType"]) == (3, "Florist")
    assert c["locationCodes"] == "MAIN:MIA"
    assert c["defaultPrice"] == "B" and c["priceBMarkup"] == 12.5
    assert c["emailForInvoices"] == "ap@bloomroom.example;boss@bloomroom.example"
    assert c["creditHold"] == 1 and c["creditLimit"] == 2500.5
    assert (c["salesPersonId"], c["salesPerson"]) == (sales_user.pk, "Sam Sales")
    assert (c["billAddress"], c["billZipCode"], c["terms"]) == ("1 Flower St", "33101", "Net 30")
    assert Customer.objects.get(pk=body["customerId"]).credit_limit == Decimal("2500.50")


def test_add_with_name_only_takes_the_defaults(api, company_token):
    body = ok(api("customer.add", company_token, {"name": "Petal Pushers"}))
    c = details(api, company_token, body["customerId"])
    assert (c["code"], c["defaultPrice"], c["customerType"], c["active"]) == (
        "",
        "A",
        "Retailer",
        1,
    )
    assert c["creditLimit"] is None and c["locationCodes"] == ""


@pytest.mark.parametrize(("sent", "stored"), [("", None), ("0", Decimal("0"))])
def test_empty_credit_limit_is_unlimited_and_zero_is_no_credit(api, company_token, sent, stored):
    body = ok(api("customer.add", company_token, {"name": "Petal Pushers", "creditLimit": sent}))
    assert Customer.objects.get(pk=body["customerId"]).credit_limit == stored


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "X" * 201}, 422, "name"),
        ({"name": "C", "code": "X" * 11}, 422, "code"),
        ({"name": "C", "type": 99}, 422, "type"),
        ({"name": "C", "type": "florist"}, 422, "type"),
        ({"name": "C", "defaultPrice": "C"}, 422, "defaultPrice"),
        ({"name": "C", "creditLimit": "-1"}, 422, "creditLimit"),
        ({"name": "C", "creditLimit": "lots"}, 422, "creditLimit"),
        ({"name": "C", "creditLimit": "1.005"}, 422, "creditLimit"),
        ({"name": "C", "emailForInvoices": "ap@x.example;nobody"}, 422, "emailForInvoices"),
        ({"name": "C", "locationCodes": "MAIN:NOWHERE"}, 422, "locationCodes"),
        ({"name": "C", "salesPersonId": 999999}, 404, "salesPersonId"),
        ({"name": "C", "paymentMethod": "Bitcoin"}, 422, "paymentMethod"),
        ({"name": "C", "sendInvoiceVia": "Fax"}, 422, "sendInvoiceVia"),
        ({"name": "C", "financeChargePercentage": "101"}, 422, "financeChargePercentage"),
        ({"name": "C", "financeChargePercentage": "-1"}, 422, "financeChargePercentage"),
        ({"name": "C", "chargeTax": "maybe"}, 422, "chargeTax"),
        ({"name": "C", "customerGroup": "G" * 51}, 422, "customerGroup"),
    ],
)
def test_add_refuses_invalid_fields(api, company_token, data, status, field):
    body = refused(api("customer.add", company_token, data), status, field)
    assert "NOWHERE" in body["message"] or field != "locationCodes"
    assert not Customer.objects.exists()


def test_add_refuses_a_duplicate_code_in_any_case(api, company_token, party_factory):
    party_factory.customer(code="BLR")
    refused(api("customer.add", company_token, {"name": "Other", "code": "blr"}), 409, "code")
    assert Customer.objects.count() == 1


def test_several_customers_may_have_no_code(api, company_token):
    ok(api("customer.add", company_token, {"name": "One"}))
    ok(api("customer.add", company_token, {"name": "Two", "code": ""}))
    assert Customer.objects.count() == 2


def test_sales_person_must_be_staff_of_the_company(api, company, company_token):
    farm = Vendor.objects.create(company=company, name="Finca", code="FIN", port_origin="BOG")
    grower = create_user(company=company, email="grower@example.com", role=Role.VENDOR, vendor=farm)
    refused(
        api("customer.add", company_token, {"name": "C", "salesPersonId": grower.pk}),
        404,
        "salesPersonId",
    )


# ---------------------------------------------------------------- customer.update


def test_update_changes_only_the_fields_sent(api, company_token, party_factory):
    customer = party_factory.customer(
        name="Bloom Room", code="BLR", phone="111", credit_limit=Decimal("100")
    )
    ok(api("customer.update", company_token, {"customerId": customer.pk, "phone": "222"}))
    customer.refresh_from_db()
    assert (customer.name, customer.code, customer.phone, customer.credit_limit) == (
        "Bloom Room",
        "BLR",
        "222",
        Decimal("100"),
    )


def test_update_clears_credit_limit_and_sales_person(api, company_token, sales_user, party_factory):
    customer = party_factory.customer(credit_limit=Decimal("100"), sales_person=sales_user)
    ok(
        api(
            "customer.update",
            company_token,
            {"customerId": customer.pk, "creditLimit": "", "salesPersonId": None},
        )
    )
    customer.refresh_from_db()
    assert customer.credit_limit is None and customer.sales_person is None


def test_location_codes_replace_the_associations(api, company, company_token, party_factory):
    mia = party_factory.location(name="Miami", code="MIA")
    bog = party_factory.location(name="Bogota", code="BOG")
    customer = party_factory.customer()
    customer.locations.set([mia])
    ok(api("customer.update", company_token, {"customerId": customer.pk, "locationCodes": "BOG"}))
    assert list(customer.locations.all()) == [bog]
    ok(api("customer.update", company_token, {"customerId": customer.pk, "locationCodes": ""}))
    assert not customer.locations.exists()
    refused(
        api(
            "customer.update",
            company_token,
            {"customerId": customer.pk, "locationCodes": "BOG:XYZ"},
        ),
        422,
        "locationCodes",
    )
    assert not customer.locations.exists()


def test_update_deactivates_and_list_hides_it(api, company_token, party_factory):
    customer = party_factory.customer()
    ok(api("customer.update", company_token, {"customerId": customer.pk, "active": "false"}))
    assert list_ids(api, company_token) == []
    assert list_ids(api, company_token, {"includeInactive": "1"}) == [customer.pk]


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({}, 422, "customerId"),
        ({"customerId": 999999}, 404, "customerId"),
        ({"customerId": "abc"}, 422, "customerId"),
        ({"name": ""}, 422, "name"),
        ({"type": 0}, 422, "type"),
        ({"defaultPrice": "Z"}, 422, "defaultPrice"),
        ({"salesPersonId": 999999}, 404, "salesPersonId"),
        ({"emailForStatements": "not an address"}, 422, "emailForStatements"),
        ({"active": "maybe"}, 422, "active"),
    ],
)
def test_update_refuses(api, company_token, party_factory, data, status, field):
    customer = party_factory.customer(name="Bloom Room", phone="111")
    if "customerId" not in data and data:
        data = {"customerId": customer.pk, **data}
    refused(api("customer.update", company_token, data), status, field)
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.active) == ("Bloom Room", "111", True)


def test_update_refuses_another_customers_code_but_keeps_its_own(api, company_token, party_factory):
    party_factory.customer(name="A", code="AAA")
    b = party_factory.customer(name="B", code="BBB")
    refused(api("customer.update", company_token, {"customerId": b.pk, "code": "aaa"}), 409, "code")
    ok(api("customer.update", company_token, {"customerId": b.pk, "code": "BBB", "name": "B2"}))
    b.refresh_from_db()
    assert (b.code, b.name) == ("BBB", "B2")


# ---------------------------------------------------------------- customer.list


def test_list_rows(api, company_token, sales_user, party_factory):
    customer = party_factory.customer(
        name="Bloom Room",
        code="BLR",
        accounting_code="4100",
        customer_type=2,
        sales_person=sales_user,
    )
    row = ok(api("customer.list", company_token, {}, verb="GET"))["customers"][0]
    assert row["id"] == customer.pk
    assert (row["name"], row["code"], row["accountingCode"], row["active"]) == (
        "Bloom Room",
        "BLR",
        "4100",
        1,
    )
    assert (row["salesPerson"], row["salesPersonId"], row["customerType"]) == (
        "Sam Sales",
        sales_user.pk,
        "Wholesaler",
    )
    assert datetime.fromisoformat(row["updatedOn"].replace("Z", "+00:00")).tzinfo is not None


def test_list_filters(api, company_token, sales_user, party_factory):
    bloom = party_factory.customer(name="Bloom Room", code="BLR", sales_person=sales_user)
    bloomer = party_factory.customer(name="The Bloomers", code="BLRS")
    closed = party_factory.customer(name="Closed Blooms", code="CLB", active=False)

    assert list_ids(api, company_token) == [bloom.pk, bloomer.pk]  # by name, active only
    assert list_ids(api, company_token, {"includeInactive": "true"}) == [
        bloom.pk,
        closed.pk,
        bloomer.pk,
    ]
    assert list_ids(api, company_token, {"name": "BLOOM"}) == [bloom.pk, bloomer.pk]
    assert list_ids(api, company_token, {"name": "room"}) == [bloom.pk]
    assert list_ids(api, company_token, {"code": "blr"}) == [bloom.pk]  # exact: not BLRS
    assert list_ids(api, company_token, {"code": "BL"}) == []
    assert list_ids(api, company_token, {"id": bloomer.pk}) == [bloomer.pk]
    assert list_ids(api, company_token, {"id": closed.pk}) == [closed.pk]  # asked for by id
    assert list_ids(api, company_token, {"salesPersonId": sales_user.pk}) == [bloom.pk]


def test_list_by_location(api, company, company_token, party_factory):
    main = Location.objects.get(company=company, code="MAIN")
    mia = party_factory.location(name="Miami", code="MIA")
    at_main = party_factory.customer(name="At Main")
    at_main.locations.set([main])
    at_mia = party_factory.customer(name="At Miami")
    at_mia.locations.set([mia])
    anywhere = party_factory.customer(name="Anywhere")  # none assigned: buys from all

    assert list_ids(api, company_token, {"locationId": mia.pk}) == [anywhere.pk, at_mia.pk]
    assert list_ids(api, company_token, {"locationId": main.pk}) == [anywhere.pk, at_main.pk]
    refused(
        api("customer.list", company_token, {"locationId": 999999}, verb="GET"), 404, "locationId"
    )


def test_list_changed_since(api, company_token, party_factory):
    old = party_factory.customer(name="Old")
    new = party_factory.customer(name="New")
    Customer.objects.filter(pk=old.pk).update(updated_on=datetime(2024, 1, 1, 12, tzinfo=UTC))
    Customer.objects.filter(pk=new.pk).update(updated_on=datetime(2024, 3, 1, 12, tzinfo=UTC))
    assert list_ids(api, company_token, {"updateAsOf": "2024-02-01"}) == [new.pk]
    assert list_ids(api, company_token, {"updateAsOf": "2024-01-01 12:00:00"}) == [new.pk, old.pk]
    assert list_ids(api, company_token, {"updateAsOf": "2024-03-01T12:00:01"}) == []
    refused(
        api("customer.list", company_token, {"updateAsOf": "yesterday"}, verb="GET"),
        422,
        "updateAsOf",
    )


def test_list_costs_the_same_queries_for_many_rows(
    api, company_token, sales_user, party_factory, django_assert_max_num_queries
):
    party_factory.customer(name="First", sales_person=sales_user)
    with CaptureQueriesContext(connection) as few:
        assert len(list_ids(api, company_token)) == 1
    others = [
        create_user(company=sales_user.company, email=f"rep{i}@example.com", role=Role.SALES)
        for i in range(10)
    ]
    Customer.objects.bulk_create(
        Customer(company=sales_user.company, name=f"Customer {i:03}", sales_person=others[i % 10])
        for i in range(150)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(list_ids(api, company_token, {"includeInactive": "1"})) == 151


# ---------------------------------------------------------------- customer.details.get


def test_details_ship_address_is_the_first_live_ship_to(api, company_token, party_factory):
    customer = party_factory.customer()
    removed = party_factory.ship_to(customer, name="A Removed", city="Nowhere")
    removed.removed_at = removed.updated_on
    removed.save()
    party_factory.ship_to(
        customer,
        name="B Store",
        address="2 Rose Ave",
        city="Tampa",
        state="FL",
        zipcode="33602",
        country="US",
    )
    c = details(api, company_token, customer.pk)
    assert (c["shipAddress"], c["shipCity"], c["shipZipCode"]) == ("2 Rose Ave", "Tampa", "33602")


def test_details_of_an_unknown_customer_is_404(api, company_token):
    refused(
        api("customer.details.get", company_token, {"customerId": 999999}, verb="GET"),
        404,
        "customerId",
    )
    refused(api("customer.details.get", company_token, {}, verb="GET"), 422, "customerId")


def test_customer_token_sees_only_its_own_customer(api, company, make_token, party_factory):
    token = make_token(company, "customer")
    stranger = party_factory.customer(name="Someone Else")
    own = details(api, token, token.token.customer_id)
    assert own["name"] == "Token Customer"
    body = refused(
        api("customer.details.get", token, {"customerId": stranger.pk}, verb="GET"),
        404,
        "customerId",
    )
    assert "Someone Else" not in str(body)


def test_token_types(api, company, make_token, party_factory):
    customer = party_factory.customer()
    vendor = make_token(company, "vendor")
    assert customer.pk in list_ids(api, vendor)
    refused(api("customer.details.get", vendor, {"customerId": customer.pk}, verb="GET"), 403)
    refused(api("customer.add", vendor, {"name": "X"}), 403)
    customer_token = make_token(company, "customer")
    refused(api("customer.list", customer_token, {}, verb="GET"), 403)
    refused(
        api(
            "customer.update",
            customer_token,
            {"customerId": customer_token.token.customer_id, "name": "Mine now"},
        ),
        403,
    )
