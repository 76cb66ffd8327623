"""Hard goods in the channels' feeds: when the company offers them (Setup > Hard goods), every
change of a hard good's stock or terms is one `hardgood.changed` event per active channel,
written in the change's own transaction, as boxes' changes are (outbox.inventory_changed)."""

from django.utils import timezone

from stemline.hardgoods import queries as hard_goods

from . import outbox
from .models import Channel


def _row(channel: Channel, stock_row) -> dict:
    product = stock_row.product
    return {
        "productId": product.pk,
        "sku": product.sku,
        "productDescription": product.description,
        "category": product.category.name,
        "subcategory": product.subcategory,
        "packSize": product.pack_size,
        "quantity": outbox.channel_quantity(channel, stock_row.available),
        "price": float(stock_row.unit_price),
        "discount": float(product.discount),
        "qtyForDiscount": product.qty_for_discount,
        "companyLocationId": stock_row.location.pk,
    }


def hard_good_changed(product, location_id: int | None, change: str) -> None:
    """Registered with hardgoods.services.on_change (channels' AppConfig.ready())."""
    if not hard_goods.shown_in_channels(product.company_id):
        return
    channels = list(
        Channel.objects.filter(
            company_id=product.company_id,
            active=True,
            endpoint__active=True,
            sells_hard_goods=True,
        )
        .select_related("customer")
        .order_by("endpoint_id")
    )
    if not channels:
        return
    rows = [
        r
        for r in hard_goods.stock(product.company, available_only=False, active_only=False)
        if r.product.pk == product.pk and (location_id is None or r.location.pk == location_id)
    ]
    for channel in channels:
        for stock_row in rows:
            if channel.location_id is not None and stock_row.location.pk != channel.location_id:
                continue
            row = _row(channel, stock_row) if stock_row.product.active else None
            outbox.append(
                channel.endpoint_id,
                product.company_id,
                "hardgood.changed",
                {
                    "channelId": channel.pk,
                    "at": timezone.now().isoformat(),
                    "change": change,
                    "productId": product.pk,
                    "available": row["quantity"] if row else 0,
                    "item": row,
                },
            )
