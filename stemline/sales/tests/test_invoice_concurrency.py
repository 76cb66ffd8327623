"""Invoice lines and web orders racing for the same boxes on PostgreSQL: nothing is oversold,
nothing deadlocks, and every box held or sold is on exactly one live line."""

import random

import pytest
from django.conf import settings

from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.tokens.models import ApiToken

from .test_api_concurrency import ROUNDS, Race, assert_books_balance

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and concurrent writers need PostgreSQL (DATABASE_URL=postgres://...)",
    ),
]


def test_invoice_lines_and_web_orders_never_oversell(stocked, make_token):
    lines = [stocked.add(boxes).pk for boxes in (6, 9, 5)]
    race = Race(stocked, make_token, 6)
    sellers = []
    for _ in range(6):
        issued = make_token(stocked.company)
        ApiToken.objects.filter(pk=issued.token.pk).update(
            rate_per_second=10_000, rate_burst=10_000
        )
        sellers.append(issued.secret)
    outcomes: list[tuple[str, int]] = []

    def buyer(n, secret):
        def work(client):
            rng = random.Random(n)
            for _ in range(ROUNDS):
                status, body = race.post(
                    client,
                    secret,
                    "web-order-item.add",
                    {
                        "inventoryIds": [rng.choice(lines)],
                        "inventoryOrigin": 1,
                        "quantity": rng.randint(1, 3),
                    },
                )
                assert status in (200, 409), body
                if status == 200 and rng.random() < 0.5:
                    status, body = race.post(
                        client, secret, "web-order.checkout", {"webOrderId": body["webOrderId"]}
                    )
                    assert status == 200, body
                with race.guard:
                    outcomes.append(("web", status))

        return work

    def seller(n, secret):
        def work(client):
            rng = random.Random(100 + n)
            for _ in range(ROUNDS):
                picked = rng.sample(lines, 2)
                items = [
                    {"orderItemId": pk, "boxes": rng.randint(1, 2), "price": "0.5"} for pk in picked
                ]
                if rng.random() < 0.3:
                    items = [{"productCode": "RFR50", "boxTypeCode": "HB", "boxes": 2, "price": 1}]
                status, body = race.post(
                    client,
                    secret,
                    "invoice.create",
                    {
                        "customerId": stocked.florist.pk,
                        "shipDate": str(stock.today()),
                        "invoiceItems": items,
                    },
                )
                assert status in (200, 409), body
                with race.guard:
                    outcomes.append(("invoice", status))
                if status != 200:
                    continue
                roll = rng.random()
                if roll < 0.3:
                    status, body = race.post(
                        client,
                        secret,
                        "invoice.void",
                        {"invoiceId": body["invoiceId"], "reason": "race"},
                    )
                    assert status == 200, body
                elif roll < 0.6:
                    status, body = race.post(
                        client,
                        secret,
                        "invoice.item.delete",
                        {
                            "invoiceId": body["invoiceId"],
                            "invoiceItemId": body["invoiceItems"][0]["invoiceItemId"],
                        },
                    )
                    assert status == 200, body

        return work

    workers = [buyer(n, secret) for n, (_, secret) in enumerate(race.buyers)]
    workers += [seller(n, secret) for n, secret in enumerate(sellers)]
    race.run(workers)

    assert ("invoice", 200) in outcomes and ("web", 200) in outcomes
    assert ("invoice", 409) in outcomes or ("web", 409) in outcomes  # stock ran short
    for line in InventoryLine.objects.filter(pk__in=lines):
        assert 0 <= line.available <= line.total
    assert_books_balance(lines)
