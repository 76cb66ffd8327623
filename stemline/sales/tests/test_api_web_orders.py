"""The cart over the API: web-order.create, web-order-item.add (by line and, with Transactional
API Access, by product spec), web-order-item.delete, web-order.delete, web-order-details.list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from stemline.core.models import Location, Role
from stemline.core.services import create_user
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine
from stemline.parties.models import Carrier, Customer, ShipTo
from stemline.sales.models import WebOrder, WebOrderItem
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def _unthrottled(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def market_token(stocked, make_token):
    """The marketplace customer's own token (price level B)."""
    return _unthrottled(make_token(stocked.company, "customer", customer_id=stocked.market.pk))


@pytest.fixture
def florist_token(stocked, make_token):
    return _unthrottled(make_token(stocked.company, "customer", customer_id=stocked.florist.pk))


@pytest.fixture
def rep_token(stocked, make_token):
    rep = create_user(company=stocked.company, email="rep@example.com", role=Role.SALES)
    return _unthrottled(make_token(stocked.company, "user", user=rep))


def _held(line) -> tuple[int, int]:
    line.refresh_from_db()
    return line.held, line.available


def _add(api, token, line, boxes, origin=1, **extra):
    return api(
        "web-order-item.add",
        token,
        {"inventoryIds": [line.pk], "inventoryOrigin": origin, "quantity": boxes, **extra},
    )


# ---------------------------------------------------------------- web-order.create


def test_customer_token_creates_an_empty_web_order_for_its_customer(api, stocked, market_token):
    r = api("web-order.create", market_token, {"companyId": stocked.company.account_id})
    assert r.status_code == 200, r.json_body
    assert r.json_body["status"] == 1
    assert r.json_body["message"] == "Web order was successfully created."
    order = WebOrder.objects.get(pk=r.json_body["webOrderId"])
    assert order.customer == stocked.market
    assert order.location == stocked.location
    assert order.status == WebOrder.Status.PENDING
    assert not order.items.exists()


def test_user_token_creates_for_the_customer_it_names(api, stocked, rep_token):
    r = api("web-order.create", rep_token, {"customerId": stocked.florist.pk})
    assert r.status_code == 200, r.json_body
    assert WebOrder.objects.get(pk=r.json_body["webOrderId"]).customer == stocked.florist
    r = api("web-order.create", rep_token, {})
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "customerId"


def test_web_order_create_refusals(api, stocked, market_token, other_company):
    r = api("web-order.create", market_token, {"customerId": stocked.florist.pk})
    assert r.status_code == 404  # a Customer token acts only for its own customer
    r = api("web-order.create", market_token, {"companyId": other_company.account_id})
    assert r.status_code == 403
    assert r.json_body["errors"][0]["field"] == "companyId"
    other_location = Location.objects.filter(company=other_company).first()
    r = api("web-order.create", market_token, {"companyLocationId": other_location.pk})
    assert r.status_code == 404
    assert r.json_body["errors"][0]["field"] == "companyLocationId"
    r = api("web-order.create", market_token.secret, {}, headers={})  # no X-ACCOUNT
    assert r.status_code == 400
    assert r.json_body["errors"][0]["field"] == "X-ACCOUNT"
    assert not WebOrder.objects.exists()


# ---------------------------------------------------------------- web-order-item.add


def test_adding_lines_holds_their_boxes_at_once(api, stocked, market_token):
    a, b = stocked.add(10), stocked.add(4)
    carrier = Carrier.objects.create(company=stocked.company, name="Armellini", code="ARM")
    ship_to = ShipTo.objects.create(company=stocked.company, customer=stocked.market, name="Dock")
    r = api(
        "web-order-item.add",
        market_token,
        {
            "inventoryIds": f"{a.pk}, {b.pk}",  # Komet's comma string
            "inventoryOrigin": "1",
            "quantity": "3",
            "price": str(stock.customer_price(a, stocked.market)),
            "carrierId": carrier.pk,
            "shipToId": ship_to.pk,
            "date": "2030-02-14",
            "markCode": "VDAY",
        },
    )
    assert r.status_code == 200, r.json_body
    body = r.json_body
    assert len(body["webOrderItemIds"]) == 2
    assert body["webOrderItemId"] == body["webOrderItemIds"][0]
    assert _held(a) == (3, 7)
    assert _held(b) == (3, 1)
    items = WebOrderItem.objects.filter(web_order_id=body["webOrderId"]).order_by("id")
    assert [(i.line_id, i.quantity) for i in items] == [(a.pk, 3), (b.pk, 3)]
    assert {i.price for i in items} == {Decimal("0.450")}  # the customer's price level B
    assert {(i.carrier_id, i.ship_to_id, i.mark_code) for i in items} == {
        (carrier.pk, ship_to.pk, "VDAY")
    }
    # Without webOrderId the next line goes into the same pending order.
    again = _add(api, market_token, a, 1)
    assert again.json_body["webOrderId"] == body["webOrderId"]
    assert _held(a) == (4, 6)


