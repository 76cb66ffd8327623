"""Hard goods on invoices and web orders: units sold beside the boxes.

Kept apart from the boxes' paths (services.py, invoicing.py): the units and their lines live
in the hardgoods app (below sales); this module locks the sales document first, as every
writer of it does, and then asks hardgoods to take or give back the units."""

from decimal import Decimal

from django.db import transaction

from stemline.core.errors import Conflict, NotFound
from stemline.core.models import Company
from stemline.hardgoods import services as hard_goods
from stemline.hardgoods.models import HardGoodSale
from stemline.hardgoods.services import Wanted

from . import invoicing, services
from .models import Invoice, WebOrder

INVOICE = HardGoodSale.Document.INVOICE
WEB_ORDER = HardGoodSale.Document.WEB_ORDER


def on_invoice(invoice: Invoice) -> list[HardGoodSale]:
    """The hard goods sold on an invoice (for its page and its PDF)."""
    return list(hard_goods.sales_on(invoice.company_id, INVOICE, invoice.pk))


def on_web_order(order: WebOrder) -> list[HardGoodSale]:
    return list(hard_goods.sales_on(order.company_id, WEB_ORDER, order.pk))


def amount_on_invoice(invoice: Invoice) -> Decimal:
    return hard_goods.amount_on(invoice.company_id, INVOICE, invoice.pk)


@transaction.atomic
def add_to_invoice(
    *,
    company: Company,
    invoice_id: int,
    product_id: int,
    quantity: int,
    unit_price: Decimal | None = None,
) -> HardGoodSale:
    """Sell units of a hard good on an invoice (from its location's stock); the invoice's
    amount, fee and charges follow."""
    invoice = invoicing.lock_invoice(company, invoice_id)
    invoicing.editable(invoice, "changed")
    (sale,) = hard_goods.sell(
        company=company,
        location=invoice.location,
        wanted=[Wanted(product_id, quantity, unit_price)],
        invoice_id=invoice.pk,
    )
    invoicing.recompute(invoice)
    invoice.save(update_fields=["amount", "transaction_fee", "updated_at"])
    return sale


@transaction.atomic
def remove_from_invoice(*, company: Company, invoice_id: int, sale_id: int) -> None:
    """Take a hard-goods line off an invoice; its units go back to stock."""
    invoice = invoicing.lock_invoice(company, invoice_id)
    invoicing.editable(invoice, "changed")
    if not hard_goods.sales_on(company.pk, INVOICE, invoice.pk).filter(pk=sale_id).exists():
        raise NotFound(f"hard-goods line {sale_id} is not on this invoice", field="saleId")
    hard_goods.release_sale(company=company, sale_id=sale_id)
    invoicing.recompute(invoice)
    invoice.save(update_fields=["amount", "transaction_fee", "updated_at"])


@transaction.atomic
def add_to_web_order(
    *,
    company: Company,
    customer_id: int,
    product_ids: list[int],
    quantity: int,
    location_id: int | None = None,
    web_order_id: int | None = None,
    price: Decimal | None = None,
    token=None,
) -> tuple[WebOrder, list[HardGoodSale]]:
    """Hold units of hard goods in the customer's pending web order (found or made, and
    locked first, as every web-order write locks it); checkout sells them on its invoice.
    `price`, when sent, must be the unit price the customer would pay."""
    customer = services.customer_of(company, customer_id)
    location = services.location_of(company, location_id)
    order = services.pending_order(company, customer, location, web_order_id, token)
    wanted = [Wanted(pk, quantity) for pk in product_ids]
    sales = hard_goods.hold(
        company=company, location=order.location, wanted=wanted, web_order_id=order.pk
    )
    for sale in sales:
        if price is not None and price.quantize(Decimal("0.01")) != sale.unit_price:
            raise Conflict(
                f"hard good {sale.product.sku} sells at {sale.unit_price}, not {price}",
                field="price",
                price=float(sale.unit_price),
            )
    return order, sales


def release_web_order(order: WebOrder) -> None:
    """A web order canceled or expired: its held hard goods go back to stock."""
    hard_goods.release(company=order.company, document_kind=WEB_ORDER, document_id=order.pk)
