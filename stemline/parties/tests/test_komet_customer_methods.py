"""The customer methods of issue 12: customer.contact.add, customer.by.company.list,
customer.additional.charge.update, additional.charge.list, payment.method.list,
ecommerce-lite/settings, and the customer fields the reference documents (chargeTax,
chargeFuelSurcharge, paymentMethod, sendInvoiceVia, askPaymentUponConfirmation,
financeChargePercentage, customerGroup).

CALLS below is one successful call per method, for other tests to reuse (e.g. a leniency or
corpus walk): method -> (token type, params builder taking the `world` fixture)."""

from decimal import Decimal

import pytest

from stemline.core.models import Role
from stemline.core.services import create_company, create_user
from stemline.parties.models import (
    AdditionalCharge,
    Customer,
    CustomerCharge,
    CustomerContact,
    PaymentMethod,
)

from .helpers import ok, refused

CHANNEL = {"X-SALES-CHANNEL": "WEB_APP"}

CALLS = {
    "customer.contact.add": (
        "company",
        lambda w: {"customerId": w.customer.pk, "name": "Ana Buyer", "type": "Buyer"},
    ),
    "customer.by.company.list": ("user", lambda w: {}),
    "customer.additional.charge.update": (
        "company",
        lambda w: {"customerId": w.customer.pk, "additionalChargeCode": "FS", "amountValue": "5"},
    ),
    "additional.charge.list": ("company", lambda w: {}),
    "payment.method.list": ("company", lambda w: {}),
    "ecommerce-lite/settings": ("customer", lambda w: {"customerId": w.customer.pk}),
}


@pytest.fixture
def world(company, make_token):
    class World:
        pass

    w = World()
    w.company = company
    w.rep = create_user(
        company=company, email="rep@example.com", role=Role.SALES, first_name="Rita"
    )
    w.customer = Customer.objects.create(
        company=company, name="Bloom Room", sales_person=w.rep, customer_group="Miami"
    )
    w.other_customer = Customer.objects.create(
        company=company, name="Petal Shop", customer_group="Orlando"
    )
    w.company_token = make_token(company)
    w.customer_token = make_token(company, "customer", customer_id=w.customer.pk)
    w.user_token = make_token(company, "user", user=w.rep)
    return w


def _call(api, world, method, params=None, token=None, headers=None, verb=None):
    token_type, build = CALLS[method]
    token = token or getattr(world, f"{token_type}_token")
    verb = verb or ("GET" if method.endswith("list") or method.endswith("settings") else "POST")
    return api(
        method,
        token,
        build(world) if params is None else params,
        verb=verb,
        headers=headers if headers is not None else CHANNEL,
    )


@pytest.mark.parametrize("method", sorted(CALLS))
def test_every_method_answers_its_success(api, world, method):
    ok(_call(api, world, method))


@pytest.mark.parametrize("method", sorted(CALLS))
def test_every_method_refuses_a_token_type_it_does_not_take(api, world, make_token, method):
    token_type = CALLS[method][0]
    wrong = make_token(world.company, "vendor") if token_type != "vendor" else world.company_token
    refused(_call(api, world, method, token=wrong), 403)


@pytest.mark.parametrize("method", sorted(m for m, (t, _) in CALLS.items() if t != "user"))
def test_every_method_refuses_a_token_not_granted_it(api, world, make_token, method):
    token_type = CALLS[method][0]
    if token_type == "customer":
        # One token per customer: the spare customer's token, granted something else.
        spare = Customer.objects.create(company=world.company, name="Spare")
        bare = make_token(
            world.company, "customer", grants=["customer.details.get"], customer_id=spare.pk
        )
    else:
        bare = make_token(world.company, token_type, grants=["customer.list"])
    body = refused(_call(api, world, method, token=bare), 403)
    assert "not among the methods granted" in body["message"]


# ---------------------------------------------------------------- seeded lists


def test_a_new_company_has_the_standard_payment_methods_and_charges(db):
    company = create_company(name="Fresh Start Flowers")
    assert sorted(PaymentMethod.objects.filter(company=company).values_list("name", flat=True)) == [
        "ACH",
        "Cash",
        "Check",
        "Credit Card",
        "Wire",
    ]
    charges = {c.code: c for c in AdditionalCharge.objects.filter(company=company)}
    assert charges["FS"].purpose == "fuel" and charges["TAX"].purpose == "tax"
    assert charges["TAX"].amount_type == "%"


