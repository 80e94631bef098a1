"""Prints a month's check-in totals from the deployed table, every count under 10 hidden.

    .venv/bin/python -m tools.impact [--month 2025-05] [--stack kindred] [--region us-east-1]
                                     [--table NAME] [--json]

The month defaults to the last one that has ended (UTC); a month still running is refused,
because two reports of it read a day apart would give away, by their difference, what the
few people in between answered. Each month is reported on its own, never added to others,
for the same reason. The table is the stack's `TableName` output (or `--table`); the caller
needs `dynamodb:GetItem` on it. How to read the report: docs/impact.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence

import boto3

from kindred.aws.impact import DynamoImpact
from kindred.aws.table import Table
from kindred.impact import has_ended, month_of, readable, report_text
from kindred.ports import Impact
from tools.cli import run
from tools.web_config import WebConfigError, describe_stack, samconfig_defaults

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ImpactError(Exception):
    """Something the operator has to change; the message says what."""


def last_ended_month(now: float) -> str:
    year, number = (int(part) for part in month_of(now).split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


def report(impact: Impact, month: str, *, now: float, as_json: bool = False) -> str:
    """The report of one ended month, as text or JSON; ImpactError for a month not ended."""
    if not _MONTH.match(month):
        raise ImpactError(f"--month is a calendar month such as 2025-05, not {month!r}")
    if not has_ended(month, now):
        raise ImpactError(
            f"{month} has not ended yet (UTC): a month is reported once it is over, so that "
            "two reports of it cannot be compared to tell what a few people answered"
        )
    rows = readable(month, impact.checkin_totals(month))
    return json.dumps(rows, indent=2) if as_json else report_text(rows)


def table_name(stack_name: str, region: str | None) -> str:
    """The stack's `TableName` output."""
    cloudformation = boto3.session.Session(region_name=region).client("cloudformation")
    try:
        stack = describe_stack(cloudformation, stack_name)
    except WebConfigError as exc:
        raise ImpactError(str(exc)) from None
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
    if not outputs.get("TableName"):
        raise ImpactError(f"the stack {stack_name!r} has no TableName output: name it with --table")
    return str(outputs["TableName"])


def dynamo_impact(table: str, region: str | None) -> Impact:
    client = boto3.session.Session(region_name=region).client("dynamodb")
    return DynamoImpact(Table(client, table, connection_ttl=0, session_ttl=0))


def main(argv: Sequence[str] | None = None, *, impact: Impact | None = None) -> int:
    defaults = samconfig_defaults()
    now = time.time()
    parser = argparse.ArgumentParser(
        prog="python -m tools.impact",
        description="A month's check-in totals (before and after a chat), counts under 10 hidden.",
    )
    parser.add_argument("--month", default=last_ended_month(now), help="YYYY-MM, ended (UTC)")
    parser.add_argument("--stack", default=defaults.get("stack_name", "kindred"))
    parser.add_argument("--region", default=defaults.get("region"))
    parser.add_argument("--table", help="the table's name (default: the stack's TableName)")
    parser.add_argument("--json", action="store_true", help="the same figures as JSON")
    args = parser.parse_args(argv)

    def work() -> None:
        totals = impact
        if totals is None:
            table = args.table or table_name(args.stack, args.region)
            totals = dynamo_impact(table, args.region)
        print(report(totals, args.month, now=now, as_json=args.json))

    return run("impact", work, ImpactError, "reading the totals")


if __name__ == "__main__":
    sys.exit(main())
