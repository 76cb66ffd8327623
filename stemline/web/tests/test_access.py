"""Sign-in, roles on every page and action, CSRF, and no page showing another company's data."""

from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from stemline.core.models import Role
from stemline.parties.models import Customer, ShipTo, Vendor
from stemline.tokens.models import ApiToken

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = {
    # page -> roles that open it
    "tokens": {Role.ADMIN, Role.SETUP},
    "token_new": {Role.ADMIN, Role.SETUP},
    "customers": {Role.ADMIN, Role.SETUP},
    "customers_export": {Role.ADMIN, Role.SETUP},
    "customer_new": {Role.ADMIN, Role.SETUP},
    "carriers": {Role.ADMIN, Role.SETUP},
    "carriers_export": {Role.ADMIN, Role.SETUP},
    "vendors": {Role.ADMIN, Role.SETUP},
    "products": {Role.ADMIN, Role.SETUP},
    "box_types": {Role.ADMIN, Role.SETUP},
    "product_new": {Role.ADMIN, Role.SETUP},
    "box_type_new": {Role.ADMIN, Role.SETUP},
    "users": {Role.ADMIN},
    "user_new": {Role.ADMIN},
    "sales_inventory": {Role.ADMIN, Role.SETUP, Role.SALES, Role.PURCHASING},
    "sales_orders": {Role.ADMIN, Role.SALES},
    "profile": {Role.ADMIN, Role.SETUP, Role.SALES, Role.PURCHASING},
}
STAFF = [Role.ADMIN, Role.SETUP, Role.SALES, Role.PURCHASING]


def test_anonymous_visitor_is_sent_to_sign_in(client):
    for name in [*PAGES, "home"]:
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/login/"), name


@pytest.mark.parametrize("role", STAFF)
def test_each_role_opens_exactly_its_pages_and_sees_only_their_links(as_role, role):
    client = as_role(role)
    for name, roles in PAGES.items():
        status = client.get(reverse(name)).status_code
        assert status == (200 if role in roles else 403), (role, name, status)
    home = client.get(reverse("home")).content.decode()
    assert (reverse("tokens") in client.get(reverse("sales_inventory")).content.decode()) is False
    assert (reverse("setup_home") in home) == (role in PAGES["customers"])
    assert (reverse("sales_orders") in home) == (role in PAGES["sales_orders"])


def test_sales_user_cannot_create_reset_or_revoke_tokens(as_role, company, make_token):
    issued = make_token(company)
    client = as_role(Role.SALES)
    before = ApiToken.objects.count()
    r = client.post(
        reverse("token_new"),
        {"description": "sneaky", "token_type": "company", "grants_company": ["product.list"]},
    )
    assert r.status_code == 403
    assert client.post(reverse("token_reset", args=[issued.token.pk])).status_code == 403
    assert client.post(reverse("token_revoke", args=[issued.token.pk])).status_code == 403
    assert ApiToken.objects.count() == before
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is None and issued.token.reset_at is None


def test_purchasing_user_cannot_confirm_orders(as_role):
    r = as_role(Role.PURCHASING).post(reverse("sales_orders_confirm"), {"ids": ["1"]})
    assert r.status_code == 403


def test_sign_in_with_email_and_password_then_sign_out(client, person):
    user = person(Role.SALES)
    page = client.get(reverse("login"))
    assert b"csrfmiddlewaretoken" in page.content
    bad = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert bad.status_code == 200 and b"correct" in bad.content
    ok = client.post(reverse("login"), {"username": user.username.upper(), "password": PASSWORD})
    assert ok.status_code == 302
    assert client.get(reverse("sales_inventory")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("sales_inventory")).status_code == 302


def test_password_change_and_reset_by_email(client, person, mailoutbox):
    user = person(Role.SETUP)
    client.force_login(user)
    r = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert r.status_code == 200 and b"too short" in r.content
    r = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "peony-meadow-77",
            "new_password2": "peony-meadow-77",
        },
    )
    assert r.status_code == 302
    client.post(reverse("logout"))
    r = client.post(reverse("password_reset"), {"email": user.email})
    assert r.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]
    link = next(w for w in mailoutbox[0].body.split() if "/password/reset/" in w)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert b"new_password1" in form.content
    r = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "orchid-valley-88", "new_password2": "orchid-valley-88"},
    )
    assert r.status_code == 302
    assert client.login(username=user.username, password="orchid-valley-88")


