"""Run as `python -m stemline.channels.tests.outage_driver setup|changes` against a throwaway
database (DATABASE_URL): makes a stocked company with a marketplace channel, then keeps adding
inventory lines, each in its own transaction, through a database outage. Prints JSON lines."""

import json
import os
import sys
import time
from decimal import Decimal

import django


def _print(**data) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def setup(webhook_url: str) -> None:
    from stemline.catalog.models import BoxType, Category, Product
    from stemline.channels import services as channels
    from stemline.core.services import create_company
    from stemline.parties.models import Vendor

    company = create_company(name="Outage Floral")
    roses = Category.objects.create(company=company, name="Roses")
    Product.objects.create(
        company=company,
        category=roses,
        description="Rose Freedom Red 50cm",
        variety="Freedom",
        color="Red",
        grade="50cm",
        legacy_code="R50",
    )
    Vendor.objects.create(company=company, name="Rosas del Monte", code="RDM", port_origin="UIO")
    BoxType.objects.get(company=company, code="HB")
    bundle = channels.connect(company=company, marketplace="ftd", endpoint_url=webhook_url)
    _print(company=company.pk, channel=bundle.data["channelId"])


def changes(company_id: int, seconds: float, every: float) -> None:
    """Add one line every `every` seconds for `seconds`; print each one committed, and each
    attempt that failed (the database was away): those are not counted as sent."""
    from django.db import DatabaseError, connection, transaction

    from stemline.catalog.models import BoxType, Product
    from stemline.core.models import Company, Location
    from stemline.inventory import services as stock
    from stemline.parties.models import Vendor

    company = Company.objects.get(pk=company_id)
    fields = {
        "location": Location.objects.get(company=company, is_default=True),
        "product": Product.objects.get(company=company),
        "box_type": BoxType.objects.get(company=company, code="HB"),
        "vendor": Vendor.objects.get(company=company),
        "unit_type": "Stem",
        "bunches": 10,
        "stems_bunch": 25,
        "unit_cost": Decimal("0.300"),
        "price_a": Decimal("0.500"),
        "price_b": Decimal("0.450"),
    }
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with transaction.atomic():
                line = stock.add_line(company=company, quantity=1, **fields)
            _print(committed=line.pk)
        except DatabaseError as exc:
            # The connection is broken: drop it, the next attempt opens a new one.
            connection.close()
            _print(failed=type(exc).__name__)
        time.sleep(every)
    _print(done=True)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stemline.settings_test")
    django.setup()
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    else:
        changes(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))


if __name__ == "__main__":
    main()
