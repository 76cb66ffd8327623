"""Web pages benchmark: every main page of the web application on a large company.

    python bench/pages.py                     # PostgreSQL at 127.0.0.1:5432, throwaway database
    python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    python bench/pages.py --requests 40 --page /setup/customers/?q=florist

It creates a throwaway PostgreSQL database (`stemline_bench_pages_<pid>`, dropped at the end)
and collects the static files into a temporary directory as production does,
seeds it quickly with bulk_create (10,000 inventory lines, 5,000 customers, 50,000 invoices with
a line each spread over the last 30 days, 2,000 purchase orders, 1,000 AWBs, 200 vendors,
500 products), signs in as the company's Admin through the sign-in form, and requests each page
of PAGES ~20 times through the whole Django stack in-process (middleware, session, time zone,
views, templates; Django's test client, no network): p50 and p99 in ms and the SQL queries of
one request. Target: p50 < 300 ms on every page. Exits non-zero when a page misses it or
answers anything but 200.
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
TARGET_P50_MS = 300
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"

# The pages measured, in order. Add a page here (a path, with its query string if any); the
# integrator adds /sales/invoices/ and /sales/prebooks/ when they land.
PAGES = [
    "/",
    "/sales/inventory/",
    "/sales/inventory/?origin=onhand&sort=-available",
    "/sales/inventory/?q=rose",
    "/sales/orders/",
    "/sales/orders/?kind=prebook",
    "/purchasing/orders/",
    "/purchasing/orders/?sort=vendor",
    "/purchasing/awbs/",
    "/setup/customers/",
    "/setup/customers/?q=florist&sort=-name",
    "/setup/customers/?page=150",
    "/setup/vendors/",
    "/setup/products/",
    "/setup/products/?sort=price_a",
    "/setup/carriers/",
    "/setup/box-types/",
    "/setup/users/",
    "/setup/settings/tokens/",
    "/setup/settings/tokens/new/",
]

SIZES = {
    "customers": 5_000,
    "inventory_lines": 10_000,
    "invoices": 50_000,
    "purchase_orders": 2_000,
    "awbs": 1_000,
    "vendors": 200,
    "products": 500,
}
PASSWORD = "bench-pages-2026"


def seed() -> tuple[str, dict]:
    """Bulk-create the large company; returns the admin's login and how long each part took."""
    from datetime import timedelta
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.core.models import Location, Role
    from stemline.core.services import bootstrap, create_user
    from stemline.inventory.models import InventoryLine
    from stemline.parties.models import Carrier, Customer, Vendor
    from stemline.purchasing.models import Awb, PurchaseOrder
    from stemline.sales.models import DocumentStatus, Invoice, InvoiceItem

    took = {}
    started = time.perf_counter()
    company, admin, _ = bootstrap(
        company_name="Bench Pages Wholesale", admin_email="admin@bench.example", password=PASSWORD
    )
    for n, role in enumerate([Role.SETUP, Role.SALES, Role.SALES, Role.PURCHASING]):
        create_user(company=company, email=f"staff{n}@bench.example", role=role)
    company.time_zone = "America/New_York"
    company.save(update_fields=["time_zone"])
    location = Location.objects.get(company=company, is_default=True)
    boxes = list(BoxType.objects.filter(company=company))
    today = timezone.localdate()
    with transaction.atomic():
        categories = Category.objects.bulk_create(
            [Category(company=company, name=n) for n in ("Roses", "Carnations", "Greens")]
        )
        products = Product.objects.bulk_create(
            [
                Product(
                    company=company,
                    category=categories[n % 3],
                    description=f"{categories[n % 3].name[:-1]} Variety {n} 50cm",
                    variety=f"Variety {n}",
                    grade="50cm",
                    legacy_code=f"P{n:05d}",
                    price_a=Decimal("0.550") if n % 2 else None,
                )
                for n in range(SIZES["products"])
            ]
        )
        vendors = Vendor.objects.bulk_create(
            [
                Vendor(company=company, name=f"Farm {n}", code=f"F{n}", port_origin="BOG")
                for n in range(SIZES["vendors"])
            ]
        )
        Carrier.objects.bulk_create(
            [Carrier(company=company, name=f"Carrier {n}", code=f"C{n}") for n in range(40)]
        )
        customers = Customer.objects.bulk_create(
            [
                Customer(company=company, name=f"Florist {n:05d}", code=f"CU{n:05d}")
                for n in range(SIZES["customers"])
            ],
            batch_size=2000,
        )
    took["catalog_parties_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        lines = InventoryLine.objects.bulk_create(
            [
                InventoryLine(
                    company=company,
                    location=location,
                    product=products[n % len(products)],
                    box_type=boxes[n % len(boxes)],
                    vendor=vendors[n % len(vendors)],
                    awb=f"369-{n:08d}",
                    unit_type="Stem",
                    bunches=10,
                    stems_bunch=25,
                    unit_cost=Decimal("0.300"),
                    price_a=Decimal("0.500"),
                    price_b=Decimal("0.450"),
                    # A fifth future; the rest arrived over the last three weeks.
                    arrival_date=today + timedelta(days=(n % 5) + 1)
                    if n % 5 == 0
                    else today - timedelta(days=n % 21),
                    total=20,
                    committed=n % 7,
                )
                for n in range(SIZES["inventory_lines"])
            ],
            batch_size=2000,
        )
    took["inventory_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        invoices = Invoice.objects.bulk_create(
            [
                Invoice(
                    company=company,
                    location=location,
                    number=n + 1,
                    customer=customers[(n * 7) % len(customers)],
                    ship_date=today - timedelta(days=n % 30),
                    status=DocumentStatus.PENDING_APPROVAL
                    if n % 50 == 0
                    else DocumentStatus.CONFIRMED,
                    via_api=n % 3 != 0,
                    amount=Decimal(50 + n % 400),
                )
                for n in range(SIZES["invoices"])
            ],
            batch_size=5000,
        )
        InvoiceItem.objects.bulk_create(
            [
                InvoiceItem(
                    company=company,
                    invoice=invoice,
                    line=lines[n % len(lines)],
                    product=lines[n % len(lines)].product,
                    box_type=lines[n % len(lines)].box_type,
                    boxes=1 + n % 4,
                    unit_type="Stem",
                    units_per_box=250,
                    price=Decimal("0.550"),
                )
                for n, invoice in enumerate(invoices)
            ],
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            # created_at is auto_now_add: spread the documents over the last 30 days after.
            cursor.execute(
                "UPDATE sales_invoice SET created_at = now() - (id %% 30) * interval '1 day' "
                "- (id %% 1440) * interval '1 minute' WHERE company_id = %s",
                [company.pk],
            )
    took["invoices_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        PurchaseOrder.objects.bulk_create(
            [
                PurchaseOrder(
                    company=company,
                    number=f"P{n:06d}",
                    location=location,
                    vendor=vendors[n % len(vendors)],
                    ship_date=today + timedelta(days=(n % 40) - 20),
                    arrival_date=today + timedelta(days=(n % 40) - 18),
                )
                for n in range(SIZES["purchase_orders"])
            ],
            batch_size=2000,
        )
        Awb.objects.bulk_create(
            [
                Awb(
                    company=company,
                    number=f"729-{n:08d}",
                    location=location,
                    ship_date=today - timedelta(days=n % 20),
                    arrival_date=today + timedelta(days=(n % 10) - 5),
                    pieces=20,
                    pieces_received=(n % 3) * 10,
                )
                for n in range(SIZES["awbs"])
            ],
            batch_size=2000,
        )
    took["purchasing_s"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return admin.username, {k: round(v, 1) for k, v in took.items()}


def child(pages: list[str], requests: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core import signals
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    signals.request_started.disconnect(reset_queries)
    call_command("migrate", interactive=False, verbosity=0)
    # The production static storage (hashed names), as `stemline serve` collects it.
    call_command("collectstatic", interactive=False, verbosity=0)
    started = time.perf_counter()
    login, took = seed()
    took["seed_s"] = round(time.perf_counter() - started, 1)

    client = Client()
    answer = client.post("/login/", {"username": login, "password": PASSWORD})
    assert answer.status_code == 302, f"sign-in failed ({answer.status_code})"
    results = []
    for path in pages:
        for _ in range(2):  # warm: templates compiled, connection and caches ready
            response = client.get(path)
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(path)
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        results.append(
            {
                "page": path,
                "status": response.status_code,
                "queries": len(queries),
                "p50_ms": round(statistics.median(times), 1),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
                "kb": len(response.content) // 1024,
            }
        )
    print(json.dumps({"results": results, "seed": took}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL server's URL")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument(
        "--page", action="append", default=None, help="measure this page (repeatable)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    pages = args.page or PAGES
    if args.child:
        child(pages, args.requests)
        return
    name = f"stemline_bench_pages_{os.getpid()}"
    base, _, _ = args.database_url.rpartition("/")
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "stemline.settings"
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    env["DATABASE_URL"] = f"{base}/{name}"
    env.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    var = tempfile.mkdtemp(prefix="stemline-bench-pages-")
    env["STEMLINE_VAR_DIR"] = var
    subprocess.run(["psql", args.database_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        command = [sys.executable, __file__, "--child", "--requests", str(args.requests)]
        for page in pages:
            command += ["--page", page]
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stderr[-4000:])
            sys.exit(f"the benchmark's child failed (exit {done.returncode})")
        out = done.stdout
    finally:
        subprocess.run(
            ["psql", args.database_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=False
        )
        shutil.rmtree(var, ignore_errors=True)
    report = json.loads(out.strip().splitlines()[-1])
    sizes = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in SIZES.items())
    print(f"Web pages on PostgreSQL: {sizes}")
    print(f"seeded in {report['seed']['seed_s']} s ({report['seed']})")
    width = max(len(r["page"]) for r in report["results"])
    print(f"{'page':<{width}} {'status':>6} {'queries':>7} {'p50 ms':>7} {'p99 ms':>7} {'KB':>5}")
    missed = []
    for r in report["results"]:
        print(
            f"{r['page']:<{width}} {r['status']:>6} {r['queries']:>7} {r['p50_ms']:>7} "
            f"{r['p99_ms']:>7} {r['kb']:>5}"
        )
        if r["status"] != 200 or r["p50_ms"] >= TARGET_P50_MS:
            missed.append(r["page"])
    print(f"target p50 < {TARGET_P50_MS} ms on every page:", "met" if not missed else "MISSED")
    if missed:
        print("missed:", ", ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
