"""Receivables benchmark: the aging report and one customer's statement, on PostgreSQL.

    python bench/receivables.py                                   # 500/10,000 and 5,000/100,000
    python bench/receivables.py --sizes 5000:100000 --database-url postgres://postgres@127.0.0.1:5432/postgres

For each size (customers:invoices) it creates a throwaway PostgreSQL database, seeds it in a
child process (a company, its customers, confirmed invoices with their receivables over the
last 180 days, one payment for every fifth invoice with part of it applied, an approved credit
for every twentieth, written with bulk inserts since the services would take hours for
100,000), then measures, each `--repeats` times: the aging report through the web application
(`GET /receivables/`, signed in as Admin: the ledger catch-up, the four queries of
`money.queries.aging` and the page of every customer), the aging query alone, and one
customer's statement PDF (`GET /receivables/customers/<id>/statement.pdf`: the statement's
queries and the fpdf2 rendering). It prints p50/p90 and the SQL queries per call, which must
not grow with the rows. Targets: aging report < 2 s, a statement < 200 ms (p50).
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
AGING_TARGET_MS, STATEMENT_TARGET_MS = 2000, 200


def child(customers: int, invoices: int, repeats: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings_test")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from stemline.core.models import Location, Role
    from stemline.core.services import bootstrap, create_user
    from stemline.money import queries
    from stemline.money.models import Application, Credit, Payment, Receivable
    from stemline.parties.models import Customer, PaymentMethod
    from stemline.sales.models import DocumentStatus, Invoice

    setup_test_environment()
    call_command("migrate", interactive=False, verbosity=0)
    company, _admin, _issued = bootstrap(company_name="Bench AR", admin_email="ar@example.com")
    user = create_user(company=company, email="acc@example.com", role=Role.ADMIN, password="x" * 12)
    location = Location.objects.get(company=company, is_default=True)
    check = PaymentMethod.objects.get(company=company, name="Check")
    rng = random.Random(7)
    today = timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        made = Customer.objects.bulk_create(
            [
                Customer(company=company, name=f"Florist {n:05d}", code=f"F{n}", terms="Net 30")
                for n in range(customers)
            ],
            batch_size=5000,
        )
        now = timezone.now()
        rows = []
        for n in range(invoices):
            amount = Decimal(rng.randint(5000, 90000)) / 100
            rows.append(
                Invoice(
                    company=company,
                    location=location,
                    number=n + 1,
                    customer=made[n % customers],
                    ship_date=today - timedelta(days=rng.randint(0, 180)),
                    status=DocumentStatus.CONFIRMED,
                    via_api=False,
                    amount=amount,
                    confirmed_at=now,
                )
            )
        Invoice.objects.bulk_create(rows, batch_size=5000)
        recs = []
        for inv in Invoice.objects.filter(company=company).only(
            "pk", "customer_id", "ship_date", "amount"
        ):
            recs.append(
                Receivable(
                    company=company,
                    invoice_id=inv.pk,
                    customer_id=inv.customer_id,
                    invoice_date=inv.ship_date,
                    due_date=inv.ship_date + timedelta(days=30),
                    total=inv.amount,
                    open_amount=inv.amount,
                )
            )
        Receivable.objects.bulk_create(recs, batch_size=5000)
        recs = list(Receivable.objects.filter(company=company).order_by("pk"))
        pays, apps, touched = [], [], []
        for i, rec in enumerate(recs[::5]):
            part = (rec.total / 2).quantize(Decimal("0.01"))
            pays.append(
                Payment(
                    company=company,
                    location=location,
                    control_number=i + 1,
                    customer_id=rec.customer_id,
                    method=check,
                    date=rec.invoice_date,
                    amount=part + Decimal("10.00"),
                    applied=part,
                )
            )
            rec.paid, rec.open_amount = part, rec.total - part
            touched.append(rec)
        pays = Payment.objects.bulk_create(pays, batch_size=5000)
        for rec, pay in zip(touched, pays, strict=True):
            apps.append(Application(company=company, receivable=rec, payment=pay, amount=rec.paid))
        Application.objects.bulk_create(apps, batch_size=5000)
        Receivable.objects.bulk_update(touched, ["paid", "open_amount"], batch_size=5000)
        Credit.objects.bulk_create(
            [
                Credit(
                    company=company,
                    location=location,
                    number=i + 1,
                    customer_id=rec.customer_id,
                    invoice_id=rec.invoice_id,
                    date=rec.invoice_date,
                    status=3,
                    amount=Decimal("5.00"),
                )
                for i, rec in enumerate(recs[::20])
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seeded = time.perf_counter() - started

    client = Client()
    client.force_login(user)
    one = made[customers // 2]

    def measure(fn):
        count = []

        def counter(execute, sql, params, many, context):
            count.append(sql)
            return execute(sql, params, many, context)

        fn()
        with connection.execute_wrapper(counter):
            fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        return {
            "queries": len(count),
            "p50_ms": round(statistics.median(times), 1),
            "p90_ms": round(times[max(0, int(len(times) * 0.9) - 1)], 1),
        }

    def page():
        r = client.get("/receivables/")
        assert r.status_code == 200, r.status_code

    def statement():
        r = client.get(f"/receivables/customers/{one.pk}/statement.pdf")
        assert r.status_code == 200 and r.content.startswith(b"%PDF")

    report = queries.aging(company, today)
    assert len(report.rows) == customers, len(report.rows)
    print(
        json.dumps(
            {
                "customers": customers,
                "invoices": invoices,
                "seed_s": round(seeded, 1),
                "aging_page": measure(page),
                "aging_query": measure(lambda: queries.aging(company, today)),
                "statement": measure(statement),
            }
        )
    )


def run(customers: int, invoices: int, repeats: int, database_url: str) -> dict:
    env = dict(os.environ)
    # The test settings: static files from the apps (no collectstatic manifest needed to
    # render the pages); everything else is the production configuration.
    env["DJANGO_SETTINGS_MODULE"] = "stemline.settings_test"
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    name = f"bench_receivables_{os.getpid()}_{invoices}"
    base, _, _ = database_url.rpartition("/")
    subprocess.run(["psql", database_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    env["DATABASE_URL"] = f"{base}/{name}"
    try:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                f"{customers}:{invoices}",
                "--repeats",
                str(repeats),
            ],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(
            ["psql", database_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=False
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500:10000,5000:100000", help="customers:invoices,...")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        c, i = (int(x) for x in args.child.split(":"))
        child(c, i, args.repeats)
        return
    print("Receivables on PostgreSQL: aging report page, aging query, one statement PDF")
    print(
        f"{'customers':>9} {'invoices':>9} {'what':>12} {'queries':>8} {'p50 ms':>8} {'p90 ms':>8}"
    )
    results = []
    for size in args.sizes.split(","):
        c, i = (int(x) for x in size.split(":"))
        results.append(run(c, i, args.repeats, args.database_url))
    failed = False
    for r in results:
        for what in ("aging_page", "aging_query", "statement"):
            m = r[what]
            print(
                f"{r['customers']:>9} {r['invoices']:>9} {what:>12} {m['queries']:>8} "
                f"{m['p50_ms']:>8} {m['p90_ms']:>8}"
            )
    for what in ("aging_page", "aging_query", "statement"):
        counts = {r[what]["queries"] for r in results}
        constant = len(counts) == 1
        failed |= not constant
        print(f"{what} queries constant in rows:", "yes" if constant else f"NO ({sorted(counts)})")
    big = results[-1]
    for what, target in (("aging_page", AGING_TARGET_MS), ("statement", STATEMENT_TARGET_MS)):
        met = big[what]["p50_ms"] < target
        failed |= not met
        print(f"{what} p50 < {target} ms at {big['invoices']} invoices:", "yes" if met else "NO")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
