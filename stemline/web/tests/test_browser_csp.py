"""The Content-Security-Policy in a real browser (Debian's Chromium via Playwright): the main
pages of the web application, the integrations, the vendor portal and the API docs load with no
violation, and what needs script (copy buttons, htmx search, confirmation dialogs, the avatar
menu, Swagger UI) still works under it. Pages showing a secret are never stored."""

import pytest
from playwright.sync_api import expect

from stemline.channels import services as channels
from stemline.core.models import Role
from stemline.parties.models import Carrier, Customer, Vendor
from stemline.tokens.models import ApiToken

from .test_browser import CHROMIUM, browser, sign_in  # noqa: F401  (browser is a fixture)

pytestmark = [
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

# Recorded before any page script runs (an init script is not subject to the page's policy).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH)
    page = context.new_page()
    page.console_refusals = []
    page.dialogs = []

    def on_console(message):
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            page.console_refusals.append(message.text)

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.accept()

    page.on("console", on_console)
    page.on("dialog", on_dialog)
    yield page
    context.close()


def visit(page, path):
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__violations")
    assert violations == [] and page.console_refusals == [], (path, violations)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    return response


def test_the_main_pages_load_with_no_policy_violation(page, person, stocked, make_token):
    company = stocked.company
    channel = channels.connect(company=company, marketplace="ftd").channel
    token = make_token(company).token
    carrier = Carrier.objects.create(company=company, name="FedEx", code="FDX")
    sign_in(page, person(Role.ADMIN))
    for path in (
        "/",
        "/sales/inventory/",
        "/sales/orders/",
        "/purchasing/orders/",
        "/purchasing/awbs/",
        "/setup/customers/",
        "/setup/customers/new/",
        f"/setup/customers/{stocked.florist.pk}/",
        "/setup/carriers/",
        f"/setup/carriers/{carrier.pk}/",
        "/setup/vendors/",
        f"/setup/vendors/{stocked.vendor.pk}/",
        "/setup/products/",
        "/setup/products/new/",
        f"/setup/products/{stocked.product.pk}/",
        "/setup/box-types/",
        f"/setup/box-types/{stocked.box.pk}/",
        "/setup/box-types/new/",
        f"/setup/vendors/{stocked.vendor.pk}/edit/",
        "/setup/users/",
        "/setup/users/new/",
        "/setup/settings/tokens/",
        "/setup/settings/tokens/new/",
        "/setup/integrations/",
        "/setup/integrations/connect/",
        "/profile/",
        "/password/change/",
    ):
        visit(page, path)
    # Pages that show a secret: never kept by the browser or a proxy.
    for path in (f"/setup/settings/tokens/{token.pk}/", f"/setup/integrations/{channel.pk}/"):
        response = visit(page, path)
        assert "no-store" in response.headers["cache-control"], path
    # The avatar menu opens (app.js, not an inline handler).
    page.click(".avatar-menu > button")
    assert page.is_visible(".avatar-menu .menu")


def test_swagger_ui_renders_under_the_policy(page):
    visit(page, "/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Stemline API" in page.inner_text(".swagger-ui .info .title")
    assert page.evaluate("window.__violations") == []


def test_copy_htmx_and_confirmations_still_work(page, person, company, make_token):
    for name in ("Bloom Florist", "Fresh Market", "Petal Pushers"):
        Customer.objects.create(company=company, name=name)
    issued = make_token(company)
    sign_in(page, person(Role.ADMIN))

    # htmx: typing in the customer search asks the server for the matching customers.
    visit(page, "/setup/settings/tokens/new/")
    page.select_option("#id_token_type", "customer")
    with page.expect_response(lambda r: "/setup/settings/tokens/parties/" in r.url) as asked:
        page.fill("#id_customer_q", "petal")
    assert asked.value.ok
    expect(page.locator("#id_customer option", has_text="Bloom Florist")).to_have_count(0)
    assert "Petal Pushers" in page.inner_text("#id_customer")

    # Copy: the secret reaches the clipboard.
    visit(page, f"/setup/settings/tokens/{issued.token.pk}/")
    page.click("#copy-token")
    page.wait_for_selector("#copied:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == issued.secret

    # Confirmation dialog, then the revoke happens.
    page.click("#revoke-token")
    page.wait_for_selector(".messages")
    assert page.dialogs and page.dialogs[-1].startswith("Revoke this token?")
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is not None
    assert page.evaluate("window.__violations") == [] and page.console_refusals == []


def test_the_vendor_portal_loads_with_no_violation_and_its_token_page_is_not_stored(
    page, company, person
):
    farm = Vendor.objects.create(company=company, name="Rosas del Monte", port_origin="UIO")
    sign_in(page, person(Role.VENDOR, vendor=farm, email="ana@rosas.example"))
    from django.utils import timezone

    from stemline.core.models import Location
    from stemline.purchasing.models import PurchaseOrder

    po = PurchaseOrder.objects.create(
        company=company,
        number="1001",
        location=Location.objects.get(company=company, is_default=True),
        vendor=farm,
        ship_date=timezone.localdate(),
        arrival_date=timezone.localdate(),
    )
    visit(page, "/portal/")
    visit(page, f"/portal/orders/{po.pk}/")
    visit(page, "/portal/profile/")
    response = visit(page, "/portal/token/")
    assert "no-store" in response.headers["cache-control"]
    page.click("#create-vendor-token")
    page.wait_for_selector("#vendor-token")
    assert page.evaluate("window.__violations") == [] and page.console_refusals == []


def test_the_login_page_has_no_violation(page):
    visit(page, "/login/")


def test_the_marketplace_simulator_styles_its_pages_under_its_own_policy(page):
    from stemline.demo.simulator import Simulator

    simulator = Simulator({"ftd": {"marketplaceName": "FTD"}}, api_url="http://127.0.0.1:9", port=0)
    simulator.start()
    try:
        for path in ("/", "/ftd/"):
            response = page.goto(simulator.url + path)
            assert response.status == 200
            policy = response.headers["content-security-policy"]
            assert "default-src 'none'" in policy and "unsafe-inline" not in policy
            assert page.evaluate("window.__violations") == [] and page.console_refusals == []
        # Its one <style> applied: allowed by its hash.
        color = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
        assert color == "rgb(39, 69, 47)"
    finally:
        simulator.stop()
