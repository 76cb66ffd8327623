"""Hard goods pages without a browser: who may open them, bad input answered with a message
(never a 500), and the company's choice of where hard goods are shown."""

import re
from decimal import Decimal

import pytest

from stemline.core.models import Role
from stemline.hardgoods import services
from stemline.hardgoods.models import HardGoodInventory
from stemline.hardgoods.tests.conftest import Supplies
from stemline.sales import invoicing

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplies(company):
    return Supplies(company)


def test_setup_pages_are_for_setup_roles(as_role, supplies):
    product = supplies.product()
    assert as_role(Role.SETUP).get("/setup/hard-goods/").status_code == 200
    assert as_role(Role.SETUP).get(f"/setup/hard-goods/{product.pk}/").status_code == 200
    assert as_role(Role.SALES).get("/setup/hard-goods/").status_code == 403
    assert as_role(Role.SALES).get("/sales/inventory/hard-goods/").status_code == 200
    assert as_role(Role.SETUP).get("/setup/hard-goods/999999/").status_code == 404


def test_another_companys_product_is_not_found(as_role, supplies, other_company):
    theirs = Supplies(other_company).product()
    assert as_role(Role.ADMIN).get(f"/setup/hard-goods/{theirs.pk}/").status_code == 404


def test_receiving_bad_units_is_refused_with_a_message(as_role, supplies):
    product = supplies.product()
    client = as_role(Role.ADMIN)
    for units in ("1000", "0", "abc", ""):
        r = client.post(
            f"/setup/hard-goods/{product.pk}/receive/",
            {"quantity": units, "unit_cost": "2", "location": supplies.location.pk},
            follow=True,
        )
        assert r.status_code == 200
        assert "Not received" in r.content.decode()
    assert not HardGoodInventory.objects.exists()


def test_the_company_chooses_where_hard_goods_are_shown(as_role, company):
    client = as_role(Role.SETUP)
    r = client.post("/setup/hard-goods/shown/", {"in_ecommerce": "on"})
    assert r.status_code == 302
    company.refresh_from_db()
    assert (company.hard_goods_in_shop, company.hard_goods_in_channels) == (True, False)
    page = client.get("/setup/hard-goods/").content.decode()
    assert re.search(r"<input[^>]*name=\"in_ecommerce\"[^>]*checked", page)
    assert not re.search(r"<input[^>]*name=\"in_channels\"[^>]*checked", page)


def test_an_invoice_page_refuses_bad_hard_goods_input_with_a_message(as_role, stocked, supplies):
    vase = supplies.product()
    services.add_inventory(
        company=stocked.company,
        product_id=vase.pk,
        location=supplies.location,
        quantity=5,
        unit_cost=Decimal("2"),
    )
    line = stocked.add(1)
    invoice, _ = invoicing.create_invoice(
        company=stocked.company,
        customer=stocked.florist,
        location=stocked.location,
        ship_date=line.created_at.date(),
        via_api=False,
        lines=[invoicing.LineRequest(inventory_id=line.pk, boxes=1, price=Decimal("0.500"))],
    )
    client = as_role(Role.SALES)
    url = f"/sales/invoices/{invoice.pk}/hard-goods/"
    page = client.get(f"/sales/invoices/{invoice.pk}/").content.decode()
    assert "VAS-01 · Cylinder vase 8in (5 available, 4.50)" in page
    for data, words in (
        ({"product": vase.pk, "quantity": "6"}, "has 5 units available, 6 asked"),
        ({"product": vase.pk, "quantity": "-1"}, "Choose a hard good and how many units."),
        ({"product": "x", "quantity": "1"}, "Choose a hard good and how many units."),
        ({"product": 999999, "quantity": "1"}, "hard-goods product 999999 does not exist"),
    ):
        r = client.post(url, data, follow=True)
        assert r.status_code == 200
        assert words in r.content.decode(), data
    assert (
        client.post(
            "/sales/invoices/999999/hard-goods/", {"product": vase.pk, "quantity": 1}
        ).status_code
        == 404
    )
    r = client.post(url, {"product": vase.pk, "quantity": "5"}, follow=True)
    assert "5 units of VAS-01 added" in r.content.decode()
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("125.00") + Decimal("22.50")
