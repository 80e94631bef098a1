"""Load: concurrent seeker-volunteer pairs through the local stack, over real WebSockets.

    .venv/bin/python -m bench.load [--pairs 10 100 300] [--messages 10] [--backlog 500 50]

The whole local stack (local.stack.LocalStack: the gateway, every handler of template.yaml,
moto, the SQS poller) runs in this process on free loopback ports; the clients run in a child
process (`--client`), so the two do not share one interpreter lock on this 2-core machine.
Volunteers are users of the stack's Cognito pool (moto), created with admin calls and signed in
as the console does; each takes 3 chats.

relay phase, per --pairs N: ceil(N/3) volunteers connect and offer 3 slots, N seekers connect
and ask for a chat, and once all N are matched each side sends --messages messages (`seq`
0..M-1) paced so that all chats together offer at most --rate frames a second (the template's
stage throttle is 50 a second: API Gateway would refuse more), seekers arriving at --arrivals
a second. Measured at the clients: relay
latency (send to arrival at the peer), messages lost, arrivals out of `seq` order, and whether
every chat's messages are complete and in order once sorted by `seq`.

backlog phase: --backlog S V: S seekers wait in the queue; then V volunteers (capacity 1) come
online at once and end each chat as soon as it is matched, until all S are matched. Measured:
matches per second, the first V matches and the whole backlog; no seeker matched twice, no
volunteer ever in two chats at once.

Every wait is bounded; the figures are those of the local stack on this machine (one Python
process for gateway, handlers and moto), not of API Gateway and Lambda.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import (
    RESULTS,
    ROOT,
    bullets,
    item_level_transaction_backups,
    markdown_table,
    percentile,
    write_results,
)

PASSWORD = "Kindred-Bench-1"
CAPACITY = 3
CONNECT_CONCURRENCY = 25  # handshakes in flight at once
STAGE_RATE_LIMIT = 50.0  # template.yaml's ThrottlingRateLimit default (frames a second)


# ============================================================== the clients (child process)


class Client:
    """One WebSocket: every frame received, with its arrival time, and waits on them."""

    def __init__(self, ws: Any, name: str) -> None:
        self.ws = ws
        self.name = name
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self._changed = asyncio.Event()
        self.on_frame: Any = None
        self.closed = False
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                self.frames.append((now, frame))
                if self.on_frame is not None:
                    self.on_frame(self, now, frame)
                self._changed.set()
        except Exception:
            pass
        finally:
            self.closed = True
            self._changed.set()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def wait_for(self, kind: str, timeout: float, after: int = 0) -> dict[str, Any] | None:
        """The first frame of this type from index `after` on; None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for _, frame in self.frames[after:]:
                if frame.get("type") == kind:
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return None

    def count(self, kind: str) -> int:
        return sum(1 for _, f in self.frames if f.get("type") == kind)


HANDSHAKE_RETRIES: Counter[str] = Counter()


