"""Checkout and confirmation over the API: the marketplace flow end to end with a Customer
token, invoices and prebooks with the transaction fee, cancel after checkout, invoice.confirm,
and Idempotency-Key retries."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from stemline.core.models import Company, Location, Role
from stemline.core.services import create_user
from stemline.inventory import services as stock
from stemline.parties.models import Carrier, ShipTo
from stemline.sales.models import DocumentStatus, Invoice, Prebook, WebOrder, WebOrderItem
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def _unthrottled(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def market_token(stocked, make_token):
    """The marketplace customer's own token (price level B)."""
    return _unthrottled(make_token(stocked.company, "customer", customer_id=stocked.market.pk))


@pytest.fixture
def company_token(stocked, make_token):
    return _unthrottled(make_token(stocked.company))


def _user_token(make_token, company, role, email):
    user = create_user(company=company, email=email, role=role)
    return _unthrottled(make_token(company, "user", user=user))


def _held(line) -> tuple[int, int, int]:
    line.refresh_from_db()
    return line.held, line.committed, line.available


def _num(value) -> Decimal:
    return Decimal(str(value))


def _add(api, token, line, boxes, origin=1, **extra):
    r = api(
        "web-order-item.add",
        token,
        {"inventoryIds": [line.pk], "inventoryOrigin": origin, "quantity": boxes, **extra},
    )
    assert r.status_code == 200, r.json_body
    return r.json_body


def _checked_out(api, token, stocked, **extra):
    """A web order of 2 on-hand and 1 future box, checked out; answers (checkout, lines)."""
    today, later = stocked.add(5), stocked.add(5, future_days=3)
    order_id = _add(api, token, today, 2)["webOrderId"]
    _add(api, token, later, 1, origin=2)
    r = api("web-order.checkout", token, {"webOrderId": order_id, **extra})
    assert r.status_code == 200, r.json_body
    return r.json_body, today, later


