"""Task backends benchmark: the database queue against RQ (forking and non-forking workers),
with 1 and 2 workers, in the same run.

    python bench/tasks.py                        # PostgreSQL on 127.0.0.1 (a throwaway database)
    python bench/tasks.py --configs simple:2,db:2 --duration 5

Seeds a company with `--lines` inventory lines (1,000) and 3 marketplace channels (DWF, FTD,
BloomNet) whose feeds go to the marketplace simulator, run here, with a throwaway Redis on a
free port. Then, for each configuration (`db` the database backend's `stemline worker`, `fork`
RQ's forking Worker, `simple` the non-forking one; `:N` workers), starts the workers, and:
- **delivery**: a separate process makes `--rate` changes a second (20: price changes, holds and
  releases, each its own transaction) for `--duration` seconds; the simulator records, for each
  delta, the time from the change (stamped in its transaction) to its receipt: p50, p99, max,
  and deltas lost (must be 0);
- **throughput**: `--tasks` (300) delivery tasks queued at once (`deliver_endpoint` of the three
  endpoints in turn, with nothing due: a lease taken, the outbox read, the lease given back),
  and the tasks finished a second, from the first enqueue to the last finish.
Every worker runs the periodic tick (`--schedule-every 1`), as deployed. Only 127.0.0.1 is
contacted; every loop is bounded in time; the database, Redis and files are removed afterwards.
Exits non-zero when a delta is lost, a worker died, a task did not finish, or the non-forking
RQ worker's p99 (the documented deployment) is worse than the database backend's with as many
workers by more than `--slack` (1.25: the machine is shared, the figures are noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from channels import make_changes, pending_events  # noqa: E402
from gateway import LOCAL_POSTGRES, REPO, Database, percentile  # noqa: E402

CHANNELS_BENCH = Path(__file__).resolve().parent / "channels.py"
KINDS = {"db": "database backend", "fork": "RQ, forking Worker", "simple": "RQ, SimpleWorker"}


def parse_configs(text: str) -> list[tuple[str, int]]:
    configs = []
    for part in text.split(","):
        kind, _, count = part.strip().partition(":")
        if kind not in KINDS or not count.isdigit() or not 1 <= int(count) <= 8:
            raise SystemExit(f"--configs: {part!r} is not one of db|fork|simple:1-8")
        configs.append((kind, int(count)))
    return configs


def environment(base: dict, kind: str, redis_url: str) -> dict:
    env = dict(base)
    if kind == "db":
        env["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    else:
        env["TASKS_BACKEND"] = "django_tasks_rq.RQBackend"
        env["REDIS_URL"] = redis_url
    return env


def start_workers(env: dict, kind: str, count: int, workdir: Path) -> list[subprocess.Popen]:
    args = ["worker", "--schedule-every", "1"]
    if kind == "db":
        args += ["--interval", "0.05", "--no-startup-delay"]
    else:
        args += ["--worker-class", kind]
    procs = []
    for n in range(count):
        log = open(workdir / f"{kind}{count}-worker{n}.log", "wb")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "stemline", *args],
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
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def python(env: dict, code: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "import django;django.setup();" + code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout.strip()


def sql(url: str, statement: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def failed_attempts(url: str) -> int:
    return sql(
        url, "SELECT count(*) FROM channels_attempt WHERE status_code IS NULL OR status_code >= 300"
    )[0][0]


def finished_tasks(env: dict, kind: str, since) -> int:
    """Tasks finished (successfully or not) of those enqueued at or after `since`."""
    if kind == "db":
        import psycopg

        dsn = env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        with psycopg.connect(dsn) as conn:
            return conn.execute(
                "SELECT count(*) FROM django_tasks_database_dbtaskresult "
                "WHERE enqueued_at >= %s AND status IN ('SUCCESSFUL', 'FAILED') "
                "AND task_path LIKE '%%.deliver_endpoint'",
                [since],
            ).fetchone()[0]
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    return client.zcard("rq:finished:default") + client.zcard("rq:failed:default")


def throughput(env: dict, kind: str, tasks: int) -> dict:
    """`tasks` empty deliveries queued at once; tasks finished a second."""
    import datetime

    if kind != "db":
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"])
        client.delete("rq:finished:default", "rq:failed:default")
    since = datetime.datetime.now(datetime.UTC)
    # The enqueuing process says when it began (after its start-up, which is not measured)
    # and ended; the tasks finished a second count from the first enqueue.
    out = python(
        env,
        "import time;from stemline.channels.models import Endpoint;"
        "from stemline.channels.tasks import deliver_endpoint;"
        "ids=list(Endpoint.objects.filter(active=True).values_list('pk',flat=True));"
        "began=time.time();"
        f"[deliver_endpoint.enqueue(ids[n % len(ids)]) for n in range({tasks})];"
        "print(began, time.time())",
    )
    began, ended = (float(x) for x in out.split()[-2:])
    enqueued = ended - began
    done = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = finished_tasks(env, kind, since)
        if done >= tasks:
            break
        time.sleep(0.01)
    seconds = time.time() - began
    return {"done": done, "seconds": seconds, "enqueue_seconds": enqueued}


def run_config(kind, count, args, base_env, redis_url, markets, ids_file, workdir) -> dict:
    env = environment(base_env, kind, redis_url)
    workers = start_workers(env, kind, count, workdir)
    try:
        # Warm: a few changes delivered to every marketplace before anything is measured.
        for market in markets:
            market.reset_delays()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            make_changes(ids_file, 4, 1, env)
            time.sleep(0.5)
            if all(m.delays_ms for m in markets):
                break
        else:
            logs = "".join(p.read_text()[-1500:] for p in workdir.glob(f"{kind}{count}-*.log"))
            raise RuntimeError(f"{kind}:{count}: nothing was delivered\n{logs}")
        quiet_by = time.monotonic() + 30
        while pending_events(env) and time.monotonic() < quiet_by:
            time.sleep(0.2)
        for market in markets:
            market.reset_delays()
        failed_before = failed_attempts(env["DATABASE_URL"])
        made = make_changes(ids_file, args.rate, args.duration, env)
        expected = made["changes"] * len(markets)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sum(len(m.delays_ms) for m in markets) >= expected:
                break
            time.sleep(0.05)
        delays = sorted(d for m in markets for d in m.delays_ms)
        failed = failed_attempts(env["DATABASE_URL"]) - failed_before
        burst = throughput(env, kind, args.tasks)
        return {
            "kind": kind,
            "workers": count,
            "changes": made["changes"],
            "rate": made["changes"] / made["seconds"],
            "lost": expected - len(delays),
            "failed": failed,
            "p50": percentile(delays, 50) if delays else float("nan"),
            "p99": percentile(delays, 99) if delays else float("nan"),
            "max": delays[-1] if delays else float("nan"),
            "tasks": burst["done"],
            "tasks_per_s": burst["done"] / burst["seconds"],
            "enqueue_s": burst["enqueue_seconds"],
            "alive": all(w.poll() is None for w in workers),
        }
    finally:
        stop_all(workers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="changes a second (20)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of changes (10)")
    parser.add_argument("--tasks", type=int, default=300, help="tasks of the burst (300)")
    parser.add_argument(
        "--configs",
        default="db:1,db:2,fork:1,fork:2,simple:1,simple:2",
        help="kind:workers, comma-separated (db|fork|simple)",
    )
    parser.add_argument("--slack", type=float, default=1.25)
    args = parser.parse_args()
    configs = parse_configs(args.configs)
    if not (1 <= args.lines <= 100_000 and 0 < args.rate <= 200 and 1 <= args.duration <= 300):
        parser.error("--lines 1-100000, --rate up to 200, --duration 1-300 s")
    if not 1 <= args.tasks <= 10_000:
        parser.error("--tasks 1-10000")

    sys.path.insert(0, str(REPO))
    from stemline.core.testing.servers import ThrowawayRedis, why_no_redis
    from stemline.demo.simulator import Simulator

    if any(kind != "db" for kind, _ in configs) and why_no_redis():
        raise SystemExit(f"the RQ configurations need a throwaway Redis: {why_no_redis()}")
    workdir = Path(tempfile.mkdtemp(prefix="stemline-bench-tasks-"))
    database = None
    redis_server = ThrowawayRedis(durable=False)
    simulator = Simulator({}, api_url="http://127.0.0.1:9", port=0).start()
    results = []
    try:
        if any(kind != "db" for kind, _ in configs):
            redis_server.start()
        database = Database(LOCAL_POSTGRES, workdir)
        base_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stemline.settings",
            "DATABASE_URL": database.url,
            "STEMLINE_VAR_DIR": str(workdir),
            "PYTHONPATH": str(REPO),
            "STEMLINE_ALLOW_PRIVATE_WEBHOOKS": "1",
        }
        print(f"[{database.label}] seeding {args.lines} lines and 3 channels ...", flush=True)
        seeded = subprocess.run(
            [sys.executable, CHANNELS_BENCH, "--seed", simulator.url, "--lines", str(args.lines)],
            cwd=REPO,
            env=base_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if seeded.returncode:
            raise RuntimeError(seeded.stderr[-3000:])
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        # The backends are compared on deltas alone: no periodic full snapshot falls into a
        # measurement (bench/channels.py measures those).
        sql(database.url, "UPDATE channels_channel SET snapshot_every = 86400")
        markets = [simulator.add(slug, b, "") for slug, b in info["bundles"].items()]
        ids_file = workdir / "ids.json"
        ids_file.write_text(json.dumps(info["lines"]))
        redis_url = redis_server.url()
        for kind, count in configs:
            print(
                f"[{database.label}] {KINDS[kind]}, {count} worker(s): {args.rate:g} changes/s "
                f"for {args.duration:g} s, then {args.tasks} tasks at once ...",
                flush=True,
            )
            result = run_config(kind, count, args, base_env, redis_url, markets, ids_file, workdir)
            results.append(result)
            print(
                f"    {result['changes']} changes ({result['rate']:.1f}/s) x 3 channels: "
                f"delay p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, max "
                f"{result['max']:.0f} ms, lost {result['lost']}, failed attempts "
                f"{result['failed']}; burst: {result['tasks']} tasks, "
                f"{result['tasks_per_s']:.0f} a second (enqueue {result['enqueue_s']:.2f} s)",
                flush=True,
            )
    finally:
        simulator.stop()
        redis_server.destroy()
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'backend':<22} {'workers':>7} {'changes/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} {'lost':>5} {'tasks/s':>8}")  # fmt: skip
    for r in results:
        print(
            f"{KINDS[r['kind']]:<22} {r['workers']:>7} {r['rate']:>9.1f} {r['p50']:>7.0f} "
            f"{r['p99']:>7.0f} {r['max']:>7.0f} {r['lost']:>5} {r['tasks_per_s']:>8.0f}"
        )
    status = 0
    if any(r["lost"] or not r["alive"] or r["tasks"] < args.tasks for r in results):
        print("FAILED: a delta was lost, a worker died or a task did not finish")
        status = 1
    db = {r["workers"]: r for r in results if r["kind"] == "db"}
    for r in results:
        base = db.get(r["workers"])
        # The deployed configuration (the non-forking worker) must hold its own; the forking
        # one is measured to show why it is not the default.
        if r["kind"] == "simple" and base and r["p99"] > base["p99"] * args.slack:
            print(
                f"FAILED: {KINDS[r['kind']]} x {r['workers']}: p99 {r['p99']:.0f} ms against "
                f"the database backend's {base['p99']:.0f} ms"
            )
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
