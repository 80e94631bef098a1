"""The console renews its connection before the gateway's limit, in Debian's Chromium.

API Gateway closes every connection after 2 hours, and a volunteer's chats end with their
connection. Here the local gateway's limit is 24 s (config.json's `maxConnectionSeconds` says
so): from 18 s the console takes no new chat, and renews its connection once its chat ends.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from local.gateway import GatewayLimits
from tests.e2e import people
from tests.e2e.browser import assert_clean, screenshot
from tests.e2e.conftest import E2EStack, running_e2e_stack
from tests.e2e.ws import E2E_PARAMETERS

MAX_SECONDS = 24.0
TALKING = re.compile("^You're talking with ")


@pytest.fixture(scope="module")
def local_stack() -> Iterator[E2EStack]:
    yield from running_e2e_stack(E2E_PARAMETERS, GatewayLimits(max_seconds=MAX_SECONDS))


def test_the_console_renews_its_connection_before_the_limit_and_no_chat_is_cut(
    new_context: Any, web_url: str, local_stack: E2EStack
) -> None:
    """Given a volunteer in a chat on a gateway that closes connections after 24 s,
    When a quarter of that is left, Then the console says it takes no new chat until its chat
    ends, and a second seeker who asks waits;
    When the volunteer ends the chat, Then the seeker reads an ordinary end (not that the
    volunteer had to leave), the console renews its connection and says so, takes the waiting
    seeker on the new connection, and that chat goes on past the old connection's limit."""
    assert local_stack.config["maxConnectionSeconds"] == MAX_SECONDS
    volunteer, console, seeker, page = people.matched_pair(new_context, web_url, "Hello.")
    opened = time.monotonic()

    expect(console.locator("#notice")).to_contain_text(
        "You'll get no new chat until your open chats end", timeout=MAX_SECONDS * 1000
    )
    screenshot(console, "console-renewing")
    other = new_context()
    second = other.new_page()
    people.ask_for_volunteer(second, web_url, "Is anyone there?")
    expect(second.get_by_role("heading", name="Finding someone for you")).to_be_visible()
    second.wait_for_timeout(1500)  # the matcher runs: the volunteer takes no new chat
    expect(second.get_by_role("heading", name=TALKING)).not_to_be_visible()

    people.chat_panel(console).get_by_role("button", name="End chat").click()
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
    expect(page.locator("#ended-reason")).not_to_contain_text("had to leave")
    expect(console.locator("#notice")).to_contain_text("Your connection was renewed")
    expect(second.get_by_role("heading", name=TALKING)).to_be_visible()

    # Past the first connection's limit, the second chat still carries messages both ways.
    time.sleep(max(0.0, opened + MAX_SECONDS + 2 - time.monotonic()))
    people.volunteer_sends(console, "Still here with you.")
    expect(second.locator(".msg-peer .msg-text").last).to_have_text("Still here with you.")
    people.seeker_sends(second, "Thank you.")
    expect(people.chat_panel(console).locator(".msg-peer .msg-text").last).to_have_text(
        "Thank you."
    )
    assert_clean(volunteer, seeker, other)
