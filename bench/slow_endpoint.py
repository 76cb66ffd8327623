"""Slow-endpoint benchmark: one slow marketplace must never delay another.

    python bench/slow_endpoint.py                # PostgreSQL on 127.0.0.1 (a throwaway database)
    python bench/slow_endpoint.py --threads 0    # the worker delivering one endpoint at a time

Seeds `--lines` inventory lines (2,000) and connects five channels: three healthy marketplaces
(DWF, FTD, BloomNet) on the marketplace simulator, and two sick ones on misbehaving local
servers: one answers every request after 60 s, one drips its answer one byte a second. Starts
`--workers` `stemline worker` processes (2) and, once the healthy ones hold their snapshots and
both sick ones are being tried, makes `--rate` changes a second (20) for `--duration` seconds
(40). The sick endpoints fail at each attempt's 10-second deadline and are retried with backoff
all along. Prints p50/p99/max of the healthy marketplaces' change-to-marketplace delay (target
p99 < 1 s), events lost, and what the sick endpoints' attempts were logged as. Only 127.0.0.1 is
contacted; everything is removed afterwards; about 1.5 minutes in all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from channels import (  # noqa: E402
    django_setup,
    make_changes,
    pending_events,
    start_workers,
    stop_all,
)
from channels import seed as seed_channels  # noqa: E402
from gateway import LOCAL_POSTGRES, REPO, Database, percentile  # noqa: E402

P99_TARGET_MS = 1000.0


def seed(lines: int, sim_url: str, stuck_url: str, drip_url: str) -> None:
    """The channels bench's company and three healthy channels, then the two sick ones."""
    seed_channels(lines, sim_url)
    from stemline.channels import services
    from stemline.core.models import Company
    from stemline.parties.services import add_customer

    company = Company.objects.get(name="Bench Channels")
    for name, url in (("Stuck market", stuck_url), ("Dripping market", drip_url)):
        customer = add_customer(company=company, name=name)
        services.connect(
            company=company,
            marketplace="custom",
            customer_id=customer.pk,
            endpoint_url=url,
            name=name,
        )
    print(json.dumps({"sick": 2}))


def attempts_of_sick(env: dict) -> str:
    code = (
        "import django,json;django.setup();"
        "from django.db.models import Count;"
        "from stemline.channels.models import Attempt;"
        "rows=Attempt.objects.filter(event__endpoint__channel__marketplace='custom')"
        ".values_list('event__endpoint__channel__name','error').annotate(n=Count('id'));"
        "print(json.dumps([list(r) for r in rows]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    return out.stdout.strip() or out.stderr[-500:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=20.0, help="changes a second (20)")
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=None, help="STEMLINE_WEBHOOK_DELIVERY_THREADS of workers"
    )
    parser.add_argument("--seed", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        django_setup()
        seed(args.lines, *args.seed)
        return 0
    if not (1 <= args.lines <= 100_000 and 0 < args.rate <= 200 and 1 <= args.duration <= 300):
        parser.error("--lines 1-100000, --rate up to 200, --duration 1-300 s")

    sys.path.insert(0, str(REPO))
    from stemline.channels.tests.servers import BadEndpoint
    from stemline.demo.simulator import Simulator

    workdir = Path(tempfile.mkdtemp(prefix="stemline-bench-slow-"))
    database = None
    workers: list[subprocess.Popen] = []
    simulator = Simulator({}, api_url="http://127.0.0.1:9", port=0).start()
    stuck = BadEndpoint("sleep", 60)
    dripping = BadEndpoint("drip", 1.0)
    try:
        database = Database(LOCAL_POSTGRES, workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stemline.settings",
            "DATABASE_URL": database.url,
            "STEMLINE_VAR_DIR": str(workdir),
            "PYTHONPATH": str(REPO),
            # Every marketplace here is on 127.0.0.1, as on an on-premises install.
            "STEMLINE_ALLOW_PRIVATE_WEBHOOKS": "1",
        }
        if args.threads is not None:
            env["STEMLINE_WEBHOOK_DELIVERY_THREADS"] = str(args.threads)
        label = database.label
        print(
            f"[{label}] seeding {args.lines} lines, 3 healthy and 2 sick channels ...", flush=True
        )
        seeded = subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed",
                simulator.url,
                stuck.url,
                dripping.url,
                "--lines",
                str(args.lines),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if seeded.returncode:
            raise RuntimeError(seeded.stderr[-3000:])
        info = json.loads(seeded.stdout.strip().splitlines()[-2])
        markets = [simulator.add(slug, b, "") for slug, b in info["bundles"].items()]

        started = time.monotonic()
        workers = start_workers(env, args.workers, workdir)
        while time.monotonic() - started < 120 and not (
            all(m.snapshots for m in markets) and stuck.requests and dripping.requests
        ):
            time.sleep(0.05)
        print(
            f"[{label}] healthy snapshots in after {time.monotonic() - started:.1f} s; the sick "
            f"endpoints have had {stuck.requests} and {dripping.requests} requests so far",
            flush=True,
        )
        for market in markets:
            market.reset_delays()
        ids_file = workdir / "ids.json"
        ids_file.write_text(json.dumps(info["lines"]))
        print(
            f"[{label}] {args.rate:g} changes/s for {args.duration:g} s, {args.workers} workers"
            f" (delivery threads: {env.get('STEMLINE_WEBHOOK_DELIVERY_THREADS', 'default')}) ...",
            flush=True,
        )
        made = make_changes(ids_file, args.rate, args.duration, env)
        expected = made["changes"] * len(markets)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sum(len(m.delays_ms) for m in markets) >= expected:
                break
            time.sleep(0.1)
        delays = sorted(d for m in markets for d in m.delays_ms)
        lost = expected - len(delays)
        p50, p99 = percentile(delays, 50), percentile(delays, 99)
        print(
            f"[{label}] made {made['changes']} changes in {made['seconds']:.1f} s; healthy "
            f"channels: {expected} deltas expected, received {len(delays)} (lost {lost})"
        )
        print(
            f"[{label}] healthy change -> marketplace delay beside a 60-s and a dripping "
            f"endpoint: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {delays[-1]:.0f} ms "
            f"(target p99 < {P99_TARGET_MS:.0f} ms)"
        )
        print(
            f"[{label}] sick endpoints' attempts (channel, logged as, count): {attempts_of_sick(env)}"
        )
        print(f"[{label}] events pending (the sick endpoints' backlog): {pending_events(env)}")
        return 0 if lost == 0 and p99 < P99_TARGET_MS else 1
    finally:
        stop_all(workers)
        stuck.stop()
        dripping.stop()
        simulator.stop()
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
