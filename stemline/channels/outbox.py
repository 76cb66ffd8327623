"""The outbox: events written in the transaction of the change they announce (numbered per
endpoint without gaps by the endpoint's deliverer), and what a channel sees of a line.

Snapshots are outbox rows too, but not part of the endpoint's numbered stream: they are sent
beside it (`delivery.send_snapshot`), carrying the number of the last delta they reflect, so
building and sending 20,000 lines never holds back a delta (docs/channels.md, for receivers)."""

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from itertools import islice
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from stemline.api.schemas import Rendered
from stemline.catalog.models import UnitType
from stemline.core import prepared, shapes
from stemline.inventory import feeds
from stemline.inventory import queries as stock_queries
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine, Origin
from stemline.inventory.rows import shop_row

from .models import SNAPSHOT, Channel, Endpoint, Event


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _event(endpoint_id: int, company_id: int, kind: str, payload: dict | None, line_id=None):
    # Numbered by the endpoint's deliverer (`number`), not here: no writer waits on the
    # endpoint's counter, and the number (with the type) goes into the body when it is sent.
    return Event(
        company_id=company_id,
        endpoint_id=endpoint_id,
        seq=None,
        kind=kind,
        msg_id=new_msg_id(),
        payload=payload,
        line_id=line_id,
        next_attempt_at=timezone.now(),
    )


def _kick_after_commit(endpoint_ids) -> None:
    """Ask for a delivery of these endpoints once the transaction commits: one callback per
    transaction, however many changes and endpoints it wrote, and one statement for all of
    them (`kick_many`)."""
    ids = set(endpoint_ids)
    if connection.in_atomic_block:
        current = set(connection.savepoint_ids)
        for sids, waiting, _ in connection.run_on_commit:
            kicks = getattr(waiting, "kick_ids", None)
            # One of this level, or of an enclosing one: it runs if this transaction commits
            # (kicking one endpoint too many, after a savepoint rolled back, costs a look).
            if kicks is not None and (sids >= current or sids <= current):
                kicks.update(ids)
                return

    def run():
        kick_many(sorted(ids))

    run.kick_ids = ids
    transaction.on_commit(run, robust=True)


def append(
    endpoint_id: int, company_id: int, kind: str, payload: dict | None, line_id=None
) -> Event:
    """Add an event to the endpoint's outbox; a delivery is asked for once the transaction
    commits."""
    event = _event(endpoint_id, company_id, kind, payload, line_id)
    event.save()
    _kick_after_commit([endpoint_id])
    return event


def _number_rows(endpoint_id: int, start: int) -> int:
    """feeds.number_rows for one endpoint's stream: its unnumbered events, snapshots left out
    (they are sent beside the stream and never numbered)."""
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET seq = %s + n.rn FROM ("
            f"SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn FROM {table} "
            f"WHERE endpoint_id = %s AND seq IS NULL AND kind <> %s ORDER BY id LIMIT %s"
            f") AS n WHERE {table}.id = n.id",
            [start, endpoint_id, SNAPSHOT, feeds.BATCH],
        )
        return cursor.rowcount


def number(endpoint_id: int) -> int:
    """Give the endpoint's committed, unnumbered events their numbers, in the order they were
    made (the endpoint's deliverer does, holding its lease). Two changes of one line are made
    one after the other under the line's lock, so they are numbered, and sent, in order."""
    done = 0
    while True:
        with transaction.atomic():
            last = (
                Endpoint.objects.select_for_update()
                .filter(pk=endpoint_id)
                .values_list("last_seq", flat=True)
                .first()
            )
            if last is None:
                return done
            numbered = _number_rows(endpoint_id, last)
            if numbered:
                Endpoint.objects.filter(pk=endpoint_id).update(last_seq=last + numbered)
        done += numbered
        if numbered < feeds.BATCH:
            return done


def kick(endpoint_id: int) -> None:
    """Queue a delivery of the endpoint unless one is queued and not started yet."""
    kick_many([endpoint_id])


