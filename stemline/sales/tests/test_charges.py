"""Additional charges and tax on a customer's invoices (issue 12, item 5): the fuel surcharge
with chargeFuelSurcharge, the tax with chargeTax, automatic charges from
customer.additional.charge.update; the same figures in invoice.list, invoice.details.list,
invoice.sync and the PDF; and the PDF e-mailed on confirmation with sendInvoiceVia Email."""

import io
from decimal import Decimal

import pytest
from django.test import override_settings
from pypdf import PdfReader

from stemline.inventory import services as stock
from stemline.parties.models import AdditionalCharge
from stemline.sales import services
from stemline.sales.mailing import send_invoice
from stemline.sales.models import Invoice, InvoiceCharge
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _ok(r):
    assert r.status_code == 200, r.json_body
    assert r.json_body.get("status", 1) == 1, r.json_body
    return r.json_body


@pytest.fixture
def token(stocked, make_token):
    issued = make_token(stocked.company)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def rates(stocked):
    """The company's fuel surcharge at $15.00 an invoice and its sales tax at 7%."""
    charges = AdditionalCharge.objects.filter(company=stocked.company)
    charges.filter(code="FS").update(default_value=Decimal("15.00"))
    charges.filter(code="TAX").update(default_value=Decimal("7.00"))
    return stocked


def _flags(customer, **flags):
    for name, value in flags.items():
        setattr(customer, name, value)
    customer.save()


def _invoice(api, token, stocked, customer=None, boxes=3, price="0.500", line=None):
    line = line or stocked.add(10)
    body = {
        "customerId": (customer or stocked.florist).pk,
        "shipDate": str(stock.today()),
        "invoiceItems": [{"orderItemId": line.pk, "boxes": boxes, "price": price}],
    }
    return _ok(api("invoice.create", token, body)), line


def _header(api, token, invoice_id) -> dict:
    rows = _ok(api("invoice.list", token, {"orderId": invoice_id}, verb="GET"))["invoices"]
    assert len(rows) == 1
    return rows[0]


def _details(api, token, invoice_id) -> dict:
    rows = _ok(api("invoice.details.list", token, {"orderId": invoice_id}, verb="GET"))
    return rows["invoices"][0]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _pdf(api, token, invoice_id) -> str:
    answer = _ok(api("invoice.pdf.get", token, {"invoiceId": invoice_id}))
    return _pdf_text(bytes(int(b) % 256 for b in answer["file"].split(",")))


def test_tax_and_fuel_surcharge_on_the_totals_everywhere(api, rates, token):
    _flags(rates.florist, charge_tax=True, charge_fuel_surcharge=True)
    body, _ = _invoice(api, token, rates)  # 3 boxes x 250 stems x 0.500 = 375.00
    invoice_id = body["invoiceId"]
    header = _header(api, token, invoice_id)
    # 375.00 + fuel 15.00 + tax 7% of the lines 26.25
    assert (header["subtotal"], header["additionalCharges"], header["taxes"]) == (
        375.0,
        15.0,
        26.25,
    )
    assert header["total"] == 416.25
    detail = _details(api, token, invoice_id)
    assert detail["total"] == 416.25
    assert [
        (c["code"], c["description"], c["amountType"], c["amountValue"], c["isTax"], c["amount"])
        for c in detail["additionalChargesDetails"]
    ] == [
        ("FS", "Fuel Surcharge", "$", 15.0, 0, 15.0),
        ("TAX", "Sales Tax", "%", 7.0, 1, 26.25),
    ]
    text = _pdf(api, token, invoice_id)
    for shown in ("Fuel Surcharge", "15.00", "Sales Tax (7.00%)", "26.25", "416.25"):
        assert shown in text, (shown, text)
    feed = _ok(api("invoice.sync", token, {"since": 0}, verb="GET"))["changes"]
    assert feed[-1]["total"] == 416.25


def test_a_customer_without_the_flags_pays_neither(api, rates, token):
    body, _ = _invoice(api, token, rates)
    header = _header(api, token, body["invoiceId"])
    assert (header["additionalCharges"], header["taxes"], header["total"]) == (0.0, 0.0, 375.0)
    assert _details(api, token, body["invoiceId"])["additionalChargesDetails"] == []
    text = _pdf(api, token, body["invoiceId"])
    assert "Fuel Surcharge" not in text and "Sales Tax" not in text


