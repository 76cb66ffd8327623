"""The ledger's services: receivables follow invoices, payments apply within bounds, voids
reopen, credits stay within what was invoiced, the balance is what the ledger says."""

from datetime import timedelta
from decimal import Decimal

import pytest

from stemline.core.errors import Conflict, Invalid
from stemline.money import queries, services
from stemline.money.models import CreditStatus, Receivable, VendorCredit
from stemline.money.services import ApplyRequest, CreditLineRequest
from stemline.sales import invoicing

D = Decimal


def pay(books, amount, *apps, **kw):
    return services.receive_payment(
        company=books.company,
        customer=kw.pop("customer", books.customer),
        location=books.location,
        method=books.check,
        day=kw.pop("day", books.line.created_at.date()),
        amount=D(amount) if amount is not None else None,
        applications=[ApplyRequest(inv.pk, D(a), D(d)) for inv, a, d in apps],
        **kw,
    )


def bal(books):
    return queries.balance(books.company.pk, books.customer.pk).balance


def test_confirmed_invoice_gets_due_date_from_terms_and_open_amount(books):
    books.customer.terms = "Net 15"
    books.customer.save()
    invoice = books.invoice(2)
    rec = Receivable.objects.get(invoice=invoice)
    assert rec.total == invoice.total == D("250.00")
    assert rec.open_amount == D("250.00")
    assert rec.due_date == invoice.ship_date + timedelta(days=15)
    assert services.terms_days("COD") == 0 and services.terms_days("Prepaid") == 0
    assert services.terms_days("") == 30 and services.terms_days("net 45 days") == 45


def test_a_customer_without_terms_pays_on_the_companys_default_terms(books):
    from stemline.core.models import Company

    Company.objects.filter(pk=books.company.pk).update(default_terms="Net 7")
    books.customer.terms = ""
    books.customer.save()
    invoice = books.invoice(1)
    assert Receivable.objects.get(invoice=invoice).due_date == invoice.ship_date + timedelta(days=7)


def test_pending_invoice_owes_nothing_and_voiding_an_unpaid_one_clears_it(books):
    pending = books.invoice(1, confirm=False)
    assert not Receivable.objects.filter(invoice=pending).exists()
    invoice = books.invoice(1)
    assert bal(books) == D("125.00")
    invoicing.void(company=books.company, invoice_id=invoice.pk, reason="wrong customer")
    assert bal(books) == 0


def test_payment_over_two_invoices_with_discount_and_overpayment(books):
    a, b = books.invoice(2), books.invoice(1)
    payment = pay(books, "400.00", (a, "245.00", "5.00"), (b, "100.00", "0"))
    assert payment.applied == D("345.00")
    assert Receivable.objects.get(invoice=a).open_amount == 0
    assert Receivable.objects.get(invoice=b).open_amount == D("25.00")
    got = queries.balance(books.company.pk, books.customer.pk)
    assert got.unapplied_payments == D("55.00")
    assert got.balance == D("-30.00") == queries.ledger_balance(books.company.pk, books.customer.pk)
    # The overpayment applied later to the rest of b.
    services.apply_payment(
        company=books.company, payment_id=payment.pk, applications=[ApplyRequest(b.pk, D("25"))]
    )
    assert Receivable.objects.get(invoice=b).open_amount == 0
    assert bal(books) == D("-30.00")


def test_applications_never_exceed_the_invoice_or_the_payment(books):
    a = books.invoice(1)
    with pytest.raises(Conflict, match="open amount"):
        pay(books, "200", (a, "126.00", "0"))
    with pytest.raises(Invalid) as e:
        pay(books, "100", (a, "120.00", "0"))
    assert e.value.field == "totalPayment"
    p = pay(books, "50", (a, "50", "0"))
    with pytest.raises(Conflict, match="left to apply"):
        services.apply_payment(
            company=books.company, payment_id=p.pk, applications=[ApplyRequest(a.pk, D("1"))]
        )
    assert Receivable.objects.get(invoice=a).open_amount == D("75.00")


def test_void_reopens_invoices_and_a_paid_invoice_cannot_be_voided(books):
    a = books.invoice(1)
    p = pay(books, "125", (a, "125", "0"))
    with pytest.raises(Conflict, match="payments or credits"):
        invoicing.void(company=books.company, invoice_id=a.pk, reason="x")
    services.void_payment(company=books.company, payment_id=p.pk, reason="bounced check")
    assert Receivable.objects.get(invoice=a).open_amount == D("125.00")
    assert bal(books) == D("125.00")
    with pytest.raises(Conflict, match="already voided"):
        services.void_payment(company=books.company, payment_id=p.pk)


def test_credit_counts_only_when_approved_and_never_exceeds_the_line(books):
    a = books.invoice(2)
    item = a.items.get()
    credit = services.raise_credit(
        company=books.company,
        invoice_id=a.pk,
        lines=[CreditLineRequest(item.pk, 1, books.damaged.pk, "box")],
        comment="one box crushed",
    )
    assert credit.amount == D("125.00") and credit.status == CreditStatus.NEW
    assert bal(books) == D("250.00")
    with pytest.raises(Conflict, match="left to credit"):
        services.raise_credit(
            company=books.company,
            invoice_id=a.pk,
            lines=[CreditLineRequest(item.pk, 251, books.damaged.pk, "UN")],
        )
    services.submit_credit(company=books.company, credit_id=credit.pk)
    services.approve_credit(company=books.company, credit_id=credit.pk)
    assert bal(books) == D("125.00")
    # Boxes of the grower's AWB: the grower is credited at cost (250 stems x 0.300).
    vc = VendorCredit.objects.get()
    assert (vc.vendor_id, vc.awb, vc.amount) == (books.s.vendor.pk, "369-12345675", D("75.00"))
    with pytest.raises(Conflict, match="cannot be approved"):
        services.approve_credit(company=books.company, credit_id=credit.pk)


