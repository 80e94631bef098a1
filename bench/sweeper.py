"""Sweeper: does one run of the real sweeper over 10,000 connections finish inside its timeout?

    .venv/bin/python -m bench.sweeper [--connections 10000] [--workers 8 1] [--latency-scale 1]

The table is filled through the deployed handlers on in-process moto (bench.common), as
clients would: volunteers (capacity 3) come on shift and are matched with seekers, more
seekers wait in the queue with every slot taken; the rest are connected and idle (written by
the code `$connect` runs, without the handshake's invocations, to keep the setup short). Some of it
needs the sweeper, as in a bad minute: sockets that vanished without a `$disconnect`
(GetConnection and PostToConnection answer 410, as API Gateway does: moto never does) of idle
seekers, waiting seekers and volunteers in chats; and seekers who dropped, whose grace period
is over and whose `grace_over` work item was lost (the queue is purged).

Then the sweeper's handler runs once, as its schedule invokes it, with the template's 60 s
timeout (the Lambda context's remaining time is real: the budget acts on it). Every AWS call
it makes waits an assumed in-region AWS latency (`LATENCY_MS`, below) before moto serves it,
so the GetConnection checks' thread pool overlaps real waits. Reported: the run's time here,
whether every check and repair was done (nothing deferred), and a Lambda estimate that also
slows the handler's own CPU time (here, minus moto's) to a 256 MB function's share of a vCPU.
`--workers 1` runs the same table with one check at a time (the issue's sequential checks).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from bench.common import (
    RESULTS,
    InProcessStack,
    TokenIssuer,
    bullets,
    item_level_transaction_backups,
    markdown_table,
    open_volunteer,
    write_results,
)

CAPACITY = 3
GRACE = 10  # ResumeGraceSeconds here: the lost work items' graces are over after it
TIMEOUT_S = 60  # SweeperFunction's Timeout in template.yaml
MEMORY_MB = 256  # the functions' MemorySize (Globals)
VCPU_MB = 1769  # Lambda gives a function one vCPU's worth of CPU at 1,769 MB
# Assumed AWS latency per call from a Lambda function in the same region, in ms: DynamoDB's
# single-digit-millisecond point operations (a Scan page of 1 MB more), the @connections
# API's tens of milliseconds, SQS's. Multiplied by --latency-scale.
LATENCY_MS = {
    "apigatewaymanagementapi.GetConnection": 25,
    "apigatewaymanagementapi.PostToConnection": 25,
    "apigatewaymanagementapi.DeleteConnection": 25,
    "dynamodb.GetItem": 6,
    "dynamodb.PutItem": 8,
    "dynamodb.UpdateItem": 8,
    "dynamodb.DeleteItem": 8,
    "dynamodb.Query": 10,
    "dynamodb.BatchGetItem": 12,
    "dynamodb.TransactWriteItems": 20,
    "dynamodb.Scan": 80,
    "sqs.SendMessage": 10,
}
DEFAULT_LATENCY_MS = 15


@contextmanager
def aws_latency(scale: float, gone: set[str]) -> Iterator[None]:
    """Every botocore call waits its assumed latency first; the @connections API answers 410
    for the connections in `gone` (after the wait, as API Gateway would)."""
    from botocore.client import BaseClient

    from tests.aws_calls import client_error

    original = BaseClient._make_api_call

    def slowed(client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        time.sleep(LATENCY_MS.get(f"{service}.{operation}", DEFAULT_LATENCY_MS) * scale / 1000)
        if service == "apigatewaymanagementapi" and params.get("ConnectionId") in gone:
            raise client_error("GoneException", 410, operation)
        return original(client, operation, params)

    with patch.object(BaseClient, "_make_api_call", slowed):
        yield


class Table:
    """Fills the table through the handlers; remembers who is who."""

    def __init__(self, stack: InProcessStack, issuer: TokenIssuer) -> None:
        self.stack = stack
        self.issuer = issuer
        self.volunteers: list[str] = []
        self.chatting: list[str] = []
        self.waiting: list[str] = []
        self.idle: list[str] = []

    def volunteer(self) -> str:
        cid = open_volunteer(self.stack, self.issuer, len(self.volunteers) + 1, CAPACITY)
        self.volunteers.append(cid)
        return cid

    def seeker(self, *, match: bool) -> str:
        cid = self.stack.open(query="lang=en")
        if match:
            self.stack.send(cid, {"action": "match", "language": "en"})
        return cid

    def idle_seeker(self) -> str:
        """What `$connect` writes for a seeker (kindred.connections.connect, the code its
        handler runs), without the handshake's two invocations: 8,000 of them take minutes."""
        from kindred.aws.wiring import services
        from kindred.connections import connect
        from kindred.requests import ConnectRequest
        from local.ws_events import new_id

        cid = new_id()
        connect(services(), ConnectRequest(cid, "seeker", "", "", {"lang": "en"}))
        return cid

    def fill(self, connections: int) -> None:
        """About 2% volunteers, each in 3 chats; 10% of seekers waiting; the rest idle."""
        volunteers = max(1, connections // 50)
        chats = volunteers * CAPACITY
        waiting = connections // 10
        idle = connections - volunteers - chats - waiting
        with item_level_transaction_backups():
            for _ in range(volunteers):
                self.volunteer()
            for n in range(chats):
                self.chatting.append(self.seeker(match=True))
                if n % 50 == 49:
                    self.stack.run_event_sources()
            self.stack.run_event_sources()
            for _ in range(waiting):
                self.waiting.append(self.seeker(match=True))
            # Every slot is taken: the matcher would find nothing for them (and 1,000 passes
            # over a 1,000-seeker queue on moto take a quarter of an hour).
            drain(self.stack)
            for n in range(idle):
                self.idle.append(self.idle_seeker())
                if n % 1000 == 999:
                    print(f"  {n + 1:,} idle seekers", flush=True)
        for cid in list(self.stack.handshakes):
            self.stack.forget_frames(cid)  # moto keeps every frame; the run needs none of it


def drain(stack: InProcessStack) -> int:
    """Delete every visible work item of the match queue unread (PurgeQueue is allowed once a
    minute); how many there were."""
    drained = 0
    with stack.aws.paused():
        for source in stack.sources:
            while True:
                got = stack.sqs.receive_message(
                    QueueUrl=source.queue_url, MaxNumberOfMessages=10
                ).get("Messages", [])
                if not got:
                    break
                stack.sqs.delete_message_batch(
                    QueueUrl=source.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(got)
                    ],
                )
                drained += len(got)
    return drained


