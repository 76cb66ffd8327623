"""Roles bound tokens: a person grants only methods their own role may call, only Admins see
token secrets, a user's login keys are listed on their profile with Revoke, and a password
change or reset revokes them. And the token's two answer settings, stored from the pages."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from stemline.core.errors import PermissionDenied
from stemline.core.models import Role
from stemline.demo.data import DEMO_TOKEN_DESCRIPTION
from stemline.parties.models import Customer
from stemline.tokens import services as tokens
from stemline.tokens.models import ApiToken

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

BEYOND_SETUP = "invoice.create"  # Admin and Sales only


def _new_company_token(client, grants, **extra):
    return client.post(
        reverse("token_new"),
        {"description": "ERP link", "token_type": "company", "grants_company": grants, **extra},
    )


def test_setup_user_is_offered_only_methods_of_their_role(as_role):
    page = as_role(Role.SETUP).get(reverse("token_new")).content.decode()
    beyond = re.search(rf'<input[^>]*value="{re.escape(BEYOND_SETUP)}"[^>]*>', page).group(0)
    assert "disabled" in beyond
    within = re.search(r'<input[^>]*name="grants_company" value="product.list"[^>]*>', page)
    assert "disabled" not in within.group(0)
    admin_page = as_role(Role.ADMIN).get(reverse("token_new")).content.decode()
    assert "disabled" not in re.search(
        rf'<input[^>]*name="grants_company" value="{re.escape(BEYOND_SETUP)}"[^>]*>', admin_page
    ).group(0)


def test_a_tampered_post_beyond_the_role_is_refused_naming_the_methods(as_role):
    r = _new_company_token(as_role(Role.SETUP), ["product.list", BEYOND_SETUP, "invoice.void"])
    assert r.status_code == 200
    page = r.content.decode()
    assert 'id="grants_errors"' in page
    assert "Your role (Setup) may not call these methods" in page
    assert "invoice.create, invoice.void" in page
    assert not ApiToken.objects.exists()
    # An Admin may.
    assert _new_company_token(as_role(Role.ADMIN), [BEYOND_SETUP]).status_code == 302


def test_editing_a_token_cannot_add_methods_beyond_the_role(as_role, company, make_token):
    issued = make_token(company, grants=["product.list"], all_methods=False)
    url = reverse("token_detail", args=[issued.token.pk])
    r = as_role(Role.SETUP).post(url, {"grants_company": ["product.list", BEYOND_SETUP]})
    assert r.status_code == 200
    assert f"may not grant them: {BEYOND_SETUP}" in r.content.decode()
    issued.token.refresh_from_db()
    assert issued.token.grants == ["product.list"]


def test_methods_an_admin_granted_stay_when_setup_edits(as_role, company, make_token):
    issued = make_token(company, grants=[BEYOND_SETUP, "product.list"], all_methods=False)
    url = reverse("token_detail", args=[issued.token.pk])
    r = as_role(Role.SETUP).post(url, {"grants_company": [BEYOND_SETUP, "customer.list"]})
    assert r.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.grants == ["customer.list", BEYOND_SETUP]


def test_the_service_refuses_grants_beyond_the_role_whatever_the_door(company, person):
    sales = person(Role.SALES)
    with pytest.raises(PermissionDenied) as refused:
        tokens.create_token(
            company=company,
            token_type="company",
            description="x",
            grants=["customer.add", "product.list", "purchase.order.create"],
            granted_by=sales,
        )
    assert refused.value.field == "grants"
    assert "customer.add, purchase.order.create" in refused.value.message
    issued = tokens.create_token(
        company=company, token_type="company", description="all", all_methods=True, granted_by=sales
    )
    assert "customer.add" not in issued.token.grants and "invoice.create" in issued.token.grants
    with pytest.raises(PermissionDenied):
        tokens.update_grants(
            token=issued.token,
            grants=[*issued.token.grants, "customer.add"],
            transactional=False,
            granted_by=sales,
        )


def test_only_admins_see_token_secrets(as_role, company, make_token, person):
    issued = make_token(company, grants=["product.list"], all_methods=False)
    demo = tokens.create_token(
        company=company,
        token_type="company",
        description=DEMO_TOKEN_DESCRIPTION,
        all_methods=True,
        created_by=person(Role.ADMIN),
    )
    setup = as_role(Role.SETUP)
    for shown in (issued, demo):
        page = setup.get(reverse("token_detail", args=[shown.token.pk])).content.decode()
        assert shown.secret not in page
        assert f"{shown.token.key_prefix}••••" in page
        assert "Only Admins see token secrets" in page
    assert demo.secret not in setup.get(reverse("tokens")).content.decode()
    admin = as_role(Role.ADMIN)
    for shown in (issued, demo):
        assert (
            shown.secret
            in admin.get(reverse("token_detail", args=[shown.token.pk])).content.decode()
        )


def _api_key(api, user) -> str:
    r = api("login", None, {"username": user.username, "password": PASSWORD})
    assert r.status_code == 200, r.json_body
    return r.json_body["apiKey"]


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_profile_lists_login_keys_with_revoke(api, person):
    user = person(Role.SALES)
    key = _api_key(api, user)
    token = ApiToken.objects.get(user=user)
    client = _signed_in(user)
    page = client.get(reverse("profile")).content.decode()
    keys = page.split('id="api-keys"', 1)[1]
    assert f"{token.key_prefix}…" in keys and key not in page
    assert f'id="revoke-key-{token.pk}"' in keys
    # Somebody else's key cannot be revoked from here.
    other = person(Role.SALES, email="other@example.com")
    assert _signed_in(other).post(reverse("api_key_revoke", args=[token.pk])).status_code == 404
    assert api("product.list", key, verb="GET").status_code == 200
    assert client.post(reverse("api_key_revoke", args=[token.pk])).status_code == 302
    assert api("product.list", key, verb="GET").status_code == 401
    page = client.get(reverse("profile")).content.decode().split('id="api-keys"', 1)[1]
    assert "revoked" in page and f'id="revoke-key-{token.pk}"' not in page


def test_a_password_change_revokes_the_login_keys(api, person):
    user = person(Role.SALES)
    key = _api_key(api, user)
    assert api("product.list", key, verb="GET").status_code == 200
    r = _signed_in(user).post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Peony-Hill-909",
            "new_password2": "Peony-Hill-909",
        },
    )
    assert r.status_code == 302
    assert api("product.list", key, verb="GET").status_code == 401
    fresh = api("login", None, {"username": user.username, "password": "Peony-Hill-909"})
    assert fresh.json_body["apiKey"] != key
    assert api("product.list", fresh.json_body["apiKey"], verb="GET").status_code == 200


def test_a_password_reset_revokes_the_login_keys(api, person, mailoutbox):
    user = person(Role.SALES)
    key = _api_key(api, user)
    client = Client()
    client.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"https?://testserver(/password/reset/\S+/)", mailoutbox[0].body).group(1)
    step = client.get(link)
    done = client.post(
        step["Location"], {"new_password1": "Lily-Pond-313", "new_password2": "Lily-Pond-313"}
    )
    assert done.status_code == 302
    assert api("product.list", key, verb="GET").status_code == 401


# ---------------------------------------------------------------- the answer settings


def test_new_token_form_stores_strict_parameters_and_failures_as_200(as_role):
    page = as_role(Role.ADMIN).get(reverse("token_new")).content.decode()
    assert "Strict parameters: refuse unknown parameters instead of ignoring them" in page
    assert "Answer failures with HTTP 200 (status 0 in the body)" in page
    r = _new_company_token(
        as_role(Role.ADMIN), ["product.list"], strict_parameters="on", failures_as_200="on"
    )
    assert r.status_code == 302
    token = ApiToken.objects.get()
    assert (token.strict_parameters, token.failures_as_200) == (True, True)
    _new_company_token(as_role(Role.ADMIN), ["product.list"], description="plain")
    plain = ApiToken.objects.get(description="plain")
    assert (plain.strict_parameters, plain.failures_as_200) == (False, False)


def test_token_page_saves_the_answer_settings(as_role, company, make_token):
    issued = make_token(company, grants=["product.list"], all_methods=False)
    url = reverse("token_detail", args=[issued.token.pk])
    client = as_role(Role.SETUP)
    version = issued.token.version
    r = client.post(url, {"grants_company": ["product.list"], "strict_parameters": "on"})
    assert r.status_code == 302
    issued.token.refresh_from_db()
    assert (issued.token.strict_parameters, issued.token.failures_as_200) == (True, False)
    assert issued.token.version > version  # the gateway's snapshots see the change at once
    page = client.get(url).content.decode()
    assert re.search(r'name="strict_parameters"[^>]* checked', page)
    assert not re.search(r'name="failures_as_200"[^>]* checked', page)
    client.post(url, {"grants_company": ["product.list"], "failures_as_200": "on"})
    issued.token.refresh_from_db()
    assert (issued.token.strict_parameters, issued.token.failures_as_200) == (False, True)


def test_customer_token_form_keeps_the_settings_per_token(as_role, company):
    florist = Customer.objects.create(company=company, name="Bloom Florist", code="BLOOM")
    r = as_role(Role.ADMIN).post(
        reverse("token_new"),
        {
            "description": "Shop",
            "token_type": "customer",
            "customer": str(florist.pk),
            "grants_customer": ["ecommerce/inventory.list"],
            "failures_as_200": "on",
        },
    )
    assert r.status_code == 302
    token = ApiToken.objects.get(customer=florist)
    assert (token.strict_parameters, token.failures_as_200) == (False, True)
