"""The demo's open market and its marketplaces: inventory on hand and coming from the growers,
and DWF and FTD connected as channels whose feeds go to the marketplace simulator."""

import json
import os
import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from stemline.catalog.models import BoxType, Product
from stemline.channels import services as channels
from stemline.channels.models import Channel
from stemline.core.models import Company, Location
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.parties.models import Customer, Vendor

# Where `scripts/demo` runs the simulator; the channels' feeds go there.
SIMULATOR_URL = os.environ.get("STEMLINE_SIMULATOR_URL", "http://127.0.0.1:8001")
CONNECTED = {"dwf": "DWF", "ftd": "FTD"}  # marketplace: the demo customer that represents it


def inventory(company: Company, created: Counter) -> None:
    """About a hundred lines, once: most on hand, some arriving within ten days."""
    if InventoryLine.objects.filter(company=company).exists():
        return
    rng = random.Random(2026)
    locations = list(Location.objects.filter(company=company).order_by("-is_default", "id"))
    vendors = list(Vendor.objects.filter(company=company).order_by("id"))
    boxes = {b.code: b for b in BoxType.objects.filter(company=company)}
    products = list(Product.objects.filter(company=company).select_related("category"))
    today = stock.today()
    for n, product in enumerate(products):
        for future in (False, True) if n % 3 == 0 else (False,):
            roses = product.category.name == "Roses"
            price_a = Decimal(
                rng.choice(["0.45", "0.55", "0.65", "0.80"] if roses else ["0.30", "0.38", "0.42"])
            )
            stock.add_line(
                company=company,
                quantity=rng.randint(3, 24),
                location=locations[0] if n % 5 else locations[-1],
                product=product,
                box_type=boxes["HB" if roses else "QB"],
                vendor=vendors[n % len(vendors)],
                awb=f"369-{rng.randint(1000000, 9999999)}{rng.randint(0, 6)}",
                unit_type="Stem",
                bunches=10 if roses else 12,
                stems_bunch=25 if roses else 20,
                unit_cost=(price_a * Decimal("0.6")).quantize(Decimal("0.001")),
                price_a=price_a,
                price_b=(price_a * Decimal("0.93")).quantize(Decimal("0.001")),
                arrival_date=today + timedelta(days=rng.randint(3, 10)) if future else None,
            )
            created["inventory lines"] += 1


def bundle_dir() -> Path:
    return Path(settings.VAR_DIR) / "bundles"


def connect_channels(company: Company, created: Counter) -> dict[str, dict]:
    """DWF and FTD as channels pushing to the simulator; their bundles written for it to read."""
    bundles = {}
    for slug, code in CONNECTED.items():
        customer = Customer.objects.get(company=company, code=code)
        channel = Channel.objects.filter(company=company, customer=customer).first()
        if channel is None:
            bundle = channels.connect(
                company=company,
                marketplace=slug,
                customer_id=customer.pk,
                endpoint_url=f"{SIMULATOR_URL}/{slug}/webhook",
            )
            created["channels"] += 1
        else:
            bundle = channels.bundle(channel)
        bundles[slug] = bundle.data
    folder = bundle_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for slug, data in bundles.items():
        path = folder / f"{slug}.json"
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)  # it holds the marketplace's tokens
    return bundles
