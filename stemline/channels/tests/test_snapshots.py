"""Snapshots beside the delta stream (docs/channels.md): a snapshot never holds back a delta,
and a marketplace that applies snapshots and deltas in the documented order ends with exactly
Stemline's view, whichever arrives first, while changes are made during the snapshot."""

import json
from datetime import timedelta
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook

from stemline.channels import delivery, outbox, tasks
from stemline.channels.models import Endpoint, Event
from stemline.demo.simulator import Market
from stemline.inventory import services as stock

from .conftest import deliver


def stemline_view(channel) -> dict:
    rows = json.loads(
        json.dumps(outbox.snapshot_payload(channel, 0)["items"], cls=DjangoJSONEncoder)
    )
    return {int(r["inventoryIds"]): r for r in rows}


def market_view(market) -> dict:
    return {int(i["inventoryIds"]): i for i in market.state()["items"]}


def hold(stocked, line, boxes):
    with transaction.atomic():
        stock.hold(company=stocked.company, wanted=[(line.pk, boxes)])


def post(channel, event, body: str) -> int:
    """Send a body built earlier, as the snapshot's sender does, signed now."""
    endpoint = Endpoint.objects.get(pk=channel.endpoint_id)
    with delivery.Poster(endpoint.url) as poster:
        headers = delivery.signed_headers(delivery.secret_of(endpoint), event.msg_id, body)
        return poster.post(body.encode(), headers)


def test_deltas_overtake_a_snapshot_and_the_marketplace_ends_right(connect, stocked):
    channel, market, _ = connect("ftd")
    a, b, c = stocked.add(8), stocked.add(5), stocked.add(3)
    deliver(channel)
    assert market_view(market) == stemline_view(channel)

    hold(stocked, a, 1)
    outbox.number(channel.endpoint_id)  # numbered: the next snapshot reflects it
    hold(stocked, b, 2)  # committed, not numbered yet: in the snapshot, numbered after it
    snapshot = outbox.queue_snapshot(channel)
    body = delivery.body_of(snapshot)  # read now ...
    taken = json.loads(body)
    hold(stocked, a, 3)  # ... changes while it is on its way ...
    hold(stocked, c, 3)  # (all of c: the channel no longer sees it)
    stock.update_line(company=stocked.company, line_id=b.pk, price_a=Decimal("0.610"))
    outcome = delivery.drain(channel.endpoint_id)  # ... and the deltas arrive first
    assert outcome.sent == 5

    assert post(channel, snapshot, body) == 200  # the snapshot, last
    deltas = [m for m in market.messages if m["type"] == "inventory.changed"]
    assert [m["seq"] for m in deltas[-5:]] == list(range(taken["seq"], taken["seq"] + 5))
    assert market.messages[-1]["type"] == "inventory.snapshot"
    view = market_view(market)
    assert view == stemline_view(channel)
    assert (view[a.pk]["quantity"], view[b.pk]["price"], c.pk in view) == (4, "0.610", False)


def test_a_snapshot_first_then_older_and_newer_deltas(connect, stocked):
    channel, market, _ = connect("ftd")
    a, b = stocked.add(8), stocked.add(5)
    deliver(channel)
    hold(stocked, a, 1)
    hold(stocked, b, 1)
    outbox.number(channel.endpoint_id)
    hold(stocked, a, 2)  # committed before the snapshot is read, numbered after it
    outbox.queue_snapshot(channel)
    assert delivery.send_snapshot(channel.endpoint_id).sent == 1
    hold(stocked, b, 4)  # after the snapshot
    delivery.drain(channel.endpoint_id)  # the older deltas arrive late: dropped or harmless
    assert market_view(market) == stemline_view(channel)
    assert market_view(market)[a.pk]["quantity"] == 5
    assert b.pk not in market_view(market)  # 5 - 1 - 4 = 0


def test_a_snapshot_waits_for_no_delta_and_no_delta_for_it(connect, stocked, simulator):
    """The snapshot's endpoint is down: its retry waits; the deltas go on at once."""
    channel, market, _ = connect("ftd")
    line = stocked.add(4)
    deliver(channel)
    Endpoint.objects.filter(pk=channel.endpoint_id).update(url="http://127.0.0.1:9/down")
    waiting = outbox.queue_snapshot(channel)
    assert delivery.send_snapshot(channel.endpoint_id).retry_at is not None
    Event.objects.filter(pk=waiting.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30)  # whatever this machine's speed
    )
    Endpoint.objects.filter(pk=channel.endpoint_id).update(url=simulator.webhook_url("ftd"))
    hold(stocked, line, 1)
    assert delivery.drain(channel.endpoint_id).sent == 1  # not behind the waiting snapshot
    assert market_view(market)[line.pk]["quantity"] == 3
    assert delivery.send_snapshot(channel.endpoint_id).waiting_until is not None
    # Once its retry is due, the sweep queues it on its own lane (the stream has nothing due).
    queued = DBTaskResult.objects.filter(task_path__endswith="deliver_snapshot")
    before = queued.count()
    assert tasks.sweep(timezone.now() + timedelta(minutes=1)) == 0
    assert queued.count() == before + 1
    assert queued.order_by("-enqueued_at").first().args_kwargs["args"] == [channel.endpoint_id]


