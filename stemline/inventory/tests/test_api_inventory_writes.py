"""inventory.add, inventory.update and inventory.delete through the API."""

from datetime import timedelta
from decimal import Decimal

import pytest

from stemline.catalog.models import Product
from stemline.core.models import Location
from stemline.inventory import services as stock
from stemline.inventory.models import Box, InventoryLine
from stemline.sales import services as sales

pytestmark = pytest.mark.django_db


def ok(response) -> dict:
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1
    return response.json_body


def refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.json_body
    body = response.json_body
    assert body["status"] == 0
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
        assert body["message"].startswith(f"{field}:"), body
    return body


def add_params(stocked, **changes) -> dict:
    params = {
        "vendorCode": "rdm",
        "awb": "369-12345675",
        "shipDate": str(stock.today()),
        "productCode": "rfr50",
        "quantity": 3,
        "boxTypeCode": "hb",
        "unitType": "STEM",
        "stemsBunch": 25,
        "bunches": 10,
        "unitCost": "0.315",
        "priceA": "0.55",
        "priceB": 0.5,
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def test_add_creates_a_line_with_its_boxes(api, stocked, company_token):
    body = ok(api("inventory.add", company_token, add_params(stocked, externalId="ext-7")))
    [line_id] = body["inventoryIds"]
    assert len(body["boxCodes"]) == 3
    line = InventoryLine.objects.get(pk=line_id)
    assert (line.product, line.vendor, line.box_type) == (
        stocked.product,
        stocked.vendor,
        stocked.box,
    )
    assert (line.unit_type, line.units_per_box, line.total, line.available) == ("Stem", 250, 3, 3)
    assert (line.unit_cost, line.price_a, line.price_b) == (
        Decimal("0.315"),
        Decimal("0.550"),
        Decimal("0.500"),
    )
    assert line.location == stocked.location
    assert line.external_id == "ext-7"
    assert line.source_token is None and not line.confirm_inventory
    assert sorted(Box.objects.filter(line=line).values_list("code", flat=True)) == sorted(
        body["boxCodes"]
    )


def test_add_by_ids_and_bunches_with_own_box_codes(api, stocked, company_token):
    params = add_params(
        stocked,
        vendorCode=None,
        growerId=stocked.vendor.pk,
        productCode=None,
        productId=stocked.product.pk,
        boxTypeCode=None,
        boxTypeId=stocked.box.pk,
        unitType="Bunch",
        quantity=2,
        boxCodes="BX-1, BX-2",
        customerId=stocked.florist.pk,
        lotNumber="L9",
        markCode="MK",
    )
    body = ok(api("inventory.add", company_token, params))
    assert body["boxCodes"] == ["BX-1", "BX-2"]
    line = InventoryLine.objects.get(pk=body["inventoryIds"][0])
    assert (line.unit_type, line.units_per_box) == ("Bunch", 10)
    assert (line.reserved_for, line.lot_number, line.mark_code) == (stocked.florist, "L9", "MK")


def test_add_with_confirm_inventory_remembers_the_calling_token(api, stocked, company_token):
    body = ok(api("inventory.add", company_token, add_params(stocked, confirmInventory="1")))
    line = InventoryLine.objects.get(pk=body["inventoryIds"][0])
    assert line.confirm_inventory
    assert line.source_token == company_token.token


def test_add_with_a_later_arrival_is_future_inventory(api, stocked, company_token):
    later = stock.today() + timedelta(days=5)
    body = ok(api("inventory.add", company_token, add_params(stocked, arrivalDate=str(later))))
    listed = ok(api("inventory.list", company_token, verb="GET"))["inventoryItems"]
    [row] = [r for r in listed if r["inventoryId"] == body["inventoryIds"][0]]
    assert (row["inventoryOrigin"], row["arrivalDate"]) == (2, str(later))


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"quantity": 101}, 422, "quantity"),
        ({"quantity": 0}, 422, "quantity"),
        ({"awb": None}, 422, "awb"),
        ({"shipDate": None}, 422, "shipDate"),
        ({"shipDate": "3000-01-01"}, 422, "shipDate"),
        ({"unitType": "box"}, 422, "unitType"),
        ({"unitCost": "-1"}, 422, "unitCost"),
        ({"stemsBunch": 0}, 422, "stemsBunch"),
        ({"vendorCode": None}, 422, "growerId"),
        ({"vendorCode": "NOPE"}, 404, "vendorCode"),
        ({"vendorCode": None, "growerId": 999999}, 404, "growerId"),
        ({"productCode": None}, 422, "productId"),
        ({"productCode": "NOPE"}, 404, "productCode"),
        ({"productCode": None, "productDescription": "Tulip"}, 404, "productDescription"),
        ({"boxTypeCode": None}, 422, "boxTypeId"),
        ({"boxTypeCode": "ZZ"}, 404, "boxTypeCode"),
        ({"customerId": 999999}, 404, "customerId"),
        ({"locationId": 999999}, 404, "locationId"),
        ({"boxCodes": ["ONLY-ONE"]}, 422, "boxCodes"),
    ],
)
def test_add_refusals_name_the_field(api, stocked, company_token, changes, status, field):
    refused(api("inventory.add", company_token, add_params(stocked, **changes)), status, field)
    assert not InventoryLine.objects.exists()


def test_add_refuses_box_codes_already_used(api, stocked, company_token):
    ok(api("inventory.add", company_token, add_params(stocked, quantity=1, boxCodes=["BX-1"])))
    refused(
        api("inventory.add", company_token, add_params(stocked, quantity=1, boxCodes=["bx-1"])),
        409,
        "boxCodes",
    )
    assert InventoryLine.objects.count() == 1


