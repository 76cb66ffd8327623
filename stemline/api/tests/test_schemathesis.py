"""Property-based run of schemathesis over /api/openapi.json: no 5xx, and every answer matches
the schema the document declares (status code, content type, body)."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stemline.catalog.models import Category, Product
from stemline.core.services import create_company
from stemline.parties.models import Customer
from stemline.tokens.models import ApiToken
from stemline.tokens.services import create_token
from stemline.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


def not_a_server_error(ctx, response, case):
    # Our own check rather than the built-in so the failure shows the answer's body.
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:500]}"


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def keep_test_connection():
    # Calls go through the real WSGI app, whose request_finished signal would close the test's
    # database connection in the middle of its transaction (Django's test Client does the same).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def secret(db, keep_test_connection):
    company = create_company(name="Fuzz Wholesale")
    category = Category.objects.create(company=company, name="Roses")
    Product.objects.create(
        company=company,
        category=category,
        description="Rose Freedom",
        variety="Freedom",
        legacy_code="RF",
    )
    Customer.objects.create(company=company, name="Fuzz Florist")
    issued = create_token(
        company=company, token_type="company", description="fuzz", all_methods=True
    )
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=1e6, rate_burst=10**6)
    return issued.secret, company.account_id


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_never_fails_and_keeps_its_schema(case, secret):
    token, account = secret
    headers = {"authenticationToken": token}
    if case.headers and "X-ACCOUNT" in case.headers:
        # Fuzzed account numbers belong to nobody: 403 is right, but keep most cases useful.
        headers["X-ACCOUNT"] = str(account)
    case.call_and_validate(headers=headers, checks=CHECKS)
