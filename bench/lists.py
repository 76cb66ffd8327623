"""Long lists benchmark: the big reads at 1k / 10k / 100k rows, time per page and peak memory.

    python bench/lists.py                       # PostgreSQL on 127.0.0.1 (a throwaway database)
    python bench/lists.py --quick               # 1k and 10k rows only, 3 repeats
    python bench/lists.py --sizes 1000 --only invoice.details.list
    python bench/lists.py --sizes 50000 --only customer   # seeds the customers only

For each size N it bulk-inserts (the services would take hours) N invoices of 2 lines over a
4-day window, N purchase orders of 2 lines over 4 days, N prebooks of 2 lines over 4 days, N
inventory lines in the web shop and N customers (with `--only`, just what those lists read),
then through the whole API stack in-process (Django's test client: gateway, token, schema,
answer; no socket) times, `--repeats` times each:
- `invoice.list`, `invoice.details.list`, `purchase.order.list`: the first and the last page of
  100 (`page`/`rows`), and the whole unpaged list up to `--whole-max` documents (streamed);
- `prebook.list`, `prebook.details.list`, `customer.list`: the first and the last page of 100;
- `ecommerce/inventory.list`: the first page of 30 by `page` (its total kept, and counted again),
  the last page by `page`, and the last page
  reached by `cursor` (keyset);
- the customer export (`/setup/customers/export.xlsx`, signed in as the Admin) of N customers;
and prints p50 / p90, the SQL queries of one call, the answer's size, and the peak Python
memory of one call (tracemalloc: what the worker holds for it; the streamed answers are read
and dropped a chunk at a time as a socket would). Targets (exit 1 if missed, PostgreSQL): a
page of 100 documents under 100 ms, an `ecommerce/inventory.list` page of 30 under 30 ms at any
size, `invoice.details.list` of 2,000 invoices and `purchase.order.list` of 1,000 POs under
200 ms unpaged (run `--sizes 2000` / `1000` for those), the export of 50,000 customers under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGE_MS, SHOP_MS, WHOLE_MS, EXPORT_MS = 100.0, 30.0, 200.0, 2000.0


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings_test")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    import resource
    import tracemalloc
    from datetime import timedelta
    from decimal import Decimal

    from django.core import signals
    from django.core.management import call_command
    from django.db import connection, reset_queries, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.core.models import Location
    from stemline.core.services import bootstrap
    from stemline.inventory import services as stock
    from stemline.inventory import totals
    from stemline.inventory.models import InventoryLine
    from stemline.parties.models import Customer, Vendor
    from stemline.purchasing.models import PurchaseOrder, PurchaseOrderItem
    from stemline.sales.models import Invoice, InvoiceItem, Prebook, PrebookItem
    from stemline.tokens.models import ApiToken

    setup_test_environment()
    signals.request_started.disconnect(reset_queries)
    call_command("migrate", interactive=False, verbosity=0)
    company, admin, issued = bootstrap(company_name="Bench Lists", admin_email="l@example.com")
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=1e6, rate_burst=10**6)
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")
    category = Category.objects.create(company=company, name="Roses")
    vendors = [
        Vendor.objects.create(company=company, name=f"Farm {n}", code=f"V{n}", port_origin="BOG")
        for n in range(20)
    ]
    colors = ["Red", "White", "Pink", "Yellow", "Orange"]
    products = [
        Product.objects.create(
            company=company,
            category=category,
            description=f"Rose Variety{n:03d} {colors[n % 5]} {40 + 10 * (n % 4)}cm",
            variety=f"Variety{n}",
            color=colors[n % 5],
            grade=f"{40 + 10 * (n % 4)}cm",
            legacy_code=f"R{n:04d}",
        )
        for n in range(500)
    ]
    buyer = Customer.objects.create(company=company, name="The Buyer", code="BUYER")
    today = stock.today()
    days = [today + timedelta(days=n) for n in range(4)]

    def line(n, **kw):
        values = {
            "company": company,
            "location": location,
            "product": products[(n * 7) % len(products)],
            "box_type": box,
            "vendor": vendors[n % len(vendors)],
            "awb": f"369-{n:08d}",
            "unit_type": "Stem",
            "bunches": 10,
            "stems_bunch": 25,
            "unit_cost": Decimal("0.3"),
            "price_a": Decimal("0.5"),
            "price_b": Decimal("0.45"),
            "total": 50,
            "committed": 5,
        }
        values.update(kw)
        return InventoryLine(**values)

    seeded = {"customers": 0, "lines": 0, "invoices": 0, "pos": 0, "prebooks": 0}

    def wanted(*names: str) -> bool:
        return not args.only or any(n.startswith(o) for n in names for o in args.only)

    # What to seed: with --only, just the tables the chosen lists read.
    seed_invoices = wanted("invoice.list", "invoice.details.list")
    seed_pos = wanted("purchase.order.list")
    seed_prebooks = wanted("prebook.list", "prebook.details.list")
    seed_lines = seed_invoices or seed_pos or wanted("ecommerce/inventory.list")

    def seed_to(size: int) -> float:
        started = time.perf_counter()
        batch = 5000
        with transaction.atomic():
            for start in range(seeded["customers"], size, batch):
                Customer.objects.bulk_create(
                    [
                        Customer(
                            company=company,
                            name=f"Florist {n:06d}",
                            code=f"F{n:06d}",
                            bill_address=f"{n} Main St",
                            bill_city="Miami",
                            phone="=cmd|' /C calc'!A0" if n == 3 else "305-555-0100",
                        )
                        for n in range(start, min(start + batch, size))
                    ]
                )
            customers = list(
                Customer.objects.filter(company=company).order_by("id")[:1000].only("id")
            )
            for start in range(seeded["lines"], size if seed_lines else 0, batch):
                InventoryLine.objects.bulk_create(
                    [
                        line(n, arrival_date=today + timedelta(days=3) if n % 4 == 0 else None)
                        for n in range(start, min(start + batch, size))
                    ]
                )
            sold = list(
                InventoryLine.objects.filter(company=company).order_by("id")[:2000].only("id")
            )
            now = timezone.now()
            for start in range(seeded["invoices"], size if seed_invoices else 0, batch):
                made = Invoice.objects.bulk_create(
                    [
                        Invoice(
                            company=company,
                            location=location,
                            number=n + 1,
                            customer=customers[n % len(customers)],
                            ship_date=days[n % 4],
                            status=(0, 1, 1, 1)[n % 4],
                            amount=Decimal("250.00"),
                            created_at=now,
                        )
                        for n in range(start, min(start + batch, size))
                    ]
                )
                InvoiceItem.objects.bulk_create(
                    [
                        InvoiceItem(
                            company=company,
                            invoice=invoice,
                            line=sold[(invoice.number * 2 + k) % len(sold)],
                            product=products[(invoice.number + k) % len(products)],
                            box_type=box,
                            boxes=1 + k,
                            unit_type="Stem",
                            units_per_box=250,
                            price=Decimal("0.25"),
                        )
                        for invoice in made
                        for k in range(2)
                    ]
                )
            for start in range(seeded["prebooks"], size if seed_prebooks else 0, batch):
                made = Prebook.objects.bulk_create(
                    [
                        Prebook(
                            company=company,
                            location=location,
                            number=n + 1,
                            customer=customers[n % len(customers)],
                            ship_date=days[n % 4],
                            status=(0, 1, 1, 1)[n % 4],
                            amount=Decimal("250.00"),
                            created_at=now,
                        )
                        for n in range(start, min(start + batch, size))
                    ]
                )
                PrebookItem.objects.bulk_create(
                    [
                        PrebookItem(
                            company=company,
                            prebook=prebook,
                            product=products[(prebook.number + k) % len(products)],
                            box_type=box,
                            vendor=vendors[(prebook.number + k) % len(vendors)],
                            boxes=1 + k,
                            unit_type="Bunch",
                            units_per_box=10,
                            bunches=10,
                            stems_bunch=25,
                            price=Decimal("4.00"),
                        )
                        for prebook in made
                        for k in range(2)
                    ]
                )
            for start in range(seeded["pos"], size if seed_pos else 0, batch):
                orders = PurchaseOrder.objects.bulk_create(
                    [
                        PurchaseOrder(
                            company=company,
                            number=f"P{n + 1:07d}",
                            location=location,
                            vendor=vendors[n % len(vendors)],
                            ship_date=days[n % 4],
                            arrival_date=days[n % 4] + timedelta(days=1),
                        )
                        for n in range(start, min(start + batch, size))
                    ]
                )
                backing = InventoryLine.objects.bulk_create(
                    [
                        line(10_000_000 + o.pk * 2 + k, total=0, committed=0, price_a=None)
                        for o in orders
                        for k in range(2)
                    ]
                )
                PurchaseOrderItem.objects.bulk_create(
                    [
                        PurchaseOrderItem(
                            company=company,
                            line=backing[i],
                            purchase_order=orders[i // 2],
                            boxes=3,
                        )
                        for i in range(len(backing))
                    ]
                )
        for key in seeded:
            seeded[key] = max(seeded[key], size)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        return time.perf_counter() - started

    api = Client()
    web = Client()
    web.force_login(admin)
    headers = {
        "HTTP_AUTHENTICATIONTOKEN": issued.secret,
        "HTTP_X_ACCOUNT": str(company.account_id),
    }

    def read(response) -> int:
        if response.streaming:
            return sum(len(part) for part in response.streaming_content)
        return len(response.content)

    def call(path, params, client, extra):
        response = client.get(path, params, **extra)
        size = read(response)
        assert response.status_code == 200, (path, params, response.status_code)
        return response, size

    def measure(
        name, size, path, params, *, client=api, extra=headers, target=None, before=lambda: None
    ):
        if args.only and not any(name.startswith(o) for o in args.only):
            return
        response, length = call(path, params, client, extra)
        queries = []
        before()

        def count(execute, sql, params_, many, context):
            queries.append(sql)
            return execute(sql, params_, many, context)

        with connection.execute_wrapper(count):
            call(path, params, client, extra)
        tracemalloc.start()
        tracemalloc.reset_peak()
        call(path, params, client, extra)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        times = []
        for _ in range(args.repeats):
            before()
            t0 = time.perf_counter()
            call(path, params, client, extra)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p50 = statistics.median(times)
        row = {
            "list": name,
            "size": size,
            "queries": len(queries),
            "p50_ms": round(p50, 1),
            "p90_ms": round(times[max(0, int(len(times) * 0.9) - 1)], 1),
            "kb": length // 1024,
            "peak_mb": round(peak / 2**20, 1),
            "target_ms": target,
            "met": None if target is None else p50 < target,
        }
        print(json.dumps(row), flush=True)

    for size in args.sizes:
        took = seed_to(size)
        print(json.dumps({"seeded": size, "seed_s": round(took, 1)}), flush=True)
        window = {"orderDateFrom": str(days[0]), "orderDateTo": str(days[-1])}
        last = (size + 99) // 100
        for method, where in (
            ("prebook.list", {"dateFrom": str(days[0]), "dateTo": str(days[-1])}),
            ("prebook.details.list", {"dateFrom": str(days[0]), "dateTo": str(days[-1])}),
            ("customer.list", {}),
        ):
            path = f"/api/{method}"
            for label, page in (("page 1", 1), ("last page", last)):
                measure(
                    f"{method} {label}",
                    size,
                    path,
                    {**where, "page": page, "rows": 100},
                    target=PAGE_MS,
                )
        for method in ("invoice.list", "invoice.details.list", "purchase.order.list"):
            where = (
                window
                if method != "purchase.order.list"
                else {
                    "dateFrom": str(days[0]),
                    "dateTo": str(days[-1]),
                }
            )
            path = f"/api/{method}"
            measure(
                f"{method} page 1", size, path, {**where, "page": 1, "rows": 100}, target=PAGE_MS
            )
            measure(
                f"{method} last page",
                size,
                path,
                {**where, "page": last, "rows": 100},
                target=PAGE_MS,
            )
            if size <= args.whole_max:
                whole_target = (
                    WHOLE_MS
                    if (
                        (method == "invoice.details.list" and size <= 2000)
                        or (method == "purchase.order.list" and size <= 1000)
                    )
                    else None
                )
                measure(f"{method} whole", size, path, where, target=whole_target)
        shop = {"customerId": buyer.pk, "rows": 30}
        path = "/api/ecommerce/inventory.list"
        total = json.loads(api.get(path, shop, **headers).content)["total"]
        last = max(1, (total + 29) // 30)
        measure("ecommerce/inventory.list page 1", size, path, {**shop, "page": 1}, target=SHOP_MS)
        # The same page when the total must be counted again (a line came or went since the
        # last count, inventory.totals): every call counts the 100,000 lines. No target.
        measure(
            "ecommerce/inventory.list page 1 counted",
            size,
            path,
            {**shop, "page": 1},
            before=totals.forget,
        )
        measure(
            "ecommerce/inventory.list last page",
            size,
            path,
            {**shop, "page": last},
            target=SHOP_MS,
        )
        body = json.loads(api.get(path, {**shop, "page": max(1, last - 1)}, **headers).content)
        if body.get("nextCursor"):
            measure(
                "ecommerce/inventory.list last page by cursor",
                size,
                path,
                {**shop, "cursor": body["nextCursor"]},
                target=SHOP_MS,
            )
        measure(
            "customer export",
            size,
            "/setup/customers/export.xlsx",
            {},
            client=web,
            extra={},
            target=EXPORT_MS if size <= 50_000 else None,
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"max_rss_mb": round(rss, 1)}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,10000 and 3 repeats")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--whole-max", type=int, default=10_000, help="unpaged lists up to this many documents"
    )
    parser.add_argument("--only", action="append", help="lists whose name starts with this")
    parser.add_argument("--keep", action="store_true", help="keep the database (its name printed)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeats = "1000,10000", 3
    args.sizes = [int(n) for n in str(args.sizes).split(",")]
    if args.child:
        child(args)
        return 0
    name = f"bench_lists_{os.getpid()}"
    base = args.database_url.rpartition("/")[0]
    subprocess.run(["psql", args.database_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    env = {**os.environ, "DATABASE_URL": f"{base}/{name}"}
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    command = [sys.executable, __file__, "--child", "--sizes", ",".join(map(str, args.sizes))]
    command += ["--repeats", str(args.repeats), "--whole-max", str(args.whole_max)]
    for only in args.only or ():
        command += ["--only", only]
    print(f"{'list':<46} {'rows':>7} {'q':>3} {'p50 ms':>8} {'p90 ms':>8} {'KB':>7} {'peak MB':>8}")
    missed = []
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        for text in process.stdout:
            row = json.loads(text)
            if "list" in row:
                mark = {None: "", True: " ok", False: f" MISSED (< {row['target_ms']} ms)"}
                print(
                    f"{row['list']:<46} {row['size']:>7} {row['queries']:>3} {row['p50_ms']:>8} "
                    f"{row['p90_ms']:>8} {row['kb']:>7} {row['peak_mb']:>8}{mark[row['met']]}",
                    flush=True,
                )
                if row["met"] is False:
                    missed.append(row["list"])
            else:
                print(f"# {text.strip()}", flush=True)
        if process.wait() != 0:
            return 2
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if args.keep:
            print(f"# kept database {name}")
        else:
            subprocess.run(["psql", args.database_url, "-qc", f"DROP DATABASE IF EXISTS {name}"])
    if missed:
        print("targets missed:", ", ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
