"""Invoices benchmark: `invoice.details.list` for one ship date with N invoices of 5 lines.

    python bench/invoices.py                      # SQLite in a temporary directory
    python bench/invoices.py --database-url postgres://postgres@127.0.0.1:5432/postgres

For each size (200 and 2,000 invoices by default) it seeds a throwaway database (a company,
its Company token, one inventory line per invoice line, the invoices made with the real
`invoicing.create_invoice`), then calls `invoice.details.list` for that day through the whole
API stack in-process (Django's test client: gateway, token, schema, answer) and prints the p50
and p90 latency and the number of SQL queries one call makes, which must not grow with the
number of invoices beyond 4 per 500 (they are read a chunk of 500 at a time: headers, lines,
charges, hard goods). Nothing is contacted over the network; the database is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PER_CHUNK = 4  # queries per 500 invoices: headers, lines, charges, hard goods
LINES_PER_INVOICE = 5


def child(invoices: int, repeats: int, profile: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from decimal import Decimal

    from django.core import signals
    from django.core.management import call_command
    from django.db import connection, reset_queries, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.core.models import Location
    from stemline.core.services import bootstrap
    from stemline.inventory import services as stock
    from stemline.inventory.models import InventoryLine
    from stemline.parties.models import Customer, Vendor
    from stemline.sales import invoicing
    from stemline.tokens.models import ApiToken

    setup_test_environment()
    # The request would clear the captured queries as it starts.
    signals.request_started.disconnect(reset_queries)
    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, issued = bootstrap(company_name="Bench Invoices", admin_email="i@example.com")
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=1e6, rate_burst=10**6)
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")
    category = Category.objects.create(company=company, name="Roses")
    vendor = Vendor.objects.create(company=company, name="Bench Farms", port_origin="BOG")
    products = [
        Product.objects.create(
            company=company, category=category, description=f"Rose {n}", variety=f"V{n}"
        )
        for n in range(20)
    ]
    customers = [
        Customer.objects.create(company=company, name=f"Florist {n}", code=f"F{n}")
        for n in range(50)
    ]
    day = stock.today()
    with transaction.atomic():
        InventoryLine.objects.bulk_create(
            [
                InventoryLine(
                    company=company,
                    location=location,
                    product=products[n % len(products)],
                    box_type=box,
                    vendor=vendor,
                    awb="369-1",
                    unit_type="Stem",
                    bunches=10,
                    stems_bunch=25,
                    unit_cost=Decimal("0.3"),
                    price_a=Decimal("0.5"),
                    total=1,
                )
                for n in range(invoices * LINES_PER_INVOICE)
            ]
        )
    line_ids = list(InventoryLine.objects.filter(company=company).values_list("pk", flat=True))
    started = time.perf_counter()
    for n in range(invoices):
        ids = line_ids[n * LINES_PER_INVOICE : (n + 1) * LINES_PER_INVOICE]
        invoicing.create_invoice(
            company=company,
            customer=customers[n % len(customers)],
            location=location,
            ship_date=day,
            lines=[
                invoicing.LineRequest(boxes=1, price=Decimal("0.55"), inventory_id=pk) for pk in ids
            ],
        )
    seeded = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # What autovacuum does to a real database soon after a day's invoices: without table
        # statistics the planner scans every table whole for each chunk.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    client = Client()
    headers = {
        "HTTP_AUTHENTICATIONTOKEN": issued.secret,
        "HTTP_X_ACCOUNT": str(company.account_id),
    }
    params = {"orderDate": str(day)}

    def call():
        # A long answer is streamed (api.schemas.Rendered): read to the end, as a socket would.
        response = client.get("/api/invoice.details.list", params, **headers)
        if response.streaming:
            return response, b"".join(response.streaming_content)
        return response, response.content

    response, content = call()
    body = json.loads(content)
    assert response.status_code == 200, body
    assert len(body["invoices"]) == invoices, len(body["invoices"])
    assert sum(len(i["details"]) for i in body["invoices"]) == invoices * LINES_PER_INVOICE
    queries = []

    def count(execute, sql, params_, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params_, many, context)
        finally:
            queries.append((time.perf_counter() - t0, sql, params_))

    with connection.execute_wrapper(count):
        call()
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    times.sort()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(call)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        for spent, sql, params_ in sorted(queries, key=lambda q: q[0], reverse=True)[:3]:
            print(f"{spent * 1000:.1f} ms: {sql[:300]}", file=sys.stderr)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params_)
                    print("\n".join(r[0] for r in cursor.fetchall()), file=sys.stderr)
    print(
        json.dumps(
            {
                "invoices": invoices,
                "lines": invoices * LINES_PER_INVOICE,
                "queries": len(queries),
                "p50_ms": round(statistics.median(times), 1),
                "p90_ms": round(times[int(len(times) * 0.9) - 1], 1),
                # The web process's own CPU (Python, psycopg, JSON), without the database's:
                # steadier than the latency on a busy machine.
                "cpu_ms": round(statistics.median(cpu), 1),
                "bytes": len(content),
                "seed_s": round(seeded, 1),
            }
        )
    )


def run(invoices: int, repeats: int, database_url: str | None, profile: bool = False) -> dict:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "stemline.settings"
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    tmp = tempfile.mkdtemp(prefix="stemline-bench-invoices-")
    dropped = None
    try:
        if database_url:
            name = f"bench_invoices_{os.getpid()}_{invoices}"
            base, _, _ = database_url.rpartition("/")
            subprocess.run(["psql", database_url, "-qc", f"CREATE DATABASE {name}"], check=True)
            env["DATABASE_URL"] = f"{base}/{name}"
            dropped = (database_url, name)
        else:
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(invoices), "--repeats", str(repeats)]
            + (["--profile"] if profile else []),
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
        if profile:
            print(out.stderr, file=sys.stderr)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if dropped:
            subprocess.run(
                ["psql", dropped[0], "-qc", f"DROP DATABASE IF EXISTS {dropped[1]}"], check=False
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,2000", help="invoice counts (comma-separated)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--profile", action="store_true", help="print where one call's time goes (cProfile)"
    )
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.repeats, args.profile)
        return
    where = "PostgreSQL" if args.database_url else "SQLite"
    print(f"invoice.details.list for one day, {LINES_PER_INVOICE} lines per invoice ({where})")
    print(
        f"{'invoices':>9} {'lines':>7} {'queries':>8} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'CPU ms':>7} {'KB':>7}"
    )
    results = [
        run(int(n), args.repeats, args.database_url, args.profile) for n in args.sizes.split(",")
    ]
    for r in results:
        print(
            f"{r['invoices']:>9} {r['lines']:>7} {r['queries']:>8} {r['p50_ms']:>8} "
            f"{r['p90_ms']:>8} {r['cpu_ms']:>7} {r['bytes'] // 1024:>7}"
        )
    # The invoices are read 500 at a time (headers, lines, charges, hard goods: 4 queries a
    # chunk); the rest of a call is a constant few.
    counts = {r["queries"] - PER_CHUNK * -(-r["invoices"] // 500) for r in results}
    print(
        f"queries per call constant (besides {PER_CHUNK} per 500 invoices):",
        "yes" if len(counts) == 1 else f"NO ({sorted(counts)})",
    )
    if len(counts) != 1:
        sys.exit(1)


if __name__ == "__main__":
    main()
