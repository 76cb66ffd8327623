"""Several buyers at once on a grower's offers, on PostgreSQL with real threads, while the
grower replaces its offer: nothing oversold, nothing deadlocked, every sold box bought once,
and all of it on one purchase order to the grower."""

import random
import threading
import traceback
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Sum

from stemline.availability import services
from stemline.availability.models import Offer, Purchase
from stemline.core.errors import Conflict
from stemline.inventory import services as stock
from stemline.inventory.models import Origin
from stemline.parties.models import Customer
from stemline.purchasing.models import PurchaseOrder, PurchaseOrderItem
from stemline.sales import services as sales
from stemline.sales.models import PrebookItem

from .conftest import check_offers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and real concurrent writers need PostgreSQL; SQLite serialises "
        "every write transaction (run with DATABASE_URL=postgres://...)",
    ),
]

BUYERS = 8
ROUNDS = 6
OFFERED = 12
JOIN_SECONDS = 120


def _row(g, boxes, start):
    return services.OfferRow(
        line_number=2,
        product=g.product,
        box_type=g.box,
        unit_type="Stem",
        bunches=10,
        stems_bunch=25,
        boxes=boxes,
        unit_cost=Decimal("0.400"),
        available_from=start,
        available_to=start + timedelta(days=3),
    )


def test_buyers_at_once_never_oversell_an_offer(stocked):
    g = stocked
    start = stock.today() + timedelta(days=2)
    # Two offers of one grower for the same window: sales of either go onto one PO.
    first = services.offer(company=g.company, vendor=g.vendor, rows=[_row(g, OFFERED, start)])
    other = _row(g, OFFERED, start)
    other.stems_bunch = 20
    second = services.offer(company=g.company, vendor=g.vendor, rows=[other])
    offers = [first[0].offer.pk, second[0].offer.pk]
    buyers = [
        Customer.objects.create(company=g.company, name=f"Market {n}", code=f"M{n}")
        for n in range(BUYERS)
    ]
    errors: list[str] = []
    sold: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(BUYERS + 1)

    def buyer(customer):
        rng = random.Random(customer.pk)
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                offer_id = rng.choice(offers)
                boxes = rng.randint(1, 3)
                try:
                    added = sales.add_items(
                        company=g.company,
                        customer_id=customer.pk,
                        requests=[sales.ItemRequest(offer_id, boxes)],
                        origin=Origin.VENDOR_AVAILABILITY,
                    )
                    sales.checkout(
                        company=g.company,
                        customer_id=customer.pk,
                        web_order_id=added.web_order.pk,
                    )
                except Conflict:
                    with lock:
                        refused.append(boxes)
                else:
                    with lock:
                        sold.append(boxes)
        except BaseException:
            with lock:
                errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    def grower():
        # Meanwhile the grower replaces its offer, down to fewer boxes than it had.
        try:
            barrier.wait()
            for boxes in (8, 4, 2):
                services.offer(
                    company=g.company,
                    vendor=g.vendor,
                    rows=[_row(g, boxes, start), other],
                    replace=True,
                )
        except BaseException:
            with lock:
                errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buyer, args=(c,)) for c in buyers]
    threads.append(threading.Thread(target=grower))
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
    assert not any(t.is_alive() for t in threads), "a worker hung (lock wait never ended)"
    assert errors == [], errors[0]
    assert sold, "no buyer got anything"
    assert refused, "the offers were never short: the race did not test anything"
    check_offers(g.company)
    bought = Offer.objects.filter(pk__in=offers).aggregate(n=Sum("bought"))["n"]
    assert bought == sum(sold) <= 2 * OFFERED
    # Every sold box is on a prebook line filled by a PO line, all on one PO to the grower.
    assert PrebookItem.objects.filter(company=g.company).aggregate(n=Sum("boxes"))["n"] == bought
    assert Purchase.objects.aggregate(n=Sum("boxes"))["n"] == bought
    assert PurchaseOrder.objects.filter(company=g.company).count() == 1
    po_boxes = PurchaseOrderItem.objects.filter(purchase_order__vendor=g.vendor).aggregate(
        n=Sum("boxes")
    )["n"]
    assert po_boxes == bought
    for found in Offer.objects.filter(pk__in=offers):
        # Replacing never took an offer below what was sold of it.
        assert found.offered >= found.bought
