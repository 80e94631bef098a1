"""Scale: AWS calls per relayed message at 1, 10, 100 and 1,000 concurrent chats (it must be flat).

    .venv/bin/python -m bench.scale [--levels 1 10 100 1000]

The chats are set up through the deployed handlers on in-process moto (bench.common), as
clients would: volunteers connect with an ID token and offer 3 slots each, seekers connect and
ask for a chat, the matcher pairs them. Once a level's chats are all running, one message is
relayed in each chat each way (the volunteers name the chat, as they must with several), and
every AWS call those relays make is counted. The next level adds chats to those running.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.common import (
    RESULTS,
    InProcessStack,
    TokenIssuer,
    bullets,
    dynamo_units,
    item_level_transaction_backups,
    markdown_table,
    median,
    open_volunteer,
    write_results,
)

CAPACITY = 3
BATCH = 50  # seekers asking at once before the matcher runs


@dataclass
class Chat:
    seeker: str
    volunteer: str
    session_id: str


class Setup:
    """Grows the number of running chats through the handlers."""

    def __init__(self, stack: InProcessStack, issuer: TokenIssuer) -> None:
        self.stack = stack
        self.issuer = issuer
        self.chats: list[Chat] = []
        self.free_slots = 0
        self.volunteers = 0

    def _add_volunteer(self) -> str:
        self.volunteers += 1
        cid = open_volunteer(self.stack, self.issuer, self.volunteers, CAPACITY)
        self.free_slots += CAPACITY
        return cid

    def grow_to(self, target: int) -> None:
        stack = self.stack
        while len(self.chats) < target:
            batch = min(BATCH, target - len(self.chats))
            while self.free_slots < batch:
                self._add_volunteer()
            seekers = [stack.open(query="lang=en") for _ in range(batch)]
            for cid in seekers:
                stack.send(cid, {"action": "match", "language": "en"})
            stack.run_event_sources()
            volunteer_of: dict[str, str] = {}
            for handshake_id in list(stack.handshakes):
                for frame in stack.frames(handshake_id):
                    if (
                        frame.get("type") == "matched"
                        and frame.get("peer", {}).get("role") == "seeker"
                    ):
                        volunteer_of[frame["sessionId"]] = handshake_id
            for cid in seekers:
                session = next(
                    (f["sessionId"] for f in stack.all_frames(cid) if f.get("type") == "matched"),
                    None,
                )
                if session is None or session not in volunteer_of:
                    raise RuntimeError(f"a seeker was not matched at {len(self.chats)} chats")
                self.chats.append(Chat(cid, volunteer_of[session], session))
                self.free_slots -= 1


def relay_round(stack: InProcessStack, chats: list[Chat], level: int) -> dict[str, Any]:
    """One message each way in every chat; what each relay cost."""
    first = len(stack.invocations)
    for i, chat in enumerate(chats):
        stack.send(
            chat.seeker,
            {"action": "message", "text": f"hello from seeker {i}", "seq": level},
        )
        stack.send(
            chat.volunteer,
            {
                "action": "message",
                "sessionId": chat.session_id,
                "text": f"hello from volunteer {i}",
                "seq": level,
            },
        )
    relays = stack.invocations[first:]
    delivered = 0
    for chat in chats:
        for cid in (chat.seeker, chat.volunteer):
            delivered += sum(
                1 for f in stack.frames(cid) if f.get("type") == "message" and f.get("seq") == level
            )
    largest, items = stack.largest_item()
    stack.largest_seen = max(stack.largest_seen, largest)
    calls = [c for inv in relays for c in inv.calls]
    per_relay = [len(inv.calls) for inv in relays]
    units = [dynamo_units(c, largest) for c in calls]
    errors = [inv for inv in relays if any(c.error for c in inv.calls)]
    return {
        "chats": len(chats),
        "relayed": len(relays),
        "delivered": delivered,
        "table_items": items,
        "calls_per_message_mean": sum(per_relay) / len(relays),
        "calls_per_message_min": min(per_relay),
        "calls_per_message_max": max(per_relay),
        "calls_per_message_by_operation": {
            k: round(v / len(relays), 3) for k, v in sorted(Counter(c.key for c in calls).items())
        },
        "rru_per_message": round(sum(r for r, _ in units) / len(relays), 3),
        "wru_per_message": round(sum(w for _, w in units) / len(relays), 3),
        "calls_with_errors": len(errors),
        "handler_wall_ms_median": round(median(inv.wall_s * 1000 for inv in relays), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 100, 1000])
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    with (
        TokenIssuer() as issuer,
        InProcessStack(extra_env={"COGNITO_JWKS_URL": issuer.url}) as stack,
    ):
        setup = Setup(stack, issuer)
        for level in sorted(args.levels):
            t0 = time.monotonic()
            with item_level_transaction_backups():
                setup.grow_to(level)
            setup_s = time.monotonic() - t0
            row = relay_round(stack, setup.chats, level)
            row["setup_seconds"] = round(setup_s, 1)
            row["volunteers"] = setup.volunteers
            rows.append(row)
            print(
                f"{level:>5} chats: {row['calls_per_message_mean']:.2f} AWS calls per relayed "
                f"message ({row['calls_per_message_by_operation']}), "
                f"{row['delivered']}/{row['relayed']} delivered, "
                f"{row['table_items']} items in the table, set up in {setup_s:.1f} s",
                flush=True,
            )
    elapsed = time.monotonic() - started

    shapes = {tuple(sorted(r["calls_per_message_by_operation"].items())) for r in rows}
    flat = len(shapes) == 1 and all(
        r["calls_per_message_min"] == r["calls_per_message_max"] for r in rows
    )
    lost = sum(r["relayed"] - r["delivered"] for r in rows)
    table = markdown_table(
        [
            "concurrent chats",
            "items in the table",
            "AWS calls per relayed message",
            "by operation",
            "RRU / WRU per message",
            "handler ms (moto, median)",
            "delivered",
        ],
        [
            (
                f"{r['chats']:,}",
                f"{r['table_items']:,}",
                f"{r['calls_per_message_mean']:.2f} (min {r['calls_per_message_min']}, "
                f"max {r['calls_per_message_max']})",
                ", ".join(
                    f"{op.split('.', 1)[1]} {v:g}"
                    for op, v in r["calls_per_message_by_operation"].items()
                ),
                f"{r['rru_per_message']:g} / {r['wru_per_message']:g}",
                f"{r['handler_wall_ms_median']:.1f}",
                f"{r['delivered']}/{r['relayed']}",
            )
            for r in rows
        ],
    )
    verdict = (
        "flat: every relayed message made the same calls at every level"
        if flat
        else "NOT flat: the calls per relayed message change with the number of chats"
    )
    notes = [
        "Each level relays one message each way in every running chat (2 x chats relays); "
        "a volunteer holds up to 3 chats and names the chat in `sessionId`.",
        "Counted: every botocore call the chat function makes while relaying (moto in-process); "
        "RRU/WRU computed per call as in bench.cost.",
        "Handler ms is the wall time under in-process moto on this machine: a sanity check "
        "that nothing scans, not a latency figure (see bench.load for that).",
    ]
    print()
    print(table)
    print()
    print(verdict + (f"; {lost} relays not delivered" if lost else "; every relay delivered") + ".")
    print(bullets(notes))
    print(f"\nRan in {elapsed:.0f} s.")
    markdown = table + "\n\n" + verdict + ".\n\n" + bullets(notes) + "\n"
    path = write_results(
        "scale",
        {
            "levels": rows,
            "flat": flat,
            "lost": lost,
            "elapsed_seconds": round(elapsed, 1),
            "notes": notes,
        },
        markdown,
    )
    print(f"written: {path.relative_to(RESULTS.parent.parent)} and scale.md")
    return 0 if flat and not lost else 1


if __name__ == "__main__":
    sys.exit(main())
