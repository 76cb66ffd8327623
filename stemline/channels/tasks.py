"""Background work of channels on Django's Tasks API: delivering endpoints' events, and the
periodic tick that queues snapshots and retries (safe with any number of workers)."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from . import delivery, outbox
from .models import SNAPSHOT, Attempt, Channel, Endpoint, Event, SnapshotSlot

log = logging.getLogger("stemline.channels")


def not_before(moment: datetime) -> datetime:
    """`moment` rounded up to a whole second. RQ's scheduler keeps a job's time in whole
    seconds, rounded down, and may run it up to a second early: a retry run before its event
    is due finds it waiting and queues nothing, so the event would wait for the sweep (or, with
    no periodic tick running, for ever)."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def deliver_now(endpoint_id: int) -> int:
    """Deliver what is due for one endpoint here and now; the number of events sent."""
    outcome = delivery.drain(endpoint_id)
    if outcome.retry_at is not None:
        deliver_endpoint.using(run_after=not_before(outcome.retry_at)).enqueue(endpoint_id)
    return outcome.sent


def snapshot_now(endpoint_id: int) -> int:
    """Send the endpoint's newest due snapshot here and now (beside its deltas)."""
    outcome = delivery.send_snapshot(endpoint_id)
    later = outcome.retry_at or outcome.waiting_until
    if later is not None:
        deliver_snapshot.using(run_after=not_before(later)).enqueue(endpoint_id)
    return outcome.sent


class Lane:
    """Endpoints served side by side on a pool of threads, one thread per endpoint at a time;
    a submission while its endpoint is being served makes that thread look again when done."""

    def __init__(self, name: str, run, size):
        self.name, self.run, self.size = name, run, size
        self.lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None
        self.running: set[int] = set()
        self.again: set[int] = set()

    def submit(self, endpoint_id: int) -> None:
        with self.lock:
            if endpoint_id in self.running:
                # Its thread looks again when done: the events behind the running one go.
                self.again.add(endpoint_id)
                return
            self.running.add(endpoint_id)
            if self.pool is None:
                self.pool = ThreadPoolExecutor(
                    max_workers=max(1, self.size()), thread_name_prefix=f"stemline-{self.name}"
                )
            pool = self.pool
        pool.submit(self._run, endpoint_id)

    def _run(self, endpoint_id: int) -> None:
        while True:
            try:
                self.run(endpoint_id)
            except Exception:
                # The lease runs out and the sweep queues the endpoint again.
                log.exception("%s of endpoint %s failed", self.name, endpoint_id)
            finally:
                connections.close_all()  # this thread's own connection
            with self.lock:
                if endpoint_id not in self.again:
                    self.running.discard(endpoint_id)
                    return
                self.again.discard(endpoint_id)

    def idle(self) -> bool:
        with self.lock:
            return not self.running


class Dispatcher:
    """Endpoints delivered side by side in this worker process, one thread each (up to
    `WEBHOOK_DELIVERY_THREADS`), so an endpoint that takes its whole deadline to fail never
    holds back another endpoint's fresh events; one endpoint's events stay in order (one
    thread for it at a time here, the lease across processes). Snapshots have threads of
    their own (`WEBHOOK_SNAPSHOT_THREADS`): building and sending 20,000 lines never takes a
    thread a delta is waiting for.

    Only where the worker process lives on: the database backend's `stemline worker`, and an
    RQ worker that runs its jobs in its own process (`--worker-class simple`, which sets
    `long_lived`). A forking RQ worker's work horse ends with its job, so there each task
    delivers in place and more RQ workers give the side by side."""

    def __init__(self):
        self.deltas = Lane("delivery", deliver_now, lambda: settings.WEBHOOK_DELIVERY_THREADS)
        self.snapshots = Lane("snapshot", snapshot_now, lambda: settings.WEBHOOK_SNAPSHOT_THREADS)
        self.long_lived = False

    def enabled(self) -> bool:
        if settings.WEBHOOK_DELIVERY_THREADS <= 0:
            return False
        backend = settings.TASKS.get(deliver_endpoint.backend, {}).get("BACKEND", "")
        return self.long_lived or backend.endswith("DatabaseBackend")

    def submit(self, endpoint_id: int) -> None:
        self.deltas.submit(endpoint_id)

    def submit_snapshot(self, endpoint_id: int) -> None:
        self.snapshots.submit(endpoint_id)

    def idle(self) -> bool:
        return self.deltas.idle() and self.snapshots.idle()


