"""AWS clients built on first use: a Lambda process builds only the clients its requests call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

# botocore's data for the services kindred calls, trimmed to its operations from the pinned
# botocore by tools/trim_botocore_models.py (which says why; tests/unit/test_botocore_data.py
# checks it is current and complete).
BOTOCORE_DATA = Path(__file__).with_name("botocore_data")


@cache
def _loader_class() -> type:
    from botocore.loaders import Loader

    class ShippedDataLoader(Loader):  # type: ignore[misc]
        """botocore's loader with BOTOCORE_DATA as its own data: no scan of botocore/data's
        ~400 services, no 1.2 MB endpoints.json; the endpoints count as botocore's own, as
        they are (the rule sets then resolve them exactly as with the full file)."""

        BUILTIN_DATA_PATH = str(BOTOCORE_DATA)

    return ShippedDataLoader


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())


def trimmed_from() -> str:
    """The botocore release BOTOCORE_DATA was written from."""
    return (BOTOCORE_DATA / "VERSION").read_text(encoding="ascii").strip()


def shipped_session() -> Any:
    """A botocore session that reads its models and endpoints from BOTOCORE_DATA alone
    (AWS_DATA_PATH's directories first, as botocore's own loader puts them); botocore's own
    data under a botocore older than the one BOTOCORE_DATA comes from (a Lambda runtime's may
    be: an older botocore may not read newer data)."""
    import os

    import botocore
    import botocore.session

    session = botocore.session.get_session()
    if _release(botocore.__version__) < _release(trimmed_from()):
        return session
    extra = session.get_config_variable("data_path")  # as botocore.loaders.create_loader
    paths = (
        [os.path.expanduser(os.path.expandvars(p)) for p in extra.split(os.pathsep)]
        if extra
        else []
    )
    session.register_component("data_loader", _loader_class()(extra_search_paths=paths))
    return session


def create_client(session: Any, service: str, **options: Any) -> Any:
    """`session.create_client(service, **options)`; should the shipped data fail the running
    botocore, the client is built on botocore's own data instead (and a warning logged)."""
    try:
        return session.create_client(service, **options)
    except Exception:
        if not isinstance(session.get_component("data_loader"), _loader_class()):
            raise
        import botocore.session

        from kindred.observability import logger

        logger.warning("botocore_data unusable: botocore's own", extra={"service": service})
        return botocore.session.get_session().create_client(service, **options)


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
