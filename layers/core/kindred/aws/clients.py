"""AWS clients built on first use: a Lambda process builds only the clients its requests call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LazyClient:
    """Stands in for a botocore client and builds it with `make` when it is first used (once
    per process, even when threads race for it: the local stack serves in threads); every
    attribute is then the client's own. `get` is its factory, for adapters that take one."""

    __slots__ = ("_client", "_lock", "_make", "service")

    def __init__(self, service: str, make: Callable[[], Any]) -> None:
        self.service = service
        self._make = make
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._client is not None

    def get(self) -> Any:
        """The client, built now if it was not yet."""
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make()
                client = self._client
        return client

    def __getattr__(self, name: str) -> Any:
        # Only for names the proxy lacks: the client's operations, `exceptions`, `meta`.
        if name in LazyClient.__slots__:  # not yet set (copy, pickle): never build for it
            raise AttributeError(name)
        return getattr(self.get(), name)
