"""The supervisors' board: what it costs per hour at 10 and 100 concurrent chats (issue 12).

    .venv/bin/python -m bench.board [--levels 10 100] [--minutes 15] [--seed 12]

The deployed handlers on in-process moto (bench.common), on a simulated clock that moves one
second a step: the handlers' services and moto's SQS read it, so a work item delayed 2 s comes
due 2 simulated seconds later, as in AWS. A level's chats are set up first (volunteers with 3
slots, seekers matched, supervisors following the board: not measured); then, for `--minutes`
of simulated time (at 100 chats; 10 chats run 60 minutes, to see as many chats end), realistic
traffic: each side of each chat writes a message every 30 s on
average (with a `typing` before each), a chat ends after 20 minutes on average and a new
seeker arrives, asks and is matched; one chat in ten has a risk message (a level rise), one in
twenty an escalation, half of those a supervisor who joins and leaves. Each second the SQS
messages that are due go to the matcher, the board's apart from the others (an upper bound on
the matcher's invocations: in AWS they may share a batch).

Every AWS call is recorded; a call is the board's when it exists only for the board: an
UpdateItem of the `BOARD` partition (a change's claim, a push's start, a subscription, a
chat's row's level or escalation), an eventually consistent Query (only the board reads so), a
post of a `board` frame, a `board` work item sent, and the `BOARD` items of the match and end
transactions; the matcher's invocations for board items are the board's, calls, duration and
all. Priced at bench/prices.py's list prices; per hour is the run scaled to 3,600 s.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import prices
from bench.common import (
    RESULTS,
    Call,
    InProcessStack,
    Invocation,
    TokenIssuer,
    bullets,
    dynamo_units,
    item_level_transaction_backups,
    markdown_table,
    write_results,
)
from bench.cost import DEFAULT_LATENCY_MS, LATENCY_MS, Usage, memory_of, modelled_ms

CAPACITY = 3
SUBSCRIBERS = 2
MESSAGE_EVERY_S = 30  # per side of a chat, on average (one typing frame before each)
CHAT_MINUTES = 20  # a chat's mean length; when one ends, a new seeker comes
RISKY_SHARE = 0.10  # of chats, a risk message (the level rises once)
ESCALATED_SHARE = 0.05  # of chats, an escalation (half of them a supervisor joins, then leaves)
JOINED_MINUTES = 3  # how long a supervisor stays, on average
RISKY = "I want to kill myself"
PUSH_CAP_PER_HOUR = 3600 // 2  # one push every 2 s at most


class SimClock:
    """Epoch seconds that move only when the bench moves them."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@contextmanager
def simulated_time(clock: SimClock) -> Iterator[None]:
    """The handlers' services (their clock and the table's) and moto's SQS read `clock`."""
    import moto.sqs.models as sqs_models

    from kindred.aws.wiring import services

    svc = services()
    object.__setattr__(svc, "clock", clock)  # Services is frozen; this is the bench's clock
    svc.chats.table.clock = clock  # type: ignore[attr-defined]  # the one table of every adapter
    real = {name: getattr(sqs_models, name) for name in ("unix_time_millis", "unix_time")}
    setattr(sqs_models, "unix_time_millis", lambda *a, **k: clock() * 1000)  # noqa: B010
    setattr(sqs_models, "unix_time", lambda *a, **k: clock())  # noqa: B010
    try:
        yield
    finally:
        for name, function in real.items():
            setattr(sqs_models, name, function)


@dataclass
class Chat:
    seeker: str
    volunteer: str
    session_id: str
    risky_at: float | None = None
    escalate_at: float | None = None
    joined_by: str | None = None
    leave_at: float | None = None


