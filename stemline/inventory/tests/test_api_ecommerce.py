"""The web shop's reads: ecommerce/inventory.list, .get, available dates and carriers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from stemline.catalog.models import Category, Product
from stemline.core.models import Location
from stemline.inventory import queries
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryChange
from stemline.parties.models import Carrier, Customer, ShipTo
from stemline.sales import services as sales

pytestmark = pytest.mark.django_db

SHOP = "ecommerce/inventory.list"


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


def shop(api, token, customer, **params) -> dict:
    return ok(api(SHOP, token, {"customerId": customer.pk, **params}, verb="GET"))


def ids(body) -> list[int]:
    return [int(r["inventoryIds"]) for r in body["inventoryItems"]]


@pytest.fixture
def florist_token(stocked, make_token):
    return make_token(stocked.company, "customer", customer_id=stocked.florist.pk)


@pytest.fixture
def tulip(stocked):
    bulbs = Category.objects.create(company=stocked.company, name="Bulbs")
    return Product.objects.create(
        company=stocked.company,
        category=bulbs,
        description="Tulip Strong Gold",
        variety="Strong Gold",
        color="Yellow",
        legacy_code="TSG",
    )


def add(stocked, boxes=5, *, product=None, location=None, future_days=0, **kw):
    arrival = stock.today() + timedelta(days=future_days) if future_days else None
    fields = {
        "location": location or stocked.location,
        "product": product or stocked.product,
        "box_type": stocked.box,
        "vendor": stocked.vendor,
        "unit_type": "Bunch",
        "bunches": 12,
        "stems_bunch": 10,
        "unit_cost": Decimal("2.000"),
        "price_a": Decimal("4.000"),
        "price_b": Decimal("3.500"),
        "arrival_date": arrival,
    }
    fields.update(kw)
    return stock.add_line(company=stocked.company, quantity=boxes, **fields)


def test_each_customer_sees_its_own_price_on_hand_and_future(api, stocked, company_token):
    today, later = stocked.add(10), stocked.add(4, future_days=5, price_b="0.400")
    florist = shop(api, company_token, stocked.florist)
    assert florist["total"] == 2
    on_hand, coming = florist["inventoryItems"]
    assert (on_hand["inventoryIds"], on_hand["inventoryOrigin"]) == (str(today.pk), 1)
    assert on_hand["availableDate"] == str(stock.today())
    assert (coming["inventoryIds"], coming["inventoryOrigin"]) == (str(later.pk), 2)
    assert coming["availableDate"] == str(stock.today() + timedelta(days=5))
    assert (on_hand["price"], coming["price"]) == (0.5, 0.5)
    assert (on_hand["quantity"], on_hand["unitsPerBox"], on_hand["stemsBunch"]) == (10, 250, 25)
    assert (on_hand["unitType"], on_hand["bunches"], on_hand["boxTypeCode"]) == ("Stem", 10, "HB")
    assert (on_hand["productDescription"], on_hand["vendor"]) == (
        "Rose Freedom Red 50cm",
        "Rosas del Monte",
    )
    market = shop(api, company_token, stocked.market)
    assert [r["price"] for r in market["inventoryItems"]] == [0.45, 0.4]


def test_price_b_falls_back_to_price_a_with_the_markup(api, stocked, company_token):
    Customer.objects.filter(pk=stocked.market.pk).update(price_b_markup=Decimal("10"))
    add(stocked, price_b=None)
    add(stocked, price_a=None, price_b=None)
    [row] = shop(api, company_token, Customer.objects.get(pk=stocked.market.pk))["inventoryItems"]
    assert row["price"] == 4.4
    # Without a price at its level a customer is not offered the line at all.
    assert shop(api, company_token, stocked.florist)["total"] == 1


def test_only_lines_with_boxes_left_are_offered(api, stocked, company_token):
    gone, held, free = stocked.add(2), stocked.add(3), stocked.add(4)
    stock.delete_boxes(company=stocked.company, line_id=gone.pk)
    sales.add_items(
        company=stocked.company,
        customer_id=stocked.market.pk,
        origin=1,
        requests=[sales.ItemRequest(held.pk, 3), sales.ItemRequest(free.pk, 1)],
    )
    body = shop(api, company_token, stocked.florist)
    assert ids(body) == [free.pk]
    assert body["inventoryItems"][0]["quantity"] == 3


def test_pages_of_rows_with_the_total(api, stocked, company_token):
    lines = [stocked.add(1) for _ in range(7)]
    first = shop(api, company_token, stocked.florist, rows=3)
    assert (first["total"], first["page"], first["rows"]) == (7, 1, 3)
    assert ids(first) == [line.pk for line in lines[:3]]
    third = shop(api, company_token, stocked.florist, rows=3, page=3)
    assert ids(third) == [lines[6].pk]
    assert ids(shop(api, company_token, stocked.florist, rows=3, page=4)) == []
    assert len(shop(api, company_token, stocked.florist)["inventoryItems"]) == 7


def test_default_page_is_30_rows(api, stocked, company_token):
    for _ in range(31):
        stocked.add(1)
    body = shop(api, company_token, stocked.florist)
    assert (body["total"], len(body["inventoryItems"]), body["rows"]) == (31, 30, 30)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"rows": 501}, "rows"),
        ({"rows": 0}, "rows"),
        ({"page": 0}, "page"),
        ({"availableDate": "1999-12-31"}, "availableDate"),
        ({"categoryId": "roses"}, "categoryId"),
    ],
)
def test_shop_refusals_name_the_field(api, stocked, company_token, params, field):
    response = api(SHOP, company_token, {"customerId": stocked.florist.pk, **params}, verb="GET")
    refused(response, 422, field)


def test_filters(api, stocked, company_token, tulip):
    rose, gold = stocked.add(2), add(stocked, product=tulip)
    assert ids(shop(api, company_token, stocked.florist, searchText="strong")) == [gold.pk]
    assert ids(shop(api, company_token, stocked.florist, searchText="rose FREE")) == [rose.pk]
    assert ids(shop(api, company_token, stocked.florist, categoryId=tulip.category_id)) == [gold.pk]
    assert ids(shop(api, company_token, stocked.florist, color="red")) == [rose.pk]
    assert ids(shop(api, company_token, stocked.florist, color="re")) == []
    assert shop(api, company_token, stocked.florist, searchText="lily")["total"] == 0


def test_available_date_splits_on_hand_and_future(api, stocked, company_token):
    today = stock.today()
    on_hand = stocked.add(2)
    soon, far = stocked.add(2, future_days=3), stocked.add(2, future_days=30)
    assert ids(shop(api, company_token, stocked.florist, availableDate=str(today))) == [on_hand.pk]
    day3 = str(today + timedelta(days=3))
    assert ids(shop(api, company_token, stocked.florist, availableDate=day3)) == [
        on_hand.pk,
        soon.pk,
    ]
    day30 = str(today + timedelta(days=30))
    assert ids(shop(api, company_token, stocked.florist, availableDate=day30)) == [far.pk]
    day16 = str(today + timedelta(days=queries.HORIZON_DAYS + 3))
    assert ids(shop(api, company_token, stocked.florist, availableDate=day16)) == []
    yesterday = str(today - timedelta(days=1))
    assert ids(shop(api, company_token, stocked.florist, availableDate=yesterday)) == []
    # With no date the shop spans two months ahead.
    stocked.add(2, future_days=queries.SEARCH_DAYS + 1)
    assert ids(shop(api, company_token, stocked.florist)) == [on_hand.pk, soon.pk, far.pk]


def test_company_location_filter(api, stocked, company_token):
    miami = Location.objects.create(company=stocked.company, name="Miami 2", code="MIA2")
    here, there = stocked.add(2), add(stocked, location=miami)
    assert ids(shop(api, company_token, stocked.florist, companyLocationId=miami.pk)) == [there.pk]
    assert ids(shop(api, company_token, stocked.florist)) == [here.pk, there.pk]
    response = api(
        SHOP,
        company_token,
        {"customerId": stocked.florist.pk, "companyLocationId": 999999},
        verb="GET",
    )
    refused(response, 404, "companyLocationId")


def test_multi_location_company_must_name_the_location(api, stocked, company_token):
    stocked.company.multi_location = True
    stocked.company.save()
    line = stocked.add(2)
    response = api(SHOP, company_token, {"customerId": stocked.florist.pk}, verb="GET")
    refused(response, 422, "companyLocationId")
    body = shop(api, company_token, stocked.florist, companyLocationId=stocked.location.pk)
    assert ids(body) == [line.pk]


def test_reserved_inventory_needs_transactional_access(api, stocked, make_token):
    free = stocked.add(2)
    mine = stocked.add(3, reserved_for=stocked.florist)
    stocked.add(4, reserved_for=stocked.market)
    plain = make_token(stocked.company, "customer", customer_id=stocked.florist.pk)
    assert ids(shop(api, plain, stocked.florist)) == [free.pk]
    refused(
        api(SHOP, plain, {"customerId": stocked.florist.pk, "reservedInventory": 1}, verb="GET"),
        403,
        "reservedInventory",
    )
    company = make_token(stocked.company, transactional=True)
    assert ids(shop(api, company, stocked.florist, reservedInventory="true")) == [mine.pk]
    assert ids(shop(api, company, stocked.florist, reservedInventory="false")) == [free.pk]


def test_customer_token_sees_only_its_own_customer(api, stocked, florist_token):
    stocked.add(2)
    assert shop(api, florist_token, stocked.florist)["total"] == 1
    refused(
        api(SHOP, florist_token, {"customerId": stocked.market.pk}, verb="GET"), 404, "customerId"
    )
    refused(api(SHOP, florist_token, {}, verb="GET"), 422, "customerId")


def test_shop_needs_x_account(api, stocked, florist_token, other_company):
    refused(
        api(SHOP, florist_token.secret, {"customerId": stocked.florist.pk}, verb="GET"),
        400,
        "X-ACCOUNT",
    )
    response = api(
        SHOP,
        florist_token,
        {"customerId": stocked.florist.pk},
        verb="GET",
        account=other_company.account_id,
    )
    refused(response, 403, "X-ACCOUNT")


def test_another_companys_customer_is_not_found(api, stocked, other_company, make_token):
    stocked.add(2)
    theirs = make_token(other_company)
    refused(api(SHOP, theirs, {"customerId": stocked.florist.pk}, verb="GET"), 404, "customerId")


def test_inactive_customer_is_not_found(api, stocked, company_token):
    Customer.objects.filter(pk=stocked.florist.pk).update(active=False)
    refused(
        api(SHOP, company_token, {"customerId": stocked.florist.pk}, verb="GET"), 404, "customerId"
    )


def _count_queries(api, token, customer) -> int:
    """Queries of the method itself (the gateway's token bookkeeping varies by request), the
    feed numbered first as a writer's commit numbers it (a test's commits never come)."""
    stock.number_feed(customer.company_id)
    with CaptureQueriesContext(connection) as captured:
        body = shop(api, token, customer)
    assert body["inventoryItems"]
    return sum("tokens_apitoken" not in q["sql"] for q in captured.captured_queries)


def test_a_page_costs_the_same_few_queries_however_many_lines(api, stocked, company_token, tulip):
    for _ in range(3):
        stocked.add(1)
    few = _count_queries(api, company_token, stocked.market)
    for n in range(60):
        add(stocked, product=tulip if n % 2 else stocked.product)
    many = _count_queries(api, company_token, stocked.market)
    # The customer, the feed's check, the count, the page's IDs and its lines.
    assert many == few == 5
    # Nothing changed since: the count is not taken again.
    assert _count_queries(api, company_token, stocked.market) == 4


def _counted(api, token, customer, **params) -> tuple[int, bool]:
    """The list's total, and whether the call counted the lines for it."""
    with CaptureQueriesContext(connection) as captured:
        body = shop(api, token, customer, **params)
    return body["total"], any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


