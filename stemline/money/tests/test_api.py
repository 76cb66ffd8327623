"""The money methods through /api: answers, refusals (token type, grant, another company's
IDs, bad values naming the field), Idempotency-Key, sync marks locking, and the feeds."""

from decimal import Decimal

import pytest

from stemline.money import services
from stemline.money.models import Credit, CreditStatus, Payment, Receivable
from stemline.money.services import CreditLineRequest

D = Decimal


def ok(response):
    assert response.status_code == 200, response.json_body
    assert str(response.json_body["status"]) == "1", response.json_body
    return response.json_body


def refused(response, code):
    assert response.status_code == code, response.json_body
    assert response.json_body["status"] == 0
    return response.json_body


@pytest.fixture
def world(books, company_token):
    books.token = company_token
    books.a = books.invoice(2)  # 250.00
    books.b = books.invoice(1)  # 125.00
    return books


def receive(api, w, token=None, **over):
    body = {
        "customerId": w.customer.pk,
        "methodId": w.check.pk,
        "date": str(w.a.ship_date),
        "referenceNumber": "CHK 1001",
        "totalPayment": "400.00",
        "invoices": [
            {"invoiceNumber": str(w.a.number), "amount": "245.00", "discount": "5.00"},
            {"invoiceNumber": f"W{w.b.number:06d}", "amount": "100"},
        ],
    }
    body.update(over)
    return api("payment.receive", token or w.token, body)


def _credit(w, status=None):
    credit = services.raise_credit(
        company=w.company,
        invoice_id=w.a.pk,
        lines=[CreditLineRequest(w.a.items.get().pk, 1, w.damaged.pk, "box")],
        comment="crushed box",
    )
    if status == CreditStatus.APPROVED:
        services.approve_credit(company=w.company, credit_id=credit.pk)
    return credit


def _payment(w):
    return services.receive_payment(
        company=w.company,
        customer=w.customer,
        location=w.location,
        method=w.check,
        day=w.a.ship_date,
        applications=[],
        amount=D("10"),
    )


CALLS = {
    "payment.receive": lambda w: ("POST", None),
    "payment.list": lambda w: ("GET", {"customerId": w.customer.pk}),
    "payment.mark.sync": lambda w: ("POST", {"payments": [{"paymentId": _payment(w).pk}]}),
    "credit.details.list": lambda w: (
        "POST",
        {
            "creditDateFrom": str(w.a.ship_date),
            "creditDateTo": str(w.a.ship_date),
            "itemType": "all",
        },
    ),
    "credit.mark.sync": lambda w: ("POST", {"credits": [{"creditId": _credit(w).pk}]}),
    "open.credit.balance.create": lambda w: (
        "POST",
        {"customerCode": "BLOOM", "openCredits": [{"date": "2026-01-02", "balance": "10"}]},
    ),
    "invoice.accounting.details.list": lambda w: (
        "GET",
        {"orderDateFrom": str(w.a.ship_date), "orderDateTo": str(w.a.ship_date)},
    ),
    "payment.sync": lambda w: ("GET", {"since": 0}),
    "credit.sync": lambda w: ("GET", {"since": 0}),
}


def _call(api, w, method, token):
    verb, body = CALLS[method](w)
    if method == "payment.receive":
        return receive(api, w, token)
    return api(method, token, body, verb=verb)


@pytest.mark.parametrize("method", sorted(CALLS))
def test_each_method_answers_a_company_token(api, world, method):
    ok(_call(api, world, method, world.token))


@pytest.mark.parametrize("method", sorted(CALLS))
def test_each_method_refuses_customer_and_vendor_tokens(api, world, make_token, method):
    for kind in ("customer", "vendor"):
        refused(_call(api, world, method, make_token(world.company, kind)), 403)


@pytest.mark.parametrize("method", sorted(CALLS))
def test_each_method_refuses_a_token_not_granted_it(api, world, make_token, method):
    bare = make_token(world.company, grants=["customer.list"])
    body = refused(_call(api, world, method, bare), 403)
    assert "not among the methods granted" in body["message"]


def test_user_token_of_a_sales_rep_may_list_but_not_receive(api, world, make_token):
    from stemline.core.models import Role
    from stemline.core.services import create_user

    rep = create_user(company=world.company, email="rep@example.com", role=Role.SALES)
    accountant = create_user(company=world.company, email="acc@example.com", role=Role.ACCOUNTING)
    rep_token = make_token(world.company, "user", user=rep)
    refused(receive(api, world, rep_token), 403)
    ok(api("payment.list", rep_token, {"customerId": world.customer.pk}, verb="GET"))
    ok(receive(api, world, make_token(world.company, "user", user=accountant)))


