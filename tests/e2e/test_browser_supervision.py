"""Supervision in real browsers against the local stack (issue 12): ask for help, step in.

Three people, three browser contexts: a volunteer asks a supervisor for help with a note; the
supervisor sees the alert and the chat on the board, joins from the board, reads both sides
from then on, whispers with the volunteer (the seeker's page never shows a whisper), writes
to both, and leaves; the seeker sees a supervisor join and leave, and the supervisor's
message labelled. Screenshots: test-artifacts/supervision-*.png.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, screenshot

NOTE = "They said they feel unsafe at home tonight. Could someone look in?"
WHISPER = "Can you help me ask about where they will sleep tonight?"
REPLY = "Yes: ask gently whether there is somewhere safe they can go."
TO_BOTH = "Hello, I'm a supervisor on the team. I'm here with you both."


def _board_row(console: Page, seeker_alias: str) -> Any:
    return console.locator("#board-chats tbody tr", has_text=seeker_alias)


def test_a_supervisor_is_asked_joins_whispers_and_leaves(new_context: Any, web_url: str) -> None:
    """Given a supervisor on shift (not taking chats) and a volunteer in a chat with a seeker,
    When the volunteer asks a supervisor with a note, the supervisor joins from the board,
    each writes, the two whisper, and the supervisor leaves,
    Then the supervisor sees the alert with the note and the chat on the board, then the chat
    from the join on with each message labelled; the volunteer sees who joined and the
    whisper; the seeker sees that a supervisor joined and left and their message labelled
    "Supervisor", and never a whisper."""
    supervising = new_context()
    shift = supervising.new_page()
    people.sign_in(shift, web_url, people.SUPERVISOR, available=False)
    expect(shift.locator("#board-box")).to_be_visible()
    expect(shift.locator("#board-queue")).to_have_text("Nobody is waiting.")

    volunteering = new_context()
    console = volunteering.new_page()
    people.sign_in(console, web_url)
    seeking = new_context()
    page = seeking.new_page()
    people.ask_for_volunteer(page, web_url, "I don't feel safe at home.")
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    panel = people.chat_panel(console)
    expect(panel).to_be_visible()
    alias = panel.locator("[data-role=alias]").inner_text().strip()

    # The board shows the chat (and the volunteer), never what anyone wrote.
    row = _board_row(shift, alias)
    expect(row).to_contain_text("Demo Volunteer")
    ref = f"chat {(panel.get_attribute('data-session-id') or '')[:8]}"
    expect(row.locator(".chat-ref")).to_have_text(ref)  # as on the volunteer's panel
    expect(shift.locator("#board-volunteers tbody")).to_contain_text("Demo Volunteer")
    expect(shift.locator("#board-volunteers tbody")).to_contain_text("1 of 1")
    # Since when they are on shift (issue 12's care), and that they take new chats.
    volunteer_cells = shift.locator("#board-volunteers tbody tr").first.locator("td")
    expect(volunteer_cells.nth(1)).to_have_text(re.compile(r"^\d{1,2}:\d{2}.* \(.+\)$"))
    expect(volunteer_cells.nth(2)).to_have_text("Yes")

    # The volunteer asks for help, with a note.
    panel.get_by_role("button", name="Ask a supervisor").click()
    panel.get_by_label(re.compile("^Note for the supervisors")).fill(NOTE)
    panel.get_by_role("button", name="Alert the supervisors").click()
    expect(panel.locator("[data-role=panel-notice]")).to_contain_text(
        "The supervisor on shift was alerted at"
    )
    alert = shift.locator("#alerts li").first
    expect(alert).to_contain_text("A volunteer asked for help")
    expect(alert).to_contain_text(f"{alias} (seeker) with Demo Volunteer (volunteer)")
    expect(alert.locator(".alert-note")).to_have_text(f"Note: {NOTE}")
    expect(row).to_contain_text("Asked for help")
    expect(row.locator(".level-tag")).to_have_count(0)
    assert NOTE not in shift.locator("#board-box").inner_text()
    screenshot(shift, "supervision-board")

    # The supervisor joins from the board.
    row.get_by_role("button", name=f"Join the chat of {alias} with Demo Volunteer").click()
    watch = shift.locator(".watch-panel")
    expect(watch).to_be_visible()
    expect(watch.get_by_role("heading")).to_have_text(f"Supervising {alias} with Demo Volunteer")
    expect(page.locator("#chat-log .msg-system").last).to_have_text(
        re.compile("^A supervisor from our team has joined this chat to support ")
    )
    expect(panel.locator("[data-role=supervisor-here]")).to_have_text(
        "Demo Supervisor (supervisor) is in this chat."
    )
    expect(row).to_contain_text("Demo Supervisor joined")
    expect(alert.get_by_role("button", name="Joined")).to_be_disabled()
    expect(row.get_by_role("button", name=re.compile("^Join the chat"))).to_be_disabled()

    # Both sides write: the supervisor reads each, labelled; nothing from before the join.
    people.seeker_sends(page, "Thank you for being here.")
    people.volunteer_sends(console, "We're both here with you.")
    expect(watch.locator(".msg-peer .msg-who")).to_have_text(
        [f"{alias} (seeker)", "Demo Volunteer (volunteer)"]
    )
    expect(watch.locator(".msg-peer .msg-text")).to_have_text(
        ["Thank you for being here.", "We're both here with you."]
    )

    # The whispers: between the volunteer and the supervisor only.
    panel.get_by_label(re.compile("^Whisper to the supervisor")).fill(WHISPER)
    panel.get_by_role("button", name="Whisper").click()
    expect(watch.locator(".msg-whisper .msg-text")).to_have_text([WHISPER])
    watch.get_by_label(re.compile("^Whisper to the volunteer")).fill(REPLY)
    watch.get_by_role("button", name="Whisper").click()
    expect(panel.locator(".msg-whisper.msg-peer .msg-text")).to_have_text([REPLY])
    expect(panel.locator(".msg-whisper.msg-peer .msg-who")).to_have_text(
        ["Whisper from Demo Supervisor"]
    )

    # The supervisor writes to both; the seeker sees it labelled, and no whisper, ever.
    watch.get_by_label("Message to both").fill(TO_BOTH)
    watch.get_by_role("button", name="Send to both").click()
    supervisor_line = page.locator("#chat-log .msg-supervisor")
    expect(supervisor_line.locator(".msg-who")).to_have_text("Supervisor")
    expect(supervisor_line.locator(".msg-text")).to_have_text(TO_BOTH)
    expect(panel.locator(".msg-supervisor .msg-who")).to_have_text("Supervisor Demo Supervisor")
    seen = page.locator("body").inner_text()
    assert WHISPER not in seen and REPLY not in seen and NOTE not in seen
    assert page.locator(".msg-whisper").count() == 0
    screenshot(shift, "supervision-joined")
    screenshot(console, "supervision-volunteer")

    # The supervisor leaves: everyone is told; the chat goes on.
    watch.get_by_role("button", name="Leave this chat").click()
    expect(watch.locator("[data-role=panel-notice]")).to_have_text("You left this chat.")
    expect(page.locator("#chat-log .msg-system").last).to_have_text(
        re.compile("^The supervisor has left the chat. .+ is still here with you.$")
    )
    expect(panel.locator("[data-role=supervisor-here]")).to_be_hidden()
    expect(panel.locator("[data-role=whisper-form]")).to_be_hidden()
    people.seeker_sends(page, "Okay.")
    expect(panel.locator(".msg-peer .msg-text").last).to_have_text("Okay.")
    assert page.locator(".msg-whisper").count() == 0
    screenshot(page, "supervision-seeker-notices")

    assert a11y_problems(shift) == []
    assert a11y_problems(console) == []
    assert_clean(supervising, volunteering, seeking)