def test_a_newer_snapshot_supersedes_a_waiting_one(connect, stocked):
    channel, market, _ = connect("ftd")
    deliver(channel)
    older = outbox.queue_snapshot(channel)
    newer = outbox.queue_snapshot(channel)
    assert delivery.send_snapshot(channel.endpoint_id).sent == 1
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, older.last_error) == (
        Event.Status.FAILED,
        "superseded by a newer snapshot",
    )
    assert newer.status == Event.Status.DELIVERED
    assert delivery.send_snapshot(channel.endpoint_id).sent == 0  # nothing left to send


def snapshot(number, seq, items):
    return {"type": "inventory.snapshot", "snapshot": number, "seq": seq, "items": items}


def delta(seq, line, quantity):
    item = {"inventoryIds": str(line), "quantity": quantity} if quantity else None
    return {"type": "inventory.changed", "seq": seq, "inventoryId": line, "item": item}


def test_the_simulator_applies_the_documented_order():
    market = Market("x", {}, "http://127.0.0.1:9")
    held = lambda: {k: v["quantity"] for k, v in market.items.items()}  # noqa: E731
    market.apply_delta(delta(1, 10, 5))
    market.apply_delta(delta(3, 10, 4))  # line 10 at #3
    market.apply_delta(delta(2, 11, 2))
    # Snapshot 1 reflects deltas up to #2: line 10's #3 is newer and kept, line 11 and 12 as
    # the snapshot says.
    market.apply_snapshot(
        snapshot(
            1, 2, [{"inventoryIds": "10", "quantity": 5}, {"inventoryIds": "12", "quantity": 7}]
        )
    )
    assert held() == {10: 4, 12: 7}
    market.apply_delta(delta(2, 11, 2))  # older than the snapshot: dropped
    market.apply_delta(delta(4, 12, 0))  # newer: line 12 goes
    assert held() == {10: 4}
    market.apply_snapshot(snapshot(3, 5, [{"inventoryIds": "11", "quantity": 1}]))
    assert held() == {11: 1}  # #4 of line 12 is not above 5: the snapshot's word
    market.apply_snapshot(snapshot(2, 4, [{"inventoryIds": "12", "quantity": 9}]))
    assert held() == {11: 1}  # snapshot 2 arrived after 3: dropped
    assert market.snapshots == 2


def test_a_snapshot_is_read_and_signed_in_pieces_that_make_exactly_its_message(
    connect, stocked, monkeypatch
):
    channel, market, _ = connect("ftd")
    for n in range(7):
        stocked.add(3 + n, price_a="0.500", price_b="0.450")
    # Pieces of 3 rows: the head, three pieces of rows, the end.
    monkeypatch.setattr(outbox, "SNAPSHOT_CHUNK", 3)
    pieces = list(outbox.snapshot_chunks(channel, 41, 2))
    assert len(pieces) == 5
    sent = json.loads(b"".join(pieces))
    whole = json.loads(json.dumps(outbox.snapshot_payload(channel, 41, 2), cls=DjangoJSONEncoder))
    sent.pop("takenAt"), whole.pop("takenAt")
    assert sent == whole and len(sent["items"]) == 7
    assert sent["items"][0]["price"] == "0.500"  # a price keeps its three decimals, as a string

    # Signed a piece at a time, the signature is the library's over the whole body.
    secret = delivery.new_secret()
    now = timezone.now()
    body = b"".join(pieces).decode()
    assert delivery.sign_pieces(secret, "msg_x", now, pieces) == Webhook(secret).sign(
        "msg_x", now, body
    )
    # And the marketplace (verifying with the library) takes the snapshot sent that way.
    deliver(channel)
    assert market.state()["refused"] == 0 and market.snapshots >= 1
    assert market_view(market) == stemline_view(channel)


def test_an_empty_snapshot_is_still_valid_json(connect):
    channel, _market, _ = connect("ftd")
    sent = json.loads(b"".join(outbox.snapshot_chunks(channel, 0, 1)))
    assert sent["items"] == [] and sent["type"] == "inventory.snapshot"


def test_a_snapshot_longer_than_the_spool_is_sent_from_a_file_and_verifies(
    connect, stocked, monkeypatch
):
    channel, market, _ = connect("ftd")
    for n in range(20):
        stocked.add(2 + n)
    monkeypatch.setattr(delivery, "SPOOL_BYTES", 256)  # a few rows: the rest goes to disk
    monkeypatch.setattr(outbox, "SNAPSHOT_CHUNK", 4)
    event = Event.objects.filter(endpoint_id=channel.endpoint_id, kind="inventory.snapshot").first()
    secret = delivery.secret_of(Endpoint.objects.get(pk=channel.endpoint_id))
    spool, headers = delivery.spooled_snapshot(secret, event)
    with spool:
        assert spool._rolled  # written to a file, not held in memory
        assert int(headers["Content-Length"]) == len(spool.read()) > 256
    deliver(channel)
    assert market.state()["refused"] == 0 and market.snapshots == 1
    assert market_view(market) == stemline_view(channel) and len(market_view(market)) == 20
