"""The Vendor Portal shows a purchase order's lines (product, box type, boxes, units, cost,
ship date) and lets the grower ship a line onto an AWB with box codes, through the service the
API's purchase.order.item.awb.add uses: the same split, the same refusals, and what the API
then reports."""

import pytest
from django.urls import reverse

from stemline.purchasing.models import Awb, AwbBox, PurchaseOrderItem
from stemline.purchasing.tests import conftest as purchasing
from stemline.purchasing.tests.conftest import ok, standalone

from ..tests.test_confirm import _po, _portal

pytestmark = pytest.mark.django_db

grower = purchasing.grower


def _form(po, item, **over):
    data = {
        "awb": "369-12345675",
        "house_awb": "",
        "ship_date": str(po.ship_date),
        "boxes": "",
        "box_codes": "",
        "lot_number": "",
    }
    data.update(over)
    return data


def test_the_grower_sees_the_lines_and_ships_one_with_box_codes(api, grower):
    g = grower
    po = _po(api, g, g.vendor)
    [item] = po.items.all()
    farm = _portal(g.company, g.vendor, "ana@rosas.example")
    page = farm.get(reverse("vendor_portal:order", args=[po.pk])).content.decode()
    row = page.split(f'id="po-line-{item.pk}"')[1].split("</tr>")[0]
    # product, box type, boxes, units (4 boxes x 10 bunches x 25 stems), cost, ship date
    for shown in (
        "Rose Freedom Red 50cm",
        "HB",
        ">4<",
        "1000",
        "0.300",
        po.ship_date.strftime("%b %-d"),
    ):
        assert shown in row, shown
    url = reverse("vendor_portal:ship", args=[po.pk, item.pk])
    # Three codes for four boxes would not match: refused beside the field.
    refused = farm.post(url, _form(po, item, boxes="4", box_codes="A1, A2, A3"))
    assert "3 box codes for 4 boxes" in refused.content.decode()
    done = farm.post(url, _form(po, item, box_codes="RDM-1\nRDM-2\nRDM-3"), follow=True)
    assert "3 boxes shipped on AWB 369-12345675: RDM-1, RDM-2, RDM-3" in done.content.decode()
    item.refresh_from_db()
    awb = Awb.objects.get(company=g.company, number="369-12345675")
    assert item.awb_id == awb.pk and item.boxes == 3
    assert sorted(AwbBox.objects.filter(awb=awb).values_list("box__code", flat=True)) == [
        "RDM-1",
        "RDM-2",
        "RDM-3",
    ]
    # Shipping fewer split the line, as the API does: the fourth box waits on a new line.
    rest = PurchaseOrderItem.objects.get(purchase_order=po, awb__isnull=True)
    assert rest.boxes == 1
    assert f'id="ship-{rest.pk}"' in done.content.decode()
    assert f'id="ship-{item.pk}"' not in done.content.decode()
    # The API tells the same story.
    [listed] = ok(api("awb.list", g.token, {"awb": "369-12345675"}))["awbs"]
    assert listed["pieces"] == 3
    # Shipping the same line again is the service's refusal, shown on the form.
    again = farm.post(url, _form(po, item, boxes="1"))
    assert "already shipped" in again.content.decode()


def test_a_grower_cannot_open_or_ship_another_growers_line(api, grower):
    g = grower
    po = _po(api, g, g.vendor)
    [item] = po.items.all()
    rival = _portal(g.company, g.rival, "juan@sur.example")
    assert rival.get(reverse("vendor_portal:order", args=[po.pk])).status_code == 404
    url = reverse("vendor_portal:ship", args=[po.pk, item.pk])
    assert rival.post(url, _form(po, item, boxes="1")).status_code == 404
    assert not Awb.objects.filter(company=g.company).exists()


def test_the_line_page_costs_the_same_queries_with_few_and_many_lines(api, grower):
    from stemline.web.tests.conftest import queries_of

    g = grower
    farm = _portal(g.company, g.vendor, "ana@rosas.example")
    few = ok(
        api(
            "purchase.order.create",
            g.token,
            {
                "shipDate": str(g.ship),
                "vendorId": g.vendor.pk,
                "purchaseOrderItems": [standalone(g)],
            },
        )
    )["purchaseOrderId"]
    many = ok(
        api(
            "purchase.order.create",
            g.token,
            {
                "shipDate": str(g.ship),
                "vendorId": g.vendor.pk,
                "purchaseOrderItems": [standalone(g, boxes=n + 1) for n in range(12)],
            },
        )
    )["purchaseOrderId"]

    def count(po_id):
        return queries_of(lambda: farm.get(reverse("vendor_portal:order", args=[po_id])))

    assert count(few) == count(many)
