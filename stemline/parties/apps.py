"""Customers and their ship-tos, vendors (growers), carriers."""

from django.apps import AppConfig


class PartiesConfig(AppConfig):
    name = "stemline.parties"
    label = "parties"
