"""How a tool's command ends: its own error or a failed AWS call is one line on stderr, exit 1."""

from __future__ import annotations

import sys
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError


def run(prog: str, work: Callable[[], None], own_error: type[Exception], aws_doing: str) -> int:
    """0 once `work` has run; 1, and `prog: ...` on stderr, for `own_error` (its message) or
    an AWS failure (`aws_doing` failed: ...)."""
    try:
        work()
    except own_error as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"{prog}: {aws_doing} failed: {exc}", file=sys.stderr)
        return 1
    return 0