@dataclass
class World:
    """The people of one run and what they are doing."""

    stack: InProcessStack
    issuer: TokenIssuer
    clock: SimClock
    rng: random.Random
    volunteers: list[str] = field(default_factory=list)
    supervisors: list[str] = field(default_factory=list)
    chats: dict[str, Chat] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    push_times: list[float] = field(default_factory=list)
    board_batches: set[int] = field(default_factory=set)  # id() of the board's invocations

    def token(self, n: int, group: str) -> str:
        return self.issuer.pool_token(
            self.stack.environment,
            user=f"{group}{n}@example.org",
            name=f"{group.title()} {n}",
            group=group,
        )

    def add_volunteer(self) -> None:
        cid = self.stack.open(token=self.token(len(self.volunteers) + 1, "volunteers"))
        self.stack.send(cid, {"action": "availability", "available": True, "capacity": CAPACITY})
        self.volunteers.append(cid)

    def add_supervisor(self) -> None:
        cid = self.stack.open(token=self.token(len(self.supervisors) + 1, "supervisors"))
        self.stack.send(cid, {"action": "board", "subscribe": True})
        self.supervisors.append(cid)

    def seeker_asks(self) -> None:
        cid = self.stack.open(query="lang=en")
        self.stack.send(cid, {"action": "match", "language": "en"})
        self.waiting.append(cid)

    def _plan(self, chat: Chat) -> Chat:
        """When, in this chat's expected life, its risk message and escalation come."""
        life = CHAT_MINUTES * 60
        if self.rng.random() < RISKY_SHARE:
            chat.risky_at = self.clock() + self.rng.uniform(0, life)
        if self.rng.random() < ESCALATED_SHARE:
            chat.escalate_at = self.clock() + self.rng.uniform(0, life)
        return chat

    def note_matches(self) -> None:
        for cid in list(self.waiting):
            matched = next((f for f in self.stack.frames(cid) if f.get("type") == "matched"), None)
            if matched is None:
                continue
            self.waiting.remove(cid)
            session = matched["sessionId"]
            volunteer = next(
                v
                for v in self.volunteers
                if any(
                    f.get("type") == "matched" and f.get("sessionId") == session
                    for f in self.stack.all_frames(v)
                )
            )
            self.chats[session] = self._plan(Chat(cid, volunteer, session))

    def deliver(self) -> None:
        """The SQS messages due now to the matcher: the board's in batches of their own."""
        from local.poller import sqs_record

        stack = self.stack
        for source in stack.sources:
            while True:
                with stack.aws.paused():
                    messages = stack.sqs.receive_message(
                        QueueUrl=source.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
                    ).get("Messages", [])
                if not messages:
                    break
                board = [m for m in messages if json.loads(m["Body"]).get("reason") == "board"]
                other = [m for m in messages if m not in board]
                for batch in (board, other):
                    if not batch:
                        continue
                    records = [sqs_record(m, source.queue_arn, "us-east-1") for m in batch]
                    stack.invoke(source.function, "SQS batch", {"Records": records})
                    if batch is board:
                        self.board_batches.add(id(stack.invocations[-1]))
                        if any(_is_board_post(c) for c in stack.invocations[-1].calls):
                            self.push_times.append(self.clock())
                    with stack.aws.paused():
                        for m in batch:
                            stack.sqs.delete_message(
                                QueueUrl=source.queue_url, ReceiptHandle=m["ReceiptHandle"]
                            )

    def step(self) -> None:
        """One simulated second of traffic, then the work that came due."""
        rng, now, stack = self.rng, self.clock(), self.stack
        p_message = 1 / MESSAGE_EVERY_S
        p_end = 1 / (CHAT_MINUTES * 60)
        for chat in list(self.chats.values()):
            for side, frame in (
                (chat.seeker, {}),
                (chat.volunteer, {"sessionId": chat.session_id}),
            ):
                if rng.random() < p_message:
                    stack.send(side, {"action": "typing", **frame})
                    text = "I hear you, go on." if side == chat.volunteer else "It's been hard."
                    stack.send(side, {"action": "message", "text": text, **frame})
                    self.counts["messages"] += 1
            if chat.risky_at is not None and now >= chat.risky_at:
                chat.risky_at = None
                stack.send(chat.seeker, {"action": "message", "text": RISKY})
                self.counts["risk messages"] += 1
            if chat.escalate_at is not None and now >= chat.escalate_at:
                chat.escalate_at = None
                stack.send(chat.volunteer, {"action": "escalate", "sessionId": chat.session_id})
                self.counts["escalations"] += 1
                if rng.random() < 0.5 and self.supervisors:
                    chat.joined_by = rng.choice(self.supervisors)
                    stack.send(chat.joined_by, {"action": "join", "sessionId": chat.session_id})
                    chat.leave_at = now + rng.expovariate(1 / (JOINED_MINUTES * 60))
                    self.counts["joins"] += 1
            if chat.joined_by and chat.leave_at is not None and now >= chat.leave_at:
                stack.send(chat.joined_by, {"action": "leave", "sessionId": chat.session_id})
                chat.joined_by = chat.leave_at = None
            if rng.random() < p_end:
                stack.send(chat.seeker, {"action": "end"})
                stack.close(chat.seeker)
                stack.forget_frames(chat.seeker)
                del self.chats[chat.session_id]
                self.counts["chats ended"] += 1
                self.seeker_asks()
        self.deliver()
        self.note_matches()
        self.clock.now += 1


