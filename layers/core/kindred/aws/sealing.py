"""The Sealer (AES-GCM) and the Salts (HMAC), keyed from the deployment's Secrets Manager secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_CONTEXT = b"kindred-queue-text-v1"
_SALT_CONTEXT = b"kindred-daily-salt-v1"


class AesGcmSealer:
    """Implements kindred.ports.Sealer; the secret is read once, on first use."""

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret

    @cached_property
    def _aead(self) -> AESGCM:
        key = hashlib.sha256(_CONTEXT + self._secret().encode()).digest()
        return AESGCM(key)

    def seal(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode(), _CONTEXT)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, sealed: str) -> str:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return self._aead.decrypt(raw[:12], raw[12:], _CONTEXT).decode()


class SecretSalts:
    """Implements kindred.ports.Salts: HMAC-SHA256 of the day under a key derived from the
    secret (a context of its own, so no salt is ever the sealing key); read once, on first use."""

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret
        self._salts: dict[str, bytes] = {}

    @cached_property
    def _key(self) -> bytes:
        return hashlib.sha256(_SALT_CONTEXT + self._secret().encode()).digest()

    def daily_salt(self, day: str) -> bytes:
        if day not in self._salts:
            self._salts = {day: hmac.new(self._key, day.encode(), hashlib.sha256).digest()}
        return self._salts[day]


def secret_reader(client: Callable[[], Any], secret_arn: str) -> Callable[[], str]:
    """A callable that fetches the sealing secret (one GetSecretValue per cold start)."""

    def read() -> str:
        return str(client().get_secret_value(SecretId=secret_arn)["SecretString"])

    return read
