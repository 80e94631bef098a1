"""The seeker's page at the edges (issue 9), in Debian's Chromium against the local stack.

Nobody on shift, a volunteer coming on shift, the long wait (a stack whose MaxWaitMinutes is
3 s and whose sweeper runs every 1.2 s), closed hours (a stack closed today), the crisis lines
at the end of a risk chat, the crisis panel beside the message box on a phone, the country
picker (the choice never leaves the page), and a clean slate after a chat and after `forget`.
The volunteer is a plain WebSocket here: the console is another test's subject. Screenshots
land in test-artifacts/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import ClientConnection, connect

from local.stack import LocalStack
from tests.e2e import people
from tests.e2e.browser import (
    ARTIFACTS,
    Watched,
    a11y_problems,
    screenshot,
    watched_context,
)
from tests.e2e.ws import WAIT, running_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # MaxWaitMinutes 3 s; the sweeper's rate(1 minute) every 1.2 s.
    with running_stack({"MaxWaitMinutes": "0.05"}, schedule_time_scale=0.02) as running:
        yield running


@pytest.fixture
def pages(browser: Browser) -> Iterator[Any]:
    """A new page in a context of its own (a phone, a locale, a time zone), checked when the
    test ends: no console errors, nothing fetched from another site."""
    made: list[Watched] = []

    def make(*, phone: bool = False, locale: str = "en-US", zone: str | None = None) -> Page:
        watched = watched_context(browser, phone=phone, locale=locale, zone=zone)
        made.append(watched)
        return watched.new_page()

    yield make
    for watched in made:
        assert watched.errors == [], watched.errors
        assert watched.offsite == [], watched.offsite
        watched.context.close()


def _volunteer(stack: LocalStack, *, topics: list[str] | None = None) -> ClientConnection:
    token = stack.id_token(people.VOLUNTEER)
    ws = connect(f"{stack.ws_url}?token={token}", origin=stack.web_origin, open_timeout=WAIT)  # type: ignore[arg-type]
    frame: dict[str, Any] = {"action": "availability", "available": True}
    if topics:
        frame["topics"] = topics
    ws.send(json.dumps(frame))
    _until(ws, "status")
    return ws


def _until(ws: ClientConnection, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["type"] == wanted:
            return frame


def _ask(
    page: Page,
    url: str,
    intro: str = "",
    topic: str | None = "Anxiety",
    submit: str = "Talk to a volunteer",
) -> None:
    page.goto(url)
    if topic:
        page.get_by_label(topic, exact=True).check()
    if intro:
        page.get_by_label("Anything you'd like your volunteer to know first?").fill(intro)
    page.get_by_role("button", name=submit).click()


def _send(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.locator("#composer").get_by_role("button", name="Send").click()


def _chat_with_crisis_text(
    page: Page, stack: LocalStack, volunteer: ClientConnection, intro: str
) -> dict[str, Any]:
    """The seeker asks with this intro, is matched with the volunteer, and writes CRISIS_TEXT;
    the crisis panel shows. The volunteer's `matched` frame."""
    _ask(page, stack.web_url, intro)
    matched = _until(volunteer, "matched")
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    _send(page, people.CRISIS_TEXT)
    expect(page.locator("#crisis-panel")).to_be_visible()
    return matched


def _in_view(page: Page, selector: str) -> bool:
    """Whether the element is wholly inside the viewport as the page stands, and seen: what
    is at its centre is the element itself (not clipped by a scrolling box, not covered)."""
    inside: bool = page.evaluate(
        """(selector) => {
          const el = document.querySelector(selector);
          const box = el.getBoundingClientRect();
          if (!(box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight)) return false;
          const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
          return hit !== null && (hit === el || el.contains(hit));
        }""",
        selector,
    )
    return inside


