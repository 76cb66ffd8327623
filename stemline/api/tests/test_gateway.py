"""The gateway as an integration meets it: envelope, HTTP codes, parameters from anywhere."""

import json

import pytest
from django.db.models import F
from django.test import override_settings

from stemline.catalog.models import Category, Product
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def _product(company, code="RFR50", description="Rose Freedom Red 50cm"):
    category, _ = Category.objects.get_or_create(company=company, name="Roses")
    return Product.objects.create(
        company=company,
        category=category,
        description=description,
        variety="Freedom",
        color="Red",
        grade="50cm",
        legacy_code=code,
    )


def test_unknown_method_is_404_with_envelope(api, company_token):
    r = api("product.explode", company_token)
    assert r.status_code == 404
    assert r.json_body["status"] == 0
    assert "product.explode" in r.json_body["message"]


def test_post_only_method_refuses_get_with_405(api, company_token):
    r = api("product.add", company_token, {"category": "Roses"}, verb="GET")
    assert r.status_code == 405
    assert r.json_body["status"] == 0
    assert r["Allow"] == "POST"


def test_list_method_answers_get_and_post(api, company, company_token):
    product = _product(company)
    for verb in ("GET", "POST"):
        r = api("product.list", company_token, {"id": product.pk}, verb=verb)
        assert r.status_code == 200, r.json_body
        assert r.json_body["status"] == 1
        assert [p["id"] for p in r.json_body["products"]] == [product.pk]


def test_token_accepted_from_header_query_and_json_body(api, client, company, company_token):
    product = _product(company)
    secret = company_token.secret
    via_header = api("product.list", company_token, {"id": product.pk}, verb="GET")
    via_query = client.get(f"/api/product.list?authenticationToken={secret}&id={product.pk}")
    via_body = client.post(
        "/api/product.list",
        json.dumps({"authenticationToken": secret, "id": product.pk}),
        content_type="application/json",
    )
    for response in (via_header, via_query, via_body):
        assert response.status_code == 200
        assert json.loads(response.content)["products"][0]["legacyCode"] == "RFR50"


