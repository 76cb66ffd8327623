"""Several deltas in one message (`Channel.deltas_per_message`, docs/channels.md): the waiting
deltas go together, in order, signed once; a failed message is retried whole; the marketplace
ends with Stemline's view; a channel left at 1 gets one message per change as before."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from stemline.channels import delivery, outbox, services
from stemline.channels.models import Attempt, Channel, Endpoint, Event
from stemline.core.errors import Invalid
from stemline.inventory import services as stock

from .conftest import deliver


def _changes(stocked, lines, holds=2):
    for line in lines:
        for _ in range(holds):
            with transaction.atomic():
                stock.hold(company=stocked.company, wanted=[(line.pk, 1)])


def _view(market) -> dict:
    return {int(i["inventoryIds"]): i["quantity"] for i in market.state()["items"]}


def test_waiting_deltas_go_together_in_order_and_the_view_is_right(connect, stocked):
    channel, market, _ = connect("ftd")
    services.update(channel=channel, deltas_per_message=4)
    deliver(channel)  # the snapshots of connecting and of the change of settings
    lines = [stocked.add(5) for _ in range(3)]
    _changes(stocked, lines)  # 3 added + 6 holds: 9 deltas waiting

    outcome = deliver(channel)

    assert outcome.sent == 9 and outcome.failed == 0
    batches = [m for m in market.messages if m["type"] == "inventory.batch"]
    # 9 deltas, 4 a message: two batches of 4, then the last one alone as a plain delta.
    assert [len(b["events"]) for b in batches] == [4, 4]
    singles = [m for m in market.messages if m["type"] == "inventory.changed"]
    assert len(singles) == 1
    seqs = [e["seq"] for b in batches for e in b["events"]] + [m["seq"] for m in singles]
    assert seqs == sorted(seqs) and len(set(seqs)) == 9
    for batch in batches:
        assert batch["channelId"] == channel.pk
        assert (batch["first"], batch["seq"]) == (
            batch["events"][0]["seq"],
            batch["events"][-1]["seq"],
        )
        assert all(e["type"] == "inventory.changed" for e in batch["events"])
    assert market.state()["refused"] == 0  # every batch's signature checked out
    assert _view(market) == {line.pk: 3 for line in lines}
    # Each delta has its own delivery log entry, and all are delivered.
    events = Event.objects.filter(endpoint_id=channel.endpoint_id, kind="inventory.changed")
    assert set(events.values_list("status", flat=True)) == {Event.Status.DELIVERED}
    assert Attempt.objects.filter(event__in=events).count() == 9


def test_a_channel_left_at_one_gets_one_message_per_change(connect, stocked):
    channel, market, _ = connect("ftd")
    assert channel.deltas_per_message == 1
    deliver(channel)
    lines = [stocked.add(5) for _ in range(2)]
    _changes(stocked, lines)
    deliver(channel)
    assert not [m for m in market.messages if m["type"] == "inventory.batch"]
    assert len([m for m in market.messages if m["type"] == "inventory.changed"]) == 6


def test_a_failed_batch_is_retried_whole_and_arrives_once_in_effect(connect, stocked, simulator):
    channel, market, _ = connect("ftd")
    services.update(channel=channel, deltas_per_message=50)
    deliver(channel)
    good_url = simulator.webhook_url("ftd")
    Endpoint.objects.filter(pk=channel.endpoint_id).update(url="http://127.0.0.1:9/down")
    lines = [stocked.add(5) for _ in range(2)]
    _changes(stocked, lines)  # 6 deltas

    outcome = deliver(channel)
    assert outcome.failed == 6 and outcome.sent == 0 and outcome.retry_at is not None
    events = Event.objects.filter(endpoint_id=channel.endpoint_id, kind="inventory.changed")
    # One attempt each, all waiting for the same retry.
    assert sorted(events.values_list("attempts", flat=True)) == [1] * 6
    assert events.filter(status=Event.Status.PENDING).count() == 6

    # More changes while it is down: the retry carries them too, still in order.
    _changes(stocked, lines[:1], holds=1)
    Endpoint.objects.filter(pk=channel.endpoint_id).update(url=good_url)
    Event.objects.filter(endpoint_id=channel.endpoint_id).update(next_attempt_at=timezone.now())
    outcome = deliver(channel)
    assert outcome.sent == 7
    [batch] = [m for m in market.messages if m["type"] == "inventory.batch"]
    assert [e["seq"] for e in batch["events"]] == sorted(e["seq"] for e in batch["events"])
    assert _view(market) == {lines[0].pk: 2, lines[1].pk: 3}

    # The same batch sent again (its answer lost, say) is dropped by its webhook-id; were it
    # applied, its deltas are older than or as old as what the marketplace holds.
    again = list(events.order_by("seq"))[-7:]
    endpoint = Endpoint.objects.get(pk=channel.endpoint_id)
    with delivery.Poster(endpoint.url) as poster:
        status, _error, _ms = delivery.send(poster, delivery.secret_of(endpoint), *again)
    assert status == 200 and market.duplicates == 1
    assert _view(market) == {lines[0].pk: 2, lines[1].pk: 3}


def test_a_batch_never_jumps_a_delta_waiting_for_its_retry(connect, stocked):
    channel, market, _ = connect("ftd")
    services.update(channel=channel, deltas_per_message=10)
    deliver(channel)
    lines = [stocked.add(5) for _ in range(2)]
    outbox.number(channel.endpoint_id)
    events = list(
        Event.objects.filter(endpoint_id=channel.endpoint_id, kind="inventory.changed").order_by(
            "seq"
        )
    )
    # The second delta waits for a retry: the first goes alone, the second not before its time.
    Event.objects.filter(pk=events[1].pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    outcome = deliver(channel)
    assert outcome.sent == 1 and outcome.waiting_until is not None
    assert [m["inventoryId"] for m in market.messages if m["type"] == "inventory.changed"] == [
        lines[0].pk
    ]


def test_batch_body_is_each_delta_as_it_would_come_alone(connect, stocked):
    channel, _market, _ = connect("ftd")
    lines = [stocked.add(5) for _ in range(2)]
    outbox.number(channel.endpoint_id)
    events = list(
        Event.objects.filter(endpoint_id=channel.endpoint_id, kind="inventory.changed").order_by(
            "seq"
        )
    )
    body = json.loads(delivery.batch_body(events))
    assert body["type"] == "inventory.batch"
    assert body["events"] == [json.loads(delivery.body_of(e)) for e in events]
    assert [e["inventoryId"] for e in body["events"]] == [line.pk for line in lines]
    # The same run of deltas read again (a retry) has the same id; a shorter run another.
    again = list(Event.objects.filter(pk__in=[e.pk for e in events]).order_by("seq"))
    assert delivery.batch_id(again) == delivery.batch_id(events)
    assert delivery.batch_id(events) != delivery.batch_id(events[:1])


@pytest.mark.parametrize("value", [0, 501])
def test_deltas_per_message_out_of_range_is_refused_naming_the_field(connect, value):
    channel, _market, _ = connect("ftd")
    with pytest.raises(Invalid) as refused:
        services.update(channel=channel, deltas_per_message=value)
    assert refused.value.field == "deltasPerMessage"
    assert Channel.objects.get(pk=channel.pk).deltas_per_message == 1
