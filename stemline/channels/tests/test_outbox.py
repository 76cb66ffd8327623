"""The outbox: what each channel is told about a change, written with the change or not at all,
and delivered signed, in order, again after an outage, never twice in effect."""

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from stemline.channels import delivery, outbox, services, tasks
from stemline.channels.models import Endpoint, Event
from stemline.core.errors import Conflict
from stemline.inventory import services as stock

from .conftest import deliver


def changed_events(channel):
    outbox.number(channel.endpoint_id)  # as the endpoint's deliverer does before sending
    return list(
        Event.objects.filter(endpoint_id=channel.endpoint_id, kind="inventory.changed").order_by(
            "seq"
        )
    )


def test_a_change_is_told_to_each_channel_with_its_own_view(connect, stocked):
    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)  # price A, on hand only
    dwf, _, _ = connect("dwf", customer_id=stocked.market.pk)  # price B, on hand and future

    line = stocked.add(8, price_a="0.500", price_b="0.450")
    coming = stocked.add(3, future_days=5)

    [ftd_added] = changed_events(ftd)
    assert ftd_added.line_id == line.pk
    assert ftd_added.payload["item"]["quantity"] == 8
    assert ftd_added.payload["item"]["price"] == "0.500"
    dwf_events = changed_events(dwf)
    assert [e.line_id for e in dwf_events] == [line.pk, coming.pk]
    assert dwf_events[0].payload["item"]["price"] == "0.450"
    assert dwf_events[1].payload["item"]["inventoryOrigin"] == 2
    # FTD sells on hand only: nothing about the future line.
    body = json.loads(delivery.body_of(ftd_added))
    assert (body["type"], body["seq"]) == ("inventory.changed", ftd_added.seq)
    assert all(e.line_id != coming.pk for e in changed_events(ftd))

    # Sequence numbers have no gaps per endpoint; the snapshot of connecting, sent beside the
    # numbered stream, takes none.
    outbox.number(dwf.endpoint_id)
    events = Event.objects.filter(endpoint_id=dwf.endpoint_id)
    seqs = list(events.exclude(kind="inventory.snapshot").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) == [1, 2]
    assert list(events.filter(kind="inventory.snapshot").values_list("seq", flat=True)) == [None]


def test_a_changes_events_are_written_due_now_and_unnumbered(connect, stocked):
    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    dwf, _, _ = connect("dwf", customer_id=stocked.market.pk)
    before = timezone.now()
    line = stocked.add(8, price_a="0.500", price_b="0.450")
    after = timezone.now()
    events = list(Event.objects.filter(kind="inventory.changed", line_id=line.pk).order_by("id"))
    assert sorted(e.endpoint_id for e in events) == sorted([ftd.endpoint_id, dwf.endpoint_id])
    for event in events:
        assert (event.company_id, event.seq, event.status, event.attempts) == (
            stocked.company.pk,
            None,  # numbered by the endpoint's deliverer, not by the writer
            Event.Status.PENDING,
            0,
        )
        assert (event.delivered_at, event.last_status_code, event.last_error) == (None, None, "")
        assert before <= event.created_at <= after
        assert before <= event.next_attempt_at <= after  # due at once
        assert event.msg_id.startswith("msg_")
        assert event.payload["inventoryId"] == line.pk
        assert event.payload["change"] == "added"
    assert len({e.msg_id for e in events}) == 2
    by_endpoint = {e.endpoint_id: e.payload for e in events}
    assert by_endpoint[ftd.endpoint_id]["channelId"] == ftd.pk
    assert by_endpoint[ftd.endpoint_id]["item"]["price"] == "0.500"  # its customer's price
    assert by_endpoint[dwf.endpoint_id]["item"]["price"] == "0.450"
    assert by_endpoint[dwf.endpoint_id]["available"] == 8


def test_reserved_lines_cap_and_buffer(connect, stocked):
    channel, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    services.update(channel=channel, line_cap=5, buffer=2)

    big = stocked.add(20)
    small = stocked.add(3)
    theirs = stocked.add(4, reserved_for=stocked.florist)
    others = stocked.add(4, reserved_for=stocked.market)

    view = {e.line_id: e.payload for e in changed_events(channel)}
    assert view[big.pk]["available"] == 5  # capped
    assert view[small.pk]["available"] == 1  # 3 less the buffer of 2
    assert view[theirs.pk]["available"] == 2
    assert others.pk not in view  # reserved for another customer: never shown

    # An update is always told: here the price at the channel's level goes away.
    stock.update_line(company=stocked.company, line_id=small.pk, price_a=Decimal("0.9"))
    assert changed_events(channel)[-1].payload["item"]["price"] == "0.900"


