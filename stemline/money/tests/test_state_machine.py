"""Any sequence of invoices, invoice edits and voids, payments, applications, payment voids,
credits and their review, open credits and opening balances keeps the ledger's invariants
(hypothesis): every figure is what its documents say, nothing open goes negative, no line is
credited beyond what was invoiced, and each customer's balance is the same three ways."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from stemline.core.errors import DomainError
from stemline.money import queries, services
from stemline.money.models import (
    Application,
    Credit,
    CreditLine,
    CreditStatus,
    MoneyChange,
    Payment,
    Receivable,
)
from stemline.money.services import ApplyRequest, CreditLineRequest
from stemline.sales import invoicing
from stemline.sales.models import DocumentStatus, Invoice, InvoiceItem

pytestmark = pytest.mark.django_db
D = Decimal
CENT = D("0.01")
WRITTEN = [Receivable, Payment, Application, Credit, CreditLine, MoneyChange]


def snapshot():
    with connection.cursor() as cursor:
        rows = []
        for model in WRITTEN:
            cursor.execute(f"SELECT * FROM {model._meta.db_table} ORDER BY id")
            rows.append(cursor.fetchall())
    return rows


def test_every_sequence_keeps_the_ledger(books, stocked):
    company = books.company
    customers = [stocked.florist, stocked.market]
    fractions = st.sampled_from([D("0"), D("0.25"), D("0.5"), D("1"), D("1.2")])

    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = transaction.savepoint()
            # The balance each customer should have, kept apart from the ledger.
            self.expected = {c.pk: D("0.00") for c in customers}

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def attempt(self, write, **kw):
            """Run a write; a refusal must leave no trace in the ledger."""
            before = snapshot()
            try:
                with transaction.atomic():
                    return write(company=company, **kw)
            except DomainError:
                assert snapshot() == before
                return None

        def _open(self, customer_id=None):
            qs = Receivable.objects.filter(company=company, open_amount__gt=0)
            if customer_id:
                qs = qs.filter(customer_id=customer_id)
            return list(qs.order_by("pk"))

        @rule(
            who=st.integers(0, 1),
            boxes=st.integers(1, 2),
            price=st.sampled_from(["0.333", "0.5", "1"]),
        )
        def invoice(self, who, boxes, price):
            invoice = books.invoice(boxes, price, customer=customers[who])
            self.expected[invoice.customer_id] += invoice.total

        @rule(pick=st.integers(0, 50), price=st.sampled_from(["0.1", "0.4", "0.9"]))
        def reprice_line(self, pick, price):
            items = list(
                InvoiceItem.objects.filter(invoice__status=DocumentStatus.CONFIRMED).order_by("pk")
            )
            if not items:
                return
            item = items[pick % len(items)]
            before = Invoice.objects.get(pk=item.invoice_id).total
            done = self.attempt(
                invoicing.update_item, invoice_id=item.invoice_id, item_id=item.pk, price=D(price)
            )
            if done:
                after = Invoice.objects.get(pk=item.invoice_id).total
                self.expected[item.invoice.customer_id] += after - before

        @rule(pick=st.integers(0, 50))
        def void_invoice(self, pick):
            found = list(Invoice.objects.filter(status=DocumentStatus.CONFIRMED).order_by("pk"))
            if not found:
                return
            invoice = found[pick % len(found)]
            if self.attempt(invoicing.void, invoice_id=invoice.pk, reason="test"):
                self.expected[invoice.customer_id] -= invoice.total

        @rule(
            who=st.integers(0, 1),
            picks=st.lists(st.tuples(st.integers(0, 50), fractions, st.booleans()), max_size=3),
            extra=st.sampled_from([D("0"), D("10"), D("0.01")]),
        )
        def pay(self, who, picks, extra):
            customer = customers[who]
            open_ = self._open(customer.pk)
            apps = []
            for pick, fraction, discount in picks:
                if not open_:
                    break
                rec = open_[pick % len(open_)]
                amount = (rec.open_amount * fraction).quantize(CENT)
                disc = CENT if discount and amount > CENT else D("0")
                apps.append(ApplyRequest(rec.invoice_id, amount - disc, disc))
            total = sum((a.amount for a in apps), D("0")) + extra
            if total <= 0:
                total = D("5")
            done = self.attempt(
                services.receive_payment,
                customer=customer,
                location=books.location,
                method=books.check,
                day=books.a_day,
                applications=apps,
                amount=total,
            )
            if done:
                self.expected[customer.pk] -= total + sum((a.discount for a in apps), D("0"))

        @rule(pick=st.integers(0, 50), fraction=fractions)
        def apply_left(self, pick, fraction):
            pays = list(Payment.objects.filter(status="active").order_by("pk"))
            if not pays:
                return
            p = pays[pick % len(pays)]
            open_ = self._open(p.customer_id)
            if not open_:
                return
            rec = open_[pick % len(open_)]
            amount = ((p.amount - p.applied) * fraction).quantize(CENT)
            self.attempt(
                services.apply_payment,
                payment_id=p.pk,
                applications=[ApplyRequest(rec.invoice_id, amount)],
            )

        @rule(pick=st.integers(0, 50))
        def void_payment(self, pick):
            pays = list(Payment.objects.order_by("pk"))
            if not pays:
                return
            p = pays[pick % len(pays)]
            discounts = (
                p.applications.filter(voided_at__isnull=True).aggregate(s=Sum("discount"))["s"] or 0
            )
            if self.attempt(services.void_payment, payment_id=p.pk, reason="bounced"):
                self.expected[p.customer_id] += p.amount + discounts

        @rule(
            pick=st.integers(0, 50),
            units=st.sampled_from([1, 100, 250, 400]),
            boxes=st.booleans(),
            submit=st.booleans(),
        )
        def raise_credit(self, pick, units, boxes, submit):
            items = list(
                InvoiceItem.objects.filter(invoice__status=DocumentStatus.CONFIRMED).order_by("pk")
            )
            if not items:
                return
            item = items[pick % len(items)]
            self.attempt(
                services.raise_credit,
                invoice_id=item.invoice_id,
                lines=[
                    CreditLineRequest(
                        item.pk, 1 if boxes else units, books.damaged.pk, "box" if boxes else "UN"
                    )
                ],
                submit=submit,
            )

        @rule(
            pick=st.integers(0, 50),
            action=st.sampled_from(["approve", "reject", "resubmit", "submit"]),
        )
        def review(self, pick, action):
            credits = list(Credit.objects.filter(kind="memo").order_by("pk"))
            if not credits:
                return
            c = credits[pick % len(credits)]
            write = getattr(services, f"{action}_credit")
            if self.attempt(write, credit_id=c.pk) and action == "approve":
                self.expected[c.customer_id] -= c.amount

        @rule(pick=st.integers(0, 50), fraction=fractions)
        def apply_open_credit(self, pick, fraction):
            credits = [
                c
                for c in Credit.objects.filter(status=CreditStatus.APPROVED).order_by("pk")
                if c.amount > c.applied
            ]
            if not credits:
                return
            c = credits[pick % len(credits)]
            open_ = self._open(c.customer_id)
            if not open_:
                return
            amount = ((c.amount - c.applied) * fraction).quantize(CENT)
            self.attempt(
                services.apply_credit,
                credit_id=c.pk,
                applications=[ApplyRequest(open_[0].invoice_id, amount)],
            )

        @rule(who=st.integers(0, 1), amount=st.sampled_from(["0", "7.5", "100"]))
        def opening(self, who, amount):
            if self.attempt(
                services.load_opening_credits,
                customer=customers[who],
                location=books.location,
                balances=[(books.a_day, D(amount))],
            ):
                self.expected[customers[who].pk] -= D(amount)

        @invariant()
        def ledger_holds(self):
            for rec in Receivable.objects.filter(company=company).select_related("invoice"):
                owed = rec.invoice.total if rec.invoice.status == DocumentStatus.CONFIRMED else 0
                assert rec.total == owed
                assert rec.open_amount == rec.total - rec.paid - rec.credited >= 0
                paid = Application.objects.filter(
                    receivable=rec, payment__isnull=False, voided_at__isnull=True
                )
                agg = paid.aggregate(a=Sum("amount"), d=Sum("discount"))
                assert rec.paid == queries.cents(agg["a"]) + queries.cents(agg["d"])
            for p in Payment.objects.filter(company=company):
                applied = (
                    p.applications.filter(voided_at__isnull=True).aggregate(s=Sum("amount"))["s"]
                    or 0
                )
                assert p.applied == queries.cents(applied) <= p.amount
                if p.status == "voided":
                    assert applied == 0
            approved = Credit.objects.filter(company=company, status=CreditStatus.APPROVED)
            total_credited = (
                Receivable.objects.filter(company=company).aggregate(s=Sum("credited"))["s"] or 0
            )
            assert queries.cents(total_credited) == queries.cents(
                approved.aggregate(s=Sum("applied"))["s"]
            )
            for c in Credit.objects.filter(company=company):
                assert 0 <= c.applied <= c.amount
                if c.status != CreditStatus.APPROVED:
                    assert c.applied == 0
            live = CreditLine.objects.filter(credit__status__in=services.LIVE)
            for item in InvoiceItem.objects.filter(company=company):
                credited = live.filter(invoice_item=item).aggregate(s=Sum("units"))["s"] or 0
                assert credited <= item.boxes * item.units_per_box
            for c in customers:
                got = queries.balance(company.pk, c.pk).balance
                assert got == queries.ledger_balance(company.pk, c.pk) == self.expected[c.pk]

    books.a_day = books.line.created_at.date()
    run_state_machine_as_test(
        Ledger, settings=settings(max_examples=25, stateful_step_count=20, deadline=None)
    )
