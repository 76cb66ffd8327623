"""A real database outage: `stemline serve` on a throwaway PostgreSQL cluster of its own, which
the test stops and starts again. While it is down the API answers 503 with Retry-After and the
envelope, the web application a plain "temporarily unavailable" page, the readiness probe
(/readyz) 503 while the health check (/healthz) stays 200, and the log holds one line for the
whole outage (no traceback per request); when it is back, all answer again."""

import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
PASSWORD = "tulip-garden-2026"

pytestmark = pytest.mark.skipif(
    not PG_BINS or os.geteuid() != 0 or not shutil.which("runuser"),
    reason="needs PostgreSQL's server binaries and root (to run them as the postgres user)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster in a temporary directory on a free port, run as `postgres`; never
    the shared server on 5432."""

    def __init__(self):
        self.bin = Path(PG_BINS[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="stemline-outage-"))
        owner = pwd.getpwnam("postgres")
        os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.port = _free_port()
        self._pg("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync")

    def _pg(self, tool, *args, timeout=60):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / tool), *map(str, args)],
            check=True,
            timeout=timeout,
            capture_output=True,
        )

    def start(self):
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", self.data, "-l", self.dir / "log", "-o", options, "-w", "start")

    def stop(self):
        self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def url(self, name="stemline") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def remove(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    made = Cluster()
    made.start()
    import psycopg

    with psycopg.connect(made.url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE stemline")
    try:
        yield made
    finally:
        made.remove()


def _wait(check, seconds, what):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_an_outage_answers_503_logs_once_and_recovers(cluster, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "stemline.settings",
        "DATABASE_URL": cluster.url(),
        "STEMLINE_VAR_DIR": str(tmp_path),
        "STEMLINE_STATIC_FINDERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    run = [sys.executable, "-m", "stemline"]
    subprocess.run([*run, "migrate", "-v0"], env=env, check=True, timeout=300)
    out = subprocess.run(
        [*run, "bootstrap", "--company", "Outage Floral", "--admin", "admin@example.com"]
        + ["--password", PASSWORD, "--print-token"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    api_headers = {
        "authenticationToken": re.search(r"Token: (\S+)", out).group(1),
        "X-ACCOUNT": re.search(r"Company ID: (\d+)", out).group(1),
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [*run, "serve", "--port", str(port), "--workers", "1", "--skip-collectstatic"]
            + ["--no-access-log"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait(lambda: requests.get(f"{base}/healthz", timeout=2).ok, 60, "server did not start")
        web = requests.Session()
        web.get(f"{base}/login/", timeout=10)
        signed_in = web.post(
            f"{base}/login/",
            {
                "username": "admin@example.com",
                "password": PASSWORD,
                "csrfmiddlewaretoken": web.cookies["csrftoken"],
            },
            headers={"Referer": f"{base}/login/"},
            timeout=10,
        )
        assert signed_in.ok and "/login/" not in signed_in.url
        assert web.get(f"{base}/setup/customers/", timeout=10).status_code == 200
        assert requests.get(f"{base}/api/carrier.list", headers=api_headers, timeout=10).ok
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json() == {"status": 1, "message": "OK"}

        cluster.stop()
        for _ in range(10):
            answer = requests.get(f"{base}/api/carrier.list", headers=api_headers, timeout=10)
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["Retry-After"]) > 0
            body = answer.json()
            assert body["status"] == 0 and body["errors"] == []
            assert "temporarily unavailable" in body["message"]
            page = web.get(f"{base}/setup/customers/", timeout=10)
            assert page.status_code == 503
            assert "Temporarily unavailable" in page.text
            assert page.headers["Retry-After"]
        # The health check does not depend on the database; the readiness probe does.
        assert requests.get(f"{base}/healthz", timeout=10).ok
        not_ready = requests.get(f"{base}/readyz", timeout=10)
        assert not_ready.status_code == 503, not_ready.text
        assert int(not_ready.headers["Retry-After"]) > 0
        assert not_ready.json()["status"] == 0
        assert "temporarily unavailable" in not_ready.json()["message"]
        text = log_path.read_text()
        assert text.count("database unavailable") == 1, text
        assert "Traceback" not in text and "Internal Server Error" not in text, text
        assert "Service Unavailable" not in text, text

        cluster.start()
        _wait(
            lambda: requests.get(f"{base}/api/carrier.list", headers=api_headers, timeout=10).ok,
            30,
            "the API did not recover",
        )
        assert web.get(f"{base}/setup/customers/", timeout=10).status_code == 200
        text = log_path.read_text()
        assert "database reachable again" in text, text
        assert text.count("database unavailable") == 1, text
        assert json.loads(requests.get(f"{base}/healthz", timeout=10).text)["status"] == 1
        assert requests.get(f"{base}/readyz", timeout=10).json()["status"] == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
