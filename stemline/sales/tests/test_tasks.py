"""Expired holds go back to the open market in the background, scheduled once a minute."""

import signal
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import override_settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from stemline.sales import services
from stemline.sales.management.commands.worker import schedule_forever
from stemline.sales.models import WebOrder
from stemline.sales.tasks import release_expired_holds, schedule_release_expired_holds

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
on_postgresql = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="concurrent schedulers need PostgreSQL; SQLite runs one writer at a time",
)


def hold(stocked, customer, line, boxes, *, expired):
    """A new web order of the customer holding `boxes` of the line."""
    order = services.create_web_order(
        company=stocked.company, customer_id=customer.pk, location_id=None
    )
    services.add_items(
        company=stocked.company,
        customer_id=customer.pk,
        origin=1,
        requests=[services.ItemRequest(line.pk, boxes)],
        web_order_id=order.pk,
    )
    if expired:
        WebOrder.objects.filter(pk=order.pk).update(
            hold_expires_at=timezone.now() - timedelta(seconds=1)
        )
    return order


def runs():
    return DBTaskResult.objects.filter(task_path=release_expired_holds.module_path)


@pytest.mark.django_db
@override_settings(TASKS=IMMEDIATE)
def test_the_task_gives_back_the_boxes_of_an_expired_order_only(stocked):
    line = stocked.add(10)
    gone = hold(stocked, stocked.florist, line, 3, expired=True)
    kept = hold(stocked, stocked.market, line, 2, expired=False)

    result = release_expired_holds.enqueue()

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 1
    line.refresh_from_db()
    assert (line.held, line.available) == (2, 8)
    gone.refresh_from_db()
    kept.refresh_from_db()
    assert (gone.status, kept.status) == (WebOrder.Status.EXPIRED, WebOrder.Status.PENDING)
    # The boxes are for sale again.
    hold(stocked, stocked.florist, line, 8, expired=False)


@pytest.mark.django_db
@override_settings(TASKS=IMMEDIATE)
def test_the_task_releases_more_than_one_batch(stocked, monkeypatch):
    monkeypatch.setattr("stemline.sales.tasks.BATCH", 2)
    line = stocked.add(10)
    for _ in range(5):
        hold(stocked, stocked.florist, line, 1, expired=True)

    assert release_expired_holds.enqueue().return_value == 5
    line.refresh_from_db()
    assert line.held == 0


@pytest.mark.django_db
def test_the_scheduler_enqueues_once_a_minute():
    now = timezone.now()
    assert schedule_release_expired_holds(now) is True
    assert schedule_release_expired_holds(now) is False
    assert runs().count() == 1

    # Done already, still this minute: nothing more; the next minute: again.
    runs().update(status=TaskResultStatus.SUCCESSFUL, finished_at=now)
    assert schedule_release_expired_holds(now) is False
    assert schedule_release_expired_holds(now + timedelta(minutes=1)) is True
    assert runs().count() == 2


@pytest.mark.django_db
def test_a_waiting_release_is_not_queued_twice_even_minutes_later():
    now = timezone.now()
    assert schedule_release_expired_holds(now)
    # No worker took it yet (all busy): queueing another would only pile them up.
    assert schedule_release_expired_holds(now + timedelta(minutes=5)) is False
    assert runs().count() == 1


@pytest.mark.django_db
def test_a_run_whose_worker_died_does_not_stop_the_schedule():
    now = timezone.now()
    assert schedule_release_expired_holds(now)
    runs().update(status=TaskResultStatus.RUNNING, started_at=now)
    assert schedule_release_expired_holds(now + timedelta(minutes=3)) is False
    assert schedule_release_expired_holds(now + timedelta(minutes=11)) is True


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_releases_expired_holds(stocked):
    line = stocked.add(10)
    gone = hold(stocked, stocked.florist, line, 4, expired=True)
    kept = hold(stocked, stocked.market, line, 1, expired=False)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        # The worker installs its own shutdown handlers in this (the test) process.
        for number, handler in handlers.items():
            signal.signal(number, handler)

    (run,) = runs()
    assert (run.status, run.return_value) == (TaskResultStatus.SUCCESSFUL, 1)
    line.refresh_from_db()
    assert line.held == 1
    assert WebOrder.objects.get(pk=gone.pk).status == WebOrder.Status.EXPIRED
    assert WebOrder.objects.get(pk=kept.pk).status == WebOrder.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_schedule_loop_ticks_but_enqueues_once_a_minute():
    stop = threading.Event()
    loop = threading.Thread(target=schedule_forever, args=(0.01, stop))
    loop.start()
    try:
        deadline = timezone.now() + timedelta(seconds=10)
        while not runs().exists() and timezone.now() < deadline:
            stop.wait(0.01)
        stop.wait(0.2)  # many more ticks
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    assert runs().count() in (1, 2)  # 2 only if the minute turned meanwhile


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_workers_scheduling_at_the_same_moment_enqueue_one_release():
    start = threading.Barrier(8)
    answers, errors = [], []
    now = timezone.now()

    def worker():
        try:
            start.wait()
            answers.append(schedule_release_expired_holds(now))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(answers) == [False] * 7 + [True]
    assert runs().count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_was_killed_is_marked_failed_after_the_lease(stocked):
    line = stocked.add(10)
    hold(stocked, stocked.florist, line, 4, expired=True)
    now = timezone.now()
    # What a worker killed mid-task (SIGKILL, lost machine) leaves behind: RUNNING for good.
    schedule_release_expired_holds(now - timedelta(minutes=30))
    runs().update(
        status=TaskResultStatus.RUNNING,
        enqueued_at=now - timedelta(minutes=11),
        started_at=now - timedelta(minutes=11),
    )
    fresh = DBTaskResult.objects.create(
        task_path="stemline.channels.tasks.deliver_endpoint",
        args_kwargs={"args": [1], "kwargs": {}},
        backend_name="default",
        run_after=now,
        status=TaskResultStatus.RUNNING,
        started_at=now - timedelta(minutes=2),  # within the lease: its worker may be alive
    )
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)

    abandoned, again = runs().order_by("enqueued_at")
    assert abandoned.status == TaskResultStatus.FAILED
    assert abandoned.exception_class_path == "stemline.sales.tasks.WorkerLost"
    assert abandoned.finished_at is not None
    # No longer counted as running, so the release was scheduled again and ran.
    assert (again.status, again.return_value) == (TaskResultStatus.SUCCESSFUL, 1)
    fresh.refresh_from_db()
    assert fresh.status == TaskResultStatus.RUNNING
    with override_settings(TASK_LEASE_SECONDS=60):
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    fresh.refresh_from_db()
    assert fresh.status == TaskResultStatus.FAILED
