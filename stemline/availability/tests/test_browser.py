"""The Vendor Portal's availability upload in a real browser (Debian's Chromium via
Playwright), under the strict CSP: a file with an unmapped row is refused by line number, the
fixed file previews its mapping and, confirmed, is offered. Screenshots into
docs/screenshots/ with STEMLINE_SCREENSHOTS=1."""

import os

import pytest

from stemline.availability.models import Offer
from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.web.tests.conftest import PASSWORD
from stemline.web.tests.test_browser import CHROMIUM, browser, shot, sign_in  # noqa: F401
from stemline.web.tests.test_browser_csp import WATCH

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

HEADER = "product,boxType,unitType,bunches,stemsBunch,boxes,unitCost,availableFrom,availableTo"


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH)
    page = context.new_page()
    yield page
    assert page.evaluate("window.__violations") == []
    context.close()


def _file(*rows) -> dict:
    body = "\n".join([HEADER, *rows]) + "\n"
    return {"name": "availability.csv", "mimeType": "text/csv", "buffer": body.encode()}


def test_grower_previews_then_confirms_an_upload(page, va, shot):  # noqa: F811
    g = va
    grower = create_user(
        company=g.company,
        email="ana@rosas.example",
        role=Role.VENDOR,
        vendor=g.vendor,
        password=PASSWORD,
    )
    good = f"RFR50,HB,Stem,10,25,12,0.350,{g.start},{g.end}"
    second = f"Rose Freedom Red 50cm,HB,Bunch,12,25,4,3.900,{g.start},{g.start}"
    sign_in(page, grower)
    page.click("#nav-availability")
    page.set_input_files("#id_file", _file(good, "Tulipan Amarillo,HB,Stem,10,25,3,0.3,,"))
    page.click("#upload-submit")
    page.wait_for_selector("#refused")
    assert "Refused: line 3." in page.inner_text("#refused")
    assert "not mapped" in page.inner_text("#preview-line-3")
    assert page.locator("#confirm-upload").count() == 0
    shot(page, "portal-availability-refused")
    page.go_back()
    page.set_input_files("#id_file", _file(good, second))
    page.click("#upload-submit")
    page.wait_for_selector("#confirm-upload")
    assert "Rose Freedom Red 50cm" in page.inner_text("#preview-line-2")
    assert "OK" in page.inner_text("#preview-line-3")
    shot(page, "portal-availability-preview")
    page.click("#confirm-upload")
    page.wait_for_selector(".messages")
    assert "Availability saved: 2 offers." in page.inner_text(".messages")
    assert Offer.objects.filter(vendor=g.vendor).count() == 2
    assert page.locator("#offers tbody tr").count() == 2
    shot(page, "portal-availability")


def test_admin_sets_the_markup_in_setup(page, va, shot):  # noqa: F811
    g = va
    g.offer(8)
    admin = create_user(
        company=g.company, email="boss@sunrise.example", role=Role.ADMIN, password=PASSWORD
    )
    sign_in(page, admin)
    page.goto("/setup/availability/")
    page.fill("#id_markup_percent", "40")
    page.click("#markup-submit")
    page.wait_for_selector(".messages")
    assert "0.560" in page.inner_text("#offers")
    shot(page, "setup-vendor-availability")
