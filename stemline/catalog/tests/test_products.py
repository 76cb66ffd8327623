"""product.list, product.add and product.update as a wholesaler's integration uses them."""

import pytest
from django.db.models import F

from stemline.catalog.models import Category, Product
from stemline.tokens.models import ApiToken

PRODUCT_FIELDS = {
    "id",
    "description",
    "active",
    "category",
    "divisionId",
    "divisionDescription",
    "variety",
    "color",
    "grade",
    "legacyCode",
    "tags",
    "defaultUnitType",
}

FREEDOM = {
    "category": "Roses",
    "variety": "Freedom",
    "color": "Red",
    "grade": "50cm",
    "code": "RFR50",
    "regionsOfOrigin": ["Africa", "Quito"],
    "productRollUpCode": "ROSEMIX",
    "defaultUnitType": "Bunch",
    "tags": "valentine,premium",
}


def add(api, token, **fields):
    response = api("product.add", token, fields)
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1
    return response.json_body["productId"]


def listed(api, token, **filters):
    response = api("product.list", token, filters, verb="GET")
    assert response.status_code == 200, response.json_body
    return response.json_body["products"]


def refused(response, status: int, field: str) -> dict:
    body = response.json_body
    assert response.status_code == status, body
    assert body["status"] == 0
    assert body["message"].startswith(f"{field}:"), body["message"]
    assert body["errors"][0]["field"] == field
    return body


# ---------------------------------------------------------------- product.add


def test_added_product_is_listed_with_the_reference_field_names(api, company_token):
    product_id = add(api, company_token, **FREEDOM)

    (row,) = listed(api, company_token)
    assert set(row) == PRODUCT_FIELDS
    assert row == {
        "id": product_id,
        "description": "Roses Freedom Red 50cm",
        "active": 1,
        "category": "Roses",
        "divisionId": 1,
        "divisionDescription": "Flowers",
        "variety": "Freedom",
        "color": "Red",
        "grade": "50cm",
        "legacyCode": "RFR50",
        "tags": "valentine,premium",
        "defaultUnitType": "Bunch",
    }
    # Fields the list does not show are still kept.
    product = Product.objects.get(pk=product_id)
    assert product.regions_of_origin == ["Africa", "Quito"]
    assert product.product_roll_up_code == "ROSEMIX"


def test_add_answers_the_reference_message(api, company_token):
    body = api("product.add", company_token, {"category": "Roses", "variety": "Mondial"}).json_body
    assert body["message"] == "The product was successfully saved."
    assert isinstance(body["productId"], int)


def test_a_given_description_is_kept_and_one_variety_color_or_grade_suffices(api, company_token):
    only_color = add(api, company_token, category="Hydrangea", color="White")
    only_grade = add(api, company_token, category="Carnations", grade="Fancy", description="Mix")

    rows = {r["id"]: r for r in listed(api, company_token)}
    assert rows[only_color]["description"] == "Hydrangea White"
    assert rows[only_grade]["description"] == "Mix"
    assert rows[only_color]["defaultUnitType"] == "Stem"


def test_add_accepts_a_form_body_as_komet_clients_send(api, company_token):
    response = api(
        "product.add",
        company_token,
        {"category": "Roses", "variety": "Explorer", "regionsOfOrigin[]": ["Ecuador", "Cayambe"]},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.json_body
    product = Product.objects.get(pk=response.json_body["productId"])
    assert product.regions_of_origin == ["Ecuador", "Cayambe"]


def test_an_unknown_category_is_created_and_then_listed(api, company_token):
    assert api("category.list", company_token, verb="GET").json_body["categoryItems"] == []

    add(api, company_token, category="Peonies", variety="Sarah Bernhardt")
    # The same name in another case is the same category, not a second one.
    add(api, company_token, category="peonies", variety="Coral Charm")

    items = api("category.list", company_token, verb="GET").json_body["categoryItems"]
    assert [c["categoryName"] for c in items] == ["Peonies"]
    assert {r["category"] for r in listed(api, company_token)} == {"Peonies"}


def test_missing_category_is_refused_naming_it(api, company_token):
    refused(api("product.add", company_token, {"variety": "Freedom"}), 422, "category")
    refused(
        api("product.add", company_token, {"category": "  ", "variety": "Freedom"}), 422, "category"
    )
    assert not Product.objects.exists()
    assert not Category.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [{}, {"variety": "", "color": "", "grade": ""}, {"variety": "   ", "color": " "}],
    ids=["absent", "empty", "blank"],
)
def test_a_product_needs_a_variety_color_or_grade(api, company_token, fields):
    body = refused(
        api("product.add", company_token, {"category": "Roses", **fields}), 422, "variety"
    )
    assert "variety, color, grade" in body["message"]
    assert not Product.objects.exists()


