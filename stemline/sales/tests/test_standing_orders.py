"""Standing orders: v2/standing-order create/update/list, item delete, standing.order.list, and
the task that makes their prebooks (type S) on truck days, once, even with two workers."""

import threading
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connections

from stemline.sales import standing
from stemline.sales.models import Prebook, StandingOrder
from stemline.sales.tasks import generate_standing_order_prebooks
from stemline.tokens.models import ApiToken

MONDAY = date(2031, 3, 3)


def _fast(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


def _ok(r):
    assert r.status_code == 200, r.json_body
    return r.json_body


def _body(stocked, **extra):
    return {
        "customerId": stocked.florist.pk,
        "startDate": str(MONDAY),
        "recurrence": 2,
        "truckDays": "Monday, Thursday",
        "comments": "Weekly roses",
        "items": [
            {
                "productId": stocked.product.pk,
                "boxTypeCode": "HB",
                "unitType": "Bunch",
                "boxes": 3,
                "bunches": 10,
                "stemsBunch": 25,
                "price": "4.5",
            }
        ],
        **extra,
    }


@pytest.mark.django_db
def test_create_update_list_and_item_delete(api, stocked, make_token):
    token = _fast(make_token(stocked.company))
    made = _ok(api("v2/standing-order", token, _body(stocked)))
    order = StandingOrder.objects.get(pk=made["standingOrderId"])
    assert (order.truck_days, order.recurrence) == ([0, 3], 2)
    [row] = made["standingOrders"]
    assert row["days"] == "Monday, Thursday" and len(row["items"]) == 1

    item_id = row["items"][0]["standingOrderItemId"]
    r = api(
        "v2/standing-order",
        token,
        {"standingOrderID": order.pk, "truckDays": ["fri"], "recurrence": 1},
        verb="PUT",
    )
    assert _ok(r)["standingOrders"][0]["days"] == "Friday"
    r = api("v2/standing-order", token, {"recurrence": 1}, verb="PUT")
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "standingOrderID"
    r = api("v2/standing-order", token, _body(stocked, truckDays="Someday"))
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "truckDays"

    listed = api(
        "standing.order.list",
        token,
        {"dateFrom": str(MONDAY), "dateTo": str(MONDAY + timedelta(days=30))},
        verb="GET",
    )
    assert [o["id"] for o in _ok(listed)["standingOrders"]] == [order.pk]
    assert [o["id"] for o in _ok(api("v2/standing-order", token, {}, verb="GET"))["standingOrders"]]

    r = api(
        "v2/standing-order/item",
        token,
        {"standingOrderId": order.pk, "standingOrderItemId": item_id},
        verb="DELETE",
    )
    assert _ok(r)["message"] == "Standing Order Item was deleted successfully."
    assert not order.items.exists()


@pytest.mark.django_db
def test_customer_token_sees_only_its_standing_orders(api, stocked, make_token):
    company = _fast(make_token(stocked.company))
    _ok(api("v2/standing-order", company, _body(stocked)))
    other = _fast(make_token(stocked.company, "customer", customer_id=stocked.market.pk))
    assert _ok(api("v2/standing-order", other, {}, verb="GET"))["standingOrders"] == []


def _order(stocked, **fields):
    token_free = standing.create(
        company=stocked.company,
        location=stocked.location,
        customer=stocked.florist,
        start_date=MONDAY,
        recurrence=fields.pop("recurrence", 2),
        truck_days=fields.pop("truck_days", [0, 3]),
        items=[
            standing.SOItem(
                product=stocked.product,
                box_type=stocked.box,
                unit_type="Bunch",
                boxes=3,
                bunches=10,
                stems_bunch=25,
                price=4,
            )
        ],
        **fields,
    )
    return token_free


@pytest.mark.django_db
def test_generation_makes_type_s_prebooks_on_truck_days_every_other_week(stocked):
    order = _order(stocked)
    made = standing.generate(today=MONDAY, days_ahead=20)
    days = sorted(Prebook.objects.filter(standing_order=order).values_list("ship_date", flat=True))
    # Monday and Thursday of weeks 0 and 2 (recurrence 2); week 1 skipped.
    assert days == [MONDAY, MONDAY + timedelta(3), MONDAY + timedelta(14), MONDAY + timedelta(17)]
    assert made == 4
    prebook = Prebook.objects.filter(standing_order=order).first()
    assert prebook.kind == "S" and prebook.items.get().boxes == 3
    assert prebook.amount == 120 and prebook.transaction_fee > 0
    # Running again makes nothing new.
    assert standing.generate(today=MONDAY, days_ahead=20) == 0
    # The task looks from the real today: this order starts years later, so nothing is due.
    assert generate_standing_order_prebooks.call() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="two workers at once need PostgreSQL (DATABASE_URL=postgres://...)",
)
def test_two_workers_generating_at_once_never_double(stocked):
    orders = [_order(stocked, recurrence=1, truck_days=list(range(7))) for _ in range(4)]
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(standing.generate(today=MONDAY, days_ahead=6))
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(results) == 4 * 7
    for order in orders:
        assert Prebook.objects.filter(standing_order=order).count() == 7