def test_parameters_from_form_body_and_numbers_as_strings(api, company, company_token):
    product = _product(company)
    r = api(
        "product.list",
        company_token,
        {"id": str(product.pk)},
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 200, r.json_body
    assert r.json_body["products"][0]["id"] == product.pk
    r = api("product.update", company_token, {"productId": str(product.pk), "active": "0"})
    assert r.status_code == 200, r.json_body
    product.refresh_from_db()
    assert product.active is False


@pytest.mark.parametrize(
    "flag,expected",
    [
        ("1", True),
        (1, True),
        (True, True),
        ("true", True),
        ("0", False),
        (0, False),
        ("false", False),
    ],
)
def test_booleans_accepted_in_every_komet_spelling(api, company, company_token, flag, expected):
    product = _product(company)
    r = api("product.update", company_token, {"productId": product.pk, "active": flag})
    assert r.status_code == 200, r.json_body
    product.refresh_from_db()
    assert product.active is expected


def test_missing_token_is_401(api):
    r = api("product.list", None, verb="GET")
    assert r.status_code == 401
    assert r.json_body["status"] == 0
    assert "authenticationToken" in r.json_body["message"]


def test_unknown_token_is_401(api):
    r = api("product.list", "x" * 40, verb="GET")
    assert r.status_code == 401
    assert r.json_body["status"] == 0


def test_x_account_of_another_company_is_403(api, company_token, other_company):
    r = api("product.list", company_token, account=other_company.account_id, verb="GET")
    assert r.status_code == 403
    assert "X-ACCOUNT" in r.json_body["message"]


def test_x_account_not_a_number_is_400_naming_it(api, company_token):
    r = api("product.list", company_token, account="abc", verb="GET")
    assert r.status_code == 400
    assert r.json_body["errors"][0]["field"] == "X-ACCOUNT"


def test_company_id_in_body_must_match(api, company, company_token, other_company):
    ok = api("product.list", company_token, {"companyId": company.account_id})
    assert ok.status_code == 200
    r = api("product.list", company_token, {"companyId": other_company.account_id})
    assert r.status_code == 403
    assert "companyId" in r.json_body["message"]


def test_method_not_granted_is_403(api, company, make_token):
    token = make_token(company, grants=["boxtype.list"])
    assert api("boxtype.list", token, verb="GET").status_code == 200
    r = api("product.list", token, verb="GET")
    assert r.status_code == 403
    assert "product.list" in r.json_body["message"]


def test_wrong_token_type_is_403(api, company, make_token):
    token = make_token(company, "customer")
    r = api("product.add", token, {"category": "Roses", "variety": "Freedom"})
    assert r.status_code == 403
    assert "Customer" in r.json_body["message"]
    assert not Product.objects.filter(company=company).exists()


def test_malformed_json_is_400(api, company_token):
    r = api("product.add", company_token, raw=b'{"category": "Roses",')
    assert r.status_code == 400
    assert r.json_body["status"] == 0
    assert "JSON" in r.json_body["message"]


def test_json_body_that_is_not_an_object_is_400(api, company_token):
    r = api("product.add", company_token, raw=b'["Roses"]')
    assert r.status_code == 400


def test_nan_is_refused(api, company_token):
    r = api("product.list", company_token, raw=b'{"id": NaN}')
    assert r.status_code == 400


def test_wrong_type_names_the_field(api, company_token):
    r = api("product.list", company_token, {"id": "twelve"})
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "id"
    assert r.json_body["message"].startswith("id:")


def test_overlong_string_names_the_field_and_writes_nothing(api, company, company_token):
    r = api("product.add", company_token, {"category": "Roses", "variety": "V" * 101})
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "variety"
    assert not Product.objects.filter(company=company).exists()


def test_unknown_field_is_ignored_and_named_in_a_header(api, company, company_token):
    r = api("product.add", company_token, {"category": "Roses", "variety": "X", "colour": "Red"})
    assert r.status_code == 200, r.json_body
    assert r["X-Ignored-Parameters"] == "colour"
    assert Product.objects.filter(company=company, variety="X").exists()


def test_unknown_field_is_refused_by_name_for_a_strict_token(api, company, company_token):
    ApiToken.objects.filter(pk=company_token.token.pk).update(
        strict_parameters=True, version=F("version") + 1
    )
    r = api("product.add", company_token, {"category": "Roses", "variety": "X", "colour": "Red"})
    assert r.status_code == 422
    assert r.json_body["message"] == "colour: is not a parameter of this method"
    assert any(e["field"] == "colour" for e in r.json_body["errors"])
    assert not Product.objects.filter(company=company).exists()


def test_integer_out_of_range_is_422_not_500(api, company_token):
    r = api("product.list", company_token, {"id": 10**30})
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "id"


@pytest.mark.parametrize("text", ["bad\x00text", "\ud800"])
def test_text_a_database_cannot_store_is_422(api, company_token, text):
    raw = json.dumps({"category": "Roses", "variety": text}).encode()
    r = api("product.add", company_token, raw=raw)
    assert r.status_code == 422
    assert r.json_body["errors"][0]["field"] == "variety"


def test_body_over_64_kb_is_413(api, company, company_token):
    r = api(
        "product.add", company_token, {"category": "Roses", "variety": "x", "tags": "y" * 70_000}
    )
    assert r.status_code == 413
    assert r.json_body["status"] == 0
    assert "64 KB" in r.json_body["message"]
    assert not Product.objects.filter(company=company).exists()


def test_every_answer_is_json_with_status_and_message(api, company_token):
    for method in ("product.list", "boxtype.list", "category.list"):
        r = api(method, company_token, verb="GET")
        assert r["Content-Type"] == "application/json"
        assert r.json_body["status"] == 1
        assert isinstance(r.json_body["message"], str)


def test_last_used_is_recorded(api, company_token):
    assert company_token.token.last_used_at is None
    api("boxtype.list", company_token, verb="GET")
    company_token.token.refresh_from_db()
    assert company_token.token.last_used_at is not None


@override_settings(API_RATE_PER_SECOND=1, API_RATE_BURST=3)
def test_rate_limit_answers_429_with_retry_after(api, company_token):
    answers = [api("boxtype.list", company_token, verb="GET") for _ in range(5)]
    codes = [a.status_code for a in answers]
    assert codes[:3] == [200, 200, 200]
    assert codes[3] == 429
    limited = answers[3]
    assert limited.json_body["status"] == 0
    assert int(limited["Retry-After"]) >= 1
    assert limited["RateLimit-Remaining"] == "0"
    assert [a["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]


def test_rate_limit_is_per_token_and_configurable(api, company, make_token):
    slow = make_token(company, "vendor")
    ApiToken.objects.filter(pk=slow.token.pk).update(rate_per_second=1, rate_burst=1)
    fast = make_token(company)
    assert api("boxtype.list", slow, verb="GET").status_code == 200
    assert api("boxtype.list", slow, verb="GET").status_code == 429
    assert api("boxtype.list", fast, verb="GET").status_code == 200


def test_revoked_token_stops_at_once(api, company_token):
    from stemline.tokens.services import revoke_token

    assert api("boxtype.list", company_token, verb="GET").status_code == 200
    revoke_token(token=company_token.token)
    assert api("boxtype.list", company_token, verb="GET").status_code == 401


def test_revocation_stops_a_token_that_holds_leased_requests(api, company_token):
    from stemline.api import auth
    from stemline.tokens.services import revoke_token

    ApiToken.objects.filter(pk=company_token.token.pk).update(rate_per_second=1000, rate_burst=1000)
    assert api("boxtype.list", company_token, verb="GET").status_code == 200
    assert auth._leases[company_token.token.key_hash].slots > 0
    revoke_token(token=company_token.token)
    assert api("boxtype.list", company_token, verb="GET").status_code == 401


def test_new_grant_works_at_once_despite_the_snapshot(api, company, make_token):
    from stemline.tokens.services import update_grants

    token = make_token(company, grants=["boxtype.list"])
    assert api("boxtype.list", token, verb="GET").status_code == 200
    assert api("category.list", token, verb="GET").status_code == 403
    update_grants(token=token.token, grants=["boxtype.list", "category.list"], transactional=False)
    assert api("category.list", token, verb="GET").status_code == 200
    update_grants(token=token.token, grants=["category.list"], transactional=False)
    assert api("boxtype.list", token, verb="GET").status_code == 403