def test_rejected_credit_frees_the_line_and_resubmitting_must_still_fit(books):
    a = books.invoice(1)
    item = a.items.get()
    first = services.raise_credit(
        company=books.company,
        invoice_id=a.pk,
        lines=[CreditLineRequest(item.pk, 1, books.damaged.pk, "box")],
    )
    services.reject_credit(company=books.company, credit_id=first.pk, comment="no photo")
    second = services.raise_credit(
        company=books.company,
        invoice_id=a.pk,
        lines=[CreditLineRequest(item.pk, 100, books.damaged.pk, "UN")],
    )
    assert second.amount == D("50.00")
    with pytest.raises(Conflict, match="left to credit"):
        services.resubmit_credit(company=books.company, credit_id=first.pk)


def test_credit_on_a_paid_invoice_stays_on_account_and_opening_balances(books):
    a = books.invoice(1)
    pay(books, "125", (a, "125", "0"))
    credit = services.raise_credit(
        company=books.company,
        invoice_id=a.pk,
        lines=[CreditLineRequest(a.items.get().pk, 10, books.damaged.pk, "UN")],
    )
    services.approve_credit(company=books.company, credit_id=credit.pk)
    credit.refresh_from_db()
    assert credit.applied == 0 and credit.open_amount == D("5.00")
    services.load_opening_credits(
        company=books.company,
        customer=books.customer,
        location=books.location,
        balances=[(a.ship_date, D("20.00"))],
    )
    assert bal(books) == D("-25.00")
    b = books.invoice(1)
    services.apply_credit(
        company=books.company, credit_id=credit.pk, applications=[ApplyRequest(b.pk, D("5"))]
    )
    assert Receivable.objects.get(invoice=b).open_amount == D("120.00")
    assert bal(books) == D("100.00") == queries.ledger_balance(books.company.pk, books.customer.pk)


def test_aging_buckets_and_statement(books):
    books.customer.terms = "COD"
    books.customer.save()
    a, b = books.invoice(1), books.invoice(2)
    Receivable.objects.filter(invoice=a).update(due_date=a.ship_date - timedelta(days=45))
    pay(books, "300", (b, "250", "0"))
    report = queries.aging(books.company, a.ship_date)
    row = report.rows[0]
    assert (row.current, row.d31_60, row.unapplied, row.balance) == (
        0,
        D("125.00"),
        D("50.00"),
        D("75.00"),
    )
    assert report.totals.balance == D("75.00")
    st = queries.statement(books.company, books.customer, day=a.ship_date)
    assert [li.kind for li in st.lines] == ["Invoice", "Payment"]
    assert st.closing == D("75.00")
    act = queries.statement(
        books.company,
        books.customer,
        day=a.ship_date,
        mode="activity",
        start=a.ship_date,
        end=a.ship_date,
    )
    assert act.opening == 0 and act.closing == D("75.00")
    assert [li.kind for li in act.lines] == ["Invoice", "Invoice", "Payment"]


def test_hold_and_credit_limit_reasons(books):
    assert services.credit_problem(books.customer) == ""
    books.invoice(1)
    books.customer.credit_limit = D("100")
    assert "Over credit limit" in services.credit_problem(books.customer)
    books.customer.credit_hold = True
    assert services.credit_problem(books.customer) == "Customer is on credit hold"


def test_standalone_credit_on_an_additional_charge_stays_within_it(books):
    from stemline.parties.models import AdditionalCharge

    AdditionalCharge.objects.filter(company=books.company, code="FS").update(default_value=10)
    books.customer.charge_fuel_surcharge = True
    books.customer.save()
    invoice = books.invoice(1)
    assert invoice.total == D("135.00")
    charge = invoice.charges.get()
    credit = services.raise_credit(
        company=books.company,
        invoice_id=invoice.pk,
        lines=[],
        charge_id=charge.pk,
        charge_amount=D("6.00"),
    )
    assert credit.amount == D("6.00") and credit.charge_id == charge.pk
    with pytest.raises(Conflict, match="4.00 left to credit"):
        services.raise_credit(
            company=books.company,
            invoice_id=invoice.pk,
            lines=[],
            charge_id=charge.pk,
            charge_amount=D("5.00"),
        )
    services.approve_credit(company=books.company, credit_id=credit.pk)
    assert bal(books) == D("129.00")


def test_a_confirmed_invoice_edited_moves_its_receivable_but_not_below_what_is_settled(books):
    invoice = books.invoice(2)
    item = invoice.items.get()
    pay(books, "200", (invoice, "200", "0"))
    invoicing.update_item(
        company=books.company, invoice_id=invoice.pk, item_id=item.pk, price=D("0.45")
    )
    assert Receivable.objects.get(invoice=invoice).open_amount == D("25.00")
    with pytest.raises(Conflict, match="cannot go below"):
        invoicing.update_item(
            company=books.company, invoice_id=invoice.pk, item_id=item.pk, price=D("0.3")
        )