def test_a_duplicate_code_is_a_conflict_naming_code(api, company_token):
    first = add(api, company_token, category="Roses", variety="Freedom", code="RFR50")

    body = refused(
        api(
            "product.add",
            company_token,
            {"category": "Roses", "variety": "Vendela", "code": "RFR50"},
        ),
        409,
        "code",
    )
    assert "RFR50" in body["message"]
    assert [r["id"] for r in listed(api, company_token)] == [first]


def test_codes_differing_only_in_case_are_duplicates(api, company_token):
    # The legacyCode filter is case-insensitive, so "rfr50" must not name a second product.
    add(api, company_token, category="Roses", variety="Freedom", code="RFR50")

    response = api(
        "product.add", company_token, {"category": "Roses", "variety": "Vendela", "code": "rfr50"}
    )
    refused(response, 409, "code")
    assert len(listed(api, company_token, legacyCode="RFR50")) == 1


def test_products_without_a_code_do_not_conflict(api, company_token):
    add(api, company_token, category="Roses", variety="Freedom")
    add(api, company_token, category="Roses", variety="Vendela")
    assert len(listed(api, company_token)) == 2


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("category", 200),
        ("variety", 100),
        ("color", 100),
        ("grade", 100),
        ("code", 20),
        ("productRollUpCode", 20),
        ("description", 300),
        ("tags", 200),
    ],
)
def test_over_long_text_is_refused_naming_the_field(api, company_token, field, limit):
    fields = {"category": "Roses", "variety": "Freedom", field: "x" * (limit + 1)}
    body = refused(api("product.add", company_token, fields), 422, field)
    assert str(limit) in body["message"]

    fields[field] = "x" * limit
    assert api("product.add", company_token, fields).status_code == 200


def test_an_over_long_region_is_refused_naming_its_position(api, company_token):
    fields = {"category": "Roses", "variety": "Freedom", "regionsOfOrigin": ["Africa", "y" * 51]}
    refused(api("product.add", company_token, fields), 422, "regionsOfOrigin[1]")


@pytest.mark.parametrize("unit", ["Box", "Stems", "", 1])
def test_default_unit_type_must_be_stem_or_bunch(api, company_token, unit):
    fields = {"category": "Roses", "variety": "Freedom", "defaultUnitType": unit}
    refused(api("product.add", company_token, fields), 422, "defaultUnitType")
    assert not Product.objects.exists()


def test_a_misspelled_field_is_ignored_and_named_unless_the_token_is_strict(api, company_token):
    r = api("product.add", company_token, {"category": "Roses", "variety": "X", "colour": "Red"})
    assert r.status_code == 200, r.json_body
    assert r["X-Ignored-Parameters"] == "colour"
    ApiToken.objects.filter(pk=company_token.token.pk).update(
        strict_parameters=True, version=F("version") + 1
    )
    body = refused(
        api("product.add", company_token, {"category": "Tulips", "variety": "Y", "colour": "Red"}),
        422,
        "colour",
    )
    assert "not a parameter" in body["message"]
    assert not Product.objects.filter(category__name="Tulips").exists()


def test_product_add_needs_the_grant(api, company, make_token):
    token = make_token(company, grants=["product.list"])
    response = api("product.add", token, {"category": "Roses", "variety": "Freedom"})
    assert response.status_code == 403
    assert response.json_body["status"] == 0
    assert "product.add" in response.json_body["message"]
    assert not Product.objects.exists()


# ---------------------------------------------------------------- product.list


@pytest.fixture
def catalog(api, company_token):
    return {
        "freedom": add(
            api, company_token, category="Roses", variety="Freedom", color="Red", code="RFR50"
        ),
        "vendela": add(
            api, company_token, category="Roses", variety="Vendela", color="White", code="RVW50"
        ),
        "alstro": add(
            api, company_token, category="Alstroemeria", color="Assorted", code="ALS-ASST"
        ),
    }


def test_list_is_sorted_by_description(api, company_token, catalog):
    descriptions = [r["description"] for r in listed(api, company_token)]
    assert descriptions == ["Alstroemeria Assorted", "Roses Freedom Red", "Roses Vendela White"]


def test_id_filter_matches_exactly(api, company_token, catalog):
    assert [r["id"] for r in listed(api, company_token, id=catalog["vendela"])] == [
        catalog["vendela"]
    ]
    assert listed(api, company_token, id=max(catalog.values()) + 1000) == []


def test_legacy_code_filter_is_exact_but_case_insensitive(api, company_token, catalog):
    assert [r["id"] for r in listed(api, company_token, legacyCode="rfr50")] == [catalog["freedom"]]
    assert [r["id"] for r in listed(api, company_token, legacyCode="ALS-asst")] == [
        catalog["alstro"]
    ]
    assert listed(api, company_token, legacyCode="RFR") == []
    assert listed(api, company_token, legacyCode="R") == []


