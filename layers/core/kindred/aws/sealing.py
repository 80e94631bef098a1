"""The Sealer (AES-GCM) and the Salts (HMAC), keyed from the deployment's SSM SecureString key."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_CONTEXT = b"kindred-queue-text-v1"
_SALT_CONTEXT = b"kindred-daily-salt-v1"


class AesGcmSealer:
    """Implements kindred.ports.Sealer; the key is read once, on first use."""

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret

    @cached_property
    def _aead(self) -> AESGCM:
        # cryptography on the first seal or unseal only: the relay's cold start never pays it.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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


def key_reader(client: Callable[[], Any], parameter: str) -> Callable[[], str]:
    """A callable that fetches the sealing key (one ssm:GetParameter, decrypted by SSM with
    the AWS managed key, per cold start that seals, unseals or salts)."""

    def read() -> str:
        answer = client().get_parameter(Name=parameter, WithDecryption=True)
        return str(answer["Parameter"]["Value"])

    return read


def create_key(ssm: Any, parameter: str) -> None:
    """Make the deployment's sealing key (the SealingKey custom resource, at deploy only): a
    standard SecureString parameter under the AWS managed key aws/ssm, which costs nothing
    to keep or read. A key already there is kept (a retried Create), so what it sealed stays
    readable."""
    with contextlib.suppress(ssm.exceptions.ParameterAlreadyExists):
        ssm.put_parameter(
            Name=parameter,
            Description="Kindred: the key sealing a waiting seeker's intro and a transfer note",
            Value=secrets.token_urlsafe(48),
            Type="SecureString",
            Tier="Standard",
            Overwrite=False,
        )


def delete_key(ssm: Any, parameter: str) -> None:
    """Delete the sealing key with its stack (gone already: nothing to do)."""
    with contextlib.suppress(ssm.exceptions.ParameterNotFound):
        ssm.delete_parameter(Name=parameter)
