"""Background work of channels on Django's Tasks API: delivering endpoints' events, and the
periodic tick that queues snapshots and retries (safe with any number of workers)."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from . import delivery, outbox
from .models import Channel, Endpoint, Event, SnapshotSlot

log = logging.getLogger("stemline.channels")

KEEP_DELIVERED = timedelta(days=7)


@task()
def deliver_endpoint(endpoint_id: int) -> int:
    """Deliver what is due for one endpoint; the number of events sent."""
    outcome = delivery.drain(endpoint_id)
    if outcome.retry_at is not None:
        deliver_endpoint.using(run_after=outcome.retry_at).enqueue(endpoint_id)
    return outcome.sent


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
        outbox.kick(endpoint_id)
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
