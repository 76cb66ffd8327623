"""Purchase-order list benchmark: `purchase.order.list` over a week of 1,000 purchase orders.

    python bench/purchase_orders.py               # SQLite in a temporary directory
    python bench/purchase_orders.py --postgres    # a throwaway database on 127.0.0.1:5432

Seeds a company with `--orders` POs (3 lines each, one line in ten shipped on an AWB with box
codes, one in ten filling a customer's prebook line) spread over 7 ship dates, starts the
production server, and times `GET /api/purchase.order.list?dateFrom=..&dateTo=..` returning
all of them with their details, breakdowns and boxes, `--rounds` times over one keep-alive
connection: p50 and p99. It also counts the SQL queries the method's read makes for one day
and for the whole week (they must be equal: constant in the number of POs). Only 127.0.0.1 is
contacted; everything it creates is removed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import LOCAL_POSTGRES, REPO, Database, Server, percentile  # noqa: E402


def seed(orders: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.core.models import Location
    from stemline.core.services import bootstrap
    from stemline.inventory import services as stock
    from stemline.parties.models import Customer, Vendor
    from stemline.purchasing import queries, services
    from stemline.sales.models import Prebook, PrebookItem

    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, issued = bootstrap(
        company_name="Bench Purchasing", admin_email="p@example.com"
    )
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")
    roses = Category.objects.create(company=company, name="Roses")
    products = [
        Product.objects.create(
            company=company, category=roses, description=f"Rose {i:02d}", variety=f"V{i}"
        )
        for i in range(30)
    ]
    vendors = [
        Vendor.objects.create(company=company, name=f"Farm {i}", code=f"F{i}", port_origin="BOG")
        for i in range(20)
    ]
    florist = Customer.objects.create(company=company, name="Bench Florist")
    first = stock.today() + timedelta(days=2)
    for n in range(orders):
        day = first + timedelta(days=n % 7)
        with transaction.atomic():
            need = None
            if n % 10 == 0:
                prebook = Prebook.objects.create(
                    company=company,
                    location=location,
                    number=n + 1,
                    customer=florist,
                    ship_date=day,
                    via_api=False,
                )
                need = PrebookItem.objects.create(
                    company=company,
                    prebook=prebook,
                    product=products[n % 30],
                    box_type=box,
                    boxes=2,
                    unit_type="Stem",
                    units_per_box=250,
                    price=Decimal("0.6"),
                )
            specs = [
                services.LineSpec(
                    field=f"l{k}",
                    product=products[(n + k) % 30],
                    box_type=box,
                    boxes=5,
                    unit_type="Stem",
                    bunches=10,
                    stems_bunch=25,
                    unit_cost=Decimal("0.28"),
                )
                for k in range(3 if need is None else 2)
            ]
            if need is not None:
                specs.append(services.LineSpec(field="p", prebook_item_id=need.pk))
            po, items = services.create_order(
                company=company, vendor=vendors[n % 20], specs=specs, ship_date=day
            )
            if n % 10 == 5:
                services.ship_item(
                    company=company,
                    item=items[0],
                    awb_number=f"369-{n:08d}",
                    ship_date=day,
                    boxes=3,
                )

    def count(start, end) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            found = queries.purchase_orders(company, ship_from=start, ship_to=end)
            # As purchase.order.list reads them: the ids in its order, then the rows.
            ids = list(found.order_by(*queries.LIST_ORDER).values_list("id", flat=True))
            rows = queries.po_values(ids)
        return len(rows), len(captured.captured_queries)

    one_day = count(first, first)
    week = count(first, first + timedelta(days=6))
    print(
        json.dumps(
            {
                "secret": issued.secret,
                "account": company.account_id,
                "from": str(first),
                "to": str(first + timedelta(days=6)),
                "day": one_day,
                "week": week,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.orders)
        return 0
    if not (7 <= args.orders <= 20_000 and 3 <= args.rounds <= 1000):
        parser.error("--orders 7-20000, --rounds 3-1000")
    workdir = Path(tempfile.mkdtemp(prefix="stemline-bench-po-"))
    database = server = None
    try:
        database = Database(LOCAL_POSTGRES if args.postgres else None, workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stemline.settings",
            "DATABASE_URL": database.url,
            "STEMLINE_VAR_DIR": str(workdir),
            "STEMLINE_API_RATE": "1000000",
            "STEMLINE_API_BURST": "1000000",
            "PYTHONPATH": str(REPO),
        }
        print(f"[{database.label}] seeding {args.orders} purchase orders ...", flush=True)
        started = time.monotonic()
        seeded = subprocess.run(
            [sys.executable, __file__, "--seed", "--orders", str(args.orders)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if seeded.returncode:
            raise RuntimeError(seeded.stderr[-3000:])
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        print(f"[{database.label}] seeded in {time.monotonic() - started:.0f} s", flush=True)
        server = Server(env, args.workers, args.threads, workdir / "server.log")
        headers = {"authenticationToken": info["secret"], "X-ACCOUNT": str(info["account"])}
        path = f"/api/purchase.order.list?dateFrom={info['from']}&dateTo={info['to']}"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        times, size, rows = [], 0, 0
        for _ in range(args.rounds + 3):
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            times.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                raise RuntimeError(f"purchase.order.list answered {response.status}: {raw[:500]}")
            size = len(raw)
        rows = len(json.loads(raw)["purchaseOrders"])
        conn.close()
        measured = sorted(times[3:])  # the first calls warm the workers
        day_rows, day_queries = info["day"]
        week_rows, week_queries = info["week"]
        print(
            f"[{database.label}] purchase.order.list, a week of {rows} POs "
            f"({rows * 3} lines, {size / 1024:.0f} KB): p50 {percentile(measured, 50):.1f} ms, "
            f"p99 {percentile(measured, 99):.1f} ms over {args.rounds} calls"
        )
        print(
            f"[{database.label}] SQL queries of the read: {day_queries} for one day "
            f"({day_rows} POs), {week_queries} for the week ({week_rows} POs)"
            + (" - constant" if day_queries == week_queries else " - NOT constant")
        )
        return 0 if day_queries == week_queries and rows == args.orders else 1
    finally:
        if server is not None:
            server.stop()
        if database is not None:
            database.drop()
        for path in sorted(workdir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        workdir.rmdir()


if __name__ == "__main__":
    sys.exit(main())
