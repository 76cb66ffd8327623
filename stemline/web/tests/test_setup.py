"""Setup pages: customers (filters, create, edit, ship-tos), carriers, vendors with portal
invitations, and the Excel exports whose Id column holds the IDs the API uses."""

import re
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from stemline.core.models import Role, User
from stemline.core.services import create_company
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor

from .conftest import queries_of

pytestmark = pytest.mark.django_db


def _sheet(response):
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]
    rows = list(load_workbook(BytesIO(response.getvalue())).active.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_customer_export_id_column_matches_the_api(as_role, api, company, company_token):
    for name in ("Bloom Florist", "Fresh Market", "Petal Pushers"):
        Customer.objects.create(company=company, name=name)
    Customer.objects.create(company=company, name="Old Shop", active=False)
    header, rows = _sheet(as_role(Role.SETUP).get(reverse("customers_export")))
    ids = [row[header.index("Id")] for row in rows]
    listed = api("customer.list", company_token).json_body["customers"]
    assert ids == [c["id"] for c in listed]
    assert [row[header.index("Name")] for row in rows] == [c["name"] for c in listed]


def test_customer_export_follows_the_filters(as_role, company):
    Customer.objects.create(company=company, name="Bloom Florist", customer_type=3)
    Customer.objects.create(company=company, name="Big Supermarket", customer_type=4)
    header, rows = _sheet(as_role(Role.SETUP).get(reverse("customers_export") + "?type=4"))
    assert [r[header.index("Name")] for r in rows] == ["Big Supermarket"]


def test_carrier_export_id_column_matches_the_api(as_role, api, company, company_token):
    Carrier.objects.create(company=company, name="Armellini", code="ARM")
    Carrier.objects.create(company=company, name="UPS", code="UPS")
    header, rows = _sheet(as_role(Role.ADMIN).get(reverse("carriers_export")))
    listed = api("carrier.list", company_token).json_body["carriers"]
    assert [r[header.index("Id")] for r in rows] == [c["id"] for c in listed]


def test_create_and_edit_customer_with_errors_beside_the_fields(as_role, company):
    client = as_role(Role.SETUP)
    Customer.objects.create(company=company, name="Taken", code="TAKEN")
    r = client.post(
        reverse("customer_new"),
        {
            "name": "Bloom",
            "code": "taken",
            "customer_type": "3",
            "default_price": "A",
            "email_for_invoices": "not-an-address",
        },
    )
    page = r.content.decode()
    assert r.status_code == 200
    # The form's own checks and then the service's (same rules as the API) land by the field.
    assert 'id="id_email_for_invoices_errors"' in page or 'id="id_code_errors"' in page
    r = client.post(
        reverse("customer_new"),
        {
            "name": "Bloom",
            "code": "taken",
            "customer_type": "3",
            "default_price": "A",
            "email_for_invoices": "a@bloom.example",
            "active": "on",
        },
    )
    assert 'id="id_code_errors"' in r.content.decode()
    assert "already has the code" in r.content.decode()
    r = client.post(
        reverse("customer_new"),
        {
            "name": "Bloom",
            "code": "BLOOM",
            "customer_type": "3",
            "default_price": "B",
            "email_for_invoices": "not-an-address",
            "active": "on",
        },
    )
    assert 'id="id_email_for_invoices_errors"' in r.content.decode()
    r = client.post(
        reverse("customer_new"),
        {
            "name": "Bloom",
            "code": "BLOOM",
            "customer_type": "3",
            "default_price": "B",
            "email_for_invoices": "a@bloom.example",
            "credit_limit": "500",
            "active": "on",
        },
    )
    assert r.status_code == 302
    bloom = Customer.objects.get(company=company, code="BLOOM")
    assert bloom.default_price == "B" and bloom.credit_limit == 500 and bloom.active
    r = client.post(
        reverse("customer_edit", args=[bloom.pk]),
        {
            "name": "Bloom & Co",
            "code": "BLOOM",
            "customer_type": "3",
            "default_price": "B",
            "credit_limit": "",
            "active": "",
        },
    )
    assert r.status_code == 302
    bloom.refresh_from_db()
    assert bloom.name == "Bloom & Co" and bloom.credit_limit is None and not bloom.active


def test_ship_tos_added_edited_and_removed(as_role, company):
    client = as_role(Role.ADMIN)
    bloom = Customer.objects.create(company=company, name="Bloom")
    ups = Carrier.objects.create(company=company, name="UPS", code="UPS")
    r = client.post(reverse("ship_to_new", args=[bloom.pk]), {"name": ""})
    assert 'id="id_name_errors"' in r.content.decode()
    r = client.post(
        reverse("ship_to_new", args=[bloom.pk]),
        {"name": "Back door", "city": "Miami", "carrier": str(ups.pk)},
    )
    assert r.status_code == 302
    dock = ShipTo.objects.get(customer=bloom)
    assert dock.carrier == ups and dock.city == "Miami"
    client.post(reverse("ship_to_edit", args=[bloom.pk, dock.pk]), {"name": "Front door"})
    dock.refresh_from_db()
    assert dock.name == "Front door" and dock.carrier is None
    assert "Front door" in client.get(reverse("customer_edit", args=[bloom.pk])).content.decode()
    client.post(reverse("ship_to_remove", args=[bloom.pk, dock.pk]))
    dock.refresh_from_db()
    assert dock.removed_at is not None
    assert (
        "Front door" not in client.get(reverse("customer_edit", args=[bloom.pk])).content.decode()
    )


def test_customer_filters_and_pagination(as_role, company):
    for i in range(30):
        Customer.objects.create(company=company, name=f"Shop {i:02d}")
    Customer.objects.create(company=company, name="Sleepy Shop", active=False)
    client = as_role(Role.SETUP)
    first = client.get(reverse("customers")).content.decode()
    assert "Shop 00" in first and "Shop 29" not in first and "Page 1 of 2" in first
    second = client.get(reverse("customers") + "?page=2").content.decode()
    assert "Shop 29" in second
    assert "Sleepy Shop" not in first + second
    inactive = client.get(reverse("customers") + "?status=inactive").content.decode()
    assert "Sleepy Shop" in inactive and "Shop 00" not in inactive


def test_customer_list_queries_do_not_grow_with_rows(as_role, company):
    client = as_role(Role.SETUP)
    Customer.objects.create(company=company, name="One")
    few = queries_of(lambda: client.get(reverse("customers")))
    assert few <= 10
    for i in range(20):
        c = Customer.objects.create(company=company, name=f"Shop {i}")
        ShipTo.objects.create(company=company, customer=c, name="Dock")
    assert queries_of(lambda: client.get(reverse("customers"))) == few


def test_carrier_form_refuses_duplicate_code_beside_the_field(as_role, company):
    Carrier.objects.create(company=company, name="UPS", code="UPS")
    client = as_role(Role.SETUP)
    r = client.post(
        reverse("carrier_new"), {"name": "Other", "code": "ups", "direction": "outbound"}
    )
    assert 'id="id_code_errors"' in r.content.decode()
    r = client.post(reverse("carrier_new"), {"name": "", "code": "", "direction": "sideways"})
    page = r.content.decode()
    assert 'id="id_name_errors"' in page and 'id="id_direction_errors"' in page
    r = client.post(
        reverse("carrier_new"), {"name": "FedEx", "code": "FDX", "direction": "outbound"}
    )
    assert r.status_code == 302 and Carrier.objects.filter(company=company, code="FDX").exists()


def test_vendor_created_and_its_grower_invited_by_email(as_role, company, mailoutbox, client):
    admin = as_role(Role.ADMIN)
    r = admin.post(
        reverse("vendor_new"), {"name": "Rosas del Monte", "port_origin": "", "vendor_type": "1"}
    )
    assert 'id="id_port_origin_errors"' in r.content.decode()
    r = admin.post(
        reverse("vendor_new"), {"name": "Rosas del Monte", "port_origin": "uio", "vendor_type": "1"}
    )
    vendor = Vendor.objects.get(company=company, name="Rosas del Monte")
    assert vendor.port_origin == "UIO"
    r = admin.post(reverse("vendor_detail", args=[vendor.pk]), {"email": "ana@rosas.example"})
    assert r.status_code == 302
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    # A link to choose a password, never a password in clear.
    assert "Password:" not in body
    user = User.objects.get(username="ana@rosas.example")
    assert not user.has_usable_password()
    link = re.search(r"https?://testserver(/password/reset/\S+/)", body).group(1)
    assert "username: ana@rosas.example" in body
    step = client.get(link)
    assert step.status_code == 302  # Django swaps the one-time token for a session
    chosen = "Orchid-Valley-77"
    done = client.post(step["Location"], {"new_password1": chosen, "new_password2": chosen})
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    assert client.login(username="ana@rosas.example", password=chosen)
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("vendor_portal:home")).status_code == 200
    # The link works once.
    client.logout()
    assert b"set-password" not in client.get(link).content
    assert client.get(link).status_code == 200  # "the link is no longer valid" page
    # The same e-mail cannot be invited twice.
    r = admin.post(reverse("vendor_detail", args=[vendor.pk]), {"email": "ANA@rosas.example"})
    assert 'id="id_email_errors"' in r.content.decode()


def test_locations_page_only_for_multi_location_companies(as_role, company):
    client = as_role(Role.ADMIN)
    assert client.get(reverse("locations")).status_code == 404
    company.multi_location = True
    company.save()
    page = client.get(reverse("locations"))
    assert page.status_code == 200 and b"MAIN" in page.content


def test_products_and_box_types_lists(as_role, stocked):
    client = as_role(Role.SETUP)
    assert b"Rose Freedom Red 50cm" in client.get(reverse("products")).content
    assert b"HB" in client.get(reverse("box_types")).content


def test_profile_shows_the_company_id_that_x_account_accepts(as_role, api, company, make_token):
    page = as_role(Role.SALES).get(reverse("profile")).content.decode()
    shown = page.split('id="company-id">', 1)[1].split("<", 1)[0]
    assert shown == str(company.account_id)
    customer = Customer.objects.create(company=company, name="Bloom")
    token = make_token(company)
    ok = api("company.location.list", token.secret, {"customerId": customer.pk}, account=shown)
    assert ok.status_code == 200, ok.json_body
    other = create_company(name="Somebody Else")
    wrong = api(
        "company.location.list", token.secret, {"customerId": customer.pk}, account=other.account_id
    )
    assert wrong.status_code != 200
