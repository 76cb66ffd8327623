"""Purchasing pages: purchase orders and their lines, AWBs received all at once or box by box
(the boxes become on-hand inventory, prebooked ones end on an invoice), for Admin and Purchasing
users only, each company seeing only its own."""

import pytest
from django.test import Client
from django.urls import reverse

from stemline.core.models import Role
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.purchasing.models import Awb, AwbBox
from stemline.purchasing.tests import conftest as purchasing
from stemline.purchasing.tests.conftest import make_prebook, ok, standalone
from stemline.sales.models import Invoice, InvoiceItem

from .conftest import queries_of

pytestmark = pytest.mark.django_db

grower = purchasing.grower  # the purchasing tests' stocked company with its growers


def _po(api, g, items, vendor=None) -> dict:
    return ok(
        api(
            "purchase.order.create",
            g.token,
            {
                "shipDate": str(g.ship),
                "vendorId": (vendor or g.vendor).pk,
                "carrierId": g.carrier.pk,
                "purchaseOrderItems": items,
            },
        )
    )


def _shipped(api, g, awb="369-1234-5675", boxes=3, prebook=None) -> tuple[int, int, Awb]:
    """A PO the farm confirmed and shipped whole on `awb`: (PO id, its line id, the AWB)."""
    item = {"prebookItemId": prebook.pk, "unitCost": "0.25"} if prebook else None
    made = _po(api, g, [item or standalone(g, boxes=boxes, priceA="0.55")])
    line = made["purchaseOrderItems"][0]["poItemId"]
    ok(api("purchase.order.confirm", g.vendor_token, {"purchaseOrderId": made["purchaseOrderId"]}))
    ok(
        api(
            "purchase.order.item.awb.add",
            g.vendor_token,
            {"poItemId": line, "awb": awb, "shipDate": str(g.ship)},
        )
    )
    return made["purchaseOrderId"], line, Awb.objects.get(company=g.company, number=awb)


def _codes(awb: Awb) -> list[str]:
    return list(
        AwbBox.objects.filter(awb=awb).order_by("box_id").values_list("box__code", flat=True)
    )


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_only_admin_and_purchasing_open_the_purchasing_pages(as_role, api, grower):
    po_id, _, awb = _shipped(api, grower)
    pages = [
        reverse("purchase_orders"),
        reverse("purchase_order", args=[po_id]),
        reverse("purchasing_awbs"),
        reverse("purchasing_awb", args=[awb.pk]),
    ]
    for role in (Role.ADMIN, Role.PURCHASING):
        client = as_role(role)
        for url in pages:
            assert client.get(url).status_code == 200, (role, url)
        assert 'href="/purchasing/orders/"' in client.get(reverse("home")).content.decode()
    for role in (Role.SALES, Role.SETUP):
        client = as_role(role)
        for url in pages:
            assert client.get(url).status_code == 403, (role, url)
        assert (
            client.post(reverse("purchasing_awb_receive", args=[awb.pk]), {"all": 1}).status_code
            == 403
        )
        assert "Purchasing</a>" not in client.get(reverse("profile")).content.decode()
    awb.refresh_from_db()
    assert awb.pieces_received == 0
    assert Client().get(reverse("purchase_orders")).status_code == 302  # sign in first


