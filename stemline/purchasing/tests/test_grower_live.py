"""A grower's farm system over real HTTP with its Vendor token: master data, its POs, the
confirmation, a short shipment on an AWB (the line splits), relabelled boxes and its invoice.
A second grower's token sees none of it."""

import io
from datetime import timedelta

import pytest
import requests
from PIL import Image

from stemline.purchasing.models import VendorInvoice

from .conftest import check_invariants, standalone

pytestmark = pytest.mark.django_db(transaction=True)


class Farm:
    def __init__(self, base: str, issued):
        self.base, self.secret = base, issued.secret
        self.account = str(issued.token.company.account_id)

    def __call__(self, method, data=None, *, get=False, files=None, expect=200):
        headers = {"authenticationToken": self.secret, "X-ACCOUNT": self.account}
        url = f"{self.base}/api/{method}"
        if get:
            r = requests.get(url, params=data or {}, headers=headers, timeout=30)
        elif files:
            r = requests.post(url, data=data, files=files, headers=headers, timeout=30)
        else:
            r = requests.post(url, json=data or {}, headers=headers, timeout=30)
        body = r.json()
        assert r.status_code == expect, (method, r.status_code, body)
        return body


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_grower_scenario_over_http(live_server, grower, media):
    g = grower
    farm = Farm(live_server.url, g.vendor_token)
    rival = Farm(live_server.url, g.rival_token)
    buyer = Farm(live_server.url, g.token)
    made = buyer(
        "purchase.order.create",
        {
            "shipDate": str(g.ship),
            "vendorId": g.vendor.pk,
            "carrierCode": "AVC",
            "purchaseOrderItems": [standalone(g, 6, priceA="0.60")],
        },
    )
    item = made["purchaseOrderItems"][0]["poItemId"]

    # Master data the farm system maps its products and boxes to.
    assert "HB" in [b["code"] for b in farm("boxtype.list", get=True)["boxtypes"]]
    assert farm("product.list", get=True)["products"]
    assert "AVC" in str(farm("carrier.list", get=True))

    # Its purchase orders, and only its own.
    window = {"date": str(g.ship)}
    [po] = farm("purchase.order.list", window, get=True)["purchaseOrders"]
    assert (po["number"], po["details"][0]["poItemId"]) == (made["purchaseOrderNumber"], item)
    assert rival("purchase.order.list", window, get=True)["purchaseOrders"] == []

    farm("purchase.order.confirm", {"purchaseOrderNumber": po["number"]})
    rival("purchase.order.confirm", {"purchaseOrderNumber": po["number"]}, expect=404)

    # Ships four of six boxes with its own labels: the line splits.
    ship = {
        "poItemId": item,
        "awb": "729-5555-0101",
        "shipDate": str(g.ship),
        "boxCodes": ["F1", "F2", "F3", "F4"],
    }
    rival("purchase.order.item.awb.add", ship, expect=404)
    shipped = farm("purchase.order.item.awb.add", ship)
    assert shipped["boxCodes"] == ["F1", "F2", "F3", "F4"] and shipped["newPOItemId"]
    check_invariants(g.company)
    [po] = farm("purchase.order.list", window, get=True)["purchaseOrders"]
    by_id = {d["poItemId"]: d for d in po["details"]}
    assert [b["boxCode"] for b in by_id[item]["boxes"]] == ["F1", "F2", "F3", "F4"]
    assert (by_id[item]["totalBoxes"], by_id[shipped["newPOItemId"]]["totalBoxes"]) == (4, 2)

    # Relabels two boxes; one new code is taken, one box is not its own.
    answer = farm(
        "box.code.change",
        {
            "boxes": [
                {"currentBoxCode": "F1", "newBoxCode": "RDM-0001"},
                {"currentBoxCode": "F2", "newBoxCode": "f3"},
                {"currentBoxCode": "NOPE", "newBoxCode": "X"},
            ]
        },
    )
    assert [b["status"] for b in answer["boxes"]] == [1, 0, 0]
    assert answer["message"] == "1 boxes were successfully updated. 2 boxes could not be updated"
    stolen = rival("box.code.change", {"boxes": [{"currentBoxCode": "F4", "newBoxCode": "MINE"}]})
    assert stolen["status"] == 0 and stolen["boxes"][0]["message"] == "Box code does not exist"

    # Uploads its invoice as a multipart PNG.
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, format="PNG")
    fields = {"poNumber": po["number"], "invoiceNumber": "FB-77", "invoiceTotal": "312.50"}
    farm("v2/vendor/invoice", fields, files={"attachment": ("inv.png", png.getvalue())})
    rival(
        "v2/vendor/invoice", fields, files={"attachment": ("inv.png", png.getvalue())}, expect=404
    )
    [stored] = VendorInvoice.objects.all()
    assert (stored.vendor_id, stored.content_type, stored.invoice_number) == (
        g.vendor.pk,
        "image/png",
        "FB-77",
    )
    assert stored.file.read() == png.getvalue()
    listed = buyer("vendor.invoice.list", {}, get=True)["vendorInvoices"]
    assert [v["invoiceNumber"] for v in listed] == ["FB-77"]
    # The rival still sees nothing of any of it.
    assert rival("purchase.order.sync", {"since": 0}, get=True)["purchaseOrders"] == []
    assert (
        rival(
            "purchase.order.list",
            {
                "dateFrom": str(g.ship - timedelta(days=5)),
                "dateTo": str(g.ship + timedelta(days=5)),
            },
            get=True,
        )["purchaseOrders"]
        == []
    )