_IDLE_ENDPOINTS = shapes.Select(
    lambda *ids: Endpoint.objects.filter(pk__in=ids, kicked=False).values_list("pk", flat=True)
)


def kick_many(endpoint_ids: list[int]) -> None:
    """Queue a delivery of each endpoint unless one is queued and not started yet: a read
    that waits on no row, then one UPDATE for those not flagged yet (a deliverer that resets
    the flag does so before it reads the events, so an endpoint read as flagged is one whose
    queued task will see what this transaction wrote)."""
    from .tasks import deliver_endpoint  # the task module imports this one

    idle = _IDLE_ENDPOINTS.all(*endpoint_ids)
    if not idle:
        return
    table = connection.ops.quote_name(Endpoint._meta.db_table)
    marks = ", ".join(["%s"] * len(idle))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET kicked = %s WHERE id IN ({marks}) AND NOT kicked RETURNING id",
            [True, *idle],
        )
        flagged = sorted(row[0] for row in cursor.fetchall())
    for n, endpoint_id in enumerate(flagged):
        try:
            deliver_endpoint.enqueue(endpoint_id)
        except BaseException:
            # Nothing is queued (the queue's Redis is down, say): the flags must not say there
            # is, or no change would queue a delivery until the sweep came by.
            Endpoint.objects.filter(pk__in=flagged[n:]).update(kicked=False)
            raise


def queue_snapshot(channel: Channel, *, delay: float = 0.0) -> Event:
    """A full snapshot in the channel's outbox, sent beside its deltas; its lines are read when
    it is sent. `delay`: not before so many seconds (after a change of the channel's settings,
    every process's cached view of the channels has been renewed by then)."""
    event = _event(channel.endpoint_id, channel.company_id, SNAPSHOT, None)
    if delay:
        event.next_attempt_at += timedelta(seconds=delay)
    event.save()
    endpoint_id, run_after = channel.endpoint_id, event.next_attempt_at
    transaction.on_commit(lambda: queue_snapshot_send(endpoint_id, run_after), robust=True)
    return event


def queue_snapshot_send(endpoint_id: int, run_after=None) -> None:
    from .tasks import deliver_snapshot  # the task module imports this one

    if run_after is not None and run_after > timezone.now():
        deliver_snapshot.using(run_after=run_after).enqueue(endpoint_id)
    else:
        deliver_snapshot.enqueue(endpoint_id)


def snapshot_position(endpoint_id: int) -> tuple[int, int]:
    """(the snapshot's number, the last delta it reflects), taken before its lines are read:
    every delta numbered up to there is of a change committed before the read, and every change
    committed after the read gets a larger number. One short transaction on the endpoint's row,
    once per snapshot."""
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint_id).update(snapshots=models.F("snapshots") + 1)
        return Endpoint.objects.filter(pk=endpoint_id).values_list("snapshots", "last_seq").get()


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
    # Each channel chooses whether it sells growers' offers and units (the snapshot alike).
    if origin == Origin.VENDOR_AVAILABILITY and not channel.sells_availability:
        return False
    if line.in_units and not channel.sells_units:
        return False
    from stemline.inventory.services import customer_price

    return customer_price(line, channel.customer) is not None


def item(channel: Channel, line: InventoryLine, today: date) -> dict | None:
    """The line as the channel's feed shows it: the e-commerce row with the channel's price and
    quantity, or None when the channel cannot buy it."""
    if not sells(channel, line, today):
        return None
    return shop_row(
        line, channel.customer, today, quantity=channel_quantity(channel, line.available)
    )


def delta(channel: Channel, line: InventoryLine, change: str, row: dict | None) -> dict:
    """The event of one change for one channel; `row` is `item(...)` (None: it cannot buy)."""
    return {
        "channelId": channel.pk,
        # When the change happened here: a receiver can tell how fresh its view is.
        "at": timezone.now().isoformat(),
        "change": change,
        "inventoryId": line.pk,
        "available": row["quantity"] if row else 0,
        "item": row,
    }