def test_payment_method_list_filters_and_is_per_company(api, world, other_company, make_token):
    rows = ok(_call(api, world, "payment.method.list"))["paymentMethods"]
    assert [r["name"] for r in rows] == ["ACH", "Cash", "Check", "Credit Card", "Wire"]
    assert all(r["active"] == 1 for r in rows)
    check = next(r for r in rows if r["name"] == "Check")
    only = ok(_call(api, world, "payment.method.list", {"id": check["id"]}))["paymentMethods"]
    assert [r["name"] for r in only] == ["Check"]
    assert [
        r["name"]
        for r in ok(_call(api, world, "payment.method.list", {"name": "card"}))["paymentMethods"]
    ] == ["Credit Card"]
    # The other company's Check is not this company's.
    theirs = make_token(other_company)
    body = ok(api("payment.method.list", theirs, {"id": check["id"]}, verb="GET"))
    assert body["paymentMethods"] == [] and body["message"] == "Payment methods not found."
    refused(_call(api, world, "payment.method.list", {"id": "abc"}), 422, "id")


def test_additional_charge_list_filters(api, world):
    rows = ok(_call(api, world, "additional.charge.list"))["additionalCharges"]
    assert {r["code"]: r["purpose"] for r in rows} == {"FS": "fuel", "TAX": "tax"}
    fs = next(r for r in rows if r["code"] == "FS")
    assert set(fs) >= {"id", "name", "code", "active", "amountType", "defaultValue"}
    assert [
        r["code"]
        for r in ok(_call(api, world, "additional.charge.list", {"code": "fs"}))[
            "additionalCharges"
        ]
    ] == ["FS"]
    assert [
        r["code"]
        for r in ok(_call(api, world, "additional.charge.list", {"name": "tax"}))[
            "additionalCharges"
        ]
    ] == ["TAX"]
    body = ok(_call(api, world, "additional.charge.list", {"active": "0"}))
    assert body["additionalCharges"] == [] and body["message"] == "Additional charges not found."
    refused(_call(api, world, "additional.charge.list", {"active": "perhaps"}), 422, "active")


# ---------------------------------------------------------------- customer.additional.charge.update


def test_charge_update_sets_the_customers_own_value_and_switches_the_flag_on(api, world):
    body = ok(
        _call(
            api,
            world,
            "customer.additional.charge.update",
            {"customerId": world.customer.pk, "additionalChargeCode": "fs", "amountValue": "12.5"},
        )
    )
    assert body["message"] == "The automatic additional charge was successfully saved."
    assert (body["amountType"], body["amountValue"]) == ("$", 12.5)
    world.customer.refresh_from_db()
    assert world.customer.charge_fuel_surcharge
    row = CustomerCharge.objects.get(customer=world.customer)
    assert (row.amount_type, row.amount_value) == ("$", Decimal("12.50"))
    # Sent again: the value changes, no second row.
    ok(
        _call(
            api,
            world,
            "customer.additional.charge.update",
            {
                "customerId": world.customer.pk,
                "additionalChargeCode": "FS",
                "amountValue": "3",
                "amountType": "%",
            },
        )
    )
    row = CustomerCharge.objects.get(customer=world.customer)
    assert (row.amount_type, row.amount_value) == ("%", Decimal("3.00"))
    details = ok(
        api("customer.details.get", world.company_token, {"customerId": world.customer.pk})
    )["customer"][0]
    assert details["chargeFuelSurcharge"] == 1
    assert details["additionalCharges"] == [
        {
            "additionalChargeId": row.charge_id,
            "additionalChargeCode": "FS",
            "name": "Fuel Surcharge",
            "amountType": "%",
            "amountValue": 3.0,
        }
    ]


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"additionalChargeCode": "NOPE"}, 404, "additionalChargeCode"),
        ({"additionalChargeCode": ""}, 422, "additionalChargeCode"),
        ({"additionalChargeCode": "FS", "amountType": "#"}, 422, "amountType"),
        ({"additionalChargeCode": "FS", "amountValue": "-1"}, 422, "amountValue"),
        ({"additionalChargeCode": "FS", "amountValue": "1.234"}, 422, "amountValue"),
        ({"additionalChargeCode": "TAX", "amountValue": "101"}, 422, "amountValue"),
        ({"additionalChargeCode": "FS", "customerId": 99999999}, 404, "customerId"),
    ],
)
def test_charge_update_refusals(api, world, params, status, field):
    params = {"customerId": world.customer.pk, **params}
    refused(_call(api, world, "customer.additional.charge.update", params), status, field)
    assert not CustomerCharge.objects.exists()


