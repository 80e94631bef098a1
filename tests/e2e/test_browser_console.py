"""The volunteer console in a real browser against the local stack (issue 9).

Debian's Chromium under Playwright, as in test_browser.py: a volunteer's panel and a
supervisor's alert name a chat by the same short reference, and nothing that arrives moves the
page or the focus.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.browser import (
    CHROMIUM,
    Watched,
    a11y_problems,
    launch,
    screenshot,
    watched_context,
)
from tests.e2e.test_browser import (
    CRISIS_TEXT,
    SUPERVISOR,
    ask_for_volunteer,
    assert_clean,
    chat_panel,
    seeker_sends,
    sign_in,
)

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def web_url(local_stack: Any) -> str:
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
    def make(*, phone: bool = False) -> Watched:
        watched = watched_context(browser, phone=phone)
        contexts.append(watched)
        return watched

    return make


# ---- helpers -------------------------------------------------------------------------------


def settled_scroll(page: Page) -> float:
    """window.scrollY after two frames, when layout and any scroll anchoring are done."""
    y: float = page.evaluate(
        "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame("
        "() => done(window.scrollY))))"
    )
    return y


def focused_id(page: Page) -> str:
    ident: str = page.evaluate("document.activeElement ? document.activeElement.id : ''")
    return ident


def seeker_arrives(new_context: Any, web_url: str, intro: str) -> Page:
    page: Page = new_context().new_page()
    ask_for_volunteer(page, web_url, intro)
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    return page


# ---- tests ---------------------------------------------------------------------------------


def test_a_new_chat_or_an_alert_neither_scrolls_the_page_nor_takes_the_focus(
    new_context: Any, web_url: str
) -> None:
    """Given a supervisor taking two chats at once in a narrow window (the alerts above the
    chats), who has just pressed "Start taking chats",
    When the first chat arrives, Then the focus stays on that button and the page does not move;
    When they are typing a reply in that chat, scrolled down the page, and a second seeker whose
    intro reads at risk arrives (an alert, then a new chat),
    Then the page has not scrolled, the reply box has not moved and keeps the focus and the
    draft, and a screen reader still hears of the new chat."""
    watched = new_context()
    console = watched.new_page()
    console.set_viewport_size({"width": 720, "height": 760})
    sign_in(console, web_url, SUPERVISOR, available=False)
    console.get_by_label("Chats at once").select_option("2")
    console.get_by_role("button", name="Start taking chats").click()
    expect(console.locator("#status-text")).to_contain_text("0 of 2")
    assert focused_id(console) == "availability-toggle"
    top = settled_scroll(console)

    seeker_arrives(new_context, web_url, "Just need to talk something through.")
    first = console.locator(".chat-panel").first
    expect(first).to_be_visible()
    expect(console.locator("#announcer")).to_contain_text("New chat with ")
    assert settled_scroll(console) == top
    assert focused_id(console) == "availability-toggle"

    reply = first.get_by_label(re.compile("^Message to "))
    reply.click()
    reply.fill("I hear you. Take your time, I'm")
    console.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    reply_id = reply.evaluate("(box) => box.id")
    assert focused_id(console) == reply_id
    before = settled_scroll(console)
    assert before > 0, "the page should be scrolled for this test to mean anything"
    reply_top = reply.evaluate("(box) => box.getBoundingClientRect().top")

    seeker_arrives(new_context, web_url, CRISIS_TEXT)
    expect(console.locator(".chat-panel")).to_have_count(2)
    second_alias = console.locator(".chat-panel").nth(1).locator("[data-role=alias]").inner_text()
    expect(console.locator("#alerts li").first).to_contain_text(second_alias)
    expect(console.locator("#announcer")).to_have_text(
        re.compile(f"^New chat with {re.escape(second_alias)}")
    )
    assert settled_scroll(console) == before
    assert focused_id(console) == reply_id
    assert reply.evaluate("(box) => box.getBoundingClientRect().top") == reply_top
    expect(reply).to_have_value("I hear you. Take your time, I'm")
    assert_clean(watched)


def test_the_volunteers_panel_and_the_supervisors_alert_name_the_same_chat(
    new_context: Any, web_url: str
) -> None:
    """Given a volunteer in a chat and a supervisor on shift (not taking chats),
    When the seeker writes that they want to kill themselves,
    Then the volunteer's panel shows "chat <8 characters>" in its header, and the supervisor's
    alert names the volunteer, the seeker and the same "chat <8 characters>";
    and when another seeker whose intro reads at risk waits (the volunteer is busy),
    Then the supervisor's alert says they are still waiting, with no chat to name."""
    supervisor = new_context()
    shift = supervisor.new_page()
    sign_in(shift, web_url, SUPERVISOR, available=False)
    volunteer = new_context()
    console = volunteer.new_page()
    sign_in(console, web_url)
    seeker = seeker_arrives(new_context, web_url, "Things have been heavy.")

    panel = chat_panel(console)
    session_id = panel.get_attribute("data-session-id") or ""
    assert len(session_id) >= 8
    ref = f"chat {session_id[:8]}"
    expect(panel.locator(".panel-head [data-role=ref]")).to_have_text(ref)
    alias = panel.locator("[data-role=alias]").inner_text().strip()

    seeker_sends(seeker, CRISIS_TEXT)
    alert = shift.locator("#alerts li").first
    expect(alert).to_contain_text("Risk of suicide or self-harm")
    expect(alert.locator(".chat-ref")).to_have_text(ref)
    expect(alert).to_contain_text(f"{alias} (seeker) with Demo Volunteer (volunteer) · {ref}")

    waiting = new_context().new_page()
    ask_for_volunteer(waiting, web_url, CRISIS_TEXT)
    expect(shift.locator("#alerts li")).to_have_count(2)
    newest = shift.locator("#alerts li").first
    expect(newest).to_contain_text(
        "(seeker) · still waiting for a volunteer, no chat yet · moved ahead in the queue"
    )
    expect(newest.locator(".chat-ref")).to_have_count(0)
    expect(newest).to_have_attribute("data-session-id", "")
    for page in (console, shift):
        assert a11y_problems(page) == []
    screenshot(console, "volunteer-chat-reference-desktop")
    screenshot(shift, "supervisor-alert-chat-reference-desktop")
    assert_clean(volunteer, supervisor)
