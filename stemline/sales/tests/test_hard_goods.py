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
from stemline.sales.models import DocumentStatus, Invoice

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


# ---------------------------------------------------------------- through the API


@pytest.fixture
def florist_token(stocked, make_token):
    return make_token(stocked.company, "customer", customer_id=stocked.florist.pk)


def _shop(api, token, customer):
    r = api("ecommerce/inventory.list", token, {"customerId": customer.pk}, verb="GET")
    assert r.status_code == 200, r.json_body
    return r.json_body


def test_the_shop_shows_hard_goods_only_when_the_company_chooses(
    api, stocked, supplies, florist_token
):
    from stemline.hardgoods import services as hard_goods

    vase = supplies.product()
    supplies.stock(vase, 30)
    stocked.add(3)
    assert _shop(api, florist_token, stocked.florist).get("hardGoodItems") is None
    hard_goods.set_settings(company=stocked.company, in_ecommerce=True, in_channels=False)
    # The shop reads the setting from the caller's company as its token snapshot has it: a
    # change shows within the snapshot's 10 seconds; here, at once.
    from stemline.api import auth

    auth.forget_all()
    body = _shop(api, florist_token, stocked.florist)
    assert len(body["inventoryItems"]) == 1  # the boxes as before
    (row,) = body["hardGoodItems"]
    assert (row["inventoryIds"], row["inventoryOrigin"], row["sku"]) == (str(vase.pk), 5, "VAS-01")
    assert (row["quantity"], row["price"], row["packSize"]) == (30, 4.5, 12)
    r = api(
        "ecommerce/inventory.list",
        florist_token,
        {"customerId": stocked.florist.pk, "searchText": "ribbon"},
        verb="GET",
    )
    assert r.json_body["hardGoodItems"] == []


def _order_with_a_vase_line(api, stocked, supplies, florist_token, vases=10):
    vase = supplies.product()
    supplies.stock(vase, 30)
    line = stocked.add(3)
    r = api(
        "web-order-item.add",
        florist_token,
        {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 2},
    )
    assert r.status_code == 200, r.json_body
    order_id, box_item = r.json_body["webOrderId"], r.json_body["webOrderItemId"]
    add = {"inventoryIds": [vase.pk], "inventoryOrigin": 5, "quantity": vases}
    r = api("web-order-item.add", florist_token, add)
    assert r.status_code == 200, r.json_body
    assert r.json_body["webOrderId"] == order_id  # the same pending order
    return vase, line, order_id, box_item, r.json_body["webOrderItemId"]


