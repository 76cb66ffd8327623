"""Fixtures of purchasing: a grower with its Vendor token, an inbound carrier, prebooks that
still need buying, and the quantity invariants every test checks after each step."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.parties.models import Carrier, Vendor
from stemline.purchasing.models import AwbBox, PrebookDelivery, PurchaseOrderItem
from stemline.sales import services as sales
from stemline.sales.models import (
    DocumentStatus,
    InvoiceItem,
    Prebook,
    PrebookItem,
    WebOrder,
    WebOrderItem,
)
from stemline.tokens.models import ApiToken


def ok(response) -> dict:
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1, response.json_body
    return response.json_body


def refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.json_body
    assert response.json_body["status"] == 0
    if field is not None:
        assert field in [e["field"] for e in response.json_body["errors"]], response.json_body
    return response.json_body


def fast(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def grower(stocked, make_token):
    """The stocked company with an inbound carrier, its grower's Vendor token, a second grower
    with its own token, and a fast Company token."""
    g = stocked
    g.carrier = Carrier.objects.create(
        company=g.company, name="Avianca Cargo", code="AVC", direction="inbound"
    )
    g.truck = Carrier.objects.create(company=g.company, name="Local Truck", code="TRK")
    g.vendor_token = fast(make_token(g.company, "vendor", vendor_id=g.vendor.pk))
    g.rival = Vendor.objects.create(
        company=g.company, name="Flores del Sur", code="FDS", port_origin="BOG"
    )
    g.rival_token = fast(make_token(g.company, "vendor", vendor_id=g.rival.pk))
    g.token = fast(make_token(g.company))
    g.ship = stock.today() + timedelta(days=3)
    return g


def standalone(g, boxes=10, **extra) -> dict:
    return {
        "productCode": g.product.legacy_code,
        "boxTypeCode": "HB",
        "boxes": boxes,
        "unitType": "stem",
        "bunches": 10,
        "stemsBunch": 25,
        "unitCost": "0.300",
        **extra,
    }


def make_prebook(g, boxes=5, customer=None, price="0.600") -> PrebookItem:
    """A prebook the company's sales rep wrote for a customer: a purchase need, sourced from
    no inventory yet (the buyer fills it with a PO)."""
    customer = customer or g.florist
    prebook = Prebook.objects.create(
        company=g.company,
        location=g.location,
        number=sales.next_number(g.company, g.location, "prebook"),
        customer=customer,
        ship_date=g.ship + timedelta(days=2),
        via_api=False,
    )
    return PrebookItem.objects.create(
        company=g.company,
        prebook=prebook,
        product=g.product,
        box_type=g.box,
        boxes=boxes,
        unit_type="Stem",
        units_per_box=250,
        price=Decimal(price),
    )


def check_invariants(company) -> None:
    """What must hold after every step: no line oversold; every committed box is on exactly
    one live document line; every held box in a pending web order; a PO line's inventory
    line counts what the farm confirmed; shipped boxes are the line's boxes."""
    for line in InventoryLine.objects.filter(company=company):
        assert 0 <= line.committed + line.held <= line.total, line
        prebooked = (
            PrebookItem.objects.filter(line=line)
            .exclude(prebook__status=DocumentStatus.VOIDED)
            .exclude(pk__in=PrebookDelivery.objects.values("prebook_item_id"))
            .aggregate(n=Sum("boxes"))["n"]
            or 0
        )
        invoiced = (
            InvoiceItem.objects.filter(line=line)
            .exclude(invoice__status=DocumentStatus.VOIDED)
            .aggregate(n=Sum("boxes"))["n"]
            or 0
        )
        assert line.committed == prebooked + invoiced, (line, line.committed, prebooked, invoiced)
        held = (
            WebOrderItem.objects.filter(
                line=line, web_order__status=WebOrder.Status.PENDING
            ).aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        assert line.held == held, (line, line.held, held)
    for item in PurchaseOrderItem.objects.filter(company=company).select_related("line"):
        line = item.line
        if item.status == PurchaseOrderItem.Status.CANCELLED:
            assert line.total == 0, item
        elif item.status == PurchaseOrderItem.Status.PENDING:
            assert line.total == (item.boxes if item.order_type == "P" else 0), item
        else:
            assert line.total == item.confirmed_boxes, (item, line.total, item.confirmed_boxes)
        shipped = AwbBox.objects.filter(item=item).count()
        assert shipped in (0, line.total), (item, shipped, line.total)
        assert line.boxes.filter(removed_at__isnull=True).count() == shipped
