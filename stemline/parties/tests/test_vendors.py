"""vendor.list and vendor.add through the API."""

import pytest

from stemline.parties.models import Vendor

from .helpers import ok, refused


def test_add_then_list(api, company, company_token):
    body = ok(
        api(
            "vendor.add",
            company_token,
            {
                "name": "Rosas del Monte",
                "portOrigin": "bog",
                "vendorType": "1",
                "code": "RDM",
                "phone1": "+57 1 555 0101",
                "webPage": "rosas.example",
                "emailForPOs": "po@rosas.example;farm@rosas.example",
                "contactName": "Ana",
                "notes": "Ships Tuesdays",
                "street": "Km 5",
                "city": "Bogota",
                "country": "CO",
            },
        )
    )
    assert body["message"] == "The Vendor was successfully saved."
    vendor = Vendor.objects.get(pk=body["vendorId"])
    assert (vendor.company_id, vendor.port_origin, vendor.vendor_type, vendor.email_for_pos) == (
        company.pk,
        "BOG",
        1,
        "po@rosas.example;farm@rosas.example",
    )
    assert (vendor.contact_name, vendor.notes, vendor.city) == ("Ana", "Ships Tuesdays", "Bogota")
    [row] = ok(api("vendor.list", company_token, {}, verb="GET"))["vendors"]
    assert row == {
        "id": vendor.pk,
        "name": "Rosas del Monte",
        "code": "RDM",
        "portOrigin": "BOG",
        "vendorType": 1,
        "cargoMasterCode": "",
        "active": 1,
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"portOrigin": "BOG", "vendorType": 1}, "name"),
        ({"name": "Farm", "vendorType": 1}, "portOrigin"),
        ({"name": "Farm", "portOrigin": "BOG"}, "vendorType"),
        ({"name": "Farm", "portOrigin": "BOGOTA", "vendorType": 1}, "portOrigin"),
        ({"name": "Farm", "portOrigin": "BOG", "vendorType": 4}, "vendorType"),
        ({"name": "Farm", "portOrigin": "BOG", "vendorType": "fresh"}, "vendorType"),
        ({"name": "Farm", "portOrigin": "BOG", "vendorType": 1, "emailForPOs": "x"}, "emailForPOs"),
        ({"name": "Farm", "portOrigin": "BOG", "vendorType": 1, "code": "X" * 11}, "code"),
    ],
)
def test_add_refuses_invalid_fields(api, company_token, data, field):
    refused(api("vendor.add", company_token, data), 422, field)
    assert not Vendor.objects.exists()


def test_add_refuses_a_duplicate_code_in_any_case(api, company_token, party_factory):
    party_factory.vendor(code="RDM")
    refused(
        api(
            "vendor.add",
            company_token,
            {"name": "Other", "portOrigin": "MDE", "vendorType": 1, "code": "rdm"},
        ),
        409,
        "code",
    )
    assert Vendor.objects.count() == 1


def test_list_filters(api, company_token, party_factory):
    monte = party_factory.vendor(name="Rosas del Monte", code="RDM", port_origin="BOG")
    valle = party_factory.vendor(name="Flores del Valle", code="RDMV", port_origin="MDE")
    closed = party_factory.vendor(name="Rosas Cerradas", code="RC", active=False)

    def ids(params):
        return [
            r["id"] for r in ok(api("vendor.list", company_token, params, verb="GET"))["vendors"]
        ]

    assert ids({}) == [valle.pk, monte.pk]
    assert ids({"includeInactive": "1"}) == [valle.pk, closed.pk, monte.pk]
    assert ids({"name": "DEL"}) == [valle.pk, monte.pk]
    assert ids({"name": "rosas", "includeInactive": "1"}) == [closed.pk, monte.pk]
    assert ids({"code": "rdm"}) == [monte.pk]
    assert ids({"portOrigin": "mde"}) == [valle.pk]
    assert ids({"portOrigin": "M"}) == []
    assert ids({"id": closed.pk}) == [closed.pk]


def test_only_company_and_user_tokens(api, company, make_token, party_factory):
    party_factory.vendor()
    vendor_token = make_token(company, "vendor")
    refused(api("vendor.list", vendor_token, {}, verb="GET"), 403)
    refused(
        api("vendor.add", vendor_token, {"name": "F", "portOrigin": "BOG", "vendorType": 1}), 403
    )
    user_token = make_token(company, "user")
    assert len(ok(api("vendor.list", user_token, {}, verb="GET"))["vendors"]) == 2
