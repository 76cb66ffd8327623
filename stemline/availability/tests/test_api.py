"""Vendor availability through the API: offering, listing, buying through a web order and
onto a prebook, the purchase order to the grower, and the rules on quantities."""

import json
from datetime import timedelta
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder

from stemline.availability import services
from stemline.availability.models import Offer
from stemline.purchasing.models import PurchaseOrder, PurchaseOrderItem
from stemline.sales.models import Prebook, PrebookItem

from .conftest import check_offers, ok, refused


def item(g, quantity=10, **extra):
    return {
        "productCode": g.product.legacy_code,
        "boxTypeCode": "HB",
        "unitType": "stem",
        "bunches": 10,
        "stemsBunch": 25,
        "quantity": quantity,
        "unitCost": "0.400",
        "availableFrom": str(g.start),
        "availableTo": str(g.end),
        **extra,
    }


def buy(api, g, offer_id, boxes, customer=None):
    customer = customer or g.market
    added = ok(
        api(
            "web-order-item.add",
            g.user_token,
            {
                "customerId": customer.pk,
                "inventoryIds": str(offer_id),
                "inventoryOrigin": 3,
                "quantity": boxes,
            },
        )
    )
    return ok(
        api(
            "web-order.checkout",
            g.user_token,
            {"customerId": customer.pk, "webOrderId": added["webOrderId"]},
        )
    )


def test_a_grower_offers_and_the_company_lists_it_with_its_markup(api, va):
    g = va
    r = ok(api("vendor.availability.items.add", g.vendor_token, {"items": [item(g)]}))
    offer_id = r["items"][0]["inventoryId"]
    assert r["items"][0]["offered"] == 10
    listed = ok(
        api(
            "vendor.availability.items.list",
            g.token,
            {"dateFrom": str(g.today), "dateTo": str(g.end), "customerId": g.market.pk},
        )
    )["inventoryItems"]
    assert [row["inventoryId"] for row in listed] == [offer_id]
    row = listed[0]
    assert row["quantity"] == 10 and row["inventoryOrigin"] == 3
    # Cost 0.400 plus the default 30% markup.
    assert row["unitCost"] == 0.4 and row["price"] == 0.52
    assert row["fobPrice"] == 0.52  # a B customer falls back to A plus its own markup (0)
    # The grower sees its offer without the company's prices.
    mine = ok(
        api(
            "vendor.availability.items.list",
            g.vendor_token,
            {"dateFrom": str(g.today), "dateTo": str(g.end)},
        )
    )["inventoryItems"]
    assert mine[0]["price"] is None
    # Outside the window: nothing, with the reference's empty text.
    later = g.end + timedelta(days=3)
    empty = ok(
        api(
            "vendor.availability.items.list",
            g.token,
            {"dateFrom": str(later), "dateTo": str(later)},
        )
    )
    assert empty["inventoryItems"] == [] and empty["message"] == "Inventory items not found."


def test_the_shop_sells_it_as_origin_3_and_checkout_buys_it_from_the_grower(api, va):
    g = va
    offer_id = g.offer(10)[0].offer.pk
    shop = ok(api("ecommerce/inventory.list", g.token, {"customerId": g.market.pk}, verb="GET"))[
        "inventoryItems"
    ]
    row = next(r for r in shop if r["inventoryIds"] == str(offer_id))
    assert row["inventoryOrigin"] == 3 and row["quantity"] == 10 and row["price"] == 0.52
    done = buy(api, g, offer_id, 4)
    assert done["prebookId"] and not done["invoiceId"]
    prebook_item = PrebookItem.objects.get(prebook_id=done["prebookId"])
    po_item = PurchaseOrderItem.objects.get(prebook_item=prebook_item)
    assert po_item.boxes == 4 and po_item.purchase_order.vendor == g.vendor
    assert po_item.line.unit_cost == Decimal("0.400")
    assert prebook_item.line_id == po_item.pk
    # A second sale of the grower's offer lands on the same purchase order.
    again = buy(api, g, offer_id, 3, customer=g.florist)
    second = PurchaseOrderItem.objects.get(prebook_item__prebook_id=again["prebookId"])
    assert second.purchase_order_id == po_item.purchase_order_id
    assert PurchaseOrder.objects.filter(company=g.company).count() == 1
    found = Offer.objects.get(pk=offer_id)
    assert found.bought == 7 and found.line.available == 3
    check_offers(g.company)
    # What is left is all that can be bought.
    refused(
        api(
            "web-order-item.add",
            g.user_token,
            {
                "customerId": g.market.pk,
                "inventoryIds": str(offer_id),
                "inventoryOrigin": 3,
                "quantity": 4,
            },
        ),
        409,
    )
    details = ok(
        api(
            "purchase.order.va.details.list",
            g.token,
            {"purchaseOrderNumbers": po_item.purchase_order.number},
            verb="GET",
        )
    )["purchaseOrders"]
    lines = details[0]["details"]
    assert [d["poItemId"] for d in lines] == [po_item.pk, second.pk]
    va_row = lines[0]["vendorAvailabilityDetails"][0]
    assert va_row["vendorAvailabilityId"] == offer_id and va_row["unitsAllocated"] == 4 * 250
    assert va_row["availableFrom"] == str(g.start)


