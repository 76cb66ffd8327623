"""The sales services end to end: hold, checkout into invoice and prebook with the fee."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stemline.core.errors import Conflict
from stemline.inventory.models import InventoryLine
from stemline.sales import services
from stemline.sales.models import DocumentStatus, WebOrder, WebOrderItem

pytestmark = pytest.mark.django_db


def test_checkout_splits_on_hand_and_future_and_charges_the_fee(stocked):
    today, later = stocked.add(10), stocked.add(5, future_days=7)
    services.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=1,
        requests=[services.ItemRequest(today.pk, 3)],
    )
    result = services.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=2,
        requests=[services.ItemRequest(later.pk, 2)],
    )
    today.refresh_from_db()
    assert (today.held, today.available) == (3, 7)
    done = services.checkout(
        company=stocked.company, customer_id=stocked.florist.pk, web_order_id=result.web_order.pk
    )
    # 3 half boxes x 250 stems x 0.50 = 375.00; 2 x 250 x 0.50 = 250.00; fee 1.5%
    assert done.invoice.amount == Decimal("375.00")
    assert done.invoice.transaction_fee == Decimal("5.63")
    assert done.prebook.amount == Decimal("250.00")
    assert done.prebook.transaction_fee == Decimal("3.75")
    assert done.invoice.status == DocumentStatus.PENDING_APPROVAL
    today.refresh_from_db()
    assert (today.committed, today.held, today.available) == (3, 0, 7)


def test_holding_more_than_available_writes_nothing(stocked):
    a, b = stocked.add(2), stocked.add(5)
    with pytest.raises(Conflict) as refused:
        services.add_items(
            company=stocked.company,
            customer_id=stocked.florist.pk,
            origin=1,
            requests=[
                services.ItemRequest(b.pk, 1),
                services.ItemRequest(a.pk, 2),
                services.ItemRequest(a.pk, 1),
            ],
        )
    assert refused.value.details["shortages"] == [
        {"inventoryId": a.pk, "requested": 3, "available": 2}
    ]
    assert list(InventoryLine.objects.values_list("held", flat=True)) == [0, 0]


def _add(stocked, *requests):
    return services.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=1,
        requests=[services.ItemRequest(line.pk, boxes) for line, boxes in requests],
    )


def test_an_orders_items_are_written_with_the_boxes_they_hold(stocked):
    """On PostgreSQL the items are written by the statement that holds the first line's boxes
    (one round trip fewer an add), in the order they were asked for, whatever the lines' order."""
    a, b, c = stocked.add(5), stocked.add(5), stocked.add(5)
    with CaptureQueriesContext(connection) as captured:
        result = _add(stocked, (c, 1), (a, 2), (b, 3))
    item_table = WebOrderItem._meta.db_table
    writes = [q["sql"] for q in captured.captured_queries if item_table in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and writes[0].startswith("WITH moved AS (UPDATE"), writes
    keys = [item.pk for item in result.items]
    assert keys == sorted(keys) and None not in keys
    assert list(
        WebOrderItem.objects.filter(web_order=result.web_order)
        .order_by("pk")
        .values_list("pk", "line_id", "quantity")
    ) == [(keys[0], c.pk, 1), (keys[1], a.pk, 2), (keys[2], b.pk, 3)]
    assert [line.held for line in InventoryLine.objects.order_by("pk")] == [2, 3, 1]


def test_a_refused_hold_leaves_no_item_and_no_order(stocked):
    # The first line moves (and writes the items), the last is short: all of it is undone.
    a, b = stocked.add(5), stocked.add(1)
    orders = WebOrder.objects.count()
    with pytest.raises(Conflict):
        _add(stocked, (b, 2), (a, 1))
    assert WebOrderItem.objects.count() == 0
    assert WebOrder.objects.count() == orders
    assert [line.held for line in InventoryLine.objects.order_by("pk")] == [0, 0]


def test_checkout_puts_the_items_on_the_invoice_in_the_order_they_were_added(stocked):
    a, b = stocked.add(5), stocked.add(5)
    result = _add(stocked, (b, 1), (a, 2), (b, 2))
    done = services.checkout(
        company=stocked.company, customer_id=stocked.florist.pk, web_order_id=result.web_order.pk
    )
    assert [(line.web_order_item_id, line.boxes) for line in done.invoice.items.order_by("pk")] == [
        (item.pk, item.quantity) for item in result.items
    ]
    assert [line.committed for line in InventoryLine.objects.order_by("pk")] == [2, 3]


def test_checkout_of_an_order_without_lines_is_refused_and_leaves_it_pending(stocked):
    order = services.create_web_order(
        company=stocked.company, customer_id=stocked.florist.pk, location_id=None
    )
    with pytest.raises(Conflict, match="has no lines"):
        services.checkout(
            company=stocked.company, customer_id=stocked.florist.pk, web_order_id=order.pk
        )
    order.refresh_from_db()
    assert order.status == WebOrder.Status.PENDING