def count_items(stack: InProcessStack) -> Counter[str]:
    """Items by kind (the pk's prefix): what the sweeper's Scan reads."""
    return Counter(pk.split("#", 1)[0] for pk, _ in stack.snapshot())


def sweep_once(stack: InProcessStack, scale: float, gone: set[str]) -> dict[str, Any]:
    """One scheduled invocation of the sweeper; what it did and how long it took."""
    from kindred.sweeper import ROTATION

    ROTATION.resume_after = None  # a new process: no run before this one
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    mark = stack.aws.mark()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    # moto deep-copies the whole table for each item of a transaction (its rollback), which
    # DynamoDB does not: backed up item by item, as during the setup.
    with item_level_transaction_backups(), aws_latency(scale, gone):
        done = stack.invoke("SweeperFunction", "schedule", event)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    calls = stack.aws.since(mark)
    moto_s = sum(c.moto_seconds for c in calls)
    own_cpu = max(0.0, cpu - moto_s)
    slower = VCPU_MB / MEMORY_MB
    # moto's own time stands in for AWS's, whose latency each call has already waited: the
    # estimate takes it out; the upper bound keeps it (as if AWS took both).
    modelled = max(0.0, wall - moto_s) + own_cpu * (slower - 1)
    upper = wall + own_cpu * (slower - 1)
    log = stack.invocations[-1]
    return {
        "seconds_here": round(wall, 1),
        "cpu_seconds_here": round(cpu, 1),
        "moto_seconds": round(moto_s, 1),
        "own_cpu_seconds": round(own_cpu, 1),
        "modelled_lambda_seconds": round(modelled, 1),
        "upper_bound_lambda_seconds": round(upper, 1),
        "timeout_seconds": TIMEOUT_S,
        "inside_timeout": modelled < TIMEOUT_S,
        "repairs": dict(done),
        "calls": dict(Counter(c.key for c in calls).most_common()),
        "log_bytes": log.log_bytes,
    }


