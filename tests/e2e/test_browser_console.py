"""The volunteer console in a real browser against the local stack: attention (issue 9).

Debian's Chromium under Playwright, as in test_browser.py: the title counts what the volunteer
has not seen, the tone and the browser notification fire only in the background and never
carry what anyone wrote, nothing that arrives moves the page or the focus, and a volunteer's
panel and a supervisor's alert name a chat by the same short reference.

Headless Chromium always reports its pages as visible and focused (bringing another page to
the front changes nothing), so the console's pages get an init script that lets the test say
whether the page is hidden or focused: it overrides `document.hidden`, `visibilityState` and
`hasFocus()` and fires `visibilitychange`, `blur` and `focus` as a browser does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e import people
from tests.e2e.browser import Watched, a11y_problems, assert_clean, screenshot

TITLE = "Kindred: volunteer console"

# The test decides whether the page is hidden and whether it has the focus.
LOOK_JS = """
(() => {
  let hidden = false;
  let focused = true;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get: () => (hidden ? 'hidden' : 'visible'),
  });
  Document.prototype.hasFocus = function () { return focused && !hidden; };
  window.__look = (nowHidden, nowFocused) => {
    const wasHidden = hidden;
    const wasFocused = focused;
    hidden = nowHidden;
    focused = nowFocused;
    if (hidden !== wasHidden) document.dispatchEvent(new Event('visibilitychange'));
    if (focused !== wasFocused) window.dispatchEvent(new FocusEvent(focused ? 'focus' : 'blur'));
  };
})();
"""

# The real Notification, wrapped: every permission request and every notification is recorded.
NOTIFICATION_JS = """
(() => {
  const Real = window.Notification;
  const seen = { asked: 0, shown: [] };
  window.__notifications = seen;
  if (!Real) return;
  function Recorded(title, options) {
    seen.shown.push({ title: String(title), body: String((options && options.body) || '') });
    return new Real(title, options);
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = (...args) => {
    seen.asked += 1;
    return Real.requestPermission(...args);
  };
  Recorded.prototype = Real.prototype;
  window.Notification = Recorded;
})();
"""

# Every tone the page starts (Web Audio oscillators) is counted.
TONE_JS = """
(() => {
  window.__tones = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
})();
"""


# ---- the console under watch ---------------------------------------------------------------


def console_context(new_context: Any, web_url: str, *, notifications: bool) -> Watched:
    """A context for a console page: visibility and focus in the test's hands, notifications
    and tones recorded; `notifications` grants the permission as a volunteer who allowed it."""
    watched: Watched = new_context()
    for script in (LOOK_JS, NOTIFICATION_JS, TONE_JS):
        watched.context.add_init_script(script)
    if notifications:
        watched.context.grant_permissions(["notifications"], origin=web_url.rstrip("/"))
    return watched


def look(page: Page, *, hidden: bool, focused: bool) -> None:
    page.evaluate("([hidden, focused]) => window.__look(hidden, focused)", [hidden, focused])


def notifications(page: Page) -> list[dict[str, str]]:
    shown: list[dict[str, str]] = page.evaluate("window.__notifications.shown")
    return shown


def tones(page: Page) -> int:
    count: int = page.evaluate("window.__tones")
    return count


def titled(count: int) -> str:
    return f"({count}) {TITLE}" if count else TITLE


def settled_scroll(page: Page) -> float:
    """window.scrollY after two frames, when layout and any scroll anchoring are done."""
    y: float = page.evaluate(
        "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame("
        "() => done(window.scrollY))))"
    )
    return y


def focused_id(page: Page) -> str:
    ident: str = page.evaluate("document.activeElement ? document.activeElement.id : ''")
    return ident


def screenshot_with_title(page: Page, name: str) -> Path:
    """A screenshot with a caption showing the document title, as a browser tab would (a
    headless page has no tab to capture); the caption is removed afterwards."""
    page.evaluate(
        """() => {
          const caption = document.createElement('div');
          caption.id = 'test-title-caption';
          caption.textContent = 'Browser tab title: ' + document.title;
          caption.style.cssText = 'background:#1f2933;color:#fff;font:600 15px system-ui;'
            + 'padding:6px 12px;border-bottom:3px solid #1a56db';
          document.body.prepend(caption);
        }"""
    )
    try:
        return screenshot(page, name)
    finally:
        page.evaluate("document.getElementById('test-title-caption').remove()")


def seeker_arrives(new_context: Any, web_url: str, intro: str) -> Page:
    page: Page = new_context().new_page()
    people.ask_for_volunteer(page, web_url, intro)
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    return page


def crisis_level() -> str:
    from kindred.safety import assess

    level = assess(people.CRISIS_TEXT).level
    assert level is not None, "the crisis detector no longer reads CRISIS_TEXT as a risk"
    return str(level)


# ---- tests ---------------------------------------------------------------------------------


def test_the_title_counts_a_new_chat_and_an_alert_while_hidden_and_clears_when_the_volunteer_looks(
    new_context: Any, web_url: str
) -> None:
    """Given a supervisor taking chats, with Sound ticked and notifications allowed,
    When, while the console is hidden, a seeker whose intro reads at risk is queued and matched,
    Then the title reads "(2) ..." (the alert about the waiting seeker, and the new chat), one
    tone and one notification each say "Risk alert (<level>)" and "New chat" with the seeker's
    alias and nothing they wrote; the alert reads as a seeker still waiting, with no chat;
    when the volunteer looks the title is plain again; a message while hidden counts again,
    and touching the chat reads it; a message while looking counts nothing."""
    level = crisis_level()
    watched = console_context(new_context, web_url, notifications=True)
    console = watched.new_page()
    people.sign_in(console, web_url, people.SUPERVISOR, available=False)
    expect(console).to_have_title(TITLE)
    expect(console.get_by_label("Sound")).not_to_be_checked()  # off until the volunteer says
    console.get_by_label("Sound").check()
    assert console.evaluate("localStorage.getItem('kindred.console.sound')") == "on"
    console.get_by_role("button", name="Start taking chats").click()
    expect(console.locator("#status-text")).to_contain_text("You're taking chats")
    expect(console.locator("#notify-state")).to_contain_text("notifications are on")
    tones_before = tones(console)

    look(console, hidden=True, focused=False)
    seeker = seeker_arrives(new_context, web_url, people.CRISIS_TEXT)
    panel = people.chat_panel(console)
    expect(panel).to_be_visible()
    alias = panel.locator("[data-role=alias]").inner_text().strip()
    expect(console).to_have_title(titled(2))

    console.wait_for_function("window.__notifications.shown.length >= 2")
    shown = sorted((n["title"], n["body"]) for n in notifications(console))
    assert shown == [("New chat", alias), (f"Risk alert ({level})", alias)]
    console.wait_for_function(f"window.__tones >= {tones_before + 3}")
    assert tones(console) == tones_before + 3  # two short beeps for the alert, one for the chat

    waiting = console.locator("#alerts li").first
    expect(waiting).to_contain_text(
        f"{alias} (seeker) · still waiting for a volunteer, no chat yet · moved ahead in the queue"
    )
    expect(waiting.locator(".chat-ref")).to_have_count(0)  # there is no chat to name yet
    screenshot_with_title(console, "console-title-count-desktop")

    # The volunteer comes back to the page: the chat and the alert are on screen, so read.
    look(console, hidden=False, focused=True)
    expect(console).to_have_title(TITLE)

    # Away again: the seeker's message counts; no tone, no notification for a message.
    look(console, hidden=True, focused=False)
    people.seeker_sends(seeker, "Are you still there?")
    expect(panel.locator(".msg-peer .msg-text")).to_have_text(["Are you still there?"])
    expect(console).to_have_title(titled(1))
    assert all("still there" not in n["title"] + n["body"] for n in notifications(console))

    # Shown but in another window's shadow (not focused): still unread, until the volunteer
    # clicks into the chat.
    look(console, hidden=False, focused=False)
    expect(console).to_have_title(titled(1))
    panel.locator("[data-role=log]").click()
    expect(console).to_have_title(TITLE)

    # Looking at it: a new message is seen as it arrives.
    look(console, hidden=False, focused=True)
    people.seeker_sends(seeker, "Thank you for staying.")
    expect(panel.locator(".msg-peer .msg-text").last).to_have_text("Thank you for staying.")
    expect(console).to_have_title(TITLE)
    assert len(notifications(console)) == 2
    assert a11y_problems(console) == []
    assert_clean(watched)


def test_notifications_are_asked_for_only_when_the_volunteer_starts_taking_chats(
    new_context: Any, web_url: str
) -> None:
    """Given a volunteer whose browser has not been asked about notifications,
    When the console loads and they sign in, Then nothing asks, and Sound is off;
    When they start taking chats, Then the browser is asked once; headless Chromium refuses,
    and nothing breaks: a chat still arrives, is counted in the title while the page is
    hidden, and goes both ways, with no notification. The Sound choice outlives a reload."""
    watched = console_context(new_context, web_url, notifications=False)
    console = watched.new_page()
    people.sign_in(console, web_url, available=False)
    assert console.evaluate("Notification.permission") == "default"
    assert console.evaluate("window.__notifications.asked") == 0
    expect(console.locator("#notify-state")).to_contain_text("will ask")
    expect(console.get_by_label("Sound")).not_to_be_checked()
    assert console.evaluate("localStorage.getItem('kindred.console.sound')") is None

    console.get_by_role("button", name="Start taking chats").click()
    expect(console.locator("#status-text")).to_contain_text("You're taking chats")
    console.wait_for_function("window.__notifications.asked === 1")
    expect(console.locator("#notify-state")).to_contain_text("notifications are off")

    look(console, hidden=True, focused=False)
    seeker = seeker_arrives(new_context, web_url, "Rough week, would like to talk.")
    expect(people.chat_panel(console)).to_be_visible()
    expect(console).to_have_title(titled(1))
    people.volunteer_sends(console, "Hi, I'm here. What's been going on?")
    expect(seeker.locator(".msg-peer .msg-text")).to_have_text(
        ["Hi, I'm here. What's been going on?"]
    )
    assert notifications(console) == []
    assert console.evaluate("window.__notifications.asked") == 1

    # The Sound choice is kept on this device (and only that: no other storage).
    console.get_by_label("Sound").check()
    console.reload()
    expect(console.get_by_label("E-mail")).to_be_visible()
    expect(console.get_by_label("Sound")).to_be_checked()
    assert console.evaluate("Object.keys(localStorage)") == ["kindred.console.sound"]
    assert console.evaluate("window.__notifications.asked") == 0  # a reload does not ask
    assert_clean(watched)


def test_a_new_chat_or_an_alert_neither_scrolls_the_page_nor_takes_the_focus(
    new_context: Any, web_url: str
) -> None:
    """Given a supervisor taking two chats at once in a narrow window (the alerts above the
    chats), who has just pressed "Start taking chats",
    When the first chat arrives, Then the focus stays on that button and the page does not move;
    When they are typing a reply in that chat, scrolled down the page, and a second seeker whose
    intro reads at risk arrives (an alert, then a new chat),
    Then the page has not scrolled, the reply box has not moved and keeps the focus and the
    draft, and a screen reader still hears of the new chat; and as the supervisor was looking
    at the page, no tone played and no notification was shown (both were allowed)."""
    watched = console_context(new_context, web_url, notifications=True)
    console = watched.new_page()
    console.set_viewport_size({"width": 720, "height": 760})
    people.sign_in(console, web_url, people.SUPERVISOR, available=False)
    console.get_by_label("Sound").check()
    tones_before = tones(console)
    console.get_by_label("Chats at once").select_option("2")
    console.get_by_role("button", name="Start taking chats").click()
    expect(console.locator("#status-text")).to_contain_text("0 of 2")
    assert focused_id(console) == "availability-toggle"
    top = settled_scroll(console)

    seeker_arrives(new_context, web_url, "Just need to talk something through.")
    first = console.locator(".chat-panel").first
    expect(first).to_be_visible()
    expect(console.locator("#announcer")).to_contain_text("New chat with ")
    assert settled_scroll(console) == top
    assert focused_id(console) == "availability-toggle"

    reply = first.get_by_label(re.compile("^Message to "))
    reply.click()
    reply.fill("I hear you. Take your time, I'm")
    # Scrolled down so that the reply box sits at the bottom of the window (a coordinator's
    # console has the board, the accounts and the practice panel below the chats).
    reply.evaluate("(box) => box.scrollIntoView({block: 'end'})")
    reply_id = reply.evaluate("(box) => box.id")
    assert focused_id(console) == reply_id
    before = settled_scroll(console)
    assert before > 0, "the page should be scrolled for this test to mean anything"
    reply_top = reply.evaluate("(box) => box.getBoundingClientRect().top")

    seeker_arrives(new_context, web_url, people.CRISIS_TEXT)
    expect(console.locator(".chat-panel")).to_have_count(2)
    second_alias = console.locator(".chat-panel").nth(1).locator("[data-role=alias]").inner_text()
    expect(console.locator("#alerts li").first).to_contain_text(second_alias)
    expect(console.locator("#announcer")).to_have_text(
        re.compile(f"^New chat with {re.escape(second_alias)}")
    )
    assert settled_scroll(console) == before
    assert focused_id(console) == reply_id
    assert reply.evaluate("(box) => box.getBoundingClientRect().top") == reply_top
    expect(reply).to_have_value("I hear you. Take your time, I'm")
    assert notifications(console) == []
    assert tones(console) == tones_before
    assert_clean(watched)


def test_the_volunteers_panel_and_the_supervisors_alert_name_the_same_chat(
    new_context: Any, web_url: str
) -> None:
    """Given a volunteer in a chat and a supervisor on shift (not taking chats),
    When the seeker writes that they want to kill themselves,
    Then the volunteer's panel shows "chat <8 characters>" in its header, and the supervisor's
    alert names the volunteer, the seeker and the same "chat <8 characters>";
    and when another seeker whose intro reads at risk waits (the volunteer is busy),
    Then the supervisor's alert says they are still waiting, with no chat to name (and the
    volunteer takes them once the first chat ends: no one is left in the queue, which the
    local stacks of later test modules share)."""
    supervisor = new_context()
    shift = supervisor.new_page()
    people.sign_in(shift, web_url, people.SUPERVISOR, available=False)
    volunteer = new_context()
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    seeker = seeker_arrives(new_context, web_url, "Things have been heavy.")

    panel = people.chat_panel(console)
    session_id = panel.get_attribute("data-session-id") or ""
    assert len(session_id) >= 8
    ref = f"chat {session_id[:8]}"
    expect(panel.locator(".panel-head [data-role=ref]")).to_have_text(ref)
    alias = panel.locator("[data-role=alias]").inner_text().strip()

    people.seeker_sends(seeker, people.CRISIS_TEXT)
    alert = shift.locator("#alerts li").first
    expect(alert).to_contain_text("Risk of suicide or self-harm")
    expect(alert.locator(".chat-ref")).to_have_text(ref)
    expect(alert).to_contain_text(f"{alias} (seeker) with Demo Volunteer (volunteer) · {ref}")

    waiting = new_context().new_page()
    people.ask_for_volunteer(waiting, web_url, people.CRISIS_TEXT)
    expect(shift.locator("#alerts li")).to_have_count(2)
    newest = shift.locator("#alerts li").first
    expect(newest).to_contain_text(
        "(seeker) · still waiting for a volunteer, no chat yet · moved ahead in the queue"
    )
    expect(newest.locator(".chat-ref")).to_have_count(0)
    expect(newest).to_have_attribute("data-session-id", "")
    for page in (console, shift):
        assert a11y_problems(page) == []
    screenshot(console, "volunteer-chat-reference-desktop")
    screenshot(shift, "supervisor-alert-chat-reference-desktop")

    console.locator(".chat-panel").first.get_by_role("button", name="End chat").click()
    expect(waiting.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    expect(console.locator(".chat-panel")).to_have_count(2)
    assert_clean(volunteer, supervisor)