def _hold(stocked, line, boxes):
    return sales.add_items(
        company=stocked.company,
        customer_id=stocked.market.pk,
        origin=1,
        requests=[sales.ItemRequest(line.pk, boxes)],
    )


def test_the_total_is_counted_again_only_when_a_line_may_have_come_or_gone(
    api, stocked, company_token
):
    big, small = stocked.add(10), stocked.add(2)
    assert _counted(api, company_token, stocked.florist) == (2, True)
    assert _counted(api, company_token, stocked.florist) == (2, False)
    # Boxes held and sold, with boxes left: no line came or went, nothing is counted.
    added = _hold(stocked, big, 3)
    sales.checkout(
        company=stocked.company, customer_id=stocked.market.pk, web_order_id=added.web_order.pk
    )
    assert _counted(api, company_token, stocked.florist) == (2, False)
    # The last boxes of a line held: it is gone from the shop.
    held = _hold(stocked, small, 2)
    assert _counted(api, company_token, stocked.florist) == (1, True)
    assert _counted(api, company_token, stocked.florist) == (1, False)
    # Given back: there again.
    sales.cancel(
        company=stocked.company, customer_id=stocked.market.pk, web_order_id=held.web_order.pk
    )
    assert _counted(api, company_token, stocked.florist) == (2, True)
    # A new line, a line's price taken away, a line deleted: each counted again.
    third = stocked.add(4)
    assert _counted(api, company_token, stocked.florist) == (3, True)
    stock.delete_boxes(company=stocked.company, line_id=third.pk)
    assert _counted(api, company_token, stocked.florist) == (2, True)
    # Each customer's list is its own: the other one is counted for itself.
    assert _counted(api, company_token, stocked.market) == (2, True)


