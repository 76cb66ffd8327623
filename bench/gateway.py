"""Gateway benchmark: the API's cost over a bare Django view, on the real production server.

    python bench/gateway.py                       # SQLite in a temporary directory
    python bench/gateway.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    python bench/gateway.py --all                 # SQLite, then PostgreSQL

Seeds a throwaway database (a company, its Company token, 1,000 products), starts the
production server on a free loopback port, and measures for a fixed time with concurrent
keep-alive clients: (a) a one-row `product.list` beside (b) the bare `/healthz` view, and the
ratio of their throughputs; (c) `/readyz`, a view that makes one database round trip, which
shows on PostgreSQL what share of the bare view any method reading the database can keep on
this machine;
(d) the latency of a 1,000-row `product.list`. Only 127.0.0.1 is
ever contacted, every loop is bounded in time, and everything it made is removed at the end.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
LOOPBACK_HOSTS = {"", "localhost", "127.0.0.1", "::1", "[::1]"}
RATIO_TARGET = 0.7
BIG_LIST_P50_TARGET_MS = 30.0


# ---------------------------------------------------------------- seeding (runs in a child)


def seed(products: int, tokens: int) -> None:
    """Migrate, bootstrap a company, add products; print what the load needs as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from stemline.catalog.services import add_product
    from stemline.core.services import bootstrap
    from stemline.tokens.services import create_token

    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, issued = bootstrap(
        company_name="Bench Floral Imports", admin_email="bench@example.com"
    )
    colors = ["Red", "White", "Pink", "Yellow", "Orange", "Lavender", "Bicolor", "Green"]
    grades = ["40cm", "50cm", "60cm", "70cm"]
    first_id = None
    with transaction.atomic():
        for i in range(products):
            product = add_product(
                company=company,
                category="Roses" if i % 3 else "Spray Roses",
                variety=f"Variety {i:04d}",
                color=colors[i % len(colors)],
                grade=grades[i % len(grades)],
                legacy_code=f"B{i:05d}",
                tags="bench",
            )
            first_id = first_id or product.pk
    secrets_ = [issued.secret] + [
        create_token(
            company=company, token_type="company", description=f"bench {i}", all_methods=True
        ).secret
        for i in range(1, tokens)
    ]
    print(json.dumps({"secrets": secrets_, "account": company.account_id, "product_id": first_id}))


# ---------------------------------------------------------------- databases


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in ("postgres", "postgresql", "pgsql", "postgis")


def _connect_admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or None,
        port=parts.port or 5432,
        user=parts.username or None,
        password=parts.password or None,
        dbname=(parts.path.lstrip("/") or "postgres"),
        autocommit=True,
        connect_timeout=5,
    )


