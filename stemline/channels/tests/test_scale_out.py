"""The documented scale-out (docs/operations.md, "Production: PostgreSQL and Redis"): two web
processes (`stemline serve`) and two task workers (`stemline worker`, RQ backend, each with its
periodic tick and RQ's scheduler) on PostgreSQL and Redis. Orders placed through either web
process reach every marketplace, a snapshot is sent once per interval whatever the number of
schedulers, and a failed delivery is retried by RQ's scheduler.

Runs with the PostgreSQL suite (the processes share the test database) and needs
redis-server (a throwaway one on a free port; the machine's Redis is never touched)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from stemline.channels.models import Attempt, Event, SnapshotSlot
from stemline.core.testing.servers import ThrowawayRedis, free_port, why_no_redis
from stemline.inventory.models import InventoryLine

from .test_workers import database_url, quantities, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the processes share the test database only on PostgreSQL",
    ),
    pytest.mark.skipif(bool(why_no_redis()), reason=why_no_redis() or ""),
]

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def redis_backend(settings):
    """A throwaway Redis, and the RQ backend on it for this process too (connecting a channel
    here queues its first delivery)."""
    server = ThrowawayRedis()
    server.start()
    settings.RQ_QUEUES = {"default": {"URL": server.url(), "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    try:
        yield server
    finally:
        server.destroy()


class Processes:
    """Stemline processes of one deployment, their output in files, all ended at the end."""

    def __init__(self, env: dict, logs: Path):
        self.env = env
        self.logs = logs
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "stemline", *args],
            cwd=ROOT,
            env=self.env,
            stdout=(self.logs / f"{name}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # gunicorn's workers end with their arbiter
        )
        self.procs.append((name, proc))
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()[-6000:]

    def all_alive(self) -> bool:
        return all(proc.poll() is None for _, proc in self.procs)

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def deployment(redis_backend, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "stemline.settings_test",
        "PYTHONPATH": str(ROOT),
        "TASKS_BACKEND": "django_tasks_rq.RQBackend",
        "REDIS_URL": redis_backend.url(),
        "STEMLINE_WEBHOOK_LEASE_SECONDS": "5",
    }
    processes = Processes(env, tmp_path)
    try:
        yield processes
    finally:
        processes.stop()


def serve(processes: Processes, name: str) -> str:
    port = free_port()
    processes.start(
        name,
        "serve",
        "--port", str(port),
        "--workers", "1",
        "--threads", "4",
        "--skip-collectstatic",
        "--no-access-log",
    )  # fmt: skip
    return f"http://127.0.0.1:{port}"


def answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_two_web_processes_and_two_rq_workers_deliver_and_take_orders(deployment, connect, stocked):
    line = stocked.add(6)
    web = [serve(deployment, "web-a"), serve(deployment, "web-b")]
    for n in (1, 2):
        # As documented: each worker also runs the periodic tick; RQ's scheduler in each, of
        # which one at a time holds the queue's lock.
        deployment.start(f"worker-{n}", "worker", "--schedule-every", "1")
    assert wait_for(lambda: all(answers(u) for u in web), 90), deployment.log("web-a")
    # Each marketplace buys through a web process of its own.
    ftd_channel, ftd, _ = connect("ftd", api_url=web[0])
    dwf_channel, dwf, _ = connect("dwf", api_url=web[1])
    assert wait_for(lambda: quantities(ftd) == quantities(dwf) == {line.pk: 6}, 60), (
        deployment.log("worker-1"),
        ftd.state(),
    )

    # An order through web A: the other marketplace sees the boxes go.
    assert ftd.buy([(line.pk, 2)])["ok"]
    assert wait_for(lambda: quantities(dwf) == {line.pk: 4}, 10), dwf.state()
    # And one through web B.
    bought = dwf.buy([(line.pk, 3)])
    assert bought["ok"], bought
    assert wait_for(lambda: quantities(ftd) == quantities(dwf) == {line.pk: 1}, 10), (
        ftd.state(),
        dwf.state(),
    )
    line = InventoryLine.objects.get(pk=line.pk)
    assert (line.total, line.committed) == (6, 5)

    # Two schedulers, one snapshot per channel and interval (connecting took the first slot).
    time.sleep(3)  # several ticks of each worker
    for channel, market in ((ftd_channel, ftd), (dwf_channel, dwf)):
        slots = SnapshotSlot.objects.filter(channel=channel).count()
        assert market.snapshots == slots >= 1, (channel.marketplace, market.snapshots, slots)
        assert Event.objects.filter(endpoint_id=channel.endpoint_id, kind="inventory.snapshot")
    assert ftd.duplicates == dwf.duplicates == 0
    assert ftd.refused == dwf.refused == 0
    assert deployment.all_alive()


def test_an_rq_worker_runs_the_retry_of_a_failed_delivery(deployment, connect, stocked):
    """With no periodic tick (no sweep that would queue it again), only RQ's scheduler moves
    a retry due later onto the queue: `stemline worker` starts it."""
    line = stocked.add(4)
    deployment.start("worker", "worker", "--no-schedule")
    channel, market, _ = connect("ftd")
    assert wait_for(lambda: quantities(market) == {line.pk: 4}, 60), deployment.log("worker")
    # The marketplace refuses what it cannot verify: the next change fails, once.
    verifier, market.verifier = market.verifier, None
    sold = stocked.add(2)
    assert wait_for(lambda: market.refused >= 1, 20), deployment.log("worker")
    market.verifier = verifier
    # The retry (after 1 s) is delivered by RQ's scheduler and a worker: nothing else runs.
    assert wait_for(lambda: quantities(market) == {line.pk: 4, sold.pk: 2}, 30), (
        deployment.log("worker"),
        market.state(),
    )
    # The delivery log: the change refused once, then delivered (written after the answer).
    # (Deltas only: a snapshot goes beside them, unnumbered.)
    attempts = Attempt.objects.filter(
        event__endpoint_id=channel.endpoint_id, event__kind="inventory.changed"
    )

    def logged():
        return list(attempts.order_by("pk").values_list("status_code", flat=True))

    assert wait_for(lambda: logged() == [401, 200], 10), logged()
