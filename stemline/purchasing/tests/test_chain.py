"""The full chain, through the API: a customer's prebook, the buyer's PO for it, the farm ships
it on an AWB (short, so the line splits), the warehouse receives it, and the prebooked boxes end
on the customer's invoice. The quantity invariants are checked after every step."""

from datetime import timedelta

import pytest

from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.sales.models import Invoice, InvoiceItem, PrebookItem

from .conftest import check_invariants, make_prebook, ok, refused, standalone

pytestmark = pytest.mark.django_db


def awb_row(api, g, number):
    [row] = ok(api("awb.list", g.token, {"awb": number[-4:]}, verb="GET"))["awbs"]
    return row


def test_prebook_to_po_to_awb_to_receiving_to_invoice(api, grower):
    g = grower
    company = g.company
    need = make_prebook(g, boxes=5, price="0.600")
    check_invariants(company)

    # The buyer buys the prebook line from the grower.
    made = ok(
        api(
            "purchase.order.create",
            g.token,
            {
                "shipDate": str(g.ship),
                "vendorCode": "RDM",
                "carrierId": g.carrier.pk,
                "purchaseOrderItems": [{"prebookItemId": need.pk, "unitCost": "0.25"}],
            },
        )
    )
    po_item = made["purchaseOrderItems"][0]["poItemId"]
    check_invariants(company)

    # The grower reads its PO and confirms it.
    [po] = ok(api("purchase.order.list", g.vendor_token, {"date": str(g.ship)}, verb="GET"))[
        "purchaseOrders"
    ]
    assert po["details"][0]["poItemId"] == po_item
    ok(api("purchase.order.confirm", g.vendor_token, {"purchaseOrderId": po["id"]}))
    check_invariants(company)

    # It ships three of the five boxes: the line splits, the prebook line with it.
    first = ok(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {"poItemId": po_item, "awb": "369-1234-5675", "shipDate": str(g.ship), "boxes": 3},
        )
    )
    rest = first["newPOItemId"]
    assert rest and len(first["boxCodes"]) == 3
    check_invariants(company)
    assert sorted(
        PrebookItem.objects.filter(prebook=need.prebook).values_list("line_id", "boxes")
    ) == sorted([(po_item, 3), (rest, 2)])

    # The other two follow on the same AWB with the grower's own labels.
    ok(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {
                "poItemId": rest,
                "awb": "369-1234-5675",
                "shipDate": str(g.ship),
                "boxCodes": ["RDM-001", "RDM-002"],
            },
        )
    )
    check_invariants(company)
    row = awb_row(api, g, "369-1234-5675")
    assert (row["pieces"], row["piecesReceived"], row["status"]) == (5, 0, 1)

    # The warehouse scans one box in: its line is not complete, so nothing is on hand yet.
    part = ok(api("awb.receive", g.token, {"awbId": row["awbId"], "boxCodes": ["rdm-001"]}))
    assert (part["piecesReceived"], part["inventoryIds"], part["invoices"]) == (1, [], [])
    assert InventoryLine.objects.get(pk=rest).arrival_date > stock.today()
    check_invariants(company)

    # Then the rest at once: both lines are on hand, the prebooked boxes on one invoice.
    done = ok(api("awb.receive", g.token, {"awb": "369-1234-5675"}))
    assert (done["piecesReceived"], done["awbStatus"]) == (5, 0)
    assert sorted(done["inventoryIds"]) == sorted([po_item, rest])
    [made_invoice] = done["invoices"]
    assert (made_invoice["customerId"], made_invoice["boxes"]) == (g.florist.pk, 5)
    check_invariants(company)
    invoice = Invoice.objects.get(pk=made_invoice["invoiceId"])
    assert str(invoice.amount) == "750.00"  # 5 boxes x 250 stems x 0.600
    assert invoice.transaction_fee == 0
    assert sorted(InvoiceItem.objects.filter(invoice=invoice).values_list("line_id", "boxes")) == (
        sorted([(po_item, 3), (rest, 2)])
    )
    for line in InventoryLine.objects.filter(pk__in=[po_item, rest]):
        assert line.arrival_date == stock.today()
        assert line.committed == line.total  # still sold: to the invoice now
    row = awb_row(api, g, "5675")
    assert (row["pieces"], row["piecesReceived"], row["status"]) == (5, 5, 0)
    refused(api("awb.receive", g.token, {"awbId": row["awbId"]}), 409, "awb")
    # Received boxes are on-hand inventory, sold to the customer, none left to sell.
    assert ok(api("inventory.openmarket.list", g.token, {}, verb="GET"))["inventoryItems"] == []


