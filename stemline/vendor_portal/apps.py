"""The growers' web application: a vendor's purchase orders and its API token."""

from django.apps import AppConfig


class VendorPortalConfig(AppConfig):
    name = "stemline.vendor_portal"
    label = "vendor_portal"