def test_add_refuses_an_inactive_product(api, stocked, company_token):
    Product.objects.filter(pk=stocked.product.pk).update(active=False)
    refused(api("inventory.add", company_token, add_params(stocked)), 422, "productCode")


def test_multi_location_company_must_name_the_location(api, stocked, company_token):
    company = stocked.company
    company.multi_location = True
    company.save()
    refused(api("inventory.add", company_token, add_params(stocked)), 422, "locationId")
    second = Location.objects.create(company=company, name="Miami 2", code="MIA2")
    body = ok(api("inventory.add", company_token, add_params(stocked, locationId=second.pk)))
    assert InventoryLine.objects.get(pk=body["inventoryIds"][0]).location == second


def test_add_is_for_company_and_user_tokens_only(api, stocked, make_token):
    vendor = make_token(stocked.company, "vendor", vendor_id=stocked.vendor.pk)
    refused(api("inventory.add", vendor, add_params(stocked)), 403)


def test_add_cannot_use_another_companys_records(api, stocked, other_company, make_token):
    theirs = make_token(other_company)
    params = add_params(stocked, productCode=None, productId=stocked.product.pk)
    refused(api("inventory.add", theirs, params), 404)
    assert not InventoryLine.objects.exists()


def test_update_changes_prices_cost_and_boxes(api, stocked, company_token):
    line = stocked.add(10)
    body = ok(
        api(
            "inventory.update",
            company_token,
            {"inventoryId": line.pk, "quantity": 8, "unitCost": "0.2", "priceA": "0.7"},
        )
    )
    assert body["message"] == "The inventory Item has been updated successfully"
    assert (body["quantity"], body["available"]) == (8, 8)
    line.refresh_from_db()
    assert (line.total, line.unit_cost, line.price_a, line.price_b) == (
        8,
        Decimal("0.200"),
        Decimal("0.700"),
        Decimal("0.450"),
    )


def test_update_never_goes_below_sold_and_held(api, stocked, company_token):
    line = stocked.add(10)
    sales.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=1,
        requests=[sales.ItemRequest(line.pk, 6)],
    )
    body = refused(
        api("inventory.update", company_token, {"inventoryId": line.pk, "quantity": 5}),
        409,
        "quantity",
    )
    assert body["available"] == 4
    line.refresh_from_db()
    assert line.total == 10


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({}, 422, "quantity"),
        ({"quantity": 101}, 422, "quantity"),
        ({"priceA": "-0.1"}, 422, "priceA"),
        ({"unitCost": "abc"}, 422, "unitCost"),
    ],
)
def test_update_refusals(api, stocked, company_token, params, status, field):
    line = stocked.add(10)
    refused(
        api("inventory.update", company_token, {"inventoryId": line.pk, **params}), status, field
    )


def test_update_and_delete_of_an_unknown_line_are_404(api, stocked, company_token):
    refused(api("inventory.update", company_token, {"inventoryId": 999, "quantity": 1}), 404)
    refused(api("inventory.delete", company_token, {"inventoryId": 999}), 404, "inventoryIds")


def test_delete_some_then_all_unsold_boxes(api, stocked, company_token):
    line = stocked.add(10)
    sales.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=1,
        requests=[sales.ItemRequest(line.pk, 3)],
    )
    body = ok(api("inventory.delete", company_token, {"inventoryId": line.pk, "quantity": 2}))
    assert (body["deleted"], body["quantity"], body["available"]) == (2, 8, 5)
    body = ok(api("inventory.delete", company_token, {"inventoryId": line.pk}))
    assert (body["deleted"], body["quantity"], body["available"]) == (5, 3, 0)
    line.refresh_from_db()
    assert (line.total, line.held) == (3, 3)


def test_delete_more_than_unsold_is_409_with_what_is_available(api, stocked, company_token):
    line = stocked.add(4)
    sales.add_items(
        company=stocked.company,
        customer_id=stocked.florist.pk,
        origin=1,
        requests=[sales.ItemRequest(line.pk, 3)],
    )
    body = refused(
        api("inventory.delete", company_token, {"inventoryId": line.pk, "quantity": 2}),
        409,
        "quantity",
    )
    assert body["available"] == 1
    line.refresh_from_db()
    assert line.total == 4
    refused(api("inventory.delete", company_token, {"inventoryId": line.pk, "quantity": 0}), 422)


def test_other_company_cannot_update_or_delete(api, stocked, other_company, make_token):
    line = stocked.add(4)
    theirs = make_token(other_company)
    refused(api("inventory.update", theirs, {"inventoryId": line.pk, "quantity": 1}), 404)
    refused(api("inventory.delete", theirs, {"inventoryId": line.pk}), 404)
    line.refresh_from_db()
    assert line.total == 4


def test_a_retried_add_with_the_same_idempotency_key_adds_once(api, stocked, company_token):
    params = add_params(stocked)
    headers = {"Idempotency-Key": "add-1"}
    first = ok(api("inventory.add", company_token, params, headers=headers))
    again = ok(api("inventory.add", company_token, params, headers=headers))
    assert again == first
    assert InventoryLine.objects.count() == 1
    changed = add_params(stocked, quantity=4)
    refused(api("inventory.add", company_token, changed, headers=headers), 409, "Idempotency-Key")


def test_deleted_boxes_lose_their_labels(stocked):
    from stemline.inventory import services as stock
    from stemline.inventory.models import Box

    line = stocked.add(4)
    assert stock.delete_boxes(company=stocked.company, line_id=line.pk, quantity=3) == 3
    live = Box.objects.filter(line=line, removed_at__isnull=True)
    assert live.count() == 1
    assert Box.objects.filter(line=line).count() == 4
