"""Slow-client benchmark: does `stemline serve` keep answering while clients trickle their bodies?

    python bench/slow_clients.py                     # 20 slow clients, 20 s, the default server
    python bench/slow_clients.py --clients 40 --duration 30 -- --workers 2 --threads 8

Seeds a throwaway SQLite database in a temporary directory (migrate, bootstrap: a company and
its Company token), starts `stemline serve` on a free loopback port, then opens `--clients`
connections that each send the head of a POST (half to the API, half to the web sign-in page)
and then drip its body one byte every 2-3 seconds, never finishing within the run. Meanwhile it
times `GET /healthz` and an API call (`carrier.list` with the token), each on a new connection
every 100 ms, and prints p50 / p99 / max per probe. Target: every probe answered in under a
second (max < 1 s). Only 127.0.0.1 is contacted, every loop is bounded in time, and the
directory is removed at the end. Arguments after `--` go to `stemline serve`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MAX_S = 1.0
PROBE_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(directory: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "stemline.settings",
        "STEMLINE_VAR_DIR": str(directory),
        "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
        # The probes must measure waiting, not the token's quota.
        "STEMLINE_API_RATE": "1000000",
        "STEMLINE_API_BURST": "1000000",
    }


def seed(env: dict[str, str]) -> tuple[str, str]:
    """Migrate and bootstrap; the Company ID and the token's secret."""
    run = [sys.executable, "-m", "stemline"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True, timeout=300)
    out = subprocess.run(
        [*run, "bootstrap", "--company", "Slow Bench", "--admin", "bench@example.com"]
        + ["--print-token"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    account = re.search(r"Company ID: (\d+)", out).group(1)
    secret = re.search(r"Token: (\S+)", out).group(1)
    return account, secret


def start_server(env: dict[str, str], port: int, extra: list[str], log) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "stemline", "serve", "--port", str(port), "--no-access-log"] + extra,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"stemline serve exited with {server.returncode}")
        try:
            status, _ = get(port, "/healthz", timeout=1)
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit("stemline serve did not answer /healthz within 90 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def get(port: int, path: str, headers=None, timeout=PROBE_TIMEOUT_S) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def slow_client(port: int, index: int, stop: threading.Event, sent: list[int]) -> None:
    """One POST whose body arrives a byte every 2-3 s (the head is sent at once)."""
    rng = random.Random(index)
    path = "/api/customer.add" if index % 2 == 0 else "/login/"
    kind = "application/json" if index % 2 == 0 else "application/x-www-form-urlencoded"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\n"
        f"Content-Length: 1000\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(head)
            while not stop.wait(rng.uniform(2.0, 3.0)):
                sock.sendall(b"x")
                sent[index] += 1
    except OSError:
        pass  # the server gave up on this client (a read timeout): that is allowed


def probe(port, path, headers, stop, every, samples, failures) -> None:
    next_at = time.monotonic()
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, _ = get(port, path, headers)
            if status != 200:
                failures.append(f"{path}: HTTP {status}")
        except OSError as error:
            failures.append(f"{path}: {type(error).__name__}")
        samples.append(time.monotonic() - started)
        next_at += every
        stop.wait(max(0.0, next_at - time.monotonic()))


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:<18} n={len(ordered):<4} p50 {statistics.median(ordered) * 1000:7.1f} ms   "
        f"p99 {p99 * 1000:7.1f} ms   max {ordered[-1] * 1000:7.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="slow clients (20)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured (20)")
    parser.add_argument("serve_args", nargs="*", help="arguments for `stemline serve` after --")
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.duration <= 300:
        parser.error("--clients 1-200, --duration 1-300")

    directory = Path(tempfile.mkdtemp(prefix="stemline-slow-"))
    server = None
    try:
        env = environment(directory)
        account, secret = seed(env)
        port = free_port()
        log = open(directory / "server.log", "w")  # noqa: SIM115 - closed with the directory
        server = start_server(env, port, args.serve_args, log)
        api_headers = {"authenticationToken": secret, "X-ACCOUNT": account}
        status, body = get(port, "/api/carrier.list", api_headers)
        assert status == 200 and json.loads(body)["status"] == 1, body

        stop = threading.Event()
        sent = [0] * args.clients
        clients = [
            threading.Thread(target=slow_client, args=(port, i, stop, sent), daemon=True)
            for i in range(args.clients)
        ]
        for thread in clients:
            thread.start()
        time.sleep(1.0)  # every slow client has sent its head and holds its connection
        results: dict[str, tuple[list[float], list[str]]] = {}
        probes = []
        for name, path, headers in (
            ("GET /healthz", "/healthz", {}),
            ("GET carrier.list", "/api/carrier.list", api_headers),
        ):
            samples, failures = [], []
            results[name] = (samples, failures)
            probes.append(
                threading.Thread(
                    target=probe, args=(port, path, headers, stop, 0.1, samples, failures)
                )
            )
        for thread in probes:
            thread.start()
        time.sleep(args.duration)
        stop.set()
        for thread in probes + clients:
            thread.join(timeout=PROBE_TIMEOUT_S + 5)

        extra = " ".join(args.serve_args) or "(defaults)"
        print(f"{args.clients} slow clients, {args.duration:.0f} s, stemline serve {extra}")
        print(f"bytes dripped by the slow clients: {sum(sent)}")
        worst = 0.0
        ok = True
        for name, (samples, failures) in results.items():
            print(summary(name, samples))
            if failures:
                ok = False
                print(f"  {len(failures)} failed: {', '.join(sorted(set(failures)))}")
            worst = max([worst, *samples])
        met = ok and worst < TARGET_MAX_S
        print(
            f"target: every probe answered, max < {TARGET_MAX_S:.0f} s: {'met' if met else 'MISSED'}"
        )
        return 0 if met else 1
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