def test_payment_receive_applies_and_keeps_the_overpayment(api, world):
    body = ok(receive(api, world))
    assert body["message"] == "The payment was successfully received."
    assert (body["applied"], body["overpayment"]) == (345.0, 55.0)
    assert Receivable.objects.get(invoice=world.a).open_amount == 0
    listed = ok(
        api("payment.list", world.token, {"controlNumber": body["controlNumber"]}, verb="GET")
    )
    (row,) = listed["payments"]
    assert row["unapplied"] == 55.0 and row["method"] == "Check"
    assert [(i["invoiceNumber"], i["amount"], i["discount"]) for i in row["invoices"]] == [
        (world.a.number, 245.0, 5.0),
        (world.b.number, 100.0, 0.0),
    ]


def test_payment_receive_refusals_name_the_field(api, world, other_company, make_token):
    body = refused(receive(api, world, totalPayment="300"), 422)
    assert body["message"].startswith("totalPayment:")
    body = refused(
        receive(
            api,
            world,
            invoices=[{"invoiceNumber": str(world.a.number), "amount": "251"}],
            totalPayment=None,
        ),
        409,
    )
    assert "open amount" in body["message"]
    body = refused(receive(api, world, invoices=[{"invoiceNumber": "999999", "amount": "1"}]), 404)
    assert body["message"].startswith("invoices[0].invoiceNumber:")
    body = refused(receive(api, world, methodId=999999), 404)
    assert body["message"].startswith("methodId:")
    body = refused(receive(api, world, date="yesterday"), 422)
    assert "date" in body["message"]
    body = refused(receive(api, world, invoices=[{"invoiceNumber": "1", "amount": "-1"}]), 422)
    assert "amount" in body["message"]
    # Another company's customer and its own invoice numbers: not found.
    other = make_token(other_company)
    refused(receive(api, world, other), 404)
    assert not Payment.objects.exists()


def test_another_customers_invoice_is_not_found(api, world, stocked):
    theirs = world.invoice(1, customer=stocked.market)
    body = refused(
        receive(api, world, invoices=[{"invoiceNumber": str(theirs.number), "amount": "1"}]), 404
    )
    assert "not a confirmed invoice of this customer" in body["message"]


def test_payment_receive_honours_the_idempotency_key(api, world):
    key = {"Idempotency-Key": "pay-1"}
    first = ok(api("payment.receive", world.token, _receive_body(world), headers=key))
    again = ok(api("payment.receive", world.token, _receive_body(world), headers=key))
    assert again["paymentId"] == first["paymentId"]
    assert Payment.objects.count() == 1
    changed = {**_receive_body(world), "notes": "other"}
    refused(api("payment.receive", world.token, changed, headers=key), 409)


def _receive_body(w):
    return {
        "customerId": w.customer.pk,
        "methodId": w.check.pk,
        "date": str(w.a.ship_date),
        "invoices": [{"invoiceNumber": str(w.a.number), "amount": "10"}],
    }


def test_payment_list_needs_a_filter(api, world):
    body = refused(api("payment.list", world.token, {}, verb="GET"), 422)
    assert body["message"].startswith("dateFrom:")


def test_payment_mark_sync_per_item_and_locks(api, world, other_company):
    paid = ok(receive(api, world))["paymentId"]
    voided = ok(receive(api, world, invoices=[], totalPayment="5"))["paymentId"]
    services.void_payment(company=world.company, payment_id=voided)
    body = ok(
        api(
            "payment.mark.sync",
            world.token,
            {"payments": [{"paymentId": paid}, {"paymentId": voided}, {"paymentId": 999999}]},
        )
    )
    assert [(r["status"], r["message"]) for r in body["payments"]] == [
        (1, "The payment was successfully synchronized"),
        (0, "The payment was cancelled"),
        (0, "The payment doesn't exist"),
    ]
    from stemline.core.errors import Conflict

    with pytest.raises(Conflict, match="locked"):
        services.void_payment(company=world.company, payment_id=paid)
    synced = ok(api("payment.list", world.token, {"externalSystemSynced": 1}, verb="GET"))
    assert [r["id"] for r in synced["payments"]] == [paid]


def test_credit_details_list_and_mark_sync(api, world):
    credit = _credit(world, CreditStatus.APPROVED)
    win = {"creditDateFrom": str(credit.date), "creditDateTo": str(credit.date)}
    body = ok(api("credit.details.list", world.token, {**win, "itemType": "box"}))
    (row,) = body["credits"]
    assert row["number"] == credit.number and row["invoiceNumber"] == world.a.number
    assert row["status"] == 3 and row["totalCredit"] == 125.0
    assert row["details"][0]["creditReasons"] == "Damaged"
    assert row["details"][0]["awb"] == "369-12345675"
    assert row["comments"][0]["comment"] == "crushed box"
    assert ok(api("credit.details.list", world.token, {**win, "itemType": "UN"}))["credits"] == []
    assert (
        ok(api("credit.details.list", world.token, {**win, "itemType": "all", "status": 1}))[
            "credits"
        ]
        == []
    )
    body = refused(api("credit.details.list", world.token, {**win, "itemType": "pallet"}), 422)
    assert body["message"].startswith("itemType:")
    body = refused(
        api("credit.details.list", world.token, {**win, "itemType": "all", "status": 9}), 422
    )
    assert body["message"].startswith("status:")
    refused(api("credit.details.list", world.token, {"itemType": "all"}), 422)
    marked = ok(api("credit.mark.sync", world.token, {"credits": [{"creditId": credit.pk}]}))
    assert marked["credits"][0]["message"] == "The credit was successfully synchronized"
    from stemline.core.errors import Conflict

    with pytest.raises(Conflict, match="locked"):
        services.add_comment(company=world.company, credit_id=credit.pk, text="late")


