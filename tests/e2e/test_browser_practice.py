"""A trainee's practice chat in real browsers against the local stack (issue 13).

Two people, two browser contexts: a trainee signs in and takes chats; a supervisor plays the
person seeking help from the console's "Practice chat" panel (a second WebSocket with their
token and `practice=1`). The trainee's console shows the chat as any chat (the opening words,
the messages, the risk banner), the board marks it practice, and no supervisor is alerted.
Screenshots: test-artifacts/practice-*.png.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, screenshot

TRAINEE = "trainee@example.org"
INTRO = "I'd like to talk about how my week at work went."
REPLY = "Thank you for telling me. How long has it been like this?"
ANSWER = "About three weeks now."


def test_a_trainees_practice_chat(new_context: Any, web_url: str) -> None:
    """Given a trainee taking chats and a supervisor on shift (not taking chats)
    When the supervisor starts a practice chat with a topic and opening words, the two talk,
    the supervisor writes a risk, and ends the chat
    Then the trainee's console shows the chat as any other (the opening words, each message,
    the risk banner), the supervisor's panel shows the trainee's side; the board marks the
    chat and the trainee "Practice" and "Trainee" and counts nobody waiting; no alert reaches
    the supervisors' list; both see the chat end."""
    training = new_context()
    console = training.new_page()
    people.sign_in(console, web_url, TRAINEE)
    expect(console.locator("#who")).to_have_text("Signed in as Demo Trainee (trainee)")
    expect(console.locator("#practice-box")).to_be_hidden()
    expect(console.locator("#board-box")).to_be_hidden()

    supervising = new_context()
    shift = supervising.new_page()
    people.sign_in(shift, web_url, people.SUPERVISOR, available=False)
    box = shift.locator("#practice-box")
    expect(box).to_be_visible()
    box.get_by_label(re.compile("^Topic")).select_option(label="Anxiety")
    box.get_by_label(re.compile("^Opening words")).fill(INTRO)
    box.get_by_role("button", name="Start a practice chat").click()

    # The trainee takes it as any chat.
    panel = people.chat_panel(console)
    expect(panel).to_be_visible()
    expect(panel.locator("[data-role=intro]")).to_have_text(INTRO)
    expect(panel.locator("[data-role=risk]")).to_be_hidden()
    expect(shift.locator("#practice-status")).to_have_text(
        "Practice chat with Demo Trainee. You are the person seeking help."
    )
    people.volunteer_sends(console, REPLY)
    expect(shift.locator("#practice-log .msg-peer .msg-text")).to_have_text([REPLY])
    shift.get_by_label("Message as the seeker").fill(ANSWER)
    shift.locator("#practice-composer").get_by_role("button", name="Send").click()
    expect(panel.locator(".msg-peer .msg-text")).to_have_text([ANSWER])

    # A risk in practice shows the trainee exactly what a real one would; no supervisor hears.
    shift.get_by_label("Message as the seeker").fill(people.CRISIS_TEXT)
    shift.locator("#practice-composer").get_by_role("button", name="Send").click()
    expect(panel.locator("[data-role=risk]")).to_be_visible()
    expect(panel.locator("[data-role=level-word]")).to_have_text("High")
    expect(panel.locator(".msg-peer .msg-text").last).to_have_text(people.CRISIS_TEXT)
    screenshot(console, "practice-trainee")

    # The board: the chat and the trainee marked; nobody in the real queue.
    alias = panel.locator("[data-role=alias]").inner_text().strip()
    row = shift.locator("#board-chats tbody tr", has_text=alias)
    expect(row.locator(".badge-practice")).to_have_text("Practice")
    expect(row).to_contain_text("Demo Trainee")
    trainee_row = shift.locator("#board-volunteers tbody tr", has_text="Demo Trainee")
    expect(trainee_row.locator(".badge-practice")).to_have_text("Trainee")
    expect(shift.locator("#board-queue")).to_have_text("Nobody is waiting.")
    expect(shift.locator("#alerts li")).to_have_count(0)
    screenshot(shift, "practice-supervisor")

    # The supervisor ends it: both see the end.
    shift.get_by_role("button", name="End the practice chat").click()
    expect(shift.locator("#practice-status")).to_have_text(
        "The practice chat ended. Start another when you're ready."
    )
    expect(box.get_by_role("button", name="Start a practice chat")).to_be_enabled()
    expect(panel.locator("[data-role=panel-notice]")).to_have_text(f"{alias} ended the chat.")
    expect(shift.locator("#alerts li")).to_have_count(0)
    screenshot(shift, "practice-ended")

    assert a11y_problems(shift) == []
    assert a11y_problems(console) == []
    assert_clean(training, supervising)
