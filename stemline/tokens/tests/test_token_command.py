"""`stemline token create` sets the token's answer settings."""

from io import StringIO

import pytest
from django.core.management import call_command

from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def _create(company, *extra) -> ApiToken:
    out = StringIO()
    call_command(
        "token",
        "create",
        "--company",
        str(company.account_id),
        "--type",
        "company",
        "--grant",
        "product.list",
        *extra,
        stdout=out,
    )
    token_id = next(r for r in out.getvalue().splitlines() if r.startswith("Token ID: "))
    return ApiToken.objects.get(pk=int(token_id.split(": ")[1]))


def test_token_create_takes_strict_parameters_and_failures_as_200(company):
    token = _create(company, "--strict-parameters", "--failures-as-200")
    assert (token.strict_parameters, token.failures_as_200) == (True, True)
    plain = _create(company, "--description", "plain")
    assert (plain.strict_parameters, plain.failures_as_200) == (False, False)
