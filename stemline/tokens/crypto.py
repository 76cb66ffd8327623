"""Token secrets: generated, hashed for look-up and encrypted for display, with a key kept
outside the database (STEMLINE_TOKEN_KEY)."""

import base64
import hashlib
import hmac
import secrets
import string
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 40


def new_secret() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))


@lru_cache(maxsize=4)
def _subkey(master: str, purpose: str) -> bytes:
    return hmac.new(master.encode(), purpose.encode(), hashlib.sha256).digest()


def lookup_hash(secret: str) -> str:
    key = _subkey(settings.STEMLINE_TOKEN_KEY, "stemline-token-lookup")
    return hmac.digest(key, secret.encode(), "sha256").hex()


@lru_cache(maxsize=4)
def _fernet(master: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_subkey(master, "stemline-token-encrypt")))


def encrypt(secret: str) -> str:
    return _fernet(settings.STEMLINE_TOKEN_KEY).encrypt(secret.encode()).decode()


def decrypt(blob: str) -> str | None:
    """The secret, or None when the key changed since it was stored (reset the token)."""
    try:
        return _fernet(settings.STEMLINE_TOKEN_KEY).decrypt(blob.encode()).decode()
    except InvalidToken:
        return None
