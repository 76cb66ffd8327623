"""The hard goods card of an invoice's page (sales.hardgood_lines keeps them beside the boxes)."""

from decimal import Decimal

from django import template

from stemline.hardgoods import queries
from stemline.sales import hardgood_lines

register = template.Library()


@register.inclusion_tag("web/desk/_hard_goods.html", takes_context=True)
def hard_goods_card(context, invoice, editable):
    sales = hardgood_lines.on_invoice(invoice)
    choices = queries.stock(invoice.company, location_id=invoice.location_id) if editable else []
    return {
        "csrf_token": context.get("csrf_token"),
        "invoice": invoice,
        "sales": sales,
        "amount": sum((s.amount for s in sales), Decimal("0")),
        "editable": editable,
        "choices": choices,
    }
