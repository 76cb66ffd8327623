"""Hard-goods fixtures: a hard-goods vendor, a grower, and a product with stock."""

from decimal import Decimal

import pytest

from stemline.core.models import Location
from stemline.hardgoods import services
from stemline.parties.models import Vendor, VendorType


class Supplies:
    def __init__(self, company):
        self.company = company
        self.vendor = Vendor.objects.create(
            company=company,
            name="Floral Supply Co",
            code="FSC",
            port_origin="MIA",
            vendor_type=VendorType.HARD_GOODS,
        )
        # The grower of `stocked` when that fixture is used too.
        self.grower, _ = Vendor.objects.get_or_create(
            company=company, code="RDM", defaults={"name": "Rosas del Monte", "port_origin": "UIO"}
        )
        self.location = Location.objects.get(company=company, is_default=True)

    def product(self, sku="VAS-01", **kw):
        fields = {
            "subcategory": "Glass",
            "description": "Cylinder vase 8in",
            "pack_size": 12,
            "unit_cost": Decimal("2.10"),
            "unit_price": Decimal("4.50"),
        }
        fields.update(kw)
        category = fields.pop("category", "Containers")
        return services.add_product(
            company=self.company, vendor=self.vendor, category=category, sku=sku, **fields
        )

    def stock(self, product, units=100, *, location=None, cost="2.10", price=None):
        return services.add_inventory(
            company=self.company,
            product_id=product.pk,
            location=location or self.location,
            quantity=units,
            unit_cost=Decimal(cost),
            unit_price=Decimal(price) if price is not None else None,
        )


@pytest.fixture
def supplies(company):
    return Supplies(company)
