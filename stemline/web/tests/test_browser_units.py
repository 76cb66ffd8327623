"""Sales > Inventory > Open box in a real browser (Debian's Chromium via Playwright), under the
strict CSP: a sales rep opens two boxes into bunches, the boxes leave the box table and their
bunches appear under Units, priced per bunch; asking for more boxes than are unsold is
refused beside the field. Screenshots into docs/screenshots/ with STEMLINE_SCREENSHOTS=1."""

import pytest

from stemline.core.models import Role
from stemline.inventory.models import InventoryLine

from .test_browser import CHROMIUM, browser, shot, sign_in  # noqa: F401 (fixtures)
from .test_browser_csp import WATCH

pytestmark = [
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH)
    page = context.new_page()
    yield page
    assert page.evaluate("window.__violations") == []
    context.close()


def test_a_sales_rep_opens_boxes_into_bunches(page, person, stocked, shot):  # noqa: F811
    line = stocked.add(5)  # 10 bunches of 25 stems a box, 0.500 a stem
    stocked.add(3, future_days=4)  # future boxes cannot be opened: no button
    sign_in(page, person(Role.SALES))
    page.goto("/sales/inventory/")
    assert page.locator("#inventory-list [data-open]").count() == 1
    assert "No units" in page.inner_text("#units-list")
    page.click(f"[data-open='{line.pk}']")
    page.wait_for_selector("#open-box-form")
    # More boxes than are unsold: refused beside the field, nothing opened.
    page.fill("#id_boxes", "6")
    page.click("#open-box-form button[type=submit]")
    page.wait_for_selector(".has-error")
    assert "5 unsold boxes" in page.inner_text("#open-box-form")
    assert InventoryLine.objects.filter(in_units=True).count() == 0
    page.fill("#id_boxes", "2")
    page.select_option("#id_unit_type", "Bunch")
    shot(page, "sales-open-box")
    page.click("#open-box-form button[type=submit]")
    page.wait_for_selector(".messages")
    assert "20 bunches in units" in page.inner_text(".messages")
    units_row = page.locator("#units-list tbody tr").first.inner_text()
    assert "bunches" in units_row and "20" in units_row and "12.500" in units_row
    boxes_row = page.locator("#inventory-list tbody tr", has_text="on hand").first.inner_text()
    assert "\t3\t" in boxes_row  # 5 boxes, 2 opened
    line.refresh_from_db()
    assert (line.total, line.opened) == (3, 2)
    shot(page, "sales-inventory-units")
