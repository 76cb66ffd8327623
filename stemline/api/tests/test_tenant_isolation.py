"""Company B's tokens never read or change company A's rows, whatever IDs they send.

Walks the whole registry: every method is called by company B with every ID field pointing at
company A's rows; nothing of A may come back, and A's rows must be unchanged afterwards.
"""

import json
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from stemline.api.registry import registry
from stemline.catalog.models import BoxType, Category, Product
from stemline.core.models import Location, Role
from stemline.core.services import create_user
from stemline.inventory import services as stock
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor
from stemline.sales import services as sales
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db

MARK = "ALPHA"


@pytest.fixture
def victim(company):
    """Company A, every row marked so a leak is visible in any answer."""
    category = Category.objects.create(company=company, name=f"{MARK} Roses")
    carrier = Carrier.objects.create(company=company, name=f"{MARK} Express", code="AEX")
    customer = Customer.objects.create(company=company, name=f"{MARK} Florist", code="AFL")
    rows = {
        "product": Product.objects.create(
            company=company,
            category=category,
            description=f"{MARK} Freedom",
            variety="Freedom",
            legacy_code="AFR",
        ),
        "customer": customer,
        "vendor": Vendor.objects.create(
            company=company, name=f"{MARK} Farms", code="AFA", port_origin="BOG"
        ),
        "carrier": carrier,
        "shipto": ShipTo.objects.create(
            company=company, customer=customer, name=f"{MARK} Store", carrier=carrier
        ),
        "location": Location.objects.filter(company=company).first(),
        "boxtype": BoxType.objects.filter(company=company).first(),
        "category": category,
        "user": create_user(company=company, email="alpha-rep@example.com", role=Role.SALES),
    }
    Location.objects.filter(company=company).update(name=f"{MARK} Warehouse")
    line = stock.add_line(
        company=company,
        quantity=5,
        location=rows["location"],
        product=rows["product"],
        box_type=rows["boxtype"],
        vendor=rows["vendor"],
        awb=f"{MARK}-1",
        unit_type="Stem",
        bunches=10,
        stems_bunch=25,
        unit_cost=Decimal("0.3"),
        price_a=Decimal("0.5"),
        mark_code=MARK,
    )
    rows["inventory"] = line
    order = sales.add_items(
        company=company,
        customer_id=customer.pk,
        origin=1,
        requests=[sales.ItemRequest(line.pk, 2)],
    ).web_order
    rows["invoice"] = sales.checkout(
        company=company, customer_id=customer.pk, web_order_id=order.pk, customer_po=MARK
    ).invoice
    return rows


FIELD_KIND = {
    "productId": "product",
    "customerId": "customer",
    "vendorId": "vendor",
    "carrierId": "carrier",
    "shipToId": "shipto",
    "locationId": "location",
    "companyLocationId": "location",
    "salesPersonId": "user",
    "categoryId": "category",
    "boxTypeId": "boxtype",
    "growerId": "vendor",
    "inventoryId": "inventory",
    "inventoryLineIds": "inventory",
    "inventoryIds": "inventory",
    "invoiceId": "invoice",
}
PREFIX_KIND = [
    ("customer.shipto", "shipto"),
    ("product", "product"),
    ("customer", "customer"),
    ("vendor", "vendor"),
    ("carrier", "carrier"),
    ("location", "location"),
    ("company.location", "location"),
    ("boxtype", "boxtype"),
    ("category", "category"),
]


def _kind_of_id(method_name: str) -> str | None:
    for prefix, kind in PREFIX_KIND:
        if method_name.startswith(prefix):
            return kind
    return None


def _attack_params(method, victim) -> dict:
    params = {}
    for name, info in method.request.model_fields.items():
        kind = FIELD_KIND.get(name) or (_kind_of_id(method.name) if name == "id" else None)
        if kind:
            params[name] = victim[kind].pk
        elif info.is_required():
            params[name] = "1" if "int" in str(info.annotation) else "x"
    return params


def _snapshot(victim) -> dict:
    out = {}
    for kind, row in victim.items():
        fresh = type(row).objects.get(pk=row.pk)
        data = model_to_dict(fresh)
        data.pop("last_login", None)
        out[kind] = json.dumps(data, default=str, sort_keys=True)
    return out


def test_other_company_sees_and_changes_nothing(api, victim, other_company, make_token):
    attacker = make_token(other_company, all_methods=True)
    ApiToken.objects.filter(pk=attacker.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    before = _snapshot(victim)
    called = 0
    for method in registry:
        if not method.needs_token or "company" not in method.token_types:
            continue
        params = _attack_params(method, victim)
        r = api(method.name, attacker, params, verb=method.verbs[-1])
        called += 1
        assert r.status_code < 500, (method.name, r.json_body)
        assert MARK not in r.content.decode(), (method.name, params, r.json_body)
    assert called >= 10
    assert _snapshot(victim) == before


def test_other_company_x_account_is_refused_for_every_method(
    api, victim, company, other_company, make_token
):
    attacker = make_token(other_company, all_methods=True)
    for method in registry:
        if method.needs_token and "company" in method.token_types:
            r = api(method.name, attacker, {}, verb=method.verbs[-1], account=company.account_id)
            assert r.status_code == 403, method.name
