"""Companies, locations, users and roles."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "stemline.core"
    label = "core"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the deploy checks)
            outage,  # noqa: F401  (notices when the database is reachable again)
            timestamps,  # noqa: F401  (time stamps parsed in C on PostgreSQL)
        )