def test_prebook_vendor_availability_item_add(api, va):
    g = va
    offer_id = g.offer(6)[0].offer.pk
    prebook = ok(
        api(
            "prebook.create",
            g.token,
            {"customerId": g.florist.pk, "shipDate": str(g.end)},
        )
    )
    r = ok(
        api(
            "prebook.vendor.availability.item.add",
            g.token,
            {
                "prebookId": prebook["prebookId"],
                "inventoryIds": f"{offer_id}",
                "quantity": 5,
                "price": "0.70",
            },
        )
    )
    pi = PrebookItem.objects.get(pk=r["prebookItemId"])
    assert pi.price == Decimal("0.700") and pi.boxes == 5
    assert r["purchaseOrderItemIds"] == [pi.line_id]
    po = PurchaseOrderItem.objects.get(pk=pi.line_id).purchase_order
    # Shipped the day before the prebook's ship date, within the offer's window.
    assert po.ship_date == g.end - timedelta(days=1)
    assert Prebook.objects.get(pk=prebook["prebookId"]).amount == Decimal("875.00")
    short = refused(
        api(
            "prebook.vendor.availability.item.add",
            g.token,
            {
                "prebookId": prebook["prebookId"],
                "inventoryIds": offer_id,
                "quantity": 2,
                "price": "0.70",
            },
        ),
        409,
    )
    assert short["shortages"] == [{"inventoryId": offer_id, "requested": 2, "available": 1}]
    refused(
        api(
            "prebook.vendor.availability.item.add",
            g.token,
            {
                "prebookId": prebook["prebookId"],
                "inventoryIds": offer_id,
                "quantity": 1,
                "price": "0.70",
                "stemsBunch": 20,
            },
        ),
        422,
        "inventoryIds",
    )
    check_offers(g.company)


def test_replace_never_goes_below_what_was_sold(api, va):
    g = va
    offer_id = g.offer(10)[0].offer.pk
    buy(api, g, offer_id, 6)
    r = ok(
        api(
            "vendor.availability.items.add",
            g.vendor_token,
            {"mode": "replace", "items": [item(g, quantity=2)]},
        )
    )
    assert r["items"][0]["inventoryId"] == offer_id
    assert r["items"][0]["offered"] == 6 and r["items"][0]["quantity"] == 0
    assert r["items"][0]["message"].startswith("kept at 6 boxes")
    # Replacing with more: the new total, less what was sold, is left.
    r = ok(
        api(
            "vendor.availability.items.add",
            g.vendor_token,
            {"mode": "replace", "items": [item(g, quantity=9)]},
        )
    )
    assert r["items"][0]["quantity"] == 3
    # Adding adds; a replace without the offer withdraws all that is unsold.
    ok(api("vendor.availability.items.add", g.vendor_token, {"items": [item(g, quantity=2)]}))
    assert Offer.objects.get(pk=offer_id).line.available == 5
    other = item(g, quantity=4, availableFrom=str(g.end), availableTo=str(g.end))
    ok(
        api(
            "vendor.availability.items.add",
            g.vendor_token,
            {"mode": "replace", "items": [other]},
        )
    )
    withdrawn = Offer.objects.get(pk=offer_id)
    assert withdrawn.offered == 6 and withdrawn.line.available == 0
    check_offers(g.company)


def test_offers_refused_with_the_field_named(api, va):
    g = va
    refused(
        api(
            "vendor.availability.items.add",
            g.vendor_token,
            {"items": [item(g, productCode="NOPE")]},
        ),
        404,
        "items[0].productCode",
    )
    refused(
        api(
            "vendor.availability.items.add",
            g.vendor_token,
            {"items": [item(g, availableTo=str(g.start - timedelta(days=1)))]},
        ),
        422,
        "items[0].availableTo",
    )
    refused(
        api("vendor.availability.items.add", g.vendor_token, {"items": [item(g, quantity=0)]}),
        422,
        "items[0].boxes",
    )
    # A Company token names the grower.
    refused(api("vendor.availability.items.add", g.token, {"items": [item(g)]}), 422)
    ok(
        api(
            "vendor.availability.items.add",
            g.token,
            {"vendorCode": g.vendor.code, "items": [item(g)]},
        )
    )
    refused(
        api("purchase.order.va.details.list", g.token, {}, verb="GET"),
        422,
        "purchaseOrderNumbers",
    )


def test_markup_reprices_open_offers(va):
    g = va
    found = g.offer(5)[0].offer
    services.set_markup(company=g.company, percent=Decimal("50"))
    found.line.refresh_from_db()
    assert found.line.price_a == Decimal("0.600")
    assert g.offer(1, cost="0.500")[0].offer.line.price_a == Decimal("0.750")