def test_a_refused_write_leaves_no_event(connect, stocked):
    channel, _, _ = connect("ftd")
    stocked.add(1, box_codes=["BOX-1"])
    before = Event.objects.count()
    with pytest.raises(Conflict):
        with transaction.atomic():
            stocked.add(1, box_codes=["box-1"])  # the code is taken: the whole add rolls back
    assert Event.objects.count() == before


def test_delivery_is_signed_and_the_marketplace_holds_the_inventory(connect, stocked):
    line = stocked.add(6)
    channel, market, _ = connect("ftd")
    outcome = deliver(channel)
    assert outcome.sent == 1 and outcome.failed == 0
    state = market.state()
    assert state["snapshots"] == 1 and state["refused"] == 0
    assert [int(i["inventoryIds"]) for i in state["items"]] == [line.pk]

    with transaction.atomic():
        stock.hold(company=stocked.company, wanted=[(line.pk, 4)])
    deliver(channel)
    assert market.state()["items"][0]["quantity"] == 2
    with transaction.atomic():
        stock.commit_held(company=stocked.company, held=[(line.pk, 4)])
        stock.delete_boxes(company=stocked.company, line_id=line.pk)
    deliver(channel)
    assert market.state()["items"] == []  # sold out: gone from the marketplace
    assert Event.objects.filter(endpoint_id=channel.endpoint_id, status=0).count() == 0


def test_a_wrong_secret_is_refused_and_retried_later(connect, stocked):
    channel, market, _ = connect("ftd")
    endpoint = Endpoint.objects.get(pk=channel.endpoint_id)
    from stemline.tokens import crypto

    endpoint.secret_encrypted = crypto.encrypt(delivery.new_secret())
    endpoint.save()

    outcome = deliver(channel)
    assert outcome.failed == 1 and outcome.sent == 0
    assert market.state()["refused"] == 1 and market.state()["items"] == []
    event = Event.objects.get(endpoint=endpoint)
    assert event.status == Event.Status.PENDING
    assert event.last_status_code == 401
    assert event.next_attempt_at > timezone.now()
    assert event.attempts_log.count() == 1


def test_endpoint_down_then_back_every_event_arrives_in_order(connect, stocked, simulator):
    channel, market, _ = connect("ftd")
    good_url = simulator.webhook_url("ftd")
    Endpoint.objects.filter(pk=channel.endpoint_id).update(url="http://127.0.0.1:9/down")
    lines = [stocked.add(5) for _ in range(3)]
    for line in lines:
        with transaction.atomic():
            stock.hold(company=stocked.company, wanted=[(line.pk, 1)])
        with transaction.atomic():
            stock.hold(company=stocked.company, wanted=[(line.pk, 2)])

    outcome = deliver(channel)
    # The snapshot of connecting and the first delta failed, each in its own lane.
    assert outcome.failed == 2 and outcome.retry_at is not None
    # Kicked again while the first is waiting (its retry a while off, whatever this machine's
    # speed): nothing jumps the queue.
    Event.objects.filter(endpoint_id=channel.endpoint_id, attempts=1).update(
        next_attempt_at=timezone.now() + timedelta(minutes=1)
    )
    again = deliver(channel)
    assert again.sent == 0 and again.waiting_until is not None
    assert market.received == 0

    # Back up; the retry comes due.
    Endpoint.objects.filter(pk=channel.endpoint_id).update(url=good_url)
    Event.objects.filter(endpoint_id=channel.endpoint_id).update(next_attempt_at=timezone.now())
    deliver(channel)

    assert market.received == 1 + 3 * 3  # snapshot, then added + 2 holds per line
    deltas = [m["seq"] for m in market.messages if m["type"] == "inventory.changed"]
    assert deltas == sorted(deltas) == list(range(1, 10))
    # The snapshot went first and reflects all nine (numbered before it was read): the
    # marketplace drops them as older than what it holds, and its view is right.
    assert market.messages[0]["type"] == "inventory.snapshot" and market.messages[0]["seq"] == 9
    assert {int(i["inventoryIds"]): i["quantity"] for i in market.state()["items"]} == {
        line.pk: 2 for line in lines
    }


def test_a_replayed_event_is_harmless(connect, stocked):
    channel, market, _ = connect("ftd")
    line = stocked.add(5)
    deliver(channel)
    event = changed_events(channel)[-1]
    attempt = services.send_again(company=stocked.company, event_id=event.pk)
    assert attempt.status_code == 200 and attempt.replay
    assert market.duplicates == 1
    assert market.state()["items"][0]["quantity"] == 5
    assert int(market.state()["items"][0]["inventoryIds"]) == line.pk


