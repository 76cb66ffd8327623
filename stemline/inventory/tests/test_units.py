"""The units inventory: opening boxes into bunches and stems, inventory.units.add / .delete,
and units sold on web orders and invoices beside boxes, never oversold."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from stemline.catalog.models import Product
from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.inventory import services as stock
from stemline.inventory.models import Box, InventoryChange, InventoryLine
from stemline.sales import pdf
from stemline.sales import queries as sales_queries
from stemline.sales import services as sales
from stemline.sales.models import Invoice, InvoiceItem
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def _fast(issued):
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def token(stocked, make_token):
    return _fast(make_token(stocked.company))


def ok(response) -> dict:
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1
    return response.json_body


def refused(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.json_body
    body = response.json_body
    assert body["status"] == 0
    assert field in [e["field"] for e in body["errors"]], body
    return body


def counts(line) -> tuple[int, int, int, int]:
    line.refresh_from_db()
    return line.total, line.committed, line.held, line.opened


def open_(stocked, line, boxes, unit_type="Bunch", **kw):
    return stock.open_boxes(
        company=stocked.company, line_id=line.pk, boxes=boxes, unit_type=unit_type, **kw
    )


# ---------------------------------------------------------------- opening boxes


def test_opening_boxes_moves_their_bunches_to_a_units_line(stocked):
    line = stocked.add(5)  # 10 bunches of 25 stems a box, 0.500 / 0.450 a stem
    opened = open_(stocked, line, 2)
    assert counts(line) == (3, 0, 0, 2)
    units = opened.units_line
    assert (units.in_units, units.opened_from_id, units.unit_type) == (True, line.pk, "Bunch")
    assert (units.total, opened.units, units.stems_bunch, units.units_per_box) == (20, 20, 25, 1)
    # Prices per stem become prices per bunch (25 stems).
    assert (units.price_a, units.price_b, units.unit_cost) == (
        Decimal("12.500"),
        Decimal("11.250"),
        Decimal("7.500"),
    )
    # Two labels are opened (irreversibly), none of them removed, the others whole.
    labels = Box.objects.filter(line=line)
    assert labels.filter(opened_at__isnull=False).count() == 2
    assert labels.filter(opened_at__isnull=False, removed_at__isnull=False).count() == 0
    # Both lines' changes are in the feed the channels read.
    kinds = set(InventoryChange.objects.values_list("line_id", "kind"))
    assert {(line.pk, "updated"), (units.pk, "added")} <= kinds


def test_opening_again_adds_to_the_same_units_line_and_stems_come_in_whole_bunches(stocked):
    line = stocked.add(4)
    first = open_(stocked, line, 1, "Stem", price_a=Decimal("0.600")).units_line
    again = open_(stocked, line, 2, "Stem").units_line
    assert first.pk == again.pk
    assert (again.total, again.price_a) == (3 * 250, Decimal("0.600"))
    bunches = open_(stocked, line, 1, "Bunch").units_line
    assert bunches.pk != first.pk and bunches.total == 10
    assert counts(line) == (0, 0, 0, 4)


def test_opening_is_refused_beyond_the_unsold_boxes_and_leaves_nothing(stocked):
    line = stocked.add(3)
    sales.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        requests=[sales.ItemRequest(line.pk, 2)],
        origin=1,
    )
    with pytest.raises(Conflict) as refusal:
        open_(stocked, line, 2)
    assert refusal.value.field == "boxes"
    assert counts(line) == (3, 0, 2, 0)
    assert not InventoryLine.objects.filter(in_units=True).exists()
    assert not Box.objects.filter(opened_at__isnull=False).exists()


def test_only_whole_boxes_on_hand_open(stocked):
    coming = stocked.add(3, future_days=4)
    with pytest.raises(Conflict, match="has not arrived"):
        open_(stocked, coming, 1)
    units = open_(stocked, stocked.add(2), 1).units_line
    with pytest.raises(Conflict, match="already units"):
        open_(stocked, units, 1)
    with pytest.raises(Invalid) as bad:
        open_(stocked, stocked.add(1), 1, "Box")
    assert bad.value.field == "unitType"


def test_a_product_with_a_roll_up_code_becomes_the_roll_up_product(stocked):
    mix = Product.objects.create(
        company=stocked.company,
        category=stocked.product.category,
        description="Rose Mixed Red",
        color="Red",
        legacy_code="ROSEMIX",
    )
    Product.objects.filter(pk=stocked.product.pk).update(product_roll_up_code="rosemix")
    line = stocked.add(2)
    line.product.refresh_from_db()
    units = open_(stocked, line, 1).units_line
    assert units.product_id == mix.pk
    Product.objects.filter(pk=stocked.product.pk).update(product_roll_up_code="GONE")
    line = InventoryLine.objects.get(pk=line.pk)
    with pytest.raises(NotFound) as missing:
        open_(stocked, line, 1)
    assert missing.value.field == "productRollUpCode"
    assert counts(line) == (1, 0, 0, 1)


# ---------------------------------------------------------------- selling units


def test_units_sell_on_a_web_order_in_whole_bunches_and_check_out_onto_the_invoice(stocked):
    units = open_(stocked, stocked.add(2), 1, "Stem").units_line  # 250 stems at 0.500
    add = dict(company=stocked.company, customer_id=stocked.florist.pk, origin=1)
    with pytest.raises(Invalid, match="multiples of 25") as bad:
        sales.add_items(requests=[sales.ItemRequest(units.pk, 30)], **add)
    assert bad.value.field == "quantity"
    with pytest.raises(stock.NotEnoughStock):
        sales.add_items(requests=[sales.ItemRequest(units.pk, 275)], **add)
    result = sales.add_items(requests=[sales.ItemRequest(units.pk, 50)], **add)
    assert counts(units) == (250, 0, 50, 0)
    done = sales.checkout(
        company=stocked.company, customer_id=stocked.florist.pk, web_order_id=result.web_order.pk
    )
    item = InvoiceItem.objects.get(invoice=done.invoice)
    assert (item.unit_type, item.boxes, item.units_per_box) == ("Stem", 50, 1)
    assert done.invoice.amount == Decimal("25.00")  # 50 stems at 0.500
    assert counts(units) == (250, 50, 0, 0)


def test_web_order_item_add_takes_units_and_shows_them(api, stocked, make_token):
    customer = _fast(make_token(stocked.company, "customer", customer_id=stocked.florist.pk))
    units = open_(stocked, stocked.add(2), 1).units_line  # 10 bunches at 12.500
    body = ok(
        api(
            "web-order-item.add",
            customer,
            {"inventoryIds": [units.pk], "inventoryOrigin": 1, "quantity": 4},
        )
    )
    details = ok(
        api(
            "web-order-details.list",
            customer,
            {"webOrderId": body["webOrderId"]},
            verb="GET",
        )
    )
    [item] = details["webOrders"][0]["items"]
    assert (item["unitType"], item["unitsInventory"], item["boxes"]) == ("Bunch", True, 0)
    assert (item["quantity"], item["totalUnits"], item["amount"]) == (4, 4, 50.0)
    refused(
        api(
            "web-order-item.add",
            customer,
            {"inventoryIds": [units.pk], "inventoryOrigin": 1, "quantity": 7},
        ),
        409,
        "inventoryIds",
    )
    assert counts(units) == (10, 0, 4, 0)


def test_invoice_lines_of_units_count_units_not_boxes(api, stocked, token):
    line = stocked.add(3)
    units = open_(stocked, line, 1, "Stem").units_line
    body = ok(
        api(
            "invoice.create",
            token,
            {
                "customerId": stocked.florist.pk,
                "shipDate": str(stock.today()),
                "invoiceItems": [
                    {"orderItemId": line.pk, "boxes": 1, "price": "0.500"},
                    {"orderItemId": units.pk, "boxes": 100, "price": "0.600"},
                ],
            },
        )
    )
    assert counts(units) == (250, 100, 0, 0)
    refused(
        api(
            "invoice.item.add",
            token,
            {"invoiceId": body["invoiceId"], "orderItemId": units.pk, "boxes": 10, "price": 1},
        ),
        422,
        "quantity",
    )
    listed = ok(api("invoice.details.list", token, {"orderId": body["invoiceId"]}, verb="GET"))
    [invoice] = listed["invoices"]
    by_line = {d["inventoryId"]: d for d in invoice["details"]}
    assert (by_line[units.pk]["totalBoxes"], by_line[units.pk]["totalUnits"]) == (0, 100)
    assert by_line[units.pk]["unitsInventory"] is True
    assert (by_line[line.pk]["totalBoxes"], by_line[line.pk]["totalUnits"]) == (1, 250)
    assert invoice["totalBoxes"] == 1 and len(invoice["boxes"]) == 1
    assert invoice["subtotal"] == 185.0  # 250 x 0.500 + 100 x 0.600
    # The printed invoice counts the one box and all 350 units.
    printed = Invoice.objects.filter(pk=body["invoiceId"])
    [detailed] = sales_queries.invoice_details(printed)
    text = PdfReader(io.BytesIO(pdf.render(detailed, detailed.lines))).pages[0].extract_text()
    assert "Subtotal (1 boxes, 350 units)" in text


def test_lists_show_units_lines_in_units(api, stocked, token):
    units = open_(stocked, stocked.add(2), 1).units_line
    items = ok(api("inventory.list", token, verb="GET"))["inventoryItems"]
    row = next(r for r in items if r["inventoryId"] == units.pk)
    assert (row["unitsInventory"], row["unitType"], row["quantity"]) == (True, "Bunch", 10)
    assert (row["unitsPerBox"], row["totalUnits"], row["stemsBunch"]) == (1, 10, 25)
    boxes = next(r for r in items if r["inventoryId"] != units.pk)
    assert (boxes["unitsInventory"], boxes["quantity"]) == (False, 1)
    shop = ok(
        api(
            "ecommerce/inventory.list",
            token,
            {"customerId": stocked.florist.pk},
            verb="GET",
        )
    )
    row = next(r for r in shop["inventoryItems"] if r["inventoryIds"] == str(units.pk))
    assert (row["unitsInventory"], row["quantity"], row["price"]) == (True, 10, 12.5)


# ---------------------------------------------------------------- inventory.units.add / delete


def units_params(**changes) -> dict:
    params = {
        "productCode": "rfr50",
        "stemsBunch": 25,
        "unitType": "Bunch",
        "quantity": 30,
        "block": "B2",
        "bed": "14",
        "cutter": 7,
        "cutDate": str(stock.today()),
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def test_units_add_creates_a_units_line_and_adds_to_it(api, stocked, token):
    body = ok(api("inventory.units.add", token, units_params(priceA="9.000")))
    assert body["message"] == "The inventory unit has been created successfully"
    line = InventoryLine.objects.get(pk=body["inventoryId"])
    assert (line.in_units, line.product, line.unit_type, line.total) == (
        True,
        stocked.product,
        "Bunch",
        30,
    )
    assert (line.block, line.bed, line.cutter, line.price_a) == ("B2", "14", 7, Decimal("9"))
    again = ok(api("inventory.units.add", token, units_params(quantity=5, unitType="bunch")))
    assert again["inventoryId"] == line.pk and again["quantity"] == 35
    other_bed = ok(api("inventory.units.add", token, units_params(bed="15")))
    assert other_bed["inventoryId"] != line.pk
    florist = ok(api("inventory.units.add", token, units_params(customerCode="bloom")))
    assert InventoryLine.objects.get(pk=florist["inventoryId"]).reserved_for == stocked.florist


def test_units_add_refusals(api, stocked, token):
    refused(api("inventory.units.add", token, units_params(unitType="Stem")), 422, "quantity")
    refused(api("inventory.units.add", token, units_params(unitType="Box")), 422, "unitType")
    refused(api("inventory.units.add", token, units_params(productCode="NOPE")), 404, "productCode")
    refused(api("inventory.units.add", token, units_params(quantity=0)), 422, "quantity")
    refused(
        api("inventory.units.add", token, units_params(customerCode="NOBODY")), 404, "customerCode"
    )
    refused(api("inventory.units.add", token, units_params(stemsBunch=None)), 422, "stemsBunch")
    assert not InventoryLine.objects.filter(in_units=True).exists()


def test_units_delete_decreases_unsold_units_only(api, stocked, token):
    line_id = ok(api("inventory.units.add", token, units_params(quantity=30)))["inventoryId"]
    line = InventoryLine.objects.get(pk=line_id)
    stock.hold(company=stocked.company, wanted=[(line_id, 15)])
    body = ok(api("inventory.units.delete", token, units_params(quantity=10)))
    assert body["message"] == "The inventory in units has been decreased by 10 bunches successfully"
    assert (body["inventoryIds"], body["available"]) == ([line_id], 5)
    assert counts(line) == (20, 0, 15, 0)
    # The 15 held bunches cannot go: nothing changes.
    refused(api("inventory.units.delete", token, units_params(quantity=6)), 409, "quantity")
    assert counts(line) == (20, 0, 15, 0)
    one = ok(api("inventory.units.delete", token, units_params(quantity=1, block=None)))
    assert one["message"] == "The inventory in units has been decreased by 1 bunch successfully"
    refused(api("inventory.units.delete", token, units_params(productCode="x")), 404, "productCode")


def test_deleting_boxes_after_opening_removes_whole_boxes_only(api, stocked, token):
    line = stocked.add(3)
    open_(stocked, line, 2)
    assert stock.delete_boxes(company=stocked.company, line_id=line.pk) == 1
    labels = Box.objects.filter(line=line)
    assert labels.filter(removed_at__isnull=False).count() == 1
    assert labels.filter(opened_at__isnull=False).count() == 2
    assert counts(line) == (0, 0, 0, 2)
    line = stocked.add(2)
    open_(stocked, line, 1)
    listed = ok(api("inventory.list", token, {"includeBoxes": 1}, verb="GET"))
    row = next(r for r in listed["inventoryItems"] if r["inventoryId"] == line.pk)
    # The opened box's label is no box of the line any more.
    assert len(row["boxCodes"]) == 1 and row["quantity"] == 1
