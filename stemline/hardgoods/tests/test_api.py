"""The five hard-goods methods: products of hard-goods vendors, stock in units, the list."""

from decimal import Decimal

import pytest

from stemline.core.models import Location
from stemline.hardgoods.models import HardGoodInventory, HardGoodProduct

pytestmark = pytest.mark.django_db

PRODUCT = {
    "category": "Containers",
    "subcategory": "Glass",
    "description": "Cylinder vase 8in",
    "sku": "VAS-01",
    "packSize": 12,
    "unitCost": "2.10",
    "vendorCode": "FSC",
}


# ---------------------------------------------------------------- hardgood.product.add


def test_a_product_of_a_hard_goods_vendor_is_created_with_every_field(api, company_token, supplies):
    r = api(
        "hardgood.product.add",
        company_token,
        {
            **PRODUCT,
            "color": "Clear",
            "caseUPC": "00012345678905",
            "unitUPC": "012345678905",
            "unitPrice": "4.50",
            "unitPriceMarkup": "",
            "discount": "10",
            "qtyForDiscount": "2",
            "activePerItem": "1",
            "activePerVendor": "true",
        },
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body["status"] == 1
    assert r.json_body["message"] == "The product was successfully saved."
    product = HardGoodProduct.objects.get(pk=r.json_body["productId"])
    assert product.vendor == supplies.vendor
    assert (product.category.name, product.subcategory, product.sku) == (
        "Containers",
        "Glass",
        "VAS-01",
    )
    assert (product.pack_size, product.unit_cost, product.unit_price) == (
        12,
        Decimal("2.10"),
        Decimal("4.50"),
    )
    assert (product.case_upc, product.unit_upc, product.color) == (
        "00012345678905",
        "012345678905",
        "Clear",
    )
    assert (product.discount, product.qty_for_discount) == (Decimal("10"), 2)
    # 10% off from 2 packs of 12: 24 units and up.
    assert product.price_for(23) == Decimal("4.50")
    assert product.price_for(24) == Decimal("4.05")


def test_without_a_price_the_unit_sells_at_cost_plus_markup(api, company_token, supplies):
    r = api("hardgood.product.add", company_token, {**PRODUCT, "unitPriceMarkup": "50"})
    assert r.status_code == 200, r.json_body
    product = HardGoodProduct.objects.get(pk=r.json_body["productId"])
    assert product.selling_price == Decimal("3.15")


@pytest.mark.parametrize(
    ("vendor", "status", "field", "words"),
    [
        ({"vendorCode": "NOPE"}, 404, "vendorCode", "vendor 'NOPE' does not exist"),
        ({"vendorId": 999999}, 404, "vendorId", "vendor 999999 does not exist"),
        ({"vendorCode": "RDM"}, 422, "vendorCode", "not a hard-goods vendor (vendorType 3)"),
        ({}, 422, "vendorId", "send vendorId or vendorCode"),
    ],
)
def test_the_vendor_must_exist_and_sell_hard_goods(
    api, company_token, supplies, vendor, status, field, words
):
    params = {k: v for k, v in PRODUCT.items() if k != "vendorCode"} | vendor
    r = api("hardgood.product.add", company_token, params)
    assert r.status_code == status, r.json_body
    assert r.json_body["status"] == 0
    assert r.json_body["errors"][0]["field"] == field
    assert words in r.json_body["message"]
    assert not HardGoodProduct.objects.exists()


def test_another_companys_hard_goods_vendor_is_unknown(api, company_token, supplies, other_company):
    from stemline.parties.models import Vendor

    theirs = Vendor.objects.create(
        company=other_company, name="Theirs", code="THR", port_origin="MIA", vendor_type=3
    )
    params = {k: v for k, v in PRODUCT.items() if k != "vendorCode"} | {"vendorId": theirs.pk}
    r = api("hardgood.product.add", company_token, params)
    assert r.status_code == 404, r.json_body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sku", "X" * 16),
        ("sku", ""),
        ("packSize", 0),
        ("packSize", 100000),
        ("unitCost", "-1"),
        ("unitCost", "1.234"),
        ("discount", "101"),
        ("category", ""),
        ("description", None),
    ],
)
def test_bad_product_fields_are_refused_naming_the_field(
    api, company_token, supplies, field, value
):
    params = dict(PRODUCT)
    if value is None:
        del params[field]
    else:
        params[field] = value
    r = api("hardgood.product.add", company_token, params)
    assert r.status_code == 422, r.json_body
    assert r.json_body["status"] == 0
    assert r.json_body["message"].startswith(f"{field}:")


def test_a_sku_is_unique_per_vendor(api, company_token, supplies):
    assert api("hardgood.product.add", company_token, PRODUCT).status_code == 200
    r = api("hardgood.product.add", company_token, {**PRODUCT, "sku": "vas-01"})
    assert r.status_code == 409, r.json_body
    assert r.json_body["errors"][0]["field"] == "sku"
    assert HardGoodProduct.objects.count() == 1