class ChannelCache:
    """The company's active channels, kept per process for `CHANNELS_CACHE_SECONDS`: a change
    writes its events without reading the channels (and their customers) again. A save or
    delete of a channel, an endpoint, a customer or a company in this process forgets the
    company's entry at once (signals, `ChannelsConfig.ready`); another process's sees it
    within the cache's seconds, and the snapshot a channel gets when it is connected or its
    settings change waits that long (`queue_snapshot(delay=...)`), so the marketplace's view
    is whole once it arrives."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[int, tuple[float, list[Channel]]] = {}
        self.customers: dict[int, tuple[float, dict[int, Channel]]] = {}

    def _kept(self, store: dict, company_id: int, read):
        """The company's entry in `store` while fresh, else `read()` (kept unless this
        transaction changed channels: it may yet be rolled back)."""
        ttl = settings.CHANNELS_CACHE_SECONDS
        now = time.monotonic()
        hit = store.get(company_id)
        if hit is not None and now - hit[0] < ttl:
            return hit[1]
        value = read()
        if ttl > 0 and not _writes_channels_here():
            with self.lock:
                store[company_id] = (now, value)
        return value

    def get(self, company_id: int) -> list[Channel]:
        return self._kept(
            self.entries,
            company_id,
            lambda: list(
                Channel.objects.filter(company_id=company_id, active=True, endpoint__active=True)
                .select_related("customer")
                .order_by("endpoint_id")
            ),
        )

    def by_customer(self, company_id: int, read) -> dict[int, Channel]:
        """Every channel of the company (active or not) by the customer it stands for, kept as
        long as the active ones: what an order reads of its customer's channel (fee rate,
        buffer, limits) twice per order. `read(company_id)` reads them."""

        def by_customer() -> dict[int, Channel]:
            found: dict[int, Channel] = {}
            for channel in read(company_id):
                found.setdefault(channel.customer_id, channel)
            return found

        return self._kept(self.customers, company_id, by_customer)

    def forget(self, company_id: int | None = None) -> None:
        with self.lock:
            if company_id is None:
                self.entries.clear()
                self.customers.clear()
            else:
                self.entries.pop(company_id, None)
                self.customers.pop(company_id, None)


def _writes_channels_here() -> bool:
    """This transaction changed channels (or what they show) and has not ended: what it reads
    is not for other transactions to use (it may yet be rolled back). Django drops the
    transaction's callbacks when it ends, either way."""
    return connection.in_atomic_block and any(
        getattr(waiting, "channels_changed", False) for _, waiting, _ in connection.run_on_commit
    )


channel_cache = ChannelCache()


def channels_changed(company_id: int | None) -> None:
    """A channel, endpoint, customer or company was saved or deleted: forget the company's
    channels now and again once the transaction ends (what was read meanwhile, inside it, may
    be rolled back)."""
    channel_cache.forget(company_id)
    if connection.in_atomic_block:

        def done():
            channel_cache.forget(company_id)

        done.channels_changed = True
        transaction.on_commit(done)


def _channels_of(company_id: int) -> list[Channel]:
    return channel_cache.get(company_id)


def has_channels(company_id: int) -> bool:
    """Whether the company's changes go to channels (registered with the inventory services:
    its writers then read the lines with what the channels' rows show)."""
    return bool(channel_cache.get(company_id))


# What every change reads of its line for the channels' rows, compiled once (core.shapes).
_CHANGED_LINE = shapes.Select(
    lambda pk: (
        InventoryLine.objects.filter(pk=pk)
        .select_related(*stock_queries.LINE_RELATIONS)
        .only(*stock_queries.ROW_FIELDS)
    )
)


def inventory_changed(line: InventoryLine, change: str) -> None:
    """Registered with the inventory services (inventory.services.on_change): for every change
    of a line, inside its transaction, one event per active channel of the company, written
    in one statement."""
    channels = _channels_of(line.company_id)
    if not channels:
        return
    if not stock.as_locked(line):
        # Else the line is whole as its lock holds it, with its rows' relations read before
        # the lock (inventory.services.lines_of and _move): nothing to read again.
        line = _CHANGED_LINE.first(line.pk)
    today = timezone.localdate()
    events = []
    for channel in channels:
        row = item(channel, line, today)
        if row is None and change != "updated":
            # A line the channel cannot buy stays unknown to it; an update may be what took
            # the line away from it (or gave it), so updates always go out.
            continue
        events.append((channel.endpoint_id, delta(channel, line, change, row)))
    if events:
        _insert_deltas(line.company_id, line.pk, events)
        _kick_after_commit(endpoint_id for endpoint_id, _ in events)


