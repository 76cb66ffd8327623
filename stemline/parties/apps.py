"""Customers and their ship-tos, vendors (growers), carriers."""

from django.apps import AppConfig
from django.db.models.signals import post_save


def _seed_new_company(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import seed_company

        seed_company(company=instance)


class PartiesConfig(AppConfig):
    name = "stemline.parties"
    label = "parties"

    def ready(self) -> None:
        from stemline.core.models import Company

        # A new company gets the standard payment methods and additional charges in the
        # transaction that creates it (core knows nothing of parties).
        post_save.connect(_seed_new_company, sender=Company, dispatch_uid="parties.seed_company")
