"""The minimal purchase through the framework alone: what Django and gunicorn cost an order.

`bench/orders.py` imports `run()`: it serves a bare Django project (no apps, no middleware,
one connection per thread kept open) with `gunicorn` as `stemline serve` runs it (gthread,
the same workers and threads), whose two views do the floor's two transactions with Django's
own cursor: `POST /hold` locks the line, checks it, updates it and inserts the item; `POST
/commit` moves the boxes from held to sold and inserts the sold item. `clients` processes then
place orders (hold, then commit) over keep-alive connections for `duration` seconds, as the
bench's buyers do. The figure, in orders a second, is the most an order of two API calls can
reach on this machine with this stack before any of Stemline's own work (token, gateway,
customer, order, invoice, numbers, feeds); set beside the psycopg floor and Stemline's rate, it
shows which part of the gap is the framework's and which is Stemline's.

Served as `framework_floor:application` with FRAMEWORK_FLOOR_DSN set; only 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
LINES, ITEMS = "framework_line", "framework_item"


def purchase_tables(dsn: str, hot: int, lines: str, items: str, *, create: bool) -> None:
    """The floor's two tables (`hot` lines of 100,000,000 boxes, their items), made afresh, or
    dropped (`create=False`). Shared with `orders.floor`, which names its own."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {items}, {lines}")
        if create:
            conn.execute(
                f"CREATE TABLE {lines} (id int PRIMARY KEY, total int, held int, sold int)"
            )
            conn.execute(
                f"CREATE TABLE {items} (id bigserial PRIMARY KEY, line_id int, qty int, "
                "state text, at timestamptz DEFAULT now())"
            )
            for i in range(hot):
                conn.execute(f"INSERT INTO {lines} VALUES (%s, 100000000, 0, 0)", [i])


def _buyer(port: int, n: int, hot: int, stop_at: float, out) -> None:
    rnd = random.Random(n)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = errors = 0
    while time.monotonic() < stop_at:
        body = json.dumps({"line": rnd.randrange(hot), "qty": rnd.randint(1, 3)})
        for path in ("/hold", "/commit"):
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            answer = conn.getresponse()
            answer.read()
            if answer.status != 200:
                errors += 1
                break
        else:
            done += 1
    out.put((done, errors))


WARM_SECONDS = 5


def _load(port: int, clients: int, hot: int, duration: float) -> float:
    out = mp.Queue()
    stop_at = time.monotonic() + duration
    started = time.monotonic()
    buyers = [mp.Process(target=_buyer, args=(port, n, hot, stop_at, out)) for n in range(clients)]
    for b in buyers:
        b.start()
    results = [out.get(timeout=duration + 60) for _ in buyers]
    for b in buyers:
        b.join(30)
    elapsed = time.monotonic() - started
    errors = sum(e for _, e in results)
    if errors:
        raise RuntimeError(f"the framework floor answered {errors} requests with an error")
    return sum(d for d, _ in results) / elapsed


def run(url: str, clients: int, hot: int, duration: float, workers: int, threads: int) -> float:
    """Orders a second through the bare framework (see the module's text); raises when an
    answer was not 200."""
    sys.path.insert(0, str(HERE))
    from gateway import _free_port

    dsn = url.replace("postgres://", "postgresql://", 1)
    purchase_tables(dsn, hot, LINES, ITEMS, create=True)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "framework_floor:application",
        ],
        cwd=HERE,
        env={**os.environ, "FRAMEWORK_FLOOR_DSN": dsn, "PYTHONPATH": str(HERE)},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("POST", "/hold", json.dumps({"line": 0, "qty": 1}))
                probe.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the framework floor's server did not start") from None
                time.sleep(0.2)
        # A first load, not counted: a server just started serves its first seconds at about
        # half its rate. This one starts afresh each round; Stemline's serves every round, so
        # only its first round is cold.
        _load(port, clients, hot, WARM_SECONDS)
        return _load(port, clients, hot, duration)
    finally:
        server.terminate()
        server.wait(30)
        purchase_tables(dsn, hot, LINES, ITEMS, create=False)


def _application():
    from django.conf import settings

    parts = urlsplit(os.environ["FRAMEWORK_FLOOR_DSN"])
    settings.configure(
        DEBUG=False,
        SECRET_KEY="framework-floor",
        ALLOWED_HOSTS=["127.0.0.1"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": parts.path.lstrip("/"),
                "USER": parts.username or "postgres",
                "PASSWORD": parts.password or "",
                "HOST": parts.hostname,
                "PORT": parts.port or 5432,
                "CONN_MAX_AGE": None,
            }
        },
    )
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _views():
    from django.db import connection, transaction
    from django.http import HttpResponse
    from django.urls import path

    def answer(status=1, code=200, **more):
        return HttpResponse(
            json.dumps({"status": status, **more}), status=code, content_type="application/json"
        )

    def hold(request):
        wanted = json.loads(request.body)
        line, qty = int(wanted["line"]), int(wanted["qty"])
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SELECT total, held, sold FROM {LINES} WHERE id = %s FOR UPDATE", [line])
            total, held, sold = cur.fetchone()
            if total - held - sold < qty:
                return answer(0, 409)
            cur.execute(f"UPDATE {LINES} SET held = held + %s WHERE id = %s", [qty, line])
            cur.execute(
                f"INSERT INTO {ITEMS} (line_id, qty, state) VALUES (%s, %s, %s) RETURNING id",
                [line, qty, "held"],
            )
            (item,) = cur.fetchone()
        return answer(id=item)

    def commit(request):
        wanted = json.loads(request.body)
        line, qty = int(wanted["line"]), int(wanted["qty"])
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SELECT 1 FROM {LINES} WHERE id = %s FOR UPDATE", [line])
            cur.execute(
                f"UPDATE {LINES} SET held = held - %s, sold = sold + %s WHERE id = %s",
                [qty, qty, line],
            )
            cur.execute(
                f"INSERT INTO {ITEMS} (line_id, qty, state) VALUES (%s, %s, %s)",
                [line, qty, "sold"],
            )
        return answer()

    return [path("hold", hold), path("commit", commit)]


if "FRAMEWORK_FLOOR_DSN" in os.environ and __name__ != "__main__":
    application = _application()
    urlpatterns = _views()