def test_description_filter_matches_a_substring_in_any_case(api, company_token, catalog):
    ids = [r["id"] for r in listed(api, company_token, description="ROSES")]
    assert ids == [catalog["freedom"], catalog["vendela"]]
    assert [r["id"] for r in listed(api, company_token, description="ndel")] == [catalog["vendela"]]
    assert listed(api, company_token, description="tulip") == []


def test_filters_combine(api, company_token, catalog):
    assert listed(api, company_token, description="roses", legacyCode="ALS-ASST") == []
    rows = listed(api, company_token, description="roses", legacyCode="rvw50")
    assert [r["id"] for r in rows] == [catalog["vendela"]]


def test_list_answers_post_with_a_json_body_too(api, company_token, catalog):
    response = api("product.list", company_token, {"legacyCode": "RFR50"})
    assert [r["id"] for r in response.json_body["products"]] == [catalog["freedom"]]


def test_a_non_numeric_id_filter_is_refused_naming_it(api, company_token, catalog):
    refused(api("product.list", company_token, {"id": "abc"}, verb="GET"), 422, "id")


@pytest.mark.parametrize("flag", ["1", "true", "True"])
def test_inactive_products_are_hidden_unless_asked_for(api, company_token, catalog, flag):
    response = api("product.update", company_token, {"productId": catalog["vendela"], "active": 0})
    assert response.status_code == 200, response.json_body

    assert catalog["vendela"] not in {r["id"] for r in listed(api, company_token)}
    assert listed(api, company_token, description="vendela") == []

    rows = {r["id"]: r for r in listed(api, company_token, includeInactive=flag)}
    assert set(rows) == set(catalog.values())
    assert rows[catalog["vendela"]]["active"] == 0
    assert rows[catalog["freedom"]]["active"] == 1


# ---------------------------------------------------------------- product.update


def test_update_changes_only_the_fields_sent(api, company_token):
    product_id = add(api, company_token, **FREEDOM)
    before = Product.objects.get(pk=product_id)

    response = api("product.update", company_token, {"productId": product_id, "color": "Burgundy"})
    assert response.status_code == 200, response.json_body
    assert response.json_body["productId"] == product_id
    assert response.json_body["message"] == "The product was successfully saved."

    after = Product.objects.get(pk=product_id)
    assert after.color == "Burgundy"
    for name in (
        "category_id",
        "variety",
        "grade",
        "legacy_code",
        "regions_of_origin",
        "product_roll_up_code",
        "default_unit_type",
        "description",
        "tags",
        "active",
        "division",
    ):
        assert getattr(after, name) == getattr(before, name), name


def test_update_can_change_every_field(api, company_token):
    product_id = add(api, company_token, **FREEDOM)
    changes = {
        "productId": product_id,
        "category": "Garden Roses",
        "variety": "Juliet",
        "color": "Peach",
        "grade": "40cm",
        "code": "GRJ40",
        "regionsOfOrigin": [],
        "productRollUpCode": "GARDEN",
        "defaultUnitType": "Stem",
        "description": "Garden Rose Juliet",
        "tags": "wedding",
    }
    assert api("product.update", company_token, changes).status_code == 200

    (row,) = listed(api, company_token)
    assert (row["category"], row["variety"], row["color"], row["grade"]) == (
        "Garden Roses",
        "Juliet",
        "Peach",
        "40cm",
    )
    assert (row["legacyCode"], row["defaultUnitType"], row["description"], row["tags"]) == (
        "GRJ40",
        "Stem",
        "Garden Rose Juliet",
        "wedding",
    )
    product = Product.objects.get(pk=product_id)
    assert product.regions_of_origin == []
    assert product.product_roll_up_code == "GARDEN"
    assert Category.objects.filter(name="Garden Roses").exists()


def test_an_inactive_product_can_be_reactivated(api, company_token):
    product_id = add(api, company_token, category="Roses", variety="Freedom")
    api("product.update", company_token, {"productId": product_id, "active": "0"})
    assert listed(api, company_token) == []

    api("product.update", company_token, {"productId": product_id, "active": "1"})
    assert [r["id"] for r in listed(api, company_token)] == [product_id]


def test_update_keeping_its_own_code_is_not_a_conflict(api, company_token):
    product_id = add(api, company_token, category="Roses", variety="Freedom", code="RFR50")
    response = api(
        "product.update", company_token, {"productId": product_id, "code": "RFR50", "grade": "60cm"}
    )
    assert response.status_code == 200, response.json_body
    response = api("product.update", company_token, {"productId": product_id, "code": "rfr50"})
    assert response.status_code == 200, response.json_body


