"""The additional charges and tax on an invoice: worked out from the customer's settings
(parties.queries.charges_for) on the lines' amount, wherever an invoice's amount is set, so
the PDF, the API's lists and the web pages show the same figures."""

from decimal import ROUND_HALF_UP, Decimal

from stemline.parties.models import AdditionalCharge, AmountType
from stemline.parties.queries import charges_for, charges_may_apply

from .models import Invoice, InvoiceCharge

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def amount_of(amount_type: str, value: Decimal, subtotal: Decimal) -> Decimal:
    """`%`: that percentage of the lines' amount; `$`: the amount itself (per invoice)."""
    if amount_type == AmountType.PERCENT:
        return (subtotal * value / HUNDRED).quantize(CENT, ROUND_HALF_UP)
    return value.quantize(CENT, ROUND_HALF_UP)


def apply(invoice: Invoice) -> None:
    """Replace the invoice's charges with the customer's current ones on `invoice.amount`,
    and write its `additional_charges` and `taxes`. The invoice row is locked by the caller."""
    InvoiceCharge.objects.filter(invoice=invoice).delete()
    InvoiceCharge.objects.bulk_create(worked_out(invoice))
    Invoice.objects.filter(pk=invoice.pk).update(
        additional_charges=invoice.additional_charges, taxes=invoice.taxes
    )


def worked_out(invoice: Invoice) -> list[InvoiceCharge]:
    """The customer's current charges on `invoice.amount`, not saved, with the invoice's
    `additional_charges` and `taxes` set to match (so a new invoice is inserted with them).

    An invoice without lines carries no charge (a fixed fuel surcharge on nothing is not
    owed); a charge that comes to 0.00 (a tax rate not set yet) is left off."""
    rows = []
    # charges_may_apply: none of the company's charges can apply, known from the customer's
    # own row (checkout reads it so), without reading them.
    if invoice.amount > 0 and charges_may_apply(invoice.customer):
        for applied in charges_for(invoice.customer):
            amount = amount_of(applied.amount_type, applied.value, invoice.amount)
            if amount <= 0:
                continue
            rows.append(
                InvoiceCharge(
                    company_id=invoice.company_id,
                    invoice=invoice,
                    charge_id=applied.charge_id,
                    code=applied.code,
                    name=applied.name,
                    purpose=applied.purpose,
                    amount_type=applied.amount_type,
                    value=applied.value,
                    amount=amount,
                )
            )
    tax = AdditionalCharge.Purpose.TAX
    invoice.additional_charges = sum((r.amount for r in rows if r.purpose != tax), Decimal("0"))
    invoice.taxes = sum((r.amount for r in rows if r.purpose == tax), Decimal("0"))
    return rows


def label(charge: InvoiceCharge) -> str:
    """How a charge is named on the PDF: "Sales Tax (7.00%)", "Fuel Surcharge"."""
    if charge.amount_type == AmountType.PERCENT:
        return f"{charge.name} ({charge.value:.2f}%)"
    return charge.name
