"""The seeker's check-in before and after a chat, in a real browser on the local stack (issue 12).

A seeker answers the check-in, chats with a volunteer, ends and answers the distress question
again; the month's totals in the local table count each answer once, and nothing else holds
them. A `yes` shows the crisis lines at once, and the volunteer sees the chat at `high`.
Screenshots: test-artifacts/checkin-before.png, checkin-after.png, checkin-yes.png.
"""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from kindred.aws.layout import impact_month_key
from kindred.impact import month_of
from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, horizontal_overflow, screenshot
from tests.e2e.conftest import E2EStack

# What would show a check-in answer on the volunteer's console (its risk banner may say
# "thinking about suicide", as for any risk: not the question, not an answer).
ANSWER_WORDS = re.compile(r"distress|out of 10|not sure|suicide right now", re.IGNORECASE)


def _totals(local_stack: E2EStack) -> dict[str, int]:
    """The month's check-in totals in the local table, as counts by attribute (none: {})."""
    db = local_stack.stack.client("dynamodb")
    key = impact_month_key(month_of(time.time()))
    item = db.get_item(
        TableName=local_stack.stack.environment["TABLE_NAME"], Key=key, ConsistentRead=True
    ).get("Item", {})
    return {k: int(v["N"]) for k, v in item.items() if k not in ("pk", "sk", "expiresAt")}


def _grew(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def _answer_before(page: Page, distress: int, suicidal: str) -> None:
    checkin = page.get_by_role("group", name="A quick check-in (optional)")
    expect(checkin).to_be_visible()
    checkin.get_by_label(f"{distress} out of 10", exact=True).check()
    checkin.get_by_label(suicidal, exact=True).check()


def test_a_seeker_answers_before_chats_ends_and_answers_after(
    new_context: Any, web_url: str, local_stack: E2EStack
) -> None:
    """Given a volunteer taking chats,
    When a seeker answers the check-in (distress 8, not sure), asks, chats, ends the chat, and
    answers the distress question again (3) with the rating,
    Then the page answers "not sure" gently without crisis alarm, the volunteer's console shows
    none of the answers and no risk, the seeker is thanked, and the month's totals grew by one
    check-in, one 8 before, one `not sure`, one 3 after and one change of -5: nothing else."""
    start = _totals(local_stack)
    volunteer, seeker = new_context(), new_context()
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    page = seeker.new_page()
    page.goto(web_url)

    _answer_before(page, 8, "Not sure")
    expect(page.locator("#checkin-unsure")).to_be_visible()
    expect(page.locator("#checkin-unsure")).to_contain_text("talk it through with your volunteer")
    expect(page.locator("#checkin-yes")).to_be_hidden()
    expect(page.get_by_role("button", name="Clear my answers")).to_be_visible()
    page.get_by_label("Anything you'd like your volunteer to know first?").fill(
        "Exams are getting on top of me."
    )
    assert a11y_problems(page) == []
    screenshot(page, "checkin-before")
    page.get_by_role("button", name="Talk to a volunteer").click()

    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    panel = people.chat_panel(console)
    expect(panel).to_be_visible()
    expect(panel.locator("[data-role=risk]")).to_be_hidden()  # "not sure" is no signal
    people.seeker_sends(page, "Hi. It's exams, mostly.")
    people.volunteer_sends(console, "Thanks for reaching out. Tell me about the exams.")
    expect(page.locator(".msg-peer .msg-text")).to_have_count(1)
    assert not ANSWER_WORDS.search(console.locator("main").inner_text())
    # The check-in form is cleared as soon as the seeker is in the queue.
    assert page.locator("#checkin input:checked").count() == 0

    page.get_by_role("button", name="End chat").click()
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
    feedback = page.locator("#feedback-form")
    feedback.get_by_role("group", name="How distressed do you feel now? (optional)").get_by_label(
        "3 out of 10"
    ).check()
    feedback.get_by_label("4", exact=True).check()
    assert a11y_problems(page) == []
    screenshot(page, "checkin-after")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    deadline = time.time() + 10
    while time.time() < deadline and _grew(start, _totals(local_stack)) != {
        "checkins": 1,
        "before8": 1,
        "suicidalUnsure": 1,
        "after3": 1,
        "change-5": 1,
    }:
        time.sleep(0.2)
    assert _grew(start, _totals(local_stack)) == {
        "checkins": 1,
        "before8": 1,
        "suicidalUnsure": 1,
        "after3": 1,
        "change-5": 1,
    }
    assert_clean(volunteer, seeker)


def test_a_yes_shows_the_lines_at_once_and_the_volunteer_sees_the_chat_as_high(
    new_context: Any, web_url: str, local_stack: E2EStack
) -> None:
    """Given a volunteer taking chats, and a seeker on a phone,
    When the seeker answers `yes` to "Are you thinking about suicide right now?",
    Then the crisis lines show at once under the question, with tap-to-call links, before they
    ask; and when they ask, the crisis panel comes from the server too and the volunteer's
    chat shows the level High, as a high signal in the intro would; the page never overflows."""
    volunteer, seeker = new_context(), new_context(phone=True)
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    page = seeker.new_page()
    page.goto(web_url)

    page.get_by_label("Yes", exact=True).check()
    box = page.locator("#checkin-yes")
    expect(box).to_be_visible()
    expect(box.get_by_role("heading")).to_have_text(
        "We're glad you told us. You don't have to face this alone"
    )
    expect(box.locator(".line").first).to_be_visible()
    expect(box.locator("a[href^='tel:']").first).to_be_visible()
    expect(page.locator("#checkin-live")).to_contain_text("Crisis lines")
    assert horizontal_overflow(page) == 0
    assert a11y_problems(page) == []
    screenshot(page, "checkin-yes")

    page.get_by_role("button", name="Talk to a volunteer").click()
    expect(page.locator("#crisis-panel")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    panel = people.chat_panel(console)
    expect(panel.locator("[data-role=risk]")).to_be_visible()
    level_now = panel.locator("[data-role=level-now]")
    expect(level_now).to_have_attribute("data-level", "high")
    expect(level_now).to_contain_text("High")
    assert not ANSWER_WORDS.search(console.locator("main").inner_text())
    assert_clean(volunteer, seeker)
