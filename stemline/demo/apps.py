"""Demo data for a wholesaler to recognise."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "stemline.demo"
    label = "demo"
