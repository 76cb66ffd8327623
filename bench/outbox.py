"""Pre-filled outbox benchmark: the worker's periodic tick as the delivered history grows.

    python bench/outbox.py                      # PostgreSQL on 127.0.0.1 (a throwaway database)
    python bench/outbox.py --events 200000      # a quicker run
    python bench/outbox.py --sqlite             # the embedded default instead

Connects 4 marketplace channels, then times the periodic tick (the channels' part, `tick`:
snapshots due, the sweep of due events, pruning; and the worker's whole `scheduled()`, with the
task-queue housekeeping) `--repeats` times on a quiet outbox. Then fills the outbox with
`--events` delivered events (a busy week: 3,000,000, spread over the last 6 days, each with its
delivery attempt), `--events // 4` finished task rows (the last hour's), and times the tick
again: it must cost what it did at 0 (target under 50 ms). Last, `--backlog` events older than
the week are added and one tick is timed: pruning deletes them in bounded batches, so a tick
that catches up costs a bounded time too. Only 127.0.0.1 is contacted; the database is dropped
afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import LOCAL_POSTGRES, REPO, Database  # noqa: E402

TARGET_MS = 50.0
PAYLOAD = json.dumps(
    {
        "channelId": 1,
        "at": "2026-02-10T10:00:00+00:00",
        "change": "held",
        "inventoryId": 1,
        "available": 7,
        "item": {
            "inventoryIds": "1",
            "inventoryOrigin": 1,
            "availableDate": "2026-02-10",
            "availableDateTo": "2026-02-23",
            "productId": 1,
            "productDescription": "Rose Freedom Red 50cm",
            "categoryId": 1,
            "category": "Roses",
            "variety": "Freedom",
            "color": "Red",
            "grade": "50cm",
            "boxTypeId": 2,
            "boxTypeCode": "HB",
            "unitType": "Stem",
            "bunches": 10,
            "unitsPerBox": 250,
            "stemsBunch": 25,
            "quantity": 7,
            "price": "0.550",
            "vendorId": 1,
            "vendor": "Bench Farms",
            "companyLocationId": 1,
            "markCode": "",
        },
    }
)


def timed(func, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        began = time.perf_counter()
        func()
        runs.append((time.perf_counter() - began) * 1000)
    runs.sort()
    return {"median": statistics.median(runs), "max": runs[-1], "min": runs[0]}


def fill(events: int, tasks: int, *, old: bool) -> float:
    """`events` delivered events with one attempt each, and `tasks` finished task rows, in a
    few INSERT ... SELECT statements; the seconds it took."""
    from django.db import connection, transaction

    from stemline.channels.models import Attempt, Endpoint, Event

    began = time.perf_counter()
    endpoints = list(Endpoint.objects.order_by("pk").values_list("pk", "last_seq", "company_id"))
    count = len(endpoints)
    postgres = connection.vendor == "postgresql"
    series = (
        "SELECT g FROM generate_series(1, %s) AS g"
        if postgres
        else "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %s) "
        "SELECT g FROM s"
    )
    span = 8 * 86400 if old else 6 * 86400  # seconds back: past the week, or within it
    shift = 7 * 86400 if old else 0
    ago = (
        (lambda secs: f"(now() - (({secs})::float8) * interval '1 second')")
        if postgres
        else (
            lambda secs: (
                f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || ({secs}) || ' seconds')"
            )
        )
    )
    events_table = Event._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        first_id = (Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        for index, (endpoint_id, last_seq, company_id) in enumerate(endpoints):
            share = events // count + (1 if index < events % count else 0)
            if not share:
                continue
            when = ago(f"{shift} + {span} - g * {span}.0 / {share}")
            cursor.execute(
                f"INSERT INTO {events_table} (company_id, endpoint_id, seq, kind, msg_id, payload,"
                " line_id, status, attempts, next_attempt_at, created_at, delivered_at,"
                " last_status_code, last_error) "
                f"SELECT %s, %s, %s + g, 'inventory.changed', 'msg_bench_' || %s || '_' || g, %s,"
                f" g %% 10000, 1, 1, {when}, {when}, {when}, 200, '' FROM ({series}) AS n",
                [company_id, endpoint_id, last_seq, f"{endpoint_id}_{old}", PAYLOAD, share],
            )
            Endpoint.objects.filter(pk=endpoint_id).update(last_seq=last_seq + share)
        cursor.execute(
            f"INSERT INTO {Attempt._meta.db_table} (company_id, event_id, at, status_code, error,"
            f" duration_ms, replay) SELECT company_id, id, delivered_at, 200, '', 3, %s"
            f" FROM {events_table} WHERE id >= %s",
            [False, first_id],
        )
        if tasks:
            when = ago(f"g * 3000.0 / {tasks}")  # the last 50 minutes: all still kept
            uuid = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
            cursor.execute(
                "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at,"
                " started_at, finished_at, args_kwargs, priority, task_path, worker_ids,"
                " queue_name, backend_name, run_after, return_value, exception_class_path,"
                f" traceback) SELECT {uuid}, 'SUCCESSFUL', {when}, {when}, {when},"
                ' \'{"args": [1], "kwargs": {}}\', 0,'
                " 'stemline.channels.tasks.deliver_endpoint', '[\"bench\"]', 'default',"
                f" 'default', {when}, '0', '', '' FROM ({series}) AS n",
                [tasks],
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does on a server that has run a week
    return time.perf_counter() - began


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from stemline.channels import services, tasks
    from stemline.channels.models import Channel, Event
    from stemline.core.services import bootstrap
    from stemline.parties.models import Carrier
    from stemline.sales.management.commands.worker import scheduled

    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, _issued = bootstrap(company_name="Bench Outbox", admin_email="o@example.com")
    Carrier.objects.create(
        company=company, name="FedEx", code="FDX", direction=Carrier.Direction.OUTBOUND
    )
    for slug in ("dwf", "ftd", "bloomnet", "ibuyflowers"):
        services.connect(
            company=company, marketplace=slug, endpoint_url=f"http://127.0.0.1:9/{slug}/webhook"
        )
    # A quiet outbox: the snapshots of connecting are sent, none is due for a day.
    Channel.objects.update(snapshot_every=86400)
    Event.objects.update(status=Event.Status.DELIVERED, delivered_at=django.utils.timezone.now())
    DBTaskResult.objects.all().delete()
    tasks.tick()
    scheduled()

    def statements(label: str) -> None:
        """Each statement of one whole tick with its time, the slowest first: what grows."""
        spent: dict[str, list[float]] = {}

        def wrapper(execute, sql, params, many, context):
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent.setdefault(" ".join(sql.split())[:150], []).append(
                    (time.perf_counter() - began) * 1000
                )

        scheduled()  # warm
        with connection.execute_wrapper(wrapper):
            scheduled()
        rows = sorted(spent.items(), key=lambda kv: -sum(kv[1]))
        total = sum(sum(times) for _sql, times in rows)
        print(f"[{label}] {sum(len(t) for _s, t in rows)} statements, {total:.1f} ms:")
        for sql, times in rows[:8]:
            print(f"    {sum(times):7.2f} ms x{len(times):<3} {sql}")

    def report(label: str) -> dict:
        figures = {
            "tick": timed(tasks.tick, args.repeats),
            "scheduled": timed(scheduled, args.repeats),
        }
        if args.statements:
            statements(label)
        print(
            f"[{label}] channels tick: median {figures['tick']['median']:.1f} ms, max "
            f"{figures['tick']['max']:.1f} ms; the worker's whole tick (scheduled()): median "
            f"{figures['scheduled']['median']:.1f} ms, max {figures['scheduled']['max']:.1f} ms",
            flush=True,
        )
        return figures

    label = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    empty = report(f"{label}, 0 delivered events")
    print(
        f"[{label}] filling {args.events:,} delivered events and {args.events // 4:,} finished task rows ...",
        flush=True,
    )
    seconds = fill(args.events, args.events // 4, old=False)
    print(f"[{label}] filled in {seconds:.0f} s", flush=True)
    full = report(f"{label}, {Event.objects.count():,} delivered events")
    ratio = full["tick"]["median"] / max(empty["tick"]["median"], 0.001)
    print(
        f"[{label}] tick at {args.events:,} events / tick at 0: {ratio:.2f} "
        f"(target: the same, under {TARGET_MS:.0f} ms)",
        flush=True,
    )
    if args.backlog:
        fill(args.backlog, 0, old=True)
        before = Event.objects.count()
        one = timed(tasks.tick, 1)["median"]
        print(
            f"[{label}] with a backlog of {args.backlog:,} events past the week: one tick "
            f"{one:.0f} ms deleted {before - Event.objects.count():,} (bounded: at most "
            f"{tasks.PRUNE_BATCH * tasks.PRUNE_BATCHES:,} a tick)",
            flush=True,
        )
    print(json.dumps({"empty": empty, "full": full, "ratio": ratio}))
    ok = full["tick"]["median"] < TARGET_MS
    sys.exit(0 if ok else 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="the embedded default database")
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--statements", action="store_true", help="print the slowest statements of a tick"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    if not (0 <= args.events <= 10_000_000 and 1 <= args.repeats <= 1000):
        parser.error("--events 0-10000000, --repeats 1-1000")
    workdir = Path(tempfile.mkdtemp(prefix="stemline-bench-outbox-"))
    database = None
    try:
        database = Database(None if args.sqlite else LOCAL_POSTGRES, workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stemline.settings",
            "DATABASE_URL": database.url,
            "STEMLINE_VAR_DIR": str(workdir),
            "PYTHONPATH": str(REPO),
            "STEMLINE_ALLOW_PRIVATE_WEBHOOKS": "1",
        }
        command = [sys.executable, __file__, "--child", "--events", str(args.events)]
        command += ["--backlog", str(args.backlog), "--repeats", str(args.repeats)]
        command += ["--statements"] if args.statements else []
        return subprocess.run(command, cwd=REPO, env=env, timeout=3600).returncode
    finally:
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