def _pk(params: dict[str, Any]) -> str:
    key = params.get("Key") or params.get("Item") or {}
    return str(key.get("pk", {}).get("S", ""))


def _is_board_post(call: Call) -> bool:
    if call.key != "apigatewaymanagementapi.PostToConnection":
        return False
    data = call.params.get("Data", b"")
    raw = data if isinstance(data, bytes) else str(data).encode()
    return raw.startswith(b'{"type":"board"')


def board_share(call: Call, largest_item: int) -> tuple[str | None, float, float]:
    """(what, RRU, WRU) of the board in one call; what is None when none of it is."""
    params = call.params
    if call.service == "dynamodb":
        if call.operation in ("UpdateItem", "PutItem", "DeleteItem") and _pk(params) == "BOARD":
            key = params["Key"]["sk"]["S"] if "Key" in params else ""
            what = (
                "claim"
                if "pendingSince = :now" in params.get("UpdateExpression", "")
                else (
                    "push start"
                    if "REMOVE pendingSince" in params.get("UpdateExpression", "")
                    else "subscription"
                    if key == "STATE"
                    else "chat row copy"
                )
            )
            return (what, *dynamo_units(call, largest_item))
        if call.operation == "Query" and not params.get("ConsistentRead", False):
            return ("board read", *dynamo_units(call, largest_item))
        if call.operation == "TransactWriteItems":
            rows = sum(
                1
                for op in params.get("TransactItems", [])
                if _pk(next(iter(op.values()))) == "BOARD"
            )
            if rows:
                return (
                    "chat row in a transaction",
                    0.0,
                    rows * prices.write_units(largest_item, transactional=True),
                )
        return None, 0.0, 0.0
    if _is_board_post(call):
        return "board post", 0.0, 0.0
    if call.key == "sqs.SendMessage" and '"board"' in str(call.params.get("MessageBody", "")):
        return "board work item", 0.0, 0.0
    return None, 0.0, 0.0


@dataclass
class BoardUsage:
    calls: Counter[str] = field(default_factory=Counter)
    rru: float = 0.0
    wru: float = 0.0
    posts: int = 0  # API Gateway messages billed (board frames)
    sqs_requests: int = 0
    lambda_requests: int = 0
    gb_s: float = 0.0
    max_frame_bytes: int = 0

    def add(self, inv: Invocation, memory_mb: int, largest_item: int, *, own: bool) -> None:
        """One invocation's share; `own`: the matcher's for a batch of `board` items only."""
        extra_ms = 0.0
        for call in inv.calls:
            what, rru, wru = board_share(call, largest_item)
            if what is None:
                continue
            self.calls[what] += 1
            self.rru += rru
            self.wru += wru
            if what == "board post":
                data = call.params.get("Data", b"")
                self.posts += prices.apigw_messages(len(data))
                self.max_frame_bytes = max(self.max_frame_bytes, len(data))
            elif what == "board work item":
                self.sqs_requests += 1
            extra_ms += LATENCY_MS.get(call.key, DEFAULT_LATENCY_MS)
        if own:
            self.lambda_requests += 1
            self.sqs_requests += 2  # the event source's ReceiveMessage and delete for its batch
            self.gb_s += prices.lambda_gb_seconds(modelled_ms(inv, memory_mb), memory_mb)
        else:  # the board's calls made another function's invocation that much longer
            self.gb_s += extra_ms / 1000 * memory_mb / 1024

    def lines(self, scale: float) -> list[tuple[str, float, float]]:
        quantities = [
            ("DynamoDB reads (RRU)", self.rru, prices.DDB_READ_UNIT),
            ("DynamoDB writes (WRU)", self.wru, prices.DDB_WRITE_UNIT),
            ("SQS requests", self.sqs_requests, prices.SQS_REQUEST),
            ("Lambda requests", self.lambda_requests, prices.LAMBDA_REQUEST),
            ("Lambda duration (GB-s, modelled)", self.gb_s, prices.LAMBDA_ARM_GB_SECOND),
            ("API Gateway messages (board posts)", self.posts, prices.APIGW_MESSAGE),
        ]
        return [(name, q * scale, price.cost(q * scale)) for name, q, price in quantities]


