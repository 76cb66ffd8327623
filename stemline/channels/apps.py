"""Marketplace channels: presets, the outbox of inventory changes, signed webhook delivery,
snapshots and the marketplace simulator."""

from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "stemline.channels"
    label = "channels"