@override_settings(FEED_NUMBER_SECONDS=3600)
def test_a_change_not_yet_numbered_is_not_missed(api, stocked, company_token):
    # Writers number the feed at most once an hour here: what they write waits unnumbered
    # (for a reader or the worker's tick), and the shop's total must see it all the same.
    lines = [stocked.add(1) for _ in range(3)]
    assert _counted(api, company_token, stocked.florist) == (3, True)
    _hold(stocked, lines[0], 1)
    assert InventoryChange.objects.filter(seq__isnull=True).exists()
    assert _counted(api, company_token, stocked.florist) == (2, True)
    _hold(stocked, lines[1], 1)
    assert _counted(api, company_token, stocked.florist) == (1, True)


def test_pages_by_number_from_either_end_give_the_list_in_order(api, stocked, company_token, tulip):
    lines = [stocked.add(1) for _ in range(5)] + [add(stocked, product=tulip) for _ in range(4)]
    whole = ids(shop(api, company_token, stocked.florist, rows=500))
    assert sorted(whole) == sorted(line.pk for line in lines)
    pages = [shop(api, company_token, stocked.florist, rows=2, page=n) for n in range(1, 6)]
    # Pages 3-5 are in the list's second half, read from its end backwards.
    assert [i for body in pages for i in ids(body)] == whole
    assert [len(ids(body)) for body in pages] == [2, 2, 2, 2, 1]
    assert [body["nextCursor"] is None for body in pages] == [False] * 4 + [True]
    assert ids(shop(api, company_token, stocked.florist, rows=2, page=6)) == []
    after_fourth = shop(api, company_token, stocked.florist, rows=2, cursor=pages[3]["nextCursor"])
    assert ids(after_fourth) == whole[8:]


