"""Vendor availability: what growers offer by date, sold as origin 3 and bought on POs."""

from django.apps import AppConfig


class AvailabilityConfig(AppConfig):
    name = "stemline.availability"
    label = "availability"

    def ready(self) -> None:
        from stemline.sales import services as sales

        from . import services

        # A prebook line sold from a grower's offer is bought from that grower in the same
        # transaction (sales imports nothing of this app).
        sales.on_prebook_change(services.source_prebook)
