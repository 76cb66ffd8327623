"""The change feed (inventory.sync) and confirmInventory events (inventory.confirmations.list)."""

import pytest

from stemline.inventory import queries
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryChange, InventoryLine
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


def sync(api, token, since=None) -> dict:
    return ok(api("inventory.sync", token, {} if since is None else {"since": since}, verb="GET"))


def sell(stocked, line, boxes, customer=None):
    customer = customer or stocked.florist
    added = sales.add_items(
        company=stocked.company,
        customer_id=customer.pk,
        origin=line.origin_on(stock.today()),
        requests=[sales.ItemRequest(line.pk, boxes)],
    )
    return sales.checkout(
        company=stocked.company, customer_id=customer.pk, web_order_id=added.web_order.pk
    )


def add_with_confirm(api, token, stocked, quantity=5, external_id="erp-1") -> int:
    params = {
        "vendorCode": "RDM",
        "awb": "369-12345675",
        "shipDate": str(stock.today()),
        "productId": stocked.product.pk,
        "quantity": quantity,
        "boxTypeCode": "HB",
        "unitType": "stem",
        "stemsBunch": 25,
        "bunches": 10,
        "unitCost": "0.3",
        "priceA": "0.5",
        "confirmInventory": True,
        "externalId": external_id,
    }
    return ok(api("inventory.add", token, params))["inventoryIds"][0]


def test_sync_follows_add_hold_sell_and_delete(api, stocked, company_token):
    line = stocked.add(10)
    first = sync(api, company_token)
    assert [(c["change"], c["inventoryId"], c["available"]) for c in first["changes"]] == [
        ("added", line.pk, 10)
    ]
    assert first["more"] == 0
    since = first["maxSeq"]
    assert sync(api, company_token, since) == {
        "status": 1,
        "message": "OK",
        "maxSeq": since,
        "more": 0,
        "changes": [],
    }
    sell(stocked, line, 3)
    # Each row keeps what the line had left right after its change (the shop's kept totals
    # read it: inventory.totals), written with the hold and the sale that made it.
    assert list(
        InventoryChange.objects.filter(line_id=line.pk)
        .order_by("id")
        .values_list("kind", "available")
    ) == [("added", 10), ("held", 7), ("sold", 7)]
    stock.delete_boxes(company=stocked.company, line_id=line.pk)
    body = sync(api, company_token, since)
    assert [c["change"] for c in body["changes"]] == ["held", "sold", "deleted"]
    assert [c["seq"] for c in body["changes"]] == sorted(c["seq"] for c in body["changes"])
    # Every row carries the line as it is now: nothing left to buy.
    assert {c["available"] for c in body["changes"]} == {0}
    row = body["changes"][-1]
    assert (row["inventoryId"], row["companyProductId"], row["inventoryOrigin"]) == (
        line.pk,
        stocked.product.pk,
        1,
    )
    assert (row["priceA"], row["priceB"], row["unitCost"], row["unitsPerBox"]) == (
        0.5,
        0.45,
        0.3,
        250,
    )
    assert body["maxSeq"] == row["seq"]


def test_sync_of_a_line_gone_from_the_database_says_nothing_is_available(
    api, stocked, company_token
):
    InventoryChange.objects.create(
        company=stocked.company, seq=1, line_id=424242, kind="deleted", available=0
    )
    [row] = sync(api, company_token)["changes"]
    assert (row["inventoryId"], row["change"], row["available"], row["price"]) == (
        424242,
        "deleted",
        0,
        None,
    )


def test_sync_pages_by_a_thousand(api, stocked, company_token, monkeypatch):
    monkeypatch.setattr(queries, "FEED_ROWS", 2)
    for _ in range(3):
        stocked.add(1)
    first = sync(api, company_token)
    assert (len(first["changes"]), first["more"]) == (2, 1)
    rest = sync(api, company_token, first["maxSeq"])
    assert (len(rest["changes"]), rest["more"]) == (1, 0)


def test_customer_token_follows_only_lines_it_can_buy_at_its_own_price(api, stocked, make_token):
    free = stocked.add(4)
    mine = stocked.add(2, reserved_for=stocked.market)
    stocked.add(3, reserved_for=stocked.florist)
    buyer = make_token(stocked.company, "customer", customer_id=stocked.market.pk)
    body = sync(api, buyer)
    assert [c["inventoryId"] for c in body["changes"]] == [free.pk, mine.pk]
    assert {c["price"] for c in body["changes"]} == {0.45}
    assert {c["priceA"] for c in body["changes"]} == {None}
    assert {c["unitCost"] for c in body["changes"]} == {None}
    # The hidden line's change still moves the sequence on.
    assert body["maxSeq"] == InventoryChange.objects.order_by("-seq").first().seq


