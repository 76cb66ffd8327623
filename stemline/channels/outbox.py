"""The outbox: events written in the transaction of the change they announce, numbered per
endpoint without gaps, and what a channel sees of an inventory line."""

import uuid
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from stemline.inventory import queries as stock_queries
from stemline.inventory.models import InventoryLine, Origin

from .models import Channel, Endpoint, Event


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def append(
    endpoint_id: int, company_id: int, kind: str, payload: dict | None, line_id=None
) -> Event:
    """Add an event to the endpoint's outbox under the endpoint's row lock, so numbers follow
    commit order; a delivery task is asked for once the transaction commits."""
    Endpoint.objects.filter(pk=endpoint_id).update(last_seq=F("last_seq") + 1)
    seq = Endpoint.objects.filter(pk=endpoint_id).values_list("last_seq", flat=True).get()
    if payload is not None:
        payload = {"type": kind, "seq": seq, **payload}
    event = Event.objects.create(
        company_id=company_id,
        endpoint_id=endpoint_id,
        seq=seq,
        kind=kind,
        msg_id=new_msg_id(),
        payload=payload,
        line_id=line_id,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: kick(endpoint_id), robust=True)
    return event


def kick(endpoint_id: int) -> None:
    """Queue a delivery of the endpoint unless one is queued and not started yet."""
    from .tasks import deliver_endpoint  # the task module imports this one

    if Endpoint.objects.filter(pk=endpoint_id, kicked=False).update(kicked=True):
        deliver_endpoint.enqueue(endpoint_id)


# What a channel sees -----------------------------------------------------------------------


def channel_quantity(channel: Channel, available: int) -> int:
    shown = max(0, available - channel.buffer)
    if channel.line_cap is not None:
        shown = min(shown, channel.line_cap)
    return shown


def sells(channel: Channel, line: InventoryLine, today: date) -> bool:
    """Whether the channel's customer may buy this line at all (whatever is left of it)."""
    if line.company_id != channel.company_id:
        return False
    if channel.location_id is not None and line.location_id != channel.location_id:
        return False
    if line.reserved_for_id is not None and line.reserved_for_id != channel.customer_id:
        return False
    origin = line.origin_on(today)
    if origin == Origin.ON_HAND and not channel.sells_on_hand:
        return False
    if origin == Origin.FUTURE and not channel.sells_future:
        return False
    from stemline.inventory.services import customer_price

    return customer_price(line, channel.customer) is not None


def item(channel: Channel, line: InventoryLine, today: date) -> dict | None:
    """The line as the channel's feed shows it: the e-commerce row with the channel's price and
    quantity, or None when the channel cannot buy it."""
    if not sells(channel, line, today):
        return None
    from stemline.inventory.api import _shop_row  # the e-commerce list's row, kept identical

    quantity = channel_quantity(channel, line.available)
    return _jsonable(_shop_row(line, channel.customer, today, quantity=quantity))


def _jsonable(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif value is not None and not isinstance(value, int | str | bool | float):
            value = str(value)  # Decimal prices as exact strings
        out[key] = value
    return out


def delta(channel: Channel, line: InventoryLine, change: str, today: date) -> dict:
    row = item(channel, line, today)
    return {
        "channelId": channel.pk,
        # When the change happened here: a receiver can tell how fresh its view is.
        "at": timezone.now().isoformat(),
        "change": change,
        "inventoryId": line.pk,
        "available": row["quantity"] if row else 0,
        "item": row,
    }


def _channels_of(company_id: int) -> list[Channel]:
    # Read per transaction: a channel connected a moment ago gets the next change.
    return list(
        Channel.objects.filter(company_id=company_id, active=True, endpoint__active=True)
        .select_related("customer")
        .order_by("endpoint_id")
    )


def inventory_changed(line: InventoryLine, change: str) -> None:
    """Called by the inventory services for every change of a line, inside their transaction:
    one event per active channel of the company, in endpoint order (the lock order)."""
    channels = _channels_of(line.company_id)
    if not channels:
        return
    line = (
        InventoryLine.objects.filter(pk=line.pk)
        .select_related(*stock_queries.LINE_RELATIONS)
        .only(*stock_queries.ROW_FIELDS)
        .get()
    )
    today = timezone.localdate()
    for channel in channels:
        if change != "updated" and not sells(channel, line, today):
            # A line the channel cannot buy stays unknown to it; an update may be what took
            # the line away from it (or gave it), so updates always go out.
            continue
        append(
            channel.endpoint_id,
            line.company_id,
            "inventory.changed",
            delta(channel, line, change, today),
            line_id=line.pk,
        )


def snapshot_payload(channel: Channel, seq: int) -> dict:
    """Every line the channel can buy now, for a marketplace to replace what it holds."""
    today = timezone.localdate()
    qs = stock_queries.lines(channel.company).filter(stock_queries.AVAILABLE)
    qs = qs.filter(stock_queries.visible_to(channel.customer, None))
    qs = qs.filter(stock_queries.priced_for(channel.customer))
    if channel.location_id is not None:
        qs = qs.filter(location_id=channel.location_id)
    if not channel.sells_future:
        qs = qs.filter(stock_queries.on_hand(today))
    if not channel.sells_on_hand:
        qs = qs.filter(stock_queries.future(today))
    items = []
    for line in qs.order_by("id").iterator(chunk_size=2000):
        row = item(channel, line, today)
        if row is not None and row["quantity"] > 0:
            items.append(row)
    return {
        "type": "inventory.snapshot",
        "seq": seq,
        "channelId": channel.pk,
        "takenAt": timezone.now().isoformat(),
        "items": items,
    }


def confirmation(token_id: int, company_id: int, payload: dict) -> None:
    """A confirmInventory event for the endpoint the token registered, if any."""
    endpoint_id = (
        Endpoint.objects.filter(token_id=token_id, active=True).values_list("pk", flat=True).first()
    )
    if endpoint_id is not None:
        append(endpoint_id, company_id, payload["event"], payload, line_id=payload["inventoryId"])