# ---------------------------------------------------------------- ecommerce/inventory.get


def get(api, token, customer, line_ids, origin=1, **params):
    data = {
        "customerId": customer.pk,
        "inventoryLineIds": ",".join(str(i) for i in line_ids),
        "inventoryOrigin": origin,
        "date": str(stock.today()),
        **params,
    }
    return api("ecommerce/inventory.get", token, data, verb="GET")


def test_get_lines_for_a_date(api, stocked, florist_token):
    a, b = stocked.add(3), stocked.add(5)
    body = ok(get(api, florist_token, stocked.florist, [b.pk, a.pk]))
    rows = body["inventoryItems"]
    assert [int(r["inventoryIds"]) for r in rows] == [b.pk, a.pk]
    assert [(r["quantity"], r["availableOnDate"], r["price"]) for r in rows] == [
        (5, 1, 0.5),
        (3, 1, 0.5),
    ]
    beyond = str(stock.today() + timedelta(days=queries.HORIZON_DAYS))
    [row] = ok(get(api, florist_token, stocked.florist, [a.pk], date=beyond))["inventoryItems"]
    assert (row["quantity"], row["availableOnDate"]) == (0, 0)


def test_get_future_line_and_origin_mismatch(api, stocked, company_token):
    later = stocked.add(3, future_days=4)
    arrival = str(stock.today() + timedelta(days=4))
    [row] = ok(get(api, company_token, stocked.market, [later.pk], origin=2, date=arrival))[
        "inventoryItems"
    ]
    assert (row["price"], row["availableOnDate"], row["inventoryOrigin"]) == (0.45, 1, 2)
    refused(get(api, company_token, stocked.market, [later.pk], origin=1), 422, "inventoryOrigin")
    refused(get(api, company_token, stocked.market, [later.pk], origin=3), 422, "inventoryOrigin")
    refused(get(api, company_token, stocked.market, [later.pk], origin=5), 422, "inventoryOrigin")