# The columns a new delta's row is written with (the others are NULL until it is numbered,
# sent, or fails): what `_event` and `shapes.insert` would write.
_DELTA_COLUMNS = (
    "company_id",
    "endpoint_id",
    "kind",
    "msg_id",
    "payload",
    "line_id",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
    "last_error",
)
# The payload as the model's JSONField would encode it (one encoder for every call).
_encode_payload = Event._meta.get_field("payload").encoder().encode


@cache
def _deltas_sql(vendor: str, count: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _DELTA_COLUMNS)
    cast = "::jsonb" if vendor == "postgresql" else ""
    rows = ", ".join(
        f"(%(company)s, %(endpoint{i})s, 'inventory.changed', %(msg{i})s, "
        f"%(payload{i})s{cast}, %(line)s, {int(Event.Status.PENDING)}, 0, %(now)s, %(now)s, '')"
        for i in range(count)
    )
    return f"INSERT INTO {quote(Event._meta.db_table)} ({columns}) VALUES {rows}"


def _insert_deltas(company_id: int, line_id: int, events: list[tuple[int, dict]]) -> None:
    """One line's change to each channel, (endpoint id, delta), in one INSERT written from
    their values, without a model instance and a field's preparation per value (a change to
    4 channels would be 44 of them)."""
    params = {
        "company": company_id,
        "line": line_id,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    for i, (endpoint_id, payload) in enumerate(events):
        params[f"endpoint{i}"] = endpoint_id
        params[f"msg{i}"] = new_msg_id()
        params[f"payload{i}"] = _encode_payload(payload)
    with prepared.cursor() as cursor:
        cursor.execute(_deltas_sql(connection.vendor, len(events)), params)


SNAPSHOT_FIELDS = (
    "id",
    "arrival_date",
    "in_transit",
    "offered_until",
    "product_id",
    "product__description",
    "product__legacy_code",
    "product__category_id",
    "product__category__name",
    "product__variety",
    "product__color",
    "product__grade",
    "box_type_id",
    "box_type__code",
    "unit_type",
    "in_units",
    "bunches",
    "stems_bunch",
    "total",
    "committed",
    "held",
    "price_a",
    "price_b",
    "vendor_id",
    "vendor__name",
    "location_id",
    "mark_code",
)


def units_per_box(r: dict) -> int:
    """InventoryLine.units_per_box of a row read as values (a units line counts units)."""
    if r["in_units"]:
        return 1
    return r["bunches"] if r["unit_type"] == UnitType.BUNCH else r["bunches"] * r["stems_bunch"]


def snapshot_rows(channel: Channel, qs, today: date):
    """The same rows as `item`, read as plain values: a 10,000-line snapshot in a fraction of the
    time model instances take (tests hold the two equal)."""
    from stemline.inventory.services import customer_price

    last = timedelta(days=stock_queries.HORIZON_DAYS - 1)
    for r in qs.values(*SNAPSHOT_FIELDS).iterator(chunk_size=5000):
        quantity = channel_quantity(channel, r["total"] - r["committed"] - r["held"])
        if quantity <= 0:
            continue
        price = customer_price(
            SimpleNamespace(price_a=r["price_a"], price_b=r["price_b"]), channel.customer
        )
        if price is None:
            continue
        arrival = r["arrival_date"]
        future = r["in_transit"] or (arrival is not None and arrival > today)
        start = arrival if arrival is not None and arrival > today else today
        yield {
            "inventoryIds": str(r["id"]),
            "inventoryOrigin": (
                Origin.VENDOR_AVAILABILITY
                if r["offered_until"] is not None
                else Origin.FUTURE
                if future
                else Origin.ON_HAND
            ),
            "availableDate": start,
            "availableDateTo": start + last,
            "productId": r["product_id"],
            "companyProductId": r["product_id"],
            "productDescription": r["product__description"],
            "productCode": r["product__legacy_code"],
            "categoryId": r["product__category_id"],
            "category": r["product__category__name"],
            "variety": r["product__variety"],
            "color": r["product__color"],
            "grade": r["product__grade"],
            "boxTypeId": r["box_type_id"],
            "boxTypeCode": r["box_type__code"],
            "unitType": r["unit_type"],
            "bunches": r["bunches"],
            "unitsPerBox": units_per_box(r),
            "stemsBunch": r["stems_bunch"],
            "unitsInventory": r["in_units"],
            "quantity": quantity,
            "price": price,
            "vendorId": r["vendor_id"],
            "vendor": r["vendor__name"] or "",
            "companyLocationId": r["location_id"],
            "markCode": r["mark_code"],
        }


def snapshot_payload(channel: Channel, seq: int, snapshot: int = 0) -> dict:
    """Every line the channel can buy now, for a marketplace to replace what it holds: `seq`
    is the last delta it reflects, `snapshot` its number (docs/channels.md). As one dict (what
    the tests read); the worker sends `snapshot_chunks`, the same message a slice at a time."""
    head, qs, today = _snapshot_head(channel, seq, snapshot)
    return {**head, "items": list(snapshot_rows(channel, qs, today))}


# Rows serialized at a time: a 100,000-line snapshot is never 100,000 dicts in memory at once.
SNAPSHOT_CHUNK = 2000


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)  # as DjangoJSONEncoder writes prices: "0.500"
    raise TypeError(f"{type(value).__name__} is not JSON")


