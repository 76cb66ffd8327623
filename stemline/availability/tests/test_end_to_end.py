"""End to end: a grower uploads availability in the portal, a marketplace buys it through the
API, a purchase order to the grower appears, the grower confirms and ships it on an AWB in
the portal, the warehouse receives it (awb.receive) and the marketplace's boxes are invoiced."""

from django.urls import reverse

from stemline.availability.models import Offer
from stemline.purchasing.models import PurchaseOrder
from stemline.sales.models import Invoice, InvoiceItem

from .conftest import check_offers, fast, ok
from .test_portal import csv_of, portal, row, upload


def test_grower_upload_to_invoice(va, client, api, make_token):
    g = va
    farm = portal(g, client)
    assert "Confirm 1 row" in upload(farm, csv_of(g, row(g, boxes=12)))
    farm.post(reverse("vendor_portal:availability_confirm"))
    offer = Offer.objects.get()

    # The marketplace (a Customer token for its customer) finds it in the catalogue and buys.
    market = fast(make_token(g.company, "customer", customer_id=g.market.pk))
    shop = ok(api("ecommerce/inventory.list", market, {"customerId": g.market.pk}, verb="GET"))
    row_ = next(r for r in shop["inventoryItems"] if r["inventoryOrigin"] == 3)
    assert row_["inventoryIds"] == str(offer.pk) and row_["quantity"] == 12
    added = ok(
        api(
            "web-order-item.add",
            market,
            {
                "customerId": g.market.pk,
                "inventoryIds": row_["inventoryIds"],
                "inventoryOrigin": 3,
                "quantity": 5,
                "price": row_["price"],
            },
        )
    )
    done = ok(
        api(
            "web-order.checkout",
            market,
            {"customerId": g.market.pk, "webOrderId": added["webOrderId"]},
        )
    )
    assert done["prebookId"] and done["invoiceId"] is None

    # The PO to the grower is in the portal; the grower confirms and ships it on an AWB.
    po = PurchaseOrder.objects.get(vendor=g.vendor)
    home = farm.get(reverse("vendor_portal:home")).content.decode()
    assert po.number in home
    farm.post(reverse("vendor_portal:confirm", args=[po.pk]))
    [item] = po.items.all()
    assert item.boxes == 5
    shipped = farm.post(
        reverse("vendor_portal:ship", args=[po.pk, item.pk]),
        {"awb": "369-55555555", "ship_date": str(po.ship_date), "boxes": "5"},
        follow=True,
    ).content.decode()
    assert "5 boxes shipped on AWB 369-55555555" in shipped

    # The warehouse receives the AWB: the prebooked boxes go onto an invoice to the market.
    received = ok(api("awb.receive", g.token, {"awb": "369-55555555"}))
    assert [i["boxes"] for i in received["invoices"]] == [5]
    invoice = Invoice.objects.get(pk=received["invoices"][0]["invoiceId"])
    assert invoice.customer == g.market
    line = InvoiceItem.objects.get(invoice=invoice)
    assert line.boxes == 5 and line.line_id == item.pk
    assert str(line.price) == f"{row_['price']:.3f}"
    offer.refresh_from_db()
    assert offer.bought == 5 and offer.line.available == 7
    check_offers(g.company)
