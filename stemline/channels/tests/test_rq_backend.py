"""The Redis (RQ) task backend, the production choice, against the machine's Redis: the same
enqueue code, a real RQ worker, the feed delivered."""

import os

import pytest
import redis
from django.db import transaction

from stemline.channels.models import Event
from stemline.inventory import services as stock

pytestmark = pytest.mark.django_db

REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def rq_backend(settings):
    try:
        redis.Redis.from_url(REDIS).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (scripts/test starts it)")
    # A Redis database per test process, emptied first: parallel test processes never share.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
    number = 15 - (int(worker[2:]) if worker[2:].isdigit() else 0) % 8
    url = f"{REDIS}/{number}"
    redis.Redis.from_url(url).flushdb()
    settings.RQ_QUEUES = {"default": {"URL": url, "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    yield url
    redis.Redis.from_url(url).flushdb()


def run_rq_worker():
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue = django_rq.get_queue("default")
    # SimpleWorker runs jobs in this process (no fork), on this test's database connection.
    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
    return queue


def test_deliveries_go_through_rq(rq_backend, connect, stocked, django_capture_on_commit_callbacks):
    line = stocked.add(4)
    with django_capture_on_commit_callbacks(execute=True):
        channel, market, _ = connect("ftd")
    queue = run_rq_worker()
    assert market.state()["snapshots"] == 1

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            stock.hold(company=stocked.company, wanted=[(line.pk, 3)])
    import django_rq

    assert django_rq.get_queue("default").count == 1  # the delivery waits in Redis
    run_rq_worker()
    assert {int(i["inventoryIds"]): i["quantity"] for i in market.state()["items"]} == {line.pk: 1}
    assert not Event.objects.filter(endpoint_id=channel.endpoint_id, status=0).exists()
    assert queue.count == 0


def test_a_failed_delivery_is_retried_later_through_rq(
    rq_backend, connect, stocked, django_capture_on_commit_callbacks
):
    from stemline.channels.models import Endpoint

    with django_capture_on_commit_callbacks(execute=True):
        channel, market, _ = connect("ftd")
        Endpoint.objects.filter(pk=channel.endpoint_id).update(url="http://127.0.0.1:9/down")
    run_rq_worker()
    import django_rq

    # The retry is a scheduled job in Redis, due after the backoff.
    scheduled = django_rq.get_queue("default").scheduled_job_registry
    assert scheduled.count == 1
    assert Event.objects.get(endpoint_id=channel.endpoint_id).attempts == 1
    # Not before the event is due: RQ keeps the time in whole seconds, rounded down, and a
    # retry run early would find the event waiting and leave it to the sweep.
    (job_id,) = scheduled.get_job_ids()
    event = Event.objects.get(endpoint_id=channel.endpoint_id)
    assert scheduled.get_scheduled_time(job_id) >= event.next_attempt_at


def test_the_worker_refuses_an_unknown_rq_worker_class(monkeypatch):
    from django.core.management import CommandError, call_command

    from stemline.sales.management.commands import worker

    with pytest.raises(CommandError, match="invalid choice: 'spawn'"):
        call_command("worker", "--worker-class", "spawn")
    # From the environment too (argparse does not check a default against the choices).
    with pytest.raises(CommandError, match="one of simple, fork, not 'threads'"):
        worker.rq_worker_class("threads")
    assert worker.rq_worker_class("fork").__name__ == "Worker"
