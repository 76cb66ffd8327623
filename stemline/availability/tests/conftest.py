"""Fixtures of vendor availability: a company with a grower (and its Vendor token), a
marketplace buyer with a User token, and a helper that offers boxes through the service."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from stemline.availability import services
from stemline.availability.models import Offer, Purchase
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.purchasing.models import PurchaseOrderItem
from stemline.sales.models import DocumentStatus, PrebookItem
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
def va(stocked, make_token):
    g = stocked
    g.today = stock.today()
    g.start = g.today + timedelta(days=2)
    g.end = g.today + timedelta(days=6)
    g.vendor_token = fast(make_token(g.company, "vendor", vendor_id=g.vendor.pk))
    g.token = fast(make_token(g.company))
    g.user_token = fast(make_token(g.company, "user"))

    def offer(boxes=10, *, replace=False, cost="0.400", start=None, end=None, rows=None):
        rows = rows or [
            services.OfferRow(
                line_number=2,
                product=g.product,
                box_type=g.box,
                unit_type="Stem",
                bunches=10,
                stems_bunch=25,
                boxes=boxes,
                unit_cost=Decimal(cost),
                available_from=start or g.start,
                available_to=end or g.end,
            )
        ]
        return services.offer(company=g.company, vendor=g.vendor, rows=rows, replace=replace)

    g.offer = offer
    return g


def check_offers(company) -> None:
    """What must hold after every step: an offer's line never oversold; what it offered is
    what is left on its line plus what was bought of it; every bought box is on exactly one
    purchase-order line, itself committed to the prebook line it fills."""
    for found in Offer.objects.filter(company=company).select_related("line"):
        line = InventoryLine.objects.get(pk=found.pk)
        assert 0 <= line.committed + line.held <= line.total
        assert found.offered == line.total + found.bought, found
        bought = Purchase.objects.filter(offer=found).aggregate(n=Sum("boxes"))["n"] or 0
        assert bought == found.bought
        # Sold boxes never stay committed on the offer itself: they moved to a PO line.
        assert (
            not PrebookItem.objects.filter(line=line)
            .exclude(prebook__status=DocumentStatus.VOIDED)
            .exists()
        )
    for purchase in Purchase.objects.filter(company=company):
        item = PurchaseOrderItem.objects.select_related("line").get(pk=purchase.po_item_id)
        assert item.line.committed == item.line.total == item.boxes
        assert PrebookItem.objects.get(pk=purchase.prebook_item_id).line_id == item.pk