def test_an_older_delta_never_overwrites_a_newer_state(connect, stocked):
    channel, market, _ = connect("ftd")
    line = stocked.add(5)
    with transaction.atomic():
        stock.hold(company=stocked.company, wanted=[(line.pk, 3)])
    deliver(channel)
    # A person replays the first change (5 boxes) after the second (2 boxes).
    first = changed_events(channel)[0]
    Event.objects.filter(pk=first.pk).update(msg_id="msg_replayed_copy")
    services.send_again(company=stocked.company, event_id=first.pk)
    assert market.state()["items"][0]["quantity"] == 2


def test_gives_up_after_the_retry_window_and_goes_on(connect, stocked):
    channel, market, _ = connect("ftd")
    Endpoint.objects.filter(pk=channel.endpoint_id).update(url="http://127.0.0.1:9/down")
    Event.objects.filter(endpoint_id=channel.endpoint_id).update(
        created_at=timezone.now() - delivery.RETRY_FOR - timedelta(minutes=1)
    )
    deliver(channel)
    assert Event.objects.get(endpoint_id=channel.endpoint_id).status == Event.Status.FAILED
    assert delivery.RETRY_FOR >= timedelta(hours=24)
    # The backoff grows and stays within half an hour between tries.
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 30)] == [1, 2, 4, 1800]


def test_one_snapshot_per_interval_however_often_the_scheduler_runs(connect, stocked):
    channel, _, _ = connect("ftd")
    services.update(channel=channel, snapshot_every=300)  # sends this interval's snapshot
    Event.objects.all().delete()
    now = timezone.now()
    assert tasks.schedule_snapshots(now) == 0  # not another one right behind it
    # The middle of the next interval, so a second later is still inside it.
    slot = int(now.timestamp()) // 300
    later = datetime.fromtimestamp((slot + 1) * 300 + 150, tz=UTC)
    assert tasks.schedule_snapshots(later) == 1
    assert tasks.schedule_snapshots(later + timedelta(seconds=1)) == 0
    assert tasks.schedule_snapshots(later + timedelta(seconds=600)) == 1
    assert Event.objects.filter(kind="inventory.snapshot").count() == 2


def test_a_paused_channel_is_told_nothing(connect, stocked):
    channel, _, _ = connect("ftd")
    services.update(channel=channel, active=False)
    before = Event.objects.filter(endpoint_id=channel.endpoint_id).count()
    stocked.add(5)
    assert Event.objects.filter(endpoint_id=channel.endpoint_id).count() == before


def test_price_level_of_the_channel_is_its_customers(connect, stocked):
    channel, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    services.update(channel=channel, price_level="B", markup=Decimal("10"))
    line = stock.add_line(
        company=stocked.company,
        quantity=2,
        location=stocked.location,
        product=stocked.product,
        box_type=stocked.box,
        unit_type="Stem",
        bunches=10,
        stems_bunch=25,
        unit_cost=Decimal("0.3"),
        price_a=Decimal("1.000"),
    )
    [event] = [e for e in changed_events(channel) if e.line_id == line.pk]
    assert event.payload["item"]["price"] == "1.100"  # B falls back to A plus 10%


def test_a_snapshot_shows_each_line_as_its_deltas_do(connect, stocked):
    channel, market, _ = connect("dwf", customer_id=stocked.market.pk)  # price B, both origins
    services.update(channel=channel, buffer=1, markup=Decimal("12.5"))
    lines = [
        stocked.add(6, price_a="0.500", price_b="0.450"),
        stocked.add(3, future_days=4, price_a="0.700", price_b="0.650"),
        stocked.add(2, reserved_for=stocked.market),
        stocked.add(1),  # all of it kept back by the buffer: not in the snapshot
    ]
    deliver(channel)
    snapshot = next(m for m in market.messages if m["type"] == "inventory.snapshot")
    latest_delta = {}
    for message in market.messages:
        if message["type"] == "inventory.changed" and message["item"]:
            latest_delta[message["inventoryId"]] = message["item"]
    rows = outbox.snapshot_payload(channel, 0)["items"]
    rows = json.loads(json.dumps(rows, cls=DjangoJSONEncoder))
    assert [int(r["inventoryIds"]) for r in rows] == [line.pk for line in lines[:3]]
    for row in rows:
        assert row == latest_delta[int(row["inventoryIds"])]
    # Sent before the deltas here: it reflects none of them, and is the endpoint's first.
    assert (snapshot["seq"], snapshot["snapshot"]) == (0, 1)


