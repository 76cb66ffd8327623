"""Sales desk benchmark: the pages a sales rep works in, with a wholesaler's volume.

    python bench/desk.py                      # the local PostgreSQL (a throwaway database)
    python bench/desk.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    python bench/desk.py --sqlite             # SQLite in a temporary directory

It seeds a throwaway database with 10,000 inventory lines, 5,000 customers, 50,000 invoices (two
lines each) and 5,000 prebooks (the rows bulk-inserted: the services would take an hour to make
them one by one, and what is measured is reading them), then, signed in as a Sales user
through Django's test client (middleware, session, templates: everything but the socket),
opens each page of the sales desk `--repeats` times and prints its p50 and p90 and the number of
SQL queries it runs. Target: every page's p50 under 300 ms on PostgreSQL (exit 1 if missed).
Nothing is contacted over the network; the database is dropped at the end.
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
TARGET_MS = 300.0


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings_test")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.core import signals
    from django.core.management import call_command
    from django.db import connection, reset_queries, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.core.models import Location, Role
    from stemline.core.services import bootstrap, create_user
    from stemline.inventory import services as stock
    from stemline.inventory.models import InventoryLine
    from stemline.parties.models import Customer, Vendor
    from stemline.sales import services as sales_services
    from stemline.sales.models import Invoice, InvoiceItem, Prebook, PrebookItem

    setup_test_environment()
    signals.request_started.disconnect(reset_queries)
    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, _issued = bootstrap(company_name="Bench Desk", admin_email="d@example.com")
    sales = create_user(company=company, email="rep@example.com", role=Role.SALES)
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")
    category = Category.objects.create(company=company, name="Roses")
    vendors = [
        Vendor.objects.create(company=company, name=f"Farm {n}", port_origin="BOG")
        for n in range(20)
    ]
    colors = ["Red", "White", "Pink", "Yellow", "Orange"]
    products = [
        Product.objects.create(
            company=company,
            category=category,
            description=f"Rose Variety{n} {colors[n % 5]} {40 + 10 * (n % 4)}cm",
            variety=f"Variety{n}",
            color=colors[n % 5],
            grade=f"{40 + 10 * (n % 4)}cm",
            legacy_code=f"R{n:04d}",
        )
        for n in range(500)
    ]
    today = stock.today()
    started = time.perf_counter()
    with transaction.atomic():
        Customer.objects.bulk_create(
            [
                Customer(company=company, name=f"Florist {n:05d}", code=f"F{n:05d}")
                for n in range(args.customers)
            ],
            batch_size=2000,
        )
        customers = list(Customer.objects.filter(company=company).order_by("id"))
        InventoryLine.objects.bulk_create(
            [
                InventoryLine(
                    company=company,
                    location=location,
                    product=products[n % len(products)],
                    box_type=box,
                    vendor=vendors[n % len(vendors)],
                    awb=f"369-{n:08d}",
                    unit_type="Stem",
                    bunches=10,
                    stems_bunch=25,
                    unit_cost=Decimal("0.3"),
                    price_a=Decimal("0.5"),
                    price_b=Decimal("0.45"),
                    arrival_date=today + timedelta(days=3) if n % 4 == 0 else None,
                    total=50,
                    committed=5,
                )
                for n in range(args.lines)
            ],
            batch_size=2000,
        )
        line_ids = list(InventoryLine.objects.filter(company=company).values_list("pk", flat=True))
        now = timezone.now()
        for start in range(0, args.invoices, 5000):
            batch = Invoice.objects.bulk_create(
                [
                    Invoice(
                        company=company,
                        location=location,
                        number=n + 1,
                        customer=customers[n % len(customers)],
                        ship_date=today - timedelta(days=n % 180),
                        status=(0, 1, 1, 1, 4)[n % 5],
                        via_api=n % 3 == 0,
                        fee_rate=Decimal("0.015") if n % 3 == 0 else 0,
                        transaction_fee=Decimal("1.88") if n % 3 == 0 else 0,
                        amount=Decimal("125.00"),
                    )
                    for n in range(start, min(start + 5000, args.invoices))
                ]
            )
            InvoiceItem.objects.bulk_create(
                [
                    InvoiceItem(
                        company=company,
                        invoice=invoice,
                        line_id=line_ids[(invoice.number * 2 + k) % len(line_ids)],
                        product=products[(invoice.number + k) % len(products)],
                        box_type=box,
                        boxes=1,
                        unit_type="Stem",
                        units_per_box=250,
                        price=Decimal("0.25"),
                    )
                    for invoice in batch
                    for k in range(2)
                ],
                batch_size=5000,
            )
        Invoice.objects.filter(company=company).update(created_at=now)
        prebooks = Prebook.objects.bulk_create(
            [
                Prebook(
                    company=company,
                    location=location,
                    number=n + 1,
                    customer=customers[n % len(customers)],
                    ship_date=today + timedelta(days=n % 30),
                    status=(0, 1)[n % 2],
                    amount=Decimal("125.00"),
                )
                for n in range(args.prebooks)
            ],
            batch_size=5000,
        )
        PrebookItem.objects.bulk_create(
            [
                PrebookItem(
                    company=company,
                    prebook=p,
                    product=products[p.number % len(products)],
                    box_type=box,
                    boxes=2,
                    unit_type="Stem",
                    units_per_box=250,
                    price=Decimal("0.25"),
                )
                for p in prebooks
            ],
            batch_size=5000,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seeded = time.perf_counter() - started
    order = sales_services.create_web_order(
        company=company, customer_id=customers[7].pk, location_id=None
    )
    invoice = Invoice.objects.filter(company=company).order_by("-id").first()
    prebook = Prebook.objects.filter(company=company).order_by("-id").first()
    pages = [
        ("invoices", "/sales/invoices/", {}),
        ("invoices, page 500", "/sales/invoices/", {"page": "500"}),
        ("invoices by customer", "/sales/invoices/", {"customer": "Florist 0012"}),
        (
            "invoices, 30 days, pending, API",
            "/sales/invoices/",
            {
                "date_from": str(today - timedelta(days=30)),
                "date_to": str(today),
                "status": "0",
                "channel": "api",
            },
        ),
        ("invoices by number", "/sales/invoices/", {"number": "W012345"}),
        ("invoices sorted by amount", "/sales/invoices/", {"sort": "-amount"}),
        ("invoices sorted by customer", "/sales/invoices/", {"sort": "customer"}),
        ("prebooks", "/sales/prebooks/", {}),
        ("an invoice", f"/sales/invoices/{invoice.pk}/", {}),
        ("an invoice's PDF", f"/sales/invoices/{invoice.pk}/pdf/", {}),
        ("a prebook", f"/sales/prebooks/{prebook.pk}/", {}),
        ("new order", "/sales/orders/new/", {}),
        ("customer search", "/sales/orders/new/customers/", {"q": "florist 012"}),
        ("order, all stock", f"/sales/orders/new/{order.pk}/", {}),
        ("order, stock search", f"/sales/orders/new/{order.pk}/", {"q": "red 50cm"}),
        ("order, search by AWB", f"/sales/orders/new/{order.pk}/", {"q": "369-00001234"}),
    ]
    client = Client()
    client.force_login(sales)
    results = []
    for name, path, params in pages:
        response = client.get(path, params)
        assert response.status_code == 200, (name, response.status_code)
        queries = []

        def count(execute, sql, params_, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params_, many, context)

        with connection.execute_wrapper(count):
            client.get(path, params)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            client.get(path, params)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        results.append(
            {
                "page": name,
                "queries": len(queries),
                "p50_ms": round(statistics.median(times), 1),
                "p90_ms": round(times[max(0, int(len(times) * 0.9) - 1)], 1),
            }
        )
    print(json.dumps({"seed_s": round(seeded, 1), "pages": results}))


def run(args) -> dict:
    env = dict(os.environ)
    # The production settings but static files served from the apps (no collectstatic
    # manifest in a checkout): stemline.settings_test changes only that and the hasher.
    env["DJANGO_SETTINGS_MODULE"] = "stemline.settings_test"
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    tmp = tempfile.mkdtemp(prefix="stemline-bench-desk-")
    dropped = None
    try:
        if not args.sqlite:
            name = f"bench_desk_{os.getpid()}"
            base, _, _ = args.database_url.rpartition("/")
            subprocess.run(
                ["psql", args.database_url, "-qc", f"CREATE DATABASE {name}"], check=True
            )
            env["DATABASE_URL"] = f"{base}/{name}"
            dropped = (args.database_url, name)
        else:
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        command = [sys.executable, __file__, "--child"]
        for flag in ("customers", "lines", "invoices", "prebooks", "repeats"):
            command += [f"--{flag}", str(getattr(args, flag))]
        out = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        if out.returncode:
            sys.stderr.write(out.stderr[-4000:])
            raise SystemExit(f"the seeding child failed ({out.returncode})")
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if dropped:
            subprocess.run(
                ["psql", dropped[0], "-qc", f"DROP DATABASE IF EXISTS {dropped[1]}"], check=False
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--prebooks", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    where = "SQLite" if args.sqlite else "PostgreSQL"
    print(
        f"Sales desk pages ({where}): {args.lines:,} inventory lines, {args.customers:,} "
        f"customers, {args.invoices:,} invoices, {args.prebooks:,} prebooks"
    )
    result = run(args)
    print(f"seeded in {result['seed_s']} s")
    print(f"{'page':<34} {'queries':>8} {'p50 ms':>8} {'p90 ms':>8}")
    missed = []
    for r in result["pages"]:
        print(f"{r['page']:<34} {r['queries']:>8} {r['p50_ms']:>8} {r['p90_ms']:>8}")
        if r["p50_ms"] > TARGET_MS:
            missed.append(r["page"])
    print(f"every p50 under {TARGET_MS:.0f} ms:", "yes" if not missed else f"NO ({missed})")
    if missed and not args.sqlite:
        sys.exit(1)


if __name__ == "__main__":
    main()