def snapshot_chunks(channel: Channel, seq: int, snapshot: int = 0) -> Iterator[bytes]:
    """The snapshot message as JSON bytes, in pieces: the head, then the rows a few thousand
    at a time as they are read (a server-side cursor on PostgreSQL), then the end. Joined, the
    pieces are exactly the JSON of `snapshot_payload`."""
    head, qs, today = _snapshot_head(channel, seq, snapshot)
    rows = iter(snapshot_rows(channel, qs, today))
    chunks = iter(lambda: list(islice(rows, SNAPSHOT_CHUNK)), [])
    return Rendered(head, "items", chunks, default=_json_default).chunks()


def _snapshot_head(channel: Channel, seq: int, snapshot: int):
    today = timezone.localdate()
    qs = InventoryLine.objects.filter(company_id=channel.company_id).filter(stock_queries.AVAILABLE)
    qs = qs.filter(stock_queries.visible_to(channel.customer, None))
    qs = qs.filter(stock_queries.priced_for(channel.customer))
    if channel.location_id is not None:
        qs = qs.filter(location_id=channel.location_id)
    # The origins the channel sells, as `sells` has them: on hand, future, growers' offers.
    kinds = [
        (channel.sells_on_hand, stock_queries.on_hand(today)),
        (channel.sells_future, stock_queries.future(today)),
        (channel.sells_availability, stock_queries.vendor_availability(today)),
    ]
    chosen = [q for wanted, q in kinds if wanted]
    origins = chosen[0]
    for q in chosen[1:]:
        origins |= q
    qs = qs.filter(origins)
    if not channel.sells_units:
        qs = qs.filter(in_units=False)
    head = {
        "type": "inventory.snapshot",
        "seq": seq,
        "snapshot": snapshot,
        "channelId": channel.pk,
        "takenAt": timezone.now().isoformat(),
    }
    return head, qs.order_by("id"), today


def confirmation(token_id: int, company_id: int, payload: dict) -> None:
    """A confirmInventory event for the endpoint the token registered, if any."""
    endpoint_id = (
        Endpoint.objects.filter(token_id=token_id, active=True).values_list("pk", flat=True).first()
    )
    if endpoint_id is not None:
        append(endpoint_id, company_id, payload["event"], payload, line_id=payload["inventoryId"])
