"""Clerks racing on PostgreSQL: two applying the same payment, several paying one invoice,
two credits on one invoice line, a void against a payment. Nothing is applied beyond a
payment's money or an invoice's open amount, nothing credited beyond the line, no deadlock."""

import threading
import traceback
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections
from django.db.models import Sum

from stemline.core.errors import DomainError
from stemline.money import queries, services
from stemline.money.models import CreditLine, Payment, Receivable
from stemline.money.services import ApplyRequest, CreditLineRequest
from stemline.sales import invoicing
from stemline.sales import models as invoicing_models
from stemline.sales import services as sales_services

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="row locks and concurrent writers need PostgreSQL (DATABASE_URL=postgres://...)",
    ),
]
D = Decimal
JOIN_SECONDS = 60


def race(works):
    """Run the callables at once, each in its own thread and connection; their outcomes."""
    start = threading.Barrier(len(works))
    outcomes, errors = [None] * len(works), []

    def body(i, work):
        try:
            start.wait()
            outcomes[i] = ("ok", work())
        except DomainError as exc:
            outcomes[i] = (type(exc).__name__, exc.message)
        except BaseException:
            errors.append(traceback.format_exc())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
    assert not any(t.is_alive() for t in threads), "a clerk hung (lock wait never ended)"
    assert errors == [], "\n".join(errors)
    return outcomes


def test_two_clerks_applying_the_same_payment(books):
    for _ in range(3):
        a, b = books.invoice(1), books.invoice(1)  # 125.00 each
        payment = services.receive_payment(
            company=books.company,
            customer=books.customer,
            location=books.location,
            method=books.check,
            day=a.ship_date,
            applications=[],
            amount=D("100.00"),
        )

        def clerk(invoice, payment=payment):
            return lambda: services.apply_payment(
                company=books.company,
                payment_id=payment.pk,
                applications=[ApplyRequest(invoice.pk, D("80.00"))],
            )

        outcomes = race([clerk(a), clerk(b)])
        assert sorted(o[0] for o in outcomes) == ["Conflict", "ok"], outcomes
        payment.refresh_from_db()
        assert payment.applied == D("80.00")
        settled = Receivable.objects.filter(invoice__in=[a, b]).aggregate(s=Sum("paid"))["s"]
        assert settled == D("80.00")


def test_clerks_paying_one_invoice_never_overpay_it(books):
    invoice = books.invoice(2)  # 250.00

    def clerk():
        return services.receive_payment(
            company=books.company,
            customer=books.customer,
            location=books.location,
            method=books.check,
            day=invoice.ship_date,
            applications=[ApplyRequest(invoice.pk, D("100.00"))],
        )

    outcomes = race([clerk for _ in range(4)])
    assert [o[0] for o in outcomes].count("ok") == 2, outcomes
    rec = Receivable.objects.get(invoice=invoice)
    assert (rec.paid, rec.open_amount) == (D("200.00"), D("50.00"))
    assert Payment.objects.count() == 2
    # Control numbers stayed unique under the race.
    assert len(set(Payment.objects.values_list("control_number", flat=True))) == 2


def test_two_credits_on_one_line_never_exceed_it(books):
    invoice = books.invoice(1)  # one box of 250 stems
    item = invoice.items.get()

    def clerk():
        return services.raise_credit(
            company=books.company,
            invoice_id=invoice.pk,
            lines=[CreditLineRequest(item.pk, 150, books.damaged.pk, "UN")],
        )

    outcomes = race([clerk, clerk])
    assert sorted(o[0] for o in outcomes) == ["Conflict", "ok"], outcomes
    assert CreditLine.objects.filter(invoice_item=item).aggregate(s=Sum("units"))["s"] == 150
    # Approving while another clerk raises the rest: still within the line.
    (credit,) = [o[1] for o in outcomes if o[0] == "ok"]
    outcomes = race(
        [
            lambda: services.approve_credit(company=books.company, credit_id=credit.pk),
            lambda: services.raise_credit(
                company=books.company,
                invoice_id=invoice.pk,
                lines=[CreditLineRequest(item.pk, 100, books.damaged.pk, "UN")],
            ),
        ]
    )
    assert [o[0] for o in outcomes] == ["ok", "ok"], outcomes
    assert CreditLine.objects.filter(invoice_item=item).aggregate(s=Sum("units"))["s"] == 250
    assert queries.balance(books.company.pk, books.customer.pk).balance == D("50.00")


def test_void_and_payment_racing_on_one_invoice(books):
    for _ in range(3):
        invoice = books.invoice(1)
        outcomes = race(
            [
                lambda invoice=invoice: invoicing.void(
                    company=books.company, invoice_id=invoice.pk, reason="x"
                ),
                lambda invoice=invoice: services.receive_payment(
                    company=books.company,
                    customer=books.customer,
                    location=books.location,
                    method=books.check,
                    day=invoice.ship_date,
                    applications=[ApplyRequest(invoice.pk, D("125.00"))],
                ),
            ]
        )
        kinds = [o[0] for o in outcomes]
        assert kinds.count("ok") == 1 and kinds.count("Conflict") == 1, outcomes
        rec = Receivable.objects.get(invoice=invoice)
        assert rec.open_amount == 0 and rec.total in (0, D("125.00"))
        assert queries.balance(books.company.pk, books.customer.pk).balance == (
            queries.ledger_balance(books.company.pk, books.customer.pk)
        )


def test_two_orders_at_once_cannot_both_pass_the_credit_limit(books):
    """The company confirms API orders itself; the customer may owe 200.00. Two web orders of
    125.00 check out at the same moment: one is confirmed, the other waits for a sales rep
    with the reason, never both confirmed."""
    from stemline.core.models import Company
    from stemline.parties.models import Customer
    from stemline.sales.models import DocumentStatus

    Company.objects.filter(pk=books.company.pk).update(auto_confirm=True)
    Customer.objects.filter(pk=books.customer.pk).update(credit_limit=D("200.00"))
    orders = []
    # Each order on a line of its own, so nothing but the customer's row orders the two.
    for line in (books.line, books.s.add(100)):
        result = sales_services.add_items(
            company=books.company,
            customer_id=books.customer.pk,
            requests=[sales_services.ItemRequest(inventory_id=line.pk, quantity=1)],
            origin=1,
            web_order_id=sales_services.create_web_order(
                company=books.company, customer_id=books.customer.pk, location_id=None
            ).pk,
        )
        orders.append(result.web_order.pk)

    def check_out(order_id):
        return lambda: (
            sales_services.checkout(
                company=books.company, customer_id=books.customer.pk, web_order_id=order_id
            ).invoice.pk
        )

    outcomes = race([check_out(o) for o in orders])
    assert [o[0] for o in outcomes] == ["ok", "ok"]
    invoices = [invoicing_models.Invoice.objects.get(pk=o[1]) for o in outcomes]
    confirmed = [i for i in invoices if i.status == DocumentStatus.CONFIRMED]
    waiting = [i for i in invoices if i.status != DocumentStatus.CONFIRMED]
    assert len(confirmed) == 1 and len(waiting) == 1
    assert waiting[0].hold_reason.startswith("Over credit limit")
