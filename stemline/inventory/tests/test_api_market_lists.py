"""inventory.list, inventory.openmarket.list and future.inventory.openmarket.list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stemline.inventory import services as stock
from stemline.parties.models import Vendor
from stemline.sales import services as sales

pytestmark = pytest.mark.django_db


def ok(response) -> dict:
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1
    return response.json_body


def refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.json_body
    assert response.json_body["status"] == 0
    if field is not None:
        assert field in [e["field"] for e in response.json_body["errors"]], response.json_body
    return response.json_body


def items(api, method, token, params=None) -> list[dict]:
    return ok(api(method, token, params or {}, verb="GET"))["inventoryItems"]


def hold(stocked, line, boxes, customer=None):
    sales.add_items(
        company=stocked.company,
        customer_id=(customer or stocked.florist).pk,
        origin=line.origin_on(stock.today()),
        requests=[sales.ItemRequest(line.pk, boxes)],
    )


def test_inventory_list_counts_unsold_boxes_and_optionally_excludes_held(
    api, stocked, company_token
):
    line = stocked.add(10)
    hold(stocked, line, 4)
    [row] = items(api, "inventory.list", company_token)
    assert (row["inventoryId"], row["orderItemId"]) == (line.pk, line.pk)
    assert (row["quantity"], row["available"], row["held"], row["sold"]) == (10, 6, 4, 0)
    assert row["totalUnits"] == 2500
    assert (row["productDescription"], row["productCode"], row["category"]) == (
        "Rose Freedom Red 50cm",
        "RFR50",
        "Roses",
    )
    assert (row["growerId"], row["growerName"], row["boxTypeCode"]) == (
        stocked.vendor.pk,
        "Rosas del Monte",
        "HB",
    )
    assert (row["unitCost"], row["priceA"], row["priceB"]) == (0.3, 0.5, 0.45)
    assert row["boxCodes"] is None
    [row] = items(api, "inventory.list", company_token, {"excludeHeldItems": 1})
    assert row["quantity"] == 6


def test_inventory_list_leaves_out_sold_out_lines_and_filters(api, stocked, company_token):
    gone, kept = stocked.add(2), stocked.add(3, lot_number="LOT7")
    stock.delete_boxes(company=stocked.company, line_id=gone.pk)
    assert [r["inventoryId"] for r in items(api, "inventory.list", company_token)] == [kept.pk]
    assert items(api, "inventory.list", company_token, {"lotNumber": "lot7"})[0]["quantity"] == 3
    assert items(api, "inventory.list", company_token, {"lotNumber": "LOT8"}) == []
    assert items(api, "inventory.list", company_token, {"locationId": stocked.location.pk})
    assert items(api, "inventory.list", company_token, {"inventoryType": "M,P"})
    assert items(api, "inventory.list", company_token, {"inventoryType": "all"})
    # Stemline keeps no standing-order or prebook stock of its own.
    assert items(api, "inventory.list", company_token, {"inventoryType": "S"}) == []
    refused(
        api("inventory.list", company_token, {"inventoryType": "X"}, verb="GET"),
        422,
        "inventoryType",
    )


def test_inventory_list_with_boxes(api, stocked, company_token):
    line = stocked.add(2, box_codes=["BX-1", "BX-2"])
    [row] = items(api, "inventory.list", company_token, {"includeBoxes": "1"})
    assert (row["inventoryId"], row["boxCodes"]) == (line.pk, ["BX-1", "BX-2"])


def test_vendor_token_sees_only_its_own_lines_and_not_sale_prices(api, stocked, make_token):
    other = Vendor.objects.create(
        company=stocked.company, name="Flores Andinas", code="FA", port_origin="BOG"
    )
    own = stocked.add(5)
    theirs = stock.add_line(
        company=stocked.company,
        quantity=7,
        location=stocked.location,
        product=stocked.product,
        box_type=stocked.box,
        vendor=other,
        unit_type="Stem",
        bunches=10,
        stems_bunch=25,
        unit_cost=Decimal("0.2"),
        price_a=Decimal("0.9"),
    )
    grower = make_token(stocked.company, "vendor", vendor_id=stocked.vendor.pk)
    [row] = items(api, "inventory.list", grower)
    assert row["inventoryId"] == own.pk
    assert (row["unitCost"], row["priceA"], row["priceB"]) == (0.3, None, None)
    other_grower = make_token(stocked.company, "vendor", vendor_id=other.pk)
    assert [r["inventoryId"] for r in items(api, "inventory.list", other_grower)] == [theirs.pk]


def test_vendor_and_customer_tokens_cannot_use_the_open_market_lists(api, stocked, make_token):
    grower = make_token(stocked.company, "vendor", vendor_id=stocked.vendor.pk)
    buyer = make_token(stocked.company, "customer", customer_id=stocked.florist.pk)
    for token in (grower, buyer):
        refused(api("inventory.openmarket.list", token, {}, verb="GET"), 403)
    refused(api("inventory.list", buyer, {}, verb="GET"), 403)


def test_open_market_is_on_hand_unreserved_and_available(api, stocked, company_token):
    free = stocked.add(10)
    stocked.add(5, future_days=3)
    stocked.add(4, reserved_for=stocked.florist)
    sold_out = stocked.add(2)
    hold(stocked, sold_out, 2)
    hold(stocked, free, 3)
    [row] = items(api, "inventory.openmarket.list", company_token)
    assert (row["inventoryId"], row["quantity"], row["totalUnits"]) == (free.pk, 7, 1750)
    assert (row["price"], row["priceB"], row["fobPrice"]) == (0.5, 0.45, None)
    assert (row["inventoryOrigin"], row["availableDate"]) == (1, str(stock.today()))
    assert (row["vendor"], row["portOfOrigin"]) == ("Rosas del Monte", "UIO")


def test_fob_price_is_the_customers_own_price(api, stocked, company_token):
    stocked.add(10, price_a="0.600", price_b="0.550")
    florist = items(
        api, "inventory.openmarket.list", company_token, {"customerId": stocked.florist.pk}
    )
    market = items(
        api, "inventory.openmarket.list", company_token, {"customerId": stocked.market.pk}
    )
    assert (florist[0]["fobPrice"], market[0]["fobPrice"]) == (0.6, 0.55)
    refused(
        api("inventory.openmarket.list", company_token, {"customerId": 999999}, verb="GET"),
        404,
        "customerId",
    )
    refused(
        api("inventory.openmarket.list", company_token, {"locationId": 999999}, verb="GET"),
        404,
        "locationId",
    )


def test_future_open_market_lists_lines_arriving_in_the_window(api, stocked, company_token):
    today = stock.today()
    stocked.add(10)
    soon, later = stocked.add(5, future_days=3), stocked.add(6, future_days=10)
    stocked.add(6, future_days=4, reserved_for=stocked.market)
    window = {"dateFrom": str(today), "dateTo": str(today + timedelta(days=5))}
    [row] = items(api, "future.inventory.openmarket.list", company_token, window)
    assert (row["inventoryId"], row["quantity"], row["inventoryOrigin"]) == (soon.pk, 5, 2)
    assert row["availableDate"] == str(today + timedelta(days=3))
    wide = {"dateFrom": str(today), "dateTo": str(today + timedelta(days=30))}
    wide["customerId"] = stocked.market.pk
    rows = items(api, "future.inventory.openmarket.list", company_token, wide)
    assert [r["inventoryId"] for r in rows] == [soon.pk, later.pk]
    assert {r["fobPrice"] for r in rows} == {0.45}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"dateTo": "2030-01-01"}, "dateFrom"),
        ({"dateFrom": "2030-01-01"}, "dateTo"),
        ({"dateFrom": "2030-01-05", "dateTo": "2030-01-01"}, "dateTo"),
        ({"dateFrom": "yesterday", "dateTo": "2030-01-01"}, "dateFrom"),
    ],
)
def test_future_open_market_needs_a_window(api, stocked, company_token, params, field):
    refused(api("future.inventory.openmarket.list", company_token, params, verb="GET"), 422, field)


def test_lists_show_nothing_of_another_company(api, stocked, other_company, make_token):
    stocked.add(10)
    stocked.add(5, future_days=2)
    theirs = make_token(other_company)
    assert items(api, "inventory.list", theirs) == []
    assert items(api, "inventory.openmarket.list", theirs) == []
    window = {"dateFrom": "2000-01-01", "dateTo": "2099-01-01"}
    assert items(api, "future.inventory.openmarket.list", theirs, window) == []
    refused(
        api(
            "inventory.openmarket.list",
            theirs,
            {"customerId": stocked.florist.pk},
            verb="GET",
        ),
        404,
    )


def _method_queries(api, token, method, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        ok(api(method, token, params, verb="GET"))
    # The gateway's token bookkeeping varies from request to request; the method's does not.
    return sum("tokens_apitoken" not in q["sql"] for q in captured.captured_queries)


def test_every_list_costs_the_same_queries_however_many_lines(api, stocked, company_token):
    today = stock.today()
    window = {"dateFrom": str(today), "dateTo": str(today + timedelta(days=9))}
    calls = [
        ("inventory.list", {"includeBoxes": 1}),
        ("inventory.openmarket.list", {"customerId": stocked.market.pk}),
        ("future.inventory.openmarket.list", {**window, "customerId": stocked.florist.pk}),
        ("inventory.sync", {}),
    ]

    def add(n):
        for i in range(n):
            hold(stocked, stocked.add(3, future_days=i % 3), 1)

    add(2)
    # The first read of a feed makes its counter (once in the company's life).
    _method_queries(api, company_token, "inventory.sync", {})
    add(2)
    few = [_method_queries(api, company_token, m, p) for m, p in calls]
    add(20)
    many = [_method_queries(api, company_token, m, p) for m, p in calls]
    assert many == few
