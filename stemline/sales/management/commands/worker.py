"""`stemline worker`: runs background tasks (database backend) and schedules the periodic ones."""

import logging
import os
import signal
import threading
from argparse import ArgumentTypeError

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from stemline.channels import tasks as channel_tasks
from stemline.sales.tasks import schedule_generate_standing_orders, schedule_release_expired_holds

log = logging.getLogger("stemline.worker")


def scheduled() -> None:
    """What is due now. Each worker runs this; every part is safe with several schedulers: at
    most one release of holds a minute, one standing-order run an hour, one snapshot per
    channel and interval, retries of webhook deliveries whose task was lost."""
    schedule_release_expired_holds()
    schedule_generate_standing_orders()
    channel_tasks.tick()


def schedule_forever(every: float, stop: threading.Event) -> None:
    """Every `every` seconds, ask for the release of expired holds. Each worker runs this; the
    scheduler enqueues at most one release a minute between them all."""
    while True:
        try:
            scheduled()
        except Exception:
            # A database hiccup must not end the schedule; the next tick tries again.
            log.exception("could not schedule the periodic tasks")
        finally:
            # This thread's own connection: not left open for the whole sleep.
            connections.close_all()
        if stop.wait(every):
            return


def seconds(value: str) -> float:
    number = db_worker.valid_interval(value)
    if not number:
        raise ArgumentTypeError("must be more than zero")
    return number


class Command(db_worker.Command):
    help = (
        "Run background tasks from the database queue (django-tasks' db_worker) and, every "
        "minute, enqueue the release of web-order holds that expired. Run as many as needed."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--schedule-only",
            action="store_true",
            help="run no tasks, only queue the periodic ones (beside RQ workers: TASKS_BACKEND="
            "django_tasks_rq.RQBackend and `stemline rqworker --job-class "
            "django_tasks_rq.backend.Job default`)",
        )
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="only run tasks; enqueue no periodic ones",
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
        if not options["no_schedule"]:
            if options["batch"]:
                # One pass over the queue: the release goes in first, so it runs in this pass.
                scheduled()
            elif not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                # With --reload the parent process only watches files; the child schedules.
                threading.Thread(
                    target=schedule_forever,
                    args=(options["schedule_every"], threading.Event()),
                    name="stemline-scheduler",
                    # The worker's signal handler ends the process; the schedule goes with it.
                    daemon=True,
                ).start()
        super().handle(*args, **options)
