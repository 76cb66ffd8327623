"""API tokens and their grants."""

from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "stemline.tokens"
    label = "tokens"
