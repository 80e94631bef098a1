"""A hypothesis state machine over the whole domain on the fakes (issue 4).

Random sequences of what API Gateway would deliver: seekers, volunteers and supervisors
connecting (kindred.connections.connect), their frames (kindred.chat.handle: match,
availability, message, typing, end, transfer, block, forget), sockets that go away without a
$disconnect yet (a 410 on every post), $disconnects (kindred.connections.disconnect), the
matcher (kindred.matching.run_matcher), the sweeper (kindred.sweeper.sweep) and the clock moving
on; volunteers assessing a chat's risk level (issue 8); the pause after a chat at high or
imminent risk (issue 12: a chat at that level ends, time passes); supervision (issue 12):
volunteers asking for help (`escalate`), supervisors joining chats, writing to both sides,
whispering with the volunteer and leaving, and following the board (pushed by the matcher).
After every step the invariants below are checked against the fake store's items and
against what each connection was told, frame by frame, in the order the frames were sent.
ResumeMachine adds seekers coming back with `?resume=` (issue 5). Practice (issue 13): a
trainee account, and supervisors playing seekers (`?practice=1`): a trainee is never matched
with a real seeker, a real volunteer never with a practice seeker; a practice chat pauses
nobody, alerts no supervisor and keeps no block.

The model of "what each connection was told" is built from the frames alone (PROTOCOL.md), never
from the store, so that the two can be compared:
- a seeker is idle, waiting (after `queued`) or in one chat (after `matched`, until `ended`, or
  until `queued` with reason `transfer`); its own `end` while waiting makes it idle silently;
  a resumed connection learns where it is from the `resumed` its first action hears first;
- a volunteer or supervisor is in the chats it was told `matched` and not yet `ended`, each at
  the risk level it was last told (`matched.risk`, then `alert.level` or `assessed.level`);
  when it is told `ended` for a chat it knew at `high` or `imminent`, its account is paused
  for RiskPauseMinutes: no connection of that account may be told `matched` meanwhile.
- a supervisor has joined the chats it was told `joined` and not yet `supervisor_left` or
  `ended`; a seeker's chat and a volunteer's chats are supervised from `supervisor_joined`
  until `supervisor_left` (then and only then their messages say who wrote them).
A connection whose socket is gone misses frames, so only its store state is checked from then on.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kindred import board, care
from kindred.chat import handle
from kindred.connections import connect, disconnect
from kindred.matching import choose_volunteer, run_matcher
from kindred.observability import metrics
from kindred.protocol import iso_time
from kindred.records import LEVELS, Connection, JoinedChat, Session, level_rank
from kindred.requests import ConnectRequest, DisconnectRequest, MessageRequest
from tests.unit.harness import EVERY_ROUTE, FakeServices, make_services, send
from tests.unit.harness import connect as fake_connect

TOPICS = ("anxiety", "grief", "work")
LANGUAGES = ("en", "es")
# Staff accounts: a role comes from the account's group, and one account may hold several
# connections at once (two tabs) or come back on a new one after a disconnect.
ACCOUNTS = {"u1": "volunteer", "u2": "volunteer", "u3": "supervisor", "u4": "trainee"}
RISKY = "I want to kill myself"
INTROS = (None, "I have not slept for days", RISKY)
NOTES = (None, "They would like someone who knows about grief.")
MAX_OPEN = 6  # connections whose $disconnect has not run, at most at once
# Time moves on by a second after every step, as it does between two people's actions: no two
# requests share a millisecond (what happens when they do is a regression test below).
STEP_SECONDS = 1
MATCHER_RUNS = 10  # a matcher run that asks for another (a lost match) is followed by one
NO_SUCH_CHAT = "no-such-chat"
RISK_PAUSE_SECONDS = 5 * 60  # RiskPauseMinutes' default (issue 12)

WHO = st.integers(0, 5)  # which of the candidate connections (modulo how many there are)
# For a frame about a chat: 0..5 one of the connections in a chat (if any), 6..11 any one.
IN_CHAT = st.integers(0, 11)
# Which chat a staff frame names: 0 none (no sessionId), 1..3 the n-th chat it was told of,
# 4 a chat that does not exist.
WHICH = st.integers(0, 4)


@dataclass
class Peer:
    """One connection as the test knows it: what it is, and what it was told."""

    cid: str
    role: str
    user: str = ""
    key: str = ""  # seeker: its anonymous key, which a resumed connection keeps
    gone: bool = False  # its socket is closed: every post is a 410; it sends nothing more
    disconnected: bool = False  # its $disconnect has run
    forgotten: bool = False  # it asked to be forgotten (the server closed it)
    # What it was told (seekers): idle / waiting / chatting, and the chat.
    state: str = "idle"
    session: str | None = None
    position: int | None = None  # its place in the queue, by the last `queued` or `position`
    # What it was told (staff): the chats it is in.
    chats: set[str] = field(default_factory=set)
    levels: dict[str, str | None] = field(default_factory=dict)  # staff: chat -> level told
    available: bool = False  # staff: as its last `status` said
    ended: set[str] = field(default_factory=set)  # chats it was told are over
    crisis: set[str] = field(default_factory=set)  # chats it got crisis resources in
    seen: int = 0  # frames of its own taken into the model so far
    # A seeker whose $disconnect ran while it was waiting or in a chat keeps its place until
    # then (epoch seconds): the grace period for a resume (issue 5).
    away_until: float | None = None
    token: str | None = None  # seeker: the last resume token it was told
    # A connection opened with `?resume=`: "resumed" or "resume_failed", what its first action
    # will hear first, as the store has it; until then it does not know where it is.
    pending: str | None = None
    resumed_to: str | None = None  # the connection that took its place with its token
    # Supervision (issue 12), as told: the chats a supervisor joined; the chats of a seeker or
    # volunteer that a supervisor is in; whether a supervisor follows the board.
    joined: set[str] = field(default_factory=set)
    watched: set[str] = field(default_factory=set)
    subscribed: bool = False
    practice: bool = False  # a supervisor playing a seeker (issue 13)

    @property
    def staff(self) -> bool:
        return self.role != "seeker"


@dataclass(frozen=True)
class Chat:
    """A session the store has held, as first seen: who, and at which step it started."""

    sid: str
    seeker: str
    volunteer: str
    user: str  # the volunteer's account
    seeker_key: str  # the seeker's anonymous key (what a block names)
    step: int
    order: int  # in the order the chats started
    practice: bool = False  # its seeker is a practice seeker (issue 13)


def _in_chat_frame(frame: dict[str, Any], sid: str | None) -> dict[str, Any]:
    """A chat action's frame, naming the chat when the sender is staff (`sid` is set)."""
    return frame if sid is None else frame | {"sessionId": sid}


def _describe(frames: list[dict[str, Any]]) -> str:
    return ", ".join(f"{f['type']}({f.get('reason') or f.get('code') or ''})" for f in frames)


