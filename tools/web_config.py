"""Builds web/ for the cloud: a copy of it with the config.json of the deployed stack's outputs.

    .venv/bin/python -m tools.web_config [--stack kindred] [--region us-east-1] [--out build/web]
                                         [--origin https://help.example.org]

The stack name and region default to samconfig.toml's. `config.json` has the shape
docs/protocol.md gives it: the stack's WebSocketUrl, its Cognito user pool, app client and
region, the topics, languages and canned replies of web/site.json, and from the stack's
parameters its DefaultCountry and OpeningHours, with the crisis and referral directories; the
pages' Content-Security-Policy is narrowed to connect to that stack's WebSocket API and Cognito
alone. Publish the output directory on any static host; the stack's AllowedOrigins must name
the origin it is served from, or every handshake from the page is refused (403): `--origin`
checks that before anything is written.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from kindred.page_config import page_config
from tools.cli import run

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WEB = ROOT / "web"
DEFAULT_OUT = ROOT / "build" / "web"
SAMCONFIG = ROOT / "samconfig.toml"

# Stack output -> where config.json puts it.
REQUIRED_OUTPUTS = ("WebSocketUrl", "UserPoolId", "UserPoolClientId", "Region")
# web/ files that are inputs of this tool, not pages: never published.
NOT_PUBLISHED = ("site.json", "config.json")
# As the protocol's TopicId and LanguageTag (layers/core/kindred/protocol/__init__.py).
_TOPIC_ID = re.compile(r"^[a-z0-9_-]{1,40}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# A canned reply goes into the console's message box: at most a message's length.
MAX_REPLY_CHARS = 4000
EXAMPLE_ORIGIN = "https://help.example.org"
# The pages' Content-Security-Policy <meta> allows any wss:/https: host (and the local stack's
# ws:/loopback) to connect to; the build narrows it to this stack's API and Cognito.
_CONNECT_SRC = re.compile(r"connect-src [^;\"]*")


class WebConfigError(Exception):
    """Something the operator has to fix; the message says what and how."""


def samconfig_defaults(path: Path = SAMCONFIG) -> dict[str, str]:
    """The stack name and region `sam deploy` uses (samconfig.toml's default environment)."""
    if not path.exists():
        return {}
    with path.open("rb") as stream:
        config = tomllib.load(stream)
    found: dict[str, str] = {}
    default = config.get("default", {})
    for command in ("global", "deploy"):  # a deploy setting overrides a global one
        parameters = default.get(command, {}).get("parameters", {})
        for key in ("stack_name", "region"):
            if parameters.get(key):
                found[key] = str(parameters[key])
    return found


def site_settings(path: Path) -> dict[str, Any]:
    """The topics, languages and canned replies of web/site.json, checked against the
    protocol's patterns."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WebConfigError(f"{path}: {exc}") from None
    topics = data.get("topics") if isinstance(data, dict) else None
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(topics, list) or not isinstance(languages, list) or not languages:
        raise WebConfigError(f"{path} needs a list of topics and a non-empty list of languages")
    for topic in topics:
        if (
            not isinstance(topic, dict)
            or set(topic) != {"id", "label"}
            or not isinstance(topic["id"], str)
            or not _TOPIC_ID.match(topic["id"])
            or not isinstance(topic["label"], str)
            or not topic["label"].strip()
        ):
            raise WebConfigError(
                f'{path}: every topic is {{"id": "a-z, 0-9, _ or -", "label": "text"}}, '
                f"not {topic!r}"
            )
    ids = [topic["id"] for topic in topics]
    if len(set(ids)) != len(ids):
        raise WebConfigError(f"{path}: a topic id appears twice")
    for language in languages:
        if not isinstance(language, str) or not _LANGUAGE.match(language):
            raise WebConfigError(f"{path}: {language!r} is not a language tag such as en or pt-BR")
    replies = data.get("cannedReplies", {})
    if not _replies_ok(replies, languages):
        raise WebConfigError(
            f'{path}: cannedReplies is {{"en": ["a reply", ...], ...}}, each language one of the '
            f"site's languages and each reply 1 to {MAX_REPLY_CHARS} characters"
        )
    return {"topics": topics, "languages": languages, "cannedReplies": replies}


def _replies_ok(replies: object, languages: list[str]) -> bool:
    """`cannedReplies` is {language of the site: [non-empty text of at most a message]}."""
    return isinstance(replies, dict) and all(
        language in languages
        and isinstance(texts, list)
        and all(isinstance(t, str) and t.strip() and len(t) <= MAX_REPLY_CHARS for t in texts)
        for language, texts in replies.items()
    )


def describe_stack(cloudformation: Any, stack_name: str) -> dict[str, Any]:
    """The stack as DescribeStacks gives it; a clear error if it is not there."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            region = cloudformation.meta.region_name
            raise WebConfigError(
                f"there is no stack {stack_name!r} in {region}: deploy it first (make deploy), "
                "or name yours with STACK=... REGION=..."
            ) from None
        raise
    return dict(stacks[0])


def web_config(stack: Mapping[str, Any], site: Mapping[str, Any]) -> dict[str, Any]:
    """config.json for the web pages, from the stack's outputs and web/site.json."""
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise WebConfigError(
            f"stack {stack.get('StackName')} ({stack.get('StackStatus')}) has no output "
            f"{', '.join(missing)}: is it a Kindred stack, and did its last deploy succeed?"
        )
    # With EdgeRateLimit on, pages connect through CloudFront and AWS WAF.
    url_key = "EdgeWebSocketUrl" if outputs.get("EdgeWebSocketUrl") else "WebSocketUrl"
    if not outputs[url_key].startswith("wss://"):
        raise WebConfigError(f"{url_key} {outputs[url_key]!r} is not a wss:// URL")
    return {
        "websocketUrl": outputs[url_key],
        "topics": list(site["topics"]),
        "languages": list(site["languages"]),
        "cannedReplies": dict(site.get("cannedReplies", {})),
        "cognito": {
            "region": outputs["Region"],
            "userPoolId": outputs["UserPoolId"],
            "clientId": outputs["UserPoolClientId"],
        },
        **page_config(
            parameter(stack, "DefaultCountry"),
            parameter(stack, "OpeningHours"),
            parameter(stack, "ReturnKeyDays"),
        ),
    }


def parameter(stack: Mapping[str, Any], name: str) -> str:
    """A parameter of the deployed stack as DescribeStacks gives it; "" when absent."""
    for given in stack.get("Parameters") or []:
        if given.get("ParameterKey") == name:
            return str(given.get("ParameterValue", ""))
    return ""


def allowed_origins(stack: Mapping[str, Any]) -> list[str]:
    """The stack's AllowedOrigins parameter, as a list."""
    value = parameter(stack, "AllowedOrigins")
    return [origin.strip() for origin in value.split(",") if origin.strip()]


def _deploy_command(origin: str) -> str:
    return f"sam deploy --parameter-overrides AllowedOrigins={origin}"


def check_origin(stack: Mapping[str, Any], origin: str | None) -> list[str]:
    """Refuses an origin the stack would not admit; warns when it admits only local pages."""
    allowed = allowed_origins(stack)
    if origin is not None:
        wanted = origin.rstrip("/")
        if not re.match(r"^https?://[^/\s]+$", wanted):
            raise WebConfigError(f"--origin {origin!r} is not an origin such as {EXAMPLE_ORIGIN}")
        if wanted not in allowed:
            raise WebConfigError(
                f"the stack admits handshakes from {', '.join(allowed) or 'no origin'}, not from "
                f"{wanted}: the page would be refused (403). First: {_deploy_command(wanted)}"
            )
        return []
    if allowed and all(_is_local(o) for o in allowed):
        return [
            f"the stack admits only local pages ({', '.join(allowed)}): wherever you publish "
            f"this, deploy with its origin, e.g. {_deploy_command(EXAMPLE_ORIGIN)}"
        ]
    return []


def _is_local(origin: str) -> bool:
    host_and_port = origin.split("://", 1)[-1].split("/", 1)[0]
    return host_and_port in _LOCAL_HOSTS or host_and_port.rsplit(":", 1)[0] in _LOCAL_HOSTS


def write_site(web_dir: Path, out_dir: Path, config: Mapping[str, Any]) -> Path:
    """out_dir becomes a copy of web_dir (less its inputs) with config.json; returns its path."""
    web_dir, out_dir = web_dir.resolve(), out_dir.resolve()
    if out_dir == web_dir or web_dir in out_dir.parents or out_dir in web_dir.parents:
        raise WebConfigError(f"the output {out_dir} must be outside {web_dir}")
    if out_dir.exists():
        # Replace only what this tool made: a directory with a config.json, or an empty one.
        if any(out_dir.iterdir()) and not (out_dir / "config.json").is_file():
            raise WebConfigError(f"{out_dir} exists and is not an earlier build: not replacing it")
        shutil.rmtree(out_dir)
    shutil.copytree(web_dir, out_dir, ignore=shutil.ignore_patterns(*NOT_PUBLISHED))
    for page in sorted(out_dir.glob("*.html")):
        page.write_text(
            pin_connect_src(page.read_text(encoding="utf-8"), connect_src(config), page.name),
            encoding="utf-8",
        )
    target = out_dir / "config.json"
    target.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def connect_src(config: Mapping[str, Any]) -> str:
    """The pages' connect-src for this stack: the page's host, its WebSocket API, Cognito."""
    websocket_host = urlsplit(config["websocketUrl"]).netloc
    region = config["cognito"]["region"]
    return f"connect-src 'self' wss://{websocket_host} https://cognito-idp.{region}.amazonaws.com"


def pin_connect_src(html: str, directive: str, name: str) -> str:
    """A page with its Content-Security-Policy's connect-src replaced by `directive`."""
    pinned, count = _CONNECT_SRC.subn(directive, html)
    if count != 1:
        raise WebConfigError(f"{name} needs exactly one connect-src in its Content-Security-Policy")
    return pinned


def build(
    cloudformation: Any,
    stack_name: str,
    *,
    web_dir: Path = DEFAULT_WEB,
    out_dir: Path = DEFAULT_OUT,
    origin: str | None = None,
) -> tuple[Path, list[str]]:
    """Everything `make web-config` does: returns config.json's path and any warnings."""
    site = site_settings(web_dir / "site.json")
    stack = describe_stack(cloudformation, stack_name)
    config = web_config(stack, site)
    warnings = check_origin(stack, origin)
    return write_site(web_dir, out_dir, config), warnings


def main(argv: Sequence[str] | None = None) -> int:
    defaults = samconfig_defaults()
    parser = argparse.ArgumentParser(
        prog="python -m tools.web_config",
        description="Copy web/ to --out with the config.json of a deployed Kindred stack.",
    )
    parser.add_argument("--stack", default=defaults.get("stack_name", "kindred"))
    parser.add_argument("--region", default=defaults.get("region"))
    parser.add_argument("--web", type=Path, default=DEFAULT_WEB, help="the frontend (web/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="replaced by the build")
    parser.add_argument(
        "--origin", help=f"where it will be served, e.g. {EXAMPLE_ORIGIN}: checked first"
    )
    args = parser.parse_args(argv)

    def work() -> None:
        cloudformation = boto3.session.Session(region_name=args.region).client("cloudformation")
        written, warnings = build(
            cloudformation, args.stack, web_dir=args.web, out_dir=args.out, origin=args.origin
        )
        for warning in warnings:
            print(f"web-config: warning: {warning}", file=sys.stderr)
        print(
            f"Wrote {written} and the pages beside it: publish {written.parent}/ on a static host."
        )

    return run("web-config", work, WebConfigError, "asking CloudFormation for the stack")


if __name__ == "__main__":
    sys.exit(main())
