"""`stemline serve` against misbehaving clients, on the real server process: clients that trickle
their bodies do not stop it answering others and are cut off at the body deadline; a web body
larger than the forms need is refused without waiting for it; every answer carries the CSP."""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BODY_TIMEOUT = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port, path, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A migrated SQLite installation with a Company token, served by `stemline serve` (one
    worker, so every slow client below lands on the same worker as the probes)."""
    tmp = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "stemline.settings",
        "STEMLINE_VAR_DIR": str(tmp),
        "DATABASE_URL": f"sqlite:///{tmp / 'serve.sqlite3'}",
        "STEMLINE_STATIC_FINDERS": "1",
        "STEMLINE_API_RATE": "100000",
        "STEMLINE_API_BURST": "100000",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    run = [sys.executable, "-m", "stemline"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True, timeout=300)
    out = subprocess.run(
        [*run, "bootstrap", "--company", "Serve Test", "--admin", "a@example.com", "--print-token"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    port = _free_port()
    process = subprocess.Popen(
        [*run, "serve", "--port", str(port), "--workers", "1", "--skip-collectstatic"]
        + ["--body-timeout", str(BODY_TIMEOUT), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                assert process.poll() is None, "stemline serve exited"
                assert time.monotonic() < deadline, "stemline serve did not start in 60 s"
                time.sleep(0.2)
        yield {
            "port": port,
            "api": {
                "authenticationToken": re.search(r"Token: (\S+)", out).group(1),
                "X-ACCOUNT": re.search(r"Company ID: (\d+)", out).group(1),
            },
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def _slow_post(port, path, length=1000) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode()
    )
    return sock


def test_healthz_and_the_api_answer_while_twenty_clients_trickle_their_bodies(server):
    port = server["port"]
    stop = threading.Event()
    slow = [_slow_post(port, "/api/customer.add" if i % 2 else "/login/") for i in range(20)]

    def drip():
        while not stop.wait(1.0):
            for sock in slow:
                try:
                    sock.sendall(b"x")
                except OSError:
                    pass

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(0.5)
        # Generous bounds: the machine is shared; with sync workers these wait for ever.
        for _ in range(5):
            started = time.monotonic()
            assert _get(port, "/healthz", timeout=5)[0] == 200
            status, _, body = _get(port, "/api/carrier.list", server["api"], timeout=5)
            assert status == 200, body
            assert time.monotonic() - started < 3
            time.sleep(0.2)
    finally:
        stop.set()
        dripper.join(timeout=5)
        for sock in slow:
            sock.close()


def test_a_body_still_trickling_at_the_deadline_gets_408(server):
    sock = _slow_post(server["port"], "/api/customer.add")
    started = time.monotonic()
    sock.settimeout(BODY_TIMEOUT + 10)
    try:
        response = http.client.HTTPResponse(sock)
        # Drip until the server answers (it cuts the body off after BODY_TIMEOUT seconds).
        stop = threading.Event()

        def drip():
            while not stop.wait(0.5):
                try:
                    sock.sendall(b"x")
                except OSError:
                    return

        threading.Thread(target=drip, daemon=True).start()
        try:
            response.begin()
        finally:
            stop.set()
        assert response.status == 408
        assert BODY_TIMEOUT - 1 < time.monotonic() - started < BODY_TIMEOUT + 5
    finally:
        sock.close()


def test_a_large_web_body_is_refused_before_it_is_sent(server):
    sock = _slow_post(server["port"], "/login/", length=20 * 1024 * 1024)
    sock.settimeout(5)
    try:
        sock.sendall(b"username=x&password=" + b"y" * 1000)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 413
    finally:
        sock.close()


def test_a_large_api_body_without_a_token_is_refused_unread(server):
    """20 MB announced, 100 KB sent with no token in it: refused at once, and the server
    reads no more of it (it neither waits for the rest nor keeps the connection for it)."""
    sock = socket.create_connection(("127.0.0.1", server["port"]), timeout=30)
    sock.settimeout(10)
    try:
        sock.sendall(
            b"POST /api/v2/vendor/invoice HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 20971000\r\n"
            b"Content-Type: multipart/form-data; boundary=zz\r\n\r\n"
        )
        started = time.monotonic()
        sock.sendall(b"--zz\r\n" + b"x" * 100_000)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 401
        assert json.loads(response.read())["status"] == 0
        assert time.monotonic() - started < 5
        # The connection is let go instead of read to its end: the rest is never waited for.
        closed = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"x" * 65536)
            except OSError:
                closed = True
                break
        assert closed
    finally:
        sock.close()


def test_every_answer_carries_the_content_security_policy(server):
    port = server["port"]
    for path in ("/healthz", "/login/", "/api/docs", "/static/web/app.css", "/no-such-page/"):
        _, headers, _ = _get(port, path)
        policy = headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy
