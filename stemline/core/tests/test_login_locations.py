"""login and the location lists, as a person's integration and a marketplace call them."""

import pytest

from stemline.core.models import Location, Role
from stemline.core.services import create_user
from stemline.parties.models import Customer, Vendor
from stemline.tokens.models import ApiToken

PASSWORD = "Tulip-Fields-2024"


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # The default hasher is deliberately slow; these tests check who gets in, not its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def person(company):
    def make(role=Role.SALES, email="maria@sunrise.example"):
        vendor = None
        if role == Role.VENDOR:
            vendor = Vendor.objects.create(
                company=company, name="Finca", code="FIN", port_origin="BOG"
            )
        return create_user(
            company=company, email=email, role=role, password=PASSWORD, vendor=vendor
        )

    return make


def login(api, username, password=PASSWORD, **kw):
    return api("login", None, {"username": username, "password": password}, **kw)


def api_key(api, username, password=PASSWORD) -> str:
    response = login(api, username, password)
    assert response.status_code == 200, response.json_body
    assert response.json_body["status"] == 1
    return response.json_body["apiKey"]


# ---------------------------------------------------------------- login


def test_login_gives_a_key_that_works_as_a_user_token(api, company, person):
    user = person(Role.ADMIN)
    response = login(api, "maria@sunrise.example")
    assert response.json_body["message"] == "OK"
    key = response.json_body["apiKey"]
    assert len(key) >= 32

    token = ApiToken.objects.get(user=user)
    assert token.token_type == "user" and token.company == company

    products = api("product.list", key, verb="GET")
    assert products.status_code == 200, products.json_body
    assert products.json_body["status"] == 1


def test_a_second_login_returns_the_same_key(api, person):
    person()
    first = api_key(api, "maria@sunrise.example")
    second = api_key(api, "MARIA@Sunrise.example")
    assert first == second
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_login_takes_its_parameters_from_the_url_as_the_reference_shows(api, client, person):
    person()
    response = client.post(f"/api/login?username=maria@sunrise.example&password={PASSWORD}")
    assert response.status_code == 200
    assert len(response.json()["apiKey"]) >= 32


@pytest.mark.parametrize(
    ("username", "password"),
    [("maria@sunrise.example", "wrong"), ("nobody@sunrise.example", PASSWORD)],
    ids=["wrong password", "unknown user"],
)
def test_bad_credentials_are_refused_alike(api, person, username, password):
    person()
    response = login(api, username, password)
    assert response.status_code == 401
    body = response.json_body
    assert body["status"] == 0
    assert "apiKey" not in body
    # The same answer for both, so a caller cannot tell which e-mails have accounts.
    assert body["message"] == "username or password is not correct"
    assert not ApiToken.objects.exists()


def test_login_needs_both_fields(api, person):
    person()
    response = api("login", None, {"username": "maria@sunrise.example"})
    assert response.status_code == 422
    assert response.json_body["errors"][0]["field"] == "password"


def test_inactive_and_portal_users_cannot_log_in(api, company, person):
    user = person()
    user.is_active = False
    user.save()
    assert login(api, "maria@sunrise.example").status_code == 401

    person(Role.VENDOR, email="grower@farm.example")
    assert login(api, "grower@farm.example").status_code == 401


def test_a_sales_user_can_read_the_catalog_but_not_change_it(api, person):
    person(Role.SALES)
    key = api_key(api, "maria@sunrise.example")

    assert api("product.list", key, verb="GET").status_code == 200
    response = api("product.add", key, {"category": "Roses", "variety": "Freedom"})
    assert response.status_code == 403
    assert response.json_body["status"] == 0
    assert "role" in response.json_body["message"]


def test_a_setup_user_can_add_products(api, person):
    person(Role.SETUP)
    key = api_key(api, "maria@sunrise.example")

    response = api("product.add", key, {"category": "Roses", "variety": "Freedom"})
    assert response.status_code == 200, response.json_body
    (row,) = api("product.list", key, verb="GET").json_body["products"]
    assert row["id"] == response.json_body["productId"]


def test_a_user_key_stops_working_when_the_user_is_deactivated(api, person):
    user = person(Role.ADMIN)
    key = api_key(api, "maria@sunrise.example")
    user.is_active = False
    user.save()
    assert api("product.list", key, verb="GET").status_code == 401


# ---------------------------------------------------------------- location.list


@pytest.fixture
def branches(company):
    # The company starts with "Main Warehouse" (MAIN).
    return {
        "miami": Location.objects.create(company=company, name="Miami Cooler", code="MIA"),
        "doral": Location.objects.create(
            company=company, name="Doral Annex", code="DOR", short_name="Doral"
        ),
        "closed": Location.objects.create(
            company=company, name="Old Cooler", code="OLD", active=False
        ),
    }


