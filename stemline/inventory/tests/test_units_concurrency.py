"""Opening boxes while the same boxes, and the bunches already opened, are being sold, on
PostgreSQL with real threads: nothing is lost or doubled, nothing deadlocks."""

import threading

import pytest
from django.conf import settings
from django.db.models import Sum

from stemline.core.errors import DomainError
from stemline.inventory import services as stock
from stemline.inventory.models import Box, InventoryLine
from stemline.parties.models import Customer
from stemline.sales import services as sales
from stemline.sales.models import InvoiceItem
from stemline.sales.tests.test_concurrency import Race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and real concurrent writers need PostgreSQL "
        "(DATABASE_URL=postgres://...)",
    ),
]

BOXES = 24
WORKERS = 4  # of each kind
ROUNDS = 12


def test_opening_boxes_while_they_and_their_bunches_sell_loses_and_doubles_nothing(stocked):
    line = stocked.add(BOXES)  # 10 bunches of 25 stems a box
    company = stocked.company
    buyers = [
        Customer.objects.create(company=company, name=f"Florist {i}", code=f"F{i}")
        for i in range(2 * WORKERS)
    ]
    # One box open before the race, so bunches sell from its first moment.
    stock.open_boxes(company=company, line_id=line.pk, boxes=1, unit_type="Bunch")
    done = {"opened": 1, "boxes_sold": 0, "bunches_sold": 0}
    tally = threading.Lock()

    def count(name, n):
        with tally:
            done[name] += n

    def opener():
        for _ in range(ROUNDS):
            try:
                opened = stock.open_boxes(
                    company=company, line_id=line.pk, boxes=1, unit_type="Bunch"
                )
            except DomainError:
                continue
            count("opened", opened.boxes)

    def buy(customer, line_id, quantity, name):
        try:
            added = sales.add_items(
                company=company,
                customer_id=customer.pk,
                requests=[sales.ItemRequest(line_id, quantity)],
                origin=1,
            )
            sales.checkout(
                company=company, customer_id=customer.pk, web_order_id=added.web_order.pk
            )
        except DomainError:
            return
        count(name, quantity)

    def box_buyer(customer):
        def work():
            for _ in range(ROUNDS):
                buy(customer, line.pk, 1, "boxes_sold")

        return work

    def bunch_buyer(customer):
        def work():
            for _ in range(ROUNDS):
                units = (
                    InventoryLine.objects.filter(opened_from=line, unit_type="Bunch")
                    .values_list("pk", flat=True)
                    .first()
                )
                if units is not None:
                    buy(customer, units, 7, "bunches_sold")

        return work

    race = Race()
    race.run(
        [opener] * WORKERS
        + [box_buyer(c) for c in buyers[:WORKERS]]
        + [bunch_buyer(c) for c in buyers[WORKERS:]]
    )
    assert not race.errors, race.errors[0]

    line.refresh_from_db()
    # Every box is sold, opened or still whole: none lost, none counted twice.
    assert line.opened == done["opened"] > 1
    assert line.committed == done["boxes_sold"] > 0
    assert line.total + line.opened == BOXES
    assert line.held == 0 and line.total >= line.committed
    labels = Box.objects.filter(line=line)
    assert labels.filter(opened_at__isnull=False).count() == line.opened
    assert not labels.filter(opened_at__isnull=False, removed_at__isnull=False).exists()
    [units] = InventoryLine.objects.filter(opened_from=line)
    # The opened boxes' bunches, all of them and no more; those sold are on the invoices.
    assert units.total == 10 * line.opened
    assert 0 < units.committed == done["bunches_sold"] <= units.total
    assert units.held == 0
    invoiced = InvoiceItem.objects.filter(line=units).aggregate(n=Sum("boxes"))["n"] or 0
    assert invoiced == units.committed
    invoiced_boxes = InvoiceItem.objects.filter(line=line).aggregate(n=Sum("boxes"))["n"]
    assert invoiced_boxes == line.committed