def test_vendor_token_cannot_sync(api, stocked, make_token):
    grower = make_token(stocked.company, "vendor", vendor_id=stocked.vendor.pk)
    refused(api("inventory.sync", grower, {}, verb="GET"), 403)


@pytest.mark.parametrize("since", [-1, "x", 2**63])
def test_sync_refuses_a_bad_since(api, company_token, since):
    refused(api("inventory.sync", company_token, {"since": since}, verb="GET"), 422, "since")


def test_sync_is_per_company(api, stocked, other_company, make_token):
    stocked.add(4)
    theirs = make_token(other_company)
    assert sync(api, theirs) == {
        "status": 1,
        "message": "OK",
        "maxSeq": 0,
        "more": 0,
        "changes": [],
    }


def confirmations(api, token, since=0) -> dict:
    return ok(api("inventory.confirmations.list", token, {"since": since}, verb="GET"))


def test_confirmations_after_a_sale_and_a_delete(api, stocked, company_token):
    line_id = add_with_confirm(api, company_token, stocked)
    assert confirmations(api, company_token)["confirmations"] == []
    line = InventoryLine.objects.get(pk=line_id)
    sell(stocked, line, 2)
    body = confirmations(api, company_token)
    [sold] = body["confirmations"]
    assert (sold["event"], sold["inventoryId"], sold["externalId"], sold["quantity"]) == (
        "inventory.sold",
        line_id,
        "erp-1",
        2,
    )
    ok(api("inventory.delete", company_token, {"inventoryId": line_id, "quantity": 1}))
    later = confirmations(api, company_token, body["maxSeq"])
    [deleted] = later["confirmations"]
    assert (deleted["event"], deleted["quantity"]) == ("inventory.deleted", 1)
    assert later["maxSeq"] == deleted["seq"] > sold["seq"]


def test_confirmations_go_only_to_the_token_that_shared_the_boxes(api, stocked, make_token):
    sharer, other = make_token(stocked.company), make_token(stocked.company)
    line_id = add_with_confirm(api, sharer, stocked)
    plain = stocked.add(3)
    sell(stocked, InventoryLine.objects.get(pk=line_id), 1)
    sell(stocked, plain, 1)
    assert [c["inventoryId"] for c in confirmations(api, sharer)["confirmations"]] == [line_id]
    assert confirmations(api, other)["confirmations"] == []


def test_a_line_without_confirm_inventory_sends_nothing(api, stocked, company_token):
    line = stocked.add(3)
    sell(stocked, line, 1)
    assert confirmations(api, company_token) == {
        "status": 1,
        "message": "OK",
        "maxSeq": 0,
        "more": 0,
        "confirmations": [],
    }


def test_customer_tokens_have_no_confirmations(api, stocked, make_token):
    buyer = make_token(stocked.company, "customer", customer_id=stocked.florist.pk)
    refused(api("inventory.confirmations.list", buyer, {}, verb="GET"), 403)


def test_a_change_its_writer_left_unnumbered_is_read_and_numbered_by_the_tick(
    stocked, api, company_token, settings
):
    """A busy feed is numbered by its writers at most once per FEED_NUMBER_SECONDS: the
    changes in between wait for the next reader, which numbers them before it reads, or for
    the worker's tick; either way none is missed."""
    from stemline.sales.models import DocumentChange
    from stemline.sales.tasks import number_waiting_feeds

    settings.FEED_NUMBER_SECONDS = 3600
    first = stocked.add(5)  # numbered by its writer (the first this hour)
    second = stocked.add(6)
    sell(stocked, first, 1)  # the invoice feed's first: numbered; its inventory change: not
    waiting = InventoryChange.objects.filter(company=stocked.company, seq__isnull=True)
    assert waiting.count() >= 2  # the second line's and the sale's
    # A reader numbers them before it reads, in the order they were made.
    changes = sync(api, company_token)["changes"]
    assert not waiting.exists()
    assert [c["seq"] for c in changes] == list(range(1, len(changes) + 1))
    assert {first.pk, second.pk} <= {c["inventoryId"] for c in changes}
    # With nobody reading, the worker's tick numbers what the writers left.
    sell(stocked, second, 2)
    sell(stocked, second, 1)
    assert waiting.exists()
    assert DocumentChange.objects.filter(company=stocked.company, seq__isnull=True).exists()
    assert number_waiting_feeds() >= 3
    assert not waiting.exists()
    assert not DocumentChange.objects.filter(company=stocked.company, seq__isnull=True).exists()
    assert number_waiting_feeds() == 0
    seqs = list(
        InventoryChange.objects.filter(company=stocked.company)
        .order_by("id")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