def test_the_customers_own_values_and_automatic_charges(api, rates, token):
    # A delivery charge of the company's list, automatic for this customer at 2% of the lines.
    AdditionalCharge.objects.create(
        company=rates.company, code="DLV", name="Delivery", amount_type="$", default_value=20
    )
    for params in (
        {"additionalChargeCode": "DLV", "amountType": "%", "amountValue": "2"},
        {"additionalChargeCode": "FS", "amountValue": "9.99"},
        {"additionalChargeCode": "TAX", "amountValue": "7.25"},
    ):
        _ok(
            api(
                "customer.additional.charge.update",
                token,
                {"customerId": rates.florist.pk, **params},
            )
        )
    body, _ = _invoice(api, token, rates, boxes=2, price="0.612")  # 2 x 250 x 0.612 = 306.00
    header = _header(api, token, body["invoiceId"])
    # Delivery 2% of 306.00 = 6.12, fuel 9.99; tax 7.25% of 306.00 = 22.185 -> 22.19
    assert (header["additionalCharges"], header["taxes"], header["total"]) == (16.11, 22.19, 344.3)
    invoice = Invoice.objects.get(pk=body["invoiceId"])
    assert (invoice.additional_charges, invoice.taxes) == (Decimal("16.11"), Decimal("22.19"))
    assert invoice.total == Decimal("344.30")
    # Another customer keeps none of them.
    other, _ = _invoice(api, token, rates, customer=rates.market)
    assert _header(api, token, other["invoiceId"])["additionalCharges"] == 0.0


def test_line_changes_work_the_charges_out_again(api, rates, token):
    _flags(rates.florist, charge_tax=True)
    body, line = _invoice(api, token, rates)
    assert _header(api, token, body["invoiceId"])["taxes"] == 26.25
    _ok(
        api(
            "invoice.item.add",
            token,
            {"invoiceId": body["invoiceId"], "orderItemId": line.pk, "boxes": 1, "price": "0.500"},
        )
    )
    # 4 x 125.00 = 500.00, tax 35.00
    header = _header(api, token, body["invoiceId"])
    assert (header["subtotal"], header["taxes"], header["total"]) == (500.0, 35.0, 535.0)


def test_confirmation_takes_the_settings_of_then_and_keeps_them(api, rates, token):
    body, _ = _invoice(api, token, rates)
    _flags(rates.florist, charge_tax=True)  # switched on while the invoice waited
    _ok(api("invoice.confirm", token, {"invoiceId": body["invoiceId"]}))
    assert _header(api, token, body["invoiceId"])["taxes"] == 26.25
    # Later changes of the rate or the flag leave a confirmed invoice as it was sent.
    AdditionalCharge.objects.filter(company=rates.company, code="TAX").update(default_value=10)
    _flags(rates.florist, charge_tax=False)
    header = _header(api, token, body["invoiceId"])
    assert (header["taxes"], header["total"]) == (26.25, 401.25)


def test_checkout_invoices_carry_the_charges(rates):
    _flags(rates.market, charge_fuel_surcharge=True)
    line = rates.add(5)
    order = services.add_items(
        company=rates.company,
        customer_id=rates.market.pk,
        origin=1,
        requests=[services.ItemRequest(line.pk, 2)],
    ).web_order
    invoice = services.checkout(
        company=rates.company, customer_id=rates.market.pk, web_order_id=order.pk
    ).invoice
    invoice.refresh_from_db()
    assert invoice.additional_charges == Decimal("15.00")
    assert invoice.total == invoice.amount + Decimal("15.00")
    assert list(InvoiceCharge.objects.filter(invoice=invoice).values_list("code", flat=True)) == [
        "FS"
    ]


def test_checkout_charges_each_customer_only_what_applies_to_it(api, rates, token):
    AdditionalCharge.objects.create(
        company=rates.company, code="DLV", name="Delivery", amount_type="$", default_value=20
    )
    _ok(
        api(
            "customer.additional.charge.update",
            token,
            {"customerId": rates.market.pk, "additionalChargeCode": "DLV", "amountValue": "12"},
        )
    )
    _flags(rates.florist, charge_tax=True)

    def checked_out(customer):
        line = rates.add(5)
        order = services.add_items(
            company=rates.company,
            customer_id=customer.pk,
            origin=1,
            requests=[services.ItemRequest(line.pk, 2)],
        ).web_order
        invoice = services.checkout(
            company=rates.company, customer_id=customer.pk, web_order_id=order.pk
        ).invoice
        invoice.refresh_from_db()
        codes = list(InvoiceCharge.objects.filter(invoice=invoice).values_list("code", flat=True))
        return invoice, codes

    invoice, codes = checked_out(rates.market)  # its automatic charge, no flag
    assert (codes, invoice.additional_charges, invoice.taxes) == (["DLV"], Decimal("12.00"), 0)
    invoice, codes = checked_out(rates.florist)  # the tax only
    assert codes == ["TAX"]
    assert invoice.additional_charges == 0
    assert invoice.taxes == (invoice.amount * Decimal("0.07")).quantize(Decimal("0.01"))
    _flags(rates.florist, charge_tax=False)
    invoice, codes = checked_out(rates.florist)  # neither any more
    assert (codes, invoice.additional_charges, invoice.taxes) == ([], 0, 0)
    # Charges switched off apply to nobody.
    _flags(rates.florist, charge_tax=True)
    AdditionalCharge.objects.filter(company=rates.company).update(active=False)
    for customer in (rates.market, rates.florist):
        invoice, codes = checked_out(customer)
        assert (codes, invoice.additional_charges, invoice.taxes) == ([], 0, 0)


