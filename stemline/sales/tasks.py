"""Background work of sales: giving back the boxes of web orders whose hold ran out, and
making the prebooks of standing orders."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from . import services

BATCH = 500
# How long the Redis key that claims one period's run of a periodic task is kept (RQ backend):
# longer than the longest period (an hour).
SLOT_KEEP = timedelta(hours=2)
# Any fixed number: the PostgreSQL advisory lock every worker's scheduler takes.
SCHEDULE_LOCK = 0x5354454D4C494E  # "STEMLIN"


@task()
def release_expired_holds() -> int:
    """Release every pending web order whose hold ran out; the number of orders released."""
    released = 0
    while True:
        # In batches, each order in its own transaction (see expire_holds); a short batch
        # means nothing due is left, or another worker holds the rest.
        done = services.expire_holds(limit=BATCH)
        released += done
        if done < BATCH:
            return released


def _lock_schedule() -> None:
    # PostgreSQL: two workers' schedulers queue on this lock until the first commits.
    # SQLite: every write transaction takes the database's write lock when it begins
    # (transaction_mode IMMEDIATE in settings), which serialises them already.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEDULE_LOCK])


def schedule_release_expired_holds(now: datetime | None = None) -> bool:
    """Enqueue release_expired_holds once a minute, however many workers call this: not when
    one is waiting or running, nor when one was enqueued this minute. True if it enqueued."""
    now = now or timezone.now()
    return _enqueue_once(release_expired_holds, now, now.replace(second=0, microsecond=0))


def task_lease() -> timedelta:
    """A database-queue task running longer than this belongs to a worker that is gone."""
    return timedelta(seconds=settings.TASK_LEASE_SECONDS)


def fail_abandoned_tasks(now: datetime | None = None) -> int:
    """Mark failed the database-queue tasks a worker claimed and never finished (killed, or its
    machine lost): RUNNING for longer than the lease. Without it such a row says RUNNING for
    good (django-tasks-db has no heartbeat). One UPDATE: safe with any number of schedulers.
    A worker that merely lost its connection settles its own task on reconnecting."""
    backend = task_backends["default"]
    if not isinstance(backend, DatabaseBackend):
        return 0  # RQ cleans its own registry of started jobs whose worker died
    now = now or timezone.now()
    lease = task_lease()
    return DBTaskResult.objects.filter(
        backend_name=backend.alias, status=TaskResultStatus.RUNNING, started_at__lt=now - lease
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="stemline.sales.tasks.WorkerLost",
        traceback=(
            f"WorkerLost: still running {lease.total_seconds():.0f} s after it started; the "
            "worker that claimed it was killed or lost its machine\n"
        ),
    )


# Finished task rows are kept this long (longer than the longest period, which
# `_enqueue_once` looks back over), then pruned: a busy day's deliveries queue millions.
KEEP_FINISHED_TASKS = SLOT_KEEP
PRUNE_TASKS_BATCH = 5000
PRUNE_TASKS_BATCHES = 4


def prune_finished_tasks(now: datetime | None = None) -> int:
    """Delete the database queue's finished task rows (succeeded or failed) older than
    KEEP_FINISHED_TASKS, in bounded batches (a range of a partial index, each batch its own
    statement); waiting and running ones are never touched. The number deleted."""
    backend = task_backends["default"]
    if not isinstance(backend, DatabaseBackend):
        return 0  # RQ expires its own results
    before = (now or timezone.now()) - KEEP_FINISHED_TASKS
    finished = (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED)
    deleted = 0
    for _ in range(PRUNE_TASKS_BATCHES):
        ids = list(
            DBTaskResult.objects.filter(status__in=finished, finished_at__lt=before)
            .order_by("finished_at")
            .values_list("pk", flat=True)[:PRUNE_TASKS_BATCH]
        )
        if ids:
            # A fast delete (one statement): nothing refers to these rows, no signal listens.
            deleted += DBTaskResult.objects.filter(pk__in=ids, status__in=finished).delete()[0]
        if len(ids) < PRUNE_TASKS_BATCH:
            break
    return deleted


class WorkerLost(Exception):
    """What a task that was abandoned by its worker is recorded as having failed with."""


def _rq_slot(periodic, period_start: datetime):
    """Claim this period's run in Redis (SET NX): exactly one of several schedulers gets it.
    The key, or None when another scheduler has it."""
    import django_rq

    key = f"stemline:periodic:{periodic.module_path}:{period_start.isoformat()}"
    redis = django_rq.get_connection(periodic.queue_name)
    if redis.set(key, "1", nx=True, ex=int(SLOT_KEEP.total_seconds())):
        return redis, key
    return None


def _enqueue_once(periodic, now: datetime, period_start: datetime) -> bool:
    backend = task_backends[periodic.backend]
    if not isinstance(backend, DatabaseBackend):
        from django_tasks_rq import RQBackend

        if not isinstance(backend, RQBackend):
            # Others (the immediate one in tests) cannot be asked what is queued; the periodic
            # tasks are idempotent, so running one twice costs nothing but time.
            periodic.enqueue()
            return True
        slot = _rq_slot(periodic, period_start)
        if slot is None:
            return False
        try:
            periodic.enqueue()
        except Exception:
            # Not queued after all: the next look (another scheduler's too) may try again.
            redis, key = slot
            redis.delete(key)
            raise
        return True
    with transaction.atomic():
        _lock_schedule()
        busy = DBTaskResult.objects.filter(
            task_path=periodic.module_path, backend_name=backend.alias
        ).filter(
            Q(status=TaskResultStatus.READY)
            | Q(status=TaskResultStatus.RUNNING, started_at__gte=now - task_lease())
            | Q(enqueued_at__gte=period_start)
        )
        if busy.exists():
            return False
        periodic.enqueue()
        return True


@task()
def generate_standing_order_prebooks() -> int:
    """Make the prebooks (type S) of active standing orders for their coming truck days; safe
    with several workers (see standing.generate). The number of prebooks made."""
    from stemline.inventory.services import today

    from . import standing

    return standing.generate(today=today())


def schedule_generate_standing_orders(now: datetime | None = None) -> bool:
    """Enqueue generate_standing_order_prebooks once an hour, however many workers call this."""
    now = now or timezone.now()
    return _enqueue_once(
        generate_standing_order_prebooks, now, now.replace(minute=0, second=0, microsecond=0)
    )


def number_waiting_feeds() -> int:
    """Number the busy feeds' rows their writers left to the next numbering (inventory changes,
    invoices, prebooks: inventory.feeds.sequence_after_commit `spaced`), so a quiet feed is
    numbered within a tick even when nobody reads it. Several workers at once are harmless:
    each feed's numbering skips one already under way."""
    from stemline.inventory import feeds
    from stemline.inventory.models import InventoryChange

    from .models import DocumentChange

    done = feeds.number_waiting(InventoryChange, "inventory")
    for feed in services.FEEDS.values():
        done += feeds.number_waiting(DocumentChange, feed, field="feed")
    return done