# ---------------------------------------------------------------- hardgood.product.update


def test_update_changes_what_is_sent_by_its_capital_i_id(api, company_token, supplies):
    product = supplies.product(color="Clear")
    r = api(
        "hardgood.product.update",
        company_token,
        {"Id": product.pk, "activePerItem": "1", "unitCost": "2.30", "category": "Glassware"},
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body == {
        "status": 1,
        "message": "The product was successfully saved.",
        "productId": product.pk,
    }
    product.refresh_from_db()
    assert product.unit_cost == Decimal("2.30")
    assert product.category.name == "Glassware"
    assert (product.sku, product.color, product.pack_size) == ("VAS-01", "Clear", 12)


def test_update_needs_id_and_active_per_item(api, company_token, supplies):
    product = supplies.product()
    r = api("hardgood.product.update", company_token, {"id": product.pk, "activePerItem": 1})
    assert r.status_code == 422
    assert r.json_body["message"].startswith("Id:")
    r = api("hardgood.product.update", company_token, {"Id": product.pk})
    assert r.status_code == 422
    assert r.json_body["message"].startswith("activePerItem:")


def test_update_of_an_unknown_product_is_404(api, company_token, supplies):
    r = api("hardgood.product.update", company_token, {"Id": 999999, "activePerItem": 1})
    assert r.status_code == 404
    assert r.json_body["errors"][0]["field"] == "Id"


def test_update_can_deactivate_and_refuses_a_grower(api, company_token, supplies):
    product = supplies.product()
    r = api("hardgood.product.update", company_token, {"Id": product.pk, "activePerItem": 0})
    assert r.status_code == 200
    product.refresh_from_db()
    assert not product.active
    r = api(
        "hardgood.product.update",
        company_token,
        {"Id": product.pk, "activePerItem": 1, "vendorCode": "RDM"},
    )
    assert r.status_code == 422
    assert "vendorType 3" in r.json_body["message"]


# ---------------------------------------------------------------- hardgood.inventory.add


def test_units_are_added_to_a_location(api, company_token, supplies):
    product = supplies.product()
    r = api(
        "hardgood.inventory.add",
        company_token,
        {"productId": product.pk, "quantity": 999, "unitCost": "2.05", "unitPrice": "4.40"},
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body["message"] == "The inventory was successfully added."
    row = HardGoodInventory.objects.get(pk=r.json_body["hardGoodInventoryId"])
    assert (row.total, row.available, row.unit_cost, row.unit_price) == (
        999,
        999,
        Decimal("2.05"),
        Decimal("4.40"),
    )
    assert row.location == supplies.location


@pytest.mark.parametrize("quantity", [0, 1000, -5])
def test_at_most_999_units_a_call(api, company_token, supplies, quantity):
    product = supplies.product()
    r = api(
        "hardgood.inventory.add",
        company_token,
        {"productId": product.pk, "quantity": quantity, "unitCost": "2.05"},
    )
    assert r.status_code == 422, r.json_body
    assert r.json_body["message"].startswith("quantity:")
    assert not HardGoodInventory.objects.exists()


def test_inventory_add_needs_a_known_active_product_and_location(api, company_token, supplies):
    r = api(
        "hardgood.inventory.add", company_token, {"productId": 999, "quantity": 1, "unitCost": 1}
    )
    assert r.status_code == 404
    assert r.json_body["errors"][0]["field"] == "productId"
    product = supplies.product(active_per_item=False)
    r = api(
        "hardgood.inventory.add",
        company_token,
        {"productId": product.pk, "quantity": 1, "unitCost": 1},
    )
    assert r.status_code == 422
    assert "inactive" in r.json_body["message"]
    r = api(
        "hardgood.inventory.add",
        company_token,
        {
            "productId": supplies.product(sku="B").pk,
            "quantity": 1,
            "unitCost": 1,
            "locationId": 999,
        },
    )
    assert r.status_code == 404
    assert r.json_body["errors"][0]["field"] == "locationId"
    r = api("hardgood.inventory.add", company_token, {"productId": product.pk, "quantity": 1})
    assert r.status_code == 422
    assert r.json_body["message"].startswith("unitCost:")


def test_a_multi_location_company_must_say_where(api, company, company_token, supplies):
    doral = Location.objects.create(company=company, name="Doral", code="DOR")
    company.multi_location = True
    company.save()
    product = supplies.product()
    add = {"productId": product.pk, "quantity": 5, "unitCost": 1}
    r = api("hardgood.inventory.add", company_token, add)
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "locationId"
    r = api("hardgood.inventory.add", company_token, {**add, "locationId": doral.pk})
    assert r.status_code == 200
    r = api("hardgood/inventory.list", company_token, {"locationId": doral.pk}, verb="GET")
    assert [row["locationCode"] for row in r.json_body["inventoryItems"]] == ["DOR"]
    default = supplies.location.pk
    r = api("hardgood/inventory.list", company_token, {"locationId": default}, verb="GET")
    assert r.json_body["inventoryItems"] == []


# ---------------------------------------------------------------- hardgood.inventory.update


def test_update_sets_cost_and_price_of_the_stock_at_a_location(api, company_token, supplies):
    product = supplies.product()
    first, second = supplies.stock(product, 10), supplies.stock(product, 5)
    r = api(
        "hardgood.inventory.update",
        company_token,
        {"productId": product.pk, "unitCost": "1.99", "unitPrice": "3.99"},
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body["message"] == "The item was successfully updated"
    assert r.json_body["inventoryIds"] == [first.pk, second.pk]
    for row in (first, second):
        row.refresh_from_db()
        assert (row.unit_cost, row.unit_price) == (Decimal("1.99"), Decimal("3.99"))


def test_update_without_stock_or_cost_is_refused(api, company_token, supplies):
    product = supplies.product()
    r = api("hardgood.inventory.update", company_token, {"productId": product.pk, "unitCost": 1})
    assert r.status_code == 404
    assert "has no inventory" in r.json_body["message"]
    supplies.stock(product, 3)
    r = api("hardgood.inventory.update", company_token, {"productId": product.pk})
    assert r.status_code == 422
    assert r.json_body["message"].startswith("unitCost:")


# ---------------------------------------------------------------- hardgood/inventory.list


def test_the_list_shows_units_by_product_and_location_with_filters(api, company_token, supplies):
    vase = supplies.product()
    foam = supplies.product(
        sku="FOAM-1",
        category="Foam",
        subcategory="Wet",
        description="Floral foam brick",
        pack_size=48,
        unit_price=None,
        unit_price_markup=Decimal("100"),
        unit_cost=Decimal("0.50"),
    )
    a, b = supplies.stock(vase, 10), supplies.stock(vase, 5, price="4.25")
    supplies.stock(foam, 48)
    r = api("hardgood/inventory.list", company_token, verb="GET")
    assert r.status_code == 200, r.json_body
    rows = {row["sku"]: row for row in r.json_body["inventoryItems"]}
    assert set(rows) == {"VAS-01", "FOAM-1"}
    assert rows["VAS-01"]["inventoryIds"] == f"{a.pk},{b.pk}"
    assert rows["VAS-01"]["quantity"] == rows["VAS-01"]["totalUnits"] == 15
    assert rows["VAS-01"]["unitPrice"] == 4.25
    assert rows["VAS-01"]["vendorId"] == supplies.vendor.pk
    assert rows["VAS-01"]["packSize"] == 12
    assert rows["VAS-01"]["locationId"] == supplies.location.pk
    assert rows["FOAM-1"]["unitPrice"] == 1.0  # cost plus 100%
    assert rows["FOAM-1"]["category"] == "Foam"
    for params, skus in (
        ({"sku": "foam-1"}, ["FOAM-1"]),
        ({"category": "contain"}, ["VAS-01"]),
        ({"vendorCode": "fsc"}, ["FOAM-1", "VAS-01"]),
        ({"vendorCode": "RDM"}, []),
    ):
        r = api("hardgood/inventory.list", company_token, params, verb="GET")
        assert sorted(row["sku"] for row in r.json_body["inventoryItems"]) == skus, params
    assert r.json_body["message"] == "Inventory not found."


def test_the_list_is_the_companys_own(api, company_token, supplies, other_company, make_token):
    supplies.stock(supplies.product(), 10)
    theirs = make_token(other_company)
    r = api("hardgood/inventory.list", theirs, verb="GET")
    assert r.status_code == 200
    assert r.json_body["inventoryItems"] == []


def test_methods_need_their_grant(api, company, make_token, supplies):
    token = make_token(company, grants=["hardgood/inventory.list"])
    r = api("hardgood.product.add", token, PRODUCT)
    assert r.status_code == 403
    assert api("hardgood/inventory.list", token, verb="GET").status_code == 200
    customer_token = make_token(company, "customer")
    assert api("hardgood/inventory.list", customer_token, verb="GET").status_code == 403


def test_the_list_costs_the_same_few_queries_however_many_products(api, company_token, supplies):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as captured:
            r = api("hardgood/inventory.list", company_token, verb="GET")
        assert r.json_body["inventoryItems"]
        return sum("tokens_apitoken" not in q["sql"] for q in captured.captured_queries)

    supplies.stock(supplies.product(), 5)
    few = count()
    for n in range(30):
        product = supplies.product(sku=f"RIB-{n}", category=f"Ribbon {n % 3}")
        supplies.stock(product, 5)
        supplies.stock(product, 5)
    assert count() == few <= 2