# ---------------------------------------------------------------- e-mailed on confirmation


@override_settings(TASKS=IMMEDIATE)
def test_confirming_emails_the_pdf_to_the_invoice_addresses(
    api, rates, token, mailoutbox, django_capture_on_commit_callbacks
):
    _flags(
        rates.florist,
        charge_tax=True,
        send_invoice_via="Email",
        email_for_invoices="ap@bloom.example;owner@bloom.example",
    )
    body, _ = _invoice(api, token, rates)
    assert mailoutbox == []  # not on creation
    with django_capture_on_commit_callbacks(execute=True):
        _ok(api("invoice.confirm", token, {"invoiceId": body["invoiceId"]}))
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    number = f"{body['invoiceNumber']:06d}"
    assert mail.to == ["ap@bloom.example", "owner@bloom.example"]
    assert number in mail.subject and "401.25" in mail.body
    ((name, data, mimetype),) = mail.attachments
    assert (name, mimetype) == (f"Invoice #{number}.pdf", "application/pdf")
    text = _pdf_text(data)
    assert number in text and "Sales Tax (7.00%)" in text and "401.25" in text
    assert Invoice.objects.get(pk=body["invoiceId"]).emailed_at is not None
    # A retried task sends nothing more for the same confirmation.
    assert send_invoice.call(body["invoiceId"]) is False
    assert len(mailoutbox) == 1


@override_settings(TASKS=IMMEDIATE)
@pytest.mark.parametrize("via", ["", "Print"])
def test_no_email_unless_the_customer_wants_it(
    api, rates, token, mailoutbox, django_capture_on_commit_callbacks, via
):
    _flags(rates.florist, send_invoice_via=via, email_for_invoices="ap@bloom.example")
    body, _ = _invoice(api, token, rates)
    with django_capture_on_commit_callbacks(execute=True):
        _ok(api("invoice.confirm", token, {"invoiceId": body["invoiceId"]}))
    assert mailoutbox == []


@override_settings(TASKS=IMMEDIATE)
def test_an_auto_confirmed_checkout_is_emailed_too(
    rates, mailoutbox, django_capture_on_commit_callbacks
):
    rates.company.auto_confirm = True
    rates.company.save()
    _flags(rates.market, send_invoice_via="Email", email_for_invoices="buyer@dwf.example")
    line = rates.add(5)
    order = services.add_items(
        company=rates.company,
        customer_id=rates.market.pk,
        origin=1,
        requests=[services.ItemRequest(line.pk, 1)],
    ).web_order
    with django_capture_on_commit_callbacks(execute=True):
        services.checkout(company=rates.company, customer_id=rates.market.pk, web_order_id=order.pk)
    assert [m.to for m in mailoutbox] == [["buyer@dwf.example"]]


def test_the_email_is_sent_by_a_task_not_in_the_request(
    api, rates, token, mailoutbox, django_capture_on_commit_callbacks
):
    """With the database backend the confirmation only queues the task; a worker sends it."""
    from django_tasks_db.models import DBTaskResult

    _flags(rates.florist, send_invoice_via="Email", email_for_invoices="ap@bloom.example")
    body, _ = _invoice(api, token, rates)
    with django_capture_on_commit_callbacks(execute=True):
        _ok(api("invoice.confirm", token, {"invoiceId": body["invoiceId"]}))
    assert mailoutbox == []
    queued = DBTaskResult.objects.get(task_path="stemline.sales.mailing.send_invoice")
    assert queued.args_kwargs["args"] == [body["invoiceId"]]
    assert send_invoice.call(body["invoiceId"]) is True
    assert len(mailoutbox) == 1