async def _open(url: str, origin: str, name: str, gate: asyncio.Semaphore) -> Client:
    """A client socket; a handshake the busy local stack fails is retried (up to 3 times)."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    for attempt in range(4):
        try:
            async with gate:
                ws = await connect(
                    url,
                    origin=Origin(origin),
                    open_timeout=60,
                    close_timeout=5,
                    max_size=None,
                    ping_interval=None,
                )
            return Client(ws, name)
        except Exception:
            if attempt == 3:
                raise
            HANDSHAKE_RETRIES["retried"] += 1
            await asyncio.sleep(1 + attempt)
    raise AssertionError("unreachable")


async def _arrive(
    url: str, origin: str, count: int, per_second: float, gate: asyncio.Semaphore
) -> list[Client]:
    """`count` seekers arriving at `per_second`, each asking for a chat as soon as connected."""

    async def one(i: int) -> Client:
        await asyncio.sleep(i / per_second)
        client = await _open(url, origin, f"s{i}", gate)
        await client.send({"action": "match", "language": "en"})
        return client

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _close_all(clients: list[Client]) -> None:
    async def close(c: Client) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(c.ws.close(), 10)

    await asyncio.gather(*(close(c) for c in clients))
    await asyncio.gather(*(c.task for c in clients), return_exceptions=True)


async def relay_phase(spec: dict[str, Any]) -> dict[str, Any]:
    n, m = spec["pairs"], spec["messages"]
    url, origin, tokens = spec["ws_url"], spec["origin"], spec["tokens"]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    interval = max(2 * n / spec["rate"], 1.5)  # per sender; 1.5 s keeps a 3-chat volunteer
    t_start = time.monotonic()  # under the default rate limit (30 actions in 10 s)
    result: dict[str, Any] = {"pairs": n, "messages_each_way": m, "interval_s": interval}

    # Volunteers come online with 3 slots each (the last one with what is left).
    v = math.ceil(n / CAPACITY)
    volunteers = await asyncio.gather(
        *(_open(f"{url}?token={tokens[i]}", origin, f"v{i}", gate) for i in range(v))
    )
    for i, vol in enumerate(volunteers):
        capacity = min(CAPACITY, n - i * CAPACITY)
        await vol.send({"action": "availability", "available": True, "capacity": capacity})
    statuses = await asyncio.gather(*(vol.wait_for("status", 60) for vol in volunteers))
    if not all(statuses):
        result["error"] = "a volunteer got no `status`"
        await _close_all(volunteers)
        return result

    # Seekers arrive and ask; every one must be matched.
    seekers = await _arrive(url, origin, n, spec["arrivals"], gate)
    matched = await asyncio.gather(*(s.wait_for("matched", 120 + 0.5 * n) for s in seekers))
    result["setup_s"] = round(time.monotonic() - t_start, 1)
    result["matched"] = sum(1 for f in matched if f)
    if result["matched"] < n:
        result["error"] = f"only {result['matched']} of {n} seekers were matched"
        await _close_all([*seekers, *volunteers])
        return result
    volunteer_of: dict[str, Client] = {}
    for vol in volunteers:
        for _, frame in vol.frames:
            if frame.get("type") == "matched":
                volunteer_of[frame["sessionId"]] = vol
    chats = [
        (f["sessionId"], s, volunteer_of.get(f["sessionId"]))
        for f, s in zip(matched, seekers, strict=True)
        if f
    ]
    if any(vol is None for _, _, vol in chats):
        result["error"] = "a volunteer never heard of a chat its seeker was matched in"
        await _close_all([*seekers, *volunteers])
        return result

    # The messages: each side sends m, paced; the peer's arrival is timed.
    sent: dict[tuple[str, str, int], float] = {}
    arrived: dict[tuple[str, str, int], float] = {}
    order: dict[tuple[str, str], list[int]] = {}
    duplicates = 0
    errors: Counter[str] = Counter()

    def on_frame(client: Client, now: float, frame: dict[str, Any]) -> None:
        nonlocal duplicates
        kind = frame.get("type")
        if kind == "message":
            sid, seq = frame.get("sessionId", ""), int(frame.get("seq", -1))
            sender = "v" if client.name.startswith("s") else "s"
            key = (sid, sender, seq)
            if key in arrived:
                duplicates += 1
            arrived[key] = now
            order.setdefault((sid, sender), []).append(seq)
        elif kind == "error":
            errors[str(frame.get("code"))] += 1

    for c in [*seekers, *volunteers]:
        c.on_frame = on_frame
    text = "How are you doing tonight? I've been thinking about what you said earlier. " * 2

    async def sender(client: Client, sid: str, side: str) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        for seq in range(m):
            sent[(sid, side, seq)] = time.perf_counter()
            await client.send(
                {
                    "action": "message",
                    "sessionId": sid,
                    "text": text,
                    "clientMsgId": f"{side}{seq}",
                    "seq": seq,
                }
            )
            await asyncio.sleep(interval)

    t_messages = time.monotonic()
    await asyncio.gather(
        *(sender(s, sid, "s") for sid, s, _ in chats),
        *(sender(vol, sid, "v") for sid, _, vol in chats if vol is not None),
    )
    deadline = time.monotonic() + 60
    while len(arrived) < len(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    result["messaging_s"] = round(time.monotonic() - t_messages, 1)

    latencies = [(arrived[k] - t) * 1000 for k, t in sent.items() if k in arrived]
    out_of_order = 0
    complete_in_order = 0
    for sid, _, _ in chats:
        for side in ("s", "v"):
            seqs = order.get((sid, side), [])
            out_of_order += sum(1 for a, b in itertools.pairwise(seqs) if b < a)
            complete_in_order += sorted(seqs) == list(range(m))
    result.update(
        {
            "sent": len(sent),
            "delivered": len([k for k in sent if k in arrived]),
            "lost": len([k for k in sent if k not in arrived]),
            "duplicates": duplicates,
            "arrivals_out_of_seq_order": out_of_order,
            "directions_complete_after_seq_sort": complete_in_order,
            "directions": 2 * len(chats),
            "errors": dict(errors),
            "latency_ms": {
                "p50": round(percentile(latencies, 50), 1),
                "p90": round(percentile(latencies, 90), 1),
                "p99": round(percentile(latencies, 99), 1),
                "max": round(max(latencies, default=float("nan")), 1),
            },
            "offered_rate_per_s": round(2 * len(chats) / interval, 1),
        }
    )

    # The end: seekers end their chats, everyone leaves.
    await asyncio.gather(*(s.send({"action": "end"}) for s in seekers))
    ended = await asyncio.gather(*(s.wait_for("ended", 30) for s in seekers))
    result["ended"] = sum(1 for f in ended if f)
    await _close_all([*seekers, *volunteers])
    result["phase_s"] = round(time.monotonic() - t_start, 1)
    result["handshakes_retried"] = HANDSHAKE_RETRIES["retried"]
    return result


async def backlog_phase(spec: dict[str, Any]) -> dict[str, Any]:
    s_count, v_count = spec["seekers"], spec["volunteers"]
    url, origin, tokens = spec["ws_url"], spec["origin"], spec["tokens"]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    result: dict[str, Any] = {"seekers": s_count, "volunteers": v_count}
    t_start = time.monotonic()

    seekers = await _arrive(url, origin, s_count, spec["arrivals"], gate)
    queued = await asyncio.gather(*(s.wait_for("queued", 120) for s in seekers))
    result["queued"] = sum(1 for f in queued if f)
    result["queue_filled_s"] = round(time.monotonic() - t_start, 1)

    match_times: list[float] = []
    over_capacity = 0
    in_chat: dict[str, bool] = {}

    def on_volunteer_frame(client: Client, now: float, frame: dict[str, Any]) -> None:
        nonlocal over_capacity
        kind = frame.get("type")
        if kind == "matched":
            if in_chat.get(client.name):
                over_capacity += 1
            in_chat[client.name] = True
            match_times.append(now)
            asyncio.get_running_loop().create_task(
                client.send({"action": "end", "sessionId": frame["sessionId"]})
            )
        elif kind == "ended":
            in_chat[client.name] = False

    t0 = time.perf_counter()
    volunteers = await asyncio.gather(
        *(_open(f"{url}?token={tokens[i]}", origin, f"v{i}", gate) for i in range(v_count))
    )
    for vol in volunteers:
        vol.on_frame = on_volunteer_frame
    online = time.perf_counter()
    await asyncio.gather(
        *(v.send({"action": "availability", "available": True, "capacity": 1}) for v in volunteers)
    )
    deadline = time.monotonic() + spec["timeout"]
    while len(match_times) < result["queued"] and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    matched_per_seeker = [s.count("matched") for s in seekers]
    times = sorted(t - online for t in match_times)
    first_wave = times[v_count - 1] if len(times) >= v_count else float("nan")
    result.update(
        {
            "matches": len(times),
            "volunteers_connected_s": round(online - t0, 2),
            "first_wave_s": round(first_wave, 2),
            "first_wave_matches_per_s": round(v_count / first_wave, 1) if times else 0,
            "all_matched_s": round(times[-1], 2) if times else float("nan"),
            "matches_per_s": round(len(times) / times[-1], 1) if times else 0,
            "seekers_matched_twice": sum(1 for c in matched_per_seeker if c > 1),
            "seekers_never_matched": sum(1 for c in matched_per_seeker if c == 0),
            "volunteer_over_capacity": over_capacity,
        }
    )
    await _close_all([*seekers, *volunteers])
    result["phase_s"] = round(time.monotonic() - t_start, 1)
    result["handshakes_retried"] = HANDSHAKE_RETRIES["retried"]
    return result


def client_main(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    phase = relay_phase if spec["phase"] == "relay" else backlog_phase
    result = asyncio.run(phase(spec))
    Path(out_path).write_text(json.dumps(result))
    return 0


# ============================================================== the stack (parent process)


def _volunteers(stack: Any, count: int) -> list[str]:
    """`count` volunteers in the stack's Cognito pool, signed in: their ID tokens."""
    cognito = stack.client("cognito-idp")
    pool = stack.environment["COGNITO_USER_POOL_ID"]
    tokens = []
    for i in range(count):
        email = f"bench-volunteer-{i}@example.org"
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": f"Volunteer {i}"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="volunteers")
        tokens.append(stack.id_token(email, PASSWORD))
    return tokens


