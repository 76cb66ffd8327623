"""The money side: receivables, payments, credits, statements and the accounting export."""

from django.apps import AppConfig
from django.db.models.signals import post_save


def _seed_new_company(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import seed_company

        seed_company(company=instance)


class MoneyConfig(AppConfig):
    name = "stemline.money"
    label = "money"

    def ready(self) -> None:
        from stemline.core.models import Company
        from stemline.sales import services as sales

        from . import services

        post_save.connect(_seed_new_company, sender=Company, dispatch_uid="money.seed_company")
        # Every invoice change reaches the ledger in its own transaction (sales knows nothing
        # of money); orders of customers on hold or over their limit wait for a sales rep.
        sales.on_invoice_change(services.sync_invoice)
        sales.on_order_check(services.credit_problem)
