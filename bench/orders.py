"""Orders benchmark: buyers racing for hot inventory through the real server, and the
customer catalogue over 10,000 lines.

    python bench/orders.py                       # PostgreSQL on 127.0.0.1 (a throwaway database)
    python bench/orders.py --sqlite              # the embedded default instead

Seeds a company with `--hot` hot on-hand lines of `--boxes` boxes and 10,000 catalogue lines,
one customer (with its Customer token) per client, `--history` (20,000) checked-out orders with
their invoices already made (a live database's order tables are not empty), starts the
production server, then `--clients` processes each place orders for `--duration` seconds: `web-order-item.add` for 1-3 boxes of a
random hot line, then `web-order.checkout`. It prints orders per second, p50/p99 of a whole
order (add + checkout), how many were refused for lack of stock (409), 5xx answers, and the
boxes oversold (sold beyond a line's total: must be 0), read from the database afterwards.
Then the p50 of `ecommerce/inventory.list` for a page of 30 over the 10,000 lines (target
< 50 ms), and on PostgreSQL, in the same run and database, the floor: the minimal correct
purchase straight on psycopg (lock the line, check, update, insert the item, commit) with as
many clients on as many hot lines, in one transaction and in two (hold, then commit, as a web
order is), with Stemline's rate as a share of each (issue 16's target: at least 25% of the
two-transaction floor). It does so `--rounds` times (3), each round Stemline's buyers then
the floor, and prints each round and the medians: on a shared 2-core machine the same code
varies by a fifth or more from one minute to the next, so a ratio is only worth its two figures
taken side by side. Only 127.0.0.1 is contacted; every loop is bounded in time;
everything is removed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import framework_floor  # noqa: E402
from gateway import LOCAL_POSTGRES, REPO, Database, Server, percentile  # noqa: E402

LIST_P50_TARGET_MS = 50.0
# Issue 16: Stemline's orders at least this share of the two-transaction floor, same run.
FLOOR_SHARE_TARGET = 0.25


def floor(url: str, clients: int, hot: int, duration: float, transactions: int) -> float:
    """The minimal correct purchase, straight on psycopg, in the bench's own database: lock the
    line, check, update it, insert the item, commit (`transactions` = 2: hold, then commit,
    as a web order's add and checkout do). Orders a second over `clients` threads."""
    import threading

    import psycopg

    dsn = url.replace("postgres://", "postgresql://", 1)
    framework_floor.purchase_tables(dsn, hot, "floor_line", "floor_item", create=True)
    done = [0] * clients
    stop_at = time.monotonic() + duration

    def step(cur, line, qty, column, state):
        cur.execute("SELECT total, held, sold FROM floor_line WHERE id = %s FOR UPDATE", [line])
        total, held, sold = cur.fetchone()
        if total - held - sold < qty:
            return False
        cur.execute(f"UPDATE floor_line SET {column} = {column} + %s WHERE id = %s", [qty, line])
        cur.execute(
            "INSERT INTO floor_item (line_id, qty, state) VALUES (%s, %s, %s)", [line, qty, state]
        )
        return True

    def client(n):
        rnd = random.Random(n)
        with psycopg.connect(dsn) as conn:
            while time.monotonic() < stop_at:
                line, qty = rnd.randrange(hot), rnd.randint(1, 3)
                with conn.transaction(), conn.cursor() as cur:
                    ok = step(cur, line, qty, "held" if transactions == 2 else "sold", "held")
                if ok and transactions == 2:
                    with conn.transaction(), conn.cursor() as cur:
                        cur.execute("SELECT 1 FROM floor_line WHERE id = %s FOR UPDATE", [line])
                        cur.execute(
                            "UPDATE floor_line SET held = held - %s, sold = sold + %s "
                            "WHERE id = %s",
                            [qty, qty, line],
                        )
                        cur.execute(
                            "INSERT INTO floor_item (line_id, qty, state) VALUES (%s, %s, %s)",
                            [line, qty, "sold"],
                        )
                done[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 60)
    elapsed = time.monotonic() - started
    framework_floor.purchase_tables(dsn, hot, "floor_line", "floor_item", create=False)
    return sum(done) / elapsed


MARKETPLACES = ("dwf", "ftd", "bloomnet", "ibuyflowers")


def seed(
    clients: int, hot: int, boxes: int, catalogue: int, channels: int = 0, history_orders=20_000
) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import transaction

    from stemline.catalog.models import BoxType, Category, Product
    from stemline.core.models import Location
    from stemline.core.services import bootstrap
    from stemline.inventory import services as stock
    from stemline.inventory.models import InventoryLine
    from stemline.parties.models import Customer, Vendor
    from stemline.tokens.services import create_token

    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, _issued = bootstrap(company_name="Bench Orders", admin_email="o@example.com")
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")
    vendor = Vendor.objects.create(company=company, name="Bench Farms", port_origin="BOG")
    roses = Category.objects.create(company=company, name="Roses")
    products = [
        Product.objects.create(
            company=company,
            category=roses,
            description=f"Rose {i:03d}",
            variety=f"V{i}",
            color=("Red", "White", "Pink")[i % 3],
            legacy_code=f"R{i:03d}",
        )
        for i in range(50)
    ]
    pack = dict(
        location=location,
        box_type=box,
        vendor=vendor,
        unit_type="Stem",
        bunches=10,
        stems_bunch=25,
        unit_cost=Decimal("0.300"),
        price_a=Decimal("0.500"),
        price_b=Decimal("0.450"),
    )
    hot_ids = []
    for i in range(hot):
        line = stock.add_line(company=company, quantity=1, product=products[i], **pack)
        stock.update_line(company=company, line_id=line.pk, quantity=boxes)
        hot_ids.append(line.pk)
    with transaction.atomic():
        catalogue_lines = InventoryLine.objects.bulk_create(
            [
                InventoryLine(company=company, product=products[i % 50], total=5, **pack)
                for i in range(catalogue)
            ],
            batch_size=2000,
        )
    buyers = []
    for i in range(clients):
        customer = Customer.objects.create(company=company, name=f"Buyer {i}", code=f"BUY{i}")
        issued = create_token(
            company=company,
            token_type="customer",
            customer_id=customer.pk,
            description=f"buyer {i}",
            all_methods=True,
        )
        buyers.append({"customer": customer.pk, "secret": issued.secret})
    # Marketplace channels attached: every inventory change of the orders goes to each one's
    # outbox in the order's transaction (delivered by a worker the bench does not start, to
    # a port nobody listens on: what is measured is the order path's share of the work).
    from stemline.channels import services as channel_services
    from stemline.parties.models import Carrier

    if channels:
        # iBuyFlowers' orders ship with FedEx: its channel needs the carrier.
        Carrier.objects.create(company=company, name="FedEx", code="FDX")
    for slug in MARKETPLACES[:channels]:
        channel_services.connect(
            company=company, marketplace=slug, endpoint_url=f"http://127.0.0.1:9/{slug}"
        )
    history(company, location, box, buyers, catalogue_lines[:2000], orders=history_orders)
    # Fresh tables have no planner statistics until autovacuum gets to them; a live database
    # has them, so the figures are taken with them (and the seeding's rows vacuumed now, not
    # by autovacuum during the first round).
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(json.dumps({"account": company.account_id, "hot": hot_ids, "buyers": buyers}))


def history(company, location, box, buyers, lines, *, orders: int) -> None:
    """The orders a live wholesaler already has when the week starts: `orders` checked-out web
    orders of the buyers (one box of one of the catalogue `lines` each), their invoices (numbered 1 up,
    the location's counter after them), invoice lines, document changes and the inventory
    changes of their holds and sales, numbered by the feeds' own numbering. Without them the
    order tables are empty when the planner first sees them, and a plan made for an empty
    table (a scan of every row) would be timed as it grows, which no live database does."""
    if not orders or not lines:
        return
    from collections import Counter
    from datetime import timedelta
    from decimal import Decimal

    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from stemline.inventory import feeds
    from stemline.inventory.models import InventoryChange, InventoryLine
    from stemline.sales.models import (
        DocumentChange,
        Invoice,
        InvoiceItem,
        NumberCounter,
        WebOrder,
        WebOrderItem,
    )

    rnd = random.Random(16)
    start = timezone.now() - timedelta(days=60)
    price = Decimal("0.500")
    batch = 2000
    sold: Counter[int] = Counter()  # boxes by line
    with transaction.atomic():
        for first in range(0, orders, batch):
            count = min(batch, orders - first)
            at = [start + timedelta(seconds=60 * (first + i)) for i in range(count)]
            picked = [rnd.choice(lines) for _ in range(count)]
            sold.update(line.pk for line in picked)
            customers = [buyers[(first + i) % len(buyers)]["customer"] for i in range(count)]
            made = WebOrder.objects.bulk_create(
                WebOrder(
                    company=company,
                    customer_id=customers[i],
                    location=location,
                    status=WebOrder.Status.CHECKED_OUT,
                    hold_expires_at=at[i],
                    checked_out_at=at[i],
                )
                for i in range(count)
            )
            items = WebOrderItem.objects.bulk_create(
                WebOrderItem(
                    company=company,
                    web_order=order,
                    line=picked[i],
                    origin=1,
                    quantity=1,
                    price=price,
                )
                for i, order in enumerate(made)
            )
            invoices = Invoice.objects.bulk_create(
                Invoice(
                    company=company,
                    location=location,
                    number=first + i + 1,
                    customer_id=customers[i],
                    status=1,
                    fee_rate=Decimal("0.015"),
                    transaction_fee=Decimal("0.19"),
                    amount=Decimal("125.00"),
                    web_order=order,
                    confirmed_at=at[i],
                )
                for i, order in enumerate(made)
            )
            InvoiceItem.objects.bulk_create(
                InvoiceItem(
                    company=company,
                    invoice=invoice,
                    line=picked[i],
                    product_id=picked[i].product_id,
                    box_type=box,
                    boxes=1,
                    unit_type="Stem",
                    units_per_box=250,
                    price=price,
                    web_order_item=items[i],
                )
                for i, invoice in enumerate(invoices)
            )
            DocumentChange.objects.bulk_create(
                DocumentChange(
                    company=company, feed="invoices", document_id=invoice.pk, kind="created"
                )
                for invoice in invoices
            )
            InventoryChange.objects.bulk_create(
                InventoryChange(company=company, line_id=line.pk, kind=kind, available=5)
                for line in picked
                for kind in ("held", "sold")
            )
        # What was sold came out of the lines: each line's total and committed grow by it,
        # so what is left to sell (and the bench's oversold check) is as before.
        by_count: dict[int, list[int]] = {}
        for line_id, boxes in sold.items():
            by_count.setdefault(boxes, []).append(line_id)
        for boxes, ids in by_count.items():  # one UPDATE per distinct count, not per line
            InventoryLine.objects.filter(pk__in=ids).update(
                total=F("total") + boxes, committed=F("committed") + boxes
            )
        counter, _ = NumberCounter.objects.get_or_create(
            company=company, location=location, kind="invoice"
        )
        NumberCounter.objects.filter(pk=counter.pk).update(value=orders)
    feeds.sequence(company.pk, "inventory", InventoryChange)
    feeds.sequence(company.pk, "invoices", DocumentChange, where={"feed": "invoices"})


def _post(conn, path, headers, body):
    conn.request("POST", path, json.dumps(body), {**headers, "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def buyer(port, account, buyer_info, hot, stop_at, out):
    rng = random.Random(buyer_info["customer"])
    headers = {"authenticationToken": buyer_info["secret"], "X-ACCOUNT": str(account)}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done, refused, errors, latencies = 0, 0, 0, []
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        status, body = _post(
            conn,
            "/api/web-order-item.add",
            headers,
            {
                "customerId": buyer_info["customer"],
                "inventoryIds": [rng.choice(hot)],
                "inventoryOrigin": 1,
                "quantity": rng.randint(1, 3),
            },
        )
        if status == 409:
            refused += 1
            continue
        if status != 200:
            errors += 1
            continue
        status, _ = _post(
            conn,
            "/api/web-order.checkout",
            headers,
            {
                "customerId": buyer_info["customer"],
                "webOrderId": body["webOrderId"],
            },
        )
        if status == 200:
            done += 1
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
    out.put((done, refused, errors, latencies))


def oversold(env, hot: list[int]) -> tuple[int, int]:
    """(boxes sold beyond a line's total over every line, boxes sold of the hot lines)."""
    script = (
        "import django, json; django.setup();"
        "from django.db.models import Sum;"
        "from stemline.inventory.models import InventoryLine;"
        "from stemline.sales.models import InvoiceItem;"
        "sold = dict(InvoiceItem.objects.exclude(invoice__status=4).values_list('line')"
        ".annotate(s=Sum('boxes')).values_list('line', 's'));"
        "lines = InventoryLine.objects.filter(pk__in=sold);"
        "print(json.dumps([sum(max(0, sold[l.pk] - l.total) for l in lines),"
        f" sum(sold.get(l, 0) for l in {hot!r})]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def list_p50(port, account, buyer_info, rounds=60) -> float:
    headers = {"authenticationToken": buyer_info["secret"], "X-ACCOUNT": str(account)}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i in range(rounds):
        path = (
            f"/api/ecommerce/inventory.list?customerId={buyer_info['customer']}"
            f"&page={i % 50 + 1}&rows=30"
        )
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = json.loads(response.read())
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200 or len(body.get("inventoryItems", body.get("items", []))) == 0:
            raise RuntimeError(f"ecommerce/inventory.list answered {response.status}: {body}")
    return percentile(sorted(times[5:]), 50)


def _round(port, info, duration, database, *, floors, server=(2, 4)) -> dict:
    """One round: the buyers for `duration` s, then (PostgreSQL) the floor of one and of two
    transactions and the framework's floor (`server`: its workers and threads) as long each,
    in the same database."""
    out = mp.Queue()
    stop_at = time.monotonic() + duration
    procs = [
        mp.Process(target=buyer, args=(port, info["account"], b, info["hot"], stop_at, out))
        for b in info["buyers"]
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=duration + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    latencies = sorted(x for r in results for x in r[3])
    found = {
        "done": sum(r[0] for r in results),
        "refused": sum(r[1] for r in results),
        "errors": sum(r[2] for r in results),
        "latencies": latencies,
        "p50": percentile(latencies, 50) if latencies else 0.0,
        "p99": percentile(latencies, 99) if latencies else 0.0,
        "floors": {},
    }
    found["rate"] = found["done"] / duration
    if floors:
        print(f"[{database.label}] the minimal-transaction floor ...", flush=True)
        for n in (1, 2):
            found["floors"][n] = floor(
                database.url, len(info["buyers"]), len(info["hot"]), duration, n
            )
        print(f"[{database.label}] the same purchase through bare Django ...", flush=True)
        found["floors"]["framework"] = framework_floor.run(
            database.url, len(info["buyers"]), len(info["hot"]), duration, *server
        )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="the embedded default database")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--hot", type=int, default=4, help="hot inventory lines (4)")
    # Enough for every round at 250 orders a second (two boxes an order on 4 lines, 150 boxes
    # a line a second): a run that sells the lines out measures refusals, not orders.
    parser.add_argument(
        "--boxes", type=int, default=None, help="boxes per hot line (150 a second of selling)"
    )
    parser.add_argument("--catalogue", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds a round (10)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of buyers then floor (3); the figures are the rounds' medians",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--channels",
        type=int,
        default=0,
        help="marketplace channels attached (0-4); issue 16: with 4, >= 80%% of the rate without",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=20_000,
        help="checked-out orders (and their invoices) already in the database (20,000)",
    )
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.clients, args.hot, args.boxes, args.catalogue, args.channels, args.history)
        return 0
    if not (1 <= args.clients <= 64 and 1 <= args.duration <= 300 and 1 <= args.hot <= 100):
        parser.error("--clients 1-64, --duration 1-300 s, --hot 1-100")
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds 1-10")
    if not 0 <= args.history <= 1_000_000:
        parser.error("--history 0-1,000,000")
    if args.boxes is None:
        args.boxes = max(10_000, 150 * args.rounds * args.duration)
    if not 0 <= args.channels <= len(MARKETPLACES):
        parser.error(f"--channels 0-{len(MARKETPLACES)}")
    workdir = Path(tempfile.mkdtemp(prefix="stemline-bench-orders-"))
    database = server = None
    try:
        database = Database(None if args.sqlite else LOCAL_POSTGRES, workdir)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stemline.settings",
            "DATABASE_URL": database.url,
            "STEMLINE_VAR_DIR": str(workdir),
            "STEMLINE_API_RATE": "1000000",
            "STEMLINE_API_BURST": "1000000",
            "PYTHONPATH": str(REPO),
            # The channels' endpoints are on 127.0.0.1, a private address production refuses.
            "STEMLINE_ALLOW_PRIVATE_WEBHOOKS": "1",
        }
        print(f"[{database.label}] seeding ...", flush=True)
        seeded = subprocess.run(
            [
                sys.executable,
                __file__,
                "--seed",
                "--clients",
                str(args.clients),
                "--hot",
                str(args.hot),
                "--boxes",
                str(args.boxes),
                "--catalogue",
                str(args.catalogue),
                "--channels",
                str(args.channels),
                "--history",
                str(args.history),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if seeded.returncode:
            raise RuntimeError(seeded.stderr[-3000:])
        info = json.loads(seeded.stdout.strip().splitlines()[-1])
        server = Server(env, args.workers, args.threads, workdir / "server.log")
        print(
            f"[{database.label}] {args.clients} buyers on {args.hot} hot lines of "
            f"{args.boxes} boxes for {args.duration} s, {args.channels} channels attached ...",
            flush=True,
        )
        # Each round: Stemline's buyers, then the floor in the same database, so each ratio
        # compares two figures taken a few seconds apart (this machine drifts by a fifth or
        # more from one minute to the next).
        rounds = []
        for n in range(args.rounds):
            if args.rounds > 1:
                print(f"[{database.label}] round {n + 1} of {args.rounds} ...", flush=True)
            rounds.append(
                _round(
                    server.port,
                    info,
                    args.duration,
                    database,
                    floors=not args.sqlite,
                    server=(args.workers, args.threads),
                )
            )
        done = sum(r["done"] for r in rounds)
        refused = sum(r["refused"] for r in rounds)
        errors = sum(r["errors"] for r in rounds)
        latencies = sorted(x for r in rounds for x in r["latencies"])
        over, sold = oversold(env, info["hot"])
        p50 = list_p50(server.port, info["account"], info["buyers"][0])
        print(
            f"\n== {database.label}: stemline serve, {args.workers} workers x {args.threads} "
            f"threads; {args.clients} buyer processes, {args.rounds} x {args.duration} s, "
            f"{args.channels} channels attached"
        )
        for n, r in enumerate(rounds, 1):
            floor_2 = r["floors"].get(2)
            print(
                f"   round {n}: {r['rate']:6.1f} orders/s, p50 {r['p50']:.1f} ms p99 "
                f"{r['p99']:.1f} ms"
                + (
                    f"; floor {r['floors'][1]:.0f} / {floor_2:.0f} orders/s (one / two "
                    f"transactions): {r['rate'] / floor_2:.1%} of the two-transaction floor; "
                    f"through bare Django {r['floors']['framework']:.0f} orders/s "
                    f"({r['floors']['framework'] / floor_2:.1%} of it)"
                    if floor_2
                    else ""
                )
            )
        rate = statistics.median(r["rate"] for r in rounds)
        print(f"   orders checked out     {done:8d}  (median of the rounds {rate:.1f} orders/s)")
        if latencies:
            print(
                f"   order latency (add+checkout)  p50 {percentile(latencies, 50):.1f} ms  "
                f"p99 {percentile(latencies, 99):.1f} ms"
            )
        if not args.sqlite:
            share = statistics.median(r["rate"] / r["floors"][2] for r in rounds)
            for n, label in ((1, "one transaction"), (2, "two transactions (hold, commit)")):
                per_second = statistics.median(r["floors"][n] for r in rounds)
                print(
                    f"   floor, {label}: {per_second:8.0f} orders/s (median); Stemline is "
                    f"{statistics.median(r['rate'] / r['floors'][n] for r in rounds):.1%} of it"
                )
            bare = statistics.median(r["floors"]["framework"] for r in rounds)
            print(
                f"   the two-transaction purchase through bare Django and gunicorn "
                f"(bench/framework_floor.py): {bare:.0f} orders/s (median), "
                f"{statistics.median(r['floors']['framework'] / r['floors'][2] for r in rounds):.1%}"
                f" of the two-transaction floor; Stemline is "
                f"{statistics.median(r['rate'] / r['floors']['framework'] for r in rounds):.1%}"
                " of it"
            )
            print(
                f"   target: >= {FLOOR_SHARE_TARGET:.0%} of the two-transaction floor "
                f"(median of the rounds' ratios {share:.1%}): "
                f"{'OK' if share >= FLOOR_SHARE_TARGET else 'BELOW TARGET'}"
            )
        print(f"   refused, stock gone    {refused:8d}")
        print(f"   errors (not 200/409)   {errors:8d}")
        print(
            f"   boxes sold {sold} of {args.hot * args.boxes}; oversold boxes: {over} "
            f"({'OK' if over == 0 else 'OVERSOLD'})"
        )
        print(
            f"   ecommerce/inventory.list over {args.catalogue:,} lines, page of 30: p50 "
            f"{p50:.1f} ms (target < {LIST_P50_TARGET_MS:.0f} ms) "
            f"{'OK' if p50 < LIST_P50_TARGET_MS else 'BELOW TARGET'}"
        )
        return 0 if over == 0 and errors == 0 and p50 < LIST_P50_TARGET_MS else 1
    finally:
        if server is not None:
            server.stop()
        if database is not None:
            database.drop()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
