"""Sales pages: the open-market inventory with held and committed boxes, and the orders that
came through the API, confirmed one by one or in bulk, with the transaction fee."""

import pytest
from django.urls import reverse

from stemline.core.models import Role
from stemline.sales.models import DocumentStatus, Invoice, Prebook
from stemline.tokens.models import ApiToken

from .conftest import queries_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def market_token(stocked, make_token):
    issued = make_token(stocked.company, "customer", customer_id=stocked.market.pk)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


def _order_through_api(api, token, line, boxes):
    r = api(
        "web-order-item.add",
        token,
        {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": boxes},
    )
    assert r.status_code == 200, r.json_body
    r = api("web-order.checkout", token, {"webOrderId": r.json_body["webOrderId"]})
    assert r.status_code == 200, r.json_body
    return Invoice.objects.get(web_order_id=r.json_body["webOrderId"])


def test_inventory_shows_on_hand_future_held_and_committed(as_role, stocked, api, market_token):
    today = stocked.add(10)
    stocked.add(4, future_days=3)
    _order_through_api(api, market_token, today, 3)
    page = as_role(Role.SALES).get(reverse("sales_inventory")).content.decode()
    assert page.split('id="on-hand-available">', 1)[1].startswith("7<")
    assert page.split('id="future-available">', 1)[1].startswith("4<")
    future = as_role(Role.SALES).get(reverse("sales_inventory") + "?origin=future").content
    boxes = future.split(b'id="inventory-list"', 1)[1].split(b"</table>", 1)[0]
    assert boxes.count(b"<tr>") == 2  # the header and the one future line


def test_open_box_page_opens_boxes_and_refuses_what_cannot_open(as_role, stocked):
    line = stocked.add(4)
    coming = stocked.add(2, future_days=3)
    client = as_role(Role.SALES)
    url = reverse("sales_open_box", args=[line.pk])
    r = client.post(url, {"boxes": 3, "unit_type": "Stem"})
    assert r.status_code == 302
    line.refresh_from_db()
    assert (line.total, line.opened) == (1, 3)
    page = client.get(reverse("sales_inventory")).content.decode()
    units = page.split('id="units-list"', 1)[1].split("</table>", 1)[0]
    assert "stems" in units and "750" in units and "0.500" in units
    # Boxes not yet here, more than are unsold, a units line: refused, nothing opened.
    page = client.post(
        reverse("sales_open_box", args=[coming.pk]), {"boxes": 1, "unit_type": "Stem"}
    )
    assert page.status_code == 200 and "has not arrived" in page.content.decode()
    page = client.post(url, {"boxes": 2, "unit_type": "Bunch"})
    assert "1 unsold boxes; 2 cannot be opened" in page.content.decode()
    units_line = line.units_lines.get()
    assert client.get(reverse("sales_open_box", args=[units_line.pk])).status_code == 404
    assert as_role(Role.ACCOUNTING).get(url).status_code == 403
    line.refresh_from_db()
    assert (line.total, line.opened) == (1, 3)


def test_sales_rep_confirms_an_order_that_came_through_the_api(as_role, stocked, api, market_token):
    invoice = _order_through_api(api, market_token, stocked.add(10), 2)
    assert invoice.status == DocumentStatus.PENDING_APPROVAL and invoice.transaction_fee > 0
    client = as_role(Role.SALES)
    page = client.get(reverse("sales_orders")).content.decode()
    row = page.split(f'id="invoice-{invoice.pk}"', 1)[1].split("</tr>", 1)[0]
    assert str(invoice.transaction_fee) in row and "DWF Wholesale" in row
    r = client.post(reverse("sales_orders_confirm"), {"kind": "invoice", "single": invoice.pk})
    assert r.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CONFIRMED and invoice.confirmed_by is not None
    assert f'id="invoice-{invoice.pk}"' not in client.get(reverse("sales_orders")).content.decode()


def test_bulk_confirm_reports_what_could_not_be_confirmed(
    as_role, stocked, api, market_token, other_company
):
    line = stocked.add(10)
    first = _order_through_api(api, market_token, line, 1)
    second = _order_through_api(api, market_token, line, 1)
    client = as_role(Role.ADMIN)
    r = client.post(
        reverse("sales_orders_confirm"),
        {"kind": "invoice", "ids": [first.pk, second.pk, 999_999]},
        headers={"X-Requested-With": "fetch"},
    )
    assert r.json() == {"confirmed": 2, "failed": [999_999]}
    assert set(Invoice.objects.values_list("status", flat=True)) == {DocumentStatus.CONFIRMED}


def test_an_invoice_of_another_company_cannot_be_confirmed(
    as_role, stocked, api, market_token, other_company, person
):
    invoice = _order_through_api(api, market_token, stocked.add(10), 1)
    outsider = as_role(Role.SALES, company_=other_company)
    outsider.post(reverse("sales_orders_confirm"), {"kind": "invoice", "ids": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PENDING_APPROVAL
    assert (
        f'id="invoice-{invoice.pk}"' not in outsider.get(reverse("sales_orders")).content.decode()
    )


def test_orders_page_queries_do_not_grow_with_orders(as_role, stocked, api, market_token):
    line = stocked.add(50)
    _order_through_api(api, market_token, line, 1)
    client = as_role(Role.SALES)
    few = queries_of(lambda: client.get(reverse("sales_orders")))
    assert few <= 12
    for _ in range(8):
        _order_through_api(api, market_token, line, 1)
    assert queries_of(lambda: client.get(reverse("sales_orders"))) == few


def test_sales_rep_confirms_a_prebook_that_came_through_the_api(
    as_role, stocked, api, market_token
):
    line = stocked.add(6, future_days=5)
    r = api(
        "web-order-item.add",
        market_token,
        {"inventoryIds": [line.pk], "inventoryOrigin": 2, "quantity": 2},
    )
    done = api("web-order.checkout", market_token, {"webOrderId": r.json_body["webOrderId"]})
    prebook = Prebook.objects.get(pk=done.json_body["prebookId"])
    client = as_role(Role.SALES)
    page = client.get(reverse("sales_orders") + "?kind=prebook").content.decode()
    assert f'id="prebook-{prebook.pk}"' in page
    r = client.post(reverse("sales_orders_confirm"), {"kind": "prebook", "single": prebook.pk})
    assert r.status_code == 302
    prebook.refresh_from_db()
    assert prebook.status == DocumentStatus.CONFIRMED and prebook.confirmed_by is not None
    # Confirmed once: a second try is refused and said so.
    again = client.post(
        reverse("sales_orders_confirm"), {"kind": "prebook", "single": prebook.pk}, follow=True
    )
    assert b"only a Draft or Pending Approval prebook can be confirmed" in again.content


def test_the_sales_desk_sells_stems_of_an_opened_box_in_whole_bunches(as_role, stocked):
    from stemline.inventory import services as stock

    from .test_desk import _add, _start

    units = stock.open_boxes(
        company=stocked.company, line_id=stocked.add(2).pk, boxes=1, unit_type="Stem"
    ).units_line
    client = as_role(Role.SALES)
    order_id = _start(client, stocked.florist)
    page = client.get(f"/sales/orders/new/{order_id}/").content.decode()
    row = page.split(f'id="stock-{units.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "stems, 25/bunch" in row and 'step="25"' in row
    r = _add(client, order_id, units, 30)
    assert "multiples of 25" in client.get(r["Location"]).content.decode()
    _add(client, order_id, units, 50)
    units.refresh_from_db()
    assert (units.total, units.held) == (250, 50)
