"""The web application in a real browser: headless Chromium (Debian's /usr/bin/chromium)
driven by Playwright against a live server. These also take the screenshots of the main pages
(into docs/screenshots/ when STEMLINE_SCREENSHOTS=1, otherwise into the test's temporary
folder, so a plain test run leaves the work tree alone)."""

import json
import os
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from stemline.core.models import Role
from stemline.parties.models import Carrier, Customer, ShipTo, Vendor
from stemline.sales.models import DocumentStatus, Invoice
from stemline.tokens.models import ApiToken

from .conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)",
    ),
    # Slow, and each starts a browser: one worker runs them all (with --dist loadgroup).
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself
    # are still plain synchronous code. Only while these tests run: a subprocess started by
    # another test (the deploy check) must not inherit it.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launch(sync_playwright)
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


def _launch(sync_playwright):
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 800},
        accept_downloads=True,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


@pytest.fixture
def shot(tmp_path):
    folder = SCREENSHOTS if os.environ.get("STEMLINE_SCREENSHOTS") == "1" else tmp_path

    def take(page, name, **kw):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True, **kw)

    take.folder = folder  # for a test that writes a picture of its own (the invoice PDF)
    return take


def sign_in(page, user, password=PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def call_api(base, method, secret, data=None, account=None):
    headers = {"authenticationToken": secret, "Content-Type": "application/json"}
    if account is not None:
        headers["X-ACCOUNT"] = str(account)
    request = urllib.request.Request(
        f"{base}/api/{method}", data=json.dumps(data or {}).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        return error.code, json.loads(body) if body else None


def test_admin_creates_a_customer_token_that_works_for_exactly_the_ticked_methods(
    page, person, company, live_server, shot
):
    bloom = Customer.objects.create(company=company, name="Bloom Florist", code="BLOOM")
    for name in ("Fresh Market", "Petal Pushers", "Garden Gate"):
        Customer.objects.create(company=company, name=name)
    sign_in(page, person(Role.ADMIN))
    page.click("text=Setup")
    page.click("aside >> text=Tokens")
    page.click("text=New Token")
    page.fill("#id_description", "Bloom Florist web shop")
    page.select_option("#id_token_type", "customer")
    # Only the customer methods are offered now.
    assert page.is_visible("input[name=grants_customer][value='ecommerce/inventory.list']")
    assert not page.is_visible("input[name=grants_company][value='customer.add']")
    page.fill("#id_customer_q", "bloo")
    page.wait_for_selector(f"#id_customer option[value='{bloom.pk}']", state="attached")
    # (Not wait_for_function: its polling evaluates a string, which the CSP forbids.)
    expect(page.locator("#id_customer option")).to_have_count(2)
    page.select_option("#id_customer", str(bloom.pk))
    page.check("input[name=grants_customer][value='ecommerce/inventory.list']")
    page.check("input[name=grants_customer][value='web-order.create']")
    shot(page, "token-new")
    page.click("button:has-text('Generate')")
    page.wait_for_selector("#token-secret")
    secret = page.inner_text("#token-secret").strip()
    page.click("#copy-token")
    page.wait_for_selector("#copied:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shot(page, "token-detail")
    token = ApiToken.objects.get(customer=bloom)
    assert token.grants == ["ecommerce/inventory.list", "web-order.create"]
    base, account = live_server.url, company.account_id
    status, body = call_api(
        base, "ecommerce/inventory.list", secret, {"customerId": bloom.pk}, account
    )
    assert status == 200, body
    status, body = call_api(base, "ecommerce/customer-carriers.list", secret, {}, account)
    assert status == 403 and body["status"] == 0
    page.click("text=Back to Tokens")
    assert "Bloom Florist web shop" in page.inner_text("#token-list")
    shot(page, "tokens")


def test_setup_user_exports_customers_and_the_id_column_matches_the_api(
    page, person, company, make_token, live_server, shot
):
    ups = Carrier.objects.create(company=company, name="UPS", code="UPS")
    for name in ("Bloom Florist", "Fresh Market", "Petal Pushers", "Garden Gate"):
        customer = Customer.objects.create(company=company, name=name, customer_type=3)
        ShipTo.objects.create(company=company, customer=customer, name="Store", carrier=ups)
    issued = make_token(company)
    sign_in(page, person(Role.SETUP))
    page.goto("/setup/customers/")
    shot(page, "customers")
    with page.expect_download() as download:
        page.click("#export-customers")
    sheet = load_workbook(BytesIO(Path(download.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    ids = [row[rows[0].index("Id")] for row in rows[1:]]
    status, body = call_api(live_server.url, "customer.list", issued.secret)
    assert status == 200
    assert ids == [c["id"] for c in body["customers"]] and len(ids) == 4
    page.goto("/setup/carriers/")
    shot(page, "carriers")
    # A tablet in portrait: the same page, one column.
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto("/setup/customers/")
    shot(page, "customers-tablet")


def test_my_profile_shows_the_company_id_that_x_account_accepts(
    page, person, company, make_token, live_server, shot
):
    customer = Customer.objects.create(company=company, name="Bloom Florist")
    issued = make_token(company)
    sign_in(page, person(Role.SALES))
    page.click(".avatar-menu > button")
    page.click("text=My Profile")
    shown = page.inner_text("#company-id").strip()
    assert shown == str(company.account_id)
    status, body = call_api(
        live_server.url, "company.location.list", issued.secret, {"customerId": customer.pk}, shown
    )
    assert status == 200, body
    shot(page, "profile")


def test_vendor_resets_its_token_in_the_portal_and_the_old_one_gets_401(
    page, company, person, live_server, shot
):
    farm = Vendor.objects.create(company=company, name="Rosas del Monte", port_origin="UIO")
    grower = person(Role.VENDOR, vendor=farm, email="ana@rosas.example")
    sign_in(page, grower)
    page.click(".avatar-menu > button")
    page.click("#menu-vendor-token")
    page.click("#create-vendor-token")
    old = page.inner_text("#vendor-token").strip()
    page.click("#vendor-token")
    page.wait_for_selector("#copied:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == old
    base, account = live_server.url, company.account_id
    assert call_api(base, "product.list", old, account=account)[0] == 200
    page.click("#reset-vendor-token")
    page.wait_for_selector(".messages")
    new = page.inner_text("#vendor-token").strip()
    assert new != old
    assert call_api(base, "product.list", old, account=account)[0] == 401
    assert call_api(base, "product.list", new, account=account)[0] == 200
    shot(page, "vendor-portal-token")


def test_sales_user_cannot_open_tokens_by_menu_or_by_url(page, person):
    sign_in(page, person(Role.SALES))
    assert page.locator("header nav.main >> text=Setup").count() == 0
    response = page.goto("/setup/settings/tokens/")
    assert response.status == 403
    assert "Not allowed" in page.inner_text("h1")


def test_sales_rep_confirms_an_order_that_came_through_the_api(
    page, person, stocked, make_token, live_server, shot
):
    issued = make_token(stocked.company, "customer", customer_id=stocked.market.pk)
    line = stocked.add(12)
    stocked.add(6, future_days=4)
    base, secret, account = live_server.url, issued.secret, stocked.company.account_id
    status, body = call_api(
        base,
        "web-order-item.add",
        secret,
        {"inventoryIds": [line.pk], "inventoryOrigin": 1, "quantity": 2},
        account,
    )
    assert status == 200, body
    order = {"webOrderId": body["webOrderId"]}
    status, body = call_api(base, "web-order.checkout", secret, order, account)
    assert status == 200, body
    invoice = Invoice.objects.get(web_order_id=body["webOrderId"])
    sign_in(page, person(Role.SALES))
    page.click("header >> text=Sales")
    shot(page, "sales-inventory")
    page.click("header >> text=Orders")
    row = page.locator(f"#invoice-{invoice.pk}")
    assert str(invoice.transaction_fee) in row.inner_text()
    shot(page, "orders")
    row.locator("button:has-text('Confirm')").click()
    page.wait_for_selector(".messages")
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CONFIRMED
    assert page.locator(f"#invoice-{invoice.pk}").count() == 0
