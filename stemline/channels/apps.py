"""Marketplace channels: presets, the outbox of inventory changes, signed webhook delivery,
snapshots and the marketplace simulator."""

from django.apps import AppConfig


def stop_token_endpoint(token, why: str) -> None:
    """A revoked or reset token's webhook endpoint stops, and so do its queued deliveries: they
    were set up with the old secret (whoever holds the new one registers the endpoint again).
    Runs inside the revocation's transaction (tokens.services.on_token_stopped)."""
    from .models import Endpoint, Event

    ids = list(
        Endpoint.objects.select_for_update()
        .filter(token_id=token.pk, active=True)
        .values_list("pk", flat=True)
    )
    if not ids:
        return
    Endpoint.objects.filter(pk__in=ids).update(active=False, kicked=False)
    Event.objects.filter(endpoint_id__in=ids, status=Event.Status.PENDING).update(
        status=Event.Status.FAILED, last_error=f"not sent: the token was {why}"
    )


class ChannelsConfig(AppConfig):
    name = "stemline.channels"
    label = "channels"

    def ready(self):
        from stemline.inventory.services import on_change, on_confirmation
        from stemline.sales.services import on_customer_channel
        from stemline.tokens.services import on_token_stopped

        from . import outbox, services

        on_token_stopped(stop_token_endpoint)
        # The channels a change is told to are cached per process (outbox.ChannelCache):
        # whatever they are made of forgets the company's entry when it is saved or deleted.
        from django.db.models.signals import post_delete, post_save

        from stemline.core.models import Company
        from stemline.parties.models import Customer

        from .models import Channel, Endpoint

        def forget(sender, instance, **kwargs):
            outbox.channels_changed(instance.pk if sender is Company else instance.company_id)

        for model in (Channel, Endpoint, Customer, Company):
            post_save.connect(forget, sender=model, weak=False, dispatch_uid=f"chc-{model}")
            post_delete.connect(forget, sender=model, weak=False, dispatch_uid=f"chd-{model}")
        # Every inventory change reaches the channels' outbox in its own transaction.
        on_change(outbox.inventory_changed, rows_for=outbox.has_channels)
        on_confirmation(outbox.confirmation)
        # A marketplace's orders: its fee rate, hoarding limits and what its feed shows.
        on_customer_channel(services.channel_for_customer, services.check_channel_quantities)
        # Hard goods too, when the company offers them to channels (issue 14).
        from stemline.hardgoods.services import on_change as on_hard_good_change

        from .hardgoods import hard_good_changed

        on_hard_good_change(hard_good_changed)
