"""What the pages send (issue 14): no `ping` while a chat is active, `typing` at most every 3 s."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e import people


def _record_sent(page: Page) -> list[str]:
    """The `action` of every frame this page sends on its WebSockets, in order."""
    actions: list[str] = []

    def on_socket(ws: Any) -> None:
        ws.on("framesent", lambda payload: actions.append(json.loads(payload).get("action", "")))

    page.on("websocket", on_socket)
    return actions


def test_an_active_chat_sends_no_ping_and_typing_at_most_every_3_s(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker in a chat whose page runs on a clock only the test moves,
    When they type 18 characters within 2 s, Then the page sends one `typing`; 3 s later one
    more keystroke sends the second; sending the message does not start the 3 s again (a
    keystroke just after it sends none),
    When they send a message every minute for 12 minutes, Then no `ping` is sent (the chat's
    own frames keep the socket alive), And when they then send nothing for 6 minutes, one
    `ping` keeps the socket under API Gateway's 10-minute idle limit."""
    console = new_context().new_page()
    people.sign_in(console, web_url)
    page = new_context().new_page()
    page.clock.install()
    sent = _record_sent(page)
    people.ask_for_volunteer(page, web_url, "I just need to talk for a bit.")
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    # Installed, the clock still flows with real time; paused, it moves only when the test
    # moves it (else a slow machine's real seconds would add to the test's).
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # (Python's: epoch seconds)

    box = page.get_by_label("Your message")
    for character in "hello there friend":
        box.press_sequentially(character)
        page.clock.run_for(100)
    assert sent.count("typing") == 1
    page.clock.run_for(3000)
    box.press_sequentially("!")
    assert sent.count("typing") == 2
    page.locator("#composer").get_by_role("button", name="Send").click()
    expect(people.chat_panel(console).locator(".msg-peer .msg-text")).to_have_count(1)
    box.press_sequentially("O")  # the next message begins within 3 s of the last `typing`
    assert sent.count("typing") == 2
    box.fill("")

    for minute in range(12):
        people.seeker_sends(page, f"Still here, minute {minute}.")
        page.clock.run_for(60_000)
    expect(people.chat_panel(console).locator(".msg-peer .msg-text")).to_have_count(13)
    assert sent.count("ping") == 0

    page.clock.run_for(6 * 60_000)
    assert sent.count("ping") == 1
    assert sent.count("typing") <= 2 + 12  # at most one per message typed a minute apart
