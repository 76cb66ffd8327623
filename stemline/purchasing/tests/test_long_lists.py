"""purchase.order.list as a long list (issues 16 and 17): pages with a total, every PO once,
bad paging refused by field, and rows read as plain values equal to what the model-built rows
(queries.po_row, still used by the PO page) and the response schema give."""

import json

import pytest

from stemline.api.registry import registry
from stemline.purchasing import queries
from stemline.purchasing.api import POOut
from stemline.purchasing.models import PurchaseOrder

from .conftest import make_prebook, ok, standalone

pytestmark = pytest.mark.django_db


def _mixed(g) -> dict:
    return {
        "shipDate": str(g.ship),
        "vendorId": g.vendor.pk,
        "purchaseOrderItems": [
            {
                "productCode": g.product.legacy_code,
                "boxTypeCode": "QB",
                "boxes": 3,
                "breakdowns": [
                    {"productId": g.product.pk, "bunches": 4, "stemsBunch": 25, "unitCost": "0.20"},
                    {"productId": g.product.pk, "bunches": 2, "stemsBunch": 10, "unitCost": "3"},
                ],
            }
        ],
    }


def _orders(api, g, count: int) -> list[int]:
    made = []
    need = make_prebook(g, boxes=2)
    for n in range(count):
        items = [standalone(g, 2 + n), standalone(g, 1, unitType="bunch", markCode="MK")]
        if n == 0:
            items.append({**standalone(g, 2), "prebookItemId": need.pk})
        body = {"shipDate": str(g.ship), "vendorId": g.vendor.pk, "purchaseOrderItems": items}
        made.append(ok(api("purchase.order.create", g.token, body))["purchaseOrderId"])
    made.append(ok(api("purchase.order.mixed.create", g.token, _mixed(g)))["purchaseOrderId"])
    return made


def test_pages_return_every_po_once_with_the_total(api, grower):
    g = grower
    made = _orders(api, g, 4)
    where = {"date": str(g.ship)}
    whole = ok(api("purchase.order.list", g.token, where, verb="GET"))
    assert sorted(p["id"] for p in whole["purchaseOrders"]) == sorted(made)
    assert "total" not in whole
    seen = []
    for page in (1, 2, 3):
        body = ok(
            api("purchase.order.list", g.token, {**where, "page": page, "rows": 2}, verb="GET")
        )
        assert (body["total"], body["page"], body["rows"]) == (5, page, 2)
        seen += [p["id"] for p in body["purchaseOrders"]]
    assert seen == [p["id"] for p in whole["purchaseOrders"]]
    past = ok(api("purchase.order.list", g.token, {**where, "page": 9, "rows": 2}, verb="GET"))
    assert past["purchaseOrders"] == [] and past["message"] == "Purchase orders not found."


@pytest.mark.parametrize(
    ("params", "field"), [({"page": 0}, "page"), ({"rows": 1001}, "rows"), ({"rows": "x"}, "rows")]
)
def test_bad_paging_is_refused_naming_the_field(api, grower, params, field):
    r = api("purchase.order.list", grower.token, {"date": str(grower.ship), **params}, verb="GET")
    assert r.status_code == 422 and r.json_body["status"] == 0
    assert r.json_body["errors"][0]["field"] == field


def test_plain_value_rows_equal_the_model_built_ones(api, grower):
    g = grower
    made = _orders(api, g, 3)
    # A cancelled line stays listed (as Cancelled) and leaves the totals.
    item = queries.with_details(PurchaseOrder.objects.filter(pk=made[1])).first().details[0]
    item.status = "Cancelled"
    item.save(update_fields=["status"])
    for pk in made:
        po = queries.with_details(PurchaseOrder.objects.filter(pk=pk)).first()
        built = json.loads(POOut.model_validate(queries.po_row(po)).model_dump_json())
        [plain] = queries.po_values([pk])
        assert plain == built
    for method, params in (
        ("purchase.order.list", {"date": str(g.ship)}),
        ("purchase.order.sync", {"since": 0}),
    ):
        r = api(method, g.token, params, verb="GET")
        written = registry.get(method).response.model_validate_json(r.body)
        assert json.loads(written.model_dump_json(exclude_unset=True)) == json.loads(r.body)
    feed = ok(api("purchase.order.sync", g.token, {"since": 0}, verb="GET"))
    assert sorted(p["id"] for p in feed["purchaseOrders"]) == sorted(made)
    assert feed["more"] == 0 and feed["maxSeq"] >= len(made)