def test_every_form_refuses_a_post_without_csrf_token(person, company, make_token):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person(Role.ADMIN))
    customer = Customer.objects.create(company=company, name="Bloom")
    issued = make_token(company)
    posts = [
        (reverse("token_new"), {"description": "x", "token_type": "company"}),
        (reverse("token_reset", args=[issued.token.pk]), {}),
        (reverse("customer_new"), {"name": "x"}),
        (reverse("customer_edit", args=[customer.pk]), {"name": "y"}),
        (reverse("carrier_new"), {"name": "x", "code": "X"}),
        (reverse("sales_orders_confirm"), {"ids": ["1"]}),
        (reverse("password_change"), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    # Every page with a form carries the token.
    for name in ("token_new", "customer_new", "carrier_new", "vendor_new", "password_change"):
        assert b"csrfmiddlewaretoken" in client.get(reverse(name)).content, name


def test_guessing_another_companys_ids_finds_nothing(
    as_role, company, other_company, make_token, mailoutbox
):
    theirs = Customer.objects.create(company=other_company, name="Their Florist")
    their_ship_to = ShipTo.objects.create(company=other_company, customer=theirs, name="Dock")
    their_vendor = Vendor.objects.create(
        company=other_company, name="Their Farm", port_origin="BOG"
    )
    their_token = make_token(other_company)
    mine = Customer.objects.create(company=company, name="My Florist")
    client = as_role(Role.ADMIN)
    gets = [
        reverse("customer_edit", args=[theirs.pk]),
        reverse("ship_to_new", args=[theirs.pk]),
        reverse("ship_to_edit", args=[theirs.pk, their_ship_to.pk]),
        reverse("ship_to_edit", args=[mine.pk, their_ship_to.pk]),
        reverse("vendor_detail", args=[their_vendor.pk]),
        reverse("token_detail", args=[their_token.token.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (reverse("customer_edit", args=[theirs.pk]), {"name": "Hijacked"}),
        (reverse("ship_to_remove", args=[mine.pk, their_ship_to.pk]), {}),
        (reverse("token_reset", args=[their_token.token.pk]), {}),
        (reverse("token_revoke", args=[their_token.token.pk]), {}),
        (reverse("vendor_detail", args=[their_vendor.pk]), {"email": "spy@example.com"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    theirs.refresh_from_db()
    their_ship_to.refresh_from_db()
    their_token.token.refresh_from_db()
    assert theirs.name == "Their Florist" and their_ship_to.removed_at is None
    assert their_token.token.revoked_at is None and their_token.token.reset_at is None
    assert mailoutbox == []
    # Lists and exports show only the company's own rows; a token of another company's
    # customer cannot be made by guessing its ID.
    assert b"Their Florist" not in client.get(reverse("customers") + "?status=all").content
    export = load_workbook(BytesIO(client.get(reverse("customers_export")).getvalue())).active
    cells = {value for row in export.iter_rows(min_row=2, values_only=True) for value in row}
    assert "My Florist" in cells and "Their Florist" not in cells
    r = client.post(
        reverse("token_new"),
        {
            "description": "guess",
            "token_type": "customer",
            "customer": str(theirs.pk),
            "grants_customer": ["ecommerce/inventory.list"],
        },
    )
    assert r.status_code == 200 and b"does not exist" in r.content
    assert not ApiToken.objects.filter(customer=theirs).exists()


def test_a_403_is_logged_in_one_line_without_a_traceback(as_role):
    import io
    import logging

    from stemline.core.logfilters import RefusalsWithoutTraceback

    # The project's console handler (settings.LOGGING), writing into a buffer for the test.
    [console] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RefusalsWithoutTraceback) for f in h.filters)
    ]
    buffer = io.StringIO()
    before = console.setStream(buffer)
    try:
        assert as_role(Role.SALES).get(reverse("customers")).status_code == 403
    finally:
        console.setStream(before)
    logged = buffer.getvalue()
    assert "Forbidden (Permission denied): /setup/customers/" in logged
    assert "Traceback" not in logged


def test_the_sign_in_field_says_e_mail_and_the_site_has_an_icon(client):
    page = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">E-mail</label>' in page
    assert 'rel="icon"' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith(".svg")