def test_purchase_order_list_filters_and_reads_in_constant_queries(as_role, api, grower):
    g = grower
    first = _po(api, g, [standalone(g, boxes=4), standalone(g, boxes=6)])
    rival = _po(api, g, [standalone(g, boxes=2)], vendor=g.rival)
    ok(api("purchase.order.confirm", g.vendor_token, {"purchaseOrderId": first["purchaseOrderId"]}))
    client = as_role(Role.PURCHASING)
    url = reverse("purchase_orders")
    page = client.get(url).content.decode()
    row = page.split(f'id="po-{first["purchaseOrderId"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Rosas del Monte" in row and "Confirmed by Farm" in row
    assert '<td class="num">2</td><td class="num">10</td>' in row  # lines, boxes
    assert f'id="po-{rival["purchaseOrderId"]}"' in page
    confirmed = client.get(url, {"status": "Confirmed by Farm"}).content.decode()
    assert f'id="po-{first["purchaseOrderId"]}"' in confirmed
    assert f'id="po-{rival["purchaseOrderId"]}"' not in confirmed
    by_vendor = client.get(url, {"vendor": g.rival.pk}).content.decode()
    assert f'id="po-{rival["purchaseOrderId"]}"' in by_vendor
    assert f'id="po-{first["purchaseOrderId"]}"' not in by_vendor
    other_day = client.get(url, {"date": str(stock.today())}).content.decode()
    assert "No purchase orders." in other_day
    assert client.get(url, {"date": "not-a-date", "vendor": "x"}).status_code == 200

    few = queries_of(lambda: client.get(url))
    for _ in range(6):
        _po(api, g, [standalone(g, boxes=1), standalone(g, boxes=1)])
    assert queries_of(lambda: client.get(url)) == few
    detail = reverse("purchase_order", args=[first["purchaseOrderId"]])
    few = queries_of(lambda: client.get(detail))
    shipped, _, _ = _shipped(api, g, awb="045-0000-1111")
    assert queries_of(lambda: client.get(reverse("purchase_order", args=[shipped]))) == few


def test_purchase_order_page_shows_lines_prebook_awb_and_boxes(as_role, api, grower):
    g = grower
    need = make_prebook(g, boxes=2)
    po_id, line, awb = _shipped(api, g, prebook=need)
    page = as_role(Role.ADMIN).get(reverse("purchase_order", args=[po_id])).content.decode()
    row = page.split(f'id="line-{line}"', 1)[1].split("</tr>", 1)[0]
    assert "Rose Freedom Red 50cm" in row and "Confirmed" in row
    assert str(need.prebook.number) in row and "Bloom Florist" in row
    assert awb.number in row
    assert all(code in row for code in _codes(awb)) and len(_codes(awb)) == 2


def test_receive_all_makes_the_boxes_on_hand_inventory(as_role, api, grower):
    g = grower
    _, line, awb = _shipped(api, g, boxes=3)
    assert InventoryLine.objects.get(pk=line).in_transit
    client = as_role(Role.PURCHASING)
    page = client.get(reverse("purchasing_awbs")).content.decode()
    assert '<td class="num">3</td><td class="num">0</td>' in page.split(f'id="awb-{awb.pk}"', 1)[1]
    r = client.post(reverse("purchasing_awb_receive", args=[awb.pk]), {"all": "1"}, follow=True)
    assert r.status_code == 200 and "3 boxes received" in _messages(r)
    received = InventoryLine.objects.get(pk=line)
    assert not received.in_transit and received.arrival_date == stock.today()
    on_hand = ok(api("inventory.openmarket.list", g.token, {}, verb="GET"))["inventoryItems"]
    assert [(x["inventoryId"], x["quantity"]) for x in on_hand] == [(line, 3)]
    awb.refresh_from_db()
    assert (awb.pieces_received, awb.closed_at is not None) == (3, True)
    # Again: nothing is expected any more, said as a message, not an error page.
    again = client.post(reverse("purchasing_awb_receive", args=[awb.pk]), {"all": "1"}, follow=True)
    assert again.status_code == 200 and "received already" in _messages(again)


def test_receive_box_by_box(as_role, api, grower):
    g = grower
    _, line, awb = _shipped(api, g, boxes=3)
    first, *rest = _codes(awb)
    client = as_role(Role.ADMIN)
    url = reverse("purchasing_awb_receive", args=[awb.pk])
    r = client.post(url, {"codes": [first.lower()]}, follow=True)
    assert "1 box received" in _messages(r)
    assert InventoryLine.objects.get(pk=line).in_transit  # not complete yet
    page = client.get(reverse("purchasing_awb", args=[awb.pk])).content.decode()
    assert f'value="{first}"' not in page and all(f'value="{c}"' in page for c in rest)
    assert 'id="awb-received">1<' in page
    unknown = client.post(url, {"codes": ["NOPE-1"]}, follow=True)
    assert unknown.status_code == 200 and "NOPE-1" in _messages(unknown)
    assert "Tick the boxes" in _messages(client.post(url, {}, follow=True))
    r = client.post(url, {"codes": rest}, follow=True)
    assert "2 boxes received" in _messages(r) and "1 PO line(s) now on hand" in _messages(r)
    assert not InventoryLine.objects.get(pk=line).in_transit


def test_a_received_prebooked_line_ends_on_an_invoice(as_role, api, grower):
    g = grower
    need = make_prebook(g, boxes=2, price="0.600")
    _, line, awb = _shipped(api, g, prebook=need)
    r = as_role(Role.PURCHASING).post(
        reverse("purchasing_awb_receive", args=[awb.pk]), {"all": "1"}, follow=True
    )
    [invoice] = Invoice.objects.filter(company=g.company, customer=g.florist)
    assert f"Invoices made for prebooked boxes: {invoice.number} (Bloom Florist)" in _messages(r)
    assert list(InvoiceItem.objects.filter(invoice=invoice).values_list("line_id", "boxes")) == [
        (line, 2)
    ]


def test_another_companys_purchase_order_and_awb_are_not_found(
    as_role, api, grower, other_company, person
):
    po_id, _, awb = _shipped(api, grower)
    stranger = Client()
    stranger.force_login(person(Role.ADMIN, company_=other_company))
    assert stranger.get(reverse("purchase_order", args=[po_id])).status_code == 404
    assert stranger.get(reverse("purchasing_awb", args=[awb.pk])).status_code == 404
    r = stranger.post(reverse("purchasing_awb_receive", args=[awb.pk]), {"all": "1"})
    assert r.status_code == 404
    assert f'id="po-{po_id}"' not in stranger.get(reverse("purchase_orders")).content.decode()
    assert f'id="awb-{awb.pk}"' not in stranger.get(reverse("purchasing_awbs")).content.decode()
    awb.refresh_from_db()
    assert awb.pieces_received == 0


def test_receiving_needs_post_and_the_csrf_token(api, grower, person):
    _, _, awb = _shipped(api, grower)
    url = reverse("purchasing_awb_receive", args=[awb.pk])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person(Role.PURCHASING))
    assert strict.post(url, {"all": "1"}).status_code == 403
    assert strict.get(url).status_code == 405
    awb.refresh_from_db()
    assert awb.pieces_received == 0
