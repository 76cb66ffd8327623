"""inventory.consolidated.openmarket.list: the open market with the lines of one offer (same
product, pack, location, mark and prices, whatever the farm) merged into one row."""

import pytest

from stemline.inventory.models import InventoryLine
from stemline.parties.models import Vendor
from stemline.sales import services as sales

from .test_api_market_lists import hold, items, refused

pytestmark = pytest.mark.django_db

METHOD = "inventory.consolidated.openmarket.list"


def test_one_row_per_offer_whatever_the_farm(api, stocked, company_token):
    other_farm = Vendor.objects.create(
        company=stocked.company, name="Flores del Sur", code="FDS", port_origin="BOG"
    )
    a, b = stocked.add(10), stocked.add(4)
    InventoryLine.objects.filter(pk=b.pk).update(vendor=other_farm)
    dearer = stocked.add(3, price_a="0.700")
    stocked.add(5, future_days=3)  # future: not on hand
    stocked.add(2, reserved_for=stocked.florist)  # reserved: not open market
    hold(stocked, a, 3)
    rows = items(api, METHOD, company_token)
    assert [r["inventoryItemIds"] for r in rows] == [f"{a.pk},{b.pk}", str(dearer.pk)]
    merged = rows[0]
    assert (merged["quantity"], merged["totalUnits"]) == (11, 11 * 250)
    assert (merged["price"], merged["priceB"], merged["fobPrice"]) == (0.5, 0.45, None)
    assert (merged["productCode"], merged["category"], merged["boxTypeCode"]) == (
        "RFR50",
        "Roses",
        "HB",
    )
    assert "vendor" not in merged and "inventoryId" not in merged
    # A customer's FOB price per row; a line sold out leaves its row.
    priced = items(api, METHOD, company_token, {"customerId": stocked.market.pk})
    assert [r["fobPrice"] for r in priced] == [0.45, 0.45]
    hold(stocked, dearer, 3)
    assert [r["inventoryItemIds"] for r in items(api, METHOD, company_token)] == [f"{a.pk},{b.pk}"]


def test_the_ids_can_be_sold(api, stocked, company_token):
    line = stocked.add(2)
    [row] = items(api, METHOD, company_token)
    ids = [int(i) for i in row["inventoryItemIds"].split(",")]
    sales.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=1,
        requests=[sales.ItemRequest(ids[0], 2)],
    )
    assert ids == [line.pk] and items(api, METHOD, company_token) == []


def test_refusals(api, stocked, company_token, make_token, other_company):
    stocked.add(2)
    refused(api(METHOD, company_token, {"customerId": 999999}, verb="GET"), 404, "customerId")
    refused(api(METHOD, company_token, {"locationId": 999999}, verb="GET"), 404, "locationId")
    refused(api(METHOD, company_token, {"locationId": "x"}, verb="GET"), 422, "locationId")
    refused(api(METHOD, make_token(stocked.company, "vendor"), {}, verb="GET"), 403)
    refused(
        api(METHOD, make_token(stocked.company, grants=["inventory.list"]), {}, verb="GET"), 403
    )
    # Another company's customer is not found; its own market is empty.
    theirs = make_token(other_company)
    refused(api(METHOD, theirs, {"customerId": stocked.florist.pk}, verb="GET"), 404, "customerId")
    assert items(api, METHOD, theirs) == []
