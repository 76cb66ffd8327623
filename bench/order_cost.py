"""What one order costs: SQL statements and Python CPU, serially, in one process.

    python bench/order_cost.py                     # PostgreSQL on 127.0.0.1, a throwaway database
    python bench/order_cost.py --sqlite            # the embedded default
    python bench/order_cost.py --profile 25        # and cProfile's top 25 functions by own time

Seeds what `bench/orders.py` seeds (hot lines, a catalogue, one buyer; `--channels N`
marketplace channels attached), then places `--orders` orders (`web-order-item.add`, then
`web-order.checkout`) through the whole WSGI application in this process, one after the other,
as `bench/orders.py`'s buyers do over HTTP. It prints, per order, the SQL statements of each
call and of the whole order, and the process CPU time per order (median of `--rounds` rounds).
No contention, no server: the figure is what the order path itself costs, which bounds the
orders a second that 2 cores can serve. Only 127.0.0.1 is contacted; everything is removed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import LOCAL_POSTGRES, REPO, Database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--database-url", default=LOCAL_POSTGRES)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--channels", type=int, default=0)
    parser.add_argument(
        "--history", type=int, default=20_000, help="checked-out orders already made (20,000)"
    )
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--show-sql", action="store_true", help="print one order's statements")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="stemline-order-cost-"))
    database = Database(None if args.sqlite else args.database_url, workdir)
    try:
        os.environ["DATABASE_URL"] = database.url
        os.environ["DJANGO_SETTINGS_MODULE"] = "stemline.settings"
        os.environ.setdefault("STEMLINE_API_RATE", "1000000")
        os.environ.setdefault("STEMLINE_API_BURST", "1000000")
        os.environ.setdefault("SECRET_KEY", "bench-order-cost")
        # --channels: their feeds go to 127.0.0.1 (nothing listens; the cost is the outbox).
        os.environ.setdefault("STEMLINE_ALLOW_PRIVATE_WEBHOOKS", "1")
        sys.path.insert(0, str(REPO))
        from orders import seed

        out = io.StringIO()
        real_stdout, sys.stdout = sys.stdout, out
        try:
            seed(1, 4, 10_000, 10_000, args.channels, args.history)
        finally:
            sys.stdout = real_stdout
        seeded = json.loads(out.getvalue().strip().splitlines()[-1])
        return run(args, database.label, seeded)
    finally:
        from django.db import connections

        connections.close_all()
        database.drop()


def _server_cpu_reader(connection):
    """Seconds of CPU the PostgreSQL backend serving `connection` has used so far (read from
    /proc: the server is on this machine), or None on SQLite or where /proc is not readable."""
    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    ticks = os.sysconf("SC_CLK_TCK")

    def read():
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


def run(args, label: str, seeded: dict) -> int:
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app = WSGIHandler()
    buyer = seeded["buyers"][0]
    hot = seeded["hot"]

    def call(path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHENTICATIONTOKEN": buyer["secret"],
            "HTTP_X_ACCOUNT": str(seeded["account"]),
            "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        statuses = []
        chunks = app(environ, lambda status, headers, exc=None: statuses.append(status))
        answer = json.loads(b"".join(chunks))
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{path} answered {statuses[0]}: {answer}")
        return answer

    n = [0]

    def order() -> None:
        n[0] += 1
        added = call(
            "/api/web-order-item.add",
            {
                "customerId": buyer["customer"],
                "inventoryIds": [hot[n[0] % len(hot)]],
                "inventoryOrigin": 1,
                "quantity": 1 + n[0] % 3,
            },
        )
        call(
            "/api/web-order.checkout",
            {"customerId": buyer["customer"], "webOrderId": added["webOrderId"]},
        )

    for _ in range(20):  # warm: imports, caches, prepared statements
        order()

    # Django empties the statement log when a request starts: keep each call's own.
    statements = {}
    with CaptureQueriesContext(connection) as captured:
        added = call(
            "/api/web-order-item.add",
            {
                "customerId": buyer["customer"],
                "inventoryIds": [hot[0]],
                "inventoryOrigin": 1,
                "quantity": 1,
            },
        )
        statements["add"] = [q["sql"] for q in captured.captured_queries]
    with CaptureQueriesContext(connection) as captured:
        call(
            "/api/web-order.checkout",
            {"customerId": buyer["customer"], "webOrderId": added["webOrderId"]},
        )
        statements["checkout"] = [q["sql"] for q in captured.captured_queries]
    if args.show_sql:
        for name, sqls in statements.items():
            print(f"-- {name}")
            for sql in sqls:
                print("  ", sql[:300])
    add_n, checkout_n = len(statements["add"]), len(statements["checkout"])

    server = _server_cpu_reader(connection)
    per_order, server_per_order = [], []
    for _ in range(args.rounds):
        server_started = server()
        started = time.process_time()
        for _ in range(args.orders):
            order()
        per_order.append((time.process_time() - started) * 1000 / args.orders)
        server_ended = server()
        if server_started is not None and server_ended is not None:
            server_per_order.append((server_ended - server_started) * 1000 / args.orders)

    print(f"order cost ({label}, {args.channels} channels, serial, in process)")
    print(f"  SQL statements: add {add_n}, checkout {checkout_n}, order {add_n + checkout_n}")
    print(
        f"  CPU per order: median {statistics.median(per_order):.2f} ms "
        f"(rounds of {args.orders}: {', '.join(f'{x:.2f}' for x in per_order)})"
    )
    if server_per_order:
        print(
            f"  database server CPU per order: median {statistics.median(server_per_order):.2f} "
            f"ms (the PostgreSQL backend serving this process, read from /proc)"
        )
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
        profiler.enable()
        for _ in range(args.orders):
            order()
        profiler.disable()
        stats = pstats.Stats(profiler)
        if os.environ.get("ORDER_COST_CALLERS"):
            stats.print_callers(os.environ["ORDER_COST_CALLERS"])
        if os.environ.get("ORDER_COST_CALLEES"):
            stats.print_callees(os.environ["ORDER_COST_CALLEES"])
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile * 2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
