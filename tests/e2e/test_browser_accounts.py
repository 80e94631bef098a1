"""Accounts from the console in a real browser (issue 13), MFA required as deployed.

The demo supervisor is also a coordinator: their console shows the Accounts section. They
invite a volunteer; Cognito would e-mail the temporary password, and the local stack's outbox
(local.outbox) holds it instead. The volunteer signs in for the first time (a new password, an
authenticator app: TOTP codes computed as tests/e2e/test_browser_mfa.py does) and takes a
seeker's chat. The coordinator then disables the account, and the volunteer's sign-in fails.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any
from urllib.parse import urljoin

from playwright.sync_api import Page, expect

from tests.e2e import people
from tests.e2e.browser import Watched, a11y_problems, assert_clean, horizontal_overflow, screenshot
from tests.e2e.conftest import E2EStack
from tests.e2e.test_browser_mfa import fresh_code

NEW = "nia.invited@example.org"
CHOSEN = "Chosen-By-Nia-3!"
# This module's own local stack (tests/e2e/conftest.py): MFA required, as the template's default.
STACK_PARAMETERS = {"VolunteerMfa": "ON"}


def _outbox(web_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(urljoin(web_url, "outbox.json"), timeout=10) as response:
        sent: list[dict[str, Any]] = json.loads(response.read())
    return sent


def _row(console: Page, name: str) -> Any:
    return console.locator("#accounts-table tbody tr").filter(has_text=name)


def test_a_coordinator_invites_a_volunteer_who_signs_in_and_takes_a_chat(
    local_stack: E2EStack, web_url: str, new_context: Any
) -> None:
    """Given the demo supervisor, a coordinator, on the console,
    When they invite Nia as a volunteer, Nia signs in with the e-mailed temporary password,
    chooses a password, sets up MFA and goes on shift, and a seeker asks for someone,
    Then Nia takes the chat; the coordinator sees Nia active; once disabled, Nia cannot sign in."""
    coordinator_ctx: Watched = new_context()
    console = coordinator_ctx.new_page()
    people.sign_in(console, web_url, people.SUPERVISOR, available=False)
    accounts = console.get_by_role("region", name="Accounts")
    expect(accounts).to_be_visible()
    expect(_row(console, "Demo Volunteer")).to_contain_text("Volunteer")
    expect(_row(console, "Demo Supervisor")).to_contain_text("(you)")

    accounts.get_by_label("Address the invitation goes to").fill(NEW)
    accounts.get_by_label("Name colleagues and seekers see").fill("Nia")
    accounts.get_by_label("Their group").select_option("volunteers")
    accounts.get_by_role("button", name="Send the invitation").click()
    expect(console.locator("#accounts-message")).to_contain_text("Invitation sent")
    expect(_row(console, "Nia")).to_contain_text("Invited: has not signed in yet")
    assert a11y_problems(console) == []
    screenshot(console, "accounts-invited")

    (invitation,) = [m for m in _outbox(web_url) if m["email"] == NEW]
    temporary = invitation["temporary_password"]
    new_ctx: Watched = new_context()
    nia = new_ctx.new_page()
    people.enter_credentials(nia, web_url, NEW, temporary)
    expect(nia.get_by_role("heading", name="Choose your password")).to_be_visible()
    nia.get_by_label("New password", exact=True).fill(CHOSEN)
    nia.get_by_label("New password again").fill(CHOSEN)
    nia.get_by_role("button", name="Set password").click()
    expect(nia.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    secret = nia.locator("#mfa-secret").inner_text().strip()
    nia.get_by_label("The 6-digit code the app shows").fill(fresh_code(secret))
    nia.get_by_role("button", name="Verify and sign in").click()
    expect(nia.get_by_role("heading", name="Your availability")).to_be_visible()
    # A volunteer is no coordinator: no Accounts section.
    expect(nia.get_by_role("region", name="Accounts")).to_be_hidden()
    nia.get_by_role("button", name="Start taking chats").click()
    expect(nia.locator("#status-text")).to_contain_text("You're taking chats")

    seeker_ctx: Watched = new_context()
    page = seeker_ctx.new_page()
    people.ask_for_volunteer(page, web_url, "I had a rough week")
    expect(page.get_by_role("heading", name=re.compile("^You're talking with Nia"))).to_be_visible()
    expect(people.chat_panel(nia)).to_be_visible()
    people.seeker_sends(page, "hello, are you there?")
    expect(people.chat_panel(nia)).to_contain_text("hello, are you there?")
    people.volunteer_sends(nia, "I'm here. I'm Nia.")
    expect(page.locator(".msg-peer .msg-text")).to_have_text(["I'm here. I'm Nia."])
    expect(page.locator(".msg-peer .msg-who")).to_have_text(["Nia"])
    screenshot(nia, "accounts-invited-volunteer-in-chat")

    # The coordinator reloads the list: Nia is active now; then disables the account.
    console.reload()
    people.sign_in(console, web_url, people.SUPERVISOR, available=False)
    expect(_row(console, "Nia")).to_contain_text("Active")
    _row(console, "Nia").get_by_role("button", name="Disable").click()
    expect(console.locator("#accounts-message")).to_contain_text("Account disabled")
    expect(_row(console, "Nia")).to_contain_text("Disabled")
    remove = _row(console, "Nia").get_by_role("button", name="Remove")
    remove.click()
    expect(_row(console, "Nia").get_by_role("button", name=re.compile("for good"))).to_be_visible()
    screenshot(console, "accounts-disabled")

    again = new_context().new_page()
    people.enter_credentials(again, web_url, NEW, CHOSEN)
    expect(again.locator("#login-error")).not_to_be_empty()

    # The section in Spanish: a switch redraws what the script drew too (rows, buttons, the
    # select's name, the message, the armed Remove).
    console.get_by_label("Language of this page").select_option("es")
    expect(console.get_by_role("region", name="Cuentas")).to_be_visible()
    expect(console.locator("#accounts-message")).to_contain_text("Cuenta desactivada")
    expect(_row(console, "Nia")).to_contain_text("Desactivada")
    expect(
        _row(console, "Nia").get_by_role("button", name="¿Eliminar a Nia para siempre?")
    ).to_be_visible()
    volunteer_row = _row(console, "Demo Volunteer")
    expect(volunteer_row.get_by_label("Grupo de Demo Volunteer")).to_be_visible()
    expect(volunteer_row.get_by_role("button", name="Guardar el grupo")).to_be_visible()
    expect(_row(console, "Demo Supervisor")).to_contain_text("Supervisor/a, coordinador/a")
    assert a11y_problems(console) == []
    screenshot(console, "accounts-spanish")
    assert_clean(coordinator_ctx, seeker_ctx)


def test_the_accounts_section_fits_a_phone(
    local_stack: E2EStack, web_url: str, new_context: Any
) -> None:
    """Given a coordinator on a phone (375 px), when the Accounts section has come, then the
    console does not scroll sideways."""
    phone: Watched = new_context(phone=True)
    console = phone.new_page()
    people.sign_in(console, web_url, people.SUPERVISOR, available=False)
    expect(console.get_by_role("region", name="Accounts")).to_be_visible()
    expect(_row(console, "Demo Volunteer")).to_be_visible()
    assert horizontal_overflow(console) == 0
    screenshot(console, "accounts-phone")
    # The table scrolls inside its frame: its controls, scrolled into view, wrap cleanly.
    console.locator("#accounts-box .table-wrap").evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    screenshot(console, "accounts-phone-controls")
    assert_clean(phone)
