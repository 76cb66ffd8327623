"""Every method x every token type x granted or not: the gateway allows exactly what the
contract allows (type accepted AND method granted; User tokens by role)."""

import pytest

from stemline.api.registry import COMPANY, CUSTOMER, TOKEN_TYPES, USER, VENDOR, registry
from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db

REFUSED = {401, 403}


@pytest.fixture
def tokens(company, make_token):
    """One token per type holding every method name (types included that the method refuses),
    and one holding none, so the type check and the grant check are seen separately."""
    everything = registry.names()
    made = {}
    for token_type in (COMPANY, CUSTOMER, VENDOR):
        granted = make_token(company, token_type, all_methods=True)
        ApiToken.objects.filter(pk=granted.token.pk).update(
            grants=everything, rate_per_second=10_000, rate_burst=10_000
        )
        bare = make_token(company, token_type, grants=[], all_methods=False)
        ApiToken.objects.filter(pk=bare.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
        made[token_type] = {True: granted, False: bare}
    return made


def _call(api, method, token, company):
    verb = method.verbs[0]
    return api(method.name, token, {}, verb=verb, account=company.account_id)


@pytest.mark.parametrize("method_name", registry.names())
@pytest.mark.parametrize("token_type", [COMPANY, CUSTOMER, VENDOR])
@pytest.mark.parametrize("granted", [True, False])
def test_gateway_allows_exactly_type_and_grant(
    api, company, tokens, method_name, token_type, granted
):
    method = registry.get(method_name)
    if not method.needs_token:
        pytest.skip("a method without a token is covered by its own test")
    token = tokens[token_type][granted]
    r = _call(api, method, token, company)
    allowed = method.accepts(token_type) and granted
    assert r.json_body is not None and "status" in r.json_body
    if allowed:
        assert r.status_code not in REFUSED, (method_name, token_type, r.json_body)
        assert r.status_code < 500, (method_name, r.json_body)
    else:
        assert r.status_code == 403, (method_name, token_type, r.json_body)
        assert r.json_body["status"] == 0


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SETUP, Role.SALES, Role.PURCHASING])
def test_user_tokens_follow_the_role(api, company, make_token, role):
    user = create_user(company=company, email=f"{role}@example.com", role=role)
    token = make_token(company, USER, user=user)
    ApiToken.objects.filter(pk=token.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    for method in registry:
        if not method.needs_token:
            continue
        r = _call(api, method, token, company)
        if method.accepts(USER) and role in method.roles:
            assert r.status_code not in REFUSED, (method.name, role, r.json_body)
        else:
            assert r.status_code == 403, (method.name, role, r.json_body)


def test_no_token_is_401_everywhere(api, company):
    for method in registry:
        if method.needs_token:
            r = api(method.name, None, {}, verb=method.verbs[0])
            assert r.status_code == 401, method.name
            assert r.json_body["status"] == 0


def test_every_method_is_declared_with_a_known_token_type_and_description():
    assert len(registry) >= 20
    for method in registry:
        assert method.token_types <= set(TOKEN_TYPES)
        assert method.description and method.description != method.name
        assert method.verbs


def test_grantable_lists_offer_only_methods_of_that_type():
    for token_type in (COMPANY, CUSTOMER, VENDOR):
        for method in registry.grantable(token_type):
            assert method.accepts(token_type)
