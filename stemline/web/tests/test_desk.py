"""The sales desk through the web application: a phone order taken by a sales rep, the
invoice and prebook lists and pages with their actions, and Setup > Company. Who may open what,
another company's documents, CSRF, and query counts that do not grow with the rows."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from stemline.core.models import Company, Role
from stemline.inventory.models import InventoryLine
from stemline.parties.models import Carrier, ShipTo
from stemline.sales import invoicing, prebooking
from stemline.sales import services as sales_services
from stemline.sales.models import DocumentStatus, Invoice, Prebook, WebOrder

from .conftest import queries_of

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _start(client, customer) -> int:
    r = client.post("/sales/orders/new/", {"customer": customer.pk})
    assert r.status_code == 302, r.content[:300]
    return int(r["Location"].rstrip("/").split("/")[-1])


def _add(client, order_id, line, boxes, price=None, **header):
    data = {"add": line.pk, f"boxes_{line.pk}": boxes, **header}
    if price is not None:
        data[f"price_{line.pk}"] = price
    r = client.post(f"/sales/orders/new/{order_id}/add/", data)
    assert r.status_code == 302
    return r


def _api_invoice(s, boxes=2):
    line = s.add(10)
    invoice, _ = invoicing.create_invoice(
        company=s.company,
        customer=s.florist,
        location=s.location,
        ship_date=timezone.localdate(),
        lines=[invoicing.LineRequest(inventory_id=line.pk, boxes=boxes, price=Decimal("0.500"))],
    )
    return invoice


# ---------------------------------------------------------------- order entry


def test_a_phone_order_becomes_an_invoice_and_a_prebook_without_fee(stocked, as_role, person):
    s = stocked
    ups = Carrier.objects.create(company=s.company, name="UPS", code="UPS")
    store = ShipTo.objects.create(company=s.company, customer=s.florist, name="Store", carrier=ups)
    on_hand, future = s.add(10), s.add(8, future_days=5)
    client = as_role(Role.SALES)
    page = client.get("/sales/orders/new/customers/", {"q": "bloo"})
    assert b"Bloom Florist" in page.content and b"DWF" not in page.content
    order_id = _start(client, s.florist)
    page = client.get(f"/sales/orders/new/{order_id}/", {"q": "freedom red"})
    assert page.status_code == 200
    assert f'id="stock-{on_hand.pk}"'.encode() in page.content
    assert f'id="stock-{future.pk}"'.encode() in page.content
    # The ship-to and its carrier are the customer's defaults.
    assert f'<option value="{store.pk}" selected>'.encode() in page.content
    assert f'<option value="{ups.pk}" selected>'.encode() in page.content
    _add(client, order_id, on_hand, 3, ship_to=store.pk, carrier=ups.pk)
    _add(client, order_id, future, 2, price="0.650", ship_to=store.pk, carrier=ups.pk)
    # Held while the order is built, as a web order's boxes are.
    on_hand.refresh_from_db()
    future.refresh_from_db()
    assert (on_hand.held, future.held) == (3, 2)
    page = client.get(f"/sales/orders/new/{order_id}/")
    # 3 x 250 x 0.500 + 2 x 250 x 0.650 = 375.00 + 325.00
    assert b'id="order-total">700.00<' in page.content
    r = client.post(
        f"/sales/orders/new/{order_id}/confirm/",
        {"ship_to": store.pk, "carrier": ups.pk, "customer_po": "PHONE-1"},
    )
    assert r.status_code == 302
    invoice = Invoice.objects.get(web_order_id=order_id)
    prebook = Prebook.objects.get(web_order_id=order_id)
    assert r["Location"] == f"/sales/invoices/{invoice.pk}/"
    for document in (invoice, prebook):
        assert document.status == DocumentStatus.CONFIRMED
        assert document.via_api is False and document.transaction_fee == 0
        assert document.confirmed_by == person(Role.SALES)
        assert (document.carrier, document.ship_to, document.customer_po) == (ups, store, "PHONE-1")
    assert invoice.amount == Decimal("375.00") and prebook.amount == Decimal("325.00")
    # The invoice ships on the chosen day; the prebook not before its boxes arrive.
    assert invoice.ship_date == timezone.localdate()
    assert prebook.ship_date == future.arrival_date
    on_hand.refresh_from_db()
    future.refresh_from_db()
    assert (on_hand.held, on_hand.committed, future.held, future.committed) == (0, 3, 0, 2)


def test_an_order_saved_as_pending_waits_for_confirmation(stocked, as_role):
    line = stocked.add(5)
    client = as_role(Role.ADMIN)
    order_id = _start(client, stocked.florist)
    _add(client, order_id, line, 1)
    client.post(f"/sales/orders/new/{order_id}/pending/")
    invoice = Invoice.objects.get(web_order_id=order_id)
    assert invoice.status == DocumentStatus.PENDING_APPROVAL and invoice.transaction_fee == 0
    assert b"invoice-%d" % invoice.pk in client.get("/sales/orders/").content


def test_an_abandoned_order_gives_its_boxes_back(stocked, as_role):
    line = stocked.add(5)
    client = as_role(Role.SALES)
    order_id = _start(client, stocked.florist)
    _add(client, order_id, line, 4)
    assert InventoryLine.objects.get(pk=line.pk).held == 4
    client.post(f"/sales/orders/new/{order_id}/cancel/")
    assert InventoryLine.objects.get(pk=line.pk).held == 0
    # One left open is released by the hold expiry, as every web order.
    order_id = _start(client, stocked.florist)
    _add(client, order_id, line, 2)
    assert sales_services.expire_holds(now=timezone.now() + timedelta(days=1)) == 1
    assert InventoryLine.objects.get(pk=line.pk).held == 0
    assert WebOrder.objects.get(pk=order_id).status == WebOrder.Status.EXPIRED


def test_more_boxes_than_are_left_is_refused_on_the_page(stocked, as_role):
    line = stocked.add(2)
    client = as_role(Role.SALES)
    order_id = _start(client, stocked.florist)
    r = _add(client, order_id, line, 5)
    page = client.get(r["Location"])
    assert b"No lines yet" in page.content
    assert b"available" in page.content.lower()
    assert InventoryLine.objects.get(pk=line.pk).held == 0
    r = _add(client, order_id, line, 1, price="-1")
    assert b"Unit price: a number" in client.get(r["Location"]).content
    assert InventoryLine.objects.get(pk=line.pk).held == 0


# ---------------------------------------------------------------- lists and pages


def test_lists_filter_sort_and_total_what_is_filtered(stocked, as_role):
    s = stocked
    first = _api_invoice(s, 2)
    second = _api_invoice(s, 3)
    invoicing.void(company=s.company, invoice_id=first.pk, reason="duplicate")
    client = as_role(Role.SALES)
    page = client.get("/sales/invoices/").content.decode()
    assert page.index(f"invoice-{second.pk}") < page.index(f"invoice-{first.pk}")
    page = client.get("/sales/invoices/", {"sort": "number"}).content.decode()
    assert page.index(f"invoice-{first.pk}") < page.index(f"invoice-{second.pk}")
    page = client.get("/sales/invoices/", {"status": "4"}).content.decode()
    assert f"invoice-{first.pk}" in page and f"invoice-{second.pk}" not in page
    assert "duplicate" in page
    page = client.get("/sales/invoices/", {"status": "0", "channel": "api"}).content.decode()
    assert f"invoice-{second.pk}" in page and f"invoice-{first.pk}" not in page
    # 3 boxes x 250 x 0.5 = 375.00
    assert '<div class="value">375.00</div>' in page
    page = client.get("/sales/invoices/", {"channel": "staff"}).content.decode()
    assert "No invoices match" in page
    page = client.get("/sales/invoices/", {"number": f"W{second.number:06d}"}).content.decode()
    assert f"invoice-{second.pk}" in page and f"invoice-{first.pk}" not in page
    page = client.get("/sales/invoices/", {"customer": "DWF"}).content.decode()
    assert "No invoices match" in page


def test_reject_an_api_order_with_a_reason_the_api_then_shows(stocked, as_role, api, company_token):
    invoice = _api_invoice(stocked)
    client = as_role(Role.SALES)
    page = client.get(f"/sales/invoices/{invoice.pk}/")
    assert b'id="reject-document"' in page.content
    r = client.post(f"/sales/invoices/{invoice.pk}/reject/", {"reason": ""})
    assert r.status_code == 200 and b"Say why" in r.content
    r = client.post(f"/sales/invoices/{invoice.pk}/reject/", {"reason": "Out of credit"})
    assert r.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.VOIDED and invoice.void_reason == "Out of credit"
    body = api("invoice.list", company_token, {"orderId": invoice.pk}, verb="GET").json_body
    assert body["invoices"][0]["voidReason"] == "Out of credit"
    assert body["invoices"][0]["status"] == 4
    page = client.get(f"/sales/invoices/{invoice.pk}/").content.decode()
    assert "Out of credit" in page and "Voided" in page


def test_reject_an_api_prebook_gives_boxes_back_and_prebook_list_says_why(
    stocked, as_role, api, company_token
):
    line = stocked.add(6, future_days=4)
    prebook, _items, _ = prebooking.create_prebook(
        company=stocked.company,
        customer=stocked.florist,
        location=stocked.location,
        ship_date=line.arrival_date,
        items=[],
    )
    prebooking.add_future_item(
        company=stocked.company,
        prebook_id=prebook.pk,
        inventory_id=line.pk,
        boxes=2,
        price=Decimal("0.5"),
    )
    client = as_role(Role.ADMIN)
    r = client.post(f"/sales/prebooks/{prebook.pk}/reject/", {"reason": "No truck that day"})
    assert r.status_code == 302
    assert InventoryLine.objects.get(pk=line.pk).committed == 0
    body = api(
        "prebook.list",
        company_token,
        {"dateFrom": str(line.arrival_date), "dateTo": str(line.arrival_date)},
        verb="GET",
    ).json_body
    (row,) = body["prebooks"]
    assert (row["status"], row["voidReason"]) == (4, "No truck that day")


def test_confirm_edit_pdf_and_email_from_the_invoice_page(
    stocked, as_role, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = _api_invoice(stocked)
    ups = Carrier.objects.create(company=stocked.company, name="UPS", code="UPS")
    client = as_role(Role.SALES)
    r = client.post(
        f"/sales/invoices/{invoice.pk}/edit/",
        {"ship_date": "2026-12-24", "carrier": ups.pk, "customer_po": "XMAS", "notes": "Gate 4"},
    )
    assert r.status_code == 302
    invoice.refresh_from_db()
    assert (
        str(invoice.ship_date),
        invoice.carrier,
        invoice.customer_po,
        invoice.invoice_notes,
    ) == (
        "2026-12-24",
        ups,
        "XMAS",
        "Gate 4",
    )
    client.post(f"/sales/invoices/{invoice.pk}/confirm/")
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.CONFIRMED
    page = client.get(f"/sales/invoices/{invoice.pk}/").content.decode()
    history = page[page.index('id="document-history"') :]
    assert (
        history.index("Created through the API")
        < history.index("Changed")
        < history.index("Confirmed")
    )
    r = client.get(f"/sales/invoices/{invoice.pk}/pdf/")
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "Invoice #" in r["Content-Disposition"]
    # Queued when the request commits, sent by the background task.
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        r = client.post(f"/sales/invoices/{invoice.pk}/email/", {"to": "ap@bloom.example"})
    assert r.status_code == 302
    assert [m.to for m in mailoutbox] == [["ap@bloom.example"]]
    assert mailoutbox[0].attachments[0][2] == "application/pdf"
    assert client.post(f"/sales/invoices/{invoice.pk}/email/", {"to": "nope"}).status_code == 200


def test_roles_other_companies_and_csrf(stocked, as_role, other_company, person):
    invoice = _api_invoice(stocked)
    pages = [
        "/sales/orders/new/",
        "/sales/invoices/",
        "/sales/prebooks/",
        f"/sales/invoices/{invoice.pk}/",
        f"/sales/invoices/{invoice.pk}/pdf/",
    ]
    for role in (Role.SALES, Role.ADMIN):
        client = as_role(role)
        for path in pages:
            assert client.get(path).status_code == 200, (role, path)
    purchasing = as_role(Role.PURCHASING)
    for path in [*pages, "/setup/company/"]:
        assert purchasing.get(path).status_code == 403, path
    assert purchasing.post(f"/sales/invoices/{invoice.pk}/confirm/").status_code == 403
    for role in (Role.SALES, Role.SETUP):
        assert as_role(role).get("/setup/company/").status_code == 403
    assert as_role(Role.ADMIN).get("/setup/company/").status_code == 200
    # Another company's admin finds nothing, and changes nothing.
    outsider = as_role(Role.ADMIN, company_=other_company)
    for path in pages[3:]:
        assert outsider.get(path).status_code == 404, path
    r = outsider.post(f"/sales/invoices/{invoice.pk}/void/", {"reason": "x"})
    assert r.status_code == 404
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PENDING_APPROVAL
    # Without the CSRF token a signed-in rep's POST is refused.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person(Role.SALES))
    assert strict.post(f"/sales/invoices/{invoice.pk}/confirm/").status_code == 403
    assert strict.post("/sales/orders/new/", {"customer": stocked.florist.pk}).status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PENDING_APPROVAL


# ---------------------------------------------------------------- company settings


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 120, 60)).save(out, "PNG")
    return out.getvalue()


def _settings(**extra):
    data = {
        "name": "Sunrise Floral Imports",
        "address": "2100 NW 70th Ave",
        "city": "Miami",
        "state": "FL",
        "zipcode": "33122",
        "country": "USA",
        "time_zone": "America/New_York",
        "currency": "usd",
        "fee_percent": "2.5",
        "auto_confirm": "on",
        "default_terms": "Net 15",
    }
    data.update(extra)
    return data


def test_company_settings_store_the_address_fee_as_a_fraction_and_a_checked_logo(
    company, as_role, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = as_role(Role.ADMIN)
    page = client.get("/setup/company/").content.decode()
    assert 'value="1.50"' in page  # the default 0.0150, shown as a percentage
    logo = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    r = client.post("/setup/company/", _settings(logo=logo))
    assert r.status_code == 302, r.content.decode()[:2000]
    company = Company.objects.get(pk=company.pk)
    assert company.transaction_fee_rate == Decimal("0.0250")
    assert company.default_terms == "Net 15"
    assert (company.city, company.currency, company.time_zone, company.auto_confirm) == (
        "Miami",
        "USD",
        "America/New_York",
        True,
    )
    assert company.logo.name.endswith(".png") and "logo.png" not in company.logo.name
    assert client.get("/setup/company/logo/").status_code == 200
    # A text file named .png is refused by its content; the stored logo stays.
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    r = client.post("/setup/company/", _settings(logo=fake))
    assert r.status_code == 200 and b"PDF, PNG or JPEG" in r.content
    assert Company.objects.get(pk=company.pk).logo.name == company.logo.name
    r = client.post("/setup/company/", _settings(fee_percent="150", time_zone="Mars/Base"))
    assert r.status_code == 200
    assert b"Ensure this value is less than or equal to 100" in r.content
    assert b"Select a valid choice" in r.content


def test_pages_show_times_in_the_company_zone_and_say_which(stocked, as_role):
    invoice = _api_invoice(stocked)
    Invoice.objects.filter(pk=invoice.pk).update(
        created_at=datetime(2026, 12, 1, 15, 42, tzinfo=UTC)
    )
    client = as_role(Role.ADMIN)
    assert "2026-12-01 15:42 UTC" in client.get("/sales/invoices/").content.decode()
    r = client.post("/setup/company/", _settings(time_zone="America/New_York"))
    assert r.status_code == 302
    assert "2026-12-01 10:42 EST" in client.get("/sales/invoices/").content.decode()
    assert "10:42 EST" in client.get(f"/sales/invoices/{invoice.pk}/").content.decode()


# ---------------------------------------------------------------- query counts


def _documents(s, n):
    line = s.add(n * 2)
    for _ in range(n):
        invoicing.create_invoice(
            company=s.company,
            customer=s.florist,
            location=s.location,
            ship_date=timezone.localdate(),
            lines=[invoicing.LineRequest(inventory_id=line.pk, boxes=1, price=Decimal("0.5"))],
        )


@pytest.mark.parametrize("path", ["/sales/invoices/", "/sales/prebooks/"])
def test_list_queries_do_not_grow_with_the_rows(stocked, as_role, path):
    client = as_role(Role.SALES)
    client.get(path)
    _documents(stocked, 5)
    if "prebooks" in path:
        for _ in range(5):
            prebooking.create_prebook(
                company=stocked.company,
                customer=stocked.florist,
                location=stocked.location,
                ship_date=timezone.localdate(),
                items=[],
            )
    few = queries_of(lambda: client.get(path))
    _documents(stocked, 45)
    if "prebooks" in path:
        for _ in range(45):
            prebooking.create_prebook(
                company=stocked.company,
                customer=stocked.florist,
                location=stocked.location,
                ship_date=timezone.localdate(),
                items=[],
            )
    many = queries_of(lambda: client.get(path, {"page": 1}))
    assert many == few, (few, many)


def test_detail_and_order_entry_queries_do_not_grow_with_the_lines(stocked, as_role):
    client = as_role(Role.SALES)

    def invoice_with(n):
        line = stocked.add(n)
        invoice, _ = invoicing.create_invoice(
            company=stocked.company,
            customer=stocked.florist,
            location=stocked.location,
            ship_date=timezone.localdate(),
            lines=[
                invoicing.LineRequest(inventory_id=line.pk, boxes=1, price=Decimal("0.5"))
                for _ in range(n)
            ],
        )
        return invoice

    small, large = invoice_with(5), invoice_with(50)
    client.get(f"/sales/invoices/{small.pk}/")
    few = queries_of(lambda: client.get(f"/sales/invoices/{small.pk}/"))
    many = queries_of(lambda: client.get(f"/sales/invoices/{large.pk}/"))
    assert many == few, (few, many)
    order_id = _start(client, stocked.florist)
    for _ in range(3):
        stocked.add(2)
    few = queries_of(lambda: client.get(f"/sales/orders/new/{order_id}/"))
    for _ in range(25):
        stocked.add(2)
    many = queries_of(lambda: client.get(f"/sales/orders/new/{order_id}/"))
    assert many == few, (few, many)


def test_invoice_lines_are_changed_and_removed_through_the_invoice_services(stocked, as_role):
    invoice = _api_invoice(stocked, boxes=2)
    item = invoice.items.get()
    client = as_role(Role.SALES)
    r = client.post(
        f"/sales/invoices/{invoice.pk}/line/",
        {"item": item.pk, f"boxes_{item.pk}": "5", f"price_{item.pk}": "0.600"},
    )
    assert r.status_code == 302
    invoice.refresh_from_db()
    item.refresh_from_db()
    # 5 x 250 x 0.600; the fee follows the new amount.
    assert (item.boxes, invoice.amount, invoice.transaction_fee) == (
        5,
        Decimal("750.00"),
        Decimal("11.25"),
    )
    assert InventoryLine.objects.get(pk=item.line_id).committed == 5
    r = client.post(
        f"/sales/invoices/{invoice.pk}/line/", {"item": item.pk, f"boxes_{item.pk}": "x"}
    )
    assert r.status_code == 200
    client.post(f"/sales/invoices/{invoice.pk}/remove_line/", {"item": item.pk})
    assert InventoryLine.objects.get(pk=item.line_id).committed == 0
    assert not invoice.items.exists()
    # A voided invoice is no longer changed.
    invoicing.void(company=stocked.company, invoice_id=invoice.pk, reason="test")
    page = client.get(f"/sales/invoices/{invoice.pk}/").content.decode()
    assert 'id="edit-form"' not in page
