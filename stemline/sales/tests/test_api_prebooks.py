"""Prebooks through the API: create with lines and breakdowns, useExisting, update, delete,
Vendor-token rules, lines from future inventory holding their boxes, the lists and the feed."""

from datetime import timedelta
from decimal import Decimal

import pytest

from stemline.inventory import services as stock
from stemline.parties.models import Vendor
from stemline.sales.models import Prebook, PrebookItem
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def _fast(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def token(stocked, make_token):
    return _fast(make_token(stocked.company))


def _ok(r):
    assert r.status_code == 200, r.json_body
    return r.json_body


def _day(days=3):
    return str(stock.today() + timedelta(days=days))


def _line(stocked, **extra):
    return {
        "productId": stocked.product.pk,
        "boxTypeCode": "HB",
        "unitType": "Bunch",
        "boxes": 2,
        "bunches": 10,
        "stemsBunch": 25,
        "price": "4.00",
        "vendorId": stocked.vendor.pk,
        **extra,
    }


def _create(api, token, stocked, items, **header):
    body = {"customerId": stocked.florist.pk, "shipDate": _day(), "prebookItems": items, **header}
    return api("prebook.create", token, body)


def test_create_with_lines_and_breakdowns_and_the_fee(api, stocked, token):
    parts = [
        {"productId": stocked.product.pk, "stemsBunch": 25, "bunches": 6, "price": "0.3"},
        {"productId": stocked.product.pk, "stemsBunch": 20, "bunches": 4, "price": "0.4"},
    ]
    body = _ok(
        _create(
            api,
            token,
            stocked,
            [_line(stocked), _line(stocked, boxes=1, bunches=None, breakdowns=parts)],
            customerPO="PO-1",
            comments="Assorted",
        )
    )
    prebook = Prebook.objects.get(pk=body["prebookId"])
    # 2 boxes x 10 bunches x 4.00 + 1 box x (6 + 4) bunches x 4.00 = 80 + 40 = 120
    assert prebook.amount == Decimal("120.00") and prebook.kind == "P"
    assert prebook.transaction_fee == Decimal("1.80") == Decimal(str(body["transactionFee"]))
    assert [i["boxes"] for i in body["prebookItems"]] == [2, 1]
    r = api("prebook.details.list", token, {"date": _day()}, verb="GET")
    [row] = _ok(r)["prebooks"]
    assert (row["number"], row["type"], row["customerPONumber"]) == (prebook.number, "P", "PO-1")
    assert [len(d["breakdowns"]) for d in row["details"]] == [0, 2]
    assert row["details"][1]["bunches"] == 10 and row["details"][1]["breakdowns"][1]["bunches"] == 4


def test_use_existing_appends_to_the_matching_prebook(api, stocked, token):
    first = _ok(_create(api, token, stocked, [_line(stocked)], customerPO="A"))
    again = _ok(_create(api, token, stocked, [_line(stocked)], customerPO="A", useExisting=1))
    other_po = _ok(_create(api, token, stocked, [_line(stocked)], customerPO="B", useExisting=1))
    fresh = _ok(_create(api, token, stocked, [_line(stocked)], customerPO="A"))
    assert again["prebookId"] == first["prebookId"]
    assert len({first["prebookId"], other_po["prebookId"], fresh["prebookId"]}) == 3
    assert PrebookItem.objects.filter(prebook_id=first["prebookId"]).count() == 2


def test_vendor_token_price_and_vendor_ignored_and_own_lines_only(api, stocked, token, make_token):
    vendor = _fast(make_token(stocked.company, "vendor"))
    other = Vendor.objects.create(company=stocked.company, name="Other Farm", port_origin="BOG")
    body = _ok(_create(api, vendor, stocked, [_line(stocked, vendorId=other.pk, price="9")]))
    item = PrebookItem.objects.get(pk=body["prebookItems"][0]["prebookItemId"])
    assert (item.vendor_id, item.price) == (vendor.token.vendor_id, Decimal("0"))

    # Another vendor's line is not found for this vendor.
    theirs = _ok(_create(api, token, stocked, [_line(stocked, vendorId=other.pk)]))
    r = api(
        "prebook.item.delete",
        vendor,
        {
            "prebookId": theirs["prebookId"],
            "prebookItemId": theirs["prebookItems"][0]["prebookItemId"],
        },
    )
    assert r.status_code == 404
    # Its own line is kept with quantity 0.
    r = api(
        "prebook.item.delete", vendor, {"prebookId": body["prebookId"], "prebookItemId": item.pk}
    )
    assert _ok(r)["kept"] == 1
    item.refresh_from_db()
    assert item.boxes == 0
    # A Company token deletes the line.
    r = api(
        "prebook.item.delete",
        token,
        {
            "prebookId": theirs["prebookId"],
            "prebookItemId": theirs["prebookItems"][0]["prebookItemId"],
        },
    )
    assert _ok(r)["kept"] == 0
    assert not PrebookItem.objects.filter(prebook_id=theirs["prebookId"]).exists()
    # A Vendor token may not list or delete whole prebooks.
    assert api("prebook.delete", vendor, {"prebookId": body["prebookId"]}).status_code == 403


def test_future_item_holds_the_boxes_and_delete_gives_them_back(api, stocked, token):
    future = stocked.add(6, future_days=4)
    on_hand = stocked.add(6)
    body = _ok(_create(api, token, stocked, []))
    add = {"prebookId": body["prebookId"], "inventoryId": future.pk, "boxes": 4, "price": "0.5"}
    added = _ok(api("prebook.future.item.add", token, add))
    future.refresh_from_db()
    assert future.available == 2
    # 4 x 250 x 0.50 = 500; fee 7.50
    assert Decimal(str(added["transactionFee"])) == Decimal("7.50")
    r = api("prebook.future.item.add", token, {**add, "boxes": 3})
    assert r.status_code == 409 and r.json_body["shortages"][0]["available"] == 2
    r = api("prebook.future.item.add", token, {**add, "inventoryId": on_hand.pk, "boxes": 1})
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "inventoryId"
    on_hand.refresh_from_db()
    assert on_hand.available == 6

    r = api("prebook.delete", token, {"prebookId": body["prebookId"]})
    assert _ok(r)["message"] == "The prebook was successfully deleted "
    future.refresh_from_db()
    assert future.available == 6
    r = api("prebook.list", token, {"dateFrom": _day(0), "dateTo": _day(10)}, verb="GET")
    assert _ok(r)["prebooks"] == []
    assert api("prebook.delete", token, {"prebookId": body["prebookId"]}).status_code == 404


def test_update_header_and_lines(api, stocked, token):
    body = _ok(_create(api, token, stocked, [_line(stocked)]))
    item_id = body["prebookItems"][0]["prebookItemId"]
    r = api(
        "prebook.update",
        token,
        {
            "prebookId": body["prebookId"],
            "shipDate": _day(5),
            "comments": "Moved",
            "prebookItems": [_line(stocked, prebookItemId=item_id, boxes=5), _line(stocked)],
        },
    )
    answer = _ok(r)
    assert [i["boxes"] for i in answer["prebookItems"]] == [5, 2]
    prebook = Prebook.objects.get(pk=body["prebookId"])
    assert (str(prebook.ship_date), prebook.comments, prebook.items.count()) == (
        _day(5),
        "Moved",
        2,
    )
    assert prebook.amount == Decimal("280.00")  # (5 + 2) boxes x 10 bunches x 4.00


def test_lists_windows_and_filters(api, stocked, token, make_token):
    body = _ok(_create(api, token, stocked, [_line(stocked)]))
    window = {"dateFrom": _day(0), "dateTo": _day(7)}
    assert [p["id"] for p in _ok(api("prebook.list", token, window, verb="GET"))["prebooks"]] == [
        body["prebookId"]
    ]
    r = api("prebook.list", token, {"dateFrom": _day(0), "dateTo": _day(300)}, verb="GET")
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "dateTo"
    r = api("prebook.list", token, {**window, "customer": "nobody"}, verb="GET")
    assert _ok(r)["prebooks"] == []
    r = api("prebook.details.list", token, {}, verb="GET")
    assert r.status_code == 422
    other = _fast(make_token(stocked.company, "customer", customer_id=stocked.market.pk))
    assert _ok(api("prebook.list", other, window, verb="GET"))["prebooks"] == []


def test_prebook_sync_includes_deletions(api, stocked, token):
    body = _ok(_create(api, token, stocked, [_line(stocked)]))
    _ok(api("prebook.delete", token, {"prebookId": body["prebookId"]}))
    feed = _ok(api("prebook.sync", token, {"since": 0}, verb="GET"))
    assert [c["change"] for c in feed["changes"]] == ["created", "deleted"]
