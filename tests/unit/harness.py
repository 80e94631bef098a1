"""The unit tests' harness: Services on the fakes, driven as API Gateway drives the handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kindred.care import care_kept_seconds
from kindred.config import Settings
from kindred.protocol import ACTIONS
from kindred.records import Connection, VolunteerSlot
from kindred.safety import LEVELS, Assessment
from kindred.services import Services
from tests.unit.fakes import (
    FakeAccounts,
    FakeClock,
    FakeStaffDirectory,
    FakeTokens,
    FixedSalts,
    InMemoryStore,
    ListWorkQueue,
    PlainSealer,
    RecordingNotifier,
)

STORAGE_PORTS = (
    "connections tickets queue pool chats safeguards admissions impact census board returns"
)


def literal_settings(**overrides: Any) -> Settings:
    """Settings from literal values: nothing is read from the environment."""
    values = {"table_name": "t", "match_queue_url": "q", "websocket_endpoint": "https://x"}
    values |= {"sealing_key_parameter": "s", "region": "us-east-1"}
    return Settings(**(values | overrides))


class FakeServices(Services):
    """kindred.services.Services whose ports are the fakes (typed, for the tests' sake)."""

    notifier: RecordingNotifier
    work: ListWorkQueue
    sealer: PlainSealer
    clock: FakeClock
    tokens: FakeTokens
    accounts: FakeAccounts
    staff: FakeStaffDirectory

    @property
    def store(self) -> InMemoryStore:
        """The one fake behind every storage port."""
        assert isinstance(self.connections, InMemoryStore)
        return self.connections

    def conn(self, cid: str) -> Connection:
        """The live connection `cid` (which must exist), as the domain reads it."""
        conn = self.connections.get_connection(cid)
        assert conn is not None, f"{cid} has no connection"
        return conn

    def slot(self, cid: str) -> VolunteerSlot:
        """The live volunteer slot of `cid` (which must exist), as the domain reads it."""
        slot = self.pool.get_slot(cid)
        assert slot is not None, f"{cid} has no volunteer slot"
        return slot


def make_services(clock: FakeClock | None = None, **settings: Any) -> FakeServices:
    """Services on the in-memory fakes, with a clock that stands still unless advanced."""
    config, the_clock = literal_settings(**settings), clock or FakeClock()
    ttl = config.connection_ttl_seconds
    session_ttl = config.session_retention_hours * 3600 + ttl
    store = InMemoryStore(
        clock=the_clock,
        connection_ttl=ttl,
        session_ttl=session_ttl,
        care_ttl=care_kept_seconds(config),
    )
    work, notifier, sealer = ListWorkQueue(the_clock), RecordingNotifier(), PlainSealer()
    # The one store behind every storage port of Services.
    ports: dict[str, Any] = dict.fromkeys(STORAGE_PORTS.split(), store)
    return FakeServices(
        **ports,
        notifier=notifier,
        work=work,
        sealer=sealer,
        salts=FixedSalts(),
        settings=config,
        clock=the_clock,
        tokens=FakeTokens(the_clock),
        accounts=FakeAccounts(),
        staff=FakeStaffDirectory(),
    )


# ---- driving the domain as API Gateway would ---------------------------------------------


def connect(
    svc: Services,
    cid: str,
    role: str = "seeker",
    *,
    user_id: str = "",
    alias: str = "",
    token_expires_at: int | None = None,
    source_ip: str = "",
    lang: str = "en",
    coordinator: bool = False,
) -> str:
    """Open a connection the way $connect does, after the authorizer has said who it is."""
    from kindred.connections import connect as on_connect
    from kindred.requests import ConnectRequest

    on_connect(
        svc,
        ConnectRequest(
            cid,
            role,
            user_id,
            alias,
            {"lang": lang},
            token_expires_at=token_expires_at,
            source_ip=source_ip,
            coordinator=coordinator,
        ),
    )
    return cid


# The domain serves any action; which function serves which route is the template's (checked
# in tests/template and on moto in tests/integration).
EVERY_ROUTE = frozenset([*ACTIONS, "$default"])


def send(svc: Services, cid: str, frame: dict[str, Any] | str | None) -> None:
    """One client frame through kindred.chat.handle, routed on its action like API Gateway."""
    from kindred.chat import handle
    from kindred.requests import MessageRequest

    body = frame if frame is None or isinstance(frame, str) else json.dumps(frame)
    action = frame.get("action") if isinstance(frame, dict) else None
    route = action if isinstance(action, str) and action in ACTIONS else "$default"
    request = MessageRequest(connection_id=cid, route_key=route, body=body)
    result = handle(svc, request, EVERY_ROUTE)
    assert result == {"statusCode": 200}  # a bad frame never fails the invocation


def volunteer(svc: FakeServices, cid: str, role: str = "volunteer", **availability: Any) -> str:
    """A staff connection (account `user-<cid>`) that said it is available, its frames taken."""
    connect(svc, cid, role, user_id=f"user-{cid}", alias=f"Vol {cid}")
    send(svc, cid, {"action": "availability", "available": True, "capacity": 1, **availability})
    svc.notifier.take(cid)
    return cid


def bystander(svc: FakeServices, cid: str = "bystander") -> str:
    """A volunteer on shift who could take any seeker here but is on a day's break (a pause,
    kindred.care): seekers wait as when someone is on shift, and nobody is matched with them.
    With nobody on shift, or nobody who speaks their language, a seeker hears more
    (tests/unit/test_edges.py)."""
    volunteer(svc, cid)
    svc.store.pause(f"user-{cid}", int(svc.clock()) + 86_400)
    svc.work.reasons.clear()  # the bystander's own nudge of the matcher
    return cid


def waiting(svc: FakeServices, cid: str, intro: str | None = None, **match: Any) -> str:
    """A new seeker `cid` who asked for a chat (with this intro and `match` fields), one
    second ago."""
    connect(svc, cid)
    send(svc, cid, {"action": "match", **({"intro": intro} if intro else {}), **match})
    svc.clock.advance(1)
    return cid


def in_chat(
    svc: FakeServices,
    seeker: str = "s1",
    vol: str = "v1",
    role: str = "volunteer",
    *,
    lang: str = "en",
    **availability: Any,
) -> str:
    """A seeker (of `lang`) matched with `vol` (made with `availability` unless connected
    already), one second after asking; the chat's session id, every frame so far taken."""
    from kindred.matching import run_matcher

    if svc.connections.get_connection(vol) is None:
        volunteer(svc, vol, role, **availability)
    connect(svc, seeker, lang=lang)
    send(svc, seeker, {"action": "match"})
    svc.clock.advance(1)
    run_matcher(svc)
    session: str = svc.notifier.take(seeker)[-1]["sessionId"]
    svc.notifier.forget_all()
    return session


def drop(svc: FakeServices, cid: str) -> None:
    """The socket of `cid` drops: sends to it fail (410), and its `$disconnect` runs."""
    from kindred.connections import disconnect
    from kindred.requests import DisconnectRequest

    svc.notifier.gone.add(cid)
    disconnect(svc, DisconnectRequest(cid, 1006, "dropped"))


def seeker_in_chat(svc: FakeServices) -> tuple[str, str]:
    """s1 in a chat with v1 (account u1, "Sam"): (s1's resume token, the session id)."""
    from kindred.matching import run_matcher

    connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    token = svc.notifier.take("s1")[0]["resumeToken"]
    connect(svc, "v1", "volunteer", user_id="u1", alias="Sam")
    send(svc, "v1", {"action": "availability", "available": True})
    run_matcher(svc)
    session = next(f for f in svc.notifier.take("v1") if f["type"] == "matched")["sessionId"]
    svc.notifier.forget_all()
    return token, session


def counted_checks(svc: FakeServices) -> list[str]:
    """The connections the sweeper checks from now on (each `exists` call), in order."""
    checked: list[str] = []
    exists = svc.notifier.exists

    def counting_exists(cid: str) -> bool:
        checked.append(cid)
        return exists(cid)

    svc.notifier.exists = counting_exists  # type: ignore[method-assign]
    return checked


def tagged(text: str | None) -> Assessment:
    """A stand-in detector: the level named by the text's leading tag, else no risk."""
    for level in LEVELS:
        if text and text.startswith(f"[{level}]"):
            return Assessment(risk=True, rule=f"test.{level}", level=level)
    return Assessment(risk=False)


@contextmanager
def store_unchanged(svc: FakeServices) -> Iterator[None]:
    """Assert that what runs inside the block leaves every stored record as it was.

    Except the sender's rate log: every action but `ping` is counted in it, refused or not
    (the count is the one store call made before anything else is known).
    """
    before = svc.store.snapshot(rate_logs=False)
    yield
    assert svc.store.snapshot(rate_logs=False) == before


def deliver_graces(svc: FakeServices) -> list[str]:
    """Hand each `grace_over` work item now due to the matcher function's handling of it, as
    the SQS event source would; the outcome of each."""
    from kindred.grace import on_grace_over

    return [on_grace_over(svc, cid) for cid in svc.work.graces_due()]
