"""Channel freshness benchmark: how long a change takes to reach the marketplaces.

    python bench/channels.py                 # PostgreSQL on 127.0.0.1 (a throwaway database)
    python bench/channels.py --sqlite        # the embedded default instead
    python bench/channels.py --lines 2000 --duration 5 --snapshot-duration 5   # a quick run

Seeds a company with `--lines` on-hand inventory lines (20,000) and connects 4 marketplace
channels (DWF, FTD, BloomNet, iBuyFlowers) whose feeds go to the marketplace simulator, run here.
Sets each channel to send up to `--deltas-per-message` (100) waiting deltas in one message
(`inventory.batch`; 1: one message per change, as before). Starts `--workers` `stemline worker`
processes (the database task backend), waits for each
marketplace's first full snapshot (its time is the snapshot figure), then `--procs` separate
processes make `--rate` changes a second between them (200: price changes, holds and releases on
random lines, each its own transaction) for `--duration` seconds. The simulator verifies every
signature and records, for each delta, the time from the change (stamped in the change's
transaction) to its receipt. Prints the changes a second asked and made, p50/p99/max of that
delay (target p99 < 1 s), events lost (must be 0). Then the snapshot phase: `--snapshot-rate`
changes a second (20) for `--snapshot-duration` seconds while every channel's full snapshot is
queued every `--snapshot-every` seconds (5): the delta p99 must stay under 1 s (snapshots are
sent beside the deltas), and each marketplace must end with exactly Stemline's view. Only
127.0.0.1 is contacted; every loop is bounded in time; everything is removed afterwards.
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
MARKETPLACES = ("dwf", "ftd", "bloomnet", "ibuyflowers")


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def seed(lines: int, sim_url: str, deltas_per_message: int = 1) -> None:
    django_setup()
    from decimal import Decimal

    from django.core.management import call_command

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.channels import services
    from stemline.core.models import Location
    from stemline.core.services import bootstrap
    from stemline.inventory.models import InventoryLine
    from stemline.parties.models import Carrier, Vendor

    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, _issued = bootstrap(company_name="Bench Channels", admin_email="c@example.com")
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")
    vendor = Vendor.objects.create(company=company, name="Bench Farms", port_origin="BOG")
    # iBuyFlowers ships with FedEx: its preset needs the carrier.
    Carrier.objects.create(
        company=company, name="FedEx", code="FDX", direction=Carrier.Direction.OUTBOUND
    )
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
        services.update(
            channel=services.channel_of(company, bundle.data["channelId"]),
            deltas_per_message=deltas_per_message,
        )
        bundles[slug] = bundle.data
    ids = list(InventoryLine.objects.filter(company=company).values_list("pk", flat=True))
    print(json.dumps({"account": company.account_id, "bundles": bundles, "lines": ids}))


def changer(
    rate: float, duration: float, ids: list[int], threads: int = 4, snapshot_every: float = 0
) -> None:
    """`rate` changes a second for `duration` seconds, each in its own transaction, from
    `threads` threads (one alone cannot keep 20 a second on a busy 2-core machine), each on its
    own lines. With `snapshot_every`, every channel's full snapshot is queued that often too."""
    django_setup()
    import threading
    from decimal import Decimal

    from django.db import connections, transaction

    from stemline.channels import outbox
    from stemline.channels.models import Channel
    from stemline.core.models import Company
    from stemline.inventory import services as stock

    company = Company.objects.get(name="Bench Channels")
    counts = [0] * threads
    start = time.monotonic()
    snapshots = [0]

    def run(n: int) -> None:
        rng = random.Random(n + os.getpid())
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

    def snapshot_all() -> None:
        try:
            while time.monotonic() - start < duration - 1:
                for channel in Channel.objects.filter(company=company):
                    with transaction.atomic():
                        outbox.queue_snapshot(channel)
                    snapshots[0] += 1
                time.sleep(snapshot_every)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    if snapshot_every:
        workers.append(threading.Thread(target=snapshot_all))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(
        json.dumps(
            {
                "changes": sum(counts),
                "seconds": time.monotonic() - start,
                "snapshots": snapshots[0],
            }
        )
    )


def peak_rss(procs: list[subprocess.Popen]) -> list[str]:
    """Each worker process's peak resident memory so far, from /proc (Linux)."""
    peaks = []
    for proc in procs:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            peaks.append("?")
            continue
        kb = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0
        )
        peaks.append(f"{kb / 1024:.0f} MB")
    return peaks


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


