"""Receivables pages: who may open them, another company's records not found, CSRF, and the
flows: a payment over two invoices, a credit raised and approved, the aging report and its
Excel, statements as PDF and by e-mail, the accounting export, the Orders page's hold."""

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from stemline.core.models import Role
from stemline.money.models import Credit, CreditStatus, Payment, Receivable
from stemline.money.tests.conftest import Books
from stemline.parties.models import Customer

from .conftest import queries_of

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def books(stocked):
    b = Books(stocked)
    b.a, b.b = b.invoice(2), b.invoice(1)  # 250.00 and 125.00
    return b


def test_roles_and_menu(as_role, books):
    for role in (Role.ADMIN, Role.ACCOUNTING):
        client = as_role(role)
        page = client.get(reverse("receivables_aging"))
        assert page.status_code == 200
        assert 'href="/receivables/"' in page.content.decode()
    for role in (Role.SALES, Role.SETUP, Role.PURCHASING):
        client = as_role(role)
        assert client.get(reverse("receivables_aging")).status_code == 403
        assert 'href="/receivables/"' not in client.get(reverse("home")).content.decode()
        assert (
            client.get(reverse("receivables_account", args=[books.customer.pk])).status_code == 403
        )


def test_another_companys_records_are_not_found(as_role, books, other_company):
    client = as_role(Role.ADMIN, company_=other_company)
    payment = Payment.objects.create(
        company=books.company,
        location=books.location,
        control_number=1,
        customer=books.customer,
        method=books.check,
        date=books.a.ship_date,
        amount=D("1"),
    )
    for url in (
        reverse("receivables_account", args=[books.customer.pk]),
        reverse("receivables_payment_new", args=[books.customer.pk]),
        reverse("receivables_statement", args=[books.customer.pk]),
        reverse("receivables_credit_new", args=[books.a.pk]),
        reverse("receivables_payment_apply", args=[payment.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("receivables_payment_void", args=[payment.pk])).status_code == 404


def test_writes_need_the_csrf_token(person, books):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person(Role.ACCOUNTING))
    url = reverse("receivables_payment_new", args=[books.customer.pk])
    assert client.post(url, {"total": "10", "method": books.check.pk}).status_code == 403
    assert not Payment.objects.exists()


def test_record_a_payment_over_two_invoices(as_role, books):
    client = as_role(Role.ACCOUNTING)
    url = reverse("receivables_payment_new", args=[books.customer.pk])
    page = client.get(url).content.decode()
    assert f'name="amount-{books.a.pk}"' in page and f'name="amount-{books.b.pk}"' in page
    assert 'data-remainder="#remainder"' in page and "<script>" not in page
    r = client.post(
        url,
        {
            "total": "400.00",
            "date": str(books.a.ship_date),
            "method": books.check.pk,
            "reference": "CHK 881",
            f"amount-{books.a.pk}": "250",
            f"amount-{books.b.pk}": "120",
            f"discount-{books.b.pk}": "5",
        },
    )
    assert r.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.applied, payment.reference_number) == (
        D("400"),
        D("370"),
        "CHK 881",
    )
    assert Receivable.objects.get(invoice=books.b).open_amount == 0
    account = client.get(r.url).content.decode()
    assert 'id="balance">-30.00<' in account
    # Too much on an invoice: refused, nothing recorded, the reason shown.
    books.c = books.invoice(1)
    r = client.post(
        url,
        {"total": "200", "method": books.check.pk, f"amount-{books.c.pk}": "126"},
        follow=True,
    )
    assert "more than its open amount" in r.content.decode()
    assert Payment.objects.count() == 1
    # The overpayment applied later, then the payment voided.
    r = client.post(
        reverse("receivables_payment_apply", args=[payment.pk]), {f"amount-{books.c.pk}": "30"}
    )
    assert r.status_code == 302
    assert Receivable.objects.get(invoice=books.c).open_amount == D("95.00")
    client.post(reverse("receivables_payment_void", args=[payment.pk]), {"reason": "bounced"})
    assert Receivable.objects.get(invoice=books.a).open_amount == D("250.00")


def test_raise_and_approve_a_credit(as_role, books):
    client = as_role(Role.ACCOUNTING)
    item = books.a.items.get()
    url = reverse("receivables_credit_new", args=[books.a.pk])
    assert f'name="qty-{item.pk}"' in client.get(url).content.decode()
    r = client.post(
        url,
        {
            f"qty-{item.pk}": "1",
            f"type-{item.pk}": "box",
            f"reason-{item.pk}": books.damaged.pk,
            "comment": "wet box",
            "submit": "1",
        },
    )
    assert r.status_code == 302
    credit = Credit.objects.get()
    assert (credit.status, credit.amount) == (CreditStatus.PENDING_REVIEW, D("125.00"))
    # Beyond the line: refused.
    client.post(
        url,
        {f"qty-{item.pk}": "2", f"type-{item.pk}": "box", f"reason-{item.pk}": books.damaged.pk},
    )
    assert Credit.objects.count() == 1
    queue = client.get(reverse("receivables_credits")).content.decode()
    assert f'id="credit-{credit.pk}"' in queue
    client.post(
        reverse("receivables_credit_action", args=[credit.pk]),
        {"action": "approve", "comment": "ok"},
    )
    credit.refresh_from_db()
    assert credit.status == CreditStatus.APPROVED
    page = client.get(reverse("receivables_credit", args=[credit.pk])).content.decode()
    assert "wet box" in page and "Approved" in page
    assert Receivable.objects.get(invoice=books.a).open_amount == D("125.00")


