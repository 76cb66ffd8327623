"""Hard goods through web-order-item.add (inventoryOrigin 5): the answer's shape; the rules
are sales.hardgood_lines'."""

from stemline.api.schemas import Number, Out
from stemline.core.errors import Invalid
from stemline.hardgoods import services as hard_goods

from . import hardgood_lines
from .models import WebOrder


class HardGoodLineOut(Out):
    webOrderItemId: int
    productId: int
    sku: str
    product: str
    quantity: int
    price: Number
    amount: Number


def lines_of(order: WebOrder) -> list[dict]:
    """The order's hard goods: held while it is pending, on its invoice once checked out."""
    if order.status == WebOrder.Status.PENDING:
        sales = hard_goods.sales_on(order.company_id, "web_order", order.pk)
    elif getattr(order, "invoice", None) is not None:
        sales = hard_goods.sales_on(order.company_id, "invoice", order.invoice.pk)
    else:
        return []
    return [
        {
            "webOrderItemId": sale.pk,
            "productId": sale.product_id,
            "sku": sale.product.sku,
            "product": sale.product.description,
            "quantity": sale.quantity,
            "price": sale.unit_price,
            "amount": sale.amount,
        }
        for sale in sales
    ]


def web_order_item_add(call, p, customer_id: int) -> dict:
    if not p.inventoryIds:
        raise Invalid("required: the hard goods' productIds", field="inventoryIds")
    if p.productCode or p.companyProductId:
        raise Invalid("hard goods are ordered by inventoryIds", field="productCode")
    order, sales = hardgood_lines.add_to_web_order(
        company=call.company,
        customer_id=customer_id,
        product_ids=p.inventoryIds,
        quantity=p.quantity,
        location_id=p.companyLocationId,
        web_order_id=p.webOrderId,
        price=p.price,
        token=call.token,
    )
    ids = [sale.pk for sale in sales]
    return {
        "message": "Item was successfully added to the order Item was successfully added.",
        "webOrderId": order.pk,
        "webOrderItemId": ids[0],
        "webOrderItemIds": ids,
    }
