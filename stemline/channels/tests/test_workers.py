"""The feed with real workers on PostgreSQL: a box sold here leaves the marketplace within two
seconds; a worker killed mid-delivery loses nothing; two schedulers queue one snapshot."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection, connections, transaction

from stemline.channels import tasks
from stemline.channels.models import Event
from stemline.tokens.services import create_token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="worker processes share the test database only on PostgreSQL",
    ),
]

ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def start_worker(lease_seconds=60):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "stemline.settings_test",
        "STEMLINE_WEBHOOK_LEASE_SECONDS": str(lease_seconds),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stemline",
            "worker",
            "--interval",
            "0.05",
            "--schedule-every",
            "1",
            "--no-startup-delay",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(worker) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGKILL)
    worker.wait(10)


def wait_for(condition, seconds=20.0, step=0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def quantities(market) -> dict[int, int]:
    return {int(i["inventoryIds"]): i["quantity"] for i in market.state()["items"]}


def test_a_box_sold_here_leaves_the_marketplace_within_two_seconds(
    live_server, connect, stocked, company_token
):
    line = stocked.add(3)
    channel, market, bundle = connect("ftd", api_url=live_server.url)
    worker = start_worker()
    try:
        assert wait_for(lambda: quantities(market) == {line.pk: 3}), market.state()

        # Sold elsewhere: another customer buys two boxes through the API.
        florist = create_token(
            company=stocked.company,
            token_type="customer",
            description="florist",
            customer_id=stocked.florist.pk,
            all_methods=True,
        )
        headers = {
            "authenticationToken": florist.secret,
            "X-ACCOUNT": str(stocked.company.account_id),
        }
        order = requests.post(
            f"{live_server.url}/api/web-order.create",
            json={"customerId": stocked.florist.pk},
            headers=headers,
            timeout=10,
        ).json()
        added = requests.post(
            f"{live_server.url}/api/web-order-item.add",
            json={
                "customerId": stocked.florist.pk,
                "webOrderId": order["webOrderId"],
                "inventoryIds": str(line.pk),
                "inventoryOrigin": 1,
                "quantity": 2,
            },
            headers=headers,
            timeout=10,
        )
        sold_at = time.monotonic()
        assert added.json()["status"] == 1, added.text
        assert wait_for(lambda: quantities(market) == {line.pk: 1}, seconds=2.0), market.state()
        assert time.monotonic() - sold_at < 2.0

        # The marketplace's buyer wants two: the answer names the line, nothing is oversold.
        result = market.buy([(line.pk, 2)])
        assert not result["ok"] and result["httpStatus"] == 409
        assert str(line.pk) in result["message"]
        line.refresh_from_db()
        assert line.committed + line.held <= line.total
        # The one box left can still be bought, and becomes an invoice with the fee.
        result = market.buy([(line.pk, 1)])
        assert result["ok"], result
        assert wait_for(lambda: quantities(market) == {}, seconds=2.0), market.state()
    finally:
        stop(worker)


def test_a_worker_killed_mid_delivery_loses_no_event(connect, stocked):
    lines = [stocked.add(5) for _ in range(3)]
    channel, market, _ = connect("ftd")
    market.slow_seconds = 0.5
    first = start_worker(lease_seconds=3)
    second = None
    try:
        from stemline.inventory import services as stock

        for line in lines:
            for _ in range(2):
                with transaction.atomic():
                    stock.hold(company=stocked.company, wanted=[(line.pk, 1)])
        total = Event.objects.filter(endpoint_id=channel.endpoint_id).count()
        assert wait_for(lambda: market.received >= 2, seconds=30)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert market.received < total  # killed before it was done
        market.slow_seconds = 0

        second = start_worker(lease_seconds=3)
        assert wait_for(
            lambda: not Event.objects.filter(endpoint_id=channel.endpoint_id, status=0).exists(),
            seconds=30,
        )
        assert market.received + market.duplicates >= total
        assert quantities(market) == {line.pk: 3 for line in lines}
        # Deltas arrive in feed order; a snapshot travels beside them (docs/channels.md), so
        # its `seq` may land between theirs.
        seqs = [m["seq"] for m in market.messages if m.get("type") == "inventory.changed"]
        assert seqs == sorted(seqs)
    finally:
        stop(first)
        if second is not None:
            stop(second)


def test_two_schedulers_queue_one_snapshot_per_interval(connect, stocked):
    channel, _, _ = connect("ftd")
    Event.objects.all().delete()
    barrier = threading.Barrier(2)
    # The next interval (connecting sent this one's).
    now = tasks.timezone.now() + timedelta(seconds=channel.snapshot_every)
    queued = []

    def scheduler():
        try:
            barrier.wait(10)
            queued.append(tasks.schedule_snapshots(now))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(queued) == [0, 1]
    assert Event.objects.filter(kind="inventory.snapshot").count() == 1
