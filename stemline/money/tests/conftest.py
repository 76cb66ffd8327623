"""Fixtures of the money tests: confirmed invoices to pay and credit."""

from decimal import Decimal

import pytest

from stemline.inventory import services as stock
from stemline.money.models import CreditReason
from stemline.parties.models import PaymentMethod
from stemline.sales import invoicing
from stemline.sales import services as sales


class Books:
    def __init__(self, stocked):
        self.s = stocked
        self.company = stocked.company
        self.customer = stocked.florist
        self.location = stocked.location
        self.check = PaymentMethod.objects.get(company=self.company, name="Check")
        self.damaged = CreditReason.objects.get(company=self.company, name="Damaged")
        self.line = stocked.add(100)

    def invoice(self, boxes=2, price="0.500", customer=None, confirm=True):
        """A confirmed invoice of `boxes` boxes (250 stems each) at `price` a stem."""
        self.line.refresh_from_db()
        if self.line.available < boxes:
            self.line = self.s.add(100)
        invoice, items = invoicing.create_invoice(
            company=self.company,
            customer=customer or self.customer,
            location=self.location,
            ship_date=stock.today(),
            lines=[
                invoicing.LineRequest(boxes=boxes, price=Decimal(price), inventory_id=self.line.pk)
            ],
            via_api=False,
        )
        if confirm:
            invoice = sales.confirm_invoice(company=self.company, invoice_id=invoice.pk)
        invoice.refresh_from_db()
        return invoice


@pytest.fixture
def books(stocked):
    return Books(stocked)
