"""The sales services end to end: hold, checkout into invoice and prebook with the fee."""

from decimal import Decimal

import pytest

from stemline.core.errors import Conflict
from stemline.inventory.models import InventoryLine
from stemline.sales import services
from stemline.sales.models import DocumentStatus

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
