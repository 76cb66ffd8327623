"""Fixtures of the parties tests: rows of a company, a second company's token."""

import pytest

from stemline.core.models import Location, Role
from stemline.core.services import create_user
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor


@pytest.fixture
def other_token(other_company, make_token):
    return make_token(other_company)


@pytest.fixture
def sales_user(company):
    return create_user(
        company=company,
        email="sam.sales@example.com",
        role=Role.SALES,
        first_name="Sam",
        last_name="Sales",
    )


@pytest.fixture
def party_factory(company):
    """Rows of one company made directly, for tests that read or change them."""

    class Factory:
        def carrier(self, company=company, **kw):
            kw.setdefault("name", "FedEx Priority")
            kw.setdefault("code", "FDX")
            return Carrier.objects.create(company=company, **kw)

        def customer(self, company=company, **kw):
            kw.setdefault("name", "Bloom Room")
            return Customer.objects.create(company=company, **kw)

        def ship_to(self, customer, **kw):
            kw.setdefault("name", "Main Store")
            return ShipTo.objects.create(company_id=customer.company_id, customer=customer, **kw)

        def vendor(self, company=company, **kw):
            kw.setdefault("name", "Rosas del Monte")
            kw.setdefault("port_origin", "BOG")
            return Vendor.objects.create(company=company, **kw)

        def location(self, company=company, **kw):
            return Location.objects.create(company=company, **kw)

    return Factory()