def _quiet_functions() -> contextlib.ExitStack:
    """The handlers log and print EMF metrics to stdout, as in Lambda: here, to /dev/null
    (they still do the work of it). The bench's own lines go to the real stdout."""
    exits = contextlib.ExitStack()
    sink = exits.enter_context(open(os.devnull, "w"))  # noqa: SIM115
    exits.enter_context(contextlib.redirect_stdout(sink))
    observability = sys.modules.get("kindred.observability")
    if observability is not None:
        handler = observability.logger.registered_handler
        previous = handler.setStream(sink)
        exits.callback(handler.setStream, previous)
    return exits


def say(text: str) -> None:
    print(text, file=sys.__stdout__, flush=True)


def _settle(stack: Any, timeout: float = 60) -> None:
    """Wait until every socket of the last phase is gone and its $disconnect has run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not stack.gateway.connection_ids():
            break
        time.sleep(0.2)
    time.sleep(2)  # the last $disconnect handlers


def rss_mb() -> float:
    """This process's resident memory (Linux), 0 if unknown."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Watchdog(threading.Thread):
    """Stops the phase if the stack's process grows past `limit_mb` (moto keeps everything
    in memory; the machine is shared and must not run out)."""

    def __init__(self, limit_mb: float) -> None:
        super().__init__(daemon=True)
        self.limit_mb = limit_mb
        self.peak_mb = 0.0
        self.tripped = False
        self.client: subprocess.Popen[str] | None = None
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(0.5):
            now = rss_mb()
            self.peak_mb = max(self.peak_mb, now)
            if now > self.limit_mb and not self.tripped:
                self.tripped = True
                say(f"the stack's process uses {now:.0f} MB (> {self.limit_mb:.0f}): stopping")
                if self.client is not None and self.client.poll() is None:
                    self.client.kill()

    def stop(self) -> None:
        self._stop.set()


