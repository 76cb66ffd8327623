"""Hard goods through web-order-item.add (inventoryOrigin 5): the answer's shape; the rules
are sales.hardgood_lines'."""

from stemline.core.errors import Invalid

from . import hardgood_lines


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
