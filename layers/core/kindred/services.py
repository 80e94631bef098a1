"""What the domain runs against: the ports, the clock and the settings (kindred.aws.wiring)."""

from __future__ import annotations

import time
from collections.abc import Callable

from kindred.config import Settings
from kindred.frozen import Frozen
from kindred.ports import (
    Accounts,
    Admissions,
    BoardState,
    Census,
    Chats,
    Connections,
    Impact,
    Notifier,
    ResumeTickets,
    ReturnLinks,
    Safeguards,
    Salts,
    Sealer,
    StaffDirectory,
    TokenVerifier,
    VolunteerPool,
    WaitingQueue,
    WorkQueue,
)


class Services(Frozen):
    """The ports the domain needs; tests build one from in-memory fakes or moto-backed adapters."""

    connections: Connections
    tickets: ResumeTickets
    queue: WaitingQueue
    pool: VolunteerPool
    chats: Chats
    safeguards: Safeguards
    admissions: Admissions
    impact: Impact  # check-in answers, as monthly totals only (issue 12)
    census: Census
    board: BoardState
    notifier: Notifier
    work: WorkQueue
    sealer: Sealer
    salts: Salts
    settings: Settings
    # Sessions that end (issue 11): `reauth` checks tokens, the sweeper asks after accounts.
    tokens: TokenVerifier
    accounts: Accounts
    staff: StaffDirectory  # accounts from the console (issue 13): the admin function only
    returns: ReturnLinks  # return keys' links to a volunteer (issue 13)
    clock: Callable[[], float] = time.time

    def now_ms(self) -> int:
        return int(self.clock() * 1000)