def test_adding_to_a_pending_order_moves_its_hold_deadline_on(api, stocked, market_token, settings):
    line = stocked.add(10)
    before = timezone.now()
    order_id = _add(api, market_token, line, 1).json_body["webOrderId"]
    order = WebOrder.objects.get(pk=order_id)
    hold = timedelta(minutes=settings.WEB_ORDER_HOLD_MINUTES)
    assert (order.status, order.location, order.token_id) == (
        WebOrder.Status.PENDING,
        stocked.location,
        market_token.token.pk,
    )
    assert before + hold <= order.hold_expires_at <= timezone.now() + hold
    assert before <= order.created_at <= timezone.now()
    WebOrder.objects.filter(pk=order_id).update(
        hold_expires_at=timezone.now() + timedelta(minutes=1)
    )
    before = timezone.now()
    assert _add(api, market_token, line, 2).json_body["webOrderId"] == order_id
    order.refresh_from_db()
    assert before + hold <= order.hold_expires_at <= timezone.now() + hold
    # A refused add leaves the deadline as it was (one transaction).
    WebOrder.objects.filter(pk=order_id).update(hold_expires_at=before)
    assert _add(api, market_token, line, 99).status_code == 409
    order.refresh_from_db()
    assert order.hold_expires_at == before
    assert _held(line) == (3, 7)


def test_an_unknown_or_inactive_location_is_refused_by_name(api, stocked, market_token):
    line = stocked.add(5)
    closed = Location.objects.create(
        company=stocked.company, name="Closed", code="CLS", active=False
    )
    for location_id in (closed.pk, closed.pk + 999):
        r = _add(api, market_token, line, 1, companyLocationId=location_id)
        assert r.status_code == 404, r.json_body
        assert r.json_body["errors"][0]["field"] == "companyLocationId"
    Customer.objects.filter(pk=stocked.market.pk).update(active=False)
    r = _add(api, market_token, line, 1)
    assert r.status_code == 401, r.json_body  # its token closes with it
    assert _held(line) == (0, 5)
    assert not WebOrder.objects.filter(customer=stocked.market).exists()


def test_more_than_available_is_409_with_the_shortages_and_nothing_written(
    api, stocked, market_token
):
    a, b = stocked.add(5), stocked.add(2)
    r = api(
        "web-order-item.add",
        market_token,
        {"inventoryIds": [a.pk, b.pk], "inventoryOrigin": 1, "quantity": 3},
    )
    assert r.status_code == 409
    assert r.json_body["status"] == 0
    assert r.json_body["shortages"] == [{"inventoryId": b.pk, "requested": 3, "available": 2}]
    assert _held(a) == (0, 5) and _held(b) == (0, 2)
    assert not WebOrder.objects.exists() and not WebOrderItem.objects.exists()


def test_a_price_other_than_the_customers_is_409_naming_price(api, stocked, market_token):
    line = stocked.add(5, price_a="0.500", price_b="0.450")
    r = _add(api, market_token, line, 1, price="0.50")  # price A, but this customer pays B
    assert r.status_code == 409
    assert r.json_body["errors"][0]["field"] == "price"
    assert _held(line) == (0, 5)


def test_origins_not_offered_and_wrong_origins_are_refused(api, stocked, market_token):
    today, later = stocked.add(5), stocked.add(5, future_days=3)
    for origin in (4, 0):
        r = _add(api, market_token, today, 1, origin=origin)
        assert r.status_code == 422, origin
        assert r.json_body["errors"][0]["field"] == "inventoryOrigin"
        assert "1 (on hand), 2 (future) and 3 (vendor availability)" in r.json_body["message"]
    r = _add(api, market_token, today, 1, origin=3)  # boxes on hand are no grower's offer
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "inventoryOrigin"
    r = _add(api, market_token, later, 1, origin=1)  # future boxes are not on hand
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "inventoryOrigin"
    r = _add(api, market_token, later, 1, origin=2)
    assert r.status_code == 200, r.json_body
    assert _held(today) == (0, 5) and _held(later) == (1, 4)


