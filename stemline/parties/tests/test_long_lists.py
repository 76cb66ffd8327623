"""customer.list and vendor.list as long lists (issue 17 item 4): pages with a total, every
party once in name order with ties broken by id, bad paging refused by field, a long answer
streamed with the same rows, the same queries for a page of one or of all, and another
company's token seeing none."""

import pytest
from django.contrib.auth import get_user_model

from stemline.api.tests.paging import check_other_company_sees_none, check_paging, ok
from stemline.parties import api as parties_api
from stemline.parties.models import Customer, Vendor
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db

NAMES = ["beta Farms", "Alpha", "Beta farms", "alpha", "Gamma"]


@pytest.fixture
def token(company, make_token):
    issued = make_token(company)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


def test_customer_list_pages_and_streams(api, company, token, monkeypatch):
    person = get_user_model().objects.create(
        username="rep", first_name="Ana", last_name="Ruiz", company=company
    )
    for n, name in enumerate(NAMES):
        Customer.objects.create(
            company=company,
            name=name,
            code=f"C{n}",
            sales_person=person if n % 2 else None,
            customer_group="Retail" if n % 2 else "",
        )
    Customer.objects.create(company=company, name="Asleep", code="ZZ", active=False)
    docs = check_paging(
        api,
        token,
        "customer.list",
        {},
        "customers",
        count=5,
        module=parties_api,
        monkeypatch=monkeypatch,
    )
    # By name whatever its case, ties by id (the order they were made in).
    assert [c["name"] for c in docs] == ["Alpha", "alpha", "beta Farms", "Beta farms", "Gamma"]
    alpha = docs[0]
    assert alpha["salesPerson"] == "Ana Ruiz" and alpha["salesPersonId"] == person.pk
    assert alpha["customerGroup"] == "Retail" and alpha["active"] == 1
    assert alpha["customerType"] == "Retailer" and alpha["updatedOn"].endswith("Z")
    assert docs[2]["salesPerson"] == "" and docs[2]["salesPersonId"] is None
    body = ok(api("customer.list", token, {"includeInactive": 1, "page": 1}, verb="GET"))
    assert body["total"] == 6


def test_vendor_list_pages_and_streams(api, company, token, monkeypatch):
    for n, name in enumerate(NAMES):
        Vendor.objects.create(company=company, name=name, code=f"V{n}", port_origin="BOG")
    docs = check_paging(
        api,
        token,
        "vendor.list",
        {},
        "vendors",
        count=5,
        module=parties_api,
        monkeypatch=monkeypatch,
    )
    assert [v["name"] for v in docs] == ["Alpha", "alpha", "beta Farms", "Beta farms", "Gamma"]
    assert docs[0]["portOrigin"] == "BOG" and docs[0]["active"] == 1


def test_another_company_sees_none_of_them(api, company, other_company, make_token):
    Customer.objects.create(company=company, name="Mine", code="M")
    Vendor.objects.create(company=company, name="Mine", code="M", port_origin="BOG")
    other = make_token(other_company)
    check_other_company_sees_none(api, other, "customer.list", {"name": "Mine"}, "customers")
    check_other_company_sees_none(api, other, "vendor.list", {"name": "Mine"}, "vendors")
    body = ok(api("vendor.list", other, {"name": "Mine"}, verb="GET"))
    assert body["message"] == "Vendors not found."
