"""Channel freshness benchmark: how long a change takes to reach the marketplaces.

    python bench/channels.py                 # PostgreSQL on 127.0.0.1 (a throwaway database)
    python bench/channels.py --sqlite        # the embedded default instead

Seeds a company with `--lines` on-hand inventory lines (10,000) and connects 3 marketplace
channels (DWF, FTD, BloomNet) whose feeds go to the marketplace simulator, run here. Starts
`--workers` `stemline worker` processes (the database task backend), waits for each marketplace's
first full snapshot (its time is the snapshot figure), then a separate process makes `--rate`
changes a second (20: price changes, holds and releases on random lines, each its own
transaction) for `--duration` seconds. The simulator verifies every signature and records, for
each delta, the time from the change (stamped in the change's transaction) to its receipt.
Prints p50/p99/max of that delay per run (target p99 < 1 s, i.e. 300 times fresher than a 5-minute
refresh), events lost (must be 0) and the full-snapshot time. Only 127.0.0.1 is contacted; every
loop is bounded in time; everything is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import LOCAL_POSTGRES, REPO, Database, percentile  # noqa: E402

P99_TARGET_MS = 1000.0
MARKETPLACES = ("dwf", "ftd", "bloomnet")


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def seed(lines: int, sim_url: str) -> None:
    django_setup()
    from decimal import Decimal

    from django.core.management import call_command

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.channels import services
    from stemline.core.models import Location
    from stemline.core.services import bootstrap
    from stemline.inventory.models import InventoryLine
    from stemline.parties.models import Vendor

    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, _issued = bootstrap(company_name="Bench Channels", admin_email="c@example.com")
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")
    vendor = Vendor.objects.create(company=company, name="Bench Farms", port_origin="BOG")
    roses = Category.objects.create(company=company, name="Roses")
    products = [
        Product.objects.create(
            company=company,
            category=roses,
            description=f"Rose {i:03d}",
            variety=f"V{i}",
            color=("Red", "White", "Pink")[i % 3],
            legacy_code=f"R{i:03d}",
        )
        for i in range(50)
    ]
    rows = [
        InventoryLine(
            company=company,
            location=location,
            product=products[i % len(products)],
            box_type=box,
            vendor=vendor,
            unit_type="Stem",
            bunches=10,
            stems_bunch=25,
            unit_cost=Decimal("0.300"),
            price_a=Decimal("0.500") + Decimal(i % 40) / 100,
            price_b=Decimal("0.450") + Decimal(i % 40) / 100,
            total=50,
        )
        for i in range(lines)
    ]
    InventoryLine.objects.bulk_create(rows, batch_size=2000)
    bundles = {}
    for slug in MARKETPLACES:
        bundle = services.connect(
            company=company, marketplace=slug, endpoint_url=f"{sim_url}/{slug}/webhook"
        )
        bundles[slug] = bundle.data
    ids = list(InventoryLine.objects.filter(company=company).values_list("pk", flat=True))
    print(json.dumps({"account": company.account_id, "bundles": bundles, "lines": ids}))


def changer(rate: float, duration: float, ids: list[int], threads: int = 4) -> None:
    """`rate` changes a second for `duration` seconds, each in its own transaction, from
    `threads` threads (one alone cannot keep 20 a second on a busy 2-core machine), each on its
    own lines."""
    django_setup()
    import threading
    from decimal import Decimal

    from django.db import connections, transaction

    from stemline.core.models import Company
    from stemline.inventory import services as stock

    company = Company.objects.get(name="Bench Channels")
    counts = [0] * threads
    start = time.monotonic()

    def run(n: int) -> None:
        rng = random.Random(n)
        mine = ids[n::threads]
        held: list[int] = []
        made = 0
        try:
            while True:
                due = start + (made * threads + n) / rate
                now = time.monotonic()
                if now - start >= duration:
                    break
                if due > now:
                    time.sleep(due - now)
                line_id = rng.choice(mine)
                with transaction.atomic():
                    kind = made % 3
                    if kind == 0:
                        stock.update_line(
                            company=company,
                            line_id=line_id,
                            price_a=Decimal("0.500") + Decimal(rng.randrange(60)) / 100,
                        )
                    elif kind == 1 or not held:
                        stock.hold(company=company, wanted=[(line_id, 1)])
                        held.append(line_id)
                    else:
                        stock.release(company=company, held=[(held.pop(0), 1)])
                made += 1
                counts[n] = made
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"changes": sum(counts), "seconds": time.monotonic() - start}))


def start_workers(env: dict, count: int, workdir: Path) -> list[subprocess.Popen]:
    procs = []
    for n in range(count):
        log = open(workdir / f"worker{n}.log", "wb")  # noqa: SIM115 (closed with the process)
        procs.append(
            subprocess.Popen(
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
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def stop_all(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def pending_events(env: dict) -> int:
    code = (
        "import django;django.setup();"
        "from stemline.channels.models import Event;"
        "print(Event.objects.filter(status=0).count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    return int(out.stdout.strip() or -1)


def make_changes(ids_file, rate: float, duration: float, env: dict) -> dict:
    """Run this bench's change maker (`--changer`) in a process of its own for `duration`
    seconds at `rate` changes a second; what it reports ({"changes", "seconds", ...})."""
    changed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--changer",
            str(ids_file),
            "--rate",
            str(rate),
            "--duration",
            str(duration),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=duration + 300,
    )
    if changed.returncode:
        raise RuntimeError(changed.stderr[-3000:])
    return json.loads(changed.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="the embedded default database")
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=20.0, help="changes a second (20)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--changer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.lines, args.seed)
        return 0
    if args.changer:
        changer(args.rate, args.duration, json.loads(Path(args.changer).read_text()))
        return 0
    if not (1 <= args.lines <= 100_000 and 0 < args.rate <= 500 and 1 <= args.duration <= 600):
        parser.error("--lines 1-100000, --rate up to 500, --duration 1-600 s")

    sys.path.insert(0, str(REPO))
    from stemline.demo.simulator import Simulator

    workdir = Path(tempfile.mkdtemp(prefix="stemline-bench-channels-"))
    database = None
    workers: list[subprocess.Popen] = []
    simulator = Simulator({}, api_url="http://127.0.0.1:9", port=0).start()
    try:
        database = Database(None if args.sqlite else LOCAL_POSTGRES, workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stemline.settings",
            "DATABASE_URL": database.url,
            "STEMLINE_VAR_DIR": str(workdir),
            "PYTHONPATH": str(REPO),
            # The simulator is on 127.0.0.1, a private address production refuses.
            "STEMLINE_ALLOW_PRIVATE_WEBHOOKS": "1",
        }
        print(f"[{database.label}] seeding {args.lines} lines and 3 channels ...", flush=True)
        seeded = subprocess.run(
            [sys.executable, __file__, "--seed", simulator.url, "--lines", str(args.lines)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if seeded.returncode:
            raise RuntimeError(seeded.stderr[-3000:])
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        markets = [simulator.add(slug, b, "") for slug, b in info["bundles"].items()]

        started = time.monotonic()
        workers = start_workers(env, args.workers, workdir)
        snapshot_s = {}
        while time.monotonic() - started < 300 and len(snapshot_s) < len(markets):
            for market in markets:
                if market.slug not in snapshot_s and market.snapshots:
                    snapshot_s[market.slug] = time.monotonic() - started
            time.sleep(0.05)
        sizes = {m.slug: len(m.items) for m in markets}
        print(
            f"[{database.label}] full snapshots of {args.lines} lines received after "
            + ", ".join(f"{s} {t:.2f} s" for s, t in snapshot_s.items())
            + f" (workers started cold; lines held: {sizes})",
            flush=True,
        )
        # The changes start on a quiet outbox (nothing of the start-up still being sent).
        quiet_by = time.monotonic() + 60
        while pending_events(env) and time.monotonic() < quiet_by:
            time.sleep(0.5)
        for market in markets:
            market.reset_delays()
        ids_file = workdir / "ids.json"
        ids_file.write_text(json.dumps(info["lines"]))
        print(
            f"[{database.label}] {args.rate:g} changes/s for {args.duration:g} s, "
            f"{args.workers} workers ...",
            flush=True,
        )
        made = make_changes(ids_file, args.rate, args.duration, env)
        print(
            f"[{database.label}] made {made['changes']} changes in {made['seconds']:.1f} s "
            f"({made['changes'] / made['seconds']:.1f} a second)",
            flush=True,
        )
        expected = made["changes"] * len(markets)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sum(len(m.delays_ms) for m in markets) >= expected:
                break
            time.sleep(0.1)
        delays = sorted(d for m in markets for d in m.delays_ms)
        lost = expected - len(delays)
        p50, p99 = percentile(delays, 50), percentile(delays, 99)
        print(
            f"[{database.label}] {made['changes']} changes x {len(markets)} channels = "
            f"{expected} deltas; received {len(delays)} (lost {lost}), refused signatures "
            f"{sum(m.refused for m in markets)}, duplicates {sum(m.duplicates for m in markets)}"
        )
        print(
            f"[{database.label}] change -> marketplace delay: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
            f"max {delays[-1]:.0f} ms (target p99 < {P99_TARGET_MS:.0f} ms); "
            f"{300_000 / p99:.0f} times fresher than a 5-minute refresh"
        )
        rebuild_started = time.monotonic()
        snapshots_before = markets[0].snapshots
        code = (
            "import django;django.setup();"
            "from stemline.channels.models import Channel;from stemline.channels import outbox;"
            "outbox.queue_snapshot(Channel.objects.get(marketplace='dwf'))"
        )
        subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True)
        while markets[0].snapshots == snapshots_before and time.monotonic() - rebuild_started < 120:
            time.sleep(0.02)
        warm = time.monotonic() - rebuild_started
        print(
            f"[{database.label}] a full {sizes['dwf']}-line snapshot, queued to received "
            f"(warm worker, including a process start to queue it): {warm:.2f} s"
        )
        print(f"[{database.label}] events still pending: {pending_events(env)}")
        code = (
            "import django;django.setup();"
            "from stemline.channels.models import Attempt;"
            "a=Attempt.objects.filter(event__kind='inventory.snapshot',status_code=200)"
            ".order_by('-id').values_list('duration_ms',flat=True)[:3];print(list(a))"
        )
        timed = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        print(
            f"[{database.label}] the last full snapshots, built and sent (read from the "
            f"delivery log): {timed.stdout.strip()} ms"
        )
        return 0 if lost == 0 and p99 < P99_TARGET_MS else 1
    finally:
        stop_all(workers)
        simulator.stop()
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