def test_get_refuses_lines_the_customer_cannot_see(
    api, stocked, florist_token, other_company, make_token
):
    theirs = stocked.add(3, reserved_for=stocked.market)
    mine = stocked.add(3, reserved_for=stocked.florist)
    assert ok(get(api, florist_token, stocked.florist, [mine.pk]))["inventoryItems"]
    refused(get(api, florist_token, stocked.florist, [theirs.pk]), 404, "inventoryLineIds")
    refused(get(api, florist_token, stocked.florist, [999999]), 404, "inventoryLineIds")
    refused(get(api, florist_token, stocked.market, [mine.pk]), 404, "customerId")
    refused(get(api, florist_token, stocked.florist, []), 422, "inventoryLineIds")
    refused(get(api, florist_token, stocked.florist, [mine.pk], carrierId=999999), 404, "carrierId")
    other = make_token(other_company)
    refused(get(api, other, stocked.florist, [mine.pk]), 404, "customerId")


# ---------------------------------------------------------------- available dates


def dates(api, token, customer, line_ids, origin=1):
    data = {
        "customerId": customer.pk,
        "inventoryLineIds": ",".join(str(i) for i in line_ids),
        "inventoryOrigin": origin,
    }
    return api("ecommerce/inventory-available-dates.list", token, data, verb="GET")


def test_available_dates_from_today_or_arrival_for_the_horizon(api, stocked, florist_token):
    today = stock.today()
    on_hand, coming = stocked.add(2), stocked.add(2, future_days=5)
    body = ok(dates(api, florist_token, stocked.florist, [on_hand.pk]))
    assert body["availableDateFrom"] == str(today)
    assert body["availableDateTo"] == str(today + timedelta(days=queries.HORIZON_DAYS - 1))
    assert len(body["availableDates"]) == queries.HORIZON_DAYS
    body = ok(dates(api, florist_token, stocked.florist, [coming.pk], origin=2))
    assert body["availableDates"][0] == str(today + timedelta(days=5))
    assert len(body["availableDates"]) == queries.HORIZON_DAYS


def test_sold_out_line_has_no_dates(api, stocked, florist_token):
    line = stocked.add(2)
    stock.delete_boxes(company=stocked.company, line_id=line.pk)
    body = ok(dates(api, florist_token, stocked.florist, [line.pk]))
    assert (body["availableDateFrom"], body["availableDates"]) == (None, [])
    refused(dates(api, florist_token, stocked.florist, [line.pk], origin=2), 422, "inventoryOrigin")


