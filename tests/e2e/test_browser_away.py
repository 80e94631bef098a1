"""The seeker's page after a drop and after a transfer, in Debian's Chromium on the local stack.

What the server did while the seeker's socket was down reaches the page only as `resumed`'s
`state` (docs/protocol.md, "Resuming"): a chat the volunteer ended, or passed on, while the
seeker was away. The page's socket runs through an interceptor that drops it and holds the
page's reconnection away from the server until the volunteer has acted. Screenshots land in
test-artifacts/.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.e2e import people
from tests.e2e.browser import assert_clean, screenshot

TALKING = re.compile("^You're talking with ")


class HeldSocket:
    """The page's WebSocket through Playwright: `drop()` closes it as a network drop does, and
    until `release()` each reconnection the page tries fails as it does while the network is
    down (closed before it reaches the server); the page's next try after that gets through."""

    def __init__(self, page: Page) -> None:
        self.sockets: list[WebSocketRoute] = []
        self._holding = False
        self.refused = 0
        page.route_web_socket(re.compile(r"^wss?://"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        self.sockets.append(ws)
        if self._holding:
            self.refused += 1
            ws.close(code=1006, reason="offline")
            return
        ws.connect_to_server()

    def drop(self) -> None:
        self._holding = True
        self.sockets[-1].close(code=4000, reason="network drop")

    def release(self) -> None:
        self._holding = False


def _dropped_in_a_chat(new_context: Any, web_url: str, *, crisis: bool = False) -> Any:
    """A volunteer's console and a seeker's page in a chat (the seeker wrote a crisis message
    if `crisis`), the seeker's socket then dropped and their reconnection held."""
    volunteer, seeker = new_context(), new_context()
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    page = seeker.new_page()
    socket = HeldSocket(page)
    people.ask_for_volunteer(page, web_url, "My connection is bad tonight.")
    expect(page.get_by_role("heading", name=TALKING)).to_be_visible()
    if crisis:
        people.seeker_sends(page, people.CRISIS_TEXT)
        expect(page.locator("#crisis-lines")).not_to_be_empty()
        page.locator("#crisis-close").click()
    expect(people.chat_panel(console)).to_be_visible()
    socket.drop()
    expect(page.locator("#notice")).to_contain_text("connect")
    return volunteer, console, seeker, page, socket


def test_a_chat_that_ended_while_the_seeker_was_away_shows_as_ended_with_the_lines(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker in a risk chat (the crisis lines shown) whose connection drops,
    When the volunteer ends the chat while they are away, and the page then reconnects,
    Then the page does not stay in the chat: `resumed` says `idle`, and the page shows that the
    chat ended while they were disconnected, with the crisis lines again above the rating
    (the end's own lines went to the closed socket)."""
    volunteer, console, seeker, page, socket = _dropped_in_a_chat(new_context, web_url, crisis=True)
    people.chat_panel(console).get_by_role("button", name="End chat").click()
    expect(console.locator("#chats")).to_contain_text("ended")
    socket.release()
    expect(page.locator("#ended-reason")).to_have_text(
        "The chat ended while you were disconnected. We're sorry."
    )
    expect(page.locator("#ended-lines-box")).to_be_visible()
    expect(page.locator("#ended-lines")).not_to_be_empty()
    screenshot(page, "seeker-ended-while-away")
    assert_clean(volunteer, seeker)


def test_a_chat_passed_on_while_the_seeker_was_away_shows_them_waiting_at_the_front(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker in a chat whose connection drops,
    When the volunteer transfers the chat while they are away, and the page then reconnects,
    Then `resumed` says `waiting`, and the page shows the queue with the words of a transfer
    (at the front of the queue), not the chat, and never that the chat ended."""
    volunteer, console, seeker, page, socket = _dropped_in_a_chat(new_context, web_url)
    panel = people.chat_panel(console)
    panel.get_by_role("button", name="Transfer").click()
    panel.get_by_role("button", name="Transfer the chat").click()
    expect(console.locator("#chats")).to_contain_text("You transferred this chat")
    socket.release()
    expect(page.locator("#queue-reason")).to_contain_text("passed your chat to another volunteer")
    expect(page.get_by_role("heading", name=TALKING)).not_to_be_visible()
    expect(page.locator("#ended-reason")).to_have_text("")
    assert_clean(volunteer, seeker)


def test_after_a_transfer_the_new_volunteers_words_come_last(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker to whom the first volunteer wrote twice (seq 0 and 1) before passing the
    chat on to a second one,
    When the second writes (their own seq 0, in a new chat),
    Then the page shows it after everything before, where the seeker is looking, not among
    the first volunteer's messages."""
    volunteer, console, seeker, page = people.matched_pair(new_context, web_url, "Hello.")
    people.volunteer_sends(console, "First from the first volunteer.")
    people.volunteer_sends(console, "Second from the first volunteer.")
    expect(page.locator(".msg-peer .msg-text")).to_have_count(2)
    other = new_context()
    second = other.new_page()
    people.sign_in(second, web_url, people.SUPERVISOR)
    panel = people.chat_panel(console)
    panel.get_by_role("button", name="Transfer").click()
    panel.get_by_role("button", name="Transfer the chat").click()
    expect(people.chat_panel(second)).to_be_visible()
    people.volunteer_sends(second, "Hello, I'm here now.")
    expect(page.locator(".msg-peer .msg-text")).to_have_text(
        [
            "First from the first volunteer.",
            "Second from the first volunteer.",
            "Hello, I'm here now.",
        ]
    )
    assert_clean(volunteer, seeker, other)
