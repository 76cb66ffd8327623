"""Hard goods on invoices: sold from the invoice's location, in its amount, charges and PDF,
given back when the line is removed or the invoice voided."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from stemline.core.errors import Conflict
from stemline.hardgoods.models import HardGoodInventory
from stemline.hardgoods.services import NotEnoughHardGoods
from stemline.hardgoods.tests.conftest import Supplies
from stemline.sales import hardgood_lines, invoicing, pdf, queries
from stemline.sales.models import Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def supplies(company):
    return Supplies(company)


def _invoice(stocked, boxes=2):
    line = stocked.add(boxes)
    invoice, _ = invoicing.create_invoice(
        company=stocked.company,
        customer=stocked.florist,
        location=stocked.location,
        ship_date=line.created_at.date(),
        via_api=False,
        lines=[invoicing.LineRequest(inventory_id=line.pk, boxes=boxes, price=Decimal("0.500"))],
    )
    return invoice


def _available(product):
    return sum(r.available for r in HardGoodInventory.objects.filter(product=product))


def test_hard_goods_sold_on_an_invoice_count_in_its_amount_and_pdf(stocked, supplies):
    vase = supplies.product()
    supplies.stock(vase, 30)
    invoice = _invoice(stocked)  # 2 boxes x 250 stems x 0.50 = 250.00
    assert invoice.amount == Decimal("250.00")
    sale = hardgood_lines.add_to_invoice(
        company=stocked.company, invoice_id=invoice.pk, product_id=vase.pk, quantity=12
    )
    assert sale.amount == Decimal("54.00")  # 12 x 4.50
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("304.00")
    assert _available(vase) == 18
    details = queries.invoice_details(Invoice.objects.filter(pk=invoice.pk))[0]
    (text,) = [
        p.extract_text() for p in PdfReader(io.BytesIO(pdf.render(details, details.lines))).pages
    ]
    for shown in ("Hard goods", "Cylinder vase 8in", "VAS-01", "4.50", "54.00", "304.00"):
        assert shown in text, (shown, text)


def test_removing_the_line_or_voiding_gives_the_units_back(stocked, supplies):
    vase = supplies.product()
    supplies.stock(vase, 30)
    invoice = _invoice(stocked)
    first = hardgood_lines.add_to_invoice(
        company=stocked.company, invoice_id=invoice.pk, product_id=vase.pk, quantity=5
    )
    hardgood_lines.add_to_invoice(
        company=stocked.company,
        invoice_id=invoice.pk,
        product_id=vase.pk,
        quantity=7,
        unit_price=Decimal("4.00"),
    )
    assert _available(vase) == 18
    hardgood_lines.remove_from_invoice(
        company=stocked.company, invoice_id=invoice.pk, sale_id=first.pk
    )
    invoice.refresh_from_db()
    assert _available(vase) == 23
    assert invoice.amount == Decimal("278.00")  # 250 + 7 x 4.00
    invoicing.void(company=stocked.company, invoice_id=invoice.pk, reason="test")
    assert _available(vase) == 30
    assert hardgood_lines.on_invoice(invoice) == []


def test_an_invoice_cannot_sell_more_than_its_location_has_or_change_when_voided(stocked, supplies):
    vase = supplies.product()
    supplies.stock(vase, 3)
    invoice = _invoice(stocked)
    with pytest.raises(NotEnoughHardGoods):
        hardgood_lines.add_to_invoice(
            company=stocked.company, invoice_id=invoice.pk, product_id=vase.pk, quantity=4
        )
    invoice.refresh_from_db()
    assert invoice.amount == Decimal("250.00")
    invoicing.void(company=stocked.company, invoice_id=invoice.pk, reason="test")
    with pytest.raises(Conflict):
        hardgood_lines.add_to_invoice(
            company=stocked.company, invoice_id=invoice.pk, product_id=vase.pk, quantity=1
        )
    assert _available(vase) == 3