def _run_client(spec: dict[str, Any], timeout: float, watchdog: Watchdog) -> dict[str, Any]:
    if watchdog.tripped:
        return {"error": "not run: the memory limit was reached before"}
    with tempfile.TemporaryDirectory(prefix="kindred-load-") as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "result.json"
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with subprocess.Popen(
            [sys.executable, "-m", "bench.load", "--client", str(spec_path), str(out_path)],
            cwd=str(ROOT),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as client:
            watchdog.client = client
            try:
                _, stderr = client.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                client.kill()
                _, stderr = client.communicate()
                return {"error": f"the client took longer than {timeout:.0f} s"}
            finally:
                watchdog.client = None
        if watchdog.tripped:
            return {"error": f"stopped: the stack's process passed {watchdog.limit_mb:.0f} MB"}
        if client.returncode != 0 or not out_path.exists():
            return {"error": f"the client failed ({client.returncode}): {stderr[-1500:]}"}
        result: dict[str, Any] = json.loads(out_path.read_text())
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument("--messages", type=int, default=6, help="messages each way per chat")
    parser.add_argument("--arrivals", type=float, default=5.0, help="seekers arriving per second")
    parser.add_argument(
        "--rate",
        type=float,
        default=20.0,
        help="frames a second all chats together offer at most",
    )
    parser.add_argument(
        "--backlog", type=int, nargs=2, default=[500, 50], metavar=("SEEKERS", "VOLUNTEERS")
    )
    parser.add_argument("--no-backlog", action="store_true")
    parser.add_argument(
        "--max-rss-mb",
        type=float,
        default=3000,
        help="stop if the stack's process grows past this (the machine is shared)",
    )
    parser.add_argument("--client", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        return client_main(*args.client)

    from local.stack import LocalStack, Ports

    started = time.monotonic()
    volunteers_needed = max(
        [math.ceil(n / CAPACITY) for n in args.pairs]
        + ([] if args.no_backlog else [args.backlog[1]])
    )
    invocations: Counter[str] = Counter()
    lock = threading.Lock()

    def observe(function: str, event: dict[str, Any], outcome: Any) -> None:
        with lock:
            invocations[function] += 1

    relay_rows: list[dict[str, Any]] = []
    backlog: dict[str, Any] | None = None
    # moto copies the whole table for every item of a transaction (to roll back); real
    # DynamoDB's cost does not grow with the table. Item-level backups, same semantics.
    emulator = contextlib.ExitStack()
    emulator.enter_context(item_level_transaction_backups())
    watchdog = Watchdog(args.max_rss_mb)
    watchdog.start()
    stack = LocalStack(ports=Ports(web=0, ws=0, aws=0, connections=0)).start()
    quiet = _quiet_functions()
    try:
        for fn in stack.functions.values():
            fn.observers.append(observe)
        tokens = _volunteers(stack, volunteers_needed)
        base = {"ws_url": stack.ws_url, "origin": stack.web_origin, "tokens": tokens}
        say(
            f"local stack up, {volunteers_needed} volunteers signed in "
            f"({time.monotonic() - started:.0f} s)"
        )
        for n in args.pairs:
            before = invocations.copy()
            spec = {
                **base,
                "phase": "relay",
                "pairs": n,
                "messages": args.messages,
                "rate": args.rate,
                "arrivals": args.arrivals,
            }
            interval = max(2 * n / args.rate, 1.5)
            row = _run_client(
                spec,
                timeout=400 + 2 * n + n / args.arrivals + args.messages * interval,
                watchdog=watchdog,
            )
            row.setdefault("pairs", n)
            row["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            row["stack_rss_mb_after"] = round(rss_mb())
            row["invocations"] = dict(invocations - before)
            relay_rows.append(row)
            say(f"{n} pairs: {json.dumps({k: v for k, v in row.items() if k != 'invocations'})}")
            _settle(stack)
        if not args.no_backlog:
            before = invocations.copy()
            s_count, v_count = args.backlog
            spec = {
                **base,
                "phase": "backlog",
                "seekers": s_count,
                "volunteers": v_count,
                "timeout": 400,
                "arrivals": args.arrivals,
            }
            backlog = _run_client(spec, timeout=900, watchdog=watchdog)
            backlog["invocations"] = dict(invocations - before)
            backlog["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            backlog["stack_rss_mb_after"] = round(rss_mb())
            say(f"backlog: {json.dumps({k: v for k, v in backlog.items() if k != 'invocations'})}")
            _settle(stack)
    finally:
        stack.stop()
        quiet.close()
        emulator.close()
        watchdog.stop()
    elapsed = time.monotonic() - started
    args.peak_rss_mb = round(watchdog.peak_mb)
    return report(relay_rows, backlog, args, elapsed)


def report(
    rows: list[dict[str, Any]], backlog: dict[str, Any] | None, args: Any, elapsed: float
) -> int:
    failures = []
    relay_table = markdown_table(
        [
            "pairs",
            "messages relayed",
            "lost",
            "order kept (complete once sorted by seq)",
            "arrived out of seq order",
            "latency p50 / p99 / max ms",
            "offered frames/s",
            "set-up s",
            "phase s",
        ],
        [
            (
                r["pairs"],
                f"{r.get('delivered', 0)}/{r.get('sent', 0)}",
                r.get("lost", "n/a"),
                f"{r.get('directions_complete_after_seq_sort', 0)}/{r.get('directions', 0)}",
                r.get("arrivals_out_of_seq_order", "n/a"),
                " / ".join(
                    str(r.get("latency_ms", {}).get(k, "n/a")) for k in ("p50", "p99", "max")
                ),
                r.get("offered_rate_per_s", "n/a"),
                r.get("setup_s", "n/a"),
                r.get("phase_s", "n/a"),
            )
            for r in rows
        ],
    )
    for r in rows:
        if r.get("error") or r.get("lost") or r.get("duplicates"):
            failures.append(
                f"{r['pairs']} pairs: {r.get('error') or ''} lost {r.get('lost')}, "
                f"duplicates {r.get('duplicates')}"
            )
        if r.get("directions_complete_after_seq_sort") != r.get("directions"):
            failures.append(
                f"{r['pairs']} pairs: a chat's messages are incomplete once sorted by seq"
            )
    parts = [relay_table]
    if backlog is not None:
        parts.append(
            markdown_table(
                [
                    "seekers waiting",
                    "volunteers (capacity 1)",
                    "first matches (one per volunteer)",
                    "whole backlog",
                    "seekers matched twice",
                    "volunteer in two chats at once",
                ],
                [
                    (
                        backlog.get("queued", "n/a"),
                        backlog.get("volunteers", "n/a"),
                        f"{backlog.get('first_wave_s', 'n/a')} s "
                        f"({backlog.get('first_wave_matches_per_s', 'n/a')} matches/s)",
                        f"{backlog.get('matches', 0)} matched in "
                        f"{backlog.get('all_matched_s', 'n/a')} s "
                        f"({backlog.get('matches_per_s', 'n/a')} matches/s)",
                        backlog.get("seekers_matched_twice", "n/a"),
                        backlog.get("volunteer_over_capacity", "n/a"),
                    )
                ],
            )
        )
        if (
            backlog.get("error")
            or backlog.get("seekers_matched_twice")
            or backlog.get("volunteer_over_capacity")
        ):
            failures.append(f"backlog: {backlog}")
        if backlog.get("matches", 0) < backlog.get("queued", 0):
            failures.append(
                f"backlog: only {backlog.get('matches')} of {backlog.get('queued')} matched in time"
            )
    notes = [
        "Everything runs on this machine: the local stack (gateway, handlers on 8 worker "
        "threads, moto serving one request at a time, the SQS poller) in one Python process, "
        "the WebSocket clients in another. Latency is the local stack's under this load, not "
        "API Gateway's and Lambda's.",
        f"Seekers arrive at {args.arrivals:g} a second. Each side of each chat sends "
        f"{args.messages} messages; senders are paced so that all chats together offer at most "
        f"{args.rate:g} frames a second (template.yaml's stage throttle is 50: API Gateway "
        "would refuse more), and at most one message per 1.5 s per sender (a volunteer with "
        "3 chats stays under the default rate limit of 30 actions in 10 s). Pacing is what a "
        "real evening looks like (a message every 15 s per side makes 300 chats 40 frames a "
        "second) slowed to what the local stack sustains: moto serves one request at a time "
        "and evaluates each frame's rate-log update (30 SET clauses) in 20-50 ms.",
        "Lost: sent and never received within 60 s of the last send. Order: `seq` as sent; "
        "the protocol lets frames overtake each other (clients sort by `seq`): the table shows "
        "both the arrivals out of order and whether each direction is complete once sorted.",
        "moto's TransactWriteItems copies the whole table for every item it names (for its "
        "rollback); the bench swaps that for item-level backups with the same outcome, so that "
        "the emulator's O(table) cost does not pass for Kindred's.",
        "Backlog: volunteers with capacity 1 end each chat as soon as they are matched, so the "
        "rate includes a chat's end and the slot freed; the matcher runs as the template's SQS "
        "event source (batch 10, window 1 s), one poller locally.",
    ]
    text = "\n\n".join(parts)
    print()
    print(text)
    print()
    print(bullets(notes))
    print(f"\nRan in {elapsed:.0f} s.")
    if failures:
        print("\nFAILED:")
        print(bullets(failures))
    path = write_results(
        "load",
        {
            "relay": rows,
            "backlog": backlog,
            "messages_each_way": args.messages,
            "rate_limit_per_s": args.rate,
            "arrivals_per_s": args.arrivals,
            "stack_peak_rss_mb": args.peak_rss_mb,
            "elapsed_seconds": round(elapsed, 1),
            "failures": failures,
            "notes": notes,
        },
        text + "\n\n" + bullets(notes) + f"\n\nRan in {elapsed:.0f} s.\n",
    )
    print(f"written: {path.relative_to(RESULTS.parent.parent)} and load.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