dispatcher = Dispatcher()


@task()
def deliver_endpoint(endpoint_id: int) -> int:
    """Deliver what is due for one endpoint: handed to this worker's delivery threads where
    there are some (the number sent then is not known here: 0), else delivered in place."""
    if dispatcher.enabled():
        dispatcher.submit(endpoint_id)
        return 0
    return deliver_now(endpoint_id)


@task()
def deliver_snapshot(endpoint_id: int) -> int:
    """Send the endpoint's newest due snapshot, beside its deltas: on this worker's snapshot
    threads where there are some, else in place (an RQ worker: the deltas go on in others)."""
    if dispatcher.enabled():
        dispatcher.submit_snapshot(endpoint_id)
        return 0
    return snapshot_now(endpoint_id)


@task()
def replay_event(event_id: int) -> bool:
    """Send one logged event again, on its own (a person asked for it in the delivery log)."""
    event = Event.objects.filter(pk=event_id).select_related("endpoint").first()
    if event is None:
        return False  # deleted since (pruned, or its endpoint removed)
    endpoint = event.endpoint
    return delivery.attempt(endpoint, delivery.secret_of(endpoint), event, replay=True)


def schedule_snapshots(now: datetime | None = None) -> int:
    """Queue each active channel's snapshot once per interval. The slot's unique constraint lets
    exactly one of several schedulers do it. The number queued."""
    now = now or timezone.now()
    queued = 0
    channels = list(
        Channel.objects.filter(active=True, endpoint__active=True).only(
            "pk", "company_id", "endpoint_id", "snapshot_every"
        )
    )
    slots = {channel.pk: int(now.timestamp()) // channel.snapshot_every for channel in channels}
    # Most ticks find every interval's snapshot queued already: one read says so.
    taken = set(
        SnapshotSlot.objects.filter(channel_id__in=slots, slot__in=set(slots.values())).values_list(
            "channel_id", "slot"
        )
    )
    for channel in channels:
        slot = slots[channel.pk]
        if (channel.pk, slot) in taken:
            continue
        try:
            with transaction.atomic():
                SnapshotSlot.objects.create(
                    company_id=channel.company_id, channel_id=channel.pk, slot=slot
                )
                outbox.queue_snapshot(channel)
        except IntegrityError:
            continue  # another scheduler queued this interval's snapshot
        queued += 1
    return queued


def sweep(now: datetime | None = None) -> int:
    """Queue a delivery for every endpoint with events due and nobody on them: retries whose
    task was lost, and events of a worker that died; and a send of every snapshot due (its
    task lost, or its sender killed: its lease has run out). The number of endpoints kicked.
    Reads only the due events (a partial index): delivered history costs it nothing."""
    now = now or timezone.now()
    due = set(
        Event.objects.filter(status=Event.Status.PENDING, next_attempt_at__lte=now)
        .values_list("endpoint_id", "kind")
        .distinct()
    )
    streams = {endpoint_id for endpoint_id, kind in due if kind != SNAPSHOT}
    snapshots = {endpoint_id for endpoint_id, kind in due if kind == SNAPSHOT}
    free = Endpoint.objects.filter(pk__in=streams, active=True).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    kicked = 0
    for endpoint_id in free.values_list("pk", flat=True):
        # A task queued long ago and lost must not keep the endpoint waiting forever.
        Endpoint.objects.filter(pk=endpoint_id).update(kicked=False)
        try:
            outbox.kick(endpoint_id)
        except Exception:
            log.exception("could not queue the delivery of endpoint %s", endpoint_id)
            continue  # the next sweep tries again
        kicked += 1
    for endpoint_id in Endpoint.objects.filter(pk__in=snapshots, active=True).values_list(
        "pk", flat=True
    ):
        try:
            outbox.queue_snapshot_send(endpoint_id)
        except Exception:
            log.exception("could not queue the snapshot of endpoint %s", endpoint_id)
    return kicked


# What pruning keeps. Delivered events (with their attempts) for a week: the delivery log shows
# them and a person may replay them; and the last KEEP_LAST of each endpoint whatever their age,
# so a quiet channel's log is never empty. Given-up events longer (they are what a person comes
# to replay). Pending events always: they are still to be sent.
KEEP_DELIVERED = timedelta(days=7)
KEEP_FAILED = timedelta(days=30)
KEEP_LAST = 100
PRUNE_BATCH = 2000
# A tick deletes at most so many batches: the work of catching up is spread over ticks.
PRUNE_BATCHES = 5


def _prunable(status: int, field: str, before: datetime, blocked: set[int]) -> list[int]:
    """At most PRUNE_BATCH ids of events of `status` older than `before` by `field` (a range
    of a partial index), less the last KEEP_LAST numbered events of each of their endpoints.
    Endpoints whose old events are all kept go into `blocked`, and are passed over next."""
    rows = list(
        Event.objects.filter(status=status, **{f"{field}__lt": before})
        .exclude(endpoint_id__in=blocked)
        .order_by(field, "pk")
        .values_list("pk", "endpoint_id", "seq")[:PRUNE_BATCH]
    )
    kept_from = {}
    for endpoint_id in {endpoint_id for _, endpoint_id, _ in rows}:
        # The KEEP_LAST-th newest number of the endpoint (its unique index, read backwards).
        kept_from[endpoint_id] = (
            Event.objects.filter(endpoint_id=endpoint_id, seq__isnull=False)
            .order_by("-seq")
            .values_list("seq", flat=True)[KEEP_LAST - 1 : KEEP_LAST]
            .first()
        )
    ids, pruned_from = [], set()
    for pk, endpoint_id, seq in rows:
        last = kept_from[endpoint_id]
        if last is not None and (seq is None or seq < last):
            ids.append(pk)
            pruned_from.add(endpoint_id)
    blocked.update(set(kept_from) - pruned_from)
    return ids if ids or not rows else [0]  # [0]: nothing here, but look further


def _delete_events(ids: list[int]) -> int:
    """The events and their attempts, in one short transaction of two statements."""
    ids = [pk for pk in ids if pk]
    if not ids:
        return 0
    marks = ", ".join(["%s"] * len(ids))
    attempts = connection.ops.quote_name(Attempt._meta.db_table)
    events = connection.ops.quote_name(Event._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {attempts} WHERE event_id IN ({marks})", ids)
        cursor.execute(f"DELETE FROM {events} WHERE id IN ({marks})", ids)
        return cursor.rowcount


def prune(now: datetime | None = None) -> int:
    """Delete what no one needs any more, in bounded batches (each its own short transaction):
    delivered and given-up events past their keeping (see KEEP_*) with their attempts, and
    old snapshot slots. The number of events deleted."""
    now = now or timezone.now()
    deleted = 0
    for status, field, keep in (
        (Event.Status.DELIVERED, "delivered_at", KEEP_DELIVERED),
        (Event.Status.FAILED, "created_at", KEEP_FAILED),
    ):
        blocked: set[int] = set()
        for _ in range(PRUNE_BATCHES):
            ids = _prunable(status, field, now - keep, blocked)
            if not ids:
                break
            deleted += _delete_events(ids)
    old_slots = SnapshotSlot.objects.filter(created_at__lt=now - KEEP_DELIVERED).values_list(
        "pk", flat=True
    )[:PRUNE_BATCH]
    SnapshotSlot.objects.filter(pk__in=list(old_slots)).delete()
    return deleted


def tick(now: datetime | None = None) -> None:
    """What the worker's scheduler runs every few seconds."""
    schedule_snapshots(now)
    sweep(now)
    prune(now)