def test_open_market_po_sold_ahead_then_received(api, grower, make_token):
    g = grower
    company = g.company
    made = ok(
        api(
            "purchase.order.create",
            g.token,
            {
                "shipDate": str(g.ship),
                "vendorId": g.vendor.pk,
                "purchaseOrderItems": [
                    {
                        "productId": g.product.pk,
                        "boxTypeCode": "HB",
                        "boxes": 8,
                        "bunches": 10,
                        "stemsBunch": 25,
                        "unitCost": "0.30",
                        "priceA": "0.55",
                    }
                ],
            },
        )
    )
    item = made["purchaseOrderItems"][0]["poItemId"]
    ok(api("purchase.order.confirm", g.vendor_token, {"purchaseOrderId": made["purchaseOrderId"]}))
    check_invariants(company)
    buyer = make_token(company, "customer", customer_id=g.florist.pk)
    added = ok(
        api(
            "web-order-item.add",
            buyer,
            {"inventoryIds": [item], "inventoryOrigin": 2, "quantity": 3},
        )
    )
    check_invariants(company)
    ok(api("web-order.checkout", buyer, {"webOrderId": added["webOrderId"]}))
    check_invariants(company)
    # Shipped short by one: the unsold box moves to the new line, the sold ones ship first.
    shipped = ok(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {"poItemId": item, "awb": "045-0000-1111", "shipDate": str(g.ship), "boxes": 7},
        )
    )
    line, rest = (InventoryLine.objects.get(pk=pk) for pk in (item, shipped["newPOItemId"]))
    assert (line.total, line.committed, rest.total, rest.committed) == (7, 3, 1, 0)
    check_invariants(company)
    received = ok(api("awb.receive", g.token, {"awb": "045-0000-1111"}))
    [invoice] = received["invoices"]
    assert (invoice["customerId"], invoice["boxes"]) == (g.florist.pk, 3)
    check_invariants(company)
    on_hand = ok(api("inventory.openmarket.list", g.token, {}, verb="GET"))["inventoryItems"]
    assert [(r["inventoryId"], r["quantity"]) for r in on_hand] == [(item, 4)]
    # The unshipped box is still future inventory, on its own PO line.
    window = {"dateFrom": str(stock.today()), "dateTo": str(stock.today() + timedelta(days=30))}
    future = ok(api("future.inventory.openmarket.list", g.token, window, verb="GET"))
    assert [(r["inventoryId"], r["quantity"]) for r in future["inventoryItems"]] == [
        (shipped["newPOItemId"], 1)
    ]


def test_a_late_awb_never_sells_as_on_hand_until_received(api, grower, make_token):
    g = grower
    params = {
        "shipDate": str(g.ship),
        "vendorId": g.vendor.pk,
        "purchaseOrderItems": [standalone(g, boxes=4, priceA="0.55")],
    }
    made = ok(api("purchase.order.create", g.token, params))
    item = made["purchaseOrderItems"][0]["poItemId"]
    ok(api("purchase.order.confirm", g.vendor_token, {"purchaseOrderId": made["purchaseOrderId"]}))
    ok(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {"poItemId": item, "awb": "045-0000-2222", "shipDate": str(g.ship), "boxes": 4},
        )
    )
    # The day it was due to arrive has passed; the AWB is not received yet.
    InventoryLine.objects.filter(pk=item).update(arrival_date=stock.today() - timedelta(days=1))
    on_hand = ok(api("inventory.openmarket.list", g.token, {}, verb="GET"))["inventoryItems"]
    assert on_hand == []
    window = {
        "dateFrom": str(stock.today() - timedelta(days=7)),
        "dateTo": str(stock.today() + timedelta(days=7)),
    }
    future = ok(api("future.inventory.openmarket.list", g.token, window, verb="GET"))
    assert [r["inventoryId"] for r in future["inventoryItems"]] == [item]
    buyer = make_token(g.company, "customer", customer_id=g.florist.pk)
    refused(
        api(
            "web-order-item.add",
            buyer,
            {"inventoryIds": [item], "inventoryOrigin": 1, "quantity": 1},
        ),
        422,
        "inventoryOrigin",
    )
    ok(api("awb.receive", g.token, {"awb": "045-0000-2222"}))
    on_hand = ok(api("inventory.openmarket.list", g.token, {}, verb="GET"))["inventoryItems"]
    assert [(r["inventoryId"], r["quantity"]) for r in on_hand] == [(item, 4)]
    check_invariants(g.company)
