"""Cost: dollars per 1,000 standard conversations beside the API Gateway floor, and the idle month.

    .venv/bin/python -m bench.cost [--conversations 5]

A standard conversation, through the deployed handlers on in-process moto (bench.common):
a volunteer connects (with a Cognito-shaped ID token the $connect authorizer verifies) and
becomes available; a seeker connects and asks for a chat with an intro; the matcher pairs them;
40 messages each way, each side typing a few times (the web page pings only after 5 minutes
without sending a frame, so an active chat sends none); the seeker ends the chat; both
disconnect. Every AWS call is counted by service and operation, DynamoDB's request units are
computed from what each call read and wrote, every Lambda invocation is timed, everything the
functions log is counted; all of it is priced at bench/prices.py's list prices. The floor is
what the chat messages themselves cost at API Gateway; the target is at most 1.4x the floor.
The idle month is priced from template.yaml.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench import prices
from bench.common import (
    PLATFORM_LOG_BYTES,
    RESULTS,
    InProcessStack,
    Invocation,
    TokenIssuer,
    bullets,
    dynamo_units,
    markdown_table,
    median,
    write_results,
)

MEMORY_MB_DEFAULT = 256

# In-region latency of one call as a Lambda function sees it (p50, connection reused): an
# ASSUMPTION, used only for the modelled Lambda duration. moto answers in-process, so the
# measured wall time has no network in it at all.
LATENCY_MS = {
    "dynamodb.GetItem": 4.0,
    "dynamodb.Query": 6.0,
    "dynamodb.PutItem": 6.0,
    "dynamodb.UpdateItem": 6.0,
    "dynamodb.DeleteItem": 6.0,
    "dynamodb.TransactWriteItems": 15.0,
    "apigatewaymanagementapi.PostToConnection": 20.0,
    "apigatewaymanagementapi.DeleteConnection": 20.0,
    "apigatewaymanagementapi.GetConnection": 15.0,
    "sqs.SendMessage": 10.0,
    "ssm.GetParameter": 15.0,
}
DEFAULT_LATENCY_MS = 10.0
# DynamoDB deletes an expired item "typically within a few days": until then a Scan reads it.
TTL_LAG_MINUTES = 2 * 24 * 60

SEEKER_LINES = (
    "I haven't been sleeping well and everything feels like too much lately.",
    "Work has been piling up and I keep worrying I'll let everyone down.",
    "Thanks, it helps to say it out loud to someone who isn't involved.",
    "My sister says I should take a break but I don't know how to.",
)
VOLUNTEER_LINES = (
    "That sounds exhausting. What does a hard evening look like for you?",
    "It makes sense to feel stretched when so much is asked of you.",
    "What has helped you rest, even a little, in the past?",
    "I'm glad you reached out tonight. Take all the time you need.",
)


@dataclass(frozen=True)
class Scenario:
    """The standard conversation; every number here is an assumption stated in the output."""

    messages_each_way: int = 40
    typing_each_side: int = 3
    chat_minutes: float = 20.0  # 80 messages, one every 15 s
    wait_minutes: float = 1.0  # the seeker's time in the queue before the match
    ping_after_quiet_minutes: float = 5.0  # the web page pings after this long without a frame

    @property
    def pings_each_side(self) -> int:
        """The pings of a side's quiet spells: the wait, and the time between its messages."""
        between = self.chat_minutes / self.messages_each_way  # each side writes this often
        quiet = self.ping_after_quiet_minutes
        return int(self.wait_minutes // quiet) + self.messages_each_way * int(between // quiet)


@dataclass
class Conversation:
    """What one standard conversation did."""

    invocations: list[Invocation]
    inbound_bytes: list[int] = field(default_factory=list)  # every client frame
    chat_inbound_bytes: list[int] = field(default_factory=list)  # the `message` frames
    modelled_sqs_requests: int = 0
    # What a full-table Scan reads of this conversation's items over their life in the table,
    # summed over that life: bytes x minutes (items alive during the chat, and those it leaves
    # until TTL deletes them).
    byte_minutes: float = 0.0
    problems: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- one conversation


def _spread(count: int, over: int) -> set[int]:
    """`count` positions spread evenly over range(over)."""
    if count <= 0 or over <= 0:
        return set()
    return {min(over - 1, (i * over) // count) for i in range(count)}


def _check(problems: list[str], condition: bool, what: str) -> None:
    if not condition:
        problems.append(what)


def run_conversation(
    stack: InProcessStack, issuer: TokenIssuer, scenario: Scenario, number: int
) -> Conversation:
    first_invocation = len(stack.invocations)
    sqs_before = stack.modelled_sqs_requests
    table_before = stack.snapshot()
    convo = Conversation(invocations=[])
    problems = convo.problems
    env = stack.environment

    limit = int(env.get("RATE_LIMIT_ACTIONS", "30"))
    window = float(env.get("RATE_LIMIT_WINDOW_SECONDS", "10"))
    last_sent: dict[str, float] = {}

    def send(cid: str, frame: dict[str, Any]) -> None:
        # Keep each connection under its rate limit (the bench replays 20 minutes in seconds).
        if frame.get("action") != "ping":
            gap = 1.25 * window / limit - (time.monotonic() - last_sent.get(cid, 0.0))
            if gap > 0:
                time.sleep(gap)
            last_sent[cid] = time.monotonic()
        body = stack.send(cid, frame)
        convo.inbound_bytes.append(len(body.encode()))
        if frame.get("action") == "message":
            convo.chat_inbound_bytes.append(len(body.encode()))

    # The volunteer comes on shift, the seeker arrives and asks for a chat.
    token = issuer.pool_token(
        env,
        user=f"volunteer{number}@example.org",
        name="Ana",
        group="volunteers",
    )
    volunteer = stack.open(token=token)
    send(
        volunteer,
        {
            "action": "availability",
            "available": True,
            "capacity": 1,
            "languages": ["en"],
            "topics": ["anxiety", "stress"],
        },
    )
    stack.run_event_sources()
    seeker = stack.open(query="lang=en")
    send(
        seeker,
        {
            "action": "match",
            "topics": ["stress"],
            "language": "en",
            "intro": "Work has been a lot lately and I can't switch off at night.",
        },
    )
    stack.run_event_sources()
    seeker_frames = stack.frames(seeker)
    volunteer_frames = stack.frames(volunteer)
    seeker_types = [f.get("type") for f in seeker_frames]
    _check(problems, "queued" in seeker_types, "the seeker got no `queued`")
    matched = [f for f in volunteer_frames if f.get("type") == "matched"]
    _check(problems, len(matched) == 1, f"the volunteer got {len(matched)} `matched`")
    _check(problems, "matched" in seeker_types, "the seeker got no `matched`")
    if not matched:
        convo.invocations = stack.invocations[first_invocation:]
        return convo
    session_id = matched[0]["sessionId"]

    # The chat: 40 messages each way, typing now and then, a ping in any quiet 5 minutes.
    m = scenario.messages_each_way
    typing_at = _spread(scenario.typing_each_side, m)
    pings_at = _spread(scenario.pings_each_side, m)
    for i in range(m):
        for cid, lines, side in (
            (seeker, SEEKER_LINES, "s"),
            (volunteer, VOLUNTEER_LINES, "v"),
        ):
            if i in pings_at:
                send(cid, {"action": "ping"})
            if i in typing_at:
                send(cid, {"action": "typing", "sessionId": session_id})
            send(
                cid,
                {
                    "action": "message",
                    "sessionId": session_id,
                    "text": lines[i % len(lines)],
                    "clientMsgId": f"{side}{number}-{i}",
                    "seq": i,
                },
            )
    table_mid_chat = stack.snapshot()
    send(seeker, {"action": "end"})
    stack.run_event_sources()
    stack.close(seeker, 1000)
    stack.close(volunteer, 1001)
    stack.run_event_sources()

    # What each side saw.
    for cid, name in ((seeker, "seeker"), (volunteer, "volunteer")):
        frames = stack.frames(cid)
        got = [f for f in frames if f.get("type") == "message"]
        seqs = [f.get("seq") for f in got]
        _check(problems, sorted(seqs) == list(range(m)), f"the {name} got seqs {seqs[:5]}...")
        errors = [f for f in frames if f.get("type") == "error"]
        _check(problems, not errors, f"the {name} got errors: {errors[:3]}")
        ended = [f.get("reason") for f in frames if f.get("type") == "ended"]
        expected = "ended_by_you" if name == "seeker" else "ended_by_peer"
        _check(problems, ended == [expected], f"the {name} got ended {ended}")
        stack.forget_frames(cid)
    convo.invocations = stack.invocations[first_invocation:]
    convo.modelled_sqs_requests = stack.modelled_sqs_requests - sqs_before
    table_after = stack.snapshot()
    now = time.time()
    alive_minutes = scenario.wait_minutes + scenario.chat_minutes
    for key, (size, _) in table_mid_chat.items():
        if key not in table_before and key not in table_after:
            convo.byte_minutes += size * alive_minutes
    for key, (size, expires) in table_after.items():
        if key not in table_before:
            kept = (expires - now) / 60 if expires else 30 * 24 * 60
            convo.byte_minutes += size * (max(0.0, kept) + TTL_LAG_MINUTES)
    stack.largest_seen = max(
        [stack.largest_seen]
        + [size for size, _ in table_mid_chat.values()]
        + [size for size, _ in table_after.values()]
    )
    return convo


# ---------------------------------------------------------------- figures


def modelled_ms(inv: Invocation, memory_mb: int) -> float:
    """The invocation's duration in Lambda: its own CPU time (wall minus moto's share),
    slowed to the CPU share of `memory_mb`, plus the in-region latency of each call."""
    network = sum(LATENCY_MS.get(c.key, DEFAULT_LATENCY_MS) for c in inv.calls)
    return inv.own_s * 1000 / prices.lambda_cpu_share(memory_mb) + network


def memory_of(stack: InProcessStack) -> dict[str, int]:
    return {name: fn.memory_mb for name, fn in stack.functions.items()}


def _is_chat_message(data: Any) -> bool:
    raw = data if isinstance(data, bytes) else str(data).encode()
    return b'"type":"message"' in raw.replace(b" ", b"")


@dataclass
class Usage:
    """Billable quantities, summed over invocations."""

    apigw_in: int = 0
    apigw_out: int = 0
    apigw_floor: int = 0  # the chat messages' frames in and posts out
    lambda_requests: int = 0
    gb_s_modelled: float = 0.0
    gb_s_wall: float = 0.0
    rru: float = 0.0
    wru: float = 0.0
    sqs_requests: int = 0
    key_calls: int = 0  # ssm GetParameter of the sealing key
    log_bytes: int = 0

    def add(self, inv: Invocation, memory_mb: int, largest_item: int) -> None:
        if inv.inbound_bytes is not None:
            inbound = prices.apigw_messages(inv.inbound_bytes)
            self.apigw_in += inbound
            if inv.route == "message":
                self.apigw_floor += inbound
        for call in inv.calls:
            if call.key == "apigatewaymanagementapi.PostToConnection":
                data = call.params.get("Data", b"")
                out = prices.apigw_messages(len(data))
                self.apigw_out += out
                if inv.route == "message" and _is_chat_message(data):
                    self.apigw_floor += out
            elif call.service == "sqs":
                body = str(call.params.get("MessageBody", ""))
                self.sqs_requests += prices.sqs_requests(len(body.encode()))
            elif call.service == "ssm":
                self.key_calls += 1
            r, w = dynamo_units(call, largest_item)
            self.rru += r
            self.wru += w
        if inv.route == "SQS batch":  # the event source's ReceiveMessage and DeleteMessageBatch
            self.sqs_requests += 2
        self.lambda_requests += 1
        self.gb_s_modelled += prices.lambda_gb_seconds(modelled_ms(inv, memory_mb), memory_mb)
        self.gb_s_wall += prices.lambda_gb_seconds(inv.wall_s * 1000, memory_mb)
        self.log_bytes += inv.log_bytes  # JSON format, system logs at WARN: no START/END/REPORT

    def lines(self, scale: float) -> list[tuple[str, float, float]]:
        """(line, quantity, USD), every quantity multiplied by `scale`."""
        other = self.apigw_in + self.apigw_out - self.apigw_floor
        quantities = [
            (
                "API Gateway messages: the chat messages (floor)",
                self.apigw_floor,
                prices.APIGW_MESSAGE,
            ),
            ("API Gateway messages: every other frame", other, prices.APIGW_MESSAGE),
            ("Lambda requests", self.lambda_requests, prices.LAMBDA_REQUEST),
            ("Lambda duration (GB-s, modelled)", self.gb_s_modelled, prices.LAMBDA_ARM_GB_SECOND),
            ("DynamoDB reads (RRU)", self.rru, prices.DDB_READ_UNIT),
            ("DynamoDB writes (WRU)", self.wru, prices.DDB_WRITE_UNIT),
            ("SQS requests", self.sqs_requests, prices.SQS_REQUEST),
            ("SSM GetParameter calls (the sealing key)", self.key_calls, prices.SSM_STANDARD_CALL),
            ("CloudWatch Logs ingestion (GB)", self.log_bytes / 1e9, prices.CW_LOGS_INGESTED_GB),
        ]
        return [(name, q * scale, price.cost(q * scale)) for name, q, price in quantities]

    def usd(self, scale: float) -> float:
        return sum(cost for _, _, cost in self.lines(scale))


def _census_index_writes(call: Any) -> int:
    """Writes to the sweeper's keys-only index of connection items that a call makes: one for
    each connection item put or deleted (an update changes no key of it, so none)."""
    if call.service != "dynamodb":
        return 0
    ops: list[tuple[str, dict[str, Any]]] = []
    if call.operation == "TransactWriteItems":
        ops = [next(iter(op.items())) for op in call.params.get("TransactItems", [])]
    elif call.operation in ("PutItem", "DeleteItem"):
        ops = [(call.operation.removesuffix("Item"), call.params)]
    count = 0
    for kind, body in ops:
        deleted_pk = str(body.get("Key", {}).get("pk", {}).get("S", ""))
        put_item = body.get("Item") or {}
        put = kind == "Put" and "census" in put_item
        count += put or (kind == "Delete" and deleted_pk.startswith("CONN#"))
    return count


def summarise(
    stack: InProcessStack,
    conversations: list[Conversation],
    scenario: Scenario,
    schedule_runs: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    n = len(conversations)
    per = 1000 / n  # to "per 1,000 conversations"
    memory = memory_of(stack)
    largest = stack.largest_seen
    invocations = [inv for c in conversations for inv in c.invocations]
    calls = [call for inv in invocations for call in inv.calls]

    total_usage = Usage()
    by_kind: dict[str, list[Invocation]] = defaultdict(list)
    kind_usage: dict[str, Usage] = defaultdict(Usage)
    for inv in invocations:
        total_usage.add(inv, memory[inv.function], largest)
        kind_usage[inv.kind].add(inv, memory[inv.function], largest)
        by_kind[inv.kind].append(inv)

    minutes_each = math.ceil(scenario.wait_minutes + scenario.chat_minutes)
    floor_minutes = 2 * math.ceil(scenario.chat_minutes)
    wait_minutes = 2 * minutes_each - floor_minutes
    lines = total_usage.lines(per)
    lines[1:1] = [
        (
            "API Gateway connection minutes: both sides during the chat (floor)",
            floor_minutes * 1000,
            prices.APIGW_CONNECTION_MINUTE.cost(floor_minutes * 1000),
        ),
        (
            "API Gateway connection minutes: before the chat",
            wait_minutes * 1000,
            prices.APIGW_CONNECTION_MINUTE.cost(wait_minutes * 1000),
        ),
    ]
    # The sweeper's reads of what this conversation keeps open, once a run while it is open
    # (measured: a run with one chat open, less a run with nothing open; schedule_costs).
    byte_minutes = sum(c.byte_minutes for c in conversations) / n
    open_minutes = scenario.wait_minutes + scenario.chat_minutes
    sweep_rru = 0.0
    sweep_rru_every_5_min = 0.0
    for run in schedule_runs.values():
        share = run.get("rru_per_open_chat", 0.0)
        sweep_rru += share * open_minutes / run["period_minutes"]
        sweep_rru_every_5_min += share * open_minutes / max(5.0, run["period_minutes"])
    if sweep_rru:
        lines.append(
            (
                "DynamoDB reads: the sweeper's reads of what a conversation keeps open",
                sweep_rru * 1000,
                prices.DDB_READ_UNIT.cost(sweep_rru * 1000),
            )
        )
    # The sweeper's index (Census) is written when a connection item is created or deleted.
    index_writes = sum(_census_index_writes(call) for call in calls) / n
    if index_writes:
        lines.append(
            (
                "DynamoDB writes: the sweeper's index of connection items (created, deleted)",
                index_writes * 1000,
                prices.DDB_WRITE_UNIT.cost(index_writes * 1000),
            )
        )
    total = sum(cost for _, _, cost in lines)
    floor = lines[0][2] + lines[1][2]
    wall_total = (
        total
        - prices.LAMBDA_ARM_GB_SECOND.cost(total_usage.gb_s_modelled * per)
        + prices.LAMBDA_ARM_GB_SECOND.cost(total_usage.gb_s_wall * per)
    )

    kinds = []
    for kind, invs in sorted(by_kind.items(), key=lambda kv: -kind_usage[kv[0]].usd(per)):
        fn = invs[0].function
        ops = Counter(c.key for inv in invs for c in inv.calls)
        kinds.append(
            {
                "kind": kind,
                "per_conversation": len(invs) / n,
                "calls_per_invocation": {
                    op: round(v / len(invs), 2) for op, v in sorted(ops.items())
                },
                "wall_ms_median": round(median(i.wall_s * 1000 for i in invs), 2),
                "modelled_ms_median": round(median(modelled_ms(i, memory[fn]) for i in invs), 1),
                "log_bytes_median": median(i.log_bytes for i in invs),
                "usd_per_1000": round(kind_usage[kind].usd(per), 5),
            }
        )

    # Levers: what one change would save, each alone, per 1,000 conversations.
    counted_writes = sum(
        1
        for inv in invocations
        if inv.inbound_bytes is not None and inv.calls and inv.calls[0].key == "dynamodb.UpdateItem"
    )
    levers = {
        "frames read the connection (GetItem, 1 RRU) instead of writing it (UpdateItem, 1 WRU)": (
            prices.DDB_WRITE_UNIT.cost(counted_writes * per)
            - prices.DDB_READ_UNIT.cost(counted_writes * per)
        ),
        "the sweeper at most every 5 minutes (it runs every minute)": (
            prices.DDB_READ_UNIT.cost((sweep_rru - sweep_rru_every_5_min) * 1000)
        ),
    }

    u = total_usage
    return {
        "conversations": n,
        "per_conversation": {
            "api_gateway_messages_in": u.apigw_in / n,
            "api_gateway_messages_out": u.apigw_out / n,
            "api_gateway_messages_floor": u.apigw_floor / n,
            "connection_minutes": 2 * minutes_each,
            "connection_minutes_floor": floor_minutes,
            "lambda_invocations": u.lambda_requests / n,
            "lambda_gb_s_modelled": u.gb_s_modelled / n,
            "lambda_gb_s_measured_wall": u.gb_s_wall / n,
            "aws_calls_per_conversation": {
                k: v / n for k, v in sorted(Counter(c.key for c in calls).items())
            },
            "dynamodb_rru": u.rru / n,
            "dynamodb_wru": u.wru / n,
            "sqs_requests": u.sqs_requests / n,
            "sealing_key_calls": u.key_calls / n,
            "log_bytes": u.log_bytes / n,
        },
        "largest_item_bytes": largest,
        "invocation_kinds": kinds,
        "custom_metrics_published": sorted({m for inv in invocations for m in inv.emf_metrics}),
        "lines_per_1000": [
            {"line": name, "quantity": round(q, 3), "usd": round(cost, 5)}
            for name, q, cost in lines
        ],
        "usd_per_1000": round(total, 4),
        "floor_usd_per_1000": round(floor, 4),
        "ratio_to_floor": round(total / floor, 3),
        "usd_per_1000_with_measured_wall_time": round(wall_total, 4),
        "levers_usd_per_1000": {k: round(v, 4) for k, v in levers.items()},
        "table_byte_minutes_per_conversation": round(byte_minutes),
        "scheduled_scan_rru_per_conversation": round(sweep_rru, 2),
        "counted_writes_per_conversation": counted_writes / n,
    }


TARGET_RATIO = 1.4  # issue 14: the standard conversation at most 1.4x its floor


def target_needs(summary: dict[str, Any]) -> list[str]:
    """What the target would need of DynamoDB, from the measured lines: everything else a
    conversation pays (each frame's Lambda invocation, its other frames, SQS, logs) is set
    by the architecture, whatever the table does."""
    floor, total = summary["floor_usd_per_1000"], summary["usd_per_1000"]
    lines = {row["line"]: row["usd"] for row in summary["lines_per_1000"]}
    dynamo = sum(usd for line, usd in lines.items() if line.startswith("DynamoDB"))
    guard = prices.DDB_WRITE_UNIT.cost(summary["counted_writes_per_conversation"] * 1000)
    without = total - dynamo
    allowed = TARGET_RATIO * floor - without
    state = dynamo - guard
    unit = prices.DDB_WRITE_UNIT.cost(1000)  # one write unit in each of 1,000 conversations
    return [
        f"Everything but DynamoDB: ${without:.4f} per 1,000 conversations, "
        f"{without / floor:.2f}x the floor on its own.",
        f"DynamoDB: ${dynamo:.4f}, of which the exact rate guard's one write per counted frame "
        f"${guard:.4f} and the conversation's own state (connections, the queue, the match, "
        f"the end, the sweeper's reads) ${state:.4f}.",
        f"So {TARGET_RATIO}x (${TARGET_RATIO * floor:.4f}) leaves DynamoDB ${allowed:.4f} per "
        f"1,000 conversations: "
        + (
            f"{allowed / unit:.1f} write units a conversation, against {state / unit:.0f} write"
            " units' worth for its state alone, with no rate guard at all."
            if allowed > 0
            else "less than nothing."
        ),
    ]


# ---------------------------------------------------------------- the idle month


def conditions(template: dict[str, Any]) -> dict[str, bool]:
    """The template's Conditions, evaluated on the parameters' defaults."""
    from local.aws_resources import parameter_values

    params = parameter_values(template)
    raw = template.get("Conditions") or {}
    known: dict[str, bool] = {}

    def value(v: Any) -> Any:
        if isinstance(v, dict):
            if "Ref" in v:
                return params.get(v["Ref"], v["Ref"])
            if "Condition" in v:
                return condition(v["Condition"])
            if "Fn::Equals" in v:
                left, right = v["Fn::Equals"]
                return str(value(left)) == str(value(right))
            if "Fn::Not" in v:
                return not value(v["Fn::Not"][0])
            if "Fn::And" in v:
                return all(value(x) for x in v["Fn::And"])
            if "Fn::Or" in v:
                return any(value(x) for x in v["Fn::Or"])
        return v

    def condition(name: str) -> bool:
        if name not in known:
            known[name] = bool(value(raw[name]))
        return known[name]

    return {name: condition(name) for name in raw}


def _resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    """The resources of this type that a deployment with the default parameters creates."""
    wanted = conditions(template)
    return {
        k: r
        for k, r in template["Resources"].items()
        if r.get("Type") == kind and wanted.get(r.get("Condition", ""), True)
    }


def alarm_metrics(alarm: dict[str, Any]) -> int:
    """Metrics an alarm is billed for: 1, or each metric (not expression) of a metric-math alarm."""
    metrics = (alarm.get("Properties") or {}).get("Metrics") or []
    return max(1, sum(1 for m in metrics if "MetricStat" in m))


def idle_month(
    template: dict[str, Any], schedule_runs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The fixed monthly cost of a deployment nobody uses, resource by resource."""
    lines: list[dict[str, Any]] = []

    def line(item: str, quantity: float, usd: float, note: str, free: float | None = None) -> None:
        lines.append(
            {
                "item": item,
                "quantity": quantity,
                "usd": round(usd, 4),
                "usd_with_always_free_tier": round(usd if free is None else free, 4),
                "note": note,
            }
        )

    def per_resource(
        kind: str, item: str, price: prices.Price, note: str, free: int | None = None
    ) -> None:
        """A line billed per resource of this type; `free` of them are in the free tier."""
        count = len(_resources(template, kind))
        free_usd = None if free is None else price.cost(max(0, count - free))
        line(item, count, price.cost(count), note, free_usd)

    per_resource(
        "AWS::SecretsManager::Secret",
        "Secrets Manager secrets",
        prices.SECRET_MONTH,
        "$0.40 per secret-month, whether read or not",
    )
    keys = _resources(template, "Custom::SealingKey")
    line(
        "SSM parameter: the sealing key (SecureString, standard)",
        len(keys),
        0.0,
        "standard parameters and their API calls cost nothing; under the AWS managed key "
        "aws/ssm (no monthly fee); made by a custom resource whose function runs at deploy only",
    )

    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    billed_metrics = sum(alarm_metrics(a) for a in alarms.values())
    line(
        f"CloudWatch alarms ({len(alarms)}, metrics billed)",
        billed_metrics,
        prices.CW_ALARM_METRIC_MONTH.cost(billed_metrics),
        "standard resolution; a metric-math alarm is billed per metric in it; the account's "
        "first 10 alarm metrics are free (shared with every other stack)",
        prices.CW_ALARM_METRIC_MONTH.cost(max(0, billed_metrics - 10)),
    )
    per_resource(
        "AWS::CloudWatch::Dashboard",
        "CloudWatch dashboards",
        prices.CW_DASHBOARD_MONTH,
        "$3 each; the account's first 3 are free (shared with every other stack)",
        free=3,
    )

    # Lambda's SQS pollers long-poll the queue all the time; their requests are billed.
    queues = set(_resources(template, "AWS::SQS::Queue"))
    sqs_sources = []
    for mapping in _resources(template, "AWS::Lambda::EventSourceMapping").values():
        arn = (mapping.get("Properties") or {}).get("EventSourceArn")
        target = arn.get("Fn::GetAtt") if isinstance(arn, dict) else None
        name = target[0] if isinstance(target, list) else str(target or "").split(".")[0]
        if name in queues:
            sqs_sources.append(mapping)
    for fn in _resources(template, "AWS::Serverless::Function").values():
        for event in ((fn.get("Properties") or {}).get("Events") or {}).values():
            if (event or {}).get("Type") == "SQS":
                sqs_sources.append({"Properties": event.get("Properties") or {}})
    polls = 0.0
    pollers_total = 0
    for m in sqs_sources:
        capped = bool(
            ((m.get("Properties") or {}).get("ScalingConfig") or {}).get("MaximumConcurrency")
        )
        pollers = 5 if capped else 2
        pollers_total += pollers
        polls += pollers * (60 / 20) * prices.MINUTES_PER_MONTH
    line(
        "SQS: the event source's empty long polls",
        round(polls),
        prices.SQS_REQUEST.cost(polls),
        f"{pollers_total} pollers x one 20 s ReceiveMessage each (an idle mapping scales down "
        "to 2 pollers, 5 with MaximumConcurrency set: Lambda guide, services-sqs-scaling); "
        "free under SQS's 1M requests a month",
        prices.SQS_REQUEST.cost(max(0.0, polls - 1e6)),
    )

    for name, run in schedule_runs.items():
        per_month = run["runs_per_month"]
        line(
            f"Schedule {name}",
            per_month,
            per_month * run["usd_per_run"],
            f"{run['expression']}; one warm run on an empty table: {run['describe']}, "
            f"{run['modelled_ms']:.0f} ms modelled, {run['log_bytes']} log bytes (Lambda request "
            "and duration, the calls, the logs)",
            per_month * run["usd_per_run_with_always_free_tier"],
        )

    for item, note in (
        ("Lambda functions, layer, API Gateway API", "billed per request only"),
        ("DynamoDB table (on-demand)", "per request; storage of expiring items: cents at most"),
        ("SQS queues (SSE-SQS)", "per request; no charge for the queue or its encryption"),
        ("CloudWatch log groups", "per GB ingested and stored: nothing when idle"),
        ("SNS alarm topic (if AlarmEmail)", "no monthly fee; the first 1,000 e-mails are free"),
        ("Cognito user pool", "per monthly active user: the first 10,000 are free"),
        ("KMS", "the table uses the AWS managed key: no monthly fee"),
    ):
        line(item, 0, 0.0, note)
    total = sum(x["usd"] for x in lines)
    total_free = sum(x["usd_with_always_free_tier"] for x in lines)
    optional = sum(x["usd"] for x in lines if x["item"].startswith(OPTIONAL_LINES))
    return {
        "lines": lines,
        "usd_per_month": round(total, 4),
        "usd_per_month_with_always_free_tier": round(total_free, 4),
        "usd_per_month_without_dashboard_and_alarms": round(total - optional, 4),
        "schedules": schedule_runs,
    }


# The idle lines that CreateDashboard=false and CreateAlarms=false leave out.
OPTIONAL_LINES = ("CloudWatch alarms", "CloudWatch dashboards")


def platform_log_bytes(template: dict[str, Any]) -> int:
    """Lambda's own START/END/REPORT lines per invocation: none when the functions' system
    logs are at WARN (Globals LoggingConfig, the parameters' defaults), as they are."""
    config = ((template.get("Globals") or {}).get("Function") or {}).get("LoggingConfig")
    if not config:
        return PLATFORM_LOG_BYTES  # Lambda's text format writes them all
    wanted = conditions(template)
    level = config.get("SystemLogLevel", "INFO")
    while isinstance(level, dict) and "Fn::If" in level:
        name, when_true, when_false = level["Fn::If"]
        level = when_true if wanted[name] else when_false
    return PLATFORM_LOG_BYTES if str(level) in ("TRACE", "DEBUG", "INFO") else 0


def _scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "bench",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def _open_chat(stack: InProcessStack, issuer: TokenIssuer) -> tuple[str, str]:
    """A volunteer and a seeker in a chat (the state a conversation keeps open longest)."""
    env = stack.environment
    token = issuer.pool_token(env, user="sweep@example.org", name="Sam", group="volunteers")
    volunteer = stack.open(token=token)
    stack.send(volunteer, {"action": "availability", "available": True, "capacity": 1})
    stack.run_event_sources()
    seeker = stack.open(query="lang=en")
    stack.send(seeker, {"action": "match"})
    stack.run_event_sources()
    if not any(f.get("type") == "matched" for f in stack.frames(seeker)):
        raise RuntimeError("the sweeper's measure: the chat did not start")
    return volunteer, seeker


def _sweep_rru(stack: InProcessStack, function: str, event: dict[str, Any]) -> float:
    stack.invoke(function, "schedule", event)
    return sum(dynamo_units(c, 1024)[0] for c in stack.invocations[-1].calls)


def schedule_costs(stack: InProcessStack, issuer: TokenIssuer) -> dict[str, dict[str, Any]]:
    """Each scheduled function run on the empty stack (what one warm run costs), then once
    with one chat open: the reads a run adds for each open chat (`rru_per_open_chat`)."""
    from local.scheduler import schedules

    runs: dict[str, dict[str, Any]] = {}
    memory = memory_of(stack)
    platform = platform_log_bytes(stack.template)
    for schedule in schedules(stack.template):
        if not schedule.enabled or not schedule.period:
            continue
        event = json.loads(schedule.input) if schedule.input else _scheduled_event()
        # Priced warm: a schedule every few minutes finds its instance still there (the
        # first run's cold start, building the clients, is not what a run costs).
        stack.invoke(schedule.function, "schedule", event)
        stack.invoke(schedule.function, "schedule", event)
        inv = stack.invocations[-1]
        mb = memory[schedule.function]
        rru = wru = 0.0
        for call in inv.calls:
            r, w = dynamo_units(call, 1024)
            rru += r
            wru += w
        lambda_usd = prices.LAMBDA_REQUEST.cost(1) + prices.LAMBDA_ARM_GB_SECOND.cost(
            prices.lambda_gb_seconds(modelled_ms(inv, mb), mb)
        )
        logs_usd = prices.CW_LOGS_INGESTED_GB.cost((inv.log_bytes + platform) / 1e9)
        dynamo_usd = prices.DDB_READ_UNIT.cost(rru) + prices.DDB_WRITE_UNIT.cost(wru)
        usd = lambda_usd + logs_usd + dynamo_usd
        ops = Counter(c.key for c in inv.calls)
        scans = [c for c in inv.calls if c.key == "dynamodb.Scan"]
        runs[schedule.name] = {
            "scans_table": bool(scans),
            "scan_consistent": any(bool(c.params.get("ConsistentRead")) for c in scans),
            "period_minutes": schedule.period / 60,
            "expression": schedule.expression,
            "runs_per_month": round(prices.MINUTES_PER_MONTH * 60 / schedule.period),
            "usd_per_run": usd,
            # Lambda's requests and GB-s and the first 5 GB of logs are always free; on-demand
            # DynamoDB has no free tier.
            "usd_per_run_with_always_free_tier": dynamo_usd,
            "describe": ", ".join(f"{v} {k}" for k, v in sorted(ops.items())) or "no AWS call",
            "log_bytes": inv.log_bytes + platform,
            "wall_ms": round(inv.wall_s * 1000, 1),
            "modelled_ms": round(modelled_ms(inv, mb), 1),
            "empty_run_rru": rru,
        }
    if runs:
        volunteer, seeker = _open_chat(stack, issuer)
        for schedule in schedules(stack.template):
            if schedule.name in runs:
                event = json.loads(schedule.input) if schedule.input else _scheduled_event()
                open_rru = _sweep_rru(stack, schedule.function, event)
                runs[schedule.name]["rru_per_open_chat"] = max(
                    0.0, open_rru - runs[schedule.name]["empty_run_rru"]
                )
        stack.close(seeker)
        stack.close(volunteer)
        stack.run_event_sources()
    return runs


# ---------------------------------------------------------------- output


def report(summary: dict[str, Any], idle: dict[str, Any], scenario: Scenario, args: Any) -> str:
    pc = summary["per_conversation"]
    out: list[str] = []
    out.append("## Cost per 1,000 conversations (us-east-1 list prices)")
    out.append("")
    out.append(
        markdown_table(
            ["line", "quantity per 1,000", "USD per 1,000"],
            [
                (x["line"], f"{x['quantity']:,.1f}", f"{x['usd']:.4f}")
                for x in summary["lines_per_1000"]
            ]
            + [
                ("**total**", "", f"**{summary['usd_per_1000']:.4f}**"),
                (
                    "floor (chat messages + chat connection minutes)",
                    "",
                    f"{summary['floor_usd_per_1000']:.4f}",
                ),
                (
                    f"**ratio to floor** (target <= {TARGET_RATIO})",
                    "",
                    f"**{summary['ratio_to_floor']:.2f}x**",
                ),
            ],
        )
    )
    out.append("")
    out.append("Levers, each alone and not applied (USD saved per 1,000 conversations):")
    out.append("")
    for lever, usd in summary["levers_usd_per_1000"].items():
        out.append(f"- {lever}: {usd:.4f} ({usd / summary['floor_usd_per_1000']:.2f}x the floor)")
    out.append("")
    out.append(f"What {TARGET_RATIO}x would need:")
    out.append("")
    out.extend(f"- {sentence}" for sentence in target_needs(summary))
    out.append("")
    out.append("Per conversation:")
    out.append("")
    out.append(
        markdown_table(
            ["what", "count"],
            [
                (
                    "API Gateway messages in / out",
                    f"{pc['api_gateway_messages_in']:.0f} / {pc['api_gateway_messages_out']:.0f}",
                ),
                (
                    "of which the floor (chat messages in + out)",
                    f"{pc['api_gateway_messages_floor']:.0f}",
                ),
                ("Lambda invocations", f"{pc['lambda_invocations']:.0f}"),
                ("DynamoDB RRU / WRU", f"{pc['dynamodb_rru']:.1f} / {pc['dynamodb_wru']:.1f}"),
                ("SQS requests (sends + event source)", f"{pc['sqs_requests']:.0f}"),
                ("log bytes (no START/END/REPORT lines)", f"{pc['log_bytes']:,.0f}"),
            ]
            + [(f"`{op}`", f"{v:g}") for op, v in pc["aws_calls_per_conversation"].items()],
        )
    )
    out.append("")
    out.append(
        "Lambda invocations per conversation, by kind, costliest first (duration: wall time "
        "measured here under moto / modelled for Lambda; USD: the frame in, the posts out, the "
        "Lambda request and duration, DynamoDB, SQS and logs of those invocations):"
    )
    out.append("")
    out.append(
        markdown_table(
            [
                "function route",
                "per conversation",
                "AWS calls per invocation",
                "wall ms (moto)",
                "modelled ms",
                "USD per 1,000 conversations",
            ],
            [
                (
                    k["kind"],
                    f"{k['per_conversation']:g}",
                    ", ".join(
                        f"{op.split('.', 1)[1]} {v:g}"
                        for op, v in k["calls_per_invocation"].items()
                    )
                    or "none",
                    f"{k['wall_ms_median']:.1f}",
                    f"{k['modelled_ms_median']:.0f}",
                    f"{k['usd_per_1000']:.4f}",
                )
                for k in summary["invocation_kinds"]
            ],
        )
    )
    out.append("")
    out.append("## Idle month")
    out.append("")
    out.append(
        markdown_table(
            ["resource", "quantity", "USD per month (list)", "with always-free tiers", "note"],
            [
                (
                    x["item"],
                    f"{x['quantity']:,}",
                    f"{x['usd']:.2f}",
                    f"{x['usd_with_always_free_tier']:.2f}",
                    x["note"],
                )
                for x in idle["lines"]
            ]
            + [
                (
                    "**total**",
                    "",
                    f"**{idle['usd_per_month']:.2f}**",
                    f"**{idle['usd_per_month_with_always_free_tier']:.2f}**",
                    "",
                ),
                (
                    "**total with CreateDashboard=false, CreateAlarms=false** (target <= $0.15)",
                    "",
                    f"**{idle['usd_per_month_without_dashboard_and_alarms']:.3f}**",
                    "",
                    "",
                ),
            ],
        )
    )
    return "\n".join(out)


def assumptions(scenario: Scenario, summary: dict[str, Any]) -> list[str]:
    return [
        f"A standard conversation: a volunteer connects and becomes available, a seeker "
        f"connects and asks for a chat with an intro, {scenario.messages_each_way} messages "
        f"each way, {scenario.typing_each_side} `typing` per side, a `ping` only after "
        f"{scenario.ping_after_quiet_minutes:g} minutes without a frame sent (as the web page "
        f"does: {scenario.pings_each_side} per side here), the seeker ends, both disconnect. "
        "The volunteer's connect, availability and disconnect are charged to this one conversation "
        "(a volunteer who takes several chats per shift spreads them).",
        f"Durations: the chat lasts {scenario.chat_minutes:g} minutes and the seeker waits "
        f"{scenario.wait_minutes:g} minute in the queue; each connection's minutes are rounded up.",
        "Floor: each chat message is one billed inbound frame (API Gateway bills messages "
        "received) plus one billed PostToConnection to the peer (messages sent), per 32 KB; "
        "plus both sides' connection minutes for the length of the chat. Everything else "
        "(typing, pings, match/queued/matched, status, end/ended, the seeker's wait) is overhead.",
        "The $connect and $disconnect handshakes are not billed as messages (the pricing bills "
        "messages sent and received and connection minutes); each runs its Lambda functions.",
        "Lambda: every client frame and every handshake invokes a function; the $connect "
        "authorizer runs on every handshake (no identity source, so no authorizer cache). "
        "Duration is MODELLED: the handler's own time measured here (wall minus moto's share) "
        f"slowed to a {MEMORY_MB_DEFAULT} MB function's CPU share (256/1769 of a vCPU), plus an "
        "assumed in-region latency per AWS call (DynamoDB 4-15 ms, PostToConnection 20 ms, "
        "SQS 10 ms); the total priced on the raw wall time under moto is printed too. "
        "Measured on Python " + sys.version.split()[0] + " x86-64 here, not 3.13 on Graviton.",
        "Warm functions: the cold start's calls (one ssm GetParameter of the sealing key per "
        "instance that seals or unseals) and INIT duration are not in the per-conversation "
        "figures (see bench.coldstart).",
        "DynamoDB: units computed from each call (strongly consistent reads, 1 RRU per 4 KB; "
        "writes 1 WRU per KB of the largest item seen, "
        f"{summary['largest_item_bytes']} bytes, so 1 WRU; 2 per item in a transaction; failed "
        "conditional writes still billed). The bench shortens the rate limit's window "
        "(RateLimitWindowSeconds=1, RateLimitActions left at its default) and paces each "
        "connection under it, because it replays 20 minutes in seconds; the limiter's writes "
        "and item sizes do not depend on the window.",
        "SQS: each SendMessage is one request per 64 KB; each matcher batch costs the event "
        "source one ReceiveMessage and one DeleteMessageBatch; its empty polls are in the idle "
        "month. Each nudge is delivered in its own batch (they are seconds to minutes apart).",
        "The sweeper (every minute) reads what is open, eventually consistent: the "
        "connections' index, the queues, pool, shift and board partitions, and the open "
        "connections' and chats' items (BatchGetItem: 0.5 RRU an item). A conversation's share "
        "is measured: one run with a chat open less one run with nothing open, times the "
        "minutes of the wait and the chat (an upper bound: the seeker's first minute has no "
        "chat yet). What a conversation leaves (the ended chat's item) is no longer read.",
        "The sweeper's keys-only index (Census) is written once when a connection item is put "
        "and once when it is deleted; the item's updates (the rate log on every frame) change "
        "neither its key nor a projected attribute and write nothing there: the DynamoDB "
        "Developer Guide says a table write that needs no update of a global secondary index "
        "consumes no write capacity from it, and lists an index write for an update only when "
        "it sets, changes or removes the index's key or changes an attribute projected into "
        "it (keys-only: the keys alone) "
        "(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html, "
        '"Write capacity units"; the page counts capacity units, on-demand bills the same '
        "writes as request units).",
        "CloudWatch Logs: every byte the functions print (Powertools JSON logs, EMF metric "
        "blobs); Lambda's START/END/REPORT lines are not written (LoggingConfig: JSON format, "
        f"system logs at WARN; {PLATFORM_LOG_BYTES} bytes an invocation in the text format).",
        "No free tier is applied per conversation; list prices of " + prices.RETRIEVED + ".",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=5, help="measured conversations")
    parser.add_argument("--messages", type=int, default=40, help="messages each way")
    parser.add_argument("--typing", type=int, default=3, help="typing frames per side")
    parser.add_argument("--chat-minutes", type=float, default=20.0)
    parser.add_argument("--wait-minutes", type=float, default=1.0)
    args = parser.parse_args(argv)
    scenario = Scenario(
        messages_each_way=args.messages,
        typing_each_side=args.typing,
        chat_minutes=args.chat_minutes,
        wait_minutes=args.wait_minutes,
    )
    started = time.monotonic()
    with (
        TokenIssuer() as issuer,
        InProcessStack(
            parameters={"RateLimitWindowSeconds": "1"},
            extra_env={"COGNITO_JWKS_URL": issuer.url},
        ) as stack,
    ):
        schedule_runs = schedule_costs(stack, issuer)
        warm = run_conversation(stack, issuer, scenario, 0)  # cold starts, not counted
        cold_calls = Counter(
            c.key for inv in warm.invocations for c in inv.calls if c.service == "ssm"
        )
        conversations = [
            run_conversation(stack, issuer, scenario, i + 1) for i in range(args.conversations)
        ]
        largest_end, items_left = stack.largest_item()
        stack.largest_seen = max(stack.largest_seen, largest_end)
        summary = summarise(stack, conversations, scenario, schedule_runs)
        idle = idle_month(stack.template, schedule_runs)
    problems = [p for c in [warm, *conversations] for p in c.problems]
    elapsed = time.monotonic() - started

    # Sensitivities (printed, and kept in the JSON).
    per_typing = next(
        (
            k["usd_per_1000"] / k["per_conversation"]
            for k in summary["invocation_kinds"]
            if k["kind"].endswith(" typing")
        ),
        0.0,
    )
    summary["sensitivity"] = {
        "usd_per_1000_if_lambda_priced_on_raw_wall_time": summary[
            "usd_per_1000_with_measured_wall_time"
        ],
        "usd_per_1000_more_if_typing_once_per_message": round(
            per_typing * max(0, 2 * scenario.messages_each_way - 2 * scenario.typing_each_side), 4
        ),
    }
    summary["cold_start_calls_seen"] = dict(cold_calls)
    summary["items_left_in_table_after_runs"] = items_left
    summary["problems"] = problems
    summary["elapsed_seconds"] = round(elapsed, 1)
    summary["scenario"] = scenario.__dict__ | {"pings_each_side": scenario.pings_each_side}

    text = report(summary, idle, scenario, args)
    notes = assumptions(scenario, summary)
    print(text)
    print()
    print(
        f"Ratio to the floor: {summary['ratio_to_floor']:.2f}x (target <= {TARGET_RATIO}). "
        f"Idle month: ${idle['usd_per_month']:.2f} list, "
        f"${idle['usd_per_month_with_always_free_tier']:.2f} with always-free tiers, "
        f"${idle['usd_per_month_without_dashboard_and_alarms']:.3f} list without the dashboard "
        "and alarms (target <= $0.15)."
    )
    print(
        f"Priced on the raw wall time under moto instead: "
        f"${summary['usd_per_1000_with_measured_wall_time']:.4f} per 1,000. "
        f"If the page sent a `typing` with every message instead of {scenario.typing_each_side} "
        f"per side: +${summary['sensitivity']['usd_per_1000_more_if_typing_once_per_message']:.4f}."
    )
    print("Levers, each alone (not applied), USD saved per 1,000 conversations:")
    for lever, usd in summary["levers_usd_per_1000"].items():
        print(f"- {lever}: ${usd:.4f} ({usd / summary['floor_usd_per_1000']:.2f}x of the floor)")
    print(f"What {TARGET_RATIO}x would need:")
    for sentence in target_needs(summary):
        print(f"- {sentence}")
    if summary["custom_metrics_published"]:
        names = summary["custom_metrics_published"]
        print(
            f"Custom metrics published (EMF): {len(names)} ({', '.join(names)}): "
            f"${prices.CW_CUSTOM_METRIC_MONTH.cost(len(names)):.2f} a month if each is published "
            "in every hour of the month, prorated by the hour otherwise (not per conversation)."
        )
    print("\nAssumptions:")
    print(bullets(notes))
    print(f"\n{args.conversations} conversations measured (after one warm-up) in {elapsed:.1f} s.")
    if problems:
        print("\nPROBLEMS (the conversation did not go as the protocol says):")
        print(bullets(problems))
    markdown = text + "\n\nAssumptions:\n\n" + bullets(notes) + "\n"
    path = write_results("cost", {"summary": summary, "idle": idle, "assumptions": notes}, markdown)
    print(f"\nwritten: {path.relative_to(RESULTS.parent.parent)} and cost.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
