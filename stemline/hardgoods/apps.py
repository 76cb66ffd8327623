"""Hard goods: products from hard-goods vendors, their stock in units per location, sales."""

from django.apps import AppConfig


class HardGoodsConfig(AppConfig):
    name = "stemline.hardgoods"
    label = "hardgoods"

    def ready(self):
        from stemline.inventory.services import on_shop_list

        from .queries import shop_rows

        # The e-commerce catalogue shows hard goods when the company chooses.
        on_shop_list(shop_rows)
