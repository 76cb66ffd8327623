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
        from stemline.tokens.services import on_token_stopped

        from . import outbox

        on_token_stopped(stop_token_endpoint)
        # Every inventory change reaches the channels' outbox in its own transaction.
        on_change(outbox.inventory_changed)
        on_confirmation(outbox.confirmation)
        # Hard goods too, when the company offers them to channels (issue 14).
        from stemline.hardgoods.services import on_change as on_hard_good_change

        from .hardgoods import hard_good_changed

        on_hard_good_change(hard_good_changed)
