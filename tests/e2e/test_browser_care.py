"""Care for volunteers (issue 12) in a real browser against the local stack: after a chat at
high risk the volunteer's console shows the pause and asks how they are; their debrief
reaches the supervisor's console as an alert a supervisor understands.

Debian's Chromium under Playwright, as in test_browser.py; this module's stack runs with the
risk pause (the other end-to-end stacks turn it off: tests/e2e/ws.py, E2E_PARAMETERS).
Screenshots: test-artifacts/care-pause.png, test-artifacts/care-debrief-alert.png.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, screenshot

RISK_PAUSE_MINUTES = 5
# This module's own local stack: the risk pause of the template's default (5 minutes).
STACK_PARAMETERS = {"RiskPauseMinutes": str(RISK_PAUSE_MINUTES)}


def test_after_a_risk_chat_the_volunteer_pauses_checks_in_and_the_supervisor_hears_it(
    new_context: Any, web_url: str
) -> None:
    """Given a supervisor on shift and a volunteer in a chat,
    When the seeker writes that they want to kill themselves (a high risk) and ends the chat,
    Then the volunteer's console says they are taking a few minutes, with no new chats until
    the pause is over, and asks how they are; when they ask to talk to a supervisor, the
    console says a supervisor has been told, and the supervisor's alerts show "Debrief
    requested" with the volunteer's name, and no chat or seeker."""
    supervisor = new_context()
    shift = supervisor.new_page()
    people.sign_in(shift, web_url, people.SUPERVISOR, available=False)
    volunteer, console, seeker, page = people.matched_pair(
        new_context, web_url, "It has been a really hard week."
    )

    people.seeker_sends(page, people.CRISIS_TEXT)
    expect(people.chat_panel(console).locator("[data-role=risk]")).to_be_visible()
    page.get_by_role("button", name="Back to the chat").click()
    page.get_by_role("button", name="End chat").click()

    expect(people.chat_panel(console)).to_contain_text("ended the chat")
    care = console.locator("#care-line")
    expect(care).to_be_visible()
    expect(care).to_contain_text("Taking a few minutes: no new chats until ")
    # The end of the pause as the page writes times: RiskPauseMinutes from now (the clock's
    # minute may turn over meanwhile).
    expected = console.evaluate(
        "(m) => [m - 1, m].map((n) => window.Kindred.clockTime("
        "new Date(Date.now() + n * 60000).toISOString()))",
        RISK_PAUSE_MINUTES,
    )
    assert any(f"until {when}." in care.inner_text() for when in expected), expected
    checkin = console.get_by_role("region", name="How are you?")
    expect(checkin).to_be_visible()
    expect(checkin).to_contain_text("That was a hard chat.")
    expect(checkin.get_by_role("button", name="I'm OK")).to_be_visible()
    ask = checkin.get_by_role("button", name="I'd like to talk to a supervisor")
    expect(ask).to_be_visible()
    assert a11y_problems(console) == []
    screenshot(console, "care-pause")

    ask.click()
    expect(checkin).to_contain_text("A supervisor has been told")
    expect(checkin.get_by_role("button", name="I'm OK")).to_be_hidden()
    expect(care).to_contain_text("no new chats until")  # a check-in does not end the pause

    alert = shift.locator("#alerts li").first
    expect(alert).to_contain_text("Debrief requested")
    expect(alert).to_contain_text("Demo Volunteer (volunteer) asks to talk with a supervisor")
    expect(alert).not_to_contain_text("seeker")
    expect(alert).not_to_contain_text(people.CRISIS_TEXT)
    assert a11y_problems(shift) == []
    screenshot(shift, "care-debrief-alert")
    assert_clean(volunteer, seeker, supervisor)


def test_signing_out_after_a_shift_asks_the_check_in_first(new_context: Any, web_url: str) -> None:
    """Given a volunteer who has been taking chats, when they sign out, then the console asks
    how they are first; "I'm OK" signs them out, with a word of thanks."""
    volunteer = new_context()
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    console.get_by_role("button", name="Sign out").click()
    checkin = console.get_by_role("region", name="How are you?")
    expect(checkin).to_contain_text("Before you go")
    expect(checkin.get_by_role("button", name="Sign out without answering")).to_be_visible()
    checkin.get_by_role("button", name="I'm OK").click()
    expect(console.get_by_role("heading", name="Volunteer sign in")).to_be_visible()
    expect(console.locator("#notice")).to_contain_text("Take good care of yourself")
    assert_clean(volunteer)