def test_nobody_on_shift_says_so_plainly_then_a_volunteer_comes(
    pages: Any, stack: LocalStack
) -> None:
    """Given nobody on shift,
    When a seeker asks for a chat,
    Then the page says no volunteer is free, guesses no wait, shows crisis lines to call, and
    offers to keep waiting or leave; after MaxWaitMinutes it says kindly that the wait is long;
    when a volunteer comes on shift it says so, and the chat starts."""
    page = pages()
    _ask(page, stack.web_url, "I can't sleep and my head is loud")
    nobody = page.locator("#nobody-box")
    expect(nobody).to_be_visible()
    expect(nobody.get_by_role("heading")).to_have_text("No volunteer is free right now")
    expect(nobody.locator("a[href^='tel:']").first).to_be_visible()
    expect(nobody.get_by_role("button", name="Keep waiting")).to_be_visible()
    expect(nobody.get_by_role("button", name="Leave the queue")).to_be_visible()
    expect(page.locator("#queue-wait")).to_have_text("")
    expect(page.locator("body")).not_to_contain_text("minutes to wait")
    assert a11y_problems(page) == []
    screenshot(page, "seeker-nobody-on-shift")

    long_wait = page.locator("#long-wait-box")
    expect(long_wait).to_be_visible(timeout=WAIT * 1000)
    expect(long_wait).to_contain_text("You keep your place in the queue")
    expect(long_wait.locator(".line").first).to_be_visible()
    screenshot(page, "seeker-long-wait")

    page.get_by_role("button", name="Keep waiting").click()
    expect(nobody).to_be_hidden()
    with _volunteer(stack) as volunteer:
        expect(
            page.get_by_role("heading", name=re.compile("^You're talking with "))
        ).to_be_visible()
        matched = _until(volunteer, "matched")
        volunteer.send(json.dumps({"action": "end", "sessionId": matched["sessionId"]}))
        volunteer.send(json.dumps({"action": "availability", "available": False}))
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()


def test_the_news_that_a_volunteer_came_on_shift_reaches_the_waiting_page(
    pages: Any, stack: LocalStack
) -> None:
    """Given a seeker waiting for `anxiety` with nobody on shift, When a volunteer who could take
    them comes on shift (listing `grief` only: the matcher keeps the seeker for their own topic
    for 60 s), Then the page says a volunteer has come on shift; when they leave, that nobody
    is free again."""
    page = pages()
    _ask(page, stack.web_url)
    expect(page.locator("#nobody-box")).to_be_visible()
    with _volunteer(stack, topics=["grief"]) as volunteer:
        expect(page.locator("#notice")).to_contain_text("A volunteer has come on shift")
        expect(page.locator("#nobody-box")).to_be_hidden()
        volunteer.send(json.dumps({"action": "availability", "available": False}))
    expect(page.locator("#nobody-box")).to_be_visible()
    page.get_by_role("button", name="Stop waiting").click()
    expect(page.get_by_role("button", name="Talk to a volunteer")).to_be_visible()