def test_another_companys_credit_is_not_marked(api, world, other_company, make_token):
    credit = _credit(world)
    body = api(
        "credit.mark.sync", make_token(other_company), {"credits": [{"creditId": credit.pk}]}
    ).json_body
    assert body["status"] == 0 and body["credits"][0]["message"] == "The credit doesn't exist"
    assert not Credit.objects.get(pk=credit.pk).synced


def test_open_credit_balance_create(api, world, other_company, make_token):
    body = ok(
        api(
            "open.credit.balance.create",
            world.token,
            {
                "customerCode": "bloom",
                "openCredits": [
                    {"date": "2026-01-02", "balance": "10.50"},
                    {"date": "2026-01-03", "balance": "4.50"},
                ],
            },
        )
    )
    assert body["message"] == "Open Credits Balance Adjustment was successfully saved."
    assert body["openCredits"] == 15.0
    body = refused(
        api(
            "open.credit.balance.create",
            world.token,
            {"customerCode": "BLOOM", "openCredits": [{"date": "2026-01-02", "balance": "0"}]},
        ),
        422,
    )
    assert body["message"].startswith("openCredits.0.balance") or "balance" in body["message"]
    many = [{"date": "2026-01-02", "balance": "1"}] * 51
    refused(
        api(
            "open.credit.balance.create",
            world.token,
            {"customerCode": "BLOOM", "openCredits": many},
        ),
        422,
    )
    body = refused(
        api(
            "open.credit.balance.create",
            make_token(other_company),
            {"customerCode": "BLOOM", "openCredits": [{"date": "2026-01-02", "balance": "1"}]},
        ),
        404,
    )
    assert body["message"].startswith("customerCode:")


def test_invoice_accounting_details_list(api, world):
    ok(receive(api, world))
    day = str(world.a.ship_date)
    body = ok(
        api(
            "invoice.accounting.details.list",
            world.token,
            {"orderDateFrom": day, "orderDateTo": day, "status": 1},
            verb="GET",
        )
    )
    rows = {r["number"]: r for r in body["invoices"]}
    assert rows[world.a.number]["openAmount"] == 0 and rows[world.a.number]["paid"] == 250.0
    assert rows[world.b.number]["openAmount"] == 25.0
    assert rows[world.b.number]["customerCode"] == "BLOOM"
    body = refused(
        api(
            "invoice.accounting.details.list",
            world.token,
            {"orderDateFrom": "2026-01-01", "orderDateTo": "2026-03-01"},
            verb="GET",
        ),
        422,
    )
    assert body["message"].startswith("orderDateTo:")


def test_payment_and_credit_feeds(api, world):
    pay = ok(receive(api, world))
    credit = _credit(world, CreditStatus.APPROVED)
    feed = ok(api("payment.sync", world.token, {"since": 0}, verb="GET"))
    assert [(c["change"], c["paymentId"]) for c in feed["changes"]] == [
        ("created", pay["paymentId"])
    ]
    again = ok(api("payment.sync", world.token, {"since": feed["maxSeq"]}, verb="GET"))
    assert again["changes"] == []
    feed = ok(api("credit.sync", world.token, {"since": 0}, verb="GET"))
    assert [c["change"] for c in feed["changes"]] == ["created", "approved"]
    assert feed["changes"][-1]["creditId"] == credit.pk and feed["changes"][-1]["status"] == 3


def test_multi_location_company_needs_the_location_code(api, world):
    world.company.multi_location = True
    world.company.save()
    body = refused(receive(api, world), 422)
    assert body["message"].startswith("locationCode:")
    body = refused(receive(api, world, locationCode="NOPE"), 404)
    assert body["message"].startswith("locationCode:")
    ok(receive(api, world, locationCode=world.location.code))


def test_credit_details_list_by_number(api, world):
    credit = _credit(world)
    win = {"creditDateFrom": str(credit.date), "creditDateTo": str(credit.date), "itemType": "box"}
    for number in (str(credit.number), f"W{world.a.number:06d}"):
        rows = ok(api("credit.details.list", world.token, {**win, "number": number}))["credits"]
        assert [r["id"] for r in rows] == [credit.pk], number
    assert ok(api("credit.details.list", world.token, {**win, "number": "99999"}))["credits"] == []
