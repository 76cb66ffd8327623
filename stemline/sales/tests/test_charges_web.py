"""The web side of issue 12 item 5: the customer fields in Setup > Customers (and the group
filter), Setup > Additional Charges (the tax rate), and the Orders page telling the sales
rep to ask for payment and showing totals with charges."""

import pytest
from django.test import Client
from django.urls import reverse

from stemline.core.models import Role
from stemline.core.services import create_user
from stemline.inventory import services as stock
from stemline.parties.models import AdditionalCharge, Customer
from stemline.sales.models import Invoice

pytestmark = pytest.mark.django_db


def _client(company, role=Role.ADMIN) -> Client:
    client = Client()
    client.force_login(create_user(company=company, email=f"{role}@example.com", role=role))
    return client


BASE = {"customer_type": "3", "default_price": "A", "active": "on"}


def test_setup_customer_edit_saves_the_reference_fields(company):
    client = _client(company)
    r = client.post(
        reverse("customer_new"),
        {
            **BASE,
            "name": "Bloom Room",
            "email_for_invoices": "ap@bloom.example",
            "customer_group": "Miami",
            "payment_method": "Wire",
            "send_invoice_via": "Email",
            "charge_tax": "on",
            "charge_fuel_surcharge": "on",
            "ask_payment_upon_confirmation": "on",
            "finance_charge_percentage": "1.50",
        },
    )
    assert r.status_code == 302, r.content.decode()
    c = Customer.objects.get(name="Bloom Room")
    assert (c.customer_group, c.payment_method.name, c.send_invoice_via) == (
        "Miami",
        "Wire",
        "Email",
    )
    assert c.charge_tax and c.charge_fuel_surcharge and c.ask_payment_upon_confirmation
    assert str(c.finance_charge_percentage) == "1.50"
    page = client.get(reverse("customer_edit", args=[c.pk])).content.decode()
    assert 'value="Miami"' in page and '<option value="Wire" selected>' in page
    # Its invoices' charges are listed on the page.
    charges = page.split('id="customer-charges"', 1)[1].split("</table>", 1)[0]
    assert "Fuel Surcharge" in charges and "Sales Tax" in charges
    # Turned off again; e-mail without an address is refused beside the field.
    r = client.post(
        reverse("customer_edit", args=[c.pk]),
        {**BASE, "name": "Bloom Room", "send_invoice_via": "Email", "email_for_invoices": ""},
    )
    assert r.status_code == 200 and 'id="id_send_invoice_via_errors"' in r.content.decode()
    r = client.post(
        reverse("customer_edit", args=[c.pk]),
        {**BASE, "name": "Bloom Room", "send_invoice_via": "Print", "payment_method": ""},
    )
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.payment_method is None and not c.charge_tax and c.send_invoice_via == "Print"
    assert c.customer_group == "" and c.finance_charge_percentage == 0


def test_setup_customers_filter_by_group(company):
    Customer.objects.create(company=company, name="Bloom Room", customer_group="Miami")
    Customer.objects.create(company=company, name="Petal Shop", customer_group="Orlando")
    client = _client(company, Role.SETUP)
    page = client.get(reverse("customers") + "?group=miami").content.decode()
    rows = page.split('id="customer-list"', 1)[1]
    assert "Bloom Room" in rows and "Petal Shop" not in rows
    assert '<option value="Orlando"' in page  # the groups in use are the filter's choices
    export = client.get(reverse("customers_export") + "?group=Orlando")
    assert export.status_code == 200


def test_setup_additional_charges_sets_the_tax_rate(company):
    client = _client(company, Role.SETUP)
    tax = AdditionalCharge.objects.get(company=company, purpose="tax")
    assert "Sales Tax" in client.get(reverse("additional_charges")).content.decode()
    r = client.post(
        reverse("additional_charge_edit", args=[tax.pk]),
        {
            "code": "TAX",
            "name": "Sales Tax",
            "amount_type": "%",
            "default_value": "7",
            "active": "on",
        },
    )
    assert r.status_code == 302
    tax.refresh_from_db()
    assert str(tax.default_value) == "7.00"
    r = client.post(
        reverse("additional_charge_edit", args=[tax.pk]),
        {"code": "TAX", "name": "Sales Tax", "amount_type": "%", "default_value": "120"},
    )
    assert r.status_code == 200 and "at most 100" in r.content.decode()
    r = client.post(
        reverse("additional_charge_new"),
        {"code": "fs", "name": "Again", "amount_type": "$", "default_value": "1"},
    )
    assert r.status_code == 200 and "already has the code" in r.content.decode()
    r = client.post(
        reverse("additional_charge_new"),
        {"code": "dlv", "name": "Delivery", "amount_type": "$", "default_value": "25"},
    )
    assert r.status_code == 302
    assert AdditionalCharge.objects.get(company=company, code="DLV").purpose == "other"


def test_another_companys_charge_is_not_found(company, other_company):
    theirs = AdditionalCharge.objects.get(company=other_company, purpose="tax")
    r = _client(company, Role.SETUP).get(reverse("additional_charge_edit", args=[theirs.pk]))
    assert r.status_code == 404


def test_orders_page_tells_the_rep_to_ask_for_payment(stocked, make_token, api):
    from stemline.parties.models import PaymentMethod

    AdditionalCharge.objects.filter(company=stocked.company, purpose="tax").update(default_value=10)
    market = stocked.market
    market.ask_payment_upon_confirmation = True
    market.charge_tax = True
    market.payment_method = PaymentMethod.objects.get(company=stocked.company, name="Cash")
    market.save()
    token = make_token(stocked.company)
    line = stocked.add(10)
    body = api(
        "invoice.create",
        token,
        {
            "customerId": market.pk,
            "shipDate": str(stock.today()),
            "invoiceItems": [{"orderItemId": line.pk, "boxes": 2, "price": "0.450"}],
        },
    ).json_body
    invoice = Invoice.objects.get(pk=body["invoiceId"])
    page = _client(stocked.company, Role.SALES).get(reverse("sales_orders")).content.decode()
    row = page.split(f'id="invoice-{invoice.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Ask for payment (Cash)" in row
    assert "data-confirm=" in row and "Collect it, then confirm invoice" in row
    # 2 x 250 x 0.45 = 225.00 + 10% tax = 247.50
    assert "225.00" in row and "247.50" in row
    florist_line = stocked.add(5)
    other = api(
        "invoice.create",
        token,
        {
            "customerId": stocked.florist.pk,
            "shipDate": str(stock.today()),
            "invoiceItems": [{"orderItemId": florist_line.pk, "boxes": 1, "price": "0.5"}],
        },
    ).json_body
    page = _client(stocked.company, Role.ADMIN).get(reverse("sales_orders")).content.decode()
    row = page.split(f'id="invoice-{other["invoiceId"]}"', 1)[1].split("</tr>", 1)[0]
    assert "Ask for payment" not in row and "data-confirm" not in row
