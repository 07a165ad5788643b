"""Encryption of personal fields at rest (identity numbers).

Values are encrypted with Fernet (AES-128-CBC + HMAC) and looked up by a keyed digest, so
the database, its backups and its logs never hold an identity number in clear text.
The key comes from ``FIELD_ENCRYPTION_KEY`` (production) or is derived from ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _material() -> bytes:
    key = settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY
    return key.encode()


@lru_cache(maxsize=4)
def _fernet(material: bytes) -> Fernet:
    derived = hashlib.sha256(b"linli-field-encryption:" + material).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(value: str) -> str:
    return _fernet(_material()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_material()).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key: never show the ciphertext instead
        raise ValueError("cannot decrypt field: wrong FIELD_ENCRYPTION_KEY") from exc


def digest(value: str) -> str:
    """A keyed digest for equality look-ups (duplicates) without storing the value."""
    return hmac.new(b"linli-field-digest:" + _material(), value.encode(), hashlib.sha256).hexdigest()
