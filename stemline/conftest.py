"""Fixtures shared by every app's tests: companies, tokens and an API caller."""

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client

from stemline.catalog.models import BoxType, Category, Product
from stemline.core.models import Location, Role
from stemline.core.services import create_company, create_user
from stemline.inventory import services as stock
from stemline.inventory import totals
from stemline.parties.models import Customer, Vendor
from stemline.tokens.services import create_token


class Api:
    """Calls `/api/<method>` the way an integration does, and decodes the answer."""

    def __init__(self, client: Client):
        self.client = client

    def __call__(
        self,
        method,
        token=None,
        data=None,
        *,
        verb="POST",
        account=None,
        headers=None,
        raw=None,
        content_type="application/json",
    ):
        extra = {}
        if token is not None:
            secret = token if isinstance(token, str) else token.secret
            extra["HTTP_AUTHENTICATIONTOKEN"] = secret
            if account is None and not isinstance(token, str):
                account = token.token.company.account_id
        if account is not None:
            extra["HTTP_X_ACCOUNT"] = str(account)
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        url = f"/api/{method}"
        if verb == "GET":
            response = self.client.get(url, data or {}, **extra)
        elif raw is not None:
            response = self.client.generic(verb, url, raw, content_type=content_type, **extra)
        else:
            if content_type == "application/json":
                body = json.dumps(data or {})
            else:
                body = urlencode(data or {}, doseq=True)
            response = self.client.generic(verb, url, body, content_type=content_type, **extra)
        if response.streaming:  # a long list sent as it is read (api.schemas.Rendered)
            response.body = b"".join(response.streaming_content)
        else:
            response.body = response.content
        response.json_body = json.loads(response.body) if response.body else None
        return response


@pytest.fixture(autouse=True)
def _shop_totals_forgotten():
    # Each test's database is made again under the same ids: a count kept from the last one
    # would be taken for this one's (inventory.totals).
    totals.forget()


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def company(db):
    return create_company(name="Sunrise Floral Imports")


@pytest.fixture
def other_company(db):
    return create_company(name="Other Wholesale Co")


@pytest.fixture
def make_token(db):
    def make(company, token_type="company", *, grants=None, all_methods=None, **kw):
        if token_type == "customer" and "customer_id" not in kw:
            kw["customer_id"] = Customer.objects.create(company=company, name="Token Customer").pk
        if token_type == "vendor" and "vendor_id" not in kw:
            kw["vendor_id"] = Vendor.objects.create(
                company=company, name="Token Vendor", port_origin="BOG"
            ).pk
        if token_type == "user" and "user" not in kw:
            kw["user"] = create_user(
                company=company, email=f"user{company.pk}@example.com", role=Role.ADMIN
            )
        if all_methods is None:
            all_methods = grants is None
        return create_token(
            company=company,
            token_type=token_type,
            description=f"{token_type} test token",
            grants=grants,
            all_methods=all_methods,
            **kw,
        )

    return make


@pytest.fixture
def company_token(company, make_token):
    return make_token(company)


@pytest.fixture
def stocked(company):
    """A company with a rose, a grower, two customers (price A and B) and a helper to add lines."""
    roses = Category.objects.create(company=company, name="Roses")
    product = Product.objects.create(
        company=company,
        category=roses,
        description="Rose Freedom Red 50cm",
        variety="Freedom",
        color="Red",
        grade="50cm",
        legacy_code="RFR50",
    )
    vendor = Vendor.objects.create(
        company=company, name="Rosas del Monte", code="RDM", port_origin="UIO"
    )
    florist = Customer.objects.create(company=company, name="Bloom Florist", code="BLOOM")
    market = Customer.objects.create(
        company=company, name="DWF Wholesale", code="DWF", default_price="B", customer_type=6
    )
    location = Location.objects.get(company=company, is_default=True)
    box = BoxType.objects.get(company=company, code="HB")

    def add(boxes=10, *, future_days=0, price_a="0.500", price_b="0.450", **kw):
        arrival = stock.today() + timedelta(days=future_days) if future_days else None
        return stock.add_line(
            company=company,
            quantity=boxes,
            location=location,
            product=product,
            box_type=box,
            vendor=vendor,
            awb="369-12345675",
            unit_type="Stem",
            bunches=10,
            stems_bunch=25,
            unit_cost=Decimal("0.300"),
            price_a=Decimal(price_a),
            price_b=Decimal(price_b),
            arrival_date=arrival,
            **kw,
        )

    class Stock:
        pass

    s = Stock()
    s.company, s.product, s.vendor, s.florist, s.market = company, product, vendor, florist, market
    s.location, s.box, s.add = location, box, add
    return s
