"""One length for an AWB number: what the API accepts (25 characters, the reference's str25 for
`purchase.order.items.awb.add`) every column that stores it holds, including the inventory
lines a shipped AWB fills; one character more is refused beside the field."""

import pytest

from stemline.inventory.models import AWB_MAX_LENGTH, InventoryLine
from stemline.inventory.tests.test_api_inventory_writes import add_params

from .conftest import ok, refused, standalone

pytestmark = pytest.mark.django_db

LONGEST = "369-1234-5675-H" + "X" * (AWB_MAX_LENGTH - 15)


def test_the_longest_awb_number_the_api_accepts_is_stored_on_the_po_awb_and_inventory(api, grower):
    g = grower
    assert len(LONGEST) == 25
    made = ok(
        api(
            "purchase.order.create",
            g.token,
            {
                "shipDate": str(g.ship),
                "vendorId": g.vendor.pk,
                "awbNumber": LONGEST,
                "purchaseOrderItems": [standalone(g, boxes=2)],
            },
        )
    )
    item = made["purchaseOrderItems"][0]["poItemId"]
    refused(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {"poItemId": item, "awb": LONGEST + "9", "shipDate": str(g.ship)},
        ),
        422,
        "awb",
    )
    # On PostgreSQL this answered 500 while the inventory line's column held 20 characters.
    ok(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {"poItemId": item, "awb": LONGEST, "houseAWB": LONGEST, "shipDate": str(g.ship)},
        )
    )
    [row] = ok(api("awb.list", g.token, {"awb": LONGEST}, verb="GET"))["awbs"]
    assert row["awb"] == LONGEST
    assert InventoryLine.objects.filter(awb=LONGEST).exists()


def test_inventory_add_takes_the_same_awb_length(api, stocked, company_token):
    ok(api("inventory.add", company_token, add_params(stocked, awb=LONGEST)))
    assert InventoryLine.objects.filter(awb=LONGEST).exists()
    refused(api("inventory.add", company_token, add_params(stocked, awb=LONGEST + "9")), 422, "awb")
