"""Background work of sales: giving back the boxes of web orders whose hold ran out."""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from . import services

BATCH = 500
# A run that started longer ago than this and never finished belongs to a worker that died;
# it must not keep the release from being scheduled again.
RUN_GIVES_UP_AFTER = timedelta(minutes=10)
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
    backend = task_backends[release_expired_holds.backend]
    if not isinstance(backend, DatabaseBackend):
        # Other backends (the immediate one in tests) cannot be asked what is queued; the
        # release is idempotent, so running it twice costs nothing but time.
        release_expired_holds.enqueue()
        return True
    minute = now.replace(second=0, microsecond=0)
    with transaction.atomic():
        _lock_schedule()
        busy = DBTaskResult.objects.filter(
            task_path=release_expired_holds.module_path, backend_name=backend.alias
        ).filter(
            Q(status=TaskResultStatus.READY)
            | Q(status=TaskResultStatus.RUNNING, started_at__gte=now - RUN_GIVES_UP_AFTER)
            | Q(enqueued_at__gte=minute)
        )
        if busy.exists():
            return False
        release_expired_holds.enqueue()
        return True