def locations(api, token, **filters):
    response = api("location.list", token, filters, verb="GET")
    assert response.status_code == 200, response.json_body
    return response.json_body["locations"]


def test_locations_are_listed_by_name(api, company_token, branches):
    rows = locations(api, company_token)
    assert [r["name"] for r in rows] == [
        "Doral Annex",
        "Main Warehouse",
        "Miami Cooler",
        "Old Cooler",
    ]
    assert rows[0] == {"id": branches["doral"].pk, "name": "Doral Annex", "code": "DOR"}


def test_location_filters(api, company_token, branches):
    miami = branches["miami"].pk
    assert [r["id"] for r in locations(api, company_token, id=miami)] == [miami]
    assert [r["code"] for r in locations(api, company_token, name="COOLER")] == ["MIA", "OLD"]
    assert [r["code"] for r in locations(api, company_token, code="mia")] == ["MIA"]
    assert locations(api, company_token, code="MI") == []
    assert locations(api, company_token, name="cooler", code="DOR") == []


def test_location_list_shows_only_the_callers_company(api, branches, other_company, make_token):
    other = make_token(other_company)
    assert [r["name"] for r in locations(api, other)] == ["Main Warehouse"]
    assert locations(api, other, id=branches["miami"].pk) == []


def test_an_over_long_location_code_filter_is_refused(api, company_token):
    response = api("location.list", company_token, {"code": "C" * 11}, verb="GET")
    assert response.status_code == 422
    assert response.json_body["errors"][0]["field"] == "code"


# ---------------------------------------------------------------- company.location.list


@pytest.fixture
def customer(company):
    return Customer.objects.create(company=company, name="Bloom Florist")


def company_locations(api, token, customer_id, **kw):
    return api("company.location.list", token, {"customerId": customer_id}, verb="GET", **kw)


def test_company_location_list_needs_x_account(api, company_token, customer):
    # A bare secret: the fixture would otherwise add the token's own X-ACCOUNT.
    response = company_locations(api, company_token.secret, customer.pk)
    assert response.status_code == 400
    assert response.json_body["status"] == 0
    assert response.json_body["errors"][0]["field"] == "X-ACCOUNT"
    assert "X-ACCOUNT" in response.json_body["message"]


@pytest.mark.parametrize("account", ["abc", "12.5"])
def test_a_malformed_x_account_is_refused(api, company_token, customer, account):
    response = company_locations(api, company_token.secret, customer.pk, account=account)
    assert response.status_code == 400
    assert response.json_body["errors"][0]["field"] == "X-ACCOUNT"


def test_another_companys_x_account_is_forbidden(api, company_token, customer, other_company):
    response = company_locations(api, company_token, customer.pk, account=other_company.account_id)
    assert response.status_code == 403
    assert response.json_body["errors"][0]["field"] == "X-ACCOUNT"


def test_company_location_list_needs_a_known_customer(api, company_token):
    missing = api("company.location.list", company_token, {}, verb="GET")
    assert missing.status_code == 422
    assert missing.json_body["errors"][0]["field"] == "customerId"

    unknown = company_locations(api, company_token, 987654)
    assert unknown.status_code == 404
    assert unknown.json_body["errors"][0]["field"] == "customerId"


def test_another_companys_customer_is_not_found(api, customer, other_company, make_token):
    response = company_locations(api, make_token(other_company), customer.pk)
    assert response.status_code == 404
    assert response.json_body["errors"][0]["field"] == "customerId"


def test_a_customer_sees_the_locations_assigned_to_it(api, company_token, customer, branches):
    customer.locations.set([branches["miami"], branches["doral"]])

    response = company_locations(api, company_token, customer.pk)
    assert response.status_code == 200, response.json_body
    assert response.json_body["locations"] == [
        {
            "id": branches["doral"].pk,
            "name": "Doral Annex",
            "shortName": "Doral",
            "code": "DOR",
            "active": 1,
        },
        {
            "id": branches["miami"].pk,
            "name": "Miami Cooler",
            "shortName": "MIA",
            "code": "MIA",
            "active": 1,
        },
    ]


def test_a_customer_without_assignments_sees_every_open_location(
    api, company, company_token, customer, branches
):
    response = company_locations(api, company_token, customer.pk)
    rows = response.json_body["locations"]
    assert [r["code"] for r in rows] == ["DOR", "MAIN", "MIA"]
    assert all(r["active"] == 1 for r in rows)


def test_a_vendor_token_can_list_a_customers_locations(
    api, company, customer, branches, make_token
):
    customer.locations.set([branches["miami"]])
    token = make_token(company, "vendor", grants=["company.location.list"])
    response = company_locations(api, token, customer.pk)
    assert response.status_code == 200, response.json_body
    assert [r["code"] for r in response.json_body["locations"]] == ["MIA"]
