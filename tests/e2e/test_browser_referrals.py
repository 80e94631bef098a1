"""Referrals and quick replies in a real browser against the local stack (issue 12).

Debian's Chromium under Playwright, as in test_browser.py: a volunteer shares a service of the
organisation's directory and the seeker sees it as a card whose only links are tel:, sms: and
https:; a volunteer puts a quick reply into the message box, edits it, sends it, and the seeker
gets the edited words. Screenshots: test-artifacts/referral-card.png, canned-reply.png.
"""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from kindred.referrals import find
from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, screenshot
from tests.e2e.test_browser import HTML_PAYLOAD

# A frame a compromised or buggy server could send: markup for text, links of other schemes.
FORGED = {
    "name": HTML_PAYLOAD,
    "description": '<a href="javascript:window.__injected=3">click</a>',
    "country": "GB",
    "languages": ["en"],
    "topics": ["grief"],
    "phone": "javascript:alert(1)",
    "sms": "<b>0</b>",
    "url": "javascript:window.__injected=4",
    "hours": "<i>always</i>",
}


def _pair(new_context: Any, web_url: str) -> tuple[Any, Page, Any, Page]:
    """A signed-in, available volunteer, and a page for the seeker (who has not asked yet)."""
    volunteer = new_context()
    seeker = new_context()
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    page = seeker.new_page()
    return volunteer, console, seeker, page


def _matched(page: Page, console: Page) -> None:
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    expect(people.chat_panel(console)).to_be_visible()


def test_a_volunteer_shares_a_service_and_the_seeker_sees_a_card_with_safe_links(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker who asked about grief, matched with a volunteer,
    When the volunteer opens "Share a service" (a grief service chosen to start with), picks
    Cruse, sees what they do and sends it,
    Then the seeker's chat shows a card with its name, what they do, its hours, a call link
    that dials the number's digits and a website link to its https address in a new tab
    (noopener, noreferrer); the volunteer's panel says it was shared. A forged card with markup
    and javascript: links shows the markup as text and makes no link of them."""
    volunteer, console, seeker, page = _pair(new_context, web_url)

    sockets: list[WebSocketRoute] = []
    cards: list[dict[str, Any]] = []

    def intercept(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        sockets.append(ws)

        def from_server(message: str | bytes) -> None:
            ws.send(message)
            frame = json.loads(message)
            if frame.get("type") == "referral":
                cards.append(frame)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"^wss?://"), intercept)
    people.ask_for_volunteer(page, web_url, "My dad died last month.", topic="Grief and loss")
    _matched(page, console)
    panel = people.chat_panel(console)

    panel.get_by_role("button", name="Share a service").click()
    service = panel.get_by_label("Service to share")
    expect(service).to_be_focused()
    # The first service for the chat's topic is chosen to start with (the local stack has no
    # DefaultCountry, so the countries come by name: Spain's first).
    expect(service).to_have_value("es-telefono-esperanza")
    service.select_option("gb-cruse")
    cruse = find("gb-cruse")
    assert cruse is not None and cruse.phone and cruse.url
    expect(panel.locator("[data-role=referral-preview]")).to_contain_text(cruse.description)
    assert a11y_problems(console) == []
    panel.get_by_role("button", name="Send to the person").click()

    card = page.locator(".referral-card").first
    expect(card).to_be_visible()
    expect(card).to_contain_text(cruse.name)
    expect(card).to_contain_text(cruse.description)
    expect(card).to_contain_text(f"Hours: {cruse.hours}")
    expect(card.get_by_role("link", name=f"Call {cruse.phone}")).to_have_attribute(
        "href", "tel:" + re.sub(r"[^0-9+]", "", cruse.phone)
    )
    website = card.get_by_role("link", name=re.compile("^Website"))
    expect(website).to_have_attribute("href", cruse.url + "/")
    expect(website).to_have_attribute("target", "_blank")
    expect(website).to_have_attribute("rel", "noopener noreferrer")
    expect(panel.locator(".msg-system").last).to_have_text(
        re.compile(f"^You shared {re.escape(cruse.name)} with ")
    )

    assert a11y_problems(page) == []
    card.scroll_into_view_if_needed()
    screenshot(page, "referral-card")

    # The same card as a forged frame would have it, sent to the page as if from the server.
    sockets[-1].send(json.dumps({**cards[-1], "item": {**FORGED, "id": "forged"}}))
    forged = page.locator(".referral-card").nth(1)
    expect(forged).to_contain_text(HTML_PAYLOAD)
    expect(forged).to_contain_text("Hours: <i>always</i>")
    assert forged.locator("img, b, i, script, a[href^='javascript']").count() == 0
    assert forged.get_by_role("link").count() == 0  # no dialable number, no https address
    hrefs = page.locator(".referral-card a").evaluate_all("(links) => links.map((a) => a.href)")
    assert hrefs and all(re.match(r"^(tel|sms|https):", h) for h in hrefs), hrefs
    assert page.evaluate("window.__injected") is None
    assert a11y_problems(page) == []
    assert_clean(volunteer, seeker)


def test_a_volunteer_edits_a_quick_reply_and_the_seeker_gets_the_edited_words(
    new_context: Any, web_url: str
) -> None:
    """Given a chat,
    When the volunteer writes "Hello.", chooses the quick reply "Take your time. There's no
    rush." and presses Insert, then adds words of their own and presses Send,
    Then the reply went into the message box after "Hello." and nothing reached the seeker
    until Send; the seeker gets the edited message, once."""
    volunteer, console, seeker, page = _pair(new_context, web_url)
    people.ask_for_volunteer(page, web_url, "I can't stop worrying.")
    _matched(page, console)
    panel = people.chat_panel(console)
    box = panel.get_by_label(re.compile("^Message to "))

    box.fill("Hello. ")
    reply = panel.get_by_label("Quick reply")
    reply.select_option(label="Take your time. There's no rush.")
    panel.get_by_role("button", name="Insert").click()
    expect(box).to_have_value("Hello. Take your time. There's no rush.")
    expect(box).to_be_focused()
    expect(reply).to_have_value("")
    page.wait_for_timeout(500)  # long enough for a frame the insert might have sent
    assert page.locator(".msg-peer").count() == 0

    box.press("End")
    box.press_sequentially(" I'm here with you.")
    screenshot(console, "canned-reply")
    panel.get_by_role("button", name="Send").click()
    edited = "Hello. Take your time. There's no rush. I'm here with you."
    expect(page.locator(".msg-peer .msg-text")).to_have_text([edited])
    expect(panel.locator(".msg-mine .msg-text")).to_have_text([edited])
    expect(box).to_have_value("")
    assert a11y_problems(console) == []
    assert_clean(volunteer, seeker)
