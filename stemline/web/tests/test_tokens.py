"""Setup > Settings > Tokens through the pages: the token made by the form works for exactly
the ticked methods; the one-token-per-customer rule is explained; reset and revoke."""

import re

import pytest
from django.urls import reverse

from stemline.api.registry import registry
from stemline.core.models import Role
from stemline.parties.models import Customer
from stemline.tokens.models import ApiToken

from .conftest import queries_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def florist(company):
    return Customer.objects.create(company=company, name="Bloom Florist", code="BLOOM")


def _new_customer_token(client, customer, grants, description="Bloom shop"):
    return client.post(
        reverse("token_new"),
        {
            "description": description,
            "token_type": "customer",
            "customer": str(customer.pk),
            "grants_customer": grants,
            # A ticked method of another type is ignored: only the chosen type's group counts.
            "grants_company": ["customer.add"],
        },
    )


def test_new_token_form_lists_each_types_methods_straight_from_the_registry(as_role):
    page = as_role(Role.SETUP).get(reverse("token_new")).content.decode()
    for token_type in ("company", "customer", "vendor"):
        for method in registry.grantable(token_type):
            assert f'name="grants_{token_type}" value="{method.name}"' in page
    # A method no customer token may call is not offered in the customer group.
    assert 'name="grants_customer" value="customer.add"' not in page


def test_customer_token_made_in_the_form_calls_exactly_the_ticked_methods(as_role, api, florist):
    ticked = ["ecommerce/inventory.list", "web-order.create"]
    r = _new_customer_token(as_role(Role.ADMIN), florist, ticked)
    assert r.status_code == 302
    token = ApiToken.objects.get(customer=florist)
    assert token.grants == sorted(ticked) and token.token_type == "customer"
    page = as_role(Role.ADMIN).get(r["Location"]).content.decode()
    secret = page.split('id="token-secret"', 1)[1].split(">", 1)[1].split("<", 1)[0].strip()
    account = florist.company.account_id
    allowed = api("ecommerce/inventory.list", secret, {"customerId": florist.pk}, account=account)
    assert allowed.status_code == 200, allowed.json_body
    refused = api("ecommerce/customer-carriers.list", secret, {}, account=account)
    assert refused.status_code == 403 and refused.json_body["status"] == 0


def test_second_token_for_a_customer_is_refused_beside_the_field_with_the_reason(as_role, florist):
    client = as_role(Role.ADMIN)
    assert _new_customer_token(client, florist, ["web-order.create"]).status_code == 302
    r = _new_customer_token(client, florist, ["web-order.create"], description="second")
    assert r.status_code == 200
    page = r.content.decode()
    errors = page.split('id="id_customer_errors"', 1)[1].split("</ul>", 1)[0]
    assert "already has an active token" in errors
    assert "at most one active token" in page
    first = ApiToken.objects.get(customer=florist)
    assert reverse("token_detail", args=[first.pk]) in page
    assert ApiToken.objects.filter(customer=florist).count() == 1


def test_form_refuses_bad_input_beside_each_field(as_role):
    client = as_role(Role.ADMIN)
    r = client.post(reverse("token_new"), {"description": "", "token_type": "customer"})
    page = r.content.decode()
    assert r.status_code == 200
    assert 'id="id_description_errors"' in page
    assert 'id="id_customer_errors"' in page and "Choose the customer" in page
    assert 'id="grants_errors"' in page and "Tick at least one method" in page
    r = client.post(
        reverse("token_new"),
        {"description": "x", "token_type": "vendor", "vendor": "1", "grants_vendor": ["nope"]},
    )
    assert "Not a method of a vendor token: nope" in r.content.decode()
    assert ApiToken.objects.count() == 0


def test_save_changes_grants_reset_replaces_the_secret_and_revoke_stops_it(
    as_role, api, company, make_token
):
    issued = make_token(company, grants=["product.list"], all_methods=False)
    client = as_role(Role.ADMIN)
    url = reverse("token_detail", args=[issued.token.pk])
    assert issued.secret in client.get(url).content.decode()
    r = client.post(url, {"grants_company": ["product.list", "customer.list"]})
    assert r.status_code == 302
    assert api("customer.list", issued.secret).status_code == 200
    client.post(reverse("token_reset", args=[issued.token.pk]))
    assert api("product.list", issued.secret).status_code == 401
    issued.token.refresh_from_db()
    new_page = client.get(url).content.decode()
    assert issued.secret not in new_page
    client.post(reverse("token_revoke", args=[issued.token.pk]))
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    listed = client.get(reverse("tokens")).content.decode().split('id="token-list"')[1]
    assert issued.token.description not in listed
    revoked = client.get(reverse("tokens") + "?revoked=1").content.decode()
    assert issued.token.description in revoked.split('id="token-list"')[1]


def test_customer_search_narrows_the_options(as_role, company):
    for name in ("Alpha Blooms", "Beta Petals", "Gamma Stems"):
        Customer.objects.create(company=company, name=name)
    r = as_role(Role.ADMIN).get(reverse("token_parties"), {"kind": "customer", "customer_q": "pet"})
    body = r.content.decode()
    assert "Beta Petals" in body and "Alpha Blooms" not in body and "Gamma" not in body


def test_token_list_costs_the_same_queries_for_many_tokens(as_role, company, make_token):
    client = as_role(Role.ADMIN)
    for i in range(3):
        customer = Customer.objects.create(company=company, name=f"C{i}")
        make_token(company, "customer", customer_id=customer.pk)
    few = queries_of(lambda: client.get(reverse("tokens")))
    assert few <= 8
    for i in range(20):
        customer = Customer.objects.create(company=company, name=f"D{i}")
        make_token(company, "customer", customer_id=customer.pk)
    assert queries_of(lambda: client.get(reverse("tokens"))) == few


def test_the_method_picker_groups_methods_by_area_with_their_descriptions(as_role):
    from stemline.api.registry import registry

    page = as_role(Role.ADMIN).get(reverse("token_new")).content.decode()
    company = page.split('data-token-type="company"')[1].split("</fieldset>")[0]
    areas = re.findall(r'data-area="(\w+)"', company)
    assert areas == ["master", "inventory", "sales", "purchasing", "auth", "money"]
    inventory = company.split('data-area="inventory"')[1].split('data-area="sales"')[0]
    method = registry.get("inventory.add")
    assert 'value="inventory.add"' in inventory
    assert f'<span class="method-desc">{method.description}</span>' in inventory
    assert 'value="customer.add"' not in inventory  # a master-data method, in its own area
