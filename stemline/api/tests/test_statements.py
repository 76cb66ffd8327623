"""What one small API call costs the database: the token check and its quota in one statement,
the method's read in another, and on PostgreSQL neither planned again on the same connection.

bench/gateway.py measures the throughput these make; these tests keep the count from creeping
back (each statement is a round trip, and on PostgreSQL planning the token check cost more than
running it)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from stemline.api import gateway
from stemline.catalog.models import Category, Product
from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.tokens.models import ApiToken
from stemline.tokens.services import revoke_token

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def product(company):
    category = Category.objects.create(company=company, name="Roses")
    return Product.objects.create(
        company=company,
        category=category,
        description="Rose Freedom Red 50cm",
        variety="Freedom",
        color="Red",
        grade="50cm",
        legacy_code="RFR50",
    )


def _statements(api, token, product) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        r = api("product.list", token, {"id": product.pk}, verb="GET")
    assert r.status_code == 200, r.json_body
    assert [p["legacyCode"] for p in r.json_body["products"]] == ["RFR50"]
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("rate", [None, 1000], ids=["one request per write", "leased requests"])
def test_an_authenticated_product_list_by_id_is_two_statements(api, company_token, product, rate):
    if rate:
        # A busy token takes requests in batches (a lease); each still confirmed by a read.
        ApiToken.objects.filter(pk=company_token.token.pk).update(
            rate_per_second=rate, rate_burst=rate
        )
    _statements(api, company_token, product)
    for _ in range(3):
        token_row, products = _statements(api, company_token, product)
        # The token's row (found, still valid, one request of its quota taken), the products.
        assert ApiToken._meta.db_table in token_row
        assert Product._meta.db_table in products


def _prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.skipif(not POSTGRES, reason="prepared statements are PostgreSQL's")
def test_the_token_check_and_the_read_are_planned_once_per_connection(api, company_token, product):
    _statements(api, company_token, product)
    prepared = _prepared_here()
    assert any(ApiToken._meta.db_table in sql for sql in prepared), prepared
    assert any(Product._meta.db_table in sql for sql in prepared), prepared
    for _ in range(3):
        _statements(api, company_token, product)
    assert sorted(_prepared_here()) == sorted(prepared)  # run again, not prepared again


def test_revocation_stops_the_token_on_a_connection_that_prepared_its_check(
    api, company_token, product
):
    _statements(api, company_token, product)
    revoke_token(token=company_token.token)
    r = api("product.list", company_token, {"id": product.pk}, verb="GET")
    assert r.status_code == 401, r.json_body


@pytest.mark.parametrize(
    "query",
    [
        "",
        "id=12",
        "id=12&id=13",
        "id[]=1&id[]=2&x=",
        "ids[]=7",
        "description=Rose+Red&legacyCode=%41%42",
        "name=%C3%A9t%C3%A9",
        "name=%E9t%E9",  # not UTF-8: read as Latin-1, as request.GET does
        "a=1&&b=2&c",
        "a=1;b=2",
        "id=1&id[]=2",
    ],
)
def test_query_parameters_are_read_as_request_get_reads_them(query):
    request = RequestFactory().get("/api/product.list?" + query)
    assert gateway._query(request) == gateway._querydict_to_dict(request.GET)


def test_too_many_query_parameters_are_refused_by_name(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    request = RequestFactory().get("/api/product.list?" + "&".join(f"a{i}=1" for i in range(6)))
    with pytest.raises(gateway.ApiError) as refused:
        gateway._query(request)
    assert refused.value.http_status == 400
    assert "more than 5 parameters" in refused.value.message


def test_an_api_call_takes_none_of_the_web_applications_middleware(
    client, company_token, product, company
):
    """An API call is answered before the session, CSRF and sign-in middleware: a signed-in
    person's session cookie neither authenticates it nor costs a session read, while the
    headers every answer carries (frame options, content policy, no sniffing) are still sent."""
    client.force_login(create_user(company=company, email="rep@example.com", role=Role.ADMIN))
    with CaptureQueriesContext(connection) as captured:
        r = client.get("/api/product.list", {"id": product.pk})
    assert r.status_code == 401  # the session does not stand in for a token
    assert not [q for q in captured.captured_queries if "session" in q["sql"].lower()]
    r = client.get(
        "/api/product.list",
        {"id": product.pk},
        HTTP_AUTHENTICATIONTOKEN=company_token.secret,
        HTTP_X_ACCOUNT=str(company.account_id),
    )
    assert r.status_code == 200
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in r.headers
    assert "Set-Cookie" not in r.headers
    # The documentation takes the ordinary way.
    assert client.get("/api/openapi.json").status_code == 200


def test_an_api_call_to_a_host_not_allowed_is_refused(client, company_token, settings):
    settings.ALLOWED_HOSTS = ["flowers.example.com"]
    r = client.get("/api/product.list", HTTP_HOST="evil.example.net", HTTP_AUTHENTICATIONTOKEN="x")
    assert r.status_code == 400
    r = client.get(
        "/api/product.list",
        HTTP_HOST="flowers.example.com",
        HTTP_AUTHENTICATIONTOKEN=company_token.secret,
    )
    assert r.status_code == 200
    # Once allowed is not always allowed: another host is still refused.
    assert client.get("/api/product.list", HTTP_HOST="evil.example.net").status_code == 400


@pytest.mark.parametrize("order", ["as written", "reversed"])
def test_a_long_statement_of_many_named_parameters_binds_each_call_its_own_values(order):
    """The hot path's longest texts (over 4 KB, over 50 parameters: psycopg would rewrite
    them on every call) are rewritten once and kept: each call still binds its own values,
    by name, whatever order its parameters come in."""
    from stemline.core import prepared

    names = [f"value_{i:03d}" for i in range(80)]
    padding = " ".join(f"/* {'x' * 40} */" for _ in range(100))  # past 4 KB
    sql = "SELECT " + ", ".join(f"%({n})s" for n in names) + " " + padding
    assert len(sql) > 4096
    for call in range(3):
        values = {n: call * 1000 + i for i, n in enumerate(names)}
        params = dict(reversed(values.items())) if order == "reversed" else values
        with prepared.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        assert [int(v) for v in row] == [values[n] for n in names]
