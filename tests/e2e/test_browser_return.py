"""Coming back with a return key (issue 13) in a real browser against the local stack: a seeker
who opted in meets the same volunteer again, and one who did not cannot be linked.

Two volunteers on shift (the demo volunteer and supervisor). Debian's Chromium under
Playwright, as in test_browser.py. Screenshots: test-artifacts/return-optin.png,
return-optin-spanish.png, return-choice.png, return-choice-spanish.png,
return-same-volunteer.png, return-not-linked.png.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e import people
from tests.e2e.browser import a11y_problems, assert_clean, screenshot
from tests.e2e.conftest import E2EStack

STORE = "kindred.returnKey"  # web/js/return-key.js


def _items(local_stack: E2EStack) -> list[dict[str, Any]]:
    table = local_stack.stack.environment["TABLE_NAME"]
    dynamodb = local_stack.stack.client("dynamodb")
    return list(dynamodb.scan(TableName=table, ConsistentRead=True)["Items"])


def _return_items(local_stack: E2EStack) -> list[dict[str, Any]]:
    return [i for i in _items(local_stack) if i["pk"]["S"].startswith("RETURN#")]


def _ask(page: Page, web_url: str) -> str:
    """The seeker asks for a volunteer from the start page and is matched: the alias."""
    page.get_by_role("button", name="Talk to a volunteer").click()
    heading = page.get_by_role("heading", name=re.compile("^You're talking with "))
    expect(heading).to_be_visible()
    return page.locator("#peer-alias").inner_text()


def _end(page: Page) -> None:
    page.get_by_role("button", name="End chat").click()
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()


def _in_spanish(page: Page, name: str, label: str) -> None:
    """Switches the page to Spanish: the return key's words are redrawn; a screenshot."""
    page.get_by_label("Language of this page").select_option("es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_label(label)).to_be_visible()
    assert a11y_problems(page) == []
    screenshot(page, name)


def _back_in_english(page: Page) -> None:
    page.get_by_label("Idioma de esta página").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_seeker_who_opted_in_meets_the_same_volunteer_and_one_who_did_not_is_not_linked(
    new_context: Any, web_url: str, local_stack: E2EStack
) -> None:
    """Given the volunteer and the supervisor both taking chats,
    When a seeker chats with one of them, ticks "Keep a key on this device" after the chat,
    comes back on a new page and asks to talk to that volunteer again,
    Then the same volunteer takes them, although the other (idle longer) is free; the table
    holds one RETURN item: the key's hash, the volunteer's account id and an expiry only;
    Quick exit takes the key off the device.
    When a second seeker (another browser) chats, does not tick the box and comes back,
    Then their device holds no key, the start page offers no one, and the table holds no
    link of theirs: still only the first seeker's RETURN item, and no connection or queue
    entry but the first seeker's carries a key's hash."""
    staff = [new_context(), new_context()]
    consoles = [watched.new_page() for watched in staff]
    people.sign_in(consoles[0], web_url, people.VOLUNTEER)
    people.sign_in(consoles[1], web_url, people.SUPERVISOR)

    # -- the first seeker: a chat, and the opt-in on the feedback screen -----------------------
    first = new_context()
    page = first.new_page()
    page.goto(web_url)
    met = _ask(page, web_url)
    people.seeker_sends(page, "Thank you for listening last time.")
    _end(page)
    keep = page.get_by_label(re.compile(r"^Keep a key on this device so you can ask for\s"))
    expect(keep).to_be_visible()
    expect(keep).not_to_be_checked()  # off by default
    expect(page.locator("label[for=return-keep]")).to_contain_text(met)
    keep.check()
    expect(page.locator("#return-optin-status")).to_contain_text("Kept on this device")
    stored = page.evaluate(f"() => JSON.parse(localStorage.getItem('{STORE}'))")
    assert stored["alias"] == met
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", stored["key"])  # 256 bits, base64url
    assert a11y_problems(page) == []
    screenshot(page, "return-optin")
    _in_spanish(page, "return-optin-spanish", "Guardar una clave en este dispositivo")
    expect(page.locator("#return-optin-status")).to_contain_text("Guardada en este dispositivo")
    expect(page.locator("#return-optin-hint")).to_contain_text(re.compile(r"durante \d+ días;"))
    _back_in_english(page)
    expect(page.locator("#return-optin-status")).to_contain_text("Kept on this device")

    [link] = _return_items(local_stack)
    assert set(link) == {"pk", "sk", "userId", "expiresAt"}
    assert stored["key"] not in str(_items(local_stack))

    # -- the first seeker comes back: the same volunteer, though the other is free ---------------
    page.close()
    page = first.new_page()
    page.goto(web_url)
    choice = page.get_by_label(f"Talk to {met} again if they are on shift")
    expect(choice).to_be_checked()
    expect(page.get_by_label("Anyone who is free")).not_to_be_checked()
    screenshot(page, "return-choice")
    _in_spanish(page, "return-choice-spanish", f"Hablar otra vez con {met}, si está de turno")
    expect(page.locator("#return-box legend")).to_have_text(f"La última vez hablaste con {met}")
    _back_in_english(page)
    expect(choice).to_be_checked()
    assert _ask(page, web_url) == met
    people.seeker_sends(page, "It's me again.")
    # The other volunteer was free all along: one console had both chats, the other none.
    assert sorted(c.locator(".chat-panel").count() > 0 for c in consoles) == [False, True]
    screenshot(page, "return-same-volunteer")
    _end(page)
    assert len(_return_items(local_stack)) == 1
    # Quick exit takes the key off the device (the link on the server expires with its TTL).
    page.get_by_role("button", name="Quick exit").click()
    page.wait_for_url("https://www.wikipedia.org/**")
    page = first.new_page()
    page.goto(web_url)
    expect(page.get_by_role("button", name="Talk to a volunteer")).to_be_visible()
    assert page.evaluate(f"() => localStorage.getItem('{STORE}')") is None
    expect(page.locator("#return-box")).to_be_hidden()

    # -- a second seeker who does not opt in -----------------------------------------------------
    second = new_context()
    visit = second.new_page()
    visit.goto(web_url)
    _ask(visit, web_url)
    _end(visit)
    expect(visit.get_by_label(re.compile("^Keep a key on this device"))).not_to_be_checked()
    visit.close()
    visit = second.new_page()
    visit.goto(web_url)
    expect(visit.get_by_role("button", name="Talk to a volunteer")).to_be_visible()
    expect(visit.locator("#return-box")).to_be_hidden()
    assert visit.evaluate(f"() => localStorage.getItem('{STORE}')") is None
    _ask(visit, web_url)
    screenshot(visit, "return-not-linked")
    _end(visit)

    items = _items(local_stack)
    # Still the first seeker's link alone (its expiry renewed by their second chat).
    links = [i for i in items if i["pk"]["S"].startswith("RETURN#")]
    assert [(i["pk"], i["userId"]) for i in links] == [(link["pk"], link["userId"])]
    holders = [i for i in items if "returnHash" in i or "preferredUser" in i]
    digest = link["pk"]["S"].removeprefix("RETURN#")
    assert all(i["returnHash"]["S"] == digest for i in holders), holders
    assert all(i["pk"]["S"].startswith("CONN#") for i in holders)
    assert_clean(first, second, *staff)
