"""Purchasing and growers: purchase orders, AWBs, boxes, receiving and vendor invoices."""

from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "stemline.purchasing"
    label = "purchasing"
