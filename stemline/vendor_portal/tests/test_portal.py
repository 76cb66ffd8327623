"""The Vendor Portal: a grower's user signs in, gets its Vendor Token with the default methods,
resets it (the old one stops at once), and sees nothing of the company's own pages."""

import pytest
from django.test import Client
from django.urls import reverse

from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.parties.models import Vendor
from stemline.tokens.models import ApiToken
from stemline.vendor_portal.views import portal_grants

pytestmark = pytest.mark.django_db


@pytest.fixture
def farm(company):
    return Vendor.objects.create(company=company, name="Rosas del Monte", port_origin="UIO")


@pytest.fixture
def grower(company, farm):
    user = create_user(
        company=company,
        email="ana@rosas.example",
        role=Role.VENDOR,
        vendor=farm,
        password="finca-rosas-2026",
    )
    client = Client()
    client.force_login(user)
    return client


def _shown_secret(client) -> str:
    page = client.get(reverse("vendor_portal:token")).content.decode()
    return page.split('id="vendor-token"', 1)[1].split(">", 1)[1].split("<", 1)[0].strip()


def test_portal_made_token_has_the_default_methods_and_works(grower, farm, api):
    page = grower.get(reverse("vendor_portal:token")).content.decode()
    assert 'id="create-vendor-token"' in page
    assert grower.post(reverse("vendor_portal:token")).status_code == 302
    token = ApiToken.objects.get(vendor=farm, revoked_at__isnull=True)
    assert token.token_type == "vendor" and token.grants == sorted(portal_grants())
    assert {"boxtype.list", "carrier.list", "product.list"} <= set(token.grants)
    secret = _shown_secret(grower)
    account = farm.company.account_id
    assert api("product.list", secret, account=account).status_code == 200
    # Asking again does not make a second token.
    grower.post(reverse("vendor_portal:token"))
    assert ApiToken.objects.filter(vendor=farm).count() == 1


def test_reset_in_the_portal_stops_the_old_token_at_once(grower, farm, api):
    grower.post(reverse("vendor_portal:token"))
    old = _shown_secret(grower)
    account = farm.company.account_id
    assert api("carrier.list", old, account=account).status_code == 200
    assert grower.post(reverse("vendor_portal:token_reset")).status_code == 302
    new = _shown_secret(grower)
    assert new != old
    assert api("carrier.list", old, account=account).status_code == 401
    assert api("carrier.list", new, account=account).status_code == 200


def test_company_made_vendor_token_is_the_one_the_portal_shows(grower, farm, make_token):
    issued = make_token(farm.company, "vendor", vendor_id=farm.pk)
    assert _shown_secret(grower) == issued.secret


def test_grower_reaches_no_company_page_and_staff_no_portal_page(grower, company, as_role):
    for name in ("tokens", "customers", "sales_orders", "sales_inventory", "profile"):
        r = grower.get(reverse(name))
        assert r.status_code == 302 and r["Location"] == reverse("vendor_portal:home"), name
    assert grower.post(reverse("token_new"), {}).status_code == 302
    staff = as_role(Role.ADMIN)
    for name in ("vendor_portal:home", "vendor_portal:token"):
        assert staff.get(reverse(name)).status_code == 403
    assert staff.post(reverse("vendor_portal:token_reset")).status_code == 403


def test_grower_sees_only_its_own_token(grower, company, other_company, make_token):
    # Another grower of the same company, and one of another company, have tokens too.
    neighbour = Vendor.objects.create(company=company, name="Flores Vecinas", port_origin="BOG")
    theirs = make_token(company, "vendor", vendor_id=neighbour.pk)
    elsewhere = make_token(other_company, "vendor")
    page = grower.get(reverse("vendor_portal:token")).content.decode()
    assert theirs.secret not in page and elsewhere.secret not in page
    grower.post(reverse("vendor_portal:token_reset"))
    theirs.token.refresh_from_db()
    assert theirs.token.reset_at is None


def test_profile_menu_has_vendor_token_and_profile_shows_company_id(grower, company):
    page = grower.get(reverse("vendor_portal:profile")).content.decode()
    assert "Vendor Token" in page and str(company.account_id) in page


def test_grower_sees_its_own_purchase_orders_only(grower, farm, company, other_company):
    from datetime import date

    from stemline.core.models import Location
    from stemline.purchasing.models import PurchaseOrder

    def po(owner, vendor, number):
        return PurchaseOrder.objects.create(
            company=owner,
            vendor=vendor,
            number=number,
            location=Location.objects.get(company=owner, is_default=True),
            ship_date=date(2026, 3, 2),
            arrival_date=date(2026, 3, 4),
        )

    neighbour = Vendor.objects.create(company=company, name="Flores Vecinas", port_origin="BOG")
    foreign = Vendor.objects.create(company=other_company, name="Far Farm", port_origin="BOG")
    mine = po(company, farm, "PO-MINE")
    po(company, neighbour, "PO-NEXT")
    po(other_company, foreign, "PO-FAR")
    page = grower.get(reverse("vendor_portal:home")).content.decode()
    assert f'id="po-{mine.pk}"' in page and "PO-MINE" in page
    assert "PO-NEXT" not in page and "PO-FAR" not in page