# ---------------------------------------------------------------- carriers


def carriers(api, token, customer):
    return api("ecommerce/customer-carriers.list", token, {"customerId": customer.pk}, verb="GET")


def test_carriers_suggest_the_first_ship_to_carrier(api, stocked, florist_token):
    company = stocked.company
    fedex = Carrier.objects.create(company=company, name="FedEx", code="FDX")
    armellini = Carrier.objects.create(company=company, name="Armellini", code="ARM")
    Carrier.objects.create(company=company, name="Inbound Air", code="AIR", direction="inbound")
    Carrier.objects.create(company=company, name="Old Truck", code="OLD", active=False)
    body = ok(carriers(api, florist_token, stocked.florist))
    assert [c["carrierName"] for c in body["carriers"]] == ["Armellini", "FedEx"]
    assert (body["carrierId"], body["carrierName"]) == (armellini.pk, "Armellini")
    ShipTo.objects.create(company=company, customer=stocked.florist, name="Store", carrier=fedex)
    body = ok(carriers(api, florist_token, stocked.florist))
    assert (body["carrierId"], body["carrierName"]) == (fedex.pk, "FedEx")
    refused(carriers(api, florist_token, stocked.market), 404, "customerId")


def test_no_carriers_no_suggestion(api, stocked, company_token):
    body = ok(carriers(api, company_token, stocked.florist))
    assert (body["carrierId"], body["carriers"]) == (None, [])


# ---------------------------------------------------------------- keyset paging (cursor)


def test_cursor_pages_return_every_line_once_in_the_shop_order(api, stocked, company_token, tulip):
    lines = [stocked.add(1) for _ in range(4)] + [add(stocked, product=tulip) for _ in range(3)]
    whole = ids(shop(api, company_token, stocked.florist, rows=500))
    assert sorted(whole) == sorted(line.pk for line in lines)
    first = shop(api, company_token, stocked.florist, rows=3)
    seen, body = ids(first), first
    while body["nextCursor"]:
        body = shop(api, company_token, stocked.florist, rows=3, cursor=body["nextCursor"])
        assert (body["total"], body["page"], body["rows"]) == (7, None, 3)
        seen += ids(body)
    # Rose lines first, then tulips (by description), each line exactly once.
    assert seen == whole and len(ids(body)) == 1
    # The page-number pages say where the next one starts as well; the last says none.
    assert shop(api, company_token, stocked.florist, rows=3, page=3)["nextCursor"] is None
    second = shop(api, company_token, stocked.florist, rows=3, page=2)
    after = shop(api, company_token, stocked.florist, rows=3, cursor=second["nextCursor"])
    assert ids(after) == whole[6:]


def test_a_cursor_skips_nothing_when_a_line_before_it_sells_out(api, stocked, company_token):
    lines = [stocked.add(1) for _ in range(6)]
    first = shop(api, company_token, stocked.florist, rows=3)
    sales.add_items(  # sold meanwhile
        company=stocked.company,
        customer_id=stocked.market.pk,
        origin=1,
        requests=[sales.ItemRequest(lines[0].pk, 1)],
    )
    body = shop(api, company_token, stocked.florist, rows=3, cursor=first["nextCursor"])
    # OFFSET would now skip lines[3]; the keyset carries on after the last line seen. The
    # total is the first page's, carried by the cursor; a new first page counts again.
    assert ids(body) == [line.pk for line in lines[3:]] and body["total"] == 6
    assert shop(api, company_token, stocked.florist, rows=3)["total"] == 5


@pytest.mark.parametrize("cursor", ["nonsense", "W10=", "WyJhIiwgLTFd", "e30"])
def test_a_cursor_the_list_did_not_give_is_refused(api, stocked, company_token, cursor):
    stocked.add(1)
    response = api(
        SHOP, company_token, {"customerId": stocked.florist.pk, "cursor": cursor}, verb="GET"
    )
    body = refused(response, 422, "cursor")
    assert body["message"].startswith("cursor: ")