def test_a_risk_chat_ends_with_the_lines_above_the_rating_and_a_clean_slate_after(
    pages: Any, stack: LocalStack
) -> None:
    """Given a seeker in a chat who wrote that they want to kill themselves,
    When the volunteer ends the chat,
    Then the ended page shows "If you need someone now" with lines to call, above the rating;
    "Start a new chat" leaves nothing of the chat (no intro, no topics, no messages, no lines);
    "Forget me" after a second chat clears the page too."""
    page = pages()
    with _volunteer(stack) as volunteer:
        matched = _chat_with_crisis_text(page, stack, volunteer, "Things have been really bad")
        _until(volunteer, "alert")
        volunteer.send(json.dumps({"action": "end", "sessionId": matched["sessionId"]}))

        box = page.locator("#ended-lines-box")
        expect(box).to_be_visible()
        expect(box.get_by_role("heading")).to_have_text("If you need someone now")
        expect(box.locator("a[href^='tel:']").first).to_be_visible()
        lines_top = box.bounding_box()
        rating_top = page.locator("#feedback-form").bounding_box()
        assert lines_top and rating_top and lines_top["y"] < rating_top["y"]
        expect(page.locator("#crisis-panel")).to_be_hidden()
        screenshot(page, "seeker-ended-after-risk")

        page.get_by_role("button", name="Start a new chat").click()
        expect(
            page.get_by_label("Anything you'd like your volunteer to know first?")
        ).to_have_value("")
        expect(page.locator("#topics input:checked")).to_have_count(0)
        expect(page.locator("#chat-log > *")).to_have_count(0)
        expect(page.locator("#ended-lines li")).to_have_count(0)
        expect(page.locator("body")).not_to_contain_text(people.CRISIS_TEXT)
        expect(page.locator("body")).not_to_contain_text("Things have been really bad")

        _ask(page, stack.web_url, "Second time")
        second = _until(volunteer, "matched")
        _send(page, "just checking in")
        volunteer.send(json.dumps({"action": "end", "sessionId": second["sessionId"]}))
        expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
        page.get_by_role("button", name="Forget me").click()
        expect(page.locator("#notice")).to_contain_text("Kindred has deleted what it held")
        expect(page.get_by_role("button", name="Talk to a volunteer")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("just checking in")
        expect(
            page.get_by_label("Anything you'd like your volunteer to know first?")
        ).to_have_value("")
        volunteer.send(json.dumps({"action": "availability", "available": False}))


def test_on_a_phone_the_crisis_panel_and_the_message_box_are_both_in_view(
    pages: Any, stack: LocalStack
) -> None:
    """Given a seeker chatting on a phone, When they write that they want to kill themselves,
    Then the crisis panel (its heading and a line to call) and the message box are both on
    screen, without scrolling."""
    page = pages(phone=True)
    with _volunteer(stack) as volunteer:
        matched = _chat_with_crisis_text(page, stack, volunteer, "on my phone")
        expect(page.locator("#crisis-panel a[href^='tel:']").first).to_be_visible()
        assert _in_view(page, "#crisis-title")
        assert _in_view(page, "#crisis-lines .line a[href^='tel:']")
        assert _in_view(page, "#message")
        assert _in_view(page, "#composer button[type=submit]")
        ARTIFACTS.mkdir(exist_ok=True)  # the screen as the seeker sees it, not the whole page
        page.screenshot(path=ARTIFACTS / "seeker-crisis-and-composer-phone.png")
        volunteer.send(json.dumps({"action": "end", "sessionId": matched["sessionId"]}))
        volunteer.send(json.dumps({"action": "availability", "available": False}))


def test_the_country_comes_from_the_browser_and_the_picker_never_tells_the_server(
    pages: Any, stack: LocalStack
) -> None:
    """Given a browser in Mexico (es-MX, America/Mexico_City) and a deployment with no
    DefaultCountry,
    When the seeker opens "Need urgent help?",
    Then Mexico's line comes first, with a picker; choosing Spain shows Spain's lines; no
    frame the page sends names a country. (The page speaks the browser's Spanish: issue 13.)"""
    page = pages(locale="es-MX", zone="America/Mexico_City")
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    page.goto(stack.web_url)
    page.get_by_role("button", name="¿Necesitas ayuda urgente?").click()
    urgent = page.locator("#urgent-panel")
    expect(urgent.get_by_label("Líneas de crisis de")).to_have_value("MX")
    expect(urgent.locator(".line-name").first).to_have_text("Línea de la Vida")
    urgent.get_by_label("Líneas de crisis de").select_option("ES")
    expect(urgent.locator(".line-name").first).to_have_text("Línea 024")
    expect(urgent.locator("a[href='tel:024']")).to_be_visible()
    screenshot(page, "seeker-urgent-country-picker")

    page.get_by_role("button", name="Cerrar").click()
    _ask(page, stack.web_url, topic=None, submit="Hablar con una persona voluntaria")
    expect(page.locator("#nobody-box")).to_be_visible()
    # The page has forgotten the pick (nothing stored): the browser's country again.
    expect(page.locator("#nobody-lines .line-name").first).to_have_text("Línea de la Vida")
    assert sent, "the page sent nothing"
    assert not [frame for frame in sent if re.search(r'"country"|"MX"|"ES"|Mexico', frame)]
    page.get_by_role("button", name="Dejar de esperar").click()


def _closed_today() -> dict[str, Any]:
    today = datetime.now(UTC).date().isoformat()
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return {
        "timezone": "UTC",
        "weekly": {d: [["09:00", "17:00"]] for d in days},
        "closedDates": [today],
    }


def test_closed_hours_show_the_next_opening_and_the_lines_before_anyone_asks(
    pages: Any,
) -> None:
    """Given a deployment closed today (open 09:00-17:00 UTC every other day),
    When a seeker opens the page,
    Then it shows the hours, that it opens again tomorrow at 09:00, and crisis lines, before
    they ask; asking anyway says the same, and nothing breaks."""
    with running_stack({"OpeningHours": json.dumps(_closed_today())}) as closed:
        page = pages()
        page.goto(closed.web_url)
        hours = page.locator("#hours-box")
        expect(hours).to_be_visible()
        expect(hours.locator("#hours-next")).to_have_text(
            "Kindred is closed right now. It opens again tomorrow at 09:00 (UTC time)."
        )
        expect(hours.locator("#hours-list")).to_contain_text("Monday: 09:00\u201317:00")
        expect(hours.locator("#closed-lines .line").first).to_be_visible()
        assert a11y_problems(page) == []
        screenshot(page, "seeker-closed")

        page.get_by_role("button", name="Talk to a volunteer").click()
        expect(page.locator("#match-error")).to_contain_text(
            "Kindred is closed now. It opens again"
        )
        expect(page.get_by_role("button", name="Talk to a volunteer")).to_be_enabled()
