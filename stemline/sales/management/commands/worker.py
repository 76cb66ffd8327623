"""`stemline worker`: runs background tasks (from the database queue, or from Redis with the RQ
backend) and schedules the periodic ones; it outlives database and Redis outages."""

import logging
import os
import signal
import threading
import time
from argparse import ArgumentTypeError

import rq
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks import TaskResultStatus, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.compat import InvalidTaskBackend
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from stemline.channels import tasks as channel_tasks
from stemline.core.services import prune_login_throttles
from stemline.sales.tasks import (
    fail_abandoned_tasks,
    number_waiting_feeds,
    prune_finished_tasks,
    schedule_generate_standing_orders,
    schedule_release_expired_holds,
)

log = logging.getLogger("stemline.worker")

# The database or Redis went away: the first retry comes after this, doubling up to the most,
# so a worker is back within a few seconds of the server, and an outage costs few log lines.
RETRY_FIRST = 0.5
RETRY_MOST = 5.0
# An error of the connection rather than of a query: wait and try again, never exit.
LOST_DATABASE = (OperationalError, InterfaceError)


def scheduled() -> None:
    """What is due now. Each worker runs this; every part is safe with several schedulers: at
    most one release of holds a minute, one standing-order run an hour, one snapshot per
    channel and interval, retries of webhook deliveries whose task was lost, tasks of killed
    workers marked failed, sign-in throttle rows, finished task rows and delivered webhook
    events pruned (bounded deletes), feeds their writers left unnumbered numbered."""
    fail_abandoned_tasks()
    number_waiting_feeds()
    prune_finished_tasks()
    prune_login_throttles()
    schedule_release_expired_holds()
    schedule_generate_standing_orders()
    channel_tasks.tick()


def schedule_forever(every: float, stop: threading.Event) -> None:
    """Every `every` seconds, queue what is due. A database or Redis outage only costs ticks:
    each one logs and the next tries again."""
    while True:
        try:
            scheduled()
        except Exception:
            log.exception("could not schedule the periodic tasks")
        finally:
            # This thread's own connection: not left open for the whole sleep.
            connections.close_all()
        if stop.wait(every):
            return


class Backoff:
    def __init__(self):
        self.wait = RETRY_FIRST
        self.last = 0.0

    def sleep(self, what: str, exc: BaseException) -> None:
        if time.monotonic() - self.last > 60:
            self.wait = RETRY_FIRST  # a new outage, not the same one going on
        log.warning("%s unreachable (%s); trying again in %.1f s", what, exc, self.wait)
        time.sleep(self.wait)
        self.last = time.monotonic()
        self.wait = min(self.wait * 2, RETRY_MOST)


class Worker(db_worker.Worker):
    """db_worker's loop, kept alive through database outages: where db_worker lets the error
    end the process (and leaves the task it was running marked RUNNING for good), this one
    waits, reconnects and records that task as failed."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Tasks cut off by a lost connection, whose end could not be written then.
        self.cut_off: list[tuple[DBTaskResult, BaseException]] = []

    def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                self.settle_cut_off()
                super().run()
                return
            except LOST_DATABASE as exc:
                if not self.running:
                    raise
                connections.close_all()
                # Back from the outage: no thundering-herd delay, the next pass is due now.
                self.startup_delay = False
                backoff.sleep("database", exc)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        except LOST_DATABASE as exc:
            self.cut_off.append((db_task_result, exc))
            raise

    def settle_cut_off(self) -> None:
        """Mark failed, with the error that cut them off, the tasks this worker was running
        when the database went away. The scheduler runs periodic ones again and the sweep
        re-kicks webhook deliveries, so nothing is lost; other tasks are not run twice."""
        while self.cut_off:
            result, exc = self.cut_off[0]
            DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                exception_class_path=f"{type(exc).__module__}.{type(exc).__qualname__}",
                traceback=f"{type(exc).__name__}: {exc}\n(the worker lost its database)\n",
            )
            self.cut_off.pop(0)
            log.warning("task %s was cut off by the outage; marked failed", result.pk)


# RQ worker classes of `--worker-class`. "simple" (the default) runs each job in the worker's
# own process, on connections kept from one job to the next; "fork" is RQ's default Worker,
# which forks a work horse per job (a new database connection each time): bench/tasks.py
# measures both (docs/operations.md has the figures).
WORKER_CLASSES = ("simple", "fork")
RQ_MAINTENANCE_SECONDS = 30
DEFAULT_WORKER_CLASS = "simple"


class SimpleWorker(rq.SimpleWorker):
    """RQ's SimpleWorker, with db_worker's connection hygiene around each job: a connection
    broken by a database outage, or older than CONN_MAX_AGE, is closed before the next job
    instead of failing every job after it."""

    def execute_job(self, job, queue):
        close_old_connections()
        try:
            return super().execute_job(job, queue)
        finally:
            close_old_connections()


def rq_worker_class(name: str) -> type[rq.worker.BaseWorker]:
    if name not in WORKER_CLASSES:
        raise CommandError(
            f"the RQ worker class is one of {', '.join(WORKER_CLASSES)}, not {name!r}"
        )
    if name == "simple":
        # This process lives on between jobs: deliveries go to its delivery threads, as in
        # the database backend's worker, so endpoints are served side by side.
        channel_tasks.dispatcher.long_lived = True
        return SimpleWorker
    return rq.Worker


def run_rq(
    queue_names: list[str],
    *,
    burst: bool,
    verbosity: int,
    worker_class: str = DEFAULT_WORKER_CLASS,
) -> None:
    """An RQ worker with its scheduler (which moves retries due later onto the queue), started
    again whenever Redis goes away. django-rq's `rqworker` exits on a Redis outage."""
    import django_rq
    import redis
    from django_rq.utils import reset_db_connections
    from django_tasks_rq.backend import Job

    level = "DEBUG" if verbosity >= 2 else "WARNING" if verbosity == 0 else "INFO"
    backoff = Backoff()
    while True:
        try:
            worker = django_rq.get_worker(
                *queue_names, job_class=Job, worker_class=rq_worker_class(worker_class)
            )
            # RQ's own reconnect loop waits up to a minute between tries; a few seconds here.
            worker.max_connection_wait_time = RETRY_MOST
            # One RQ scheduler runs at a time (a lock in Redis); the others try to take over at
            # each maintenance pass, 10 minutes apart by default: a killed one's retries would
            # wait that long once its lock expired (after a minute).
            worker.maintenance_interval = RQ_MAINTENANCE_SECONDS
            reset_db_connections()  # none open across the fork of a forking worker's job
            worker.work(burst=burst, with_scheduler=True, logging_level=level)
            return
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            backoff.sleep("Redis", exc)