def test_update_to_another_products_code_is_a_conflict(api, company_token):
    add(api, company_token, category="Roses", variety="Freedom", code="RFR50")
    vendela = add(api, company_token, category="Roses", variety="Vendela", code="RVW50")

    refused(
        api("product.update", company_token, {"productId": vendela, "code": "RFR50"}), 409, "code"
    )
    assert Product.objects.get(pk=vendela).legacy_code == "RVW50"


def test_update_of_an_unknown_product_is_not_found(api, company_token):
    body = refused(
        api("product.update", company_token, {"productId": 999999, "color": "Red"}),
        404,
        "productId",
    )
    assert "999999" in body["message"]


def test_update_needs_a_product_id(api, company_token):
    refused(api("product.update", company_token, {"color": "Red"}), 422, "productId")


def test_update_cannot_leave_a_product_without_variety_color_or_grade(api, company_token):
    product_id = add(api, company_token, category="Roses", variety="Freedom")
    refused(
        api("product.update", company_token, {"productId": product_id, "variety": ""}),
        422,
        "variety",
    )
    assert Product.objects.get(pk=product_id).variety == "Freedom"


@pytest.mark.parametrize(("field", "value"), [("color", "c" * 101), ("defaultUnitType", "Box")])
def test_update_refuses_bad_values_naming_the_field(api, company_token, field, value):
    product_id = add(api, company_token, category="Roses", variety="Freedom", color="Red")
    refused(
        api("product.update", company_token, {"productId": product_id, field: value}), 422, field
    )
    product = Product.objects.get(pk=product_id)
    assert (product.color, product.default_unit_type) == ("Red", "Stem")


# ---------------------------------------------------------------- token types and tenants


def test_a_vendor_token_can_list_products_but_not_add_them(api, company, company_token, make_token):
    product_id = add(api, company_token, category="Roses", variety="Freedom")
    vendor_token = make_token(company, "vendor", grants=["product.list", "boxtype.list"])

    assert [r["id"] for r in listed(api, vendor_token)] == [product_id]

    response = api("product.add", vendor_token, {"category": "Roses", "variety": "Vendela"})
    assert response.status_code == 403
    assert "Vendor" in response.json_body["message"]
    assert Product.objects.count() == 1


def test_a_customer_token_cannot_list_the_catalog(api, company, make_token):
    customer_token = make_token(company, "customer")
    response = api("product.list", customer_token, verb="GET")
    assert response.status_code == 403
    assert response.json_body["status"] == 0


def test_another_company_cannot_see_a_product_even_by_id(
    api, company_token, other_company, make_token
):
    product_id = add(api, company_token, category="Roses", variety="Freedom", code="RFR50")
    other = make_token(other_company)

    assert listed(api, other) == []
    assert listed(api, other, id=product_id) == []
    assert listed(api, other, id=product_id, includeInactive=1) == []
    assert listed(api, other, legacyCode="RFR50") == []


def test_another_company_cannot_update_a_product(api, company_token, other_company, make_token):
    product_id = add(api, company_token, category="Roses", variety="Freedom")
    other = make_token(other_company)

    response = api(
        "product.update", other, {"productId": product_id, "variety": "Hijacked", "active": 0}
    )
    refused(response, 404, "productId")
    product = Product.objects.get(pk=product_id)
    assert (product.variety, product.active) == ("Freedom", True)


def test_a_token_cannot_act_on_another_company_by_x_account(api, company_token, other_company):
    response = api("product.list", company_token, verb="GET", account=other_company.account_id)
    assert response.status_code == 403
    assert response.json_body["errors"][0]["field"] == "X-ACCOUNT"


def test_codes_and_categories_are_per_company(api, company_token, other_company, make_token):
    add(api, company_token, category="Roses", variety="Freedom", code="RFR50")
    other = make_token(other_company)

    add(api, other, category="Roses", variety="Freedom", code="RFR50")

    assert Category.objects.filter(name="Roses").count() == 2
    other_categories = api("category.list", other, verb="GET").json_body["categoryItems"]
    assert [c["categoryId"] for c in other_categories] == [
        Category.objects.get(company=other_company).pk
    ]


# ---------------------------------------------------------------- cost


def test_listing_many_products_costs_a_constant_number_of_queries(
    api, company, company_token, django_assert_max_num_queries
):
    categories = [Category.objects.create(company=company, name=f"Category {i}") for i in range(10)]
    Product.objects.bulk_create(
        Product(
            company=company,
            category=categories[i % 10],
            description=f"Product {i:03}",
            variety=f"Variety {i}",
            legacy_code=f"P{i:03}",
        )
        for i in range(150)
    )
    # Token look-up, rate-limit update, the products with their categories.
    with django_assert_max_num_queries(3):
        rows = listed(api, company_token)
    assert len(rows) == 150
    assert {r["category"] for r in rows} == {c.name for c in categories}
