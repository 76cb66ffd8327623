"""Inventory lines, their quantities, holds and the change feed."""

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "stemline.inventory"
    label = "inventory"