def test_shop_detail_and_the_channels_feed_carry_origin_3(api, va):
    from stemline.channels import outbox
    from stemline.channels.models import Channel

    g = va
    found = g.offer(5)[0].offer
    arrival = str(g.start + timedelta(days=1))
    [row] = ok(
        api(
            "ecommerce/inventory.get",
            g.token,
            {
                "customerId": g.market.pk,
                "inventoryLineIds": str(found.pk),
                "inventoryOrigin": 3,
                "date": arrival,
            },
            verb="GET",
        )
    )["inventoryItems"]
    assert (row["inventoryOrigin"], row["quantity"], row["availableOnDate"]) == (3, 5, 1)
    # An offer is no on-hand box: asking for it as origin 1 is refused.
    refused(
        api(
            "ecommerce/inventory.get",
            g.token,
            {
                "customerId": g.market.pk,
                "inventoryLineIds": str(found.pk),
                "inventoryOrigin": 1,
                "date": arrival,
            },
            verb="GET",
        ),
        422,
        "inventoryOrigin",
    )
    channel = Channel.objects.create(
        company=g.company,
        marketplace=Channel._meta.get_field("marketplace").choices[0][0],
        name="DWF",
        customer=g.market,
    )
    today = g.today
    # Each channel chooses whether it sells growers' offers; its snapshot agrees with its deltas.
    assert channel.sells_availability is False
    assert outbox.item(channel, found.line, today) is None
    assert found.pk not in {
        int(r["inventoryIds"]) for r in outbox.snapshot_payload(channel, 0)["items"]
    }
    channel.sells_availability = True
    channel.save()
    assert outbox.item(channel, found.line, today)["inventoryOrigin"] == 3
    [row] = [
        r
        for r in outbox.snapshot_payload(channel, 0)["items"]
        if r["inventoryIds"] == str(found.pk)
    ]
    assert row["inventoryOrigin"] == 3
    # The snapshot's row is the delta's row.
    as_json = lambda v: json.loads(json.dumps(v, cls=DjangoJSONEncoder))  # noqa: E731
    assert as_json(row) == as_json(outbox.item(channel, found.line, today))
    # A channel that sells future boxes only (not on hand) still gets the offers it chose.
    channel.sells_on_hand, channel.sells_future = False, True
    channel.save()
    assert str(found.pk) in {
        r["inventoryIds"] for r in outbox.snapshot_payload(channel, 0)["items"]
    }


def test_an_offer_is_changed_by_its_grower_only_and_leaves_when_its_window_ends(api, va):
    g = va
    found = g.offer(5)[0].offer
    refused(api("inventory.update", g.token, {"inventoryId": found.pk, "quantity": 1}), 409)
    refused(api("inventory.delete", g.token, {"inventoryId": found.pk}), 409)
    # Nor is it a box of the company's inventory.
    listed = ok(api("inventory.list", g.token, {}, verb="GET"))["inventoryItems"]
    assert found.pk not in [r["inventoryId"] for r in listed]
    shop = {"customerId": g.market.pk}
    rows = ok(api("ecommerce/inventory.list", g.token, shop, verb="GET"))["inventoryItems"]
    assert [r["inventoryIds"] for r in rows] == [str(found.pk)]
    yesterday = g.today - timedelta(days=1)
    Offer.objects.filter(pk=found.pk).update(available_from=yesterday, available_to=yesterday)
    found.line.__class__.objects.filter(pk=found.pk).update(offered_until=yesterday)
    assert ok(api("ecommerce/inventory.list", g.token, shop, verb="GET"))["inventoryItems"] == []
    assert (
        ok(
            api(
                "vendor.availability.items.list",
                g.token,
                {"dateFrom": str(yesterday), "dateTo": str(g.end)},
            )
        )["inventoryItems"]
        == []
    )
    r = api(
        "web-order-item.add",
        g.user_token,
        {
            "customerId": g.market.pk,
            "inventoryIds": str(found.pk),
            "inventoryOrigin": 3,
            "quantity": 1,
        },
    )
    assert r.status_code in (409, 422), r.json_body


def test_another_company_neither_sees_nor_buys_an_offer(api, va, other_company, make_token):
    g = va
    found = g.offer(5)[0].offer
    done = buy(api, g, found.pk, 2)
    po = PurchaseOrderItem.objects.get(prebook_item__prebook_id=done["prebookId"]).purchase_order
    intruder = make_token(other_company)
    window = {"dateFrom": str(g.today), "dateTo": str(g.end)}
    assert ok(api("vendor.availability.items.list", intruder, window))["inventoryItems"] == []
    from stemline.parties.models import Customer

    own = Customer.objects.create(company=other_company, name="Their Florist")
    theirs = ok(api("prebook.create", intruder, {"customerId": own.pk, "shipDate": str(g.end)}))
    r = api(
        "prebook.vendor.availability.item.add",
        intruder,
        {"prebookId": theirs["prebookId"], "inventoryIds": found.pk, "quantity": 1, "price": 1},
    )
    assert r.status_code == 404, r.json_body
    listed = ok(
        api(
            "purchase.order.va.details.list",
            intruder,
            {"purchaseOrderNumbers": po.number, "purchaseOrderItemIds": po.items.first().pk},
            verb="GET",
        )
    )
    assert listed["purchaseOrders"] == []
    assert Offer.objects.get(pk=found.pk).line.available == 3
