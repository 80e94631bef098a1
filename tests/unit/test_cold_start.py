"""Cold start: a handler module imports no more than it needs, then freezes what it made."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kindred import cold_start

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
LAYER = FUNCTIONS.parent / "layers" / "core"
DEPLOY_ONLY = {"sealing_key"}  # run at deploy, never on a request


def test_the_import_is_frozen_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given a process whose handler modules are imported again and again (the local stack, the
    tests)
    When each import ends with cold_start.imported()
    Then gc.freeze() runs once, at the first
    """
    freezes: list[None] = []
    monkeypatch.setattr(cold_start.gc, "freeze", lambda: freezes.append(None))
    cold_start.imported.cache_clear()
    try:
        for _ in range(3):
            cold_start.imported()
    finally:
        cold_start.imported.cache_clear()

    assert freezes == [None]


@pytest.mark.parametrize(
    "app", sorted(p for p in FUNCTIONS.glob("*/app.py") if p.parent.name not in DEPLOY_ONLY)
)
def test_every_handler_module_ends_with_it(app: Path) -> None:
    """
    Given a function's app.py
    When Lambda imports it
    Then its last statement is cold_start.imported(): everything above is imported by then
    """
    last = ast.parse(app.read_text(encoding="utf-8")).body[-1]

    assert ast.unparse(last) == "cold_start.imported()", app


# Functions that handle no API Gateway WebSocket event: Powertools' parser (and pydantic's
# networks module through it, ~10 ms of a cold start) is for the event handlers only.
NO_WEBSOCKET_EVENT = ("authorizer", "matcher", "sweeper")
_IMPORT_APP = """
import importlib.util, json, sys
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("app", {app!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(sorted(sys.modules)))
"""


def _printed(probe: str, app: Path) -> Any:
    """What a fresh interpreter prints (one JSON value) running `probe` on the layer and app."""
    done = subprocess.run(
        [sys.executable, "-c", probe.format(layer=str(LAYER), app=str(app))],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _imported_by(function: str) -> set[str]:
    """The modules a fresh interpreter holds once it imported the function's app.py."""
    return set(_printed(_IMPORT_APP, FUNCTIONS / function / "app.py"))


@pytest.mark.parametrize("function", NO_WEBSOCKET_EVENT)
def test_functions_without_a_websocket_event_do_not_import_the_event_parser(function: str) -> None:
    """
    Given a function that is handed no API Gateway WebSocket event (the authorizer's is a
    REQUEST authorizer's, the matcher's an SQS batch, the sweeper's a schedule's)
    When Lambda imports its app.py
    Then neither kindred.events nor Powertools' parser is imported: the domain modules take
    their requests from kindred.requests
    """
    modules = _imported_by(function)

    assert "kindred.requests" in modules or function == "authorizer"
    assert not modules & {"kindred.events", "aws_lambda_powertools.utilities.parser"}


# Functions that parse no client frame: the client actions' models are never built there.
NO_CLIENT_FRAME = ("authorizer", "connect", "disconnect", "matcher", "sweeper")


@pytest.mark.parametrize("function", NO_CLIENT_FRAME)
def test_functions_that_parse_no_client_frame_do_not_build_the_actions(function: str) -> None:
    """
    Given a function that parses no client frame (a handshake, a close, an SQS batch, a
    schedule)
    When Lambda imports its app.py
    Then kindred.protocol.actions (the client actions' models, ~40 million instructions of a
    cold start) is not imported: the modules it imports name actions in annotations only
    """
    modules = _imported_by(function)

    assert "kindred.protocol.actions" not in modules


def test_the_protocol_hands_out_the_actions_on_first_use_and_nothing_else() -> None:
    """
    Given kindred.protocol, whose client actions live in kindred.protocol.actions
    When a name of the actions is asked of it, or a name that neither has
    Then it gives the actions' very object, and refuses the other with AttributeError
    """
    import kindred.protocol
    import kindred.protocol.actions

    assert kindred.protocol.Match is kindred.protocol.actions.Match
    assert kindred.protocol.parse_action is kindred.protocol.actions.parse_action
    with pytest.raises(AttributeError, match="no attribute 'NoSuchFrame'"):
        kindred.protocol.NoSuchFrame  # noqa: B018


# Patches what would make a TLS context or an HTTP opener, records each call, then imports.
_WATCH_TLS = """
import importlib.util, json, ssl, sys, urllib.request
made = []
def watch(owner, name):
    real = getattr(owner, name)
    def watched(*args, **kwargs):
        made.append(name)
        return real(*args, **kwargs)
    setattr(owner, name, watched)
for owner, name in [(ssl, "create_default_context"), (ssl.SSLContext, "load_verify_locations"),
                    (ssl.SSLContext, "set_default_verify_paths"), (urllib.request, "build_opener")]:
    watch(owner, name)
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("app", {app!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(json.dumps(made))
"""


@pytest.mark.parametrize(
    "app", sorted(p for p in FUNCTIONS.glob("*/app.py") if p.parent.name not in DEPLOY_ONLY)
)
def test_no_handler_module_makes_a_tls_context_or_an_http_opener_at_import(app: Path) -> None:
    """
    Given a function's app.py
    When Lambda imports it
    Then nothing makes a TLS context or an HTTP opener: from Python 3.12 on, an opener's HTTPS
    handler makes its TLS context at once, reading the system's CA certificates (~250 million
    instructions on 3.13, the authorizer's 0.81x became 1.05x); a client or a JWKS fetch makes
    its own when first used
    """
    assert _printed(_WATCH_TLS, app) == [], app
