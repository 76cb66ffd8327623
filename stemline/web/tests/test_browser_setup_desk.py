"""Setup, people, the home page and the Vendor Portal in a real browser (Debian's Chromium via Playwright): a product's price
edited in Setup, a person added who then chooses a password and signs in, the home page's
charts drawn with the day's data, and a grower shipping a PO line onto an AWB in the Vendor
Portal. Screenshots of the new pages go to docs/screenshots/ with STEMLINE_SCREENSHOTS=1."""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.utils import timezone

from stemline.catalog.models import Product
from stemline.core.models import Role, User

from .conftest import PASSWORD
from .test_browser import CHROMIUM, browser, page, shot, sign_in  # noqa: F401  (fixtures)
from .test_dashboard import make_sales

pytestmark = [
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


def test_setup_edits_a_product_price(page, person, stocked, shot):  # noqa: F811
    sign_in(page, person(Role.SETUP))
    page.goto("/setup/products/")
    page.click("#product-list >> text=Rose Freedom Red 50cm")
    page.fill("#id_price_a", "-2")
    page.click("button:has-text('Save')")
    # The error is beside the field, and nothing was saved.
    assert "greater than or equal to 0" in page.inner_text("#id_price_a_errors")
    page.fill("#id_price_a", "0.650")
    page.fill("#id_price_b", "0.600")
    shot(page, "product-edit")
    page.click("button:has-text('Save')")
    page.wait_for_url("**/setup/products/")
    row = page.inner_text("#product-list tbody tr")
    assert "0.650" in row and "0.600" in row
    product = Product.objects.get(pk=stocked.product.pk)
    assert (product.price_a, product.price_b) == (Decimal("0.650"), Decimal("0.600"))
    page.click("#product-list >> th >> text=Price A")  # sort by price: still one row, sorted
    assert "sort=price_a" in page.url
    shot(page, "products")


def test_admin_adds_a_person_who_sets_a_password_and_signs_in(
    page,  # noqa: F811
    person,
    company,
    shot,  # noqa: F811
):
    admin = person(Role.ADMIN)
    sign_in(page, admin)
    page.click("text=Setup")
    page.click("aside >> text=People")
    page.click("#user-new")
    page.fill("#id_email", "rosa@example.com")
    page.fill("#id_first_name", "Rosa")
    page.select_option("#id_role", "sales")
    shot(page, "user-new")
    page.click("button:has-text('Add and send link')")
    page.wait_for_url("**/setup/users/")
    assert "rosa@example.com" in page.inner_text("#user-list")
    shot(page, "users")
    page.click("#user-list >> text=rosa@example.com")
    shot(page, "user-edit")
    link = re.search(r"https?://[^/]+(/password/reset/\S+)", mail.outbox[-1].body).group(1)
    page.click(".avatar-menu > button")
    page.click("text=Sign out")

    page.goto(link)
    page.fill("#id_new_password1", "Peony-Sunrise-42")
    page.fill("#id_new_password2", "Peony-Sunrise-42")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "Password set" in page.content()
    sign_in(page, User.objects.get(username="rosa@example.com"), "Peony-Sunrise-42")
    assert urlparse(page.url).path == "/"  # signed in, at home
    assert page.is_visible("#chart-today")  # a Sales home
    assert not page.is_visible("nav.main >> text=Setup")


def _painted(page, selector) -> int:  # noqa: F811
    """How many pixels of the canvas are not transparent (0 for an empty canvas)."""
    return page.evaluate(
        """(selector) => {
            const c = document.querySelector(selector);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
            return n;
        }""",
        selector,
    )


def test_the_home_charts_render_with_the_days_data(
    page,  # noqa: F811
    person,
    stocked,
    make_token,
    shot,  # noqa: F811
):
    make_sales(stocked, make_token)
    stocked.add(6)
    sign_in(page, person(Role.ADMIN))
    page.goto("/")
    for chart in ("#chart-today", "#chart-week", "#chart-age"):
        page.wait_for_selector(f"{chart}[data-drawn='1']")
        assert _painted(page, chart) > 500, chart
    # The bars are the server's figures (Chart.js keeps them on the chart).
    bars = page.evaluate("document.querySelector('#chart-today').chart.data.datasets[0].data")
    assert bars == [100, 47, 25, 10]
    assert page.inner_text("#sales-today") == "182.00"
    shot(page, "home")


def test_a_grower_ships_a_po_line_in_the_portal(page, api, make_token, stocked, shot):  # noqa: F811
    from stemline.core.services import create_user
    from stemline.purchasing.models import PurchaseOrder

    token = make_token(stocked.company)
    ship = timezone.localdate() + timedelta(days=2)
    made = api(
        "purchase.order.create",
        token,
        {
            "shipDate": str(ship),
            "vendorId": stocked.vendor.pk,
            "purchaseOrderItems": [
                {
                    "productCode": "RFR50",
                    "boxTypeCode": "HB",
                    "boxes": 3,
                    "unitType": "stem",
                    "bunches": 10,
                    "stemsBunch": 25,
                    "unitCost": "0.300",
                }
            ],
        },
    ).json_body
    po = PurchaseOrder.objects.get(pk=made["purchaseOrderId"])
    [item] = po.items.all()
    grower = create_user(
        company=stocked.company,
        email="ana@rosas.example",
        role=Role.VENDOR,
        vendor=stocked.vendor,
        password=PASSWORD,
    )
    sign_in(page, grower)
    page.click(f"#po-list >> text={po.number}")
    row = page.inner_text(f"#po-line-{item.pk}")
    assert "Rose Freedom Red 50cm" in row and "750" in row and "0.300" in row
    shot(page, "vendor-portal-order")
    page.click(f"#ship-{item.pk}")
    page.fill("#id_awb", "369-12345675")
    page.fill("#id_box_codes", "RDM-101, RDM-102, RDM-103")
    shot(page, "vendor-portal-ship")
    page.click("#ship-submit")
    page.wait_for_selector("text=3 boxes shipped on AWB 369-12345675")
    assert "369-12345675" in page.inner_text(f"#po-line-{item.pk}")
    assert not page.is_visible(f"#ship-{item.pk}")
    item.refresh_from_db()
    assert item.awb.number == "369-12345675"


def test_the_setup_edit_pages_and_a_purchasing_home(page, person, stocked, shot):  # noqa: F811
    """The other new pages, opened from their lists (and photographed for the docs)."""
    from stemline.parties.models import Carrier

    company = stocked.company
    company.multi_location = True
    company.save()
    Carrier.objects.create(company=company, name="Avianca Cargo", code="AVC", direction="inbound")
    sign_in(page, person(Role.ADMIN))
    page.goto("/setup/box-types/")
    page.click("#box-type-list >> text=HB")
    assert page.input_value("#id_fbe") == "0.500"
    shot(page, "box-type-edit")
    page.goto("/setup/carriers/")
    page.click("#carrier-list >> text=AVC")
    assert page.input_value("#id_name") == "Avianca Cargo"
    shot(page, "carrier-edit")
    page.goto(f"/setup/vendors/{stocked.vendor.pk}/")
    page.click("#vendor-edit")
    page.fill("#id_name", "Rosas del Monte SA")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Vendor Rosas del Monte SA saved.")
    page.goto(f"/setup/vendors/{stocked.vendor.pk}/edit/")
    shot(page, "vendor-edit")
    page.goto("/setup/locations/")
    page.click("text=New location")
    page.fill("#id_name", "Medley Cooler")
    page.fill("#id_code", "MDL")
    page.click("button:has-text('Save')")
    page.wait_for_selector("#location-list >> text=Medley Cooler")
    shot(page, "locations")
    page.goto("/setup/settings/tokens/new/")
    shot(page, "token-methods-by-area")

    page.context.clear_cookies()
    stocked.add(4)
    from datetime import timedelta as days

    from django.utils import timezone as tz

    from stemline.purchasing.models import Awb, PurchaseOrder

    for n, ship in enumerate((-1, 2, 4)):
        PurchaseOrder.objects.create(
            company=company,
            number=f"P00010{n}",
            location=stocked.location,
            vendor=stocked.vendor,
            ship_date=tz.localdate() + days(days=ship),
            arrival_date=tz.localdate() + days(days=ship + 2),
        )
    Awb.objects.create(
        company=company,
        number="369-12345675",
        origin="UIO",
        location=stocked.location,
        ship_date=tz.localdate(),
        arrival_date=tz.localdate() + days(days=1),
        pieces=12,
        pieces_received=4,
    )
    sign_in(page, person(Role.PURCHASING))
    assert page.is_visible("#pos-due") and page.is_visible("#chart-age")
    assert not page.is_visible("#chart-today")
    shot(page, "home-purchasing")
