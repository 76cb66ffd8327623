"""Settings for the test suite: the real settings, with static files served from the apps
and a fast password hasher."""

from .settings import *  # noqa: F403
from .settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The channel tests push to a simulator on 127.0.0.1; the SSRF tests turn this off.
ALLOW_PRIVATE_WEBHOOKS = True
# Every change reads the channels (the per-process cache is tested on its own), and the
# snapshot of connecting a channel is due at once.
CHANNELS_CACHE_SECONDS = 0.0