def test_a_web_order_holds_hard_goods_and_checkout_sells_them_on_its_invoice(
    api, stocked, supplies, florist_token
):
    vase, line, order_id, box_item, vase_item = _order_with_a_vase_line(
        api, stocked, supplies, florist_token
    )
    add = {"inventoryIds": [vase.pk], "inventoryOrigin": 5, "quantity": 10}
    assert _available(vase) == 20
    # More than is left: refused, and nothing more is held.
    r = api("web-order-item.add", florist_token, {**add, "quantity": 21})
    assert r.status_code == 409, r.json_body
    assert "has 20 units available, 21 asked" in r.json_body["message"]
    r = api("web-order-item.add", florist_token, {**add, "quantity": 1, "price": "9.99"})
    assert r.status_code == 409
    assert r.json_body["errors"][0]["field"] == "price"
    assert _available(vase) == 20
    r = api("web-order-details.list", florist_token, {"webOrderId": order_id}, verb="GET")
    assert r.status_code == 200, r.json_body
    (order,) = r.json_body["webOrders"]
    assert [(h["sku"], h["quantity"], h["amount"]) for h in order["hardGoodItems"]] == [
        ("VAS-01", 10, 45.0)
    ]
    assert order["subtotal"] == 295.0
    r = api("web-order.checkout", florist_token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    invoice = Invoice.objects.get(pk=r.json_body["invoiceId"])
    # 2 boxes x 250 stems x 0.50 + 10 vases x 4.50
    assert invoice.amount == Decimal("250.00") + Decimal("45.00")
    assert [(s.product_id, s.quantity) for s in hardgood_lines.on_invoice(invoice)] == [
        (vase.pk, 10)
    ]
    rows = HardGoodInventory.objects.filter(product=vase)
    assert (sum(r.held for r in rows), sum(r.committed for r in rows)) == (0, 10)
    r = api(
        "web-order-details.list",
        florist_token,
        {"webOrderId": order_id, "statusId": 2},
        verb="GET",
    )
    (order,) = r.json_body["webOrders"]
    assert [h["quantity"] for h in order["hardGoodItems"]] == [10]


def test_an_order_of_hard_goods_only_checks_out_into_an_invoice(
    api, stocked, supplies, florist_token
):
    vase = supplies.product()
    supplies.stock(vase, 30)
    add = {"inventoryIds": [vase.pk], "inventoryOrigin": 5, "quantity": 24}
    r = api("web-order-item.add", florist_token, add)
    assert r.status_code == 200, r.json_body
    r = api("web-order.checkout", florist_token, {"webOrderId": r.json_body["webOrderId"]})
    assert r.status_code == 200, r.json_body
    assert r.json_body["prebookId"] is None
    invoice = Invoice.objects.get(pk=r.json_body["invoiceId"])
    assert invoice.amount == Decimal("108.00")
    assert invoice.transaction_fee == (Decimal("108.00") * invoice.fee_rate).quantize(
        Decimal("0.01")
    )


def test_a_canceled_web_order_gives_its_hard_goods_back(api, stocked, supplies, florist_token):
    vase = supplies.product()
    supplies.stock(vase, 30)
    add = {"inventoryIds": [vase.pk], "inventoryOrigin": 5, "quantity": 12}
    r = api("web-order-item.add", florist_token, add)
    order_id = r.json_body["webOrderId"]
    assert _available(vase) == 18
    r = api("web-order.delete", florist_token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    assert _available(vase) == 30
    r = api("web-order.checkout", florist_token, {"webOrderId": order_id})
    assert r.status_code == 409


def test_an_expired_hold_gives_its_hard_goods_back(api, stocked, supplies, florist_token):
    from datetime import timedelta

    from django.utils import timezone

    from stemline.sales import services
    from stemline.sales.models import WebOrder

    vase = supplies.product()
    supplies.stock(vase, 30)
    add = {"inventoryIds": [vase.pk], "inventoryOrigin": 5, "quantity": 12}
    order_id = api("web-order-item.add", florist_token, add).json_body["webOrderId"]
    assert _available(vase) == 18
    assert services.expire_holds(now=timezone.now() + timedelta(days=2)) == 1
    assert WebOrder.objects.get(pk=order_id).status == WebOrder.Status.EXPIRED
    assert _available(vase) == 30


def test_web_order_item_delete_takes_a_hard_goods_line_off_and_gives_its_units_back(
    api, stocked, supplies, florist_token
):
    vase, line, order_id, box_item, vase_item = _order_with_a_vase_line(
        api, stocked, supplies, florist_token
    )
    assert _available(vase) == 20
    gone = {"webOrderId": order_id, "webOrderItemId": vase_item, "inventoryOrigin": 5}
    r = api("web-order-item.delete", florist_token, gone)
    assert r.status_code == 200, r.json_body
    assert _available(vase) == 30
    r = api("web-order-item.delete", florist_token, gone)
    assert r.status_code == 404
    assert r.json_body["errors"][0]["field"] == "webOrderItemId"
    r = api("web-order-details.list", florist_token, {"webOrderId": order_id}, verb="GET")
    (order,) = r.json_body["webOrders"]
    assert order["hardGoodItems"] == []
    assert [i["webOrderItemId"] for i in order["items"]] == [box_item]  # the boxes stay
    r = api(
        "web-order-item.delete",
        florist_token,
        {"webOrderId": order_id, "webOrderItemId": box_item, "inventoryOrigin": 7},
    )
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "inventoryOrigin"


def test_a_hard_goods_line_is_found_by_its_id_without_an_origin(
    api, stocked, supplies, florist_token
):
    from stemline.hardgoods.models import HardGoodSale
    from stemline.sales.models import WebOrderItem

    vase, line, order_id, box_item, vase_item = _order_with_a_vase_line(
        api, stocked, supplies, florist_token
    )
    # The boxes' line numbered apart from the vases' (the two sequences may meet: next test).
    WebOrderItem.objects.filter(pk=box_item).update(id=vase_item + 5000)
    r = api(
        "web-order-item.delete",
        florist_token,
        {"webOrderId": order_id, "webOrderItemId": vase_item},
    )
    assert r.status_code == 200, r.json_body
    assert HardGoodSale.objects.get(pk=vase_item).released_at is not None
    assert _available(vase) == 30
    assert WebOrderItem.objects.filter(pk=vase_item + 5000).exists()


def test_web_order_item_delete_refuses_when_the_id_names_a_box_line_and_a_hard_goods_line(
    api, stocked, supplies, florist_token
):
    vase, line, order_id, box_item, vase_item = _order_with_a_vase_line(
        api, stocked, supplies, florist_token
    )
    # Make the two numbers meet, as two sequences may.
    from stemline.sales.models import WebOrderItem

    WebOrderItem.objects.filter(pk=box_item).update(id=vase_item)
    both = {"webOrderId": order_id, "webOrderItemId": vase_item}
    r = api("web-order-item.delete", florist_token, both)
    assert r.status_code == 422, r.json_body
    assert r.json_body["errors"][0]["field"] == "inventoryOrigin"
    assert _available(vase) == 20  # nothing given back
    r = api("web-order-item.delete", florist_token, {**both, "inventoryOrigin": 1})
    assert r.status_code == 200, r.json_body
    assert _available(vase) == 20  # the boxes went, the vases stay held
    r = api("web-order-item.delete", florist_token, {**both, "inventoryOrigin": 5})
    assert r.status_code == 200, r.json_body
    assert _available(vase) == 30


def test_invoice_details_list_shows_the_hard_goods_sold_on_each_invoice(
    api, stocked, supplies, florist_token, company_token
):
    vase, line, order_id, box_item, vase_item = _order_with_a_vase_line(
        api, stocked, supplies, florist_token, vases=12
    )
    r = api("web-order.checkout", florist_token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    invoice = Invoice.objects.get(pk=r.json_body["invoiceId"])

    def invoices_of_the_day() -> list[dict]:
        day = {"orderDate": str(invoice.ship_date)}
        r = api("invoice.details.list", company_token, day, verb="GET")
        assert r.status_code == 200, r.json_body
        return r.json_body["invoices"]

    (found,) = invoices_of_the_day()
    (vases,) = found["hardGoodItems"]
    assert (vases["productId"], vases["sku"], vases["quantity"]) == (vase.pk, "VAS-01", 12)
    assert (vases["unitPrice"], vases["amount"]) == (4.5, 54.0)
    assert [d["inventoryId"] for d in found["details"]] == [line.pk]
    # An invoice without hard goods lists none.
    _invoice(stocked)
    assert sorted(len(i["hardGoodItems"]) for i in invoices_of_the_day()) == [0, 1]


def test_hard_goods_count_against_the_credit_limit_at_checkout(
    api, stocked, supplies, florist_token
):
    from stemline.parties.models import Customer

    # 2 boxes x 250 stems x 0.50 = 250.00 of boxes, 20 vases x 4.50 = 90.00 more.
    Customer.objects.filter(pk=stocked.florist.pk).update(credit_limit=Decimal("300.00"))
    vase, line, order_id, box_item, vase_item = _order_with_a_vase_line(
        api, stocked, supplies, florist_token, vases=20
    )
    r = api("web-order.checkout", florist_token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    invoice = Invoice.objects.get(pk=r.json_body["invoiceId"])
    assert invoice.amount == Decimal("340.00")
    assert invoice.status == DocumentStatus.PENDING_APPROVAL
    assert "Over credit limit: balance with this order 340.00" in invoice.hold_reason
