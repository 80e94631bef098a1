"""Fixtures of the end-to-end tests: the whole local stack (local/), started on free ports.

`local_stack` (module scope) is what `make run` starts, in this process: moto with the
template's resources and the demo accounts, every handler of template.yaml, the WebSocket
gateway, the @connections API, the SQS poller and the web server. It yields an E2EStack:

    web_url     "http://127.0.0.1:<port>/"          the web page (web/), with a trailing slash
    origin      "http://127.0.0.1:<port>"           the page's Origin; the authorizer allows it
    ws_url      "ws://127.0.0.1:<port>/live"        the WebSocket API (config.json's websocketUrl)
    config      dict                                config.json, fetched over HTTP like a browser
    id_token(email, password="Kindred-Local-1") -> str
                a Cognito ID token from InitiateAuth USER_PASSWORD_AUTH, sent by plain HTTP to
                config["cognito"]["endpoint"] with config["cognito"]["clientId"], as the page does
    stack       the running local.stack.LocalStack (gateway, functions, client(service) ...)

The names above are stable: the browser tests use them too. A module whose stack needs other
template parameters names them in a module-level STACK_PARAMETERS (test_browser_mfa.py: MFA
required); the others run with tests/e2e/ws.py's E2E_PARAMETERS.

The stack's handlers run on threads of this process and read os.environ, which the stack
sets when it starts and restores when it stops. The root conftest's autouse `_isolated_env`
would strip every AWS_* variable (AWS_ENDPOINT_URL among them) before each test, and clear
the settings the handlers cached: here it is replaced by one that leaves the stack's
environment alone (the stack itself removes the shell's AWS_* variables and sets dummy
credentials, so nothing reaches a real account). Only one stack runs at a time.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from local.demo_accounts import DEMO_PASSWORD
from local.gateway import GatewayLimits
from local.stack import LocalStack, Ports
from tests.e2e.browser import CHROMIUM, Watched, launch, watched_context
from tests.e2e.ws import E2E_PARAMETERS

FREE_PORTS = Ports(web=0, ws=0, aws=0, connections=0)
# How long expect() waits in every browser test: a board is pushed 2 s after a change, through
# the poller. One setting for all: expect's options are global to the process.
expect.set_options(timeout=15_000)


@dataclass
class E2EStack:
    """What a test needs of the running local stack (see the module docstring)."""

    stack: LocalStack
    web_url: str
    origin: str
    ws_url: str
    config: dict[str, Any]

    def id_token(self, email: str, password: str = DEMO_PASSWORD) -> str:
        return self.stack.id_token(email, password)


def fetch_config(web_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(web_url + "config.json", timeout=10) as response:
        config: dict[str, Any] = json.loads(response.read())
    return config


@pytest.fixture(autouse=True)
def _isolated_env() -> None:
    """Replaces the root conftest's: the running stack's environment must stay as it is."""


def running_e2e_stack(
    parameters: Mapping[str, str], limits: GatewayLimits | None = None
) -> Iterator[E2EStack]:
    """The local stack on free ports with exactly these template parameters (and the gateway's
    limits, if given), stopped at the end: what the `local_stack` fixture yields from."""
    stack = LocalStack(ports=FREE_PORTS, parameters=dict(parameters), limits=limits).start()
    try:
        yield E2EStack(
            stack=stack,
            web_url=stack.web_url,
            origin=stack.web_origin,
            ws_url=stack.ws_url,
            config=fetch_config(stack.web_url),
        )
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def local_stack(request: pytest.FixtureRequest) -> Iterator[E2EStack]:
    """The local stack on free ports, for the tests of one module (see the module docstring):
    with the module's own template parameters where it names them in STACK_PARAMETERS (MFA
    required, the risk pause on), else E2E_PARAMETERS."""
    yield from running_e2e_stack(getattr(request.module, "STACK_PARAMETERS", E2E_PARAMETERS))


# ---- the browser tests (test_browser*.py) ------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the tests of one module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def web_url(local_stack: E2EStack) -> str:
    url: str = local_stack.web_url
    return url if url.endswith("/") else url + "/"


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[Watched]]:
    """Browser contexts made by a test; all closed afterwards."""
    made: list[Watched] = []
    yield made
    for watched in made:
        watched.context.close()


@pytest.fixture
def new_context(browser: Browser, contexts: list[Watched]) -> Any:
    """Makes a watched browser context (desktop, or a phone) that is closed after the test."""

    def make(*, phone: bool = False, locale: str = "en-US") -> Watched:
        watched = watched_context(browser, phone=phone, locale=locale)
        contexts.append(watched)
        return watched

    return make
