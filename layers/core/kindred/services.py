"""What the domain runs against: the ports, the clock and the settings (kindred.aws.wiring)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kindred.config import Settings
from kindred.ports import (
    Census,
    Chats,
    Connections,
    Notifier,
    ResumeTickets,
    Safeguards,
    Sealer,
    Store,
    VolunteerPool,
    WaitingQueue,
    WorkQueue,
)


@dataclass(frozen=True)
class Services:
    """The ports the domain needs; tests build one from in-memory fakes or moto-backed adapters."""

    connections: Connections
    tickets: ResumeTickets
    queue: WaitingQueue
    pool: VolunteerPool
    chats: Chats
    safeguards: Safeguards
    census: Census
    notifier: Notifier
    work: WorkQueue
    sealer: Sealer
    settings: Settings
    clock: Callable[[], float] = time.time

    @classmethod
    def on(
        cls,
        store: Store,
        *,
        notifier: Notifier,
        work: WorkQueue,
        sealer: Sealer,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> Services:
        """Services whose every storage port is this one store."""
        return cls(
            connections=store,
            tickets=store,
            queue=store,
            pool=store,
            chats=store,
            safeguards=store,
            census=store,
            notifier=notifier,
            work=work,
            sealer=sealer,
            settings=settings,
            clock=clock,
        )

    def now_ms(self) -> int:
        return int(self.clock() * 1000)
