"""`make run`: the local stack on loopback, until Ctrl-C (python -m local.run --help)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType

from local.aws_resources import UnresolvedReferenceError
from local.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from local.functions import EnvironmentMismatchError
from local.gateway import GatewayLimits
from local.outbox import Invitation
from local.stack import ROOT, LocalStack, PortInUseError, Ports

# The option that sets each port, for the message when one is taken.
_PORT_OPTIONS = {
    "web": "--port",
    "ws": "--ws-port",
    "aws": "--aws-port",
    "connections": "--connections-port",
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    defaults = Ports()
    limits = GatewayLimits()
    parser = argparse.ArgumentParser(
        prog="python -m local.run",
        description="Run Kindred locally: the web page, the WebSocket API and its handlers, "
        "on a local AWS (moto). Nothing leaves this machine.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="where the web page and the WebSocket API listen (moto and @connections stay on "
        "127.0.0.1)",
    )
    parser.add_argument("--port", type=int, default=defaults.web, help="the web page")
    parser.add_argument("--ws-port", type=int, default=defaults.ws, help="the WebSocket API")
    parser.add_argument("--aws-port", type=int, default=defaults.aws, help="the local AWS (moto)")
    parser.add_argument(
        "--connections-port",
        type=int,
        default=defaults.connections,
        help="the @connections management API the handlers post to",
    )
    parser.add_argument(
        "--template", type=Path, default=ROOT / "template.yaml", help="the SAM template to run"
    )
    parser.add_argument("--web-root", type=Path, default=ROOT / "web", help="the pages served")
    parser.add_argument(
        "--site",
        type=Path,
        default=ROOT / "web" / "site.json",
        help="topics and languages, for config.json",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter, as at deploy time (repeatable), e.g. LogLevel=DEBUG",
    )
    parser.add_argument("--idle-timeout", type=float, default=limits.idle_seconds, help="seconds")
    parser.add_argument("--max-connection", type=float, default=limits.max_seconds, help="seconds")
    parser.add_argument("--frame-limit", type=int, default=limits.frame_bytes, help="bytes")
    parser.add_argument("--message-limit", type=int, default=limits.message_bytes, help="bytes")
    args = parser.parse_args(argv)
    chosen = [
        (option, getattr(args, option.removeprefix("--").replace("-", "_")))
        for option in ("--port", "--ws-port", "--aws-port", "--connections-port")
    ]
    for i, (option, port) in enumerate(chosen):
        for other, other_port in chosen[i + 1 :]:
            if port and port == other_port:
                parser.error(f"{option} and {other} are both {port}; give each its own port")
    for item in args.parameter:
        if "=" not in item:
            parser.error(f"--parameter {item!r} is not NAME=VALUE")
    return args


def _free_port_after(host: str, port: int, avoid: set[int]) -> int:
    """The first port after `port` that is free here and not another of the stack's."""
    for candidate in range(port + 1, min(port + 100, 65536)):
        if candidate in avoid:
            continue
        try:
            socket.create_server((host, candidate)).close()
        except OSError:
            continue
        return candidate
    return port + 1


def _print_invitation(invitation: Invitation) -> None:
    """What Cognito would e-mail an invited account (local only: moto sends nothing)."""
    print(
        f"[outbox] invitation to {invitation.email}: temporary password "
        f"{invitation.temporary_password}",
        flush=True,
    )


def _banner(stack: LocalStack) -> str:
    width = max(len(a.email) for a in DEMO_ACCOUNTS)
    logins = "\n".join(
        f"    {a.email:<{width}}  {DEMO_PASSWORD}   ({a.group}{', coordinators' * a.coordinator})"
        for a in DEMO_ACCOUNTS
    )
    return (
        "\nKindred is running locally.\n"
        f"  web page        {stack.web_url}\n"
        f"  WebSocket API   {stack.ws_url}\n"
        f"  config.json     {stack.web_url}config.json\n"
        f"  local AWS       {stack.aws_endpoint} (moto)\n"
        f"  @connections    {stack.connections_endpoint}\n"
        f"  demo logins:\n{logins}\n"
        f"  local outbox    {stack.web_url}outbox (the invitations Cognito would e-mail)\n"
        "Press Ctrl-C to stop.\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("websockets", "botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():  # a second Ctrl-C: stop waiting for anything
            print("Stopped at once.", file=sys.stderr, flush=True)
            os._exit(130)
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    stack = LocalStack(
        host=args.host,
        ports=Ports(
            web=args.port, ws=args.ws_port, aws=args.aws_port, connections=args.connections_port
        ),
        template=args.template,
        web_root=args.web_root,
        site=args.site,
        parameters=dict(item.split("=", 1) for item in args.parameter),
        on_invitation=_print_invitation,
        limits=GatewayLimits(
            frame_bytes=args.frame_limit,
            message_bytes=args.message_limit,
            idle_seconds=args.idle_timeout,
            max_seconds=args.max_connection,
        ),
    )
    try:
        stack.start()
    except PortInUseError as exc:
        others = {args.port, args.ws_port, args.aws_port, args.connections_port}
        suggestion = _free_port_after(exc.host, exc.port, others)
        print(
            f"port {exc.port} is in use; try {_PORT_OPTIONS[exc.role]} {suggestion}",
            file=sys.stderr,
        )
        return 2
    except (EnvironmentMismatchError, UnresolvedReferenceError, ValueError) as exc:
        print(f"cannot start the local stack: {exc}", file=sys.stderr)
        return 1
    if stopping.is_set():
        stack.stop()
        return 0
    print(_banner(stack), flush=True)
    try:
        stopping.wait()
    finally:
        print("Stopping ...", file=sys.stderr, flush=True)
        stack.stop()
    print("Stopped.", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
