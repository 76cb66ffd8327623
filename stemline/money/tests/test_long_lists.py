"""payment.list, credit.details.list and invoice.accounting.details.list as long lists (issue 17
item 4): pages with a total, every document once in date order with ties broken by id, bad
paging refused by field, a long answer streamed with the same rows, the same queries for a
page of one or of all, the old cap on an unpaged answer, and another company's token seeing
none."""

from decimal import Decimal

import pytest

from stemline.api.tests.paging import check_other_company_sees_none, check_paging, ok
from stemline.money import api as money_api
from stemline.money import services
from stemline.money.models import CreditStatus
from stemline.money.services import ApplyRequest, CreditLineRequest
from stemline.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(books, make_token):
    issued = make_token(books.company)
    ApiToken.objects.filter(pk=issued.token.pk).update(rate_per_second=10_000, rate_burst=10_000)
    return issued


@pytest.fixture
def invoices(books):
    """Five confirmed invoices of one ship date (ties on the date) and one pending."""
    made = [books.invoice(1 + n % 2) for n in range(5)]
    made.append(books.invoice(1, confirm=False))
    return made


def _window(invoices) -> dict:
    day = str(invoices[0].ship_date)
    return {"orderDateFrom": day, "orderDateTo": day}


def test_invoice_accounting_details_list_pages(api, books, token, invoices, monkeypatch):
    services.receive_payment(
        company=books.company,
        customer=books.customer,
        location=books.location,
        method=books.check,
        day=invoices[0].ship_date,
        applications=[ApplyRequest(invoices[0].pk, Decimal("100"))],
    )
    docs = check_paging(
        api,
        token,
        "invoice.accounting.details.list",
        _window(invoices),
        "invoices",
        count=6,
        module=money_api,
        monkeypatch=monkeypatch,
    )
    assert [d["id"] for d in docs] == sorted(i.pk for i in invoices)
    first, pending = docs[0], docs[-1]
    assert (first["paid"], first["openAmount"], first["total"]) == (100.0, 25.0, 125.0)
    assert first["dueDate"] is not None and pending["dueDate"] is None
    assert (pending["status"], pending["openAmount"]) == (0, 0.0)


def test_payment_list_pages(api, books, token, invoices, monkeypatch):
    for n, invoice in enumerate(invoices[:5]):
        payment = services.receive_payment(
            company=books.company,
            customer=books.customer,
            location=books.location,
            method=books.check,
            day=invoice.ship_date,
            applications=[ApplyRequest(invoice.pk, Decimal("20"), Decimal("1"))],
            amount=Decimal("50"),
            reference_number=f"CHK {n}",
        )
    services.void_payment(company=books.company, payment_id=payment.pk, reason="bounced")
    where = {"customerId": books.customer.pk}
    docs = check_paging(
        api,
        token,
        "payment.list",
        where,
        "payments",
        count=5,
        module=money_api,
        monkeypatch=monkeypatch,
    )
    assert [d["referenceNumber"] for d in docs] == [f"CHK {n}" for n in range(5)]
    first, voided = docs[0], docs[-1]
    assert (first["totalPayment"], first["applied"], first["unapplied"]) == (50.0, 20.0, 30.0)
    assert first["invoices"] == [
        {
            "invoiceId": invoices[0].pk,
            "invoiceNumber": invoices[0].number,
            "amount": 20.0,
            "discount": 1.0,
            "voided": 0,
        }
    ]
    assert (voided["status"], voided["unapplied"], voided["invoices"][0]["voided"]) == (
        "Voided",
        0.0,
        1,
    )
    # Paging alone is no filter.
    r = api("payment.list", token, {"page": 1}, verb="GET")
    assert r.status_code == 422 and r.json_body["errors"][0]["field"] == "dateFrom"
    # Unpaged, at most MAX_LIST_ROWS, as before; pages reach them all.
    monkeypatch.setattr(money_api, "MAX_LIST_ROWS", 3)
    assert ok(api("payment.list", token, where, verb="GET"))["payments"] == docs[:3]
    assert (
        ok(api("payment.list", token, {**where, "page": 2, "rows": 3}, verb="GET"))["payments"]
        == docs[3:]
    )


def test_credit_details_list_pages(api, books, token, invoices, monkeypatch):
    for n, invoice in enumerate(invoices[:5]):
        credit = services.raise_credit(
            company=books.company,
            invoice_id=invoice.pk,
            lines=[CreditLineRequest(invoice.items.get().pk, 1, books.damaged.pk, "box")],
            comment=f"crushed box {n}",
        )
        if n == 1:
            services.approve_credit(company=books.company, credit_id=credit.pk)
    day = str(invoices[0].ship_date)
    where = {"creditDateFrom": day, "creditDateTo": day, "itemType": "box"}
    docs = check_paging(
        api,
        token,
        "credit.details.list",
        where,
        "credits",
        count=5,
        module=money_api,
        monkeypatch=monkeypatch,
        verb="POST",
    )
    assert [d["comments"][0]["comment"] for d in docs] == [f"crushed box {n}" for n in range(5)]
    second = docs[1]
    assert second["status"] == CreditStatus.APPROVED and second["totalCredit"] == 125.0
    assert second["openCredit"] == second["totalCredit"] - second["appliedToInvoice"]
    assert second["totalBoxesOrder"] == 2 and second["totalOrder"] == 250.0
    [line] = second["details"]
    assert line["growerName"] == "Rosas del Monte" and line["awb"] == "369-12345675"
    assert (line["quantityBoxes"], line["flowerSales"], line["creditReasons"]) == (
        2,
        250.0,
        "Damaged",
    )
    units = ok(api("credit.details.list", token, {**where, "itemType": "UN", "page": 1}))
    assert units["credits"] == [] and units["total"] == 0


def test_another_company_sees_none_of_them(api, books, invoices, other_company, make_token):
    services.receive_payment(
        company=books.company,
        customer=books.customer,
        location=books.location,
        method=books.check,
        day=invoices[0].ship_date,
        applications=[ApplyRequest(invoices[0].pk, Decimal("10"))],
    )
    other = make_token(other_company)
    window = _window(invoices)
    check_other_company_sees_none(api, other, "invoice.accounting.details.list", window, "invoices")
    check_other_company_sees_none(
        api, other, "payment.list", {"dateFrom": window["orderDateFrom"]}, "payments"
    )