@contextmanager
def swept_lines() -> Iterator[list[dict[str, Any]]]:
    """The sweeper's "swept" log lines while inside (how many checks, what was left, the
    time that remained), read from the `kindred` logger's records."""
    import logging

    lines: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "swept":
                lines.append(dict(record.__dict__))

    handler = Keep(level=logging.INFO)
    logging.getLogger("kindred").addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger("kindred").removeHandler(handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[8, 1])
    parser.add_argument("--latency-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    started = time.monotonic()
    runs: list[dict[str, Any]] = []
    with (
        TokenIssuer() as issuer,
        InProcessStack(
            parameters={"ResumeGraceSeconds": str(GRACE)},
            extra_env={"COGNITO_JWKS_URL": issuer.url},
        ) as stack,
    ):
        table = Table(stack, issuer)
        t0 = time.monotonic()
        table.fill(args.connections)
        # A bad minute: sockets gone without $disconnect, and lost grace work items.
        gone = set(table.idle[:20] + table.waiting[:20] + table.volunteers[:5])
        dropped = table.waiting[20:40] + table.chatting[:20]
        with item_level_transaction_backups():
            for cid in dropped:
                stack.close(cid, 1006)
        time.sleep(GRACE + 1)
        drain(stack)  # the grace items, visible now: lost
        items = count_items(stack)
        setup_s = time.monotonic() - t0
        print(
            f"{args.connections:,} connections ({len(table.volunteers)} "
            f"volunteers, {len(table.chatting)} seekers chatting, {len(table.waiting)} "
            f"waiting, {len(table.idle)} idle), {sum(items.values()):,} items, set up in "
            f"{setup_s:.0f} s",
            flush=True,
        )
        import kindred.sweeper as sweeper_module

        default_workers = sweeper_module.CHECK_WORKERS
        for workers in args.workers:
            sweeper_module.CHECK_WORKERS = workers
            try:
                with swept_lines() as lines:
                    run = sweep_once(stack, args.latency_scale, gone)
            finally:
                sweeper_module.CHECK_WORKERS = default_workers
            swept = lines[-1] if lines else {}
            run |= {
                "workers": workers,
                "checked": swept.get("checked"),
                "deferred": swept.get("deferred", {}),
                "time_left_ms": swept.get("time_left_ms"),
            }
            runs.append(run)
            print(
                f"{workers} at a time: {run['seconds_here']} s here (modelled for Lambda "
                f"{run['modelled_lambda_seconds']} s of {TIMEOUT_S}), checked "
                f"{run['checked']:,}, deferred {run['deferred'] or 'nothing'}, repairs "
                f"{run['repairs']}",
                flush=True,
            )
    elapsed = time.monotonic() - started

    rows = [
        (
            r["workers"],
            f"{r['seconds_here']} s",
            f"{r['modelled_lambda_seconds']} s (at most {r['upper_bound_lambda_seconds']} s)",
            "yes" if r["inside_timeout"] else "**no**",
            f"{r['checked']:,}",
            ", ".join(f"{k} {v}" for k, v in r["deferred"].items()) or "nothing",
            ", ".join(f"{k} {v}" for k, v in r["repairs"].items()) or "none",
        )
        for r in runs
    ]
    table_md = markdown_table(
        [
            "GetConnection checks at once",
            "run here",
            "modelled in Lambda",
            f"inside {TIMEOUT_S} s",
            "checked",
            "left to the next run",
            "repairs",
        ],
        rows,
    )
    notes = [
        f"{args.connections:,} connections: {len(table.volunteers)} volunteers (capacity "
        f"{CAPACITY}, every slot in a chat), {len(table.chatting)} seekers chatting, "
        f"{len(table.waiting)} waiting, {len(table.idle)} idle; {sum(items.values()):,} items "
        f"in the table ({', '.join(f'{k} {v:,}' for k, v in items.most_common())}).",
        "To repair: 45 sockets gone without `$disconnect` (20 idle seekers, 20 waiting, "
        "5 volunteers with 3 chats each: 410 from the @connections API), 40 seekers dropped "
        f"whose grace ({GRACE} s) is over and whose `grace_over` work item was lost.",
        "Each AWS call waits an assumed in-region latency before moto serves it (ms: "
        + ", ".join(f"{k.split('.')[1]} {v * args.latency_scale:g}" for k, v in LATENCY_MS.items())
        + f"; others {DEFAULT_LATENCY_MS * args.latency_scale:g}); moto's own time comes on top.",
        f"Modelled in Lambda: the run's time here without moto's own time (AWS's is the "
        f"latency each call waited), plus its own CPU time (here, minus moto's) slowed to a "
        f"{MEMORY_MB} MB function's share of a vCPU ({VCPU_MB} MB = 1 vCPU: "
        f"{VCPU_MB / MEMORY_MB:.1f}x), as if all of it were on the critical path. The upper "
        "bound keeps moto's time as well. Here, the run's real remaining time drove its budget.",
        "The run stops starting GetConnection checks after two thirds of its time and repairs "
        "with 5 s left; what it left is counted and done by the next run (a minute later).",
    ]
    markdown = (
        f"One sweeper run over {args.connections:,} connections (the Lambda timeout is "
        f"{TIMEOUT_S} s):\n\n{table_md}\n\n{bullets(notes)}\n"
    )
    figures = {
        "connections": args.connections,
        "items": dict(items),
        "latency_ms": {k: v * args.latency_scale for k, v in LATENCY_MS.items()},
        "runs": runs,
        "bench_seconds": round(elapsed),
    }
    path = write_results("sweeper", figures, markdown)
    print()
    print(markdown)
    print(f"Ran in {elapsed:.0f} s; results in {path.relative_to(RESULTS.parent.parent)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