class KindredMachine(RuleBasedStateMachine):
    """Seekers, volunteers and supervisors doing random things; the rules checked after each."""

    def __init__(self) -> None:
        super().__init__()
        metrics.clear_metrics()  # Powertools prints a metric set that reaches 100 values
        self.svc: FakeServices = make_services()
        self.peers: dict[str, Peer] = {}
        self.chats: dict[str, Chat] = {}
        self.step = 0
        self.started_now: set[str] = set()  # volunteers given a chat in this step
        # Volunteers who lowered their capacity below the chats they had: over it until enough
        # of those chats end, and never given a new one meanwhile.
        self.lowered: set[str] = set()
        # (seeker key, account) -> the step a block between them was accepted at
        self.blocks: dict[tuple[str, str], int] = {}
        # seeker key -> account that transferred them, until they are matched again or leave
        # the queue themselves
        self.handed_on: dict[str, str] = {}
        self.forgotten_keys: set[str] = set()
        self.matcher_runs = 0
        self.swept_at: float | None = None  # when the sweeper last ran
        self.work_done = 0  # work items (matcher nudges) a matcher run has served
        self.frames_seen = 0  # frames of the notifier's sending order taken into the model
        # account -> until when (epoch seconds) it is paused, by what its consoles were told
        self.paused: dict[str, int] = {}
        self.pauses = 0  # how many pauses the model saw begin
        self.matched_after_pause = 0  # chats of an account after its pause was over
        self.board_items_done = 0  # `board` work items the matcher has served
        self.pushed_at: list[float] = []  # when the matcher pushed the board

    def teardown(self) -> None:
        # What the example reached, for --hypothesis-show-statistics (nothing is printed).
        event(f"chats started: {min(len(self.chats), 5)}{'+' if len(self.chats) >= 5 else ''}")
        event(f"steps: {self.step // 10 * 10}+")
        event(f"matcher runs: {min(self.matcher_runs, 3)}")
        event(f"blocks: {min(len(self.blocks), 2)}")
        event(f"transfers: {min(self.svc.work.reasons.count('transfer'), 2)}")
        event(f"disconnects: {sum(p.disconnected for p in self.peers.values())}")
        event(f"resumed: {sum(p.resumed_to is not None for p in self.peers.values())}")
        event(f"risk pauses: {min(self.pauses, 2)}")
        event(f"matched again after a pause: {min(self.matched_after_pause, 1)}")
        wire = self.svc.notifier.wire.values()
        event(f"joined: {min(sum(f['type'] == 'joined' for w in wire for f in w), 3)}")
        event(f"whispers: {min(sum(f['type'] == 'whisper' for w in wire for f in w), 3)}")
        event(f"boards pushed: {min(len(self.pushed_at), 3)}")
        event(f"practice chats: {min(sum(c.practice for c in self.chats.values()), 2)}")
        metrics.clear_metrics()

    # ---- choosing who acts ------------------------------------------------------------------

    def _open(self) -> list[Peer]:
        """Connections whose $disconnect has not run."""
        return [p for p in self.peers.values() if not p.disconnected]

    def _live(self, kind: str = "any") -> list[Peer]:
        """Connections whose socket is open (they can send), of a kind: seeker, staff, any."""
        return [
            p
            for p in self.peers.values()
            if not p.gone and (kind == "any" or (kind == "staff") == p.staff)
        ]

    @staticmethod
    def _pick(peers: list[Peer], who: int) -> Peer:
        return peers[who % len(peers)]

    def _in_chat(self, who: int, kind: str = "any") -> Peer:
        """A connection to send a frame about a chat: by `who` (IN_CHAT), half the time one
        that was told it is in a chat, if any is."""
        live = self._live(kind)
        busy = [p for p in live if p.chats or p.session]
        return self._pick(busy if who < 6 and busy else live, who)

    def _chat_named(self, peer: Peer, which: int) -> str | None:
        """The sessionId a staff frame carries: none, one of its chats, or an unknown one."""
        if which == 0:
            return None
        if which == 4:
            return NO_SUCH_CHAT
        mine = sorted(peer.chats, key=lambda sid: self.chats[sid].order)
        return mine[which - 1] if which <= len(mine) else None

    def _chat_meant(self, peer: Peer, sid: str | None) -> Chat | None:
        """The chat a frame of this connection is about, by what it was told."""
        if not peer.staff:
            sid = peer.session
        elif sid is None and len(peer.chats) == 1:
            sid = next(iter(peer.chats))
        return (
            self.chats.get(sid) if sid is not None and sid in peer.chats | {peer.session} else None
        )

    # ---- driving the domain ---------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{len(self.peers) + 1}"

    def _act_in_chat(
        self, who: int, which: int, frame: dict[str, Any]
    ) -> tuple[Peer, Chat | None, tuple[str, str | None], list[dict[str, Any]]]:
        """A chat action from a connection in a chat, naming one of its chats if it is staff:
        the connection, the chat meant, where it was before, and what it got in this step."""
        peer = self._in_chat(who)
        sid = self._chat_named(peer, which) if peer.staff else None
        before = (peer.state, peer.session)
        chat = self._chat_meant(peer, sid)
        return peer, chat, before, self._send(peer, _in_chat_frame(frame, sid))

    def _send(self, peer: Peer, frame: dict[str, Any]) -> list[dict[str, Any]]:
        """One frame through kindred.chat.handle; returns what the sender got in this step."""
        pending = peer.pending
        request = MessageRequest(peer.cid, frame["action"], json.dumps(frame))
        assert handle(self.svc, request, EVERY_ROUTE) == {"statusCode": 200}
        got = self._observe().get(peer.cid, [])
        if pending is not None and not self._rate_limited(got):
            # The first action after `?resume=` hears first how the resume went.
            first = got[0] if got else {}
            assert first.get("type") == "resumed" or first.get("code") == "resume_failed", (
                f"{peer.cid}'s first action after `?resume=` got {_describe(got)}"
            )
            assert peer.pending is None
        return got

    @staticmethod
    def _told_before(
        got: list[dict[str, Any]], before: tuple[str, str | None]
    ) -> tuple[str, str | None, list[dict[str, Any]]]:
        """Where a seeker was told it was when it sent the frame, and the answer to the frame:
        as it knew before; or, for the first action after `?resume=`, what the first frame of
        the answer said, and the rest of it."""
        first = got[0] if got else {}
        if first.get("type") == "resumed":
            return first["state"], first.get("sessionId"), got[1:]
        if first.get("code") == "resume_failed":
            return "idle", None, got[1:]
        return (*before, got)

    @staticmethod
    def _errors(frames: list[dict[str, Any]]) -> list[str]:
        return [f["code"] for f in frames if f["type"] == "error"]

    def _rate_limited(self, got: list[dict[str, Any]]) -> bool:
        """The frame was refused by the rate limit (then it changed nothing, as the
        invariants check)."""
        return self._errors(got) == ["rate_limited"]

    def _observe(self) -> dict[str, list[dict[str, Any]]]:
        """End of a step: note the chats that started, then take every new frame into the model
        of what each connection was told. Returns the new frames by connection."""
        self.step += 1
        self.started_now = set()
        for chat in self._discover_chats():
            self.started_now.add(chat.volunteer)
            self.lowered.discard(chat.volunteer)
            blocked_at = self.blocks.get((chat.seeker_key, chat.user))
            assert blocked_at is None, (
                f"{chat.seeker} was matched with account {chat.user} ({chat.volunteer}) "
                f"although a block of that pair was accepted at step {blocked_at}"
            )
            assert self.handed_on.get(chat.seeker_key) != chat.user, (
                f"{chat.seeker} was matched back with account {chat.user}, who transferred them"
            )
            seeker = self._conn(chat.seeker)
            assert seeker is None or seeker.away_until is None, (
                f"{chat.seeker} was matched while away: {seeker}"
            )
            trainee = self.peers[chat.volunteer].role == "trainee"
            assert trainee == chat.practice, (
                f"{chat.seeker} ({'practice' if chat.practice else 'real'} seeker) was matched "
                f"with {chat.volunteer} ({self.peers[chat.volunteer].role})"
            )
        # Every frame in the order it was sent, whoever it went to: a pause told to one
        # connection of an account comes before a `matched` told to another only if it was so.
        got: dict[str, list[dict[str, Any]]] = {cid: [] for cid in self.peers}
        order = self.svc.notifier.order
        for cid in order[self.frames_seen :]:
            peer = self.peers[cid]
            frame = self.svc.notifier.wire[cid][peer.seen]
            peer.seen += 1
            got[cid].append(frame)
            (self._told_staff if peer.staff else self._told_seeker)(peer, frame)
        self.frames_seen = len(order)
        active = self._active_by("volunteer_id")
        for cid in list(self.lowered):
            slot = self.svc.store.slots.get(cid)
            if slot is None or active[cid] <= slot.capacity:
                self.lowered.discard(cid)
        self.svc.clock.advance(STEP_SECONDS)
        return got

    def _discover_chats(self) -> list[Chat]:
        new = []
        for sid, session in self.svc.store.sessions.items():
            if sid not in self.chats:
                volunteer = self.peers[session.volunteer_id]
                chat = Chat(
                    sid=sid,
                    seeker=session.seeker_id,
                    volunteer=volunteer.cid,
                    user=volunteer.user,
                    seeker_key=session.seeker_key,
                    step=self.step,
                    order=len(self.chats),
                    practice=self.peers[session.seeker_id].practice,
                )
                self.chats[sid] = chat
                new.append(chat)
        return new

    def _told_seeker(self, peer: Peer, frame: dict[str, Any]) -> None:
        kind, sid = frame["type"], frame.get("sessionId")
        where = f"{peer.cid} (told {peer.state} {peer.session or ''}) got {frame}"
        if peer.pending is not None:
            # A connection that came with `?resume=` learns where it is from its first action's
            # first answer; what reaches it before that is taken in by the client as it comes.
            if kind == "resumed":
                assert peer.pending == "resumed", where
                peer.state, peer.session = frame["state"], frame.get("sessionId")
                peer.watched = set()  # told next (`supervisor_joined`) if a supervisor is in
                peer.position, peer.token = frame.get("position"), frame["resumeToken"]
                assert (peer.state == "waiting") == (peer.position is not None), where
                assert (peer.state == "chatting") == (peer.session is not None), where
                peer.pending = None
            elif kind == "error" and frame["code"] == "resume_failed":
                assert peer.pending == "resume_failed", where
                peer.pending = None
            elif kind == "queued":
                peer.token = frame["resumeToken"]  # a transfer: a new token, delivered
            return
        assert kind != "resumed" and frame.get("code") != "resume_failed", where
        if kind == "queued":
            peer.token = frame["resumeToken"]
            assert frame["position"] >= 1, where
            if frame.get("reason") == "transfer":
                assert peer.state == "chatting", where
                assert peer.session is not None
                peer.ended.add(peer.session)
                peer.watched.discard(peer.session)
            else:
                assert peer.state == "idle", where
            peer.state, peer.session, peer.position = "waiting", None, frame["position"]
        elif kind == "position":
            assert peer.state == "waiting" and frame["position"] >= 1, where
            peer.position = frame["position"]
        elif kind == "matched":
            assert peer.state == "waiting", where
            assert sid in self.chats and self.chats[sid].seeker_key == peer.key, where
            assert frame["peer"]["role"] != "seeker", where
            assert "intro" not in frame and "note" not in frame and "risk" not in frame, where
            peer.state, peer.session = "chatting", sid
            self.handed_on.pop(peer.key, None)
        elif kind == "ended":
            assert peer.state == "chatting" and peer.session == sid, where
            assert sid not in peer.ended, where
            peer.ended.add(sid)
            peer.watched.discard(sid)
            peer.state, peer.session = "idle", None
        elif kind == "message":
            assert peer.state == "chatting" and peer.session == sid, where
            # Only a chat a supervisor is in says who wrote each message; never the seeker.
            assert ("from" in frame) == (sid in peer.watched), where
            assert frame.get("from") != "seeker", where
        elif kind == "typing":
            assert peer.state == "chatting" and peer.session == sid, where
        elif kind == "supervisor_joined":
            assert peer.state == "chatting" and peer.session == sid, where
            assert "supervisor" not in frame, f"the seeker was told the supervisor's name: {where}"
            peer.watched.add(sid)
        elif kind == "supervisor_left":
            assert peer.state == "chatting" and peer.session == sid, where
            assert sid in peer.watched, where
            peer.watched.discard(sid)
        elif kind == "resources" and frame["reason"] == "crisis" and peer.state == "chatting":
            assert peer.session not in peer.crisis, f"crisis resources twice in a chat: {where}"
            peer.crisis.add(peer.session)
        elif kind in ("alert", "status", "whisper", "board", "joined", "escalated"):
            raise AssertionError(f"a staff frame went to a seeker: {where}")

    def _told_staff(self, peer: Peer, frame: dict[str, Any]) -> None:
        kind, sid = frame["type"], frame.get("sessionId")
        told = f"told chats {sorted(peer.chats)}, joined {sorted(peer.joined)}"
        where = f"{peer.cid} ({told}) got {frame}"
        if sid in peer.joined and sid not in peer.chats:
            self._told_supervisor(peer, frame, where)
        elif kind in ("joined", "board") or (kind == "alert" and frame["kind"] == "escalation"):
            assert peer.role == "supervisor", f"a supervisor's frame went to a volunteer: {where}"
            if kind == "joined":
                assert sid in self.chats and sid not in peer.joined, where
                peer.joined.add(sid)
            if kind == "board":
                assert peer.subscribed, where
                assert "text" not in json.dumps(frame), where
        elif kind == "supervisor_joined":
            assert sid in peer.chats and sid not in peer.watched and frame["supervisor"], where
            peer.watched.add(sid)
        elif kind == "supervisor_left":
            assert sid in peer.chats and sid in peer.watched, where
            peer.watched.discard(sid)
        elif kind == "whisper":
            assert sid in peer.chats and sid in peer.watched, where
            assert frame["from"] == "supervisor", where
        elif kind == "message":
            assert sid in peer.chats, where
            assert ("from" in frame) == (sid in peer.watched), where
            assert frame.get("from") in (None, "seeker", "supervisor"), where
        elif kind == "escalated":
            assert sid in peer.chats, where
        elif kind == "matched":
            assert sid in self.chats and self.chats[sid].volunteer == peer.cid, where
            assert sid not in peer.chats and sid not in peer.ended, where
            assert frame["peer"]["role"] == "seeker", where
            assert frame.get("risk") in (None, *LEVELS), where
            # Issue 12: a paused volunteer is never matched, on any connection of the account.
            now = int(self.svc.clock())
            assert self.paused.get(peer.user, 0) <= now, (
                f"{where}: account {peer.user} is paused until {self.paused[peer.user]}, "
                f"it is {now}"
            )
            if peer.user in self.paused:
                self.matched_after_pause += 1
            peer.chats.add(sid)
            peer.levels[sid] = frame.get("risk")
        elif kind == "ended":
            assert sid in peer.chats, where
            if peer.levels.get(sid) in care.PAUSE_LEVELS and not self.chats[sid].practice:
                # A chat at high or imminent ended: RiskPauseMinutes for the account.
                until = math.ceil(self.svc.clock()) + math.ceil(
                    self.svc.settings.risk_pause_minutes * 60
                )
                self.paused[peer.user] = max(self.paused.get(peer.user, 0), until)
                self.pauses += 1
            peer.chats.discard(sid)
            peer.levels.pop(sid, None)
            peer.watched.discard(sid)
            peer.ended.add(sid)
        elif kind == "status":
            assert frame.get("checkin") in (None, "after_risk", "end_of_shift"), where
            if frame.get("checkin") == "after_risk":
                assert self.paused.get(peer.user, 0) > int(self.svc.clock()), where
            peer.available = frame["available"]
        elif kind == "assessed":
            assert sid in peer.chats, where
            peer.levels[sid] = None if frame["level"] == "none" else frame["level"]
        elif kind == "alert" and sid in self.chats and self.chats[sid].practice:
            # A practice chat alerts its trainee only, as a real one would (issue 13).
            assert sid in peer.chats and frame["kind"] == "risk", f"practice alert: {where}"
            assert level_rank(frame["level"]) > level_rank(peer.levels[sid]), where
            peer.levels[sid] = frame["level"]
        elif kind == "alert" and frame["kind"] == "risk" and sid in peer.chats:
            # The chat's volunteer hears of a level only when it rises above what they knew.
            assert level_rank(frame["level"]) > level_rank(peer.levels[sid]), where
            peer.levels[sid] = frame["level"]
        elif kind in ("message", "typing", "peer_away", "peer_back"):
            assert sid in peer.chats, where
        elif kind == "alert" and peer.role == "volunteer":
            assert sid in peer.chats, f"an alert about another's chat: {where}"
        elif kind in ("queued", "position") or (
            kind == "resources" and frame["reason"] == "crisis"
        ):
            raise AssertionError(f"a seeker's frame went to staff: {where}")

    @staticmethod
    def _told_supervisor(peer: Peer, frame: dict[str, Any], where: str) -> None:
        """A frame to a supervisor about a chat it joined."""
        kind, sid = frame["type"], frame["sessionId"]
        if kind in ("ended", "supervisor_left"):
            peer.joined.discard(sid)
        elif kind == "message":
            assert frame["from"] in ("seeker", "volunteer"), where
        elif kind == "whisper":
            assert frame["from"] == "volunteer", where
        elif kind == "alert":
            assert frame["kind"] in ("risk", "report", "escalation"), where
        else:
            assert kind in ("peer_away", "peer_back"), where

    # ---- reading the store --------------------------------------------------------------------

    def _active(self) -> list[Session]:
        return [s for s in self.svc.store.sessions.values() if s.active]

    def _active_by(self, side: str) -> Counter[str]:
        return Counter(getattr(session, side) for session in self._active())

    def _conn(self, cid: str) -> Connection | None:
        return self.svc.store.conns.get(cid)

    def _fitting_pairs(self) -> list[tuple[str, str]]:
        """Waiting seekers and free volunteers that fit each other now, by the matcher's own
        rule: kindred.matching.choose_volunteer with that one volunteer to choose from (the
        language, a free slot, the seeker's blocks, and the topic until the topic wait is over).

        Blocks are also kept as items of their own, for a seeker who resumes on a new
        connection; here no one resumes, so the blocks a queue entry carries are all of them.
        """
        now_ms = self.svc.now_ms()
        topic_wait_ms = self.svc.settings.topic_fallback_seconds * 1000
        waiting = self.svc.queue.waiting(1000) + self.svc.queue.waiting(1000, practice=True)
        # Not a paused volunteer (issue 12), as the matcher has it.
        free = [
            s for s in self.svc.pool.available_volunteers() if care.takes_new_chats(self.svc, s)
        ]
        return [
            (entry.connection_id, slot.connection_id)
            for entry in waiting
            for slot in free
            if not entry.away  # the matcher skips a seeker whose socket dropped
            and choose_volunteer(entry, [slot], now_ms=now_ms, topic_wait_ms=topic_wait_ms)
            is not None
        ]

    # ---- the cast at the start --------------------------------------------------------------

    @initialize(
        seekers=st.lists(
            st.tuples(st.sampled_from(LANGUAGES), st.sampled_from(INTROS)), min_size=1, max_size=3
        ),
        staff=st.lists(
            st.tuples(
                st.sampled_from(sorted(ACCOUNTS)),
                st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True),
                st.integers(1, 3),
            ),
            min_size=1,
            max_size=3,
        ),
        then_match=st.booleans(),
        watching=st.sampled_from(("no", "on shift", "following the board")),
        practice=st.sampled_from((None, "", INTROS[1], RISKY)),
    )
    def cast(
        self,
        seekers: list[tuple[str, str | None]],
        staff: list[tuple[str, list[str], int]],
        then_match: bool,
        watching: str,
        practice: str | None,
    ) -> None:
        """Every example starts where chats can happen: seekers waiting for a match and staff
        available, and maybe the matcher has run; whatever comes next is random. A supervisor
        who takes no chats may be on shift, following the board or not (issue 12). Often, a
        supervisor playing a seeker waits too (with this intro), and a trainee is available
        (issue 13)."""
        for lang, intro in seekers:
            self._match(self._connect_seeker(lang), [], None, intro)
        if practice is not None:
            self._match(self._connect_seeker("en", practice=True), [], None, practice or None)
            self._availability(self._connect_staff("u4", "en"), True, 1, ["en"], [])
        for user, languages, capacity in staff:
            volunteer = self._connect_staff(user, languages[0])
            self._availability(volunteer, True, capacity, languages, [])
        if watching != "no":
            supervisor = self._connect_staff("u3", "en")
            if watching == "following the board":
                self._follow(supervisor, subscribe=True)
        if then_match:
            self.matcher()
            if watching != "no" and self._active():
                self.join(who=len(self._supervisors()) - 1, which=0)

    # ---- rules: connections -------------------------------------------------------------------

    @precondition(lambda self: len(self._open()) < MAX_OPEN)
    @rule(lang=st.sampled_from(LANGUAGES))
    def connect_seeker(self, lang: str) -> None:
        self._connect_seeker(lang)

    @precondition(lambda self: len(self._open()) < MAX_OPEN)
    @rule(lang=st.sampled_from(LANGUAGES))
    def connect_practice_seeker(self, lang: str) -> None:
        self._connect_seeker(lang, practice=True)

    def _connect_seeker(self, lang: str, *, practice: bool = False) -> Peer:
        """An anonymous seeker's connection; or, `practice`, the one the supervisor u3's console
        opens to play a seeker (issue 13)."""
        if practice:
            cid = self._new_id("p")
            request = ConnectRequest(cid, "seeker", "u3", "Alias u3", {"lang": lang}, practice=True)
        else:
            cid = self._new_id("s")
            request = ConnectRequest(cid, "", "", "", {"lang": lang})
        connect(self.svc, request)
        self.peers[cid] = peer = Peer(cid, "seeker", key=self._key_of(cid), practice=practice)
        self._observe()
        return peer

    def _key_of(self, cid: str) -> str:
        conn = self._conn(cid)
        assert conn is not None, f"{cid} has no connection record"
        return conn.seeker_key

    @precondition(lambda self: len(self._open()) < MAX_OPEN)
    @rule(user=st.sampled_from(sorted(ACCOUNTS)), lang=st.sampled_from(LANGUAGES))
    def connect_staff(self, user: str, lang: str) -> None:
        self._connect_staff(user, lang)

    def _connect_staff(self, user: str, lang: str) -> Peer:
        cid = self._new_id("v")
        role = ACCOUNTS[user]
        connect(self.svc, ConnectRequest(cid, role, user, f"Alias {user}", {"lang": lang}))
        self.peers[cid] = peer = Peer(cid, role, user)
        self._observe()
        return peer

    @precondition(lambda self: bool(self._live()))
    @rule(who=WHO, forget=st.booleans())
    def goes_away(self, who: int, forget: bool) -> None:
        """A socket closes (posts get 410) and $disconnect has not run yet; or a seeker asks to
        be forgotten (`forget`), after which the server closes it."""
        peer = self._pick(self._live(), who)
        if forget and not peer.staff:
            got = self._send(peer, {"action": "forget"})
            if self._rate_limited(got):
                return
            assert got[-1:] == [{"type": "forgotten"}], _describe(got)
            assert peer.cid in self.svc.notifier.closed
            peer.gone = peer.forgotten = True
            self.forgotten_keys.add(peer.key)
            return
        peer.gone = True
        self.svc.notifier.gone.add(peer.cid)
        self._observe()

    @precondition(lambda self: bool(self._open()))
    @rule(who=WHO)
    def disconnect(self, who: int) -> None:
        """$disconnect runs (after the socket closed, if it had not already)."""
        peer = self._pick(self._open(), who)
        peer.gone = True
        self.svc.notifier.gone.add(peer.cid)
        kept = self._keeps_a_place(peer)
        disconnect(self.svc, DisconnectRequest(peer.cid, 1001, "Going away"))
        self._disconnected(peer, kept)
        self._observe()

    def _holds_a_place(self, peer: Peer) -> bool:
        """Staff, and seekers waiting or in a chat: the sweeper asks after them every run."""
        conn = self.svc.connections.get_connection(peer.cid)
        return peer.staff or (conn is not None and conn.state != "idle")

    def _keeps_a_place(self, peer: Peer) -> bool:
        """Whether its $disconnect should start a grace period: a seeker waiting or in a chat,
        with a resume token (PROTOCOL.md: "resume")."""
        conn = self.svc.connections.get_connection(peer.cid)
        return (
            not peer.staff
            and not peer.practice  # a practice seeker's chat ends at once (issue 13)
            and conn is not None
            and conn.state in ("waiting", "chatting")
            and conn.resume_hash is not None
            and conn.away_until is None
        )

    def _disconnected(self, peer: Peer, kept: bool) -> None:
        peer.disconnected = True
        if kept:
            peer.away_until = self.svc.clock() + self.svc.settings.resume_grace_seconds

    def _dropped(self) -> list[Peer]:
        """Seekers whose socket closed, holding a resume token they were told."""
        return [
            p
            for p in self.peers.values()
            if p.gone and not p.staff and not p.forgotten and p.token is not None
        ]

    def _may_resume(self, old: Peer) -> bool:
        """PROTOCOL.md: within the grace period after a seeker's connection dropped, a new
        connection with their (latest, unused) resume token takes the old one's place."""
        if old.resumed_to is not None or old.practice:
            return False  # that token was used, or a practice seeker's (never resumed)
        if not old.disconnected:
            return True  # dropped, and $disconnect has not run yet
        return old.away_until is not None and self.svc.clock() < old.away_until

    @rule(after_grace=st.booleans())
    def sweeper(self, after_grace: bool) -> None:
        """The scheduled sweeper runs (now, or once a grace period has passed): it treats a
        closed socket whose $disconnect never ran as disconnected, and ends the grace period
        of seekers away past it."""
        from kindred.sweeper import sweep

        if after_grace:
            self.svc.clock.advance(self.svc.settings.resume_grace_seconds + 1)
        from kindred.sweeper import idle_check_due

        unseen = [p for p in self.peers.values() if p.gone and not p.disconnected]
        kept = {p.cid: self._keeps_a_place(p) for p in unseen}
        held = {p.cid: self._holds_a_place(p) for p in unseen}
        self.swept_at = self.svc.clock()
        run_number = int(self.svc.clock()) // 60  # the sweeper runs once a minute
        sweep(self.svc)
        for peer in unseen:
            if peer.forgotten:
                continue
            # An idle seeker's socket is asked after one run in IDLE_CHECK_RUNS: until its
            # run, its lost $disconnect stays lost (nothing anyone waits on).
            if held[peer.cid] or idle_check_due(peer.cid, run_number):
                self._disconnected(peer, kept[peer.cid])
        self._observe()

    # ---- rules: client frames -----------------------------------------------------------------

    @precondition(lambda self: bool(self._live("seeker")))
    @rule(
        who=WHO,
        topics=st.lists(st.sampled_from(TOPICS), max_size=2),
        language=st.none() | st.sampled_from(LANGUAGES),
        intro=st.sampled_from(INTROS),
    )
    def match(self, who: int, topics: list[str], language: str | None, intro: str | None) -> None:
        self._match(self._pick(self._live("seeker"), who), topics, language, intro)

    def _match(
        self, peer: Peer, topics: list[str], language: str | None, intro: str | None
    ) -> None:
        frame: dict[str, Any] = {"action": "match", "topics": topics}
        if language is not None:
            frame["language"] = language
        if intro is not None:
            frame["intro"] = intro
        before = (peer.state, peer.session)
        got = self._send(peer, frame)
        if self._rate_limited(got):
            return
        told_before, _, answer = self._told_before(got, before)
        if told_before == "idle":
            assert [f["type"] for f in answer][:1] == ["queued"], _describe(got)
        else:
            expected = "already_waiting" if told_before == "waiting" else "already_in_chat"
            assert self._errors(answer) == [expected], _describe(got)

    @precondition(lambda self: bool(self._live("staff")))
    @rule(
        who=WHO,
        available=st.booleans(),
        capacity=st.integers(1, 3),
        languages=st.none() | st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2),
        topics=st.lists(st.sampled_from(TOPICS), max_size=2),
    )
    def availability(
        self,
        who: int,
        available: bool,
        capacity: int,
        languages: list[str] | None,
        topics: list[str],
    ) -> None:
        self._availability(
            self._pick(self._live("staff"), who), available, capacity, languages, topics
        )

    def _availability(
        self,
        peer: Peer,
        available: bool,
        capacity: int,
        languages: list[str] | None,
        topics: list[str],
    ) -> None:
        frame: dict[str, Any] = {
            "action": "availability",
            "available": available,
            "capacity": capacity,
            "topics": topics,
        }
        if languages is not None:
            frame["languages"] = languages
        was_available = peer.available
        now = int(self.svc.clock())  # when it is served (the step's end is a second later)
        got = self._send(peer, frame)
        if self._rate_limited(got):
            return
        status = [f for f in got if f["type"] == "status"]
        expected: dict[str, Any] = {
            "type": "status",
            "available": available,
            "capacity": capacity,
            "activeChats": len(peer.chats),
        }
        # Issue 12: the shift and the pause, as the slot now has them; going off shift, the
        # console is asked to check in.
        slot = self.svc.slot(peer.cid)
        if available:
            since = slot.on_shift_since_ms / 1000
            cap = self.svc.settings.shift_cap_hours * 3600
            expected |= {"onShiftSince": iso_time(since), "shiftCapAt": iso_time(since + cap)}
            assert now - since < cap  # no example is that long: never "past the cap"
        if slot.paused_until is not None and slot.paused_until > now:
            expected["pausedUntil"] = iso_time(slot.paused_until)
            if available:
                expected["paused"] = "risk"
        if was_available and not available:
            expected["checkin"] = "end_of_shift"
        assert status == [expected], _describe(got)
        if len(peer.chats) > capacity:
            self.lowered.add(peer.cid)

    @precondition(lambda self: bool(self._live()))
    @rule(who=IN_CHAT, which=WHICH, text=st.sampled_from((None, "hello", RISKY)))
    def message_or_typing(self, who: int, which: int, text: str | None) -> None:
        """A message (or `typing` when there is no text) from either side."""
        action = {"action": "typing"} if text is None else {"action": "message", "text": text}
        self._act_in_chat(who, which, action)

    @precondition(lambda self: bool(self._live()))
    @rule(who=IN_CHAT, which=WHICH)
    def end(self, who: int, which: int) -> None:
        peer, chat, before, got = self._act_in_chat(who, which, {"action": "end"})
        if self._rate_limited(got):
            return
        state, session, answer = self._told_before(got, before)
        if not peer.staff:
            chat = self.chats.get(session) if session is not None else None
        if not peer.staff and state == "waiting":
            # PROTOCOL.md: a waiting seeker's `end` leaves the queue; `ended` only for a chat.
            assert answer == [], _describe(got)
            peer.state = "idle"
            self.handed_on.pop(peer.key, None)
        elif chat is not None:
            assert {"type": "ended", "sessionId": chat.sid, "reason": "ended_by_you"} in got, (
                _describe(got)
            )

    @precondition(lambda self: bool(self._live()))
    @rule(who=IN_CHAT, which=WHICH)
    def block(self, who: int, which: int) -> None:
        peer, chat, before, got = self._act_in_chat(who, which, {"action": "block"})
        _, session, answer = self._told_before(got, before)
        if not peer.staff:
            chat = self.chats.get(session) if session is not None else None
        if chat is not None and not self._errors(answer):
            assert {"type": "ended", "sessionId": chat.sid, "reason": "blocked"} in got, _describe(
                got
            )
            if chat.practice:  # nothing that could touch real matching is kept (issue 13)
                assert (chat.user, chat.seeker_key) not in self.svc.store.blocks
            else:
                self.blocks.setdefault((chat.seeker_key, chat.user), self.step)
        else:
            assert self._errors(answer), _describe(got)

    @precondition(lambda self: bool(self._live("staff")))
    @rule(who=IN_CHAT, which=WHICH, note=st.sampled_from(NOTES))
    def transfer(self, who: int, which: int, note: str | None) -> None:
        """A volunteer hands a seeker on; it always names a chat, as the protocol says."""
        peer = self._in_chat(who, "staff")
        mine = sorted(peer.chats, key=lambda sid: self.chats[sid].order)
        sid = self._chat_named(peer, which) or (mine[0] if mine else NO_SUCH_CHAT)
        chat = self.chats.get(sid) if sid in peer.chats else None
        frame: dict[str, Any] = {"action": "transfer", "sessionId": sid}
        if note is not None:
            frame["note"] = note
        got = self._send(peer, frame)
        if not self._errors(got):
            assert chat is not None, _describe(got)
            assert {"type": "ended", "sessionId": sid, "reason": "transferred"} in got
            self.handed_on[chat.seeker_key] = chat.user

    @precondition(lambda self: bool(self._live()))
    @rule(who=IN_CHAT, which=WHICH, level=st.sampled_from(("none", "concern", "high", "imminent")))
    def assess(self, who: int, which: int, level: str) -> None:
        """A volunteer judges a chat's risk level (a seeker's `assess` is refused)."""
        peer, chat, before, got = self._act_in_chat(
            who, which, {"action": "assess", "level": level}
        )
        if self._rate_limited(got):
            return
        _, _, answer = self._told_before(got, before)
        if not peer.staff:
            assert self._errors(answer) == ["not_allowed"], _describe(got)
        elif chat is not None:
            assert {"type": "assessed", "sessionId": chat.sid, "level": level} in got, _describe(
                got
            )
        else:
            assert self._errors(answer), _describe(got)

    # ---- rules: supervision (issue 12) ----------------------------------------------------------

    def _supervisors(self) -> list[Peer]:
        return [p for p in self._live("staff") if p.role == "supervisor"]

    def _in_order(self, sids: set[str]) -> list[str]:
        """Chats in the order they started (session ids are random: never sort by them, or
        the same steps would pick other chats in another run)."""
        return sorted(sids, key=lambda sid: self.chats[sid].order)

    @precondition(lambda self: bool(self._live("staff")))
    @rule(who=IN_CHAT, which=WHICH, note=st.sampled_from(NOTES))
    def escalate(self, who: int, which: int, note: str | None) -> None:
        """A volunteer asks the supervisors on shift for help in one of their chats."""
        peer = self._in_chat(who, "staff")
        sid = self._chat_named(peer, which)
        chat = self._chat_meant(peer, sid)
        frame: dict[str, Any] = _in_chat_frame({"action": "escalate"}, sid)
        if note is not None:
            frame["note"] = note
        got = self._send(peer, frame)
        if self._rate_limited(got):
            return
        answers = [f for f in got if f["type"] == "escalated"]
        if chat is not None:
            assert [a["sessionId"] for a in answers] == [chat.sid], _describe(got)
        else:
            assert self._errors(got) and not answers, _describe(got)

    @precondition(lambda self: bool(self._supervisors()))
    @rule(who=WHO, which=st.integers(0, 4))
    def join(self, who: int, which: int) -> None:
        """A supervisor steps into one of the active chats (or one that does not exist)."""
        peer = self._pick(self._supervisors(), who)
        active = self._in_order({s.session_id for s in self._active()})
        # Half the time one nobody has joined yet (if any): the others are refused.
        free = [sid for sid in active if self.svc.store.sessions[sid].supervisor_id is None]
        active = free if which % 2 == 0 and free else active
        sid = active[which] if which < len(active) else NO_SUCH_CHAT
        session = self.svc.store.sessions.get(sid)
        may = (
            session is not None
            and session.active
            and session.supervisor_id is None
            and session.volunteer_id != peer.cid
        )
        got = self._send(peer, {"action": "join", "sessionId": sid})
        if self._rate_limited(got):
            return
        if may:
            assert [f["type"] for f in got if f["sessionId"] == sid][:1] == ["joined"], _describe(
                got
            )
        else:
            assert self._errors(got), _describe(got)

    @precondition(lambda self: bool(self._supervisors()))
    @rule(who=WHO, which=st.integers(0, 2))
    def leave(self, who: int, which: int) -> None:
        """A supervisor leaves a chat it joined (or one it did not: refused)."""
        peer = self._pick(self._supervisors(), who)
        mine = self._in_order(peer.joined)
        sid = mine[which] if which < len(mine) else NO_SUCH_CHAT
        got = self._send(peer, {"action": "leave", "sessionId": sid})
        if self._rate_limited(got):
            return
        if sid in mine:
            assert {"type": "supervisor_left", "sessionId": sid} in got, _describe(got)
        else:
            assert self._errors(got) == ["not_in_chat"], _describe(got)

    @precondition(lambda self: bool(self._live()))
    @rule(who=IN_CHAT, which=st.integers(0, 4), text=st.sampled_from(("psst", RISKY)))
    def whisper(self, who: int, which: int, text: str) -> None:
        """A whisper from anyone: a volunteer in a chat a supervisor is in, that supervisor, or
        (refused) a seeker or anyone else."""
        live = self._live()
        supervising = [p for p in live if p.joined or p.watched]
        peer = self._pick(supervising if who < 8 and supervising else live, who)
        mine = self._in_order(peer.watched | peer.joined) + self._in_order(peer.chats)
        sid = mine[which - 1] if 0 < which <= len(mine) else None
        if which == 4:
            sid = NO_SUCH_CHAT
        got = self._send(peer, _in_chat_frame({"action": "whisper", "text": text}, sid))
        if self._rate_limited(got):
            return
        if not peer.staff:
            assert self._errors(self._told_before(got, (peer.state, peer.session))[2]) == [
                "not_allowed"
            ], _describe(got)

    @precondition(lambda self: any(p.joined for p in self._live("staff")))
    @rule(who=WHO, text=st.sampled_from(("hello both", RISKY)))
    def supervisor_writes(self, who: int, text: str) -> None:
        """A supervisor writes in a chat it joined: both sides read it."""
        peer = self._pick([p for p in self._live("staff") if p.joined], who)
        sid = self._in_order(peer.joined)[who % len(peer.joined)]
        got = self._send(peer, {"action": "message", "sessionId": sid, "text": text})
        assert not self._errors(got) or set(self._errors(got)) <= {
            "rate_limited",
            "peer_gone",
            "peer_away",
        }, _describe(got)

    @precondition(lambda self: bool(self._supervisors()))
    @rule(who=WHO, subscribe=st.booleans())
    def board_subscription(self, who: int, subscribe: bool) -> None:
        """A supervisor starts (the board comes at once) or stops following the board."""
        self._follow(self._pick(self._supervisors(), who), subscribe)

    def _follow(self, peer: Peer, subscribe: bool) -> None:
        was = peer.subscribed
        peer.subscribed = subscribe or was  # a board in flight may still come this step
        got = self._send(peer, {"action": "board", "subscribe": subscribe})
        if self._rate_limited(got):
            peer.subscribed = was
            return
        peer.subscribed = subscribe
        assert [f["type"] for f in got] == (["board"] if subscribe else []), _describe(got)

    @precondition(lambda self: bool(self._live()))
    @rule(who=WHO)
    def ping(self, who: int) -> None:
        """A ping (not counted by the rate limit); after `?resume=`, the first ping also hears
        how the resume went."""
        got = self._send(self._pick(self._live(), who), {"action": "ping"})
        assert got[-1:] == [{"type": "pong"}], _describe(got)

    # ---- rules: the matcher and the clock -----------------------------------------------------

    @rule()
    def matcher(self) -> None:
        """The matcher runs, as the match queue's consumer: once for the work items so far, and
        again while a run itself queued more (a match lost to a gone volunteer, a freed slot)."""
        self.matcher_runs += 1
        for _ in range(MATCHER_RUNS):
            self.work_done = len(self._matcher_reasons())
            run_matcher(self.svc)
            if len(self._matcher_reasons()) == self.work_done:
                break
        else:
            raise AssertionError(f"the matcher asked for itself {MATCHER_RUNS} times running")
        # The `board` work items due: one push for them all, as the matcher function makes.
        due = self.svc.work.reasons.count("board") - self.board_items_done
        if due:
            self.board_items_done += due
            if board.push(self.svc):
                self.pushed_at.append(self.svc.clock())
        # Who fits whom at the moment the matcher ran: the step's end is a second later, when
        # a pause may be over or a topic wait may have run out (a work item then is due).
        fitting = self._fitting_pairs()
        self._observe()
        assert not fitting, f"after the matcher, waiting seekers fit free volunteers: {fitting}"

    @precondition(lambda self: any(u > self.svc.clock() for u in self.paused.values()))
    @rule(early=st.booleans())
    def pause_passes(self, early: bool) -> None:
        """Issue 12: a volunteer's pause after a risk chat runs out (or is two seconds from
        it: the matcher's step ends a second later, still within it), then the matcher runs:
        nobody paused is matched, and a volunteer whose pause is over takes chats again."""
        until = max(u for u in self.paused.values() if u > self.svc.clock())
        self.svc.clock.advance(max(0, until - self.svc.clock() - (2 if early else 0)))
        self.matcher()

    @rule(seconds=st.sampled_from((1, 10, 61, RISK_PAUSE_SECONDS)))
    def tick(self, seconds: int) -> None:
        """Time passes: a second, a while, a minute (the sweeper's), or a risk pause."""
        self.svc.clock.advance(seconds)
        self._observe()

    # ---- invariants ------------------------------------------------------------------------------

    @invariant()
    def no_volunteer_above_capacity(self) -> None:
        """A volunteer's active chats, counted in the sessions, agree with their slot, and are
        never more than their capacity: a chat only starts in a free slot. (A volunteer may
        lower their capacity below the chats they have; those chats go on.)"""
        active = self._active_by("volunteer_id")
        for slot in self.svc.store.slots.values():
            cid, capacity = slot.connection_id, slot.capacity
            assert slot.active == active[cid], (
                f"{cid}'s slot counts {slot.active} chats, the sessions {active[cid]}"
            )
            if cid in self.started_now or cid not in self.lowered:
                assert active[cid] <= capacity, f"{cid} has {active[cid]} chats of {capacity}"
        for peer in self.peers.values():
            conn = self._conn(peer.cid)
            if peer.staff and conn is not None:
                in_sessions = {s.session_id for s in self._active() if s.volunteer_id == peer.cid}
                assert set(conn.chats) == in_sessions, (
                    f"{peer.cid}'s connection lists chats {sorted(conn.chats)}, "
                    f"the sessions {sorted(in_sessions)}"
                )

    @invariant()
    def no_seeker_in_two_chats_nor_waiting_and_chatting(self) -> None:
        active = self._active_by("seeker_id")
        entries = self.svc.store.entries.in_order()
        queued = Counter(entry.connection_id for entry in entries)
        for peer in self.peers.values():
            if peer.staff:
                continue
            cid = peer.cid
            assert active[cid] <= 1, f"{cid} is in {active[cid]} chats"
            assert queued[cid] <= 1, f"{cid} is in the queue {queued[cid]} times"
            assert not (active[cid] and queued[cid]), f"{cid} is both waiting and chatting"
            conn = self._conn(cid)
            if conn is None:
                continue
            state = conn.state
            keys = [e.queue_key for e in entries if e.connection_id == cid]
            assert (state == "waiting") == bool(keys), f"{cid} is {state}, queue entries {keys}"
            if keys:
                assert conn.queue_key == keys[0], f"{cid}'s queue key is not its entry"
            assert (state == "chatting") == bool(active[cid]), f"{cid} is {state}"
            if state == "chatting":
                session = self.svc.store.sessions.get(conn.session_id or "")
                assert session is not None and session.active, f"{cid}: {conn}"
                assert session.seeker_id == cid and session.volunteer_id == conn.peer_id

    @invariant()
    def nothing_left_of_a_connection_whose_disconnect_ran(self) -> None:
        """No active chat, queue entry, slot, shift or connection record of a connection whose
        $disconnect has run (or a seeker who was forgotten, or whose place a resumed connection
        took), except a seeker in its grace period: its connection record is marked away until
        the grace ends, its queue entry (if any) is flagged away; once the sweeper has run past
        the grace, nothing is left."""
        left = set()
        for p in self.peers.values():
            if p.forgotten or p.resumed_to or (p.disconnected and p.away_until is None):
                left.add(p.cid)
            elif p.disconnected and p.away_until is not None:
                if self.swept_at is not None and p.away_until <= self.swept_at:
                    left.add(p.cid)
                else:
                    conn = self._conn(p.cid)
                    assert conn is not None and conn.away_until == int(p.away_until), (
                        f"{p.cid} is in its grace period, its connection record is {conn}"
                    )
                    for entry in self.svc.store.entries.values():
                        if entry.connection_id == p.cid:
                            assert entry.away, f"{p.cid} is away: {entry}"
        for session in self._active():
            assert session.seeker_id not in left and session.volunteer_id not in left, (
                f"an active chat with a participant who left: {session}"
            )
        for entry in self.svc.store.entries.values():
            assert entry.connection_id not in left, f"{entry.connection_id} is still queued"
        for cid in self.svc.store.slots:
            assert cid not in left, f"{cid} still has a volunteer slot"
        for cid in left:
            assert self._conn(cid) is None, f"{cid}'s connection record is still there"
        on_shift = set(self.svc.store.on_shift)
        supervisors = {
            p.cid for p in self.peers.values() if p.role == "supervisor" and not p.disconnected
        }
        assert on_shift == supervisors, f"on shift {on_shift}, connected {supervisors}"

    @invariant()
    def blocked_pairs_never_matched(self) -> None:
        """No chat started for a seeker and a volunteer account after a block between them was
        accepted; the block is kept (a record naming the account and the seeker's key) until the
        seeker is forgotten, and then nothing of it is left."""
        for chat in self.chats.values():
            blocked_at = self.blocks.get((chat.seeker_key, chat.user))
            assert blocked_at is None or chat.step < blocked_at, (
                f"{chat.seeker} and account {chat.user} were matched at step {chat.step} after "
                f"a block at step {blocked_at}"
            )
        for key, user in self.blocks:
            kept = (user, key) in self.svc.store.blocks
            assert kept != (key in self.forgotten_keys), (
                f"the block of seeker key {key} and account {user} is "
                f"{'still kept after' if kept else 'not kept without'} a `forget`"
            )

    def _matcher_reasons(self) -> list[str]:
        """The work items that make the matcher run a matching pass (a batch of only `board`
        items does not)."""
        return [r for r in self.svc.work.reasons if r != "board"]

    @invariant()
    def a_fitting_pair_always_has_a_matcher_run_coming(self) -> None:
        """A waiting seeker is matched as soon as a fitting volunteer is free: whenever a waiting
        seeker and a free volunteer fit each other, a work item since the matcher's last run
        will make it run. (Right after the matcher, no such pair is left: see `matcher`.)"""
        if len(self._matcher_reasons()) > self.work_done:
            return
        fitting = self._fitting_pairs()
        assert not fitting, f"seekers fit free volunteers and no matcher run is due: {fitting}"

    @invariant()
    def what_each_was_told_agrees_with_the_store(self) -> None:
        for peer in self.peers.values():
            if peer.gone or peer.pending is not None:
                continue
            conn = self.svc.connections.get_connection(peer.cid)
            assert conn is not None, f"{peer.cid} is connected but its record is gone"
            if peer.staff:
                assert set(conn.chats) == peer.chats, (
                    f"{peer.cid} was told of chats {sorted(peer.chats)}, "
                    f"the store has {sorted(conn.chats)}"
                )
                assert set(conn.joined) == peer.joined, (
                    f"{peer.cid} was told it joined {sorted(peer.joined)}, "
                    f"the store has {sorted(conn.joined)}"
                )
                assert set(conn.supervisors) == peer.watched, (
                    f"{peer.cid} was told a supervisor is in {sorted(peer.watched)}, "
                    f"the store has {sorted(conn.supervisors)}"
                )
            else:
                assert (conn.state, conn.session_id) == (peer.state, peer.session), (
                    f"{peer.cid} was told {peer.state} {peer.session}, "
                    f"the store has {conn.state} {conn.session_id}"
                )
                assert (conn.supervisor_id is not None) == bool(peer.watched), (
                    f"{peer.cid} was told a supervisor is in {sorted(peer.watched)}, "
                    f"the store has {conn.supervisor_id}"
                )

    @invariant()
    def each_volunteer_knows_the_level_of_each_of_their_chats(self) -> None:
        """The level an active chat has is the one its volunteer was last told: `matched.risk`,
        then each rise (`alert`) and each of their own `assessed`."""
        for peer in self.peers.values():
            if peer.gone or not peer.staff:
                continue
            for sid in peer.chats:
                session = self.svc.store.sessions.get(sid)
                if session is not None and session.active:
                    assert session.level == peer.levels[sid], (
                        f"{peer.cid} was told chat {sid} is at {peer.levels[sid]}, "
                        f"the store has {session.level}"
                    )

    @invariant()
    def a_waiting_seeker_knows_its_place(self) -> None:
        """The last place a waiting seeker was told (`queued`, then `position` whenever it
        changes) is its place in the queue, if among the first `position_updates` (all of
        them, here, but for seekers long away)."""
        keys = sorted(e.queue_key for e in self.svc.queue.waiting(1000))  # the real queue
        for peer in self.peers.values():
            if peer.gone or peer.staff or peer.state != "waiting" or peer.pending is not None:
                continue
            if peer.practice:
                continue  # told its place among practice seekers in `queued`, not again
            conn = self.svc.connections.get_connection(peer.cid)
            assert conn is not None and conn.queue_key in keys
            place = keys.index(conn.queue_key) + 1
            if place > self.svc.settings.position_updates:
                continue  # told its place in `queued`, and again once among the first
            assert peer.position == place, (
                f"{peer.cid} was last told place {peer.position}, it is at {place} of {len(keys)}"
            )

    @invariant()
    def a_whisper_never_reaches_a_seeker(self) -> None:
        """No whisper was ever posted to a seeker's connection, delivered or not."""
        seekers = {p.cid for p in self.peers.values() if not p.staff}
        for cid in seekers:
            whispers = [f for f in self.svc.notifier.wire.get(cid, []) if f["type"] == "whisper"]
            assert whispers == [], f"{cid} got {whispers}"
        for cid, frame in self.svc.notifier.undelivered:
            assert not (cid in seekers and frame.type == "whisper"), f"{cid} was sent {frame}"

    @invariant()
    def every_link_to_a_supervisor_is_true_of_the_chat(self) -> None:
        """A chat's supervisor is named on the items a relay reads, and nowhere else: the
        seeker's connection, the volunteer's, and the supervisor's own (with the chat's two
        sides) name each other exactly while the chat is active and that supervisor is in
        it. One supervisor per chat."""
        sessions = self.svc.store.sessions
        for session in sessions.values():
            if not session.active:
                assert session.supervisor_id is None, f"an ended chat names one: {session}"
        for conn in self.svc.store.conns.values():
            if conn.supervisor_id is not None:
                s = sessions.get(conn.session_id or "")
                assert s is not None and s.active and s.supervisor_id == conn.supervisor_id
                assert s.seeker_id == conn.connection_id, conn
            for sid, sup in conn.supervisors.items():
                s = sessions.get(sid)
                assert s is not None and s.active and s.supervisor_id == sup, conn
                assert s.volunteer_id == conn.connection_id and sid in conn.chats, conn
            for sid, sides in conn.joined.items():
                s = sessions.get(sid)
                assert s is not None and s.active and s.supervisor_id == conn.connection_id
                assert sides == JoinedChat(s.seeker_id, s.volunteer_id), (conn, s)
        conns = self.svc.store.conns
        for s in self._active():
            if s.supervisor_id is None:
                continue
            seeker, vol, sup = (
                conns.get(c) for c in (s.seeker_id, s.volunteer_id, s.supervisor_id)
            )
            assert seeker is None or seeker.supervisor_id == s.supervisor_id, (s, seeker)
            assert vol is None or vol.supervisors.get(s.session_id) == s.supervisor_id, (s, vol)
            assert sup is None or s.session_id in sup.joined, (s, sup)

    @invariant()
    def the_board_goes_to_supervisors_at_most_every_two_seconds(self) -> None:
        """Pushes of the board are PUSH_DELAY_SECONDS apart at least; only supervisors still
        connected follow it."""
        gaps = [b - a for a, b in zip(self.pushed_at, self.pushed_at[1:], strict=False)]
        assert all(g >= board.PUSH_DELAY_SECONDS for g in gaps), self.pushed_at
        supervisors = {p.cid for p in self.peers.values() if p.role == "supervisor"}
        open_ = {p.cid for p in self.peers.values() if not p.disconnected}
        followers = set(self.svc.store.board_subscribers)
        assert followers <= supervisors & open_, followers

    @invariant()
    def nobody_ever_got_internal(self) -> None:
        for cid, frames in self.svc.notifier.wire.items():
            for frame in frames:
                assert not (frame["type"] == "error" and frame["code"] == "internal"), (
                    f"{cid} got {frame}"
                )
        for cid, frame in self.svc.notifier.undelivered:
            assert getattr(frame, "code", None) != "internal", f"{cid} was sent {frame}"


KindredMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestKindredStateMachine = KindredMachine.TestCase


class ResumeMachine(KindredMachine):
    """The same, and seekers whose socket dropped coming back with `?resume=` (issue 5)."""

    @precondition(lambda self: len(self._open()) < MAX_OPEN and bool(self._dropped()))
    @rule(who=WHO)
    def resume(self, who: int) -> None:
        """A seeker whose socket dropped comes back: a new connection with `?resume=` and the
        last resume token it was told."""
        old = self._pick(self._dropped(), who)
        assert old.token is not None
        expected = self._may_resume(old)
        cid = self._new_id("s")
        connect(self.svc, ConnectRequest(cid, "", "", "", {"lang": "en", "resume": old.token}))
        conn = self._conn(cid)
        assert conn is not None, f"{cid} has no connection record"
        took_over = conn.resumed
        assert took_over == expected, (
            f"{cid} came back with {old.cid}'s token: {'resumed' if took_over else 'refused'}, "
            f"not {'resumed' if expected else 'refused'} ({old})"
        )
        if took_over:
            assert conn.seeker_key == old.key
            old.resumed_to = cid
            peer = Peer(cid, "seeker", key=old.key, pending="resumed")
            peer.ended, peer.crisis = set(old.ended), set(old.crisis)
        else:
            assert conn.resume_failed and conn.seeker_key != old.key
            peer = Peer(cid, "seeker", key=conn.seeker_key, pending="resume_failed")
        self.peers[cid] = peer
        self._observe()


ResumeMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
TestResumeStateMachine = ResumeMachine.TestCase


# ---- regression tests: what the state machine found ------------------------------------------


def test_a_seeker_queued_ahead_in_the_same_millisecond_tells_the_one_behind() -> None:
    """Given seeker "b" queued (told place 1), when seeker "a" asks for a match in the same
    millisecond, then "a" is first and "b" second, so "b" must hear `position` 2.

    The state machine found it with the clock standing still between steps: a seeker in a
    chat blocks the volunteer and asks for a match again in the millisecond another seeker had
    queued in; it now moves time on between steps, and this case stays here. (Fixed in
    1457534.)"""
    svc = make_services()
    fake_connect(svc, "b")
    fake_connect(svc, "a")
    send(svc, "b", {"action": "match"})
    send(svc, "a", {"action": "match"})
    told = [f["position"] for f in svc.notifier.take("b") if f["type"] in ("queued", "position")]
    queue = [entry.connection_id for entry in svc.queue.waiting(10)]
    assert queue == ["a", "b"]
    assert told[-1] == 2, f"b was told {told}, its place is 2"


def _volunteer(svc: FakeServices, cid: str = "v1") -> None:
    fake_connect(svc, cid, "volunteer", user_id=f"user-{cid}", alias="Vol")
    send(svc, cid, {"action": "availability", "available": True})


