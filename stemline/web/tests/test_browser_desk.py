"""The sales desk in a real browser (Debian's Chromium via Playwright), under the strict CSP:
a phone order taken with the keyboard becomes an invoice and a prebook; an API order is
rejected with a reason the API then shows; switching the company's time zone changes the
times shown. Screenshots into docs/screenshots/ with STEMLINE_SCREENSHOTS=1."""

import io
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from PIL import Image
from playwright.sync_api import expect

from stemline.core.models import Role
from stemline.parties.models import Carrier, ShipTo
from stemline.sales.models import DocumentStatus, Invoice, Prebook

from .test_browser import CHROMIUM, browser, call_api, shot, sign_in  # noqa: F401 (fixtures)
from .test_browser_csp import WATCH

pytestmark = [
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing"),
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    assert page.evaluate("window.__violations") == []
    context.close()


def _no_violation(page):
    assert page.evaluate("window.__violations") == []


def test_a_phone_order_taken_with_the_keyboard_becomes_an_invoice_and_a_prebook(
    page,
    person,
    stocked,
    shot,  # noqa: F811
):
    s = stocked
    ups = Carrier.objects.create(company=s.company, name="UPS Ground", code="UPS")
    ShipTo.objects.create(
        company=s.company, customer=s.florist, name="Bloom Downtown", city="Miami", carrier=ups
    )
    on_hand = s.add(12)
    future = s.add(20, future_days=6, price_a="0.620")
    s.add(5, future_days=9)
    sign_in(page, person(Role.SALES))
    page.click("header nav >> text=New order")
    page.wait_for_url("**/sales/orders/new/")
    # Type the customer, Tab to the match, Enter.
    with page.expect_response(lambda r: "/sales/orders/new/customers/" in r.url):
        page.keyboard.type("bloo")
    expect(page.locator("#customer-results button.pick")).to_have_count(1)
    shot(page, "order-new")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/sales/orders/new/*/")
    # The ship-to and its carrier come from the customer.
    expect(page.locator("#id_carrier")).to_have_value(str(ups.pk))
    # The search field has the focus: type, and htmx narrows the stock.
    with page.expect_response(lambda r: "q=freedom" in r.url):
        page.keyboard.type("freedom")
    page.fill(f"input[name=boxes_{on_hand.pk}]", "3")
    page.press(f"input[name=boxes_{on_hand.pk}]", "Enter")  # app.js: Enter adds this row
    page.wait_for_selector("#order-lines >> text=Rose Freedom Red 50cm")
    page.fill(f"input[name=boxes_{future.pk}]", "2")
    page.press(f"input[name=boxes_{future.pk}]", "Enter")
    expect(page.locator("#order-lines tbody tr")).to_have_count(2)
    # 3 x 250 x 0.500 + 2 x 250 x 0.620 = 375.00 + 310.00
    expect(page.locator("#order-total")).to_have_text("685.00")
    shot(page, "order-build")
    # A tablet in portrait: the same page, its tables scroll sideways inside their card.
    page.set_viewport_size({"width": 820, "height": 1180})
    page.reload()
    expect(page.locator("#order-total")).to_have_text("685.00")
    shot(page, "order-build-tablet")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.focus("#save-confirmed")
    page.keyboard.press("Enter")
    page.wait_for_url("**/sales/invoices/*/")
    _no_violation(page)
    invoice = Invoice.objects.get(customer=s.florist)
    prebook = Prebook.objects.get(customer=s.florist)
    assert invoice.status == prebook.status == DocumentStatus.CONFIRMED
    assert invoice.transaction_fee == prebook.transaction_fee == 0
    expect(page.locator("#document-status")).to_have_text("Confirmed")
    expect(page.locator("#came-through")).to_have_text("Staff order")
    shot(page, "invoice-detail")
    # Both are in their lists.
    page.click("header nav >> text=Invoices & Prebooks")
    expect(page.locator(f"#invoice-{invoice.pk}")).to_contain_text("Bloom Florist")
    shot(page, "invoices")
    page.click(".tabs >> text=Prebooks")
    page.click(f"#prebook-{prebook.pk} a")
    expect(page.locator("#document-lines")).to_contain_text("Rose Freedom Red 50cm")
    expect(page.locator("#document-fee")).to_have_text("0.00")
    shot(page, "prebook-detail")
    page.goto("/sales/prebooks/")
    shot(page, "prebooks")


def _pdf_screenshot(data: bytes, shot):  # noqa: F811
    """The PDF's first page as a PNG next to the page screenshots (pdftoppm, when present)."""
    folder = shot.folder
    if shutil.which("pdftoppm") is None:
        return
    source = folder / "invoice.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(source), str(folder / "invoice-pdf")],
        check=True,
    )
    source.unlink()


def test_an_api_order_rejected_with_a_reason_shows_it_through_the_api(
    page,
    person,
    stocked,
    make_token,
    live_server,
    shot,  # noqa: F811
):
    s = stocked
    line = s.add(10)
    issued = make_token(s.company)
    status, body = call_api(
        live_server.url,
        "invoice.create",
        issued.secret,
        {
            "customerId": s.florist.pk,
            "shipDate": str(datetime.now(UTC).date()),
            "invoiceItems": [{"orderItemId": line.pk, "boxes": 4, "price": "0.500"}],
        },
    )
    assert status == 200, body
    invoice_id = body["invoiceId"]
    sign_in(page, person(Role.SALES))
    page.goto("/sales/invoices/?channel=api&status=0")
    page.click(f"#invoice-{invoice_id} a")
    expect(page.locator("#document-fee")).not_to_have_text("0.00")
    page.fill("#reason-form input[name=reason]", "Customer over its credit limit")
    shot(page, "invoice-reject")
    page.click("#reject-document")  # the confirmation dialog is accepted
    expect(page.locator("#document-status")).to_have_text("Voided")
    expect(page.locator("#void-reason")).to_contain_text("Customer over its credit limit")
    status, body = call_api(live_server.url, "invoice.list", issued.secret, {"orderId": invoice_id})
    assert status == 200, body
    (row,) = body["invoices"]
    assert (row["status"], row["voidReason"]) == (4, "Customer over its credit limit")


def _png() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (240, 100), (47, 93, 58))
    for x in range(60, 180):
        for y in range(30, 70):
            image.putpixel((x, y), (231, 240, 232))
    image.save(out, "PNG")
    return out.getvalue()


def test_switching_the_company_time_zone_changes_the_times_shown(
    page,
    person,
    stocked,
    settings,
    tmp_path,
    shot,  # noqa: F811
):
    settings.MEDIA_ROOT = tmp_path
    florist = stocked.florist
    florist.bill_address, florist.bill_city, florist.bill_state, florist.bill_zipcode = (
        "455 Lincoln Rd",
        "Miami Beach",
        "FL",
        "33139",
    )
    florist.save()
    ShipTo.objects.create(
        company=stocked.company,
        customer=florist,
        name="Bloom Florist - South Beach",
        address="1200 Collins Ave",
        city="Miami Beach",
        state="FL",
        zipcode="33139",
        carrier=Carrier.objects.create(company=stocked.company, name="Armellini", code="ARM"),
    )
    line = stocked.add(4)
    from decimal import Decimal

    from stemline.sales import invoicing

    invoice, _ = invoicing.create_invoice(
        company=stocked.company,
        customer=stocked.florist,
        location=stocked.location,
        ship_date=datetime.now(UTC).date(),
        carrier=Carrier.objects.get(code="ARM"),
        customer_po="PO-4471",
        lines=[
            invoicing.LineRequest(inventory_id=line.pk, boxes=2, price=Decimal("0.5")),
            invoicing.LineRequest(inventory_id=line.pk, boxes=1, price=Decimal("0.55")),
        ],
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        created_at=datetime(2026, 12, 1, 15, 42, tzinfo=UTC)
    )
    sign_in(page, person(Role.ADMIN))
    page.goto("/sales/invoices/")
    expect(page.locator(f"#invoice-{invoice.pk}")).to_contain_text("2026-12-01 15:42 UTC")
    page.goto("/setup/company/")
    page.fill("#id_address", "8250 NW 25th St")
    page.fill("#id_city", "Doral")
    page.fill("#id_state", "FL")
    page.fill("#id_zipcode", "33122")
    page.fill("#id_phone", "+1 305 555 0142")
    page.fill("#id_email", "sales@sunrisefloral.example")
    page.select_option("#id_time_zone", "America/New_York")
    page.fill("#id_fee_percent", "2.00")
    page.set_input_files(
        "#id_logo", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.click("#company-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Company settings saved")
    expect(page.locator("#logo-preview")).to_be_visible()
    expect(page.locator("#company-now")).to_contain_text("E")  # EST / EDT
    shot(page, "company-settings")
    page.goto("/sales/invoices/")
    expect(page.locator(f"#invoice-{invoice.pk}")).to_contain_text("2026-12-01 10:42 EST")
    page.goto(f"/sales/invoices/{invoice.pk}/")
    expect(page.locator("dl.facts")).to_contain_text("10:42 EST")
    # The PDF downloads, on the new letterhead with the logo.
    with page.expect_download() as download:
        page.click("#pdf-link")
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"%PDF") and b"/Image" in data
    _pdf_screenshot(data, shot)
