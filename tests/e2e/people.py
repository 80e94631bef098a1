"""What the people of the browser tests do on the pages: staff sign in, a seeker asks, both write.

The browser tests call these as `people.sign_in(console, web_url, people.SUPERVISOR)`; the
accounts are the local stack's demo accounts (local/demo_accounts.py).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from playwright.sync_api import Locator, Page, expect

VOLUNTEER = "volunteer@example.org"
SUPERVISOR = "supervisor@example.org"
PASSWORD = "Kindred-Local-1"
CRISIS_TEXT = "I want to kill myself"


def enter_credentials(page: Page, web_url: str, email: str, password: str = PASSWORD) -> None:
    """Opens the console and submits its sign-in form (in English) with this e-mail and password."""
    page.goto(urljoin(web_url, "volunteer.html"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, web_url: str, email: str = VOLUNTEER, *, available: bool = True) -> None:
    enter_credentials(page, web_url, email)
    expect(page.get_by_role("heading", name="Your availability")).to_be_visible()
    if available:
        page.get_by_role("button", name="Start taking chats").click()
        expect(page.locator("#status-text")).to_contain_text("You're taking chats")


def ask_for_volunteer(page: Page, web_url: str, intro: str, topic: str = "Anxiety") -> None:
    page.goto(web_url)
    page.get_by_label(topic, exact=True).check()
    page.get_by_label("Anything you'd like your volunteer to know first?").fill(intro)
    page.get_by_role("button", name="Talk to a volunteer").click()


def seeker_sends(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.locator("#composer").get_by_role("button", name="Send").click()


def seeker_rates(
    page: Page, rating: int, *, send: str = "Send feedback", thanks: str = "Thank you"
) -> None:
    """After the chat: the seeker picks a rating and sends the feedback form (the button and the
    thanks in the page's language), then sees the thanks."""
    page.get_by_label(str(rating), exact=True).check()
    page.get_by_role("button", name=send).click()
    expect(page.get_by_role("heading", name=thanks)).to_be_visible()


def chat_panel(console: Page) -> Locator:
    return console.locator(".chat-panel").last


def volunteer_sends(console: Page, text: str) -> None:
    panel = chat_panel(console)
    panel.get_by_label(re.compile("^Message to ")).fill(text)
    panel.get_by_role("button", name="Send").click()


def matched_pair(new_context: Any, web_url: str, intro: str, *, phone: bool = False) -> Any:
    """A signed-in, available volunteer and a seeker who asked for someone: both matched."""
    volunteer = new_context()
    seeker = new_context(phone=phone)
    console = volunteer.new_page()
    sign_in(console, web_url)
    page = seeker.new_page()
    ask_for_volunteer(page, web_url, intro)
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    expect(chat_panel(console)).to_be_visible()
    return volunteer, console, seeker, page
