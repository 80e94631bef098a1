"""Racing matchers on the moto server: no volunteer over capacity, no seeker matched twice."""

from __future__ import annotations

import threading
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

from kindred.aws.wiring import aws_services
from kindred.config import load_settings
from kindred.matching import request_match, run_matcher, set_availability
from kindred.ports import Conflict
from kindred.protocol import Availability, Match, ServerFrame
from kindred.records import Connection
from kindred.services import Services
from local.motoserver import MotoServer
from tests.conftest import create_stack

SEEKERS = 60
VOLUNTEERS = 12  # capacities 1, 2, 3 in turn: 24 slots for 60 seekers
THREADS = 8
SLOTS = sum(1 + i % 3 for i in range(VOLUNTEERS))


class Inbox:
    """A notifier that keeps every frame (the @connections API is not what is under test)."""

    def __init__(self) -> None:
        self.frames: dict[str, list[ServerFrame]] = defaultdict(list)
        self._lock = threading.Lock()

    def send(self, connection_id: str, frame: ServerFrame) -> bool:
        with self._lock:
            self.frames[connection_id].append(frame)
        return True

    def close(self, connection_id: str) -> None:
        pass


class NoWork:
    def nudge(self, reason: str) -> None:
        pass


class CountingChats:
    """Wraps the real DynamoDB chats adapter to count match attempts and lost races."""

    def __init__(self, inner: Any, tally: Counter[str], lock: threading.Lock) -> None:
        self._inner, self._tally, self._lock = inner, tally, lock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create_chat(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self._tally["attempts"] += 1
        try:
            self._inner.create_chat(*args, **kwargs)
        except Conflict:
            with self._lock:
                self._tally["conflicts"] += 1
            raise


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    server = MotoServer().start()
    # moto's backends live in this process: start from an empty account.
    urllib.request.urlopen(
        urllib.request.Request(f"{server.endpoint}/moto-api/reset", method="POST")
    )
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        env = create_stack(server.endpoint)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield env
    finally:
        server.stop()


def _services(inbox: Inbox, tally: Counter[str], lock: threading.Lock) -> Services:
    base = aws_services(load_settings())
    return replace(
        base,
        chats=CountingChats(base.chats, tally, lock),
        notifier=inbox,
        work=NoWork(),
    )


def test_racing_matchers_never_over_assign(moto_env: dict[str, str]) -> None:
    """Given 60 waiting seekers and 12 volunteers with 24 slots in all, when 8 matchers run at
    the same moment against the moto server, then at least 150 match attempts race, every slot is
    filled, no volunteer has more chats than their capacity, and no seeker is matched twice."""
    inbox, tally, lock = Inbox(), Counter[str](), threading.Lock()
    setup = _services(inbox, tally, lock)
    capacities: dict[str, int] = {}
    for i in range(VOLUNTEERS):
        vol = Connection(f"vol{i}", "volunteer", f"V{i}", "en", user_id=f"user{i}")
        setup.connections.put_connection(vol)
        capacities[vol.connection_id] = 1 + i % 3
        set_availability(
            setup,
            vol,
            Availability(action="availability", available=True, capacity=capacities[f"vol{i}"]),
        )
    seekers = [f"seeker{i}" for i in range(SEEKERS)]
    for sid in seekers:
        seeker = Connection(sid, "seeker", sid, "en", seeker_key=f"key-{sid}")
        setup.connections.put_connection(seeker)
        request_match(setup, seeker, Match(action="match"))

    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def matcher() -> None:
        svc = _services(inbox, tally, lock)
        start.wait()
        try:
            for _ in range(3):  # like SQS redelivering the same work item
                run_matcher(svc)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=matcher) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors

    matched_to = {
        cid: [f for f in frames if f.type == "matched"] for cid, frames in inbox.frames.items()
    }
    seeker_matches = Counter({s: len(matched_to.get(s, [])) for s in seekers})
    volunteer_chats = {v: len(matched_to.get(v, [])) for v in capacities}

    assert tally["attempts"] >= 150, tally
    assert max(seeker_matches.values()) == 1, "a seeker was matched twice"
    assert all(volunteer_chats[v] <= capacities[v] for v in capacities), "over capacity"
    assert sum(volunteer_chats.values()) == sum(capacities.values()) == SLOTS
    assert sum(seeker_matches.values()) == SLOTS
    # The table agrees with what people were told.
    ddb = boto3.client("dynamodb")
    pool = ddb.query(
        TableName=moto_env["TABLE_NAME"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "POOL"}},
    )["Items"]
    assert all(int(i["active"]["N"]) <= int(i["capacity"]["N"]) for i in pool)
    assert sum(int(i["active"]["N"]) for i in pool) == SLOTS
    queue = ddb.query(
        TableName=moto_env["TABLE_NAME"],
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "QUEUE"}},
    )["Items"]
    assert len(queue) == SEEKERS - SLOTS
    print(f"\nracing match attempts: {tally['attempts']}, lost races: {tally['conflicts']}")


def test_stale_racing_match_attempts_cannot_overfill_a_volunteer(
    moto_env: dict[str, str],
) -> None:
    """Given 60 waiting seekers and 12 volunteers with 24 slots, when 8 threads each take one stale
    snapshot and fire match attempts for random (seeker, volunteer) pairs at once, then of at least
    200 racing attempts only as many succeed as there are slots: the transaction's conditions alone
    keep every volunteer within capacity and every seeker in one chat."""
    import random

    from kindred.matching import start_chat

    inbox, tally, lock = Inbox(), Counter[str](), threading.Lock()
    setup = _services(inbox, tally, lock)
    capacities = {}
    for i in range(12):
        vol = Connection(f"vol{i}", "volunteer", f"V{i}", "en", user_id=f"user{i}")
        setup.connections.put_connection(vol)
        capacities[vol.connection_id] = 1 + i % 3
        set_availability(
            setup, vol, Availability(action="availability", available=True, capacity=1 + i % 3)
        )
    for i in range(60):
        seeker = Connection(f"s{i}", "seeker", f"S{i}", "en", seeker_key=f"k{i}")
        setup.connections.put_connection(seeker)
        request_match(setup, seeker, Match(action="match"))
    slots = sum(capacities.values())
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def attacker(seed: int) -> None:
        svc = _services(inbox, tally, lock)
        rng = random.Random(seed)
        waiting = svc.queue.waiting(100)  # stale from the first attempt on
        volunteers = svc.pool.available_volunteers()
        start.wait()
        try:
            for entry in rng.sample(waiting, len(waiting)):
                start_chat(svc, entry, rng.choice(volunteers))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors

    matched = Counter(
        cid for cid, frames in inbox.frames.items() for f in frames if f.type == "matched"
    )
    assert tally["attempts"] >= 200, tally
    assert tally["attempts"] - tally["conflicts"] == slots
    assert all(matched[v] <= capacities[v] for v in capacities), "a volunteer is over capacity"
    assert all(matched[f"s{i}"] <= 1 for i in range(60)), "a seeker was matched twice"
    assert sum(matched[v] for v in capacities) == slots
    print(f"\nstale racing attempts: {tally['attempts']}, lost: {tally['conflicts']}")