@pytest.mark.django_db(transaction=True)  # committed, as in production
def test_the_channels_of_a_change_are_cached_and_forgotten_when_they_change(
    connect, stocked, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.CHANNELS_CACHE_SECONDS = 60
    outbox.channel_cache.forget()

    def told(line):
        return set(
            Event.objects.filter(line_id=line.pk, kind="inventory.changed").values_list(
                "endpoint_id", flat=True
            )
        )

    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    stocked.add(1)  # reads the channels once
    with CaptureQueriesContext(connection) as queries:
        line = stocked.add(1)
    assert told(line) == {ftd.endpoint_id}
    assert not [q for q in queries.captured_queries if '"channels_channel"' in q["sql"]]

    # A channel connected, or paused, in this process is seen by the next change.
    dwf, _, _ = connect("dwf", customer_id=stocked.market.pk)
    assert told(stocked.add(1)) == {ftd.endpoint_id, dwf.endpoint_id}
    services.update(channel=ftd, active=False)
    assert told(stocked.add(1)) == {dwf.endpoint_id}

    # What a transaction that changed channels reads is not kept: here it is rolled back.
    with pytest.raises(RuntimeError), transaction.atomic():
        connect("bloomnet")
        stocked.add(1)
        raise RuntimeError("rolled back")
    assert told(stocked.add(1)) == {dwf.endpoint_id}

    # Another process's change (no signal here) is seen once the cache's seconds have passed.
    from stemline.channels.models import Channel

    Channel.objects.filter(pk=ftd.pk).update(active=True)
    assert told(stocked.add(1)) == {dwf.endpoint_id}
    settings.CHANNELS_CACHE_SECONDS = 0.01
    time.sleep(0.05)  # the cached entry is older than that now
    assert told(stocked.add(1)) == {ftd.endpoint_id, dwf.endpoint_id}


def _held(stocked, line, boxes=1):
    """A web order's hold of `boxes` boxes of the line, as web-order-item.add makes it."""
    from stemline.inventory.models import Origin
    from stemline.sales import services as sales

    sales.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        requests=[sales.ItemRequest(line.pk, boxes)],
        origin=Origin.ON_HAND,
    )


def test_an_order_tells_the_channels_its_line_without_reading_it_again(connect, stocked):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    line = stocked.add(8)
    before = len(changed_events(ftd))
    with CaptureQueriesContext(connection) as captured:
        _held(stocked, line, 3)
    line_reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "inventory_inventoryline"' in q["sql"]
    ]
    # The lines are read once, before their locks, with the product, grower and box type
    # the channels' rows show; the event is built from what the guarded UPDATE returned.
    assert len(line_reads) == 1, line_reads
    assert '"catalog_product"' in line_reads[0]
    events = changed_events(ftd)
    assert len(events) == before + 1
    held = events[-1].payload["item"]
    assert held["quantity"] == 5
    # The same row a fresh read of the line makes.
    fresh = outbox.item(ftd, type(line).objects.get(pk=line.pk), timezone.localdate())
    assert json.loads(json.dumps(held, cls=DjangoJSONEncoder)) == json.loads(
        json.dumps(fresh, cls=DjangoJSONEncoder)
    )


def test_what_changed_of_a_line_between_its_read_and_its_lock_reaches_the_channels(
    connect, stocked
):
    from stemline.catalog.models import Product
    from stemline.inventory.models import InventoryLine

    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    line = stocked.add(8, price_a="0.500")
    # Read before the lock (as add_items reads), then the line repriced by someone else
    # before this writer's guarded UPDATE takes it.
    lines = stock.lines_of(stocked.company, [line.pk])
    InventoryLine.objects.filter(pk=line.pk).update(price_a=Decimal("0.650"))
    with transaction.atomic():
        stock.hold(company=stocked.company, wanted=[(line.pk, 2)], lines=lines)
    item = changed_events(ftd)[-1].payload["item"]
    assert (item["price"], item["quantity"]) == ("0.650", 6)
    # Moved to another product meanwhile: the relation is read again, not shown stale.
    other = Product.objects.create(
        company=stocked.company,
        category=stocked.product.category,
        description="Rose Explorer Red 60cm",
        variety="Explorer",
        color="Red",
        grade="60cm",
        legacy_code="RER60",
    )
    lines = stock.lines_of(stocked.company, [line.pk])
    InventoryLine.objects.filter(pk=line.pk).update(product=other)
    with transaction.atomic():
        stock.hold(company=stocked.company, wanted=[(line.pk, 1)], lines=lines)
    item = changed_events(ftd)[-1].payload["item"]
    assert item["quantity"] == 5
    assert "Explorer" in json.dumps(item), item
