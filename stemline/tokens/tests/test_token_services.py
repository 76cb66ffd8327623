"""Token services: secrets that cannot be read back from the database, reset, revoke, grants."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from stemline.core.errors import Conflict, Invalid, NotFound
from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.parties.models import Customer, Vendor
from stemline.tokens import crypto
from stemline.tokens.models import ApiToken
from stemline.tokens.services import (
    create_token,
    reset_token,
    revoke_token,
    update_grants,
    user_token,
)

OTHER_KEY = "another-deployment-token-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def customer(company):
    return Customer.objects.create(company=company, name="Bloom Florist")


@pytest.fixture
def vendor(company):
    return Vendor.objects.create(company=company, name="Finca Rosaleda", port_origin="BOG")


def works(api, secret: str) -> bool:
    """Whether the secret opens the API now; anything but 200 or 401 is a test failure."""
    response = api("boxtype.list", secret, verb="GET")
    assert response.status_code in (200, 401), response.json_body
    if response.status_code == 401:
        assert response.json_body["status"] == 0
    return response.status_code == 200


def stored_columns(token: ApiToken) -> list[str]:
    # Raw SQL: what someone with a copy of the database sees, no ORM decoding in between.
    table = connection.ops.quote_name(ApiToken._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [token.pk])
        (row,) = cursor.fetchall()
    return ["" if value is None else str(value) for value in row]


# ---------------------------------------------------------------- secrets


def test_the_secret_is_never_stored_in_plain_text(company, make_token):
    issued = make_token(company)
    secret = issued.secret

    columns = stored_columns(issued.token)
    # Only the short display prefix may appear; nothing beyond it.
    assert not any(secret in value for value in columns)
    assert not any(secret[8:] in value for value in columns)
    assert not any(secret[::-1] in value for value in columns)
    # The look-up hash is keyed: an unkeyed digest of the secret is not what is stored.
    plain_digests = {
        hashlib.sha256(secret.encode()).hexdigest(),
        hashlib.md5(secret.encode()).hexdigest(),
    }
    assert not plain_digests & set(columns)


@pytest.mark.parametrize("secret", ["", "a", "x" * 40, "é" * 70, "A1" * 100])
def test_the_lookup_hash_is_hmac_sha256_under_the_lookup_key(settings, secret):
    # Hashes already stored stay valid: the precomputed HMAC states give HMAC itself.
    import hmac

    for master in ("one key", "k" * 100):
        settings.STEMLINE_TOKEN_KEY = master
        key = hmac.new(master.encode(), b"stemline-token-lookup", hashlib.sha256).digest()
        expected = hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()
        assert crypto.lookup_hash(secret) == expected


def test_secrets_are_long_random_and_header_safe(company, make_token, customer, vendor):
    secrets = [
        make_token(company).secret,
        make_token(company).secret,
        make_token(company, "customer", customer_id=customer.pk, grants=[]).secret,
        make_token(company, "vendor", vendor_id=vendor.pk, grants=[]).secret,
    ]
    assert len(set(secrets)) == len(secrets)
    for secret in secrets:
        assert len(secret) >= 32
        assert secret.isascii() and secret.isalnum()


def test_the_encrypted_copy_gives_the_secret_back_for_display(company, make_token):
    issued = make_token(company)
    assert crypto.decrypt(issued.token.secret_encrypted) == issued.secret
    assert issued.token.key_prefix == issued.secret[:6]


def test_a_new_token_works_and_an_unknown_secret_does_not(api, company, make_token):
    issued = make_token(company)
    assert works(api, issued.secret)
    assert not works(api, issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B"))
    assert not works(api, "x" * 500)


# ---------------------------------------------------------------- reset and revoke


def test_reset_gives_a_new_secret_with_the_same_grants(api, company, make_token):
    issued = make_token(company, grants=["boxtype.list", "product.list"])
    issued.token.transactional = True
    issued.token.save()
    old_secret = issued.secret
    assert works(api, old_secret)

    fresh = reset_token(token=issued.token)

    assert fresh.secret != old_secret
    assert len(fresh.secret) >= 32
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.grants == ["boxtype.list", "product.list"]
    assert token.transactional is True
    assert token.reset_at is not None
    assert token.key_prefix == fresh.secret[:6]
    # The old secret stops at once; the new one works with the same grants.
    assert not works(api, old_secret)
    assert works(api, fresh.secret)
    assert (
        api("product.add", fresh.secret, {"category": "Roses", "variety": "X"}).status_code == 403
    )


def test_reset_of_a_customer_token_keeps_it_the_customers_only_token(company, make_token, customer):
    issued = make_token(company, "customer", customer_id=customer.pk, grants=[])
    fresh = reset_token(token=issued.token)
    assert fresh.token.pk == issued.token.pk
    assert ApiToken.objects.filter(customer=customer).count() == 1


def test_a_revoked_token_is_refused(api, company, make_token):
    issued = make_token(company)
    assert works(api, issued.secret)

    revoke_token(token=issued.token)

    response = api("boxtype.list", issued, verb="GET")
    assert response.status_code == 401
    assert response.json_body["status"] == 0
    assert "revoked" in response.json_body["message"]


def test_revoking_twice_keeps_the_first_revocation_time(company, make_token):
    issued = make_token(company)
    first = revoke_token(token=issued.token).revoked_at
    again = revoke_token(token=ApiToken.objects.get(pk=issued.token.pk)).revoked_at
    assert again == first


def test_a_revoked_token_cannot_be_reset_back_to_life(api, company, make_token):
    issued = make_token(company)
    revoke_token(token=issued.token)
    with pytest.raises(Conflict):
        reset_token(token=issued.token)
    assert not works(api, issued.secret)


# ---------------------------------------------------------------- one token per customer / vendor


@pytest.mark.parametrize("kind", ["customer", "vendor"])
def test_one_active_token_per_customer_and_per_vendor(company, make_token, customer, vendor, kind):
    bound = {"customer_id": customer.pk} if kind == "customer" else {"vendor_id": vendor.pk}
    first = make_token(company, kind, grants=[], **bound)

    with pytest.raises(Conflict) as refused:
        make_token(company, kind, grants=[], **bound)
    assert refused.value.field == f"{kind}Id"
    assert f"this {kind} already has an active token" in refused.value.message
    assert "reset or revoke" in refused.value.message
    assert ApiToken.objects.filter(**{kind: bound[f"{kind}_id"]}).count() == 1

    revoke_token(token=first.token)
    second = make_token(company, kind, grants=[], **bound)
    assert second.token.pk != first.token.pk
    assert ApiToken.objects.filter(revoked_at__isnull=True, **bound).count() == 1


def test_each_customer_may_have_its_own_token(company, make_token, customer):
    other = Customer.objects.create(company=company, name="Petal Pushers")
    make_token(company, "customer", customer_id=customer.pk, grants=[])
    make_token(company, "customer", customer_id=other.pk, grants=[])
    # Company tokens are not limited.
    make_token(company)
    make_token(company)
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 4


def test_a_token_cannot_be_bound_to_another_companys_customer(company, other_company, customer):
    with pytest.raises(NotFound) as refused:
        create_token(
            company=other_company,
            token_type="customer",
            description="stolen",
            customer_id=customer.pk,
            grants=[],
        )
    assert refused.value.field == "customerId"


def test_a_customer_token_must_name_its_customer(company):
    with pytest.raises(Invalid) as refused:
        create_token(company=company, token_type="customer", description="no one", grants=[])
    assert refused.value.field == "customerId"


def test_a_token_needs_a_description(company):
    with pytest.raises(Invalid) as refused:
        create_token(company=company, token_type="company", description="   ", grants=[])
    assert refused.value.field == "description"


# ---------------------------------------------------------------- grants


@pytest.mark.parametrize(
    ("kind", "method"),
    [("vendor", "product.add"), ("vendor", "category.list"), ("customer", "product.list")],
)
def test_grants_outside_the_token_type_are_refused(
    company, make_token, customer, vendor, kind, method
):
    bound = {"customer_id": customer.pk} if kind == "customer" else {"vendor_id": vendor.pk}
    with pytest.raises(Invalid) as refused:
        make_token(company, kind, grants=[method], **bound)
    assert refused.value.field == "grants"
    assert method in refused.value.message
    assert not ApiToken.objects.exists()


def test_an_unknown_method_cannot_be_granted(company, make_token):
    with pytest.raises(Invalid) as refused:
        make_token(company, grants=["product.delete"])
    assert "product.delete" in refused.value.message


def test_changing_grants_is_checked_the_same_way(api, company, make_token, vendor):
    issued = make_token(company, "vendor", vendor_id=vendor.pk, grants=["boxtype.list"])
    with pytest.raises(Invalid):
        update_grants(token=issued.token, grants=["product.add"], transactional=False)
    assert ApiToken.objects.get(pk=issued.token.pk).grants == ["boxtype.list"]

    update_grants(token=issued.token, grants=["product.list", "product.list"], transactional=False)
    assert ApiToken.objects.get(pk=issued.token.pk).grants == ["product.list"]
    assert api("product.list", issued, verb="GET").status_code == 200
    assert api("boxtype.list", issued, verb="GET").status_code == 403


def test_all_methods_for_a_vendor_token_holds_only_vendor_methods(company, make_token, vendor):
    issued = make_token(company, "vendor", vendor_id=vendor.pk)
    assert "product.list" in issued.token.grants
    assert "boxtype.list" in issued.token.grants
    assert "product.add" not in issued.token.grants
    assert "category.list" not in issued.token.grants


# ---------------------------------------------------------------- last use


def test_last_used_at_is_recorded_on_a_call(api, company, make_token):
    issued = make_token(company)
    assert issued.token.last_used_at is None
    before = timezone.now()

    assert works(api, issued.secret)

    used = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    assert used is not None
    assert before - timedelta(seconds=1) <= used <= timezone.now()


def test_a_refused_secret_records_no_use(api, company, make_token):
    issued = make_token(company)
    revoke_token(token=issued.token)
    works(api, issued.secret)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at is None


# ---------------------------------------------------------------- the key outside the database


def test_a_different_token_key_makes_old_tokens_unknown(api, company, make_token):
    issued = make_token(company)
    assert works(api, issued.secret)

    with override_settings(STEMLINE_TOKEN_KEY=OTHER_KEY):
        assert not works(api, issued.secret)
        # Nor can the stored copy be decrypted without the original key.
        assert crypto.decrypt(issued.token.secret_encrypted) is None
        # Tokens made under the new key work under it.
        assert works(api, make_token(company).secret)

    assert works(api, issued.secret)


def test_a_users_key_is_reissued_when_the_token_key_changed(api, company):
    user = create_user(company=company, email="sam@sunrise.example", role=Role.ADMIN)
    old = user_token(user=user)
    assert user_token(user=user).secret == old.secret

    with override_settings(STEMLINE_TOKEN_KEY=OTHER_KEY):
        new = user_token(user=user)
        assert new.secret != old.secret
        assert new.token.pk == old.token.pk
        assert works(api, new.secret)
        assert not works(api, old.secret)
