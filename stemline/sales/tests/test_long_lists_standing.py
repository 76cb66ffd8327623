"""standing.order.list as a long list (issue 17 item 4): pages with a total, every standing
order once in number order, bad paging refused by field, a long answer streamed with the same
rows, the same queries for a page of one or of all, the customer and location filters in the
query, and another company's token seeing none."""

from datetime import timedelta

import pytest

from stemline.api.tests.paging import check_other_company_sees_none, check_paging, ok
from stemline.sales import api_standing
from stemline.tokens.models import ApiToken

from .test_standing_orders import MONDAY, _body

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(stocked, make_token):
    issued = make_token(stocked.company)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


WINDOW = {"dateFrom": str(MONDAY), "dateTo": str(MONDAY + timedelta(days=30))}


def test_standing_order_list_pages_and_streams(api, stocked, token, monkeypatch):
    for n in range(5):
        customer = stocked.market if n % 2 else stocked.florist
        ok(api("v2/standing-order", token, _body(stocked, customerId=customer.pk)))
    docs = check_paging(
        api,
        token,
        "standing.order.list",
        WINDOW,
        "standingOrders",
        count=5,
        module=api_standing,
        monkeypatch=monkeypatch,
    )
    assert [d["number"] for d in docs] == sorted(d["number"] for d in docs)
    first = docs[0]
    assert first["days"] == "Monday, Thursday" and first["items"][0]["price"] == 4.5
    assert first["customerName"] == "Bloom Florist" and first["startDate"] == str(MONDAY)
    dwf = ok(api("standing.order.list", token, {**WINDOW, "customer": "dwf", "page": 1}))
    assert dwf["total"] == 2 and {d["customerName"] for d in dwf["standingOrders"]} == {
        "DWF Wholesale"
    }
    here = {**WINDOW, "locationId": stocked.location.pk, "rows": 10}
    assert ok(api("standing.order.list", token, here))["total"] == 5
    elsewhere = ok(api("standing.order.list", token, {**here, "locationId": 999_999}))
    assert elsewhere["standingOrders"] == [] and elsewhere["total"] == 0
    assert elsewhere["message"] == "Standing orders not found."


def test_another_company_sees_none(api, stocked, token, other_company, make_token):
    ok(api("v2/standing-order", token, _body(stocked)))
    other = make_token(other_company)
    check_other_company_sees_none(api, other, "standing.order.list", WINDOW, "standingOrders")
