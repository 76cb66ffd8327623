"""Hard goods: products from hard-goods vendors, their stock in units per location, sales."""

from django.apps import AppConfig


class HardGoodsConfig(AppConfig):
    name = "stemline.hardgoods"
    label = "hardgoods"
