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


@lru_cache(maxsize=4)
def _lookup_states(master: str):
    """HMAC-SHA256's inner and outer hash states for the lookup key, keyed once (RFC 2104):
    each look-up then hashes only the secret, a quarter of what keying HMAC each time costs."""
    block = _subkey(master, "stemline-token-lookup").ljust(64, b"\0")  # 32 bytes < a block
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer


def lookup_hash(secret: str) -> str:
    """HMAC-SHA256 of the secret under the lookup subkey (what the row's key_hash holds)."""
    inner_state, outer_state = _lookup_states(settings.STEMLINE_TOKEN_KEY)
    inner = inner_state.copy()
    inner.update(secret.encode())
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


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