def _last_token(svc: FakeServices, cid: str) -> str:
    """The last resume token a seeker was told."""
    return str([f for f in svc.notifier.wire[cid] if "resumeToken" in f][-1]["resumeToken"])


def _resume(svc: FakeServices, cid: str, token: str) -> None:
    connect(svc, ConnectRequest(cid, "", "", "", {"resume": token}))


def _drop(svc: FakeServices, cid: str, *, disconnect_runs: bool = True) -> None:
    """The socket closes (posts get 410); then, maybe, $disconnect runs."""
    svc.notifier.gone.add(cid)
    if disconnect_runs:
        disconnect(svc, DisconnectRequest(cid, 1001, "Going away"))


def test_a_resumed_seeker_in_the_queue_wakes_the_matcher() -> None:
    """Given a waiting seeker whose $disconnect ran (away: the matcher skips them) and a free
    volunteer, when the matcher has run and the seeker resumes, then a matcher run is due.

    State machine: cast(seekers=[('en', None)], staff=[('u1', ['en'], 1)], then_match=False),
    disconnect(who=0), matcher(), resume(who=0): a_fitting_pair_always_has_a_matcher_run_coming.
    (Fixed in 6050163.)
    """
    svc = make_services()
    fake_connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    _volunteer(svc)
    _drop(svc, "s1")
    assert run_matcher(svc) == 0  # away: skipped
    served = len(svc.work.reasons)
    _resume(svc, "s2", _last_token(svc, "s1"))
    assert [e.connection_id for e in svc.queue.waiting(10)] == ["s2"]
    assert len(svc.work.reasons) > served, "no matcher run is due; s2 and v1 fit each other"


