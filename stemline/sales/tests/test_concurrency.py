"""Buyers racing for a few hot lines on PostgreSQL: nothing oversold, nothing deadlocked."""

import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Sum
from django.utils import timezone

from stemline.api.registry import registry
from stemline.core.errors import Conflict
from stemline.core.models import Company, Location
from stemline.hardgoods.tests.conftest import Supplies
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine, Origin
from stemline.parties.models import Customer
from stemline.sales import hardgood_lines, services
from stemline.sales.models import (
    DocumentStatus,
    Invoice,
    InvoiceItem,
    NumberCounter,
    Prebook,
    PrebookItem,
    WebOrder,
    WebOrderItem,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and real concurrent writers need PostgreSQL; SQLite serialises "
        "every write transaction (run with DATABASE_URL=postgres://...)",
    ),
]

BUYERS = 16
ROUNDS = 30
HOT_BOXES = 10
# Long enough for a slow CI machine; a lock wait that never ends shows up as a hung worker.
JOIN_SECONDS = 120


class Race:
    """Runs workers at once on their own database connections and keeps what went wrong."""

    def __init__(self):
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def run(self, workers):
        start = threading.Barrier(len(workers))

        def body(work):
            try:
                start.wait()
                work()
            except BaseException:
                with self.lock:
                    self.errors.append(traceback.format_exc())
            finally:
                # Each thread has its own connection; leaving it open would keep the test
                # database busy when it is flushed and dropped.
                connections.close_all()

        threads = [threading.Thread(target=body, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOIN_SECONDS)
        assert not any(t.is_alive() for t in threads), "a worker hung (lock wait never ended)"


class Buyer:
    """One customer adding, deleting, cancelling and checking out its own web orders."""

    def __init__(self, company_id, customer_id, lines, seed, *, tolerate_expiry=False):
        self.company_id, self.customer_id = company_id, customer_id
        self.lines = lines  # {origin: [line ids]}
        self.rng = random.Random(seed)
        self.tolerate_expiry = tolerate_expiry
        self.order_id = None
        self.items: list[int] = []
        self.checked_out: set[int] = set()
        self.cancelled_after_checkout: set[int] = set()
        self.counts: Counter = Counter()

    def __call__(self):
        self.company = Company.objects.get(pk=self.company_id)
        for _ in range(ROUNDS):
            action = self.rng.choices(
                [self.add, self.delete, self.cancel, self.checkout, self.cancel_checked_out],
                weights=[6, 2, 1, 3, 1],
            )[0]
            try:
                action()
            except Conflict as refused:
                self.refused(refused)

    def refused(self, error):
        """Lack of stock is the one refusal a buyer expects (and the expiry of its order when
        the sweeper runs); anything else fails the test."""
        if "shortages" in error.details:
            for short in error.details["shortages"]:
                assert short["available"] < short["requested"], short
            self.counts["short"] += 1
        elif self.tolerate_expiry and error.field == "webOrderId":
            self.counts["expired under me"] += 1
            self.order_id, self.items = None, []
        else:
            raise error

    def add(self):
        origin = self.rng.choice([Origin.ON_HAND, Origin.ON_HAND, Origin.FUTURE])
        # Sometimes several lines at once, sometimes the same line twice in one request.
        picks = [self.rng.choice(self.lines[origin]) for _ in range(self.rng.randint(1, 3))]
        order_id, item_ids = self._add(origin, picks, self.rng.randint(1, 3))
        if self.order_id not in (None, order_id):
            self.items = []
        self.order_id = order_id
        self.items += item_ids
        self.counts["added"] += 1

    def delete(self):
        if not self.items:
            return
        item = self.items.pop(self.rng.randrange(len(self.items)))
        self._delete(self.order_id, item)
        self.counts["deleted"] += 1

    def cancel(self):
        if self.order_id is None:
            return
        self._cancel(self.order_id)
        self.order_id, self.items = None, []
        self.counts["cancelled"] += 1

    def checkout(self):
        if not self.items:
            return
        self._checkout(self.order_id)
        self.checked_out.add(self.order_id)
        self.order_id, self.items = None, []
        self.counts["checked out"] += 1

    def cancel_checked_out(self):
        # The documents still wait for approval, so the buyer may change its mind.
        left = sorted(self.checked_out - self.cancelled_after_checkout)
        if not left:
            return
        order_id = self.rng.choice(left)
        self._cancel(order_id)
        self.cancelled_after_checkout.add(order_id)
        self.counts["cancelled after checkout"] += 1

    # Through the services, the way the API methods call them.

    def _add(self, origin, line_ids, boxes):
        result = services.add_items(
            company=self.company,
            customer_id=self.customer_id,
            origin=origin,
            requests=[services.ItemRequest(pk, boxes) for pk in line_ids],
            web_order_id=self.order_id,
        )
        return result.web_order.pk, [i.pk for i in result.items]

    def _delete(self, order_id, item_id):
        services.delete_item(
            company=self.company,
            customer_id=self.customer_id,
            web_order_id=order_id,
            item_id=item_id,
        )

    def _cancel(self, order_id):
        services.cancel(company=self.company, customer_id=self.customer_id, web_order_id=order_id)

    def _checkout(self, order_id):
        services.checkout(company=self.company, customer_id=self.customer_id, web_order_id=order_id)


class ApiBuyer(Buyer):
    """The same buyer through the real server: HTTP, gateway, envelope, Idempotency-Key."""

    def __init__(self, base_url, secret, account_id, *args, by_spec=False, **kw):
        super().__init__(*args, **kw)
        self.by_spec = by_spec
        self.base_url = base_url
        self.headers = {"authenticationToken": secret, "X-ACCOUNT": str(account_id)}
        self.statuses: Counter = Counter()

    def __call__(self):
        self.session = requests.Session()
        try:
            super().__call__()
        finally:
            self.session.close()

    def post(self, method, data, *, retry=False):
        """One call; with `retry`, sent twice with one Idempotency-Key as a client whose
        connection dropped would, and the second answer must be the first one replayed."""
        headers = dict(self.headers)
        if retry:
            headers["Idempotency-Key"] = f"{self.customer_id}-{self.rng.getrandbits(64)}"
        url = f"{self.base_url}/api/{method}"
        response = self.session.post(url, json=data, headers=headers, timeout=60)
        self.statuses[response.status_code] += 1
        body = response.json()
        if retry:
            again = self.session.post(url, json=data, headers=headers, timeout=60)
            assert again.headers.get("Idempotent-Replayed") == "true", (method, again.text)
            assert (again.status_code, again.json()) == (response.status_code, body)
            self.counts["replayed"] += 1
        if response.status_code == 409:
            fields = [e["field"] for e in body["errors"]]
            details = {k: v for k, v in body.items() if k not in ("status", "message", "errors")}
            raise Conflict(body["message"], field=fields[0] if fields else None, **details)
        assert response.status_code == 200, (method, data, response.status_code, body)
        assert body["status"] == 1, body
        return body

    def _add(self, origin, line_ids, boxes):
        data = {"inventoryIds": line_ids, "inventoryOrigin": int(origin), "quantity": boxes}
        if self.by_spec and self.rng.random() < 0.6:
            # Transactional API Access: boxes of a product spec, picked from whichever lines.
            data = {"productCode": "RFR50", "boxTypeCode": "HB", **data}
            del data["inventoryIds"]
        if self.order_id is not None:
            data["webOrderId"] = self.order_id
        body = self.post("web-order-item.add", data, retry=self.rng.random() < 0.3)
        return body["webOrderId"], body["webOrderItemIds"]

    def _delete(self, order_id, item_id):
        self.post("web-order-item.delete", {"webOrderId": order_id, "webOrderItemId": item_id})

    def _cancel(self, order_id):
        self.post("web-order.delete", {"webOrderId": order_id})

    def _checkout(self, order_id):
        self.post("web-order.checkout", {"webOrderId": order_id}, retry=self.rng.random() < 0.5)


def hot_lines(stocked, **kw):
    on_hand = [stocked.add(HOT_BOXES, **kw).pk for _ in range(3)]
    future = [stocked.add(HOT_BOXES, future_days=5, **kw).pk]
    return {Origin.ON_HAND: on_hand, Origin.FUTURE: future}


def make_buyers(stocked, lines, buyer=Buyer, **kw):
    """BUYERS customers, half at price level A and half at B, each with its own buyer."""
    buyers = []
    for n in range(BUYERS):
        customer = Customer.objects.create(
            company=stocked.company,
            name=f"Racing Buyer {n}",
            code=f"RB{n}",
            default_price="AB"[n % 2],
        )
        buyers.append(buyer(stocked.company.pk, customer.pk, lines, 1000 + n, **kw))
    return buyers


def assert_books_balance(company):
    """Every box of every line is accounted for by a pending item or a live document item."""
    pending = WebOrderItem.objects.filter(company=company, web_order__status=1)
    live_invoice = InvoiceItem.objects.filter(company=company).exclude(
        invoice__status=DocumentStatus.VOIDED
    )
    live_prebook = PrebookItem.objects.filter(company=company).exclude(
        prebook__status=DocumentStatus.VOIDED
    )

    def per_line(qs, field):
        return dict(qs.values_list("line_id").annotate(n=Sum(field)).order_by())

    held = per_line(pending, "quantity")
    sold = Counter(per_line(live_invoice, "boxes")) + Counter(per_line(live_prebook, "boxes"))
    for line in InventoryLine.objects.filter(company=company):
        assert 0 <= line.committed + line.held <= line.total, vars(line)
        assert line.held == held.get(line.pk, 0), f"line {line.pk} held {line.held}"
        assert line.committed == sold.get(line.pk, 0), f"line {line.pk} sold {line.committed}"


def assert_checked_out_orders_are_documented(company, expect_checked_out):
    orders = WebOrder.objects.filter(company=company)
    assert set(orders.filter(status=WebOrder.Status.CHECKED_OUT).values_list("pk", flat=True)) == (
        expect_checked_out
    )
    documented = defaultdict(list)
    for model in (InvoiceItem, PrebookItem):
        parent = model.__name__.removesuffix("Item").lower()
        for item in model.objects.filter(company=company).select_related(parent):
            documented[item.web_order_item_id].append((getattr(item, parent), item))
    for order in orders.exclude(status=WebOrder.Status.PENDING).prefetch_related("items"):
        for wi in order.items.all():
            docs = documented.get(wi.pk, [])
            if order.status == WebOrder.Status.CHECKED_OUT:
                # Exactly one live document line per ordered line, for the same boxes, on an
                # invoice when on hand and a prebook when future.
                assert len(docs) == 1, (order.pk, wi.pk, docs)
                doc, item = docs[0]
                assert doc.status != DocumentStatus.VOIDED
                assert isinstance(doc, Invoice if wi.origin == Origin.ON_HAND else Prebook)
                assert (item.line_id, item.boxes) == (wi.line_id, wi.quantity)
            else:
                assert all(doc.status == DocumentStatus.VOIDED for doc, _ in docs), order.pk


def assert_each_cart_is_what_its_buyer_was_told(buyers):
    """A buyer's pending order holds exactly the items it was answered with: an add never
    landed twice (a replayed retry) nor half (a refused request)."""
    for b in buyers:
        pending = WebOrder.objects.filter(customer_id=b.customer_id, status=1)
        assert {o.pk for o in pending} == ({b.order_id} if b.order_id else set())
        items = WebOrderItem.objects.filter(web_order__in=pending).values_list("pk", flat=True)
        assert set(items) == set(b.items), b.customer_id


def assert_numbers_are_never_given_twice(company):
    """Every invoice and prebook has a number of its own, none past its counter (checkouts
    take them first, several at once for an order of on-hand and future boxes)."""
    counters = {
        (c.location_id, c.kind): c.value for c in NumberCounter.objects.filter(company=company)
    }
    for model, kind in ((Invoice, "invoice"), (Prebook, "prebook")):
        numbers = list(model.objects.filter(company=company).values_list("location_id", "number"))
        assert len(numbers) == len(set(numbers)), f"a {kind} number was given twice"
        for location_id, number in numbers:
            assert 1 <= number <= counters[location_id, kind], (kind, number)


def assert_after_the_race(company, buyers, *, cart=True):
    assert_books_balance(company)
    assert_numbers_are_never_given_twice(company)
    accepted = set().union(*(b.checked_out - b.cancelled_after_checkout for b in buyers))
    assert_checked_out_orders_are_documented(company, accepted)
    if cart:
        assert_each_cart_is_what_its_buyer_was_told(buyers)


def race_with(buyers, *background):
    """The buyers race while each background loop runs until the last buyer is done."""
    done = threading.Event()
    left = [len(buyers)]
    left_lock = threading.Lock()

    def buying(buyer):
        def run():
            try:
                buyer()
            finally:
                with left_lock:
                    left[0] -= 1
                    if not left[0]:
                        done.set()

        return run

    race = Race()
    race.run([*map(buying, buyers), *(lambda loop=loop: loop(done) for loop in background)])
    return race


def sweeper(done):
    """The background release of expired holds, run far more often than in production."""
    while not done.is_set():
        # A day ahead: every pending order is due, so holds vanish under the buyers.
        services.expire_holds(now=timezone.now() + timedelta(days=1))
        done.wait(0.02)


def test_sixteen_buyers_never_oversell_and_never_deadlock(stocked):
    lines = hot_lines(stocked)
    buyers = make_buyers(stocked, lines)

    race = Race()
    race.run(buyers)

    assert race.errors == [], "\n".join(race.errors)
    counts = sum((b.counts for b in buyers), Counter())
    # The race was real: buyers were turned away for lack of stock and others bought.
    assert counts["short"] > 0 and counts["checked out"] > 0, counts
    assert_after_the_race(stocked.company, buyers)
    for pk in {pk for ids in lines.values() for pk in ids}:
        assert InventoryLine.objects.get(pk=pk).total == HOT_BOXES


def test_buyers_race_the_expiry_sweeper_and_the_stock_clerk(stocked, make_token):
    """Holds expiring and boxes being counted again while buyers buy: still no deadlock."""
    token = make_token(stocked.company)
    # Lines shared with confirmInventory: every sale and deletion also writes a confirmation.
    lines = hot_lines(stocked, confirm_inventory=True, source_token=token.token)
    buyers = make_buyers(stocked, lines, tolerate_expiry=True)

    def clerk(done):
        rng = random.Random(7)
        company = Company.objects.get(pk=stocked.company.pk)
        all_lines = [pk for ids in lines.values() for pk in ids]
        while not done.is_set():
            pk = rng.choice(all_lines)
            try:
                if rng.random() < 0.5:
                    stock.delete_boxes(company=company, line_id=pk, quantity=1)
                else:
                    stock.update_line(
                        company=company, line_id=pk, quantity=HOT_BOXES + rng.randint(-3, 3)
                    )
            except Conflict as refused:
                # Fewer boxes than are sold and held: refused, never forced.
                assert refused.field == "quantity", refused

    race = race_with(buyers, sweeper, clerk)

    assert race.errors == [], "\n".join(race.errors)
    counts = sum((b.counts for b in buyers), Counter())
    assert counts["checked out"] > 0 and counts["expired under me"] > 0, counts
    assert_after_the_race(stocked.company, buyers, cart=False)


def api_buyers(stocked, lines, live_server, make_token, **kw):
    def buyer(company_id, customer_id, *args, **more):
        issued = make_token(
            stocked.company, "customer", customer_id=customer_id, transactional=True
        )
        return ApiBuyer(
            live_server.url,
            issued.secret,
            stocked.company.account_id,
            company_id,
            customer_id,
            *args,
            **more,
            **kw,
        )

    return make_buyers(stocked, lines, buyer=buyer)


needs_web_order_api = pytest.mark.skipif(
    registry.get("web-order-item.add") is None, reason="the web-order API methods do not exist"
)


@needs_web_order_api
def test_sixteen_api_clients_never_oversell_and_never_get_a_5xx(stocked, make_token, live_server):
    lines = hot_lines(stocked)
    buyers = api_buyers(stocked, lines, live_server, make_token)

    race = Race()
    race.run(buyers)

    assert race.errors == [], "\n".join(race.errors)
    statuses = sum((b.statuses for b in buyers), Counter())
    assert set(statuses) <= {200, 409}, statuses
    counts = sum((b.counts for b in buyers), Counter())
    assert counts["short"] > 0 and counts["checked out"] > 0 and counts["replayed"] > 0, counts
    assert_after_the_race(stocked.company, buyers)


@needs_web_order_api
def test_api_clients_buying_by_product_spec_race_the_expiry_sweeper(
    stocked, make_token, live_server
):
    """Ordering by product spec picks the lines itself; with holds expiring underneath, still
    every answer is a 200 or a 409, never a deadlock's 500."""
    lines = hot_lines(stocked)
    buyers = api_buyers(stocked, lines, live_server, make_token, by_spec=True, tolerate_expiry=True)

    race = race_with(buyers, sweeper)

    assert race.errors == [], "\n".join(race.errors)
    statuses = sum((b.statuses for b in buyers), Counter())
    assert set(statuses) <= {200, 409}, statuses
    counts = sum((b.counts for b in buyers), Counter())
    assert counts["checked out"] > 0 and counts["expired under me"] > 0, counts
    assert_after_the_race(stocked.company, buyers, cart=False)


def _lock_waiters() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_for_lock_waiters(count: int) -> None:
    deadline = time.monotonic() + 20
    while _lock_waiters() < count:
        assert time.monotonic() < deadline, f"fewer than {count} sessions ever waited on a lock"
        time.sleep(0.01)


@pytest.mark.parametrize("invoiced", ["boxes", "hard goods"])
def test_a_checkout_inside_a_transaction_takes_its_numbers_as_one_on_its_own_does(
    stocked, invoiced
):
    """A checkout sent with an Idempotency-Key runs inside the gateway's transaction and keeps
    its number counters locked until it commits; one sent without takes its numbers first in a
    statement that locks them in the order of their ids. Both want an invoice and a prebook
    number here, and the prebook's counter is the older: the transaction must lock it first
    too, or each would hold the counter the other waits for (a deadlock, answered 503). The
    invoice of the order inside the transaction is of on-hand boxes, or of hard goods only
    (whose invoice number is taken in the same statement, never after it)."""
    company, location = (
        stocked.company,
        Location.objects.get(company=stocked.company, is_default=True),
    )
    # The counter that a checkout taking its numbers one by one would take last is the older:
    # with boxes, the invoice's is taken first (and the prebook's after it); with hard goods
    # only, the prebook's (with the lines) and the invoice's after it.
    older = "prebook" if invoiced == "boxes" else "invoice"
    services.next_number(company, location, older)
    services.next_number(company, location, "invoice" if older == "prebook" else "prebook")
    on_hand, future = stocked.add(HOT_BOXES), stocked.add(HOT_BOXES, future_days=5)
    orders = {}
    for customer in (stocked.florist, stocked.market):
        for line, origin in ((on_hand, Origin.ON_HAND), (future, Origin.FUTURE)):
            if customer == stocked.market and origin == Origin.ON_HAND and invoiced != "boxes":
                continue
            orders[customer.pk] = services.add_items(
                company=company,
                customer_id=customer.pk,
                origin=origin,
                requests=[services.ItemRequest(line.pk, 1)],
                web_order_id=orders.get(customer.pk),
            ).web_order.pk
    if invoiced == "hard goods":
        supplies = Supplies(company)
        vase = supplies.product()
        supplies.stock(vase, units=10)
        hardgood_lines.add_to_web_order(
            company=company,
            customer_id=stocked.market.pk,
            product_ids=[vase.pk],
            quantity=2,
            web_order_id=orders[stocked.market.pk],
        )
    older_counter = NumberCounter.objects.get(company=company, kind=older)
    held, release = threading.Event(), threading.Event()

    def holder():
        # Someone else has the older counter for a moment (a document typed in by staff).
        with transaction.atomic():
            NumberCounter.objects.select_for_update().get(pk=older_counter.pk)
            held.set()
            release.wait(30)

    def on_its_own(customer_id):
        def run():
            services.checkout(
                company=company, customer_id=customer_id, web_order_id=orders[customer_id]
            )

        return run

    def inside_a_transaction(customer_id):
        def run():
            with transaction.atomic():
                services.checkout(
                    company=company, customer_id=customer_id, web_order_id=orders[customer_id]
                )

        return run

    race = Race()
    threads = [threading.Thread(target=lambda: race.run([holder]))]
    threads[0].start()
    assert held.wait(20)
    # The one on its own queues for the older counter first, then the one inside a
    # transaction (which, taking the other counter first, would now hold it).
    threads.append(threading.Thread(target=lambda: race.run([on_its_own(stocked.florist.pk)])))
    threads[-1].start()
    _wait_for_lock_waiters(1)
    threads.append(
        threading.Thread(target=lambda: race.run([inside_a_transaction(stocked.market.pk)]))
    )
    threads[-1].start()
    _wait_for_lock_waiters(2)
    release.set()
    for thread in threads:
        thread.join(JOIN_SECONDS)

    assert race.errors == [], "\n".join(race.errors)
    assert set(
        WebOrder.objects.filter(pk__in=orders.values()).values_list("status", flat=True)
    ) == {WebOrder.Status.CHECKED_OUT}
    assert sorted(Invoice.objects.filter(company=company).values_list("number", flat=True)) == [
        2,
        3,
    ]
    assert sorted(Prebook.objects.filter(company=company).values_list("number", flat=True)) == [
        2,
        3,
    ]
    if invoiced == "hard goods":
        invoice = Invoice.objects.get(web_order_id=orders[stocked.market.pk])
        assert list(invoice.items.all()) == []  # its only lines are the hard goods
        assert hardgood_lines.on_invoice(invoice)[0].quantity == 2
