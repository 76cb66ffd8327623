"""Background work of channels on Django's Tasks API: delivering endpoints' events, and the
periodic tick that queues snapshots and retries (safe with any number of workers)."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from . import delivery, outbox
from .models import Channel, Endpoint, Event, SnapshotSlot

log = logging.getLogger("stemline.channels")

KEEP_DELIVERED = timedelta(days=7)


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


class Dispatcher:
    """Endpoints delivered side by side in this worker process, one thread each (up to
    `WEBHOOK_DELIVERY_THREADS`), so an endpoint that takes its whole deadline to fail never
    holds back another endpoint's fresh events; one endpoint's events stay in order (one
    thread for it at a time here, the lease across processes).

    Only where the worker process lives on: the database backend's `stemline worker`, and an
    RQ worker that runs its jobs in its own process (`--worker-class simple`, which sets
    `long_lived`). A forking RQ worker's work horse ends with its job, so there each task
    delivers in place and more RQ workers give the side by side."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pool: ThreadPoolExecutor | None = None
        self.running: set[int] = set()
        self.again: set[int] = set()
        self.long_lived = False

    def enabled(self) -> bool:
        if settings.WEBHOOK_DELIVERY_THREADS <= 0:
            return False
        backend = settings.TASKS.get(deliver_endpoint.backend, {}).get("BACKEND", "")
        return self.long_lived or backend.endswith("DatabaseBackend")

    def submit(self, endpoint_id: int) -> None:
        with self.lock:
            if endpoint_id in self.running:
                # Its thread looks again when done: the events behind the running drain go.
                self.again.add(endpoint_id)
                return
            self.running.add(endpoint_id)
            if self.pool is None:
                self.pool = ThreadPoolExecutor(
                    max_workers=settings.WEBHOOK_DELIVERY_THREADS,
                    thread_name_prefix="stemline-delivery",
                )
            pool = self.pool
        pool.submit(self._run, endpoint_id)

    def _run(self, endpoint_id: int) -> None:
        while True:
            try:
                deliver_now(endpoint_id)
            except Exception:
                # The lease runs out and the sweep queues the endpoint again.
                log.exception("delivery of endpoint %s failed", endpoint_id)
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
    channels = Channel.objects.filter(active=True, endpoint__active=True).only(
        "pk", "company_id", "endpoint_id", "snapshot_every"
    )
    for channel in channels:
        slot = int(now.timestamp()) // channel.snapshot_every
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
    task was lost, and events of a worker that died. The number of endpoints kicked."""
    now = now or timezone.now()
    due = (
        Event.objects.filter(status=Event.Status.PENDING, next_attempt_at__lte=now)
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    free = Endpoint.objects.filter(pk__in=list(due), active=True).filter(
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
    return kicked


def prune(now: datetime | None = None) -> int:
    now = now or timezone.now()
    old = Event.objects.filter(
        status=Event.Status.DELIVERED, delivered_at__lt=now - KEEP_DELIVERED
    ).values_list("pk", flat=True)[:5000]
    deleted, _ = Event.objects.filter(pk__in=list(old)).delete()
    SnapshotSlot.objects.filter(created_at__lt=now - KEEP_DELIVERED).delete()
    return deleted


def tick(now: datetime | None = None) -> None:
    """What the worker's scheduler runs every few seconds."""
    schedule_snapshots(now)
    sweep(now)
    prune(now)