def run_level(
    stack: InProcessStack, issuer: TokenIssuer, chats: int, minutes: float, seed: int
) -> dict[str, Any]:
    clock = SimClock()
    world = World(stack, issuer, clock, random.Random(seed))
    with simulated_time(clock):
        with item_level_transaction_backups():
            for _ in range(SUBSCRIBERS):
                world.add_supervisor()
            while len(world.volunteers) * CAPACITY < chats:
                world.add_volunteer()
            for _ in range(chats):
                world.seeker_asks()
            for _ in range(10):
                world.deliver()
                world.note_matches()
                clock.now += 1
                if not world.waiting:
                    break
            if len(world.chats) != chats:
                raise RuntimeError(f"{len(world.chats)} chats set up, not {chats}")
            clock.now += 5
            world.deliver()
        first = len(stack.invocations)
        started = clock()
        world.counts.clear()
        world.push_times.clear()
        steps = int(minutes * 60)
        for _ in range(steps):
            world.step()
        measured = stack.invocations[first:]
    seconds = clock() - started
    scale = 3600 / seconds
    largest, items = stack.largest_item()
    memory = memory_of(stack)
    board = BoardUsage()
    everything = Usage()
    for inv in measured:
        fn_memory = memory.get(inv.function, 256)
        board.add(inv, fn_memory, largest, own=id(inv) in world.board_batches)
        everything.add(inv, fn_memory, largest)
    gaps = [b - a for a, b in zip(world.push_times, world.push_times[1:], strict=False)]
    board_lines = board.lines(scale)
    board_usd = sum(cost for _, _, cost in board_lines)
    all_usd = everything.usd(scale)
    pushes = len(world.push_times)
    per_push = {
        name: cost / (pushes * scale) if pushes else 0.0
        for name, _, cost in board_lines
        if name not in ("DynamoDB writes (WRU)",)
    }
    claims = board.calls["claim"]
    return {
        "chats": chats,
        "simulated_seconds": seconds,
        "volunteers": len(world.volunteers),
        "subscribers": SUBSCRIBERS,
        "traffic_per_hour": {k: round(v * scale) for k, v in sorted(world.counts.items())},
        "board_calls_per_hour": {k: round(v * scale) for k, v in sorted(board.calls.items())},
        "claims_per_hour": round(claims * scale),
        "pushes_per_hour": round(pushes * scale),
        "push_cap_per_hour": PUSH_CAP_PER_HOUR,
        "min_seconds_between_pushes": min(gaps) if gaps else None,
        "largest_board_frame_bytes": board.max_frame_bytes,
        "board_lines_per_hour": [
            {"line": name, "quantity": round(q, 2), "usd": round(c, 6)}
            for name, q, c in board_lines
        ],
        "board_usd_per_hour": round(board_usd, 6),
        "everything_usd_per_hour": round(all_usd, 6),
        "board_share_of_everything": round(board_usd / all_usd, 4) if all_usd else None,
        "push_usd_without_claims": round(sum(per_push.values()), 8),
        "bound_usd_per_hour": round(
            sum(per_push.values()) * PUSH_CAP_PER_HOUR
            + prices.DDB_WRITE_UNIT.cost(board.wru * scale),
            6,
        ),
        "table_items": items,
        "invocations": len(measured),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[10, 100])
    parser.add_argument(
        "--minutes",
        type=float,
        default=15.0,
        help="simulated minutes at 100 chats; a smaller level runs longer (up to an hour), so "
        "that it sees about as many chats end",
    )
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    with TokenIssuer() as issuer:
        for level in args.levels:
            with InProcessStack(extra_env={"COGNITO_JWKS_URL": issuer.url}) as stack:
                t0 = time.monotonic()
                minutes = min(60.0, args.minutes * max(1.0, 100 / level))
                row = run_level(stack, issuer, level, minutes, args.seed)
                row["wall_seconds"] = round(time.monotonic() - t0, 1)
                rows.append(row)
                print(
                    f"{level:>4} chats: board ${row['board_usd_per_hour']:.4f}/h "
                    f"({row['pushes_per_hour']} pushes, {row['claims_per_hour']} claims an hour), "
                    f"everything ${row['everything_usd_per_hour']:.4f}/h, "
                    f"in {row['wall_seconds']} s",
                    flush=True,
                )
    elapsed = time.monotonic() - started
    markdown = report(rows, args)
    print()
    print(markdown)
    print(f"Ran in {elapsed:.0f} s.")
    path = write_results(
        "board",
        {"levels": rows, "minutes": args.minutes, "seed": args.seed, "assumptions": assumptions()},
        markdown,
    )
    print(f"written: {path.relative_to(RESULTS.parent.parent)} and board.md")
    ok = all(
        r["pushes_per_hour"] <= PUSH_CAP_PER_HOUR
        and (r["min_seconds_between_pushes"] is None or r["min_seconds_between_pushes"] >= 2)
        for r in rows
    )
    return 0 if ok else 1


