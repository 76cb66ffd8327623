"""category.list and boxtype.list: what an integration reads to map its own master data."""

import pytest

from stemline.catalog.models import BoxType, Category


def boxtypes(api, token, **filters):
    response = api("boxtype.list", token, filters, verb="GET")
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1
    return response.json_body["boxtypes"]


# ---------------------------------------------------------------- category.list


def test_categories_are_listed_by_name_with_the_reference_fields(api, company, company_token):
    Category.objects.create(
        company=company, name="Roses", komet_network_id=12, komet_network_name="ROSES"
    )
    Category.objects.create(company=company, name="Carnations", active=False)

    response = api("category.list", company_token, verb="GET")
    assert response.status_code == 200
    body = response.json_body
    assert (body["status"], body["message"]) == (1, "OK")
    assert [c["categoryName"] for c in body["categoryItems"]] == ["Carnations", "Roses"]
    carnations, roses = body["categoryItems"]
    assert roses == {
        "categoryId": Category.objects.get(name="Roses").pk,
        "categoryName": "Roses",
        "kometNetworkId": 12,
        "kometNetworkName": "ROSES",
        "active": True,
    }
    # The reference types `active` as a boolean here, unlike product.list's 1/0.
    assert carnations["active"] is False
    assert carnations["kometNetworkId"] is None


def test_category_list_shows_only_the_callers_company(api, company, other_company, make_token):
    Category.objects.create(company=company, name="Roses")
    Category.objects.create(company=other_company, name="Tulips")

    items = api("category.list", make_token(other_company), verb="GET").json_body["categoryItems"]
    assert [c["categoryName"] for c in items] == ["Tulips"]


def test_category_list_takes_no_parameters_and_ignores_those_sent(api, company_token):
    response = api("category.list", company_token, {"name": "Roses"}, verb="GET")
    assert response.status_code == 200
    assert response["X-Ignored-Parameters"] == "name"


def test_category_list_is_not_for_vendor_tokens(api, company, make_token):
    # The reference lists category.list for Company tokens only.
    response = api("category.list", make_token(company, "vendor"), verb="GET")
    assert response.status_code == 403
    assert response.json_body["status"] == 0


# ---------------------------------------------------------------- boxtype.list


def test_a_fresh_company_has_the_standard_box_types(api, company_token):
    rows = boxtypes(api, company_token)

    # Ordered by code, FBE as JSON numbers.
    assert [(b["code"], b["fbe"]) for b in rows] == [
        ("EB", 0.125),
        ("FB", 1),
        ("HB", 0.5),
        ("QB", 0.25),
    ]
    for row in rows:
        assert set(row) == {"id", "code", "kometNetworkName", "kometNetworkId", "fbe"}
        assert isinstance(row["fbe"], float)
        assert row["kometNetworkName"] == row["code"]
    assert {b["code"]: b["kometNetworkId"] for b in rows} == {"FB": 1, "HB": 2, "QB": 3, "EB": 4}


def test_box_type_filters(api, company, company_token):
    half = BoxType.objects.get(company=company, code="HB")

    assert [b["code"] for b in boxtypes(api, company_token, id=half.pk)] == ["HB"]
    assert [b["code"] for b in boxtypes(api, company_token, code="hb")] == ["HB"]
    assert [b["id"] for b in boxtypes(api, company_token, id=half.pk, code="HB")] == [half.pk]
    assert boxtypes(api, company_token, id=half.pk, code="QB") == []
    assert boxtypes(api, company_token, code="H") == []


@pytest.mark.parametrize(("field", "value"), [("code", "FBXL"), ("id", "half"), ("id", 0)])
def test_bad_box_type_filters_are_refused_naming_the_field(api, company_token, field, value):
    response = api("boxtype.list", company_token, {field: value}, verb="GET")
    assert response.status_code == 422
    assert response.json_body["status"] == 0
    assert response.json_body["errors"][0]["field"] == field


def test_a_vendor_token_can_list_box_types(api, company, make_token):
    vendor_token = make_token(company, "vendor", grants=["boxtype.list", "product.list"])
    assert [b["code"] for b in boxtypes(api, vendor_token)] == ["EB", "FB", "HB", "QB"]


def test_box_types_are_per_company(api, company, other_company, make_token):
    BoxType.objects.create(company=company, code="JB", name="Jumbo Box", fbe="1.5")
    theirs = BoxType.objects.get(company=company, code="FB")
    other = make_token(other_company)

    assert [b["code"] for b in boxtypes(api, other)] == ["EB", "FB", "HB", "QB"]
    assert boxtypes(api, other, id=theirs.pk) == []
    assert boxtypes(api, other, code="JB") == []