def backend_name(value: str) -> str:
    # db_worker's check refuses a non-database backend, even as the unused default beside RQ.
    try:
        task_backends[value]
    except InvalidTaskBackend as exc:
        raise ArgumentTypeError(exc.args[0]) from exc
    return value


def seconds(value: str) -> float:
    number = db_worker.valid_interval(value)
    if not number:
        raise ArgumentTypeError("must be more than zero")
    return number


class Command(db_worker.Command):
    help = (
        "Run background tasks and, every few seconds, queue the periodic ones (releasing "
        "expired holds, standing orders, feed snapshots, retries). With the database backend "
        "it is django-tasks' db_worker; with TASKS_BACKEND=django_tasks_rq.RQBackend an RQ "
        "worker with its scheduler. Run as many as needed; each outlives database and Redis "
        "outages."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        for action in parser._actions:
            if action.dest == "backend_name":
                action.type = backend_name
        parser.add_argument(
            "--schedule-only",
            action="store_true",
            help="run no tasks, only queue the periodic ones (for instance beside plain "
            "`stemline rqworker --with-scheduler --job-class django_tasks_rq.backend.Job "
            "default` workers)",
        )
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="only run tasks; enqueue no periodic ones",
        )
        parser.add_argument(
            "--worker-class",
            choices=WORKER_CLASSES,
            default=os.environ.get("STEMLINE_RQ_WORKER_CLASS") or DEFAULT_WORKER_CLASS,
            help="RQ backend only: 'simple' runs each task in this process (the default, "
            "STEMLINE_RQ_WORKER_CLASS), 'fork' forks a process per task (RQ's default)",
        )
        parser.add_argument(
            "--schedule-every",
            type=seconds,
            default=5.0,
            help="seconds between two looks at what is due (default: 5)",
        )

    def handle(self, *args, **options) -> None:
        if options["schedule_only"]:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            try:
                schedule_forever(options["schedule_every"], stop)
            except KeyboardInterrupt:
                pass
            return
        rq = not isinstance(task_backends[options["backend_name"]], DatabaseBackend)
        if not options["no_schedule"]:
            if options["batch"]:
                # One pass over the queue: the release goes in first, so it runs in this pass.
                scheduled()
            elif rq or not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                # With --reload the parent process only watches files; the child schedules.
                threading.Thread(
                    target=schedule_forever,
                    args=(options["schedule_every"], threading.Event()),
                    name="stemline-scheduler",
                    # The worker's signal handler ends the process; the schedule goes with it.
                    daemon=True,
                ).start()
        if rq:
            queues = [q for q in options["queue_name"].split(",") if q and q != "*"]
            run_rq(
                queues or ["default"],
                burst=options["batch"],
                verbosity=options["verbosity"],
                worker_class=options["worker_class"],
            )
            return
        self.run_database_queue(**options)

    def run_database_queue(self, **options) -> None:
        """db_worker's handle, with the Worker above."""
        self.configure_logging(options["verbosity"])
        reload = options["reload"] and not options["batch"]
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        queue_names = options["queue_name"].split(",")
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child runs tasks
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
