"""Contact details in a real browser against the local stack (issue 12).

A seeker who writes a phone number sees why it was not sent, keeps it in the box, and may send
it anyway; a volunteer's e-mail address is refused and marked in the console. Debian's Chromium
under Playwright, as in test_browser.py; screenshots land in test-artifacts/contact-details-*.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, screenshot

PHONE_TEXT = "Could you text me later? My number is 07700 900123"
EMAIL_TEXT = "You can also write to me at sam.volunteer@example.org"


def test_a_seeker_is_told_why_and_may_send_anyway(new_context: Any, web_url: str) -> None:
    """Given a seeker and a volunteer in a chat,
    When the seeker sends a phone number,
    Then the message is not in the chat, it is back in the box, and a notice says it looks like
    a phone number and why contact details are not safe in an anonymous chat; the volunteer has
    nothing.
    When the seeker presses "Send anyway",
    Then the volunteer's panel shows the message, the box is empty and the notice gone.
    When the volunteer writes an e-mail address,
    Then the console marks it "Not sent" naming an e-mail address, and the seeker never gets it."""
    volunteer, console, seeker, page = people.matched_pair(new_context, web_url, "Things are hard.")
    panel = people.chat_panel(console)

    people.seeker_sends(page, PHONE_TEXT)
    notice = page.locator("#contact-box")
    expect(notice).to_be_visible()
    expect(notice).to_be_focused()
    expect(notice.get_by_role("heading")).to_have_text("This message hasn't been sent")
    expect(page.locator("#contact-found")).to_contain_text("a phone number")
    expect(notice).to_contain_text("Kindred can't call you or send help")
    expect(page.get_by_label("Your message")).to_have_value(PHONE_TEXT)
    expect(page.locator("#chat-log .msg-mine")).to_have_count(0)
    screenshot(page, "contact-details-seeker-notice")
    expect(panel.locator(".msg-peer")).to_have_count(0)

    notice.get_by_role("button", name="Send anyway").click()
    expect(panel.locator(".msg-peer .msg-text")).to_have_text([PHONE_TEXT])
    expect(notice).to_be_hidden()
    expect(page.get_by_label("Your message")).to_have_value("")
    expect(page.locator("#chat-log .msg-mine .msg-text")).to_have_text([PHONE_TEXT])
    expect(page.locator("#chat-log .msg-failed")).to_have_count(0)
    screenshot(page, "contact-details-seeker-sent-anyway")

    people.volunteer_sends(console, EMAIL_TEXT)
    refused = panel.locator(".msg-mine.msg-failed")
    expect(refused).to_have_count(1)
    expect(refused.locator(".msg-error")).to_have_text(
        re.compile("^Not sent. This message has an e-mail address in it")
    )
    expect(console.locator("#notice")).to_contain_text("it had contact details in it")
    screenshot(console, "contact-details-console-refused")
    # The seeker gets the volunteer's next message, never the refused one.
    people.volunteer_sends(console, "I'm still here with you.")
    expect(page.locator("#chat-log .msg-peer .msg-text")).to_have_text(["I'm still here with you."])

    assert a11y_problems(page) == []
    assert a11y_problems(console) == []
    assert_clean(volunteer, seeker)


def test_a_seeker_may_change_the_message_instead(new_context: Any, web_url: str) -> None:
    """Given a seeker whose message was refused for an Instagram name,
    When they press "Change my message", edit it and send it,
    Then the notice goes, the edited message reaches the volunteer, and the first one never."""
    volunteer, console, seeker, page = people.matched_pair(
        new_context, web_url, "I feel alone.", phone=True
    )
    people.seeker_sends(page, "add me on insta @sam_92 so we can keep talking")
    notice = page.locator("#contact-box")
    expect(page.locator("#contact-found")).to_contain_text("a social media username")
    screenshot(page, "contact-details-seeker-phone")
    notice.get_by_role("button", name="Change my message").click()
    expect(notice).to_be_hidden()
    box = page.get_by_label("Your message")
    expect(box).to_be_focused()
    box.fill("Can we keep talking here a bit longer?")
    page.locator("#composer").get_by_role("button", name="Send").click()
    expect(people.chat_panel(console).locator(".msg-peer .msg-text")).to_have_text(
        ["Can we keep talking here a bit longer?"]
    )
    assert_clean(volunteer, seeker)