def test_charge_update_refuses_an_inactive_charge_and_another_companys_customer(
    api, world, other_company
):
    AdditionalCharge.objects.filter(company=world.company, code="FS").update(active=False)
    params = {"customerId": world.customer.pk, "additionalChargeCode": "FS"}
    refused(
        _call(api, world, "customer.additional.charge.update", params), 409, "additionalChargeCode"
    )
    theirs = Customer.objects.create(company=other_company, name="Theirs")
    params = {"customerId": theirs.pk, "additionalChargeCode": "TAX"}
    refused(_call(api, world, "customer.additional.charge.update", params), 404, "customerId")
    assert not CustomerCharge.objects.exists()


# ---------------------------------------------------------------- customer.contact.add


def test_contact_add_saves_every_field(api, world):
    body = ok(
        _call(
            api,
            world,
            "customer.contact.add",
            {
                "customerId": world.customer.pk,
                "name": "Paula Payables",
                "type": "a/p",
                "phone": "305-555-0100",
                "ext": "12",
                "mobile": "305-555-0199",
                "fax": "305-555-0101",
                "email": "ap@bloom.example; boss@bloom.example",
                "description": "Pays on Fridays",
                "instantMessaging": "paula.ap",
                "emailPOD": "true",
            },
        )
    )
    assert body["message"] == "Contact was successfully saved"
    contact = CustomerContact.objects.get(pk=body["contactId"])
    assert (contact.customer_id, contact.contact_type, contact.ext) == (
        world.customer.pk,
        "A/P",
        "12",
    )
    assert contact.email == "ap@bloom.example;boss@bloom.example" and contact.email_pod
    from stemline.parties.queries import pod_recipients

    assert pod_recipients(world.customer) == ["ap@bloom.example", "boss@bloom.example"]


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"name": "", "type": "Buyer"}, 422, "name"),
        ({"name": "A", "type": "Astrologer"}, 422, "type"),
        ({"name": "A", "type": "Buyer", "email": "not-an-address"}, 422, "email"),
        ({"name": "A", "type": "Buyer", "emailPOD": "1"}, 422, "email"),
        ({"name": "A", "type": "Buyer", "ext": "1" * 11}, 422, "ext"),
        ({"name": "A"}, 422, "type"),
        ({"name": "A", "type": "Buyer", "customerId": 99999999}, 404, "customerId"),
    ],
)
def test_contact_add_refusals(api, world, params, status, field):
    params = {"customerId": world.customer.pk, **params}
    refused(_call(api, world, "customer.contact.add", params), status, field)
    assert not CustomerContact.objects.exists()


def test_contact_add_refuses_another_companys_customer(api, world, other_company):
    theirs = Customer.objects.create(company=other_company, name="Theirs")
    params = {"customerId": theirs.pk, "name": "A", "type": "Buyer"}
    refused(_call(api, world, "customer.contact.add", params), 404, "customerId")


# ---------------------------------------------------------------- customer.by.company.list


def test_by_company_list_shows_active_customers_and_filters(api, world):
    Customer.objects.create(company=world.company, name="Closed Shop", active=False)
    rows = ok(_call(api, world, "customer.by.company.list"))["customerResult"]
    assert [r["customerName"] for r in rows] == ["Bloom Room", "Petal Shop"]
    assert rows[0] == {"customerId": world.customer.pk, "customerName": "Bloom Room"}
    mine = ok(_call(api, world, "customer.by.company.list", {"showSalespersonCustomers": "true"}))
    assert [r["customerId"] for r in mine["customerResult"]] == [world.customer.pk]
    group = ok(_call(api, world, "customer.by.company.list", {"customerGroup": "orlando"}))
    assert [r["customerId"] for r in group["customerResult"]] == [world.other_customer.pk]
    none = ok(_call(api, world, "customer.by.company.list", {"customerGroup": "Tampa"}))
    assert none["customerResult"] == [] and none["message"] == "Customers not found."


def test_by_company_list_needs_both_headers(api, world):
    refused(_call(api, world, "customer.by.company.list", headers={}), 422, "X-SALES-CHANNEL")
    refused(
        _call(api, world, "customer.by.company.list", headers={"X-SALES-CHANNEL": "FAX"}),
        422,
        "X-SALES-CHANNEL",
    )
    secret = world.user_token.secret
    r = api("customer.by.company.list", secret, {}, verb="GET", headers=CHANNEL)
    refused(r, 400, "X-ACCOUNT")


