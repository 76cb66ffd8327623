"""purchase.order.create / list / confirm / item.delete / sync / mixed.create, and confirmed
open-market lines as future inventory."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.purchasing.models import PurchaseOrder, PurchaseOrderItem
from stemline.sales.models import PrebookItem

from .conftest import check_invariants, make_prebook, ok, refused, standalone

pytestmark = pytest.mark.django_db


def create(api, g, items, token=None, **extra):
    body = {"shipDate": str(g.ship), "purchaseOrderItems": items, **extra}
    if token is None or token is g.token:
        body.setdefault("vendorId", g.vendor.pk)
    return api("purchase.order.create", token or g.token, body)


def po_list(api, token, **params):
    return ok(api("purchase.order.list", token, params, verb="GET"))["purchaseOrders"]


def future_ids(api, g):
    params = {"dateFrom": str(stock.today()), "dateTo": str(stock.today() + timedelta(days=30))}
    rows = ok(api("future.inventory.openmarket.list", g.token, params, verb="GET"))
    return {r["inventoryId"]: r["quantity"] for r in rows["inventoryItems"]}


def test_standalone_po_is_future_inventory_only_once_the_farm_confirms(api, grower):
    g = grower
    body = ok(create(api, g, [standalone(g, 10, priceA="0.55")], carrierCode="AVC"))
    assert body["purchaseOrderStatus"] == "Approved"
    assert body["purchaseOrderNumber"].startswith("P")
    [item] = body["purchaseOrderItems"]
    assert (item["totalBoxes"], item["status"]) == (10, "Pending")
    # The id of the PO line is the id of the inventory line behind it.
    line = InventoryLine.objects.get(pk=item["poItemId"])
    assert (line.total, line.arrival_date, line.vendor_id) == (
        0,
        g.ship + timedelta(days=1),
        g.vendor.pk,
    )
    assert item["poItemId"] not in future_ids(api, g)
    check_invariants(g.company)

    confirmed = ok(
        api(
            "purchase.order.confirm",
            g.vendor_token,
            {"purchaseOrderNumber": body["purchaseOrderNumber"]},
        )
    )
    assert confirmed["purchaseOrderStatus"] == "Confirmed by Farm"
    assert confirmed["purchaseOrderItems"][0]["status"] == "Confirmed"
    assert future_ids(api, g) == {item["poItemId"]: 10}
    check_invariants(g.company)


def test_the_farm_may_confirm_fewer_boxes_or_cancel_a_line(api, grower):
    g = grower
    body = ok(create(api, g, [standalone(g, 10), standalone(g, 4)]))
    a, b = (i["poItemId"] for i in body["purchaseOrderItems"])
    answer = ok(
        api(
            "purchase.order.confirm",
            g.vendor_token,
            {
                "purchaseOrderId": body["purchaseOrderId"],
                "poItems": [{"poItemId": a, "boxes": 6}, {"poItemId": b, "boxes": 0}],
            },
        )
    )
    statuses = {i["poItemId"]: (i["status"], i["totalBoxes"]) for i in answer["purchaseOrderItems"]}
    assert statuses == {a: ("Partially Confirmed", 6), b: ("Cancelled", 0)}
    assert future_ids(api, g) == {a: 6}
    [po] = po_list(
        api, g.token, number=body["purchaseOrderNumber"], statusLine="Partially Confirmed"
    )
    assert [d["poItemId"] for d in po["details"]] == [a]
    check_invariants(g.company)
    again = ok(create(api, g, [standalone(g, 10)]))
    over = {
        "purchaseOrderId": again["purchaseOrderId"],
        "poItems": [{"poItemId": again["purchaseOrderItems"][0]["poItemId"], "boxes": 11}],
    }
    refused(api("purchase.order.confirm", g.vendor_token, over), 422, "poItems.boxes")


def test_customers_buy_confirmed_po_lines_ahead_by_po_item_id(api, grower, make_token):
    g = grower
    body = ok(create(api, g, [standalone(g, 8, priceA="0.55", priceB="0.50")]))
    item_id = body["purchaseOrderItems"][0]["poItemId"]
    ok(api("purchase.order.confirm", g.token, {"purchaseOrderId": body["purchaseOrderId"]}))
    buyer = make_token(g.company, "customer", customer_id=g.florist.pk)
    added = ok(
        api(
            "web-order-item.add",
            buyer,
            {"inventoryIds": [item_id], "inventoryOrigin": 2, "quantity": 3},
        )
    )
    out = ok(api("web-order.checkout", buyer, {"webOrderId": added["webOrderId"]}))
    assert out["prebookId"] and not out["invoiceId"]
    assert PrebookItem.objects.get(prebook_id=out["prebookId"]).line_id == item_id
    assert future_ids(api, g) == {item_id: 5}
    check_invariants(g.company)
    # Boxes sold ahead keep the line: it cannot be deleted any more.
    refused(
        api("purchase.order.item.delete", g.vendor_token, {"poItemId": item_id}), 409, "poItemId"
    )


def test_po_from_a_prebook_line_commits_its_boxes_to_the_prebook(api, grower):
    g = grower
    need = make_prebook(g, boxes=5)
    body = ok(create(api, g, [{"prebookItemId": need.pk, "unitCost": "0.28"}]))
    [item] = body["purchaseOrderItems"]
    need.refresh_from_db()
    line = InventoryLine.objects.get(pk=item["poItemId"])
    assert need.line_id == line.pk
    assert (line.total, line.committed, line.unit_cost) == (5, 5, line.unit_cost)
    assert str(line.unit_cost) == "0.280"
    check_invariants(g.company)
    [po] = po_list(api, g.token, number=body["purchaseOrderNumber"])
    [detail] = po["details"]
    assert (
        detail["prebookItemId"],
        detail["prebook"],
        detail["customerId"],
        detail["orderType"],
    ) == (
        need.pk,
        need.prebook.number,
        g.florist.pk,
        "P",
    )
    # A prebook line is filled once.
    refused(
        create(api, g, [{"prebookItemId": need.pk}]), 409, "purchaseOrderItems[0].prebookItemId"
    )
    # Deleting the PO line gives the prebook line back to purchase needs.
    ok(api("purchase.order.item.delete", g.token, {"poItemId": item["poItemId"]}))
    need.refresh_from_db()
    line.refresh_from_db()
    assert need.line_id is None and (line.total, line.committed) == (0, 0)
    assert PurchaseOrder.objects.get(pk=body["purchaseOrderId"]).status == "Cancelled"
    check_invariants(g.company)


def test_filling_part_of_a_prebook_line_leaves_the_rest_a_purchase_need(api, grower):
    g = grower
    need = make_prebook(g, boxes=5)
    body = ok(create(api, g, [{"prebookItemId": need.pk, "boxes": 2}]))
    rest = PrebookItem.objects.exclude(pk=need.pk).get(prebook=need.prebook)
    need.refresh_from_db()
    assert (need.boxes, need.line_id) == (2, body["purchaseOrderItems"][0]["poItemId"])
    assert (rest.boxes, rest.line_id) == (3, None)
    check_invariants(g.company)


def test_appending_to_a_po_by_number(api, grower):
    g = grower
    first = ok(create(api, g, [standalone(g, 2)]))
    more = ok(create(api, g, [standalone(g, 3)], purchaseOrderNumber=first["purchaseOrderNumber"]))
    assert more["purchaseOrderId"] == first["purchaseOrderId"]
    assert PurchaseOrderItem.objects.filter(purchase_order_id=first["purchaseOrderId"]).count() == 2
    refused(
        create(api, g, [standalone(g, 1)], purchaseOrderNumber="P999999"),
        404,
        "purchaseOrderNumber",
    )


def test_create_refuses_bad_input_by_field(api, grower):
    g = grower
    refused(create(api, g, [standalone(g)], carrierCode="TRK"), 422, "carrierCode")
    refused(create(api, g, [standalone(g, unitCost=None)]), 422, "purchaseOrderItems[0].unitCost")
    refused(
        create(api, g, [standalone(g, productCode="NOPE")]),
        404,
        "purchaseOrderItems[0].productCode",
    )
    refused(create(api, g, [standalone(g, 0)]), 422, "purchaseOrderItems[0].boxes")
    refused(create(api, g, []), 422, "purchaseOrderItems")
    past = {
        "shipDate": str(stock.today() - timedelta(days=3)),
        "vendorId": g.vendor.pk,
        "purchaseOrderItems": [standalone(g)],
    }
    refused(api("purchase.order.create", g.token, past), 422, "shipDate")
    refused(
        api(
            "purchase.order.create",
            g.token,
            {"shipDate": str(g.ship), "purchaseOrderItems": [standalone(g)]},
        ),
        422,
        "vendorId",
    )
    assert not PurchaseOrder.objects.exists()


def test_vendor_token_makes_its_own_pos_and_sees_only_those(api, grower):
    g = grower
    # vendorId is ignored for a Vendor token: the PO is the token's vendor's.
    mine = ok(create(api, g, [standalone(g, 2)], token=g.vendor_token, vendorId=g.rival.pk))
    assert mine["purchaseOrderStatus"] == "Pending Approval"
    theirs = ok(create(api, g, [standalone(g, 2)], token=g.rival_token))
    window = {"date": str(g.ship)}
    assert [p["id"] for p in po_list(api, g.vendor_token, **window)] == [mine["purchaseOrderId"]]
    assert [p["id"] for p in po_list(api, g.vendor_token, vendorId=g.rival.pk, **window)] == [
        mine["purchaseOrderId"]
    ]
    assert {p["id"] for p in po_list(api, g.token, **window)} == {
        mine["purchaseOrderId"],
        theirs["purchaseOrderId"],
    }
    their_item = theirs["purchaseOrderItems"][0]["poItemId"]
    refused(
        api("purchase.order.item.delete", g.vendor_token, {"poItemId": their_item}), 404, "poItemId"
    )
    refused(
        api(
            "purchase.order.confirm", g.vendor_token, {"purchaseOrderId": theirs["purchaseOrderId"]}
        ),
        404,
    )
    # A prebook line given to another grower is not this grower's to fill.
    need = make_prebook(g)
    PrebookItem.objects.filter(pk=need.pk).update(vendor=g.rival)
    refused(create(api, g, [{"prebookItemId": need.pk}], token=g.vendor_token), 403)


def test_list_filters_windows_and_constant_queries(api, grower):
    g = grower
    need = make_prebook(g, boxes=2)
    ok(create(api, g, [{"prebookItemId": need.pk}]))
    for _ in range(3):
        ok(create(api, g, [standalone(g, 2), standalone(g, 1)]))
    window = {
        "dateFrom": str(g.ship - timedelta(days=1)),
        "dateTo": str(g.ship + timedelta(days=5)),
    }
    assert len(po_list(api, g.token, **window)) == 4
    assert len(po_list(api, g.token, customerId=g.florist.pk, **window)) == 1
    assert len(po_list(api, g.token, prebook=need.prebook.number, **window)) == 1
    assert len(po_list(api, g.token, product="freedom", **window)) == 4
    assert len(po_list(api, g.token, vendor="rosas", **window)) == 4
    assert len(po_list(api, g.token, origin="UIO", **window)) == 4
    assert po_list(api, g.token, status="Cancelled", **window) == []
    arrival = {"futureInventoryAvailableFrom": str(g.ship + timedelta(days=1))}
    assert len(po_list(api, g.token, **arrival)) == 4
    refused(api("purchase.order.list", g.token, {}, verb="GET"), 422, "date")
    refused(
        api(
            "purchase.order.list",
            g.token,
            {"dateFrom": "2030-01-01", "dateTo": "2030-12-31"},
            verb="GET",
        ),
        422,
        "dateTo",
    )
    refused(
        api("purchase.order.list", g.token, {"status": "Lost", **window}, verb="GET"), 422, "status"
    )
    with CaptureQueriesContext(connection) as few:
        po_list(api, g.token, **window)
    for _ in range(6):
        ok(create(api, g, [standalone(g, 2), standalone(g, 1)]))
    with CaptureQueriesContext(connection) as many:
        assert len(po_list(api, g.token, **window)) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_sync_returns_changed_orders_after_a_sequence(api, grower):
    g = grower
    first = ok(create(api, g, [standalone(g, 2)]))
    feed = ok(api("purchase.order.sync", g.token, {"since": 0}, verb="GET"))
    assert [p["id"] for p in feed["purchaseOrders"]] == [first["purchaseOrderId"]]
    since = feed["maxSeq"]
    assert (
        ok(api("purchase.order.sync", g.token, {"since": since}, verb="GET"))["purchaseOrders"]
        == []
    )
    item = first["purchaseOrderItems"][0]["poItemId"]
    ok(api("purchase.order.item.delete", g.token, {"poItemId": item}))
    feed = ok(api("purchase.order.sync", g.token, {"since": since}, verb="GET"))
    [po] = feed["purchaseOrders"]
    assert po["status"] == "Cancelled" and po["details"][0]["status"] == "Cancelled"
    assert (
        ok(api("purchase.order.sync", g.rival_token, {"since": 0}, verb="GET"))["purchaseOrders"]
        == []
    )


def test_mixed_boxes_carry_their_breakdowns(api, grower):
    g = grower
    body = {
        "shipDate": str(g.ship),
        "vendorId": g.vendor.pk,
        "purchaseOrderItems": [
            {
                "productCode": g.product.legacy_code,
                "boxTypeCode": "QB",
                "boxes": 3,
                "breakdowns": [
                    {"productId": g.product.pk, "bunches": 4, "stemsBunch": 25, "unitCost": "0.20"},
                    {
                        "productId": g.product.pk,
                        "bunches": 2,
                        "stemsBunch": 10,
                        "unitType": "bunch",
                        "unitCost": "3.00",
                    },
                ],
            }
        ],
    }
    made = ok(api("purchase.order.mixed.create", g.token, body))
    [po] = po_list(api, g.token, number=made["purchaseOrderNumber"])
    [detail] = po["details"]
    assert detail["isMixed"] == 1 and len(detail["breakdowns"]) == 2
    # 4 bunches of 25 stems at 0.20 + 2 bunches at 3.00 = 26.00 a box over 6 bunches.
    assert (detail["unitType"], detail["bunches"], detail["unitCost"]) == ("Bunch", 6, 4.333)
    body["purchaseOrderItems"][0]["breakdowns"] = []
    refused(
        api("purchase.order.mixed.create", g.token, body), 422, "purchaseOrderItems[0].breakdowns"
    )
