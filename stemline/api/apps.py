"""The API gateway: method registry, authentication, envelope, errors, OpenAPI."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class ApiConfig(AppConfig):
    name = "stemline.api"
    label = "api"

    def ready(self) -> None:
        # Every domain app declares its methods in its own `api.py`; importing them fills the
        # registry, which is then frozen.
        autodiscover_modules("api")
        from .registry import registry

        registry.freeze()