def report(rows: list[dict[str, Any]], args: Any) -> str:
    order = [line["line"] for line in rows[0]["board_lines_per_hour"]]
    table = markdown_table(
        ["per hour", *[f"{r['chats']} chats" for r in rows]],
        [
            (
                "traffic: messages, chats ended, risk messages, escalations, joins",
                *[
                    ", ".join(
                        str(r["traffic_per_hour"].get(k, 0))
                        for k in (
                            "messages",
                            "chats ended",
                            "risk messages",
                            "escalations",
                            "joins",
                        )
                    )
                    for r in rows
                ],
            ),
            (
                "changes the board shows (claims: one conditional UpdateItem each)",
                *[f"{r['claims_per_hour']:,}" for r in rows],
            ),
            ("pushes (cap: 1,800, one every 2 s)", *[f"{r['pushes_per_hour']:,}" for r in rows]),
            (
                "shortest time between two pushes",
                *[
                    f"{r['min_seconds_between_pushes']:.0f} s"
                    if r["min_seconds_between_pushes"]
                    else "-"
                    for r in rows
                ],
            ),
            ("largest board frame", *[f"{r['largest_board_frame_bytes']:,} bytes" for r in rows]),
            *[
                (
                    name,
                    *[
                        next(
                            f"{line['quantity']:,.1f}: ${line['usd']:.4f}"
                            for line in r["board_lines_per_hour"]
                            if line["line"] == name
                        )
                        for r in rows
                    ],
                )
                for name in order
            ],
            ("**the board, USD per hour**", *[f"**${r['board_usd_per_hour']:.4f}**" for r in rows]),
            (
                "everything in that hour (chats, matches, the board)",
                *[f"${r['everything_usd_per_hour']:.4f}" for r in rows],
            ),
            (
                "the board's share",
                *[f"{100 * (r['board_share_of_everything'] or 0):.1f}%" for r in rows],
            ),
            (
                "at most, whatever the traffic (1,800 pushes an hour, the same claims)",
                *[f"${r['bound_usd_per_hour']:.4f}" for r in rows],
            ),
        ],
    )
    return table + "\n\n" + bullets(assumptions()) + "\n"


def assumptions() -> list[str]:
    return [
        f"Simulated time (one step a second), the deployed handlers on in-process moto; "
        f"{SUBSCRIBERS} supervisors follow the board, not taking chats; volunteers take "
        f"{CAPACITY} chats each.",
        f"Traffic: each side of a chat writes every {MESSAGE_EVERY_S} s on average, with one "
        f"`typing` before each message; a chat lasts {CHAT_MINUTES} minutes on average (when "
        "one ends its seeker leaves and a new one asks and is matched); "
        f"{RISKY_SHARE:.0%} of chats have a risk message, {ESCALATED_SHARE:.0%} an escalation, "
        f"half of those a supervisor who joins for {JOINED_MINUTES} minutes on average.",
        "The board's calls: UpdateItems of the BOARD partition (claims, push starts, "
        "subscriptions, a chat row's level or escalation), eventually consistent Queries, posts "
        "of `board` frames, `board` work items, and the BOARD items of the match and end "
        "transactions (2 WRU each).",
        "The matcher's invocations for `board` work items are counted whole (request, modelled "
        "duration as in bench.cost, the event source's receive and delete); they are delivered "
        "in batches of their own, an upper bound. Elsewhere a board call adds its assumed "
        "latency (bench.cost.LATENCY_MS) to the duration of the invocation that made it.",
        "'At most': the push's own cost (start, three Queries, posts, the matcher) times 1,800 "
        "pushes an hour, plus the run's writes (claims and rows grow with the changes, not the "
        "messages).",
        "us-east-1 list prices (bench/prices.py); no free tier.",
    ]


if __name__ == "__main__":
    sys.exit(main())