def test_item_add_input_refusals(api, stocked, market_token, other_company):
    line = stocked.add(5)
    cases = [
        ({"inventoryOrigin": 1, "quantity": 1}, 422, "inventoryIds"),
        ({"inventoryIds": [line.pk], "quantity": 1}, 422, "inventoryOrigin"),
        ({"inventoryIds": [line.pk], "inventoryOrigin": 1}, 422, "quantity"),
        ({"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 0}, 422, "quantity"),
        ({"inventoryIds": "1,x", "inventoryOrigin": 1, "quantity": 1}, 422, "inventoryIds[1]"),
        ({"inventoryIds": None, "inventoryOrigin": 1, "quantity": 1}, 422, "inventoryIds"),
        ({"inventoryIds": "", "inventoryOrigin": 1, "quantity": 1}, 422, "inventoryIds"),
        ({"inventoryIds": ",", "inventoryOrigin": 1, "quantity": 1}, 422, "inventoryIds"),
        ({"inventoryIds": [], "inventoryOrigin": 1, "quantity": 1}, 422, "inventoryIds"),
        ({"inventoryIds": [line.pk + 999], "inventoryOrigin": 1, "quantity": 1}, 404, None),
        (
            {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 1, "price": "abc"},
            422,
            "price",
        ),
        (
            {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 1, "webOrderId": 999},
            404,
            "webOrderId",
        ),
    ]
    for params, status, field in cases:
        r = api("web-order-item.add", market_token, params)
        assert r.status_code == status, (params, r.json_body)
        assert r.json_body["status"] == 0
        if field:
            assert r.json_body["errors"][0]["field"] == field, r.json_body
    assert _held(line) == (0, 5)


def test_a_line_reserved_for_another_customer_cannot_be_bought(api, stocked, market_token):
    theirs = stocked.add(5, reserved_for=stocked.florist)
    r = _add(api, market_token, theirs, 1)
    assert r.status_code == 404
    assert _held(theirs) == (0, 5)


def test_customer_token_cannot_add_for_another_customer(api, stocked, market_token):
    line = stocked.add(5)
    r = _add(api, market_token, line, 1, customerId=stocked.florist.pk)
    assert r.status_code == 404
    assert r.json_body["errors"][0]["field"] == "customerId"
    assert _held(line) == (0, 5)


# ---------------------------------------------------------------- by product spec (TAA)


@pytest.fixture
def taa_token(stocked, market_token):
    ApiToken.objects.filter(pk=market_token.token.pk).update(transactional=True)
    return market_token


def _by_spec(api, token, quantity, **extra):
    return api(
        "web-order-item.add",
        token,
        {"productCode": "rfr50", "boxTypeCode": "hb", "quantity": quantity, **extra},
    )


def test_product_spec_needs_transactional_api_access(api, stocked, market_token):
    stocked.add(5)
    r = _by_spec(api, market_token, 1)
    assert r.status_code == 403
    assert r.json_body["errors"][0]["field"] == "productCode"
    assert not WebOrderItem.objects.exists()


def test_product_spec_fills_the_quantity_from_the_oldest_lines(api, stocked, taa_token):
    # Older than the others but not for sale here: future boxes are not on hand, a reserved
    # line is bought only with reservedInventory, a line without a price is not sold.
    stocked.add(9, future_days=5)
    stocked.add(9, reserved_for=stocked.market)
    unpriced = stocked.add(9)
    InventoryLine.objects.filter(pk=unpriced.pk).update(price_a=None, price_b=None)
    first, second, third = stocked.add(2), stocked.add(3), stocked.add(4)
    r = _by_spec(api, taa_token, 4)
    assert r.status_code == 200, r.json_body
    items = WebOrderItem.objects.filter(pk__in=r.json_body["webOrderItemIds"]).order_by("id")
    assert [(i.line_id, i.quantity) for i in items] == [(first.pk, 2), (second.pk, 2)]
    assert r.json_body["webOrderItemId"] == items[0].pk
    assert _held(first) == (2, 0) and _held(second) == (2, 1) and _held(third) == (0, 4)


def test_product_spec_by_id_origin_and_pack(api, stocked, taa_token):
    bunches = stocked.add(3, future_days=4)
    InventoryLine.objects.filter(pk=bunches.pk).update(unit_type="Bunch")  # 10 bunches a box
    stems = stocked.add(3, future_days=4)  # 250 stems a box
    r = api(
        "web-order-item.add",
        taa_token,
        {
            "companyProductId": stocked.product.pk,
            "boxTypeCode": "HB",
            "inventoryOrigin": 2,
            "unitType": "Stem",
            "unitsPerBox": 250,
            "quantity": 2,
        },
    )
    assert r.status_code == 200, r.json_body
    assert _held(stems) == (2, 1) and _held(bunches) == (0, 3)
    reserved = stocked.add(2, reserved_for=stocked.market)
    r = _by_spec(api, taa_token, 2, reservedInventory=True)
    assert r.status_code == 200, r.json_body
    assert _held(reserved) == (2, 0)


def test_product_spec_short_of_boxes_is_409_and_holds_nothing(api, stocked, taa_token):
    a, b = stocked.add(2), stocked.add(1)
    r = _by_spec(api, taa_token, 4)
    assert r.status_code == 409
    assert r.json_body["shortages"][0]["available"] == 3
    assert r.json_body["shortages"][0]["requested"] == 4
    assert _held(a) == (0, 2) and _held(b) == (0, 1)
    assert not WebOrder.objects.exists()


def test_product_spec_refusals(api, stocked, taa_token):
    line = stocked.add(2)
    cases = [
        ({"productCode": "NOPE", "boxTypeCode": "HB"}, 404, "productCode"),
        ({"productCode": "RFR50", "boxTypeCode": "ZZ"}, 404, "boxTypeCode"),
        ({"productCode": "RFR50"}, 422, "boxTypeCode"),
        ({"productCode": "RFR50", "boxTypeCode": "HB", "inventoryIds": [line.pk]}, 422, None),
        ({"productCode": "RFR50", "boxTypeCode": "HB", "inventoryOrigin": 4}, 422, None),
        # A location that is not the company's (customer and location are read together).
        (
            {"productCode": "RFR50", "boxTypeCode": "HB", "companyLocationId": 987654},
            404,
            "companyLocationId",
        ),
        # No grower offers this spec (vendor availability): nothing to pick.
        ({"productCode": "RFR50", "boxTypeCode": "HB", "inventoryOrigin": 3}, 409, None),
    ]
    for params, status, field in cases:
        r = api("web-order-item.add", taa_token, {"quantity": 1, **params})
        assert r.status_code == status, (params, r.json_body)
        if field:
            assert r.json_body["errors"][0]["field"] == field
    assert _held(line) == (0, 2)


# ---------------------------------------------------------------- deleting


def test_deleting_an_item_releases_its_boxes(api, stocked, market_token):
    a, b = stocked.add(5), stocked.add(5)
    order_id = _add(api, market_token, a, 2).json_body["webOrderId"]
    item_id = _add(api, market_token, b, 3).json_body["webOrderItemId"]
    r = api(
        "web-order-item.delete",
        market_token,
        {"webOrderId": order_id, "webOrderItemId": item_id},
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body["webOrderItemId"] == item_id
    assert _held(b) == (0, 5) and _held(a) == (2, 3)
    r = api(
        "web-order-item.delete",
        market_token,
        {"webOrderId": order_id, "webOrderItemId": item_id},
    )
    assert r.status_code == 404
    assert r.json_body["errors"][0]["field"] == "webOrderItemId"


def test_deleting_the_order_releases_every_hold(api, stocked, market_token):
    a, b = stocked.add(5), stocked.add(5, future_days=2)
    order_id = _add(api, market_token, a, 2).json_body["webOrderId"]
    _add(api, market_token, b, 4, origin=2, webOrderId=order_id)
    r = api("web-order.delete", market_token, {"webOrderId": order_id})
    assert r.status_code == 200, r.json_body
    assert r.json_body["message"] == "The Web Order was successfully canceled."
    assert _held(a) == (0, 5) and _held(b) == (0, 5)
    assert WebOrder.objects.get(pk=order_id).status == WebOrder.Status.CANCELED
    r = api("web-order.delete", market_token, {"webOrderId": order_id})
    assert r.status_code == 409
    r = _add(api, market_token, a, 1, webOrderId=order_id)
    assert r.status_code == 409  # lines go only into a pending order
    assert _held(a) == (0, 5)


# ---------------------------------------------------------------- web-order-details.list


def test_details_list_shows_the_cart_with_the_customers_prices(api, stocked, market_token):
    a = stocked.add(5, price_b="0.437")
    b = stocked.add(5, future_days=2, price_b="0.523")
    order_id = _add(api, market_token, a, 3).json_body["webOrderId"]
    _add(api, market_token, b, 2, origin=2)
    r = api("web-order-details.list", market_token, {"webOrderId": order_id}, verb="GET")
    assert r.status_code == 200, r.json_body
    [order] = r.json_body["webOrders"]
    assert order["id"] == order_id and order["statusId"] == 1
    assert order["customerId"] == stocked.market.pk
    assert order["companyLocationId"] == stocked.location.pk
    rows = [(i["inventoryId"], i["origin"], i["boxes"], i["price"]) for i in order["items"]]
    assert rows == [(a.pk, 1, 3, 0.437), (b.pk, 2, 2, 0.523)]
    # 3 boxes x 250 stems x 0.437 = 327.75; 2 x 250 x 0.523 = 261.50
    assert [Decimal(str(i["amount"])) for i in order["items"]] == [
        Decimal("327.75"),
        Decimal("261.5"),
    ]
    assert order["items"][0]["product"] == "Rose Freedom Red 50cm"
    assert Decimal(str(order["subtotal"])) == Decimal("589.25")
    assert order["additionalCharges"] == 0
    assert Decimal(str(order["total"])) == Decimal("589.25")
    # Only pending orders by default; statusId 2 asks for checked-out ones.
    r = api(
        "web-order-details.list",
        market_token,
        {"webOrderId": order_id, "statusId": "2"},
        verb="GET",
    )
    assert r.json_body["webOrders"] == []
    r = api("web-order-details.list", market_token, {"webOrderId": order_id, "statusId": 3})
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "statusId"


# ---------------------------------------------------------------- isolation


def test_another_customers_web_order_is_not_found(
    api, stocked, market_token, florist_token, rep_token
):
    line = stocked.add(5)
    order_id = _add(api, market_token, line, 2).json_body["webOrderId"]
    item_id = WebOrderItem.objects.get(web_order_id=order_id).pk
    calls = [
        ("web-order-details.list", {"webOrderId": order_id}),
        ("web-order-item.delete", {"webOrderId": order_id, "webOrderItemId": item_id}),
        ("web-order.delete", {"webOrderId": order_id}),
        ("web-order.checkout", {"webOrderId": order_id}),
        ("web-order-item.add", {"webOrderId": order_id, "inventoryIds": [line.pk], "quantity": 1}),
    ]
    for method, params in calls:
        params = {"inventoryOrigin": 1, **params} if method == "web-order-item.add" else params
        r = api(method, florist_token, params)
        assert r.status_code == 404, (method, r.json_body)
        # A User token naming the wrong customer does not reach the order either.
        r = api(method, rep_token, {**params, "customerId": stocked.florist.pk})
        assert r.status_code == 404, (method, r.json_body)
    assert _held(line) == (2, 3)
    assert WebOrder.objects.get(pk=order_id).status == WebOrder.Status.PENDING
    # The rep, naming the right customer, sees it.
    r = api(
        "web-order-details.list",
        rep_token,
        {"webOrderId": order_id, "customerId": stocked.market.pk},
        verb="GET",
    )
    assert [o["id"] for o in r.json_body["webOrders"]] == [order_id]


def test_another_companys_tokens_reach_nothing(
    api, stocked, market_token, other_company, make_token
):
    line = stocked.add(5)
    order_id = _add(api, market_token, line, 2).json_body["webOrderId"]
    outsider = Customer.objects.create(company=other_company, name="Elsewhere Blooms")
    theirs = _unthrottled(make_token(other_company, "customer", customer_id=outsider.pk))
    r = _add(api, theirs, line, 1)
    assert r.status_code == 404
    r = api("web-order.delete", theirs, {"webOrderId": order_id})
    assert r.status_code == 404
    r = api(
        "web-order.delete", theirs, {"webOrderId": order_id}, account=stocked.company.account_id
    )
    assert r.status_code == 403
    rep = _unthrottled(make_token(other_company, "user"))
    r = api("web-order.delete", rep, {"webOrderId": order_id, "customerId": stocked.market.pk})
    assert r.status_code == 404
    assert _held(line) == (2, 3)
    assert InventoryLine.objects.get(pk=line.pk).held == 2
