"""Web orders, invoices, prebooks, transaction fees and confirmation."""

from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "stemline.sales"
    label = "sales"
