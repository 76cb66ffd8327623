"""Whole web orders (add, then checkout) racing on PostgreSQL: readers following
`inventory.sync` and `invoice.sync` never skip a number or see one twice, every change of the
orders is in the feeds, and no invoice number is given twice."""

import threading
import time
import traceback

import pytest
from django.conf import settings
from django.db import connections

from stemline.inventory import queries as stock_queries
from stemline.inventory.models import InventoryChange, InventoryLine, Origin
from stemline.sales import queries, services
from stemline.sales.models import DocumentChange, Invoice

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="concurrent writers need PostgreSQL (SQLite serialises every write)",
    ),
]

BUYERS = 6
ORDERS = 8


def test_feeds_keep_every_number_while_whole_orders_race(stocked):
    company = stocked.company
    lines = [stocked.add(boxes=100) for _ in range(3)]
    customers = [stocked.florist, stocked.market]
    changes_before = InventoryChange.objects.filter(company=company).count()
    seen_stock: list[InventoryChange] = []
    seen_invoices: list[DocumentChange] = []
    errors: list[str] = []
    writing = threading.Event()
    writing.set()

    def buyer(n):
        try:
            for i in range(ORDERS):
                # Two lines named in either order: the locks are taken by primary key anyway.
                a, b = lines[(n + i) % 3], lines[(n + i + 1) % 3]
                # Each buyer its own order (two buyers of one customer would otherwise add to
                # the customer's one pending order, and the second checkout find it done).
                order = services.create_web_order(
                    company=company, customer_id=customers[n % 2].pk, location_id=None
                )
                added = services.add_items(
                    company=company,
                    customer_id=customers[n % 2].pk,
                    requests=[services.ItemRequest(a.pk, 1), services.ItemRequest(b.pk, 2)],
                    origin=Origin.ON_HAND,
                    web_order_id=order.pk,
                )
                services.checkout(
                    company=company,
                    customer_id=customers[n % 2].pk,
                    web_order_id=added.web_order.pk,
                )
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    def follow(read, into):
        since = 0
        try:
            while True:
                done = not writing.is_set()
                batch = read(since)
                into.extend(batch)
                if batch:
                    since = batch[-1].seq
                elif done:
                    return
                else:
                    time.sleep(0.005)
        except Exception:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    readers = [
        threading.Thread(
            target=follow, args=(lambda s: stock_queries.changes(company, s), seen_stock)
        ),
        threading.Thread(
            target=follow,
            args=(lambda s: queries.changes(company, "invoices", s), seen_invoices),
        ),
    ]
    buyers = [threading.Thread(target=buyer, args=(n,)) for n in range(BUYERS)]
    for t in [*readers, *buyers]:
        t.start()
    for t in buyers:
        t.join(180)
    writing.clear()
    for t in readers:
        t.join(60)
    assert not errors, errors[0]
    assert not any(t.is_alive() for t in [*readers, *buyers])

    orders = BUYERS * ORDERS
    # Each order: two lines held, then the same two sold.
    assert InventoryChange.objects.filter(company=company).count() == changes_before + 4 * orders
    for seen, model in ((seen_stock, InventoryChange), (seen_invoices, DocumentChange)):
        total = model.objects.filter(company=company).count()
        assert [c.seq for c in seen] == list(range(1, total + 1))
        assert len({c.pk for c in seen}) == total
        assert not model.objects.filter(company=company, seq__isnull=True).exists()
    assert len(seen_invoices) == orders
    # Every invoice has a number of its own; every box is accounted for.
    numbers = list(Invoice.objects.filter(company=company).values_list("number", flat=True))
    assert len(numbers) == orders == len(set(numbers))
    sold = {line.pk: 0 for line in lines}
    for n in range(BUYERS):
        for i in range(ORDERS):
            sold[lines[(n + i) % 3].pk] += 1
            sold[lines[(n + i + 1) % 3].pk] += 2
    for line in InventoryLine.objects.filter(pk__in=sold):
        assert (line.held, line.committed) == (0, sold[line.pk])