def make_changes(
    ids_file, rate: float, duration: float, env: dict, *, procs: int = 1, snapshot_every=0.0
) -> dict:
    """Run this bench's change maker (`--changer`) in `procs` processes of its own for
    `duration` seconds at `rate` changes a second between them (each on its own lines); what
    they report together ({"changes", "seconds", "snapshots"})."""
    ids = json.loads(Path(ids_file).read_text())
    children = []
    for n in range(procs):
        mine = Path(f"{ids_file}.{n}")
        mine.write_text(json.dumps(ids[n::procs]))
        command = [sys.executable, __file__, "--changer", str(mine), "--rate", str(rate / procs)]
        command += ["--duration", str(duration)]
        if snapshot_every and n == 0:
            command += ["--snapshot-every", str(snapshot_every)]
        children.append(
            subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    reports = []
    for child in children:
        out, err = child.communicate(timeout=duration + 300)
        if child.returncode:
            raise RuntimeError(err[-3000:])
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "changes": sum(r["changes"] for r in reports),
        "seconds": max(r["seconds"] for r in reports),
        "snapshots": sum(r.get("snapshots", 0) for r in reports),
    }


def stemline_view(env: dict) -> dict:
    """Each channel's view as Stemline has it now (its snapshot's rows), by marketplace."""
    code = (
        "import django,json;django.setup();"
        "from django.core.serializers.json import DjangoJSONEncoder;"
        "from stemline.channels.models import Channel;from stemline.channels import outbox;"
        "print(json.dumps({c.marketplace: outbox.snapshot_payload(c, 0)['items'] for c in "
        "Channel.objects.select_related('customer')}, cls=DjangoJSONEncoder))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_delivered(markets, expected: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sum(len(m.delays_ms) for m in markets) >= expected:
            return
        time.sleep(0.1)


def phase(label, markets, made: dict, asked: float) -> tuple[int, float]:
    """Print one phase's figures; (deltas lost, p99 in ms)."""
    expected = made["changes"] * len(markets)
    delays = sorted(d for m in markets for d in m.delays_ms)
    lost = expected - len(delays)
    print(
        f"{label} changes a second: asked {asked:g}, made "
        f"{made['changes'] / made['seconds']:.1f} ({made['changes']} in {made['seconds']:.1f} s)"
    )
    print(
        f"{label} {made['changes']} changes x {len(markets)} channels = {expected} deltas; "
        f"received {len(delays)} (lost {lost}), refused signatures "
        f"{sum(m.refused for m in markets)}, duplicates {sum(m.duplicates for m in markets)}"
    )
    if not delays:
        return lost, float("inf")
    p50, p99 = percentile(delays, 50), percentile(delays, 99)
    print(
        f"{label} change -> marketplace delay: p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
        f"max {delays[-1]:.0f} ms (target p99 < {P99_TARGET_MS:.0f} ms)",
        flush=True,
    )
    # Where the slow ones were: each marketplace's deltas in the order they arrived, in tenths
    # of the phase (a spike at the start reads differently from a queue that keeps growing).
    tenths = []
    for part in range(10):
        window = [
            d
            for m in markets
            for d in m.delays_ms[
                part * len(m.delays_ms) // 10 : (part + 1) * len(m.delays_ms) // 10
            ]
        ]
        tenths.append(f"{percentile(sorted(window), 99):.0f}" if window else "-")
    print(f"{label} p99 ms by tenth of the phase, in order of arrival: {' '.join(tenths)}")
    return lost, p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="the embedded default database")
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0, help="changes a second (200)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--procs", type=int, default=4, help="change-making processes (4)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--snapshot-rate", type=float, default=20.0)
    parser.add_argument("--snapshot-duration", type=float, default=20.0, help="0: no phase")
    parser.add_argument("--snapshot-every", type=float, default=5.0)
    parser.add_argument(
        "--deltas-per-message",
        type=int,
        default=100,
        help="each channel's setting (100; 1: one message per change)",
    )
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--changer", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.lines, args.seed, args.deltas_per_message)
        return 0
    if args.changer:
        changer(
            args.rate,
            args.duration,
            json.loads(Path(args.changer).read_text()),
            snapshot_every=args.snapshot_every if "--snapshot-every" in sys.argv else 0,
        )
        return 0
    if not (1 <= args.lines <= 100_000 and 0 < args.rate <= 1000 and 1 <= args.duration <= 600):
        parser.error("--lines 1-100000, --rate up to 1000, --duration 1-600 s")
    if not (1 <= args.procs <= 16 and 0 <= args.snapshot_duration <= 600):
        parser.error("--procs 1-16, --snapshot-duration 0-600 s")

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
        label = f"[{database.label}]"
        print(
            f"{label} seeding {args.lines} lines and {len(MARKETPLACES)} channels ...", flush=True
        )
        seeded = subprocess.run(
            [sys.executable, __file__, "--seed", simulator.url, "--lines", str(args.lines)]
            + ["--deltas-per-message", str(args.deltas_per_message)],
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
            f"{label} full snapshots of {args.lines} lines received after "
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
            f"{label} {args.rate:g} changes/s for {args.duration:g} s from {args.procs} "
            f"processes, {args.workers} workers, up to {args.deltas_per_message} deltas a "
            "message ...",
            flush=True,
        )
        made = make_changes(ids_file, args.rate, args.duration, env, procs=args.procs)
        wait_delivered(markets, made["changes"] * len(markets))
        lost, p99 = phase(label, markets, made, args.rate)
        ok = lost == 0 and p99 < P99_TARGET_MS
        if not args.sqlite:
            # The floor, in the same run and database: the minimal change transaction straight
            # on psycopg (lock a line, check, update it, insert the change, commit) from as many
            # connections as there are change makers, over 1,000 lines.
            from orders import floor

            rate = made["changes"] / made["seconds"]
            per_second = floor(database.url, args.procs, 1000, min(args.duration, 10.0), 1)
            print(
                f"{label} floor, the minimal change transaction: {per_second:.0f} changes/s; "
                f"Stemline made {rate:.1f} a second, {rate / per_second:.1%} of it (asked "
                f"{args.rate:g}; --rate up to 1000 pushes towards the floor)",
                flush=True,
            )

        if args.snapshot_duration:
            for market in markets:
                market.reset_delays()
            before = {m.slug: m.snapshots for m in markets}
            print(
                f"{label} snapshot phase: {args.snapshot_rate:g} changes/s for "
                f"{args.snapshot_duration:g} s, every channel's {args.lines}-line snapshot "
                f"queued every {args.snapshot_every:g} s ...",
                flush=True,
            )
            made = make_changes(
                ids_file,
                args.snapshot_rate,
                args.snapshot_duration,
                env,
                procs=1,
                snapshot_every=args.snapshot_every,
            )
            wait_delivered(markets, made["changes"] * len(markets))
            settle_by = time.monotonic() + 120
            while pending_events(env) and time.monotonic() < settle_by:
                time.sleep(0.5)
            received = {m.slug: m.snapshots - before[m.slug] for m in markets}
            print(
                f"{label} snapshots queued {made['snapshots']}, applied by the marketplaces "
                f"(newer ones supersede waiting ones): {received}",
                flush=True,
            )
            lost, p99 = phase(f"{label} during snapshots:", markets, made, args.snapshot_rate)
            view = stemline_view(env)
            exact = {}
            for market in markets:
                held = json.loads(json.dumps(market.state()["items"]))
                want = {row["inventoryIds"]: row for row in view[market.slug]}
                got = {row["inventoryIds"]: row for row in held}
                exact[market.slug] = (
                    "exact"
                    if got == want
                    else (
                        f"{sum(1 for k in want.keys() | got.keys() if want.get(k) != got.get(k))} "
                        "lines differ"
                    )
                )
            print(f"{label} each marketplace's view against Stemline's: {exact}", flush=True)
            ok = ok and lost == 0 and p99 < P99_TARGET_MS
            ok = ok and all(v == "exact" for v in exact.values())
        print(f"{label} events still pending: {pending_events(env)}")
        code = (
            "import django;django.setup();"
            "from stemline.channels.models import Attempt;"
            "a=Attempt.objects.filter(event__kind='inventory.snapshot',status_code=200)"
            ".order_by('-id').values_list('duration_ms',flat=True)[:4];print(list(a))"
        )
        timed = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        print(
            f"{label} the last full snapshots, built and sent (read from the delivery log): "
            f"{timed.stdout.strip()} ms"
        )
        print(f"{label} workers' peak memory (VmHWM): {', '.join(peak_rss(workers))}")
        return 0 if ok else 1
    finally:
        stop_all(workers)
        simulator.stop()
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