class Database:
    """A throwaway database: an SQLite file in the run's directory or a fresh PostgreSQL one."""

    def __init__(self, admin_url: str | None, workdir: Path):
        self.admin_url = admin_url
        self.name: str | None = None
        if admin_url is None:
            self.url = f"sqlite:///{workdir / 'bench.sqlite3'}"
            self.label = "SQLite"
            return
        parts = urlsplit(admin_url)
        if not _is_postgres(admin_url):
            raise SystemExit(
                f"--database-url: only postgres:// URLs are supported, not {admin_url}"
            )
        if (parts.hostname or "") not in LOOPBACK_HOSTS:
            raise SystemExit(
                "--database-url: the bench creates and drops databases, so it only runs against "
                f"a PostgreSQL server on this machine (127.0.0.1), not {parts.hostname}"
            )
        self.name = f"stemline_bench_{secrets.token_hex(4)}"
        with _connect_admin(admin_url) as conn:
            version = conn.info.server_version
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self.label = f"PostgreSQL {version // 10000}.{version % 10000}"

    def drop(self) -> None:
        if self.name is None:
            return
        with _connect_admin(self.admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.name = None


# ---------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(port: int, workers: int, threads: int) -> tuple[list[str], str]:
    """`stemline serve` when the project has it, else gunicorn with the same shape."""
    if (REPO / "stemline" / "core" / "management" / "commands" / "serve.py").exists():
        return (
            [
                sys.executable,
                "-m",
                "stemline",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--no-access-log",
                "--skip-collectstatic",
            ],
            "stemline serve",
        )
    return (
        [
            sys.executable,
            "-m",
            "gunicorn",
            "stemline.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread" if threads > 1 else "sync",
            "--log-level",
            "warning",
        ],
        "gunicorn",
    )


class Server:
    def __init__(self, env: dict[str, str], workers: int, threads: int, log_path: Path):
        self.port = _free_port()
        command, self.kind = server_command(self.port, workers, threads)
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(timeout=60)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                status, _ = get(self.port, "/healthz", {})
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    queue.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return pids


def cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by a process and its children (Linux /proc; None elsewhere)."""
    if not os.path.exists(f"/proc/{pid}/stat"):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for current in _process_tree(pid):
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime: fields 14 and 15 of stat, counted after the command name.
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


# ---------------------------------------------------------------- load


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    p50_ms: float | None = None
    p99_ms: float | None = None
    server_cpu_s: float | None = None

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def __post_init__(self):
        if self.latencies_ms and self.p50_ms is None:
            ordered = sorted(self.latencies_ms)
            self.p50_ms = percentile(ordered, 50)
            self.p99_ms = percentile(ordered, 99)


def median_round(rounds: list[Result]) -> Result:
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]


def percentile(ordered: list[float], pct: float) -> float:
    index = max(0, min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def _client(port, path, headers, start_at, stop_at, out) -> None:
    """One keep-alive connection sending requests back to back until stop_at."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, errors = [], 0
    while time.time() < start_at:
        time.sleep(0.001)
    while True:
        began = time.perf_counter()
        if time.time() >= stop_at:
            break
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
        if ok:
            latencies.append((time.perf_counter() - began) * 1000)
        else:
            errors += 1
    conn.close()
    out.put((latencies, errors))


def load_python(name, port, path, header_sets, connections, duration, workdir) -> Result:
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    out = ctx.Queue()
    start_at = time.time() + 0.5
    stop_at = start_at + duration
    procs = [
        ctx.Process(
            target=_client,
            args=(port, path, header_sets[i % len(header_sets)], start_at, stop_at, out),
        )
        for i in range(connections)
    ]
    for p in procs:
        p.start()
    latencies, errors = [], 0
    for _ in procs:
        lat, err = out.get(timeout=duration + 120)
        latencies.extend(lat)
        errors += err
    for p in procs:
        p.join(timeout=10)
    return Result(name, len(latencies), errors, duration, latencies)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


WRK_TOKENS = """
local tokens = {%s}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("token", tokens[(started - 1) %% #tokens + 1])
end
function init(args)
  wrk.headers["authenticationToken"] = token
end
"""


def load_wrk(name, port, path, header_sets, connections, duration, workdir) -> Result:
    headers = dict(header_sets[0])
    threads = min(2, connections)
    script = []
    if len(header_sets) > 1:
        # One wrk thread per connection, each with its own token (set by the Lua script).
        threads = connections
        headers.pop("authenticationToken", None)
        lua = workdir / "tokens.lua"
        lua.write_text(
            WRK_TOKENS % ", ".join(json.dumps(h["authenticationToken"]) for h in header_sets)
        )
        script = ["-s", str(lua)]
    command = [
        "wrk",
        *script,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "30s",
    ]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    text = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if not total:
        raise RuntimeError(f"could not read wrk's output:\n{text}")
    requests = int(total.group(1))
    seconds = _ms(total.group(2) + total.group(3)) / 1000
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
    return Result(
        name,
        requests - errors,
        errors,
        seconds,
        p50_ms=_ms(p50.group(1)) if p50 else None,
        p99_ms=_ms(p99.group(1)) if p99 else None,
    )


# ---------------------------------------------------------------- one run


@dataclass
class Run:
    label: str
    server: str
    client: str
    gateway: Result
    bare: Result
    big: Result
    one_query: Result  # /readyz: a view that makes one database round trip

    @property
    def ratio(self) -> float:
        return self.gateway.rate / self.bare.rate if self.bare.rate else 0.0

    @property
    def ceiling(self) -> float:
        """What a view with one database round trip keeps of the bare view: no method that
        reads the database can do better on this machine."""
        return self.one_query.rate / self.bare.rate if self.bare.rate else 0.0


def _check_answer(port, path, headers, rows) -> None:
    status, body = get(port, path, headers)
    data = json.loads(body)
    if status != 200 or data.get("status") != 1 or len(data.get("products", [])) != rows:
        raise RuntimeError(f"{path} answered {status}: {body[:500]!r}")


def run_once(args, admin_url: str | None) -> Run:
    workdir = Path(tempfile.mkdtemp(prefix="stemline-bench-"))
    database = None
    server = None
    try:
        database = Database(admin_url, workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stemline.settings",
            "DATABASE_URL": database.url,
            "STEMLINE_VAR_DIR": str(workdir),
            "STEMLINE_API_RATE": "1000000",
            "STEMLINE_API_BURST": "1000000",
            "STEMLINE_HTTPS": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        print(f"[{database.label}] seeding {args.products} products ...", flush=True)
        seeded = subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed",
                "--products",
                str(args.products),
                "--tokens",
                str(args.tokens),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if seeded.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{seeded.stderr[-3000:]}")
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        server = Server(env, args.workers, args.threads, workdir / "server.log")
        header_sets = [
            {"authenticationToken": secret, "X-ACCOUNT": str(info["account"])}
            for secret in info["secrets"]
        ]
        headers = header_sets[0]
        one = f"/api/product.list?id={info['product_id']}"
        every = "/api/product.list"
        _check_answer(server.port, one, headers, 1)
        _check_answer(server.port, every, headers, args.products)

        client = args.client
        if client == "auto":
            client = "wrk" if shutil.which("wrk") else "python"
        run_load = load_wrk if client == "wrk" else load_python

        def load(name, port, path, header_sets, conns, duration):
            return run_load(name, port, path, header_sets, conns, duration, workdir)

        # Warm every worker (imports, connections, caches) before anything is counted.
        load("warm-up", server.port, one, header_sets, args.connections, 1)
        load("warm-up", server.port, "/healthz", [{}], args.connections, 1)
        load("warm-up", server.port, "/readyz", [{}], args.connections, 1)
        print(
            f"[{database.label}] measuring ({client} client, {args.duration} s each) ...",
            flush=True,
        )

        def measure(name, path, hdrs, conns):
            before = cpu_seconds(server.process.pid)
            result = load(name, server.port, path, hdrs, conns, args.duration)
            after = cpu_seconds(server.process.pid)
            if before is not None and after is not None:
                result.server_cpu_s = after - before
            return result

        # Alternate the two measurements and keep each one's median round, so a burst of other
        # work on this small machine does not land on one side of the ratio only.
        # The third, /readyz (one `SELECT 1`), shows what a single database round trip costs.
        gateway_rounds, bare_rounds, query_rounds = [], [], []
        for _ in range(args.rounds):
            gateway_rounds.append(
                measure("product.list, 1 row", one, header_sets, args.connections)
            )
            bare_rounds.append(measure("/healthz (bare view)", "/healthz", [{}], args.connections))
            query_rounds.append(
                measure("/readyz (1 round trip)", "/readyz", [{}], args.connections)
            )
        gateway, bare = median_round(gateway_rounds), median_round(bare_rounds)
        one_query = median_round(query_rounds)
        big = measure(f"product.list, {args.products} rows", every, [headers], 1)
        return Run(
            database.label,
            f"{server.kind}, {args.workers} workers x {args.threads} threads",
            client,
            gateway,
            bare,
            big,
            one_query,
        )
    finally:
        if server is not None:
            server.stop()
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- report


def _fmt_ms(value: float | None) -> str:
    return "    n/a" if value is None else f"{value:7.2f}"


def report(run: Run, args) -> bool:
    ratio_ok = run.ratio >= RATIO_TARGET
    big_ok = run.big.p50_ms is not None and run.big.p50_ms < BIG_LIST_P50_TARGET_MS
    print()
    print(
        f"== {run.label}: {run.server}; {run.client} client, {args.connections} keep-alive "
        f"connections, {args.tokens} token(s), median of {args.rounds} alternating "
        f"{args.duration} s rounds"
    )
    print(
        f"   {'':26} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'server CPU ms/req':>18}"
    )
    for result, conns in (
        (run.gateway, args.connections),
        (run.bare, args.connections),
        (run.one_query, args.connections),
        (run.big, 1),
    ):
        print(
            f"   {result.name + f' [{conns}c]':26} {result.rate:9.1f} {_fmt_ms(result.p50_ms)} "
            f"{_fmt_ms(result.p99_ms)} {result.errors:7d} "
            f"{_fmt_ms(result.cpu_ms_per_request):>18}"
        )
    print(
        f"   ratio gateway/bare: {run.ratio:.2f} (target >= {RATIO_TARGET}) "
        f"{'OK' if ratio_ok else 'BELOW TARGET'}"
    )
    if run.label.startswith("PostgreSQL") and run.one_query.rate:
        # (SQLite's database is in the process: its "round trip" is a function call.)
        print(
            f"   a view with one database round trip (/readyz) keeps {run.ceiling:.2f} of the "
            f"bare view; the gateway keeps {run.gateway.rate / run.one_query.rate:.2f} of it"
        )
    print(
        f"   {args.products}-row list p50: {_fmt_ms(run.big.p50_ms).strip()} ms "
        f"(target < {BIG_LIST_P50_TARGET_MS:.0f} ms) {'OK' if big_ok else 'ABOVE TARGET'}"
    )
    errors = run.gateway.errors + run.bare.errors + run.one_query.errors + run.big.errors
    if errors:
        print(f"   WARNING: {errors} requests failed")
    return ratio_ok and big_ok and not errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server on this machine (default: SQLite in a temporary directory)",
    )
    parser.add_argument("--all", action="store_true", help=f"SQLite, then {LOCAL_POSTGRES}")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement (5)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating rounds of the gateway and the bare view; the median counts (3)",
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="concurrent keep-alive connections (4)"
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--products", type=int, default=1000, help="products seeded (1000)")
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed, else Python processes",
    )
    parser.add_argument(
        "--tokens",
        type=int,
        default=None,
        help="Company tokens the connections take turns with (default: one per connection, "
        "since the contract holds one token to 10 requests/s and load past that comes from many "
        "integrations; 1: all share one token and contend for its rate-limit row)",
    )
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.products, args.tokens or 1)
        return 0
    if not 1 <= args.rounds <= 9:
        parser.error("--rounds must be between 1 and 9")
    if not 1 <= args.duration <= 300:
        parser.error("--duration must be between 1 and 300 seconds")
    if not 1 <= args.connections <= 64:
        parser.error("--connections must be between 1 and 64")
    if args.tokens is None:
        args.tokens = args.connections
    if not 1 <= args.tokens <= args.connections:
        parser.error("--tokens must be between 1 and --connections")
    if args.client == "wrk" and not shutil.which("wrk"):
        parser.error("--client wrk: wrk is not installed (apt-get install wrk)")

    targets: list[str | None] = (
        [None, args.database_url or LOCAL_POSTGRES] if args.all else [args.database_url]
    )
    runs, failures = [], 0
    for target in targets:
        try:
            runs.append(run_once(args, target))
        except Exception as exc:  # one database failing must not hide the other's figures
            failures += 1
            print(f"\n== {'SQLite' if target is None else target}: FAILED: {exc}", flush=True)
    all_ok = True
    for run in runs:
        all_ok = report(run, args) and all_ok
    if len(runs) > 1:
        print("\n== summary")
        for run in runs:
            print(
                f"   {run.label:18} gateway {run.gateway.rate:8.1f} req/s  bare "
                f"{run.bare.rate:8.1f} req/s  ratio {run.ratio:.2f}  "
                f"{args.products}-row p50 {_fmt_ms(run.big.p50_ms).strip()} ms"
            )
    return 1 if failures or not all_ok else 0


if __name__ == "__main__":
    sys.exit(main())