def test_by_company_list_is_per_company(api, world, other_company, make_token):
    theirs = make_token(other_company, "user")
    rows = ok(api("customer.by.company.list", theirs, {}, verb="GET", headers=CHANNEL))
    assert rows["customerResult"] == []


# ---------------------------------------------------------------- ecommerce-lite/settings


def test_lite_settings_show_the_customers_and_companys_flags(api, world):
    world.customer.charge_tax = True
    world.customer.save()
    body = ok(_call(api, world, "ecommerce-lite/settings"))
    info = body["userInfo"][0]
    assert info["chargeTax"] == 1 and info["isMultilocation"] == 0
    assert info["companyName"] == world.company.name and info["customerName"] == "Bloom Room"
    assert info["username"] == world.customer_token.token.description
    world.company.multi_location = True
    world.company.save()
    world.customer.charge_tax = False
    world.customer.save()
    info = ok(_call(api, world, "ecommerce-lite/settings"))["userInfo"][0]
    assert (info["chargeTax"], info["isMultilocation"]) == (0, 1)


def test_lite_settings_refuse_another_customer_and_bad_ids(api, world):
    params = {"customerId": world.other_customer.pk}
    refused(_call(api, world, "ecommerce-lite/settings", params), 404, "customerId")
    refused(_call(api, world, "ecommerce-lite/settings", {"customerId": "x"}), 422, "customerId")
    refused(_call(api, world, "ecommerce-lite/settings", {}), 422, "customerId")


# ---------------------------------------------------------------- the customer fields


def test_customer_fields_are_saved_and_read_back(api, world):
    body = ok(
        api(
            "customer.add",
            world.company_token,
            {
                "name": "Lily Lane",
                "paymentMethod": "credit card",
                "chargeTax": "1",
                "chargeFuelSurcharge": "true",
                "sendInvoiceVia": "e-mail",
                "emailForInvoices": "ap@lily.example",
                "askPaymentUponConfirmation": 1,
                "financeChargePercentage": "1.5",
                "customerGroup": "Miami",
            },
        )
    )
    c = ok(api("customer.details.get", world.company_token, {"customerId": body["customerId"]}))[
        "customer"
    ][0]
    assert c["paymentMethod"] == "Credit Card"
    assert (c["chargeTax"], c["chargeFuelSurcharge"], c["askPaymentUponConfirmation"]) == (1, 1, 1)
    assert (c["sendInvoiceVia"], c["financeChargePercentage"], c["customerGroup"]) == (
        "Email",
        1.5,
        "Miami",
    )
    # The flags' charges are what its invoices will carry.
    assert [a["additionalChargeCode"] for a in c["additionalCharges"]] == ["FS", "TAX"]
    ok(
        api(
            "customer.update",
            world.company_token,
            {
                "customerId": body["customerId"],
                "paymentMethod": "",
                "chargeTax": "0",
                "sendInvoiceVia": "Print",
                "customerGroup": "",
            },
        )
    )
    saved = Customer.objects.get(pk=body["customerId"])
    assert saved.payment_method is None and not saved.charge_tax and saved.charge_fuel_surcharge
    assert (saved.send_invoice_via, saved.customer_group) == ("Print", "")


def test_send_invoice_via_email_needs_an_invoice_address(api, world):
    refused(
        api("customer.add", world.company_token, {"name": "No Mail", "sendInvoiceVia": "Email"}),
        422,
        "sendInvoiceVia",
    )
    customer = Customer.objects.create(
        company=world.company,
        name="Mail",
        email_for_invoices="a@x.example",
        send_invoice_via="Email",
    )
    refused(
        api(
            "customer.update",
            world.company_token,
            {"customerId": customer.pk, "emailForInvoices": ""},
        ),
        422,
        "sendInvoiceVia",
    )


def test_payment_method_of_another_company_is_not_one(api, world, other_company):
    PaymentMethod.objects.create(company=other_company, name="Barter")
    refused(
        api("customer.add", world.company_token, {"name": "C", "paymentMethod": "Barter"}),
        422,
        "paymentMethod",
    )


def test_customer_list_filters_by_group(api, world):
    rows = ok(api("customer.list", world.company_token, {"customerGroup": "MIAMI"}, verb="GET"))
    assert [(r["id"], r["customerGroup"]) for r in rows["customers"]] == [
        (world.customer.pk, "Miami")
    ]
    everyone = ok(api("customer.list", world.company_token, {}, verb="GET"))["customers"]
    assert len(everyone) == 2
