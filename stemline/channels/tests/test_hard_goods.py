"""Hard goods in the channels' feeds: nothing until the company offers them, then every change
of their stock is one event per channel, written in the change's own transaction."""

from decimal import Decimal

import pytest

from stemline.channels import outbox
from stemline.channels.models import Event
from stemline.hardgoods import services as hard_goods
from stemline.hardgoods.services import Wanted
from stemline.hardgoods.tests.conftest import Supplies

pytestmark = pytest.mark.django_db


def _events(channel):
    outbox.number(channel.endpoint_id)
    return list(
        Event.objects.filter(endpoint_id=channel.endpoint_id, kind="hardgood.changed").order_by(
            "seq"
        )
    )


def test_hard_goods_reach_the_channels_only_when_the_company_offers_them(connect, stocked):
    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    supplies = Supplies(stocked.company)
    vase = supplies.product()
    supplies.stock(vase, 10)
    assert _events(ftd) == []
    hard_goods.set_settings(company=stocked.company, in_ecommerce=False, in_channels=True)
    supplies.stock(vase, 5)
    hard_goods.sell(
        company=stocked.company,
        location=supplies.location,
        wanted=[Wanted(vase.pk, 4)],
        invoice_id=1,
    )
    added, sold = _events(ftd)
    assert (added.payload["change"], added.payload["available"]) == ("added", 15)
    assert (sold.payload["change"], sold.payload["available"]) == ("sold", 11)
    assert sold.payload["item"]["sku"] == "VAS-01"
    assert sold.payload["item"]["price"] == float(Decimal("4.50"))


def test_a_refused_sale_leaves_no_event(connect, stocked):
    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    hard_goods.set_settings(company=stocked.company, in_ecommerce=False, in_channels=True)
    supplies = Supplies(stocked.company)
    vase = supplies.product()
    supplies.stock(vase, 3)
    before = len(_events(ftd))
    with pytest.raises(hard_goods.NotEnoughHardGoods):
        hard_goods.sell(
            company=stocked.company,
            location=supplies.location,
            wanted=[Wanted(vase.pk, 4)],
            invoice_id=1,
        )
    assert len(_events(ftd)) == before


def test_a_channel_chooses_whether_it_sells_hard_goods(connect, stocked):
    from stemline.channels import services

    ftd, _, _ = connect("ftd", customer_id=stocked.florist.pk)
    dwf, _, _ = connect("dwf", customer_id=stocked.market.pk)
    services.update(channel=dwf, sells_hard_goods=False)
    hard_goods.set_settings(company=stocked.company, in_ecommerce=False, in_channels=True)
    supplies = Supplies(stocked.company)
    supplies.stock(supplies.product(), 10)
    assert [e.payload["change"] for e in _events(ftd)] == ["added"]
    assert _events(dwf) == []
