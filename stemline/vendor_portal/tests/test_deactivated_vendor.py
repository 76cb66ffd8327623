"""A deactivated vendor is shut out: its people cannot sign into the portal (nor keep a session
open) and its Vendor token is refused, like an inactive customer's; reactivated, both work."""

import pytest
from django.test import Client
from django.urls import reverse

from stemline.core.models import Role
from stemline.parties.models import Customer, Vendor
from stemline.web.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def grower(company):
    return Vendor.objects.create(company=company, name="Finca Linda", code="FL", port_origin="BOG")


def sign_in(client, username):
    client.post(reverse("login"), {"username": username, "password": PASSWORD})
    return "_auth_user_id" in client.session


def test_deactivated_vendor_cannot_sign_into_the_portal(as_role, person, grower):
    farmer = person(Role.VENDOR, vendor=grower)
    open_session = Client()
    assert sign_in(open_session, farmer.username)
    assert open_session.get(reverse("vendor_portal:home")).status_code == 200

    admin = as_role(Role.ADMIN)
    r = admin.post(reverse("vendor_active", args=[grower.pk]), {"active": "0"})
    assert r.status_code == 302
    assert "inactive" in admin.get(reverse("vendor_detail", args=[grower.pk])).content.decode()

    refused = Client()
    page = refused.post(reverse("login"), {"username": farmer.username, "password": PASSWORD})
    assert "_auth_user_id" not in refused.session
    assert "Vendor Portal access of Finca Linda is closed" in page.content.decode()
    # The session opened before is closed too.
    assert open_session.get(reverse("vendor_portal:home")).status_code == 403
    assert open_session.get(reverse("vendor_portal:token")).status_code == 403

    admin.post(reverse("vendor_active", args=[grower.pk]), {"active": "1"})
    assert sign_in(Client(), farmer.username)


def test_deactivated_vendors_token_gets_401(api, company, make_token, grower, as_role):
    token = make_token(company, "vendor", vendor_id=grower.pk)
    assert api("boxtype.list", token, verb="GET").status_code == 200  # snapshot now cached
    as_role(Role.ADMIN).post(reverse("vendor_active", args=[grower.pk]), {"active": "0"})
    refused = api("boxtype.list", token, verb="GET")
    assert refused.status_code == 401, refused.json_body
    assert refused.json_body["status"] == 0
    as_role(Role.ADMIN).post(reverse("vendor_active", args=[grower.pk]), {"active": "1"})
    assert api("boxtype.list", token, verb="GET").status_code == 200


def test_a_change_made_by_another_process_is_seen_at_once(api, company, make_token, grower):
    # An UPDATE behind this process's back (another web process, a shell) leaves its snapshot
    # of the token as it was: the per-request check must still refuse.
    token = make_token(company, "vendor", vendor_id=grower.pk)
    assert api("boxtype.list", token, verb="GET").status_code == 200
    Vendor.objects.filter(pk=grower.pk).update(active=False)
    assert api("boxtype.list", token, verb="GET").status_code == 401


def test_inactive_customers_token_gets_401(api, company, make_token, company_token):
    shop = Customer.objects.create(company=company, name="Bloom Shop", code="BS")
    token = make_token(company, "customer", customer_id=shop.pk)
    assert api("customer.shipto.list", token, verb="GET").status_code == 200
    r = api("customer.update", company_token, {"customerId": shop.pk, "active": "false"})
    assert r.status_code == 200, r.json_body
    assert api("customer.shipto.list", token, verb="GET").status_code == 401
    api("customer.update", company_token, {"customerId": shop.pk, "active": "true"})
    assert api("customer.shipto.list", token, verb="GET").status_code == 200
