"""carrier.list and carrier.add through the API."""

import pytest

from stemline.parties.models import Carrier

from .helpers import ok, refused


def test_add_then_list_shows_the_carrier(api, company, company_token):
    body = ok(
        api("carrier.add", company_token, {"name": "UPS Ground", "code": "UPS", "capacity": 120})
    )
    assert body["message"] == "The carrier was successfully saved."
    carrier = Carrier.objects.get(pk=body["carrierId"])
    assert (carrier.company_id, carrier.capacity, carrier.direction) == (
        company.pk,
        120,
        "outbound",
    )

    rows = ok(api("carrier.list", company_token, {}, verb="GET"))["carriers"]
    assert [(r["id"], r["code"], r["name"], r["active"], r["capacity"]) for r in rows] == [
        (carrier.pk, "UPS", "UPS Ground", 1, 120)
    ]
    assert set(rows[0]) >= {
        "street",
        "city",
        "state",
        "zipCode",
        "country",
        "phone",
        "kometNetworkName",
        "kometNetworkId",
    }


def test_add_inbound_carrier(api, company_token):
    body = ok(
        api(
            "carrier.add",
            company_token,
            {"name": "Avianca Cargo", "code": "AVC", "direction": "inbound"},
        )
    )
    assert Carrier.objects.get(pk=body["carrierId"]).direction == "inbound"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "UPS"}, "name"),
        ({"name": "UPS Ground"}, "code"),
        ({"name": "  ", "code": "UPS"}, "name"),
        ({"name": "UPS", "code": "TOOLONGCODE1"}, "code"),
        ({"name": "UPS", "code": "UPS", "capacity": -1}, "capacity"),
        ({"name": "UPS", "code": "UPS", "capacity": "lots"}, "capacity"),
        ({"name": "UPS", "code": "UPS", "direction": "sideways"}, "direction"),
    ],
)
def test_add_refuses_invalid_fields(api, company_token, data, field):
    refused(api("carrier.add", company_token, data), 422, field)
    assert not Carrier.objects.exists()


def test_add_refuses_a_duplicate_code_in_any_case(api, company_token, party_factory):
    party_factory.carrier(code="UPS", name="UPS Ground")
    refused(api("carrier.add", company_token, {"name": "Another", "code": "ups"}), 409, "code")
    assert Carrier.objects.count() == 1


def test_list_filters(api, company_token, party_factory):
    fedex = party_factory.carrier(name="FedEx Priority", code="FDX")
    fedex_ground = party_factory.carrier(name="Fedex Ground", code="FDXG", active=False)
    ups = party_factory.carrier(name="UPS Ground", code="UPS")

    def ids(params):
        rows = ok(api("carrier.list", company_token, params, verb="GET"))["carriers"]
        return [r["id"] for r in rows]

    assert ids({}) == [fedex_ground.pk, fedex.pk, ups.pk]  # sorted by name, inactive too
    assert ids({"name": "fedex"}) == [fedex_ground.pk, fedex.pk]  # substring, any case
    assert ids({"name": "GROUND"}) == [fedex_ground.pk, ups.pk]
    assert ids({"code": "fdx"}) == [fedex.pk]  # exact, any case: FDXG is not FDX
    assert ids({"code": "FD"}) == []
    assert ids({"id": ups.pk}) == [ups.pk]
    assert ids({"active": "0"}) == [fedex_ground.pk]
    assert ids({"active": "1"}) == [fedex.pk, ups.pk]


def test_list_refuses_a_non_numeric_id(api, company_token):
    refused(api("carrier.list", company_token, {"id": "abc"}, verb="GET"), 422, "id")


def test_vendor_token_lists_but_cannot_add(api, company, make_token, party_factory):
    party_factory.carrier()
    token = make_token(company, "vendor")
    assert len(ok(api("carrier.list", token, {}, verb="GET"))["carriers"]) == 1
    refused(api("carrier.add", token, {"name": "X", "code": "X"}), 403)


def test_user_token_role_decides_writes(api, company, make_token, sales_user):
    sales = make_token(company, "user", user=sales_user)
    ok(api("carrier.list", sales, {}, verb="GET"))
    refused(api("carrier.add", sales, {"name": "UPS", "code": "UPS"}), 403)
    admin = make_token(company, "user")
    ok(api("carrier.add", admin, {"name": "UPS", "code": "UPS"}))


def test_same_code_is_free_in_another_company(api, other_token, party_factory):
    party_factory.carrier(code="UPS")
    ok(api("carrier.add", other_token, {"name": "UPS Ground", "code": "UPS"}))
