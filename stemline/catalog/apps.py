"""Products, categories and box types."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "stemline.catalog"
    label = "catalog"