def test_a_resumed_seekers_first_match_is_queued() -> None:
    """Given a seeker who queued, left the queue and whose socket dropped, when they resume and
    their first action is `match`, then they hear `resumed` (idle) and `queued`.

    State machine: cast(seekers=[('en', None)], staff=[('u1', ['en'], 1)], then_match=False),
    matcher(), disconnect(who=0), resume(who=0), block(which=0, who=0) (the volunteer),
    match(who=0): resumed(idle), error(already_waiting). (The same after `end` while waiting
    and a drop, as here. Fixed in 6050163.)"""
    svc = make_services()
    fake_connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    send(svc, "s1", {"action": "end"})
    _drop(svc, "s1", disconnect_runs=False)
    _resume(svc, "s2", _last_token(svc, "s1"))
    send(svc, "s2", {"action": "match"})
    got = [(f["type"], f.get("state") or f.get("code")) for f in svc.notifier.take("s2")]
    assert got[:2] == [("resumed", "idle"), ("queued", None)], got


def test_a_seeker_transferred_while_their_socket_was_gone_can_resume() -> None:
    """Given a seeker in a chat whose socket dropped ($disconnect not run yet), when the
    volunteer transfers them, their $disconnect runs and they come back within the grace with
    the last token they were told, then they take their place in the queue.

    State machine (not shrunk): a seeker's socket goes away, a transfer of their chat, the
    sweeper runs their $disconnect, then resume: refused, expected resumed. (Fixed in
    6050163.)"""
    svc = make_services()
    fake_connect(svc, "s1")
    send(svc, "s1", {"action": "match"})
    _volunteer(svc)
    run_matcher(svc)
    token = _last_token(svc, "s1")
    session = svc.connections.get_connection("s1")
    assert session is not None and session.session_id is not None
    _drop(svc, "s1", disconnect_runs=False)
    send(svc, "v1", {"action": "transfer", "sessionId": session.session_id})
    disconnect(svc, DisconnectRequest("s1", 1001, "Going away"))
    _resume(svc, "s2", token)
    resumed = svc.connections.get_connection("s2")
    assert resumed is not None and resumed.resumed, "resume refused within the grace period"