def test_documents_whose_lines_name_no_ship_to_take_the_customers_first(api, stocked, market_token):
    ShipTo.objects.create(company=stocked.company, customer=stocked.market, name="Zeta Dock")
    alpha = ShipTo.objects.create(company=stocked.company, customer=stocked.market, name="Alpha")
    ShipTo.objects.create(
        company=stocked.company, customer=stocked.market, name="Aaa Gone", removed_at=timezone.now()
    )
    ShipTo.objects.create(company=stocked.company, customer=stocked.florist, name="A Florist")
    done, _, _ = _checked_out(api, market_token, stocked)
    invoice = Invoice.objects.get(pk=done["invoiceId"])
    prebook = Prebook.objects.get(pk=done["prebookId"])
    # The first by name of the customer's own that is not removed.
    assert (invoice.ship_to, prebook.ship_to) == (alpha, alpha)
    # Lines that name a ship-to keep theirs.
    zeta = ShipTo.objects.get(name="Zeta Dock")
    line = stocked.add(3)
    order_id = _add(api, market_token, line, 1, shipToId=zeta.pk)["webOrderId"]
    r = api("web-order.checkout", market_token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    assert Invoice.objects.get(pk=r.json_body["invoiceId"]).ship_to == zeta
    # A customer without ship-tos gets documents without one.
    ShipTo.objects.filter(customer=stocked.market).update(removed_at=timezone.now())
    done, _, _ = _checked_out(api, market_token, stocked)
    assert Invoice.objects.get(pk=done["invoiceId"]).ship_to is None


# ---------------------------------------------------------------- the whole flow


def test_marketplace_flow_from_cart_to_confirmed_invoice(api, stocked, market_token, make_token):
    carrier = Carrier.objects.create(company=stocked.company, name="Armellini", code="ARM")
    dock = ShipTo.objects.create(company=stocked.company, customer=stocked.market, name="DWF Dock")
    roses = stocked.add(10, price_a="0.480", price_b="0.437")
    more_roses = stocked.add(6, price_a="0.480", price_b="0.441")
    coming = stocked.add(8, future_days=5, price_a="0.560", price_b="0.523")
    # The prices the marketplace sees in the lists are its own (level B).
    prices = {
        line.pk: stock.customer_price(line, stocked.market) for line in (roses, more_roses, coming)
    }
    assert prices == {
        roses.pk: Decimal("0.437"),
        more_roses.pk: Decimal("0.441"),
        coming.pk: Decimal("0.523"),
    }
    header = {"carrierId": carrier.pk, "shipToId": dock.pk, "markCode": "DWF-7"}

    created = api("web-order.create", market_token, {"customerId": stocked.market.pk})
    order_id = created.json_body["webOrderId"]
    _add(api, market_token, roses, 3, price=str(prices[roses.pk]), webOrderId=order_id, **header)
    _add(api, market_token, more_roses, 4, webOrderId=order_id, **header)
    _add(api, market_token, coming, 2, origin=2, price=str(prices[coming.pk]), **header)
    assert _held(roses) == (3, 0, 7) and _held(coming) == (2, 0, 6)

    cart = api("web-order-details.list", market_token, {"webOrderId": order_id}, verb="GET")
    [order] = cart.json_body["webOrders"]
    assert [i["inventoryId"] for i in order["items"]] == [roses.pk, more_roses.pk, coming.pk]

    r = api("web-order.checkout", market_token, {"webOrderId": order_id, "customerPo": "PO-88"})
    assert r.status_code == 200, r.json_body
    done = r.json_body
    assert done["message"] == "The Web Order was successfully checked out."

    # On-hand lines: 3 x 250 x 0.437 + 4 x 250 x 0.441 = 327.75 + 441.00 = 768.75
    on_hand = 3 * 250 * prices[roses.pk] + 4 * 250 * prices[more_roses.pk]
    future = 2 * 250 * prices[coming.pk]  # 261.50
    rate = Decimal("0.015")
    invoice_fee = (on_hand * rate).quantize(CENT, ROUND_HALF_UP)
    prebook_fee = (future * rate).quantize(CENT, ROUND_HALF_UP)
    assert (on_hand, invoice_fee) == (Decimal("768.75"), Decimal("11.53"))
    assert (future, prebook_fee) == (Decimal("261.50"), Decimal("3.92"))
    assert _num(done["transactionFee"]) == Decimal("15.45") == invoice_fee + prebook_fee

    invoice = Invoice.objects.get(pk=done["invoiceId"])
    prebook = Prebook.objects.get(pk=done["prebookId"])
    assert (invoice.number, prebook.number) == (done["invoiceNumber"], done["prebookNumber"])
    assert (invoice.amount, invoice.transaction_fee, invoice.fee_rate) == (
        on_hand,
        invoice_fee,
        rate,
    )
    assert (prebook.amount, prebook.transaction_fee) == (future, prebook_fee)
    for document in (invoice, prebook):
        assert document.status == DocumentStatus.PENDING_APPROVAL
        assert document.customer == stocked.market
        assert (document.carrier, document.ship_to, document.customer_po) == (
            carrier,
            dock,
            "PO-88",
        )
    lines = [(i.line_id, i.boxes, i.price, i.mark_code) for i in invoice.items.order_by("id")]
    assert lines == [
        (roses.pk, 3, Decimal("0.437"), "DWF-7"),
        (more_roses.pk, 4, Decimal("0.441"), "DWF-7"),
    ]
    assert [(i.line_id, i.boxes) for i in prebook.items.all()] == [(coming.pk, 2)]
    assert _held(roses) == (0, 3, 7) and _held(coming) == (0, 2, 6)

    # The cart list shows pending orders only; statusId 2 shows the checked-out one, naming
    # its documents.
    r = api("web-order-details.list", market_token, {"webOrderId": order_id}, verb="GET")
    assert r.status_code == 200 and r.json_body["webOrders"] == []
    r = api(
        "web-order-details.list",
        market_token,
        {"webOrderId": order_id, "statusId": 2},
        verb="GET",
    )
    [order] = r.json_body["webOrders"]
    assert (order["statusId"], order["customerPo"]) == (2, "PO-88")
    assert (order["invoiceId"], order["prebookId"]) == (invoice.pk, prebook.pk)
    assert _num(order["transactionFee"]) == Decimal("15.45")
    assert _num(order["subtotal"]) == Decimal("1030.25")

    # The company confirms; the marketplace can no longer cancel.
    r = api("invoice.confirm", _unthrottled(make_token(stocked.company)), {"invoiceId": invoice.pk})
    assert r.status_code == 200, r.json_body
    assert r.json_body["message"] == "The invoice was successfully confirmed."
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CONFIRMED and invoice.confirmed_at is not None
    r = api("web-order.delete", market_token, {"webOrderId": order_id})
    assert r.status_code == 409
    assert _held(roses) == (0, 3, 7)
    assert invoice.items.count() == 2


# ---------------------------------------------------------------- checkout


def test_auto_confirming_company_confirms_at_checkout(api, stocked, market_token):
    Company.objects.filter(pk=stocked.company.pk).update(auto_confirm=True)
    done, today, later = _checked_out(api, market_token, stocked)
    invoice = Invoice.objects.get(pk=done["invoiceId"])
    prebook = Prebook.objects.get(pk=done["prebookId"])
    assert invoice.status == prebook.status == DocumentStatus.CONFIRMED
    assert invoice.confirmed_at is not None
    r = api("web-order.delete", market_token, {"webOrderId": done["webOrderId"]})
    assert r.status_code == 409
    assert _held(today) == (0, 2, 3)


def test_on_hand_only_order_makes_no_prebook(api, stocked, market_token):
    line = stocked.add(5)
    order_id = _add(api, market_token, line, 1)["webOrderId"]
    r = api("web-order.checkout", market_token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    assert r.json_body["prebookId"] is None and r.json_body["prebookNumber"] is None
    assert r.json_body["invoiceId"] is not None
    # 1 x 250 x 0.450 = 112.50; fee 1.6875 -> 1.69
    assert _num(r.json_body["transactionFee"]) == Decimal("1.69")


def test_the_company_fee_rate_applies(api, stocked, market_token):
    Company.objects.filter(pk=stocked.company.pk).update(transaction_fee_rate=Decimal("0.0200"))
    done, _, _ = _checked_out(api, market_token, stocked)
    # 2 x 250 x 0.450 = 225.00 -> 4.50; 1 x 250 x 0.450 = 112.50 -> 2.25
    assert _num(done["transactionFee"]) == Decimal("6.75")


def test_cancelling_a_checked_out_order_voids_its_documents_and_returns_the_boxes(
    api, stocked, market_token
):
    done, today, later = _checked_out(api, market_token, stocked)
    assert _held(today) == (0, 2, 3) and _held(later) == (0, 1, 4)
    r = api("web-order.delete", market_token, {"webOrderId": done["webOrderId"]})
    assert r.status_code == 200, r.json_body
    assert Invoice.objects.get(pk=done["invoiceId"]).status == DocumentStatus.VOIDED
    assert Prebook.objects.get(pk=done["prebookId"]).status == DocumentStatus.VOIDED
    assert _held(today) == (0, 0, 5) and _held(later) == (0, 0, 5)
    assert WebOrder.objects.get(pk=done["webOrderId"]).status == WebOrder.Status.CANCELED


def _other_customers_order(api, stocked, make_token) -> int:
    theirs = _unthrottled(make_token(stocked.company, "customer", customer_id=stocked.florist.pk))
    return api("web-order.create", theirs, {}).json_body["webOrderId"]


def test_checkout_refusals(api, stocked, market_token, other_company, make_token):
    empty = api("web-order.create", market_token, {}).json_body["webOrderId"]
    r = api("web-order.checkout", market_token, {"webOrderId": empty})
    assert r.status_code == 409
    assert r.json_body["errors"][0]["field"] == "webOrderId"
    # A refused checkout leaves the order pending, as it was.
    order = WebOrder.objects.get(pk=empty)
    assert (order.status, order.checked_out_at) == (WebOrder.Status.PENDING, None)
    for unknown in (empty + 999, _other_customers_order(api, stocked, make_token)):
        r = api("web-order.checkout", market_token, {"webOrderId": unknown})
        assert r.status_code == 404, r.json_body
        assert r.json_body["errors"][0]["field"] == "webOrderId"
    line = stocked.add(5)
    order_id = _add(api, market_token, line, 2, webOrderId=empty)["webOrderId"]
    elsewhere = Location.objects.filter(company=other_company).first()
    r = api(
        "web-order.checkout",
        market_token,
        {"webOrderId": order_id, "companyLocationId": elsewhere.pk},
    )
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "companyLocationId"
    assert _held(line) == (2, 0, 3)
    r = api("web-order.checkout", market_token, {"webOrderId": order_id, "customerPo": "x" * 51})
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "customerPo"
    r = api(
        "web-order.checkout",
        market_token,
        {"webOrderId": order_id, "companyLocationId": stocked.location.pk},
    )
    assert r.status_code == 200, r.json_body
    order.refresh_from_db()
    assert order.status == WebOrder.Status.CHECKED_OUT and order.checked_out_at is not None
    r = api("web-order.checkout", market_token, {"webOrderId": order_id})
    assert r.status_code == 409  # already checked out
    assert "Checked out" in r.json_body["message"]
    assert Invoice.objects.count() == 1
    assert _held(line) == (0, 2, 3)


def test_a_sales_rep_checks_out_for_a_customer(api, stocked, make_token):
    rep = _user_token(make_token, stocked.company, Role.SALES, "rep@example.com")
    line = stocked.add(5)
    who = {"customerId": stocked.florist.pk}
    order_id = _add(api, rep, line, 2, **who)["webOrderId"]
    r = api("web-order.checkout", rep, {"webOrderId": order_id, **who})
    assert r.status_code == 200, r.json_body
    invoice = Invoice.objects.get(pk=r.json_body["invoiceId"])
    assert invoice.customer == stocked.florist
    assert invoice.amount == Decimal("250.00")  # price level A: 2 x 250 x 0.500


# ---------------------------------------------------------------- invoice.confirm


def test_confirm_refuses_confirmed_and_voided_invoices_with_their_status(
    api, stocked, market_token, company_token
):
    done, _, _ = _checked_out(api, market_token, stocked)
    invoice_id = done["invoiceId"]
    assert api("invoice.confirm", company_token, {"invoiceId": invoice_id}).status_code == 200
    r = api("invoice.confirm", company_token, {"invoiceId": invoice_id})
    assert r.status_code == 409
    assert "is Confirmed" in r.json_body["message"]

    voided, _, _ = _checked_out(api, market_token, stocked)
    api("web-order.delete", market_token, {"webOrderId": voided["webOrderId"]})
    r = api("invoice.confirm", company_token, {"invoiceId": voided["invoiceId"]})
    assert r.status_code == 409
    assert "is Voided" in r.json_body["message"]
    assert Invoice.objects.get(pk=voided["invoiceId"]).status == DocumentStatus.VOIDED


def test_confirm_by_invoice_number_with_its_prefix(api, stocked, market_token, company_token):
    done, _, _ = _checked_out(api, market_token, stocked)
    number = f"W{done['invoiceNumber']:06d}"
    r = api("invoice.confirm", company_token, {"invoiceNumber": number})
    assert r.status_code == 200, r.json_body
    assert r.json_body["invoiceId"] == done["invoiceId"]
    assert Invoice.objects.get(pk=done["invoiceId"]).status == DocumentStatus.CONFIRMED
    for params, status, field in [
        ({}, 422, "invoiceId"),
        ({"invoiceNumber": "12-A"}, 422, "invoiceNumber"),
        ({"invoiceNumber": "999999"}, 404, "invoiceNumber"),
        ({"invoiceId": done["invoiceId"] + 999}, 404, "invoiceId"),
    ]:
        r = api("invoice.confirm", company_token, params)
        assert r.status_code == status, (params, r.json_body)
        assert r.json_body["errors"][0]["field"] == field


def test_confirm_by_users_follows_the_role(api, stocked, market_token, make_token):
    done, _, _ = _checked_out(api, market_token, stocked)
    setup = _user_token(make_token, stocked.company, Role.SETUP, "setup@example.com")
    r = api("invoice.confirm", setup, {"invoiceId": done["invoiceId"]})
    assert r.status_code == 403
    r = api("invoice.confirm", market_token, {"invoiceId": done["invoiceId"]})
    assert r.status_code == 403  # a customer does not confirm its own order
    sales = _user_token(make_token, stocked.company, Role.SALES, "sales@example.com")
    r = api("invoice.confirm", sales, {"invoiceId": done["invoiceId"]})
    assert r.status_code == 200, r.json_body
    invoice = Invoice.objects.get(pk=done["invoiceId"])
    assert invoice.status == DocumentStatus.CONFIRMED
    assert invoice.confirmed_by == sales.token.user


def test_another_company_cannot_confirm(api, stocked, market_token, other_company, make_token):
    done, _, _ = _checked_out(api, market_token, stocked)
    theirs = _unthrottled(make_token(other_company))
    r = api("invoice.confirm", theirs, {"invoiceId": done["invoiceId"]})
    assert r.status_code == 404
    r = api("invoice.confirm", theirs, {"invoiceNumber": str(done["invoiceNumber"])})
    assert r.status_code == 404
    assert Invoice.objects.get(pk=done["invoiceId"]).status == DocumentStatus.PENDING_APPROVAL


# ---------------------------------------------------------------- Idempotency-Key


def test_a_retried_item_add_holds_once(api, stocked, market_token):
    line = stocked.add(5)
    params = {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 2}
    key = {"Idempotency-Key": "add-1"}
    first = api("web-order-item.add", market_token, params, headers=key)
    second = api("web-order-item.add", market_token, params, headers=key)
    assert first.status_code == second.status_code == 200
    assert second.json_body == first.json_body
    assert second["Idempotent-Replayed"] == "true"
    assert _held(line) == (2, 0, 3)
    assert WebOrderItem.objects.count() == 1
    other = api("web-order-item.add", market_token, {**params, "quantity": 3}, headers=key)
    assert other.status_code == 409
    assert other.json_body["errors"][0]["field"] == "Idempotency-Key"
    assert _held(line) == (2, 0, 3)


def test_a_refused_item_add_is_replayed_as_refused(api, stocked, market_token):
    line = stocked.add(1)
    params = {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 2}
    key = {"Idempotency-Key": "add-short"}
    first = api("web-order-item.add", market_token, params, headers=key)
    assert first.status_code == 409
    second = api("web-order-item.add", market_token, params, headers=key)
    assert second.status_code == 409 and second.json_body == first.json_body
    assert _held(line) == (0, 0, 1) and not WebOrder.objects.exists()


def test_a_retried_checkout_takes_effect_once(api, stocked, market_token):
    line = stocked.add(5)
    order_id = _add(api, market_token, line, 2)["webOrderId"]
    key = {"Idempotency-Key": "checkout-1"}
    params = {"webOrderId": order_id, "customerPo": "PO-1"}
    first = api("web-order.checkout", market_token, params, headers=key)
    second = api("web-order.checkout", market_token, params, headers=key)
    assert first.status_code == second.status_code == 200, second.json_body
    assert second.json_body == first.json_body
    assert Invoice.objects.count() == 1
    assert Invoice.objects.get().customer_po == "PO-1"
    assert WebOrder.objects.get(pk=order_id).customer_po == "PO-1"
    assert _held(line) == (0, 2, 3)
    # Without the key a second checkout is refused: the order is no longer pending.
    assert api("web-order.checkout", market_token, params).status_code == 409
