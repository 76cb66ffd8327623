"""prebook.list and prebook.details.list as long lists (issue 17 item 4): pages with a total,
every prebook once in a stable order (ties on the truck date and number broken by id), bad
paging refused by field, a long answer streamed with the same rows, the same queries for a
page of one prebook or of all, and another company's token seeing none."""

from datetime import timedelta

import pytest

from stemline.api.tests.paging import check_other_company_sees_none, check_paging, ok
from stemline.core.services import create_company
from stemline.inventory import services as stock
from stemline.sales import api_prebooks
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(stocked, make_token):
    issued = make_token(stocked.company)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


def _prebooks(api, token, stocked, count: int) -> list[int]:
    made = []
    for n in range(count):
        line = {
            "productId": stocked.product.pk,
            "boxTypeCode": "HB",
            "unitType": "Bunch",
            "boxes": 1 + n % 3,
            "bunches": 10,
            "stemsBunch": 25,
            "price": "4.00",
            "vendorId": stocked.vendor.pk,
        }
        parts = [{"productId": stocked.product.pk, "stemsBunch": 20, "bunches": 4, "price": "0.4"}]
        body = {
            # Two truck dates, so the list's order is not the order they were made in.
            "shipDate": str(stock.today() + timedelta(days=3 + (n + 1) % 2)),
            "customerId": (stocked.florist if n % 2 else stocked.market).pk,
            "prebookItems": [line, {**line, "bunches": None, "breakdowns": parts}],
        }
        made.append(ok(api("prebook.create", token, body))["prebookId"])
    return made


def _window() -> dict:
    return {"dateFrom": str(stock.today()), "dateTo": str(stock.today() + timedelta(days=10))}


@pytest.mark.parametrize("method", ["prebook.list", "prebook.details.list"])
def test_prebook_lists_page_and_stream(api, stocked, token, monkeypatch, method):
    made = _prebooks(api, token, stocked, 5)
    docs = check_paging(
        api,
        token,
        method,
        _window(),
        "prebooks",
        count=5,
        module=api_prebooks,
        monkeypatch=monkeypatch,
    )
    assert sorted(d["id"] for d in docs) == sorted(made)
    keys = [(d["truckDate"], d["number"], d["id"]) for d in docs]
    assert keys == sorted(keys)
    first = next(d for d in docs if d["id"] == made[0])
    assert first["totalBoxes"] == 2 and first["customerName"] == "DWF Wholesale"
    if method == "prebook.details.list":
        assert [len(d["breakdowns"]) for d in first["details"]] == [0, 1]
        assert first["details"][0]["totalPrice"] == 40.0


def test_prebook_lists_of_another_company_are_empty(api, stocked, token, make_token):
    _prebooks(api, token, stocked, 1)
    other = make_token(create_company(name="Other Wholesale Co"))
    for method in ("prebook.list", "prebook.details.list"):
        check_other_company_sees_none(api, other, method, _window(), "prebooks")
        body = ok(api(method, other, _window(), verb="GET"))
        assert body["message"] == "Prebooks not found."
