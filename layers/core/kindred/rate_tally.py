"""The rate guard's instance tally: what one Lambda instance admitted of a connection unwritten."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Connections remembered before the stale ones are dropped (a warm instance serves many).
_PRUNE_ABOVE = 4096
_STRIPES = 64


@dataclass
class _Seen:
    unwritten_ms: int | None = None  # the one action admitted on a read alone, not yet written
    written_ms: int = 0  # when this instance last wrote the connection's rate log


class RateTally:
    """Per connection, what this instance knows of its rate log beyond the table.

    The guard (kindred.aws.connections.count_action) admits an action on a read alone only
    when the table's log holds nothing in the window AND this instance holds no unwritten
    action of the connection in it; that action is kept here, and the connection's next
    action on this instance writes it into the log with its own. On one instance the count
    is therefore exact. Each other instance can hold one unwritten action of a connection
    at a time, and only while the log is empty for a whole window (a flood's first frames).

    Frames of one connection are handled one at a time per instance (`hold`): a Lambda
    instance serves one request at a time; in the local stack, threads share an instance.
    """

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}
        self._locks = [threading.Lock() for _ in range(_STRIPES)]
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, connection_id: str) -> Iterator[None]:
        """The connection's frames one at a time on this instance."""
        with self._locks[hash(connection_id) % _STRIPES]:
            yield

    def unwritten(self, connection_id: str, window_start_ms: int) -> tuple[int, ...]:
        """The admitted action of the window this instance has not written (0 or 1 of them)."""
        seen = self._seen.get(connection_id)
        if seen is None or seen.unwritten_ms is None or seen.unwritten_ms <= window_start_ms:
            return ()
        return (seen.unwritten_ms,)

    def wrote_recently(self, connection_id: str, window_start_ms: int) -> bool:
        """This instance wrote the connection's log within the window: it is likely busy."""
        seen = self._seen.get(connection_id)
        return seen is not None and seen.written_ms > window_start_ms

    def admit_unwritten(self, connection_id: str, now_ms: int) -> None:
        self._entry(connection_id, now_ms).unwritten_ms = now_ms

    def written(self, connection_id: str, now_ms: int) -> None:
        """The log now holds this instance's unwritten action, if any, and this one."""
        seen = self._entry(connection_id, now_ms)
        seen.unwritten_ms, seen.written_ms = None, now_ms

    def forget(self, connection_id: str) -> None:
        with self._lock:
            self._seen.pop(connection_id, None)

    def _entry(self, connection_id: str, now_ms: int) -> _Seen:
        with self._lock:
            if len(self._seen) > _PRUNE_ABOVE:
                # Anything older than an hour is outside every window a deployment allows.
                horizon = now_ms - 3600 * 1000
                self._seen = {
                    k: v
                    for k, v in self._seen.items()
                    if max(v.written_ms, v.unwritten_ms or 0) > horizon
                }
            return self._seen.setdefault(connection_id, _Seen())
