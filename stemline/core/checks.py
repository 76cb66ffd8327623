"""Deployment checks: `stemline check --deploy` refuses the development secrets."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secrets_are_set(app_configs, **kwargs):
    errors = []
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(Error("SECRET_KEY is not set in the environment.", id="stemline.E001"))
    if settings.STEMLINE_TOKEN_KEY == settings.DEV_TOKEN_KEY:
        errors.append(
            Error("STEMLINE_TOKEN_KEY is not set in the environment.", id="stemline.E002")
        )
    elif len(settings.STEMLINE_TOKEN_KEY) < 32:
        errors.append(
            Error("STEMLINE_TOKEN_KEY must be at least 32 characters.", id="stemline.E003")
        )
    return errors
