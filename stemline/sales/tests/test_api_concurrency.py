"""Buyers racing through the API for one product spec (Transactional API Access) on PostgreSQL:
every accepted order holds exactly what it asked for, nothing is oversold, nothing deadlocks."""

import json
import random
import threading
import traceback

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Sum
from django.test import Client

from stemline.inventory.models import InventoryLine
from stemline.parties.models import Customer
from stemline.sales.models import DocumentStatus, InvoiceItem, PrebookItem, WebOrder, WebOrderItem
from stemline.tokens.models import ApiToken

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and concurrent writers need PostgreSQL (DATABASE_URL=postgres://...)",
    ),
]

BUYERS = 16
ROUNDS = 6
JOIN_SECONDS = 120
BY_SPEC = {"productCode": "RFR50", "boxTypeCode": "HB"}


class Race:
    """Workers started at once, each on its own connection; what went wrong is kept."""

    def __init__(self, stocked, make_token, customers: int):
        self.account = str(stocked.company.account_id)
        self.errors: list[str] = []
        self.guard = threading.Lock()
        self.buyers = []  # (customer id, token secret)
        for n in range(customers):
            customer = Customer.objects.create(
                company=stocked.company, name=f"Spec Buyer {n}", default_price="AB"[n % 2]
            )
            issued = make_token(stocked.company, "customer", customer_id=customer.pk)
            ApiToken.objects.filter(pk=issued.token.pk).update(
                transactional=True, rate_per_second=10_000, rate_burst=10_000
            )
            self.buyers.append((customer.pk, issued.secret))

    def post(self, client, secret, method, data):
        r = client.post(
            f"/api/{method}",
            json.dumps(data),
            content_type="application/json",
            HTTP_AUTHENTICATIONTOKEN=secret,
            HTTP_X_ACCOUNT=self.account,
        )
        body = json.loads(r.content)
        assert r.status_code < 500, (method, data, r.status_code, body)
        return r.status_code, body

    def run(self, workers):
        start = threading.Barrier(len(workers))

        def body(work):
            try:
                start.wait()
                work(Client())
            except BaseException:
                with self.guard:
                    self.errors.append(traceback.format_exc())
            finally:
                connections.close_all()

        threads = [threading.Thread(target=body, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOIN_SECONDS)
        assert not any(t.is_alive() for t in threads), "a worker hung (lock wait never ended)"
        assert self.errors == [], "\n".join(self.errors)


def assert_books_balance(line_ids):
    """Held boxes are exactly the pending items; committed ones the live document items."""
    pending = WebOrderItem.objects.filter(web_order__status=WebOrder.Status.PENDING)
    sold = [
        InvoiceItem.objects.exclude(invoice__status=DocumentStatus.VOIDED),
        PrebookItem.objects.exclude(prebook__status=DocumentStatus.VOIDED),
    ]
    for line in InventoryLine.objects.filter(pk__in=line_ids):
        assert 0 <= line.committed + line.held <= line.total, vars(line)
        held = pending.filter(line=line).aggregate(n=Sum("quantity"))["n"] or 0
        committed = sum(qs.filter(line=line).aggregate(n=Sum("boxes"))["n"] or 0 for qs in sold)
        assert (line.held, line.committed) == (held, committed), line.pk


def test_buyers_by_product_spec_never_oversell(stocked, make_token):
    lines = [stocked.add(boxes).pk for boxes in (4, 7, 5)]
    race = Race(stocked, make_token, BUYERS)
    accepted: list[tuple[list[int], int]] = []
    refused: list[int] = []

    def buyer(n, secret):
        def work(client):
            rng = random.Random(n)
            for _ in range(ROUNDS):
                quantity = rng.randint(1, 3)
                status, body = race.post(
                    client, secret, "web-order-item.add", {**BY_SPEC, "quantity": quantity}
                )
                if status == 409:
                    [short] = body["shortages"]
                    assert short["available"] < short["requested"] == quantity, body
                    with race.guard:
                        refused.append(quantity)
                    continue
                assert status == 200, body
                with race.guard:
                    accepted.append((body["webOrderItemIds"], quantity))

        return work

    race.run([buyer(n, secret) for n, (_, secret) in enumerate(race.buyers)])

    # Each accepted answer is exactly the boxes it asked for, spread over the lines.
    for item_ids, quantity in accepted:
        items = WebOrderItem.objects.filter(pk__in=item_ids)
        assert sum(i.quantity for i in items) == quantity
    held = sum(q for _, q in accepted)
    rows = InventoryLine.objects.filter(pk__in=lines)
    assert 0 < held <= 16
    assert sum(line.held for line in rows) == held
    # Demand (16 buyers x 6 rounds, 1 to 3 boxes each) far exceeds the stock: buyers were
    # turned away, and (stock only shrinks here) what is left is less than any refused request.
    assert refused
    assert sum(line.available for line in rows) < min(refused)
    assert_books_balance(lines)


def test_adding_by_spec_while_the_same_customer_checks_out_never_deadlocks(stocked, make_token):
    """Adding locks the customer's pending order before the lines, as checkout and cancel do;
    the other way round a customer's add and its own checkout could wait on each other."""
    lines = [stocked.add(100).pk for _ in range(3)]
    race = Race(stocked, make_token, BUYERS // 2)
    outcomes: list[int] = []

    def adder(secret, done):
        def work(client):
            try:
                for _ in range(3 * ROUNDS):
                    status, body = race.post(
                        client, secret, "web-order-item.add", {**BY_SPEC, "quantity": 1}
                    )
                    assert status == 200, body
            finally:
                done.set()

        return work

    def closer(customer_id, secret, done):
        def work(client):
            rng = random.Random(customer_id)
            while not done.is_set():
                order = WebOrder.objects.filter(customer_id=customer_id, status=1).last()
                if order is None:
                    done.wait(0.005)
                    continue
                method = rng.choice(
                    ["web-order.checkout", "web-order.checkout", "web-order.delete"]
                )
                status, body = race.post(client, secret, method, {"webOrderId": order.pk})
                # 409: the order was empty, or the adder's new line came after it closed.
                assert status in (200, 409), body
                with race.guard:
                    outcomes.append(status)

        return work

    workers = []
    for customer_id, secret in race.buyers:
        done = threading.Event()
        workers += [adder(secret, done), closer(customer_id, secret, done)]
    race.run(workers)

    assert 200 in outcomes
    assert_books_balance(lines)