def test_aging_report_and_excel_keep_text_as_text(as_role, books):
    Customer.objects.filter(pk=books.customer.pk).update(name='=HYPERLINK("http://x")')
    client = as_role(Role.ADMIN)
    page = client.get(reverse("receivables_aging")).content.decode()
    assert 'id="aging-total"' in page and "375.00" in page
    r = client.get(reverse("receivables_aging") + "?export=xlsx")
    sheet = load_workbook(io.BytesIO(r.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Id", "Customer", "Code", "Current")
    cell = sheet.cell(row=2, column=2)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert rows[-1][1] == "Total" and rows[-1][-1] == 375


def test_aging_query_count_does_not_grow_with_customers(as_role, books, stocked):
    client = as_role(Role.ADMIN)
    url = reverse("receivables_aging")
    client.get(url)
    before = queries_of(lambda: client.get(url))
    for n in range(5):
        c = Customer.objects.create(company=books.company, name=f"Extra {n}")
        books.invoice(1, customer=c)
    client.get(url)
    assert queries_of(lambda: client.get(url)) == before


def test_statement_pdfs(as_role, books):
    client = as_role(Role.ACCOUNTING)
    r = client.get(reverse("receivables_statement", args=[books.customer.pk]))
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    r = client.get(reverse("receivables_statement", args=[books.customer.pk]) + "?mode=activity")
    assert r.content.startswith(b"%PDF")
    r = client.get(reverse("receivables_statements"))
    assert r.content.startswith(b"%PDF")


def test_statements_are_e_mailed_in_the_background(
    as_role, books, mailoutbox, django_capture_on_commit_callbacks
):
    from stemline.money.mailing import send_statement

    Customer.objects.filter(pk=books.customer.pk).update(email_for_statements="ap@bloom.example")
    client = as_role(Role.ACCOUNTING)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = client.post(reverse("receivables_statements_send"), {"customer": books.customer.pk})
    assert r.status_code == 302 and len(callbacks) == 1
    if not mailoutbox:  # a queueing backend: run the task as a worker would
        assert send_statement.call(books.customer.pk, "open", str(books.a.ship_date), "", "")
    mail = mailoutbox[-1]
    assert mail.to == ["ap@bloom.example"] and mail.attachments[0][2] == "application/pdf"


def test_accounting_export_is_balanced(as_role, books):
    client = as_role(Role.ACCOUNTING)
    day = str(books.a.ship_date)
    client.post(
        reverse("receivables_payment_new", args=[books.customer.pk]),
        {
            "total": "100",
            "date": day,
            "method": books.check.pk,
            f"amount-{books.a.pk}": "90",
            f"discount-{books.a.pk}": "10",
        },
    )
    r = client.get(reverse("receivables_export") + f"?start={day}&end={day}&format=csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Journal No",
        "Journal Date",
        "Account Name",
        "Debits",
        "Credits",
        "Description",
        "Name",
    ]
    by_entry = {}
    for row in rows[1:]:
        d, c = by_entry.get(row[0], (D(0), D(0)))
        by_entry[row[0]] = (d + D(row[3] or 0), c + D(row[4] or 0))
    assert all(d == c for d, c in by_entry.values()), by_entry
    assert f"INV-{books.a.number:06d}" in by_entry and any(k.startswith("PMT-") for k in by_entry)
    r = client.get(reverse("receivables_export") + f"?start={day}&end={day}&format=xlsx")
    assert load_workbook(io.BytesIO(r.getvalue())).active.max_row == len(rows)


def test_orders_of_a_customer_on_hold_wait_with_the_reason(as_role, books, api, make_token):
    from stemline.sales.models import DocumentStatus, Invoice

    books.company.auto_confirm = True
    books.company.save()
    books.s.market.credit_hold = True
    books.s.market.save()
    token = make_token(books.company, "customer", customer_id=books.s.market.pk)
    r = api(
        "web-order-item.add",
        token,
        {"inventoryIds": [books.line.pk], "inventoryOrigin": 1, "quantity": 1},
    )
    r = api("web-order.checkout", token, {"webOrderId": r.json_body["webOrderId"]})
    assert r.status_code == 200, r.json_body
    invoice = Invoice.objects.get(web_order_id=r.json_body["webOrderId"])
    assert invoice.status == DocumentStatus.PENDING_APPROVAL
    assert invoice.hold_reason == "Customer is on credit hold"
    page = as_role(Role.SALES).get(reverse("sales_orders")).content.decode()
    assert "Customer is on credit hold" in page


def test_a_credit_photo_must_be_an_image(as_role, books, settings, tmp_path):
    import base64

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = as_role(Role.ACCOUNTING)
    item = books.a.items.get()
    url = reverse("receivables_credit_new", args=[books.a.pk])
    fields = {
        f"qty-{item.pk}": "1",
        f"type-{item.pk}": "box",
        f"reason-{item.pk}": books.damaged.pk,
    }
    fake = SimpleUploadedFile("box.png", b"MZ not an image", content_type="image/png")
    r = client.post(url, {**fields, f"photo-{item.pk}": fake}, follow=True)
    assert "must be a PNG or JPEG photo" in r.content.decode()
    assert not Credit.objects.exists()
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    photo = SimpleUploadedFile("box.png", png, content_type="image/png")
    client.post(url, {**fields, f"photo-{item.pk}": photo})
    line = Credit.objects.get().lines.get()
    assert line.photo.name.startswith("credit-photos/") and line.photo.read() == png
