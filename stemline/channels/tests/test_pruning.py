"""Pruning on the worker's schedule: delivered events, their attempts and finished task rows go
in bounded batches; what a replay, the delivery log, a delivery still to make or the periodic
scheduler needs stays."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from stemline.channels import services, tasks
from stemline.channels.models import Attempt, Event
from stemline.sales import tasks as sales_tasks

from .conftest import deliver


def age(events, days: float) -> None:
    then = timezone.now() - timedelta(days=days)
    events.update(created_at=then, delivered_at=then, next_attempt_at=then)


def test_old_delivered_events_go_with_their_attempts_the_rest_stays(connect, stocked, monkeypatch):
    monkeypatch.setattr(tasks, "KEEP_LAST", 3)
    channel, market, _ = connect("ftd")
    lines = [stocked.add(2) for _ in range(8)]
    deliver(channel)
    mine = Event.objects.filter(endpoint_id=channel.endpoint_id)
    assert mine.filter(status=Event.Status.DELIVERED).count() == 9  # snapshot + 8 deltas
    age(mine, 8)  # all delivered more than a week ago
    recent = stocked.add(1)  # delivered today
    pending = stocked.add(1)  # not delivered yet (its endpoint's worker has not come by)
    deliver_only = Event.objects.filter(line_id=recent.pk)
    deliver_only.update(status=Event.Status.DELIVERED, delivered_at=timezone.now())
    given_up = Event.objects.filter(line_id=lines[0].pk)
    given_up.update(status=Event.Status.FAILED)  # given up 8 days ago: kept for replay

    # The snapshot and 4 old deltas; the given-up one stays, and the last 3 numbered of the
    # endpoint whatever their age.
    assert tasks.prune() == 5
    kept = {e.line_id: e.status for e in mine}
    assert kept == {
        lines[0].pk: Event.Status.FAILED,
        lines[5].pk: Event.Status.DELIVERED,
        lines[6].pk: Event.Status.DELIVERED,
        lines[7].pk: Event.Status.DELIVERED,
        recent.pk: Event.Status.DELIVERED,
        pending.pk: Event.Status.PENDING,
    }
    assert set(Attempt.objects.values_list("event__line_id", flat=True)) <= set(kept)
    assert Attempt.objects.filter(event__line_id=lines[1].pk).count() == 0
    # What is kept can be replayed; the pending one is delivered as ever.
    replayed = services.send_again(company=stocked.company, event_id=given_up.get().pk)
    assert replayed.status_code == 200
    assert deliver(channel).sent == 1
    # Two more numbered since: the last 3 are now others, and two of the old ones may go.
    assert tasks.prune() == 2
    assert tasks.prune() == 0

    # Given up a month ago: gone too.
    age(given_up, 31)
    Event.objects.filter(pk=given_up.get().pk).update(status=Event.Status.FAILED)
    assert tasks.prune() == 1


def test_pruning_goes_in_bounded_batches(connect, stocked, monkeypatch):
    monkeypatch.setattr(tasks, "KEEP_LAST", 1)
    monkeypatch.setattr(tasks, "PRUNE_BATCH", 4)
    monkeypatch.setattr(tasks, "PRUNE_BATCHES", 2)
    channel, _, _ = connect("ftd")
    for _ in range(12):
        stocked.add(1)
    deliver(channel)
    age(Event.objects.all(), 10)
    assert tasks.prune() == 8  # 2 batches of 4 a tick
    assert tasks.prune() == 4  # the rest, less the last one kept
    assert Event.objects.count() == 1


def test_quiet_endpoints_keep_their_last_events_and_do_not_hold_back_the_rest(
    connect, stocked, monkeypatch
):
    monkeypatch.setattr(tasks, "KEEP_LAST", 2)
    monkeypatch.setattr(tasks, "PRUNE_BATCH", 2)
    quiet, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    stocked.add(1)
    stocked.add(1)
    deliver(quiet)
    busy, _, _ = connect("dwf", customer_id=stocked.market.pk)
    services.update(channel=quiet, active=False)
    for _ in range(4):
        stocked.add(1)
    deliver(busy)
    age(Event.objects.filter(seq__isnull=False), 9)
    Event.objects.filter(kind="inventory.snapshot").delete()
    # The quiet endpoint's 2 are its last: kept. They come first by age and fill a batch; the
    # next batch passes over them to the busy endpoint's.
    tasks.prune()
    left = Event.objects.filter(endpoint_id=quiet.endpoint_id).count()
    assert left == 2
    assert Event.objects.filter(endpoint_id=busy.endpoint_id).count() == 2


def test_finished_task_rows_go_waiting_and_running_ones_stay(db):
    now = timezone.now()
    old = now - sales_tasks.KEEP_FINISHED_TASKS - timedelta(minutes=1)

    def row(status, finished_at):
        return DBTaskResult.objects.create(
            status=status,
            args_kwargs={"args": [1], "kwargs": {}},
            task_path="stemline.channels.tasks.deliver_endpoint",
            backend_name="default",
            run_after=now,
            finished_at=finished_at,
        )

    gone = [row(TaskResultStatus.SUCCESSFUL, old), row(TaskResultStatus.FAILED, old)]
    kept = [
        row(TaskResultStatus.SUCCESSFUL, now),  # finished a moment ago
        row(TaskResultStatus.READY, None),
        row(TaskResultStatus.RUNNING, None),
    ]
    DBTaskResult.objects.filter(pk__in=[r.pk for r in gone + kept]).update(enqueued_at=old)
    assert sales_tasks.prune_finished_tasks(now) == 2
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {r.pk for r in kept}


def test_the_tick_prunes_on_the_workers_schedule(connect, stocked, monkeypatch):
    from stemline.sales.management.commands.worker import scheduled

    channel, _, _ = connect("ftd")
    line = stocked.add(1)
    deliver(channel)
    age(Event.objects.all(), 8)
    scheduled()
    # KEEP_LAST (100) keeps an endpoint's last events whatever their age.
    assert Event.objects.count() == 2
    monkeypatch.setattr(tasks, "KEEP_LAST", 1)
    scheduled()
    assert list(Event.objects.values_list("line_id", flat=True)) == [line.pk]
