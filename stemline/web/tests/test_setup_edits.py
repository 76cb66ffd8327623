"""Setup that edits (products with prices per level, box types, carriers, vendors, locations),
People (staff, roles, set-password links), lists that search and sort, and duplicate names."""

import re
from decimal import Decimal
from io import BytesIO

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from stemline.catalog.models import BoxType, Product
from stemline.core.limits import INT_MAX
from stemline.core.models import Location, Role, User
from stemline.inventory.models import InventoryLine
from stemline.parties.models import Carrier, Customer, Vendor

from .conftest import queries_of

pytestmark = pytest.mark.django_db


def _errors(response, field):
    """The error list shown beside `field` (its id is the field's id + _errors)."""
    html = response.content.decode()
    found = re.search(rf'id="id_{field}_errors">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def _product_post(**over):
    data = {
        "category": "Roses",
        "variety": "Freedom",
        "color": "Red",
        "grade": "50cm",
        "legacy_code": "RFR50",
        "description": "",
        "default_unit_type": "Stem",
        "price_a": "0.550",
        "price_b": "0.500",
        "tags": "",
        "active": "on",
    }
    data.update(over)
    return data


def test_a_product_price_edited_in_setup_is_what_new_inventory_without_a_price_takes(
    as_role, api, company_token, stocked
):
    client = as_role(Role.SETUP)
    url = reverse("product_edit", args=[stocked.product.pk])
    response = client.post(url, _product_post(price_a="0.620", price_b="0.580"))
    assert response.status_code == 302
    stocked.product.refresh_from_db()
    assert (stocked.product.price_a, stocked.product.price_b) == (
        Decimal("0.620"),
        Decimal("0.580"),
    )
    added = api(
        "inventory.add",
        company_token,
        {
            "productCode": "RFR50",
            "boxTypeCode": "HB",
            "vendorCode": "RDM",
            "awb": "369-12345675",
            "shipDate": str(timezone.localdate()),
            "unitType": "STEM",
            "quantity": 2,
            "bunches": 10,
            "stemsBunch": 25,
            "unitCost": 0.3,
        },
    ).json_body
    line = InventoryLine.objects.get(pk=added["inventoryIds"][0])
    assert (line.price_a, line.price_b) == (Decimal("0.620"), Decimal("0.580"))
    # A price sent with the boxes wins over the product's default.
    added = api(
        "inventory.add",
        company_token,
        {
            "productCode": "RFR50",
            "boxTypeCode": "HB",
            "vendorCode": "RDM",
            "awb": "369-12345675",
            "shipDate": str(timezone.localdate()),
            "unitType": "STEM",
            "quantity": 1,
            "bunches": 10,
            "stemsBunch": 25,
            "unitCost": 0.3,
            "priceA": 0.9,
        },
    ).json_body
    assert InventoryLine.objects.get(pk=added["inventoryIds"][0]).price_a == Decimal("0.900")
    # Emptying a price clears the default.
    client.post(url, _product_post(price_a="", price_b="0.580"))
    stocked.product.refresh_from_db()
    assert stocked.product.price_a is None


def test_product_errors_are_shown_beside_their_field(as_role, stocked):
    client = as_role(Role.SETUP)
    response = client.post(reverse("product_new"), _product_post(price_a="-1"))
    assert response.status_code == 200
    assert "greater than or equal to 0" in _errors(response, "price_a")
    # The service's refusal (a code taken) lands beside the code.
    response = client.post(reverse("product_new"), _product_post(legacy_code="rfr50"))
    assert "already has the code" in _errors(response, "legacy_code")
    response = client.post(
        reverse("product_new"), _product_post(variety="", color="", grade="", legacy_code="X1")
    )
    assert "variety" in _errors(response, "variety")
    assert Product.objects.filter(company=stocked.company).count() == 1


def test_product_add_and_update_through_the_api_take_prices(api, company_token, stocked):
    made = api(
        "product.add",
        company_token,
        {"category": "Roses", "variety": "Vendela", "priceA": 0.4, "priceB": 0.35},
    ).json_body
    product = Product.objects.get(pk=made["productId"])
    assert (product.price_a, product.price_b) == (Decimal("0.400"), Decimal("0.350"))
    api("product.update", company_token, {"productId": product.pk, "priceB": 0.3})
    product.refresh_from_db()
    assert (product.price_a, product.price_b) == (Decimal("0.400"), Decimal("0.300"))
    refused = api("product.update", company_token, {"productId": product.pk, "priceA": -1})
    assert refused.status_code == 422 and refused.json_body["message"].startswith("priceA")


def test_box_types_carriers_vendors_and_locations_are_edited(as_role, company, stocked):
    client = as_role(Role.SETUP)
    box = BoxType.objects.get(company=company, code="QB")
    response = client.post(
        reverse("box_type_edit", args=[box.pk]),
        {"code": "QB", "name": "Quarter", "fbe": "0.30", "active": "on"},
    )
    assert response.status_code == 302
    box.refresh_from_db()
    assert (box.name, box.fbe) == ("Quarter", Decimal("0.300"))
    response = client.post(reverse("box_type_new"), {"code": "hb", "fbe": "0.5"})
    assert "already has the code" in _errors(response, "code")
    response = client.post(reverse("box_type_new"), {"code": "SB", "fbe": "11"})
    assert _errors(response, "fbe")
    client.post(reverse("box_type_new"), {"code": "sb", "name": "Sixth", "fbe": "0.166"})
    assert BoxType.objects.filter(company=company, code="SB").exists()

    carrier = Carrier.objects.create(company=company, name="FedEx", code="FDX")
    url = reverse("carrier_edit", args=[carrier.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"name": "FedEx Priority", "code": "FDX", "direction": "outbound", "capacity": ""}
    )
    assert response.status_code == 302
    carrier.refresh_from_db()
    assert (carrier.name, carrier.active, carrier.capacity) == ("FedEx Priority", False, None)
    response = client.post(
        url, {"name": "FedEx", "code": "FDX", "direction": "outbound", "capacity": INT_MAX + 1}
    )
    assert _errors(response, "capacity")

    vendor = stocked.vendor
    url = reverse("vendor_edit", args=[vendor.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"name": "Rosas del Monte SA", "code": "RDM", "port_origin": "bog", "vendor_type": "1"},
    )
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert (vendor.name, vendor.port_origin) == ("Rosas del Monte SA", "BOG")
    response = client.post(
        url, {"name": "Rosas", "code": "RDM", "port_origin": "", "vendor_type": "1"}
    )
    assert _errors(response, "port_origin")

    company.multi_location = True
    company.save()
    response = client.post(
        reverse("location_new"),
        {"name": "Doral", "code": "DOR", "is_default": "on", "active": "on"},
    )
    assert response.status_code == 302
    doral = Location.objects.get(company=company, code="DOR")
    assert doral.is_default
    assert Location.objects.filter(company=company, is_default=True).count() == 1
    response = client.post(
        reverse("location_edit", args=[doral.pk]), {"name": "Doral", "code": "dor"}
    )
    assert "default location must stay active" in response.content.decode()


def test_an_admin_adds_a_person_who_sets_a_password_from_the_link_and_signs_in(as_role, company):
    admin = as_role(Role.ADMIN)
    response = admin.post(
        reverse("user_new"),
        {"email": "maria@example.com", "first_name": "Maria", "role": "purchasing"},
    )
    assert response.status_code == 302
    maria = User.objects.get(username="maria@example.com")
    assert (maria.company_id, maria.role, maria.has_usable_password()) == (
        company.pk,
        Role.PURCHASING,
        False,
    )
    link = re.search(r"http://testserver(/password/reset/\S+)", mail.outbox[-1].body).group(1)
    browser = Client()
    form = browser.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    browser.post(
        set_url, {"new_password1": "Anthurium-77-red", "new_password2": "Anthurium-77-red"}
    )
    assert (
        browser.post(
            reverse("login"), {"username": "maria@example.com", "password": "Anthurium-77-red"}
        ).status_code
        == 302
    )
    assert browser.get(reverse("purchase_orders")).status_code == 200
    assert browser.get(reverse("customers")).status_code == 403

    # Role change, then deactivation: the session she has stops working.
    url = reverse("user_edit", args=[maria.pk])
    admin.post(url, {"first_name": "Maria", "role": "sales", "active": "on"})
    maria.refresh_from_db()
    assert maria.role == Role.SALES
    assert browser.get(reverse("sales_orders")).status_code == 200
    admin.post(url, {"first_name": "Maria", "role": "sales"})
    maria.refresh_from_db()
    assert not maria.is_active
    assert browser.get(reverse("sales_orders")).status_code == 302  # back to sign-in
    # A link for someone else is sent on request.
    sent = len(mail.outbox)
    admin.post(reverse("user_send_link", args=[maria.pk]))
    assert len(mail.outbox) == sent  # deactivated: refused
    admin.post(url, {"first_name": "Maria", "role": "sales", "active": "on"})
    admin.post(reverse("user_send_link", args=[maria.pk]))
    assert len(mail.outbox) == sent + 1 and "/password/reset/" in mail.outbox[-1].body


def test_people_is_for_admins_and_an_admin_cannot_lock_themselves_out(as_role, person):
    assert as_role(Role.SETUP).get(reverse("users")).status_code == 403
    assert as_role(Role.SALES).get(reverse("users")).status_code == 403
    me = person(Role.ADMIN)
    client = Client()
    client.force_login(me)
    response = client.post(reverse("user_edit", args=[me.pk]), {"role": "sales", "active": "on"})
    assert "your own Admin role" in response.content.decode()
    me.refresh_from_db()
    assert me.role == Role.ADMIN
    response = client.post(reverse("user_new"), {"email": me.username, "role": "sales"})
    assert "already exists" in _errors(response, "email")
    # A vendor portal login is not a staff role to hand out here.
    response = client.post(reverse("user_new"), {"email": "x@example.com", "role": "vendor"})
    assert _errors(response, "role")


def test_lists_search_sort_and_their_query_count_does_not_grow_with_rows(as_role, company):
    client = as_role(Role.ADMIN)
    for name in ("Zeta Air", "Alpha Air", "Mid Cargo"):
        Carrier.objects.create(company=company, name=name, code=name[:3].upper())
    names = re.findall(
        r"<td>([A-Za-z ]+ (?:Air|Cargo))</td>",
        client.get(reverse("carriers"), {"sort": "-name"}).content.decode(),
    )
    assert names == ["Zeta Air", "Mid Cargo", "Alpha Air"]
    page = client.get(reverse("carriers"), {"q": "air", "sort": "name"}).content.decode()
    assert "Alpha Air" in page and "Mid Cargo" not in page
    # The export is what the list shows: the search and the order.
    response = client.get(reverse("carriers_export"), {"q": "air", "sort": "-name"})
    rows = list(load_workbook(BytesIO(response.getvalue())).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == ["Zeta Air", "Alpha Air"]

    pages = ["carriers", "vendors", "products", "box_types", "users", "customers"]

    def counts():
        return {name: queries_of(lambda n=name: client.get(reverse(n))) for name in pages}

    # One row of each (an empty page runs no row query at all), then thirty more.
    Vendor.objects.create(company=company, name="Farm", port_origin="BOG")
    Customer.objects.create(company=company, name="Florist")
    few = counts()
    for i in range(30):
        Carrier.objects.create(company=company, name=f"Carrier {i}", code=f"C{i}")
        Vendor.objects.create(company=company, name=f"Farm {i}", port_origin="BOG")
        Customer.objects.create(company=company, name=f"Florist {i}")
        User.objects.create(company=company, username=f"u{i}@example.com", role=Role.SALES)
    assert counts() == few


def test_a_second_customer_or_vendor_of_the_same_name_is_warned_about(as_role, company):
    client = as_role(Role.SETUP)
    first = Customer.objects.create(company=company, name="Bloom Florist")
    response = client.post(
        reverse("customer_new"),
        {"name": "bloom florist", "customer_type": "1", "default_price": "A", "active": "on"},
        follow=True,
    )
    assert f"also named bloom florist (ID {first.pk})" in response.content.decode()
    farm = Vendor.objects.create(company=company, name="Rosaprima", port_origin="UIO")
    response = client.post(
        reverse("vendor_new"),
        {"name": "Rosaprima", "port_origin": "UIO", "vendor_type": "1"},
        follow=True,
    )
    assert f"also named Rosaprima (ID {farm.pk})" in response.content.decode()
    unique = client.post(
        reverse("vendor_new"),
        {"name": "Alexandra Farms", "port_origin": "BOG", "vendor_type": "1"},
        follow=True,
    )
    assert "also named" not in unique.content.decode()


SORTED_PAGES = {
    "customers": ["name", "code", "type", "group", "price", "id"],
    "carriers": ["code", "name", "direction", "capacity", "active", "id"],
    "vendors": ["name", "code", "port", "users", "id"],
    "products": ["description", "category", "code", "price_a", "price_b", "id"],
    "box_types": ["code", "name", "fbe", "id"],
    "users": ["email", "name", "role", "active", "last_login"],
    "tokens": ["description", "type", "last_used"],
    "sales_inventory": ["arrives", "product", "box", "vendor", "available", "price_a"],
    "sales_orders": ["received", "number", "customer", "ship", "amount"],
    "purchase_orders": ["number", "vendor", "ship", "arrival", "status", "boxes"],
    "purchasing_awbs": ["number", "ship", "arrival", "pieces", "received"],
}


@pytest.mark.parametrize("name", sorted(SORTED_PAGES))
def test_every_list_sorts_by_each_column_both_ways_and_searches(as_role, stocked, name):
    stocked.add(3)
    client = as_role(Role.ADMIN)
    for key in SORTED_PAGES[name]:
        for sort in (key, f"-{key}"):
            response = client.get(reverse(name), {"sort": sort, "q": "a"})
            assert response.status_code == 200, (name, sort)
            # The header links to the other direction; the search is kept.
            other = key if sort.startswith("-") else f"-{key}"
            assert f"sort={other}" in response.content.decode(), (name, sort)
    # An unknown column falls back to the default order, never an error.
    assert client.get(reverse(name), {"sort": "password"}).status_code == 200


def test_the_inventory_sorts_by_available_boxes(as_role, stocked):
    for boxes in (7, 2, 5):
        stocked.add(boxes)
    client = as_role(Role.SALES)

    def column(sort):
        page = client.get(reverse("sales_inventory"), {"sort": sort}).content.decode()
        return [int(n) for n in re.findall(r'<td class="num"><strong>(\d+)</strong></td>', page)]

    assert column("available") == [2, 5, 7]
    assert column("-available") == [7, 5, 2]


def test_sorted_inventory_and_awb_lists_cost_the_same_queries_with_few_and_many_rows(
    as_role, stocked
):
    from stemline.purchasing.models import Awb

    client = as_role(Role.ADMIN)
    pages = [
        (reverse("sales_inventory"), {"sort": "-available"}),
        (reverse("sales_inventory"), {"sort": "vendor", "q": "rose"}),
        (reverse("purchasing_awbs"), {"sort": "arrival"}),
    ]

    def awb(n):
        Awb.objects.create(
            company=stocked.company,
            number=f"369-{n:08d}",
            location=stocked.location,
            ship_date=timezone.localdate(),
        )

    stocked.add(2)
    awb(0)
    few = [queries_of(lambda u=u, p=p: client.get(u, p)) for u, p in pages]
    for n in range(1, 30):
        stocked.add(1 + n % 5)
        awb(n)
    assert [queries_of(lambda u=u, p=p: client.get(u, p)) for u, p in pages] == few
