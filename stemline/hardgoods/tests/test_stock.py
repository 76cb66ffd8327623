"""Selling hard goods: units held, sold, given back; never more than there is."""

from decimal import Decimal

import pytest

from stemline.hardgoods import services
from stemline.hardgoods.models import HardGoodInventory, HardGoodSale
from stemline.hardgoods.services import NotEnoughHardGoods, Wanted

pytestmark = pytest.mark.django_db

INVOICE = HardGoodSale.Document.INVOICE
WEB_ORDER = HardGoodSale.Document.WEB_ORDER


def _units(product):
    rows = HardGoodInventory.objects.filter(product=product)
    return (
        sum(r.total for r in rows),
        sum(r.committed for r in rows),
        sum(r.held for r in rows),
    )


def test_a_sale_takes_oldest_stock_first_across_rows(supplies):
    vase = supplies.product()
    old, new = supplies.stock(vase, 10), supplies.stock(vase, 10)
    (sale,) = services.sell(
        company=supplies.company,
        location=supplies.location,
        wanted=[Wanted(vase.pk, 15)],
        invoice_id=1,
    )
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.committed, new.committed) == (10, 5)
    assert (sale.quantity, sale.unit_price, sale.amount) == (15, Decimal("4.50"), Decimal("67.50"))
    assert services.amount_on(supplies.company.pk, INVOICE, 1) == Decimal("67.50")


def test_more_than_available_is_refused_and_nothing_is_taken(supplies):
    vase = supplies.product()
    foam = supplies.product(sku="FOAM-1")
    supplies.stock(vase, 10)
    supplies.stock(foam, 3)
    with pytest.raises(NotEnoughHardGoods) as caught:
        services.sell(
            company=supplies.company,
            location=supplies.location,
            wanted=[Wanted(vase.pk, 5), Wanted(foam.pk, 4)],
            invoice_id=1,
        )
    assert "FOAM-1 has 3 units available, 4 asked" in caught.value.message
    assert _units(vase) == (10, 0, 0)
    assert not HardGoodSale.objects.exists()


def test_stock_at_another_location_does_not_count(supplies, company):
    from stemline.core.models import Location

    doral = Location.objects.create(company=company, name="Doral", code="DOR")
    vase = supplies.product()
    supplies.stock(vase, 10, location=doral)
    with pytest.raises(NotEnoughHardGoods):
        services.sell(
            company=company, location=supplies.location, wanted=[Wanted(vase.pk, 1)], invoice_id=1
        )


def test_the_quantity_discount_prices_a_big_sale(supplies):
    vase = supplies.product(discount=Decimal("10"), qty_for_discount=2)  # 2 packs of 12
    supplies.stock(vase, 100)
    small, big = services.sell(
        company=supplies.company,
        location=supplies.location,
        wanted=[Wanted(vase.pk, 12), Wanted(vase.pk, 24)],
        invoice_id=1,
    )
    assert (small.unit_price, big.unit_price) == (Decimal("4.50"), Decimal("4.05"))


def test_held_units_are_checked_out_onto_the_invoice_or_given_back(supplies):
    vase = supplies.product()
    supplies.stock(vase, 10)
    services.hold(
        company=supplies.company,
        location=supplies.location,
        wanted=[Wanted(vase.pk, 4)],
        web_order_id=7,
    )
    assert _units(vase) == (10, 0, 4)
    services.check_out(company=supplies.company, web_order_id=7, invoice_id=70)
    assert _units(vase) == (10, 4, 0)
    assert [s.quantity for s in services.sales_on(supplies.company.pk, INVOICE, 70)] == [4]
    assert not services.sales_on(supplies.company.pk, WEB_ORDER, 7).exists()
    # The invoice voided: the units come back to stock.
    assert services.release(company=supplies.company, document_kind=INVOICE, document_id=70) == 4
    assert _units(vase) == (10, 0, 0)
    assert services.amount_on(supplies.company.pk, INVOICE, 70) == 0
    # Released twice gives back nothing more.
    assert services.release(company=supplies.company, document_kind=INVOICE, document_id=70) == 0


def test_an_inactive_product_cannot_be_sold(supplies):
    vase = supplies.product()
    supplies.stock(vase, 10)
    services.update_product(company=supplies.company, product_id=vase.pk, active_per_vendor=False)
    with pytest.raises(Exception, match="inactive"):
        services.sell(
            company=supplies.company,
            location=supplies.location,
            wanted=[Wanted(vase.pk, 1)],
            invoice_id=1,
        )


def test_the_database_refuses_an_oversold_row(supplies):
    from django.db import IntegrityError, transaction

    row = supplies.stock(supplies.product(), 5)
    with pytest.raises(IntegrityError), transaction.atomic():
        HardGoodInventory.objects.filter(pk=row.pk).update(committed=4, held=2)
