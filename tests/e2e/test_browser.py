"""The web frontend in a real browser against the local stack: Debian's Chromium, Playwright.

A seeker page and a volunteer console run in two browser contexts (two people, nothing
shared) and talk through the local WebSocket gateway, the deployed handlers and local AWS.
Screenshots of both pages, desktop and phone, land in test-artifacts/.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from playwright.sync_api import WebSocketRoute, expect

from tests.e2e import people
from tests.e2e.browser import (
    EXIT_URL,
    a11y_problems,
    assert_clean,
    horizontal_overflow,
    screenshot,
)

# The final detector rates this imminent (an overdose just taken); see the levels test below.
IMMINENT_TEXT = "I took a whole bottle of pills an hour ago and I'm starting to feel dizzy"
# What the volunteer's panel says of each level, and the tag of a supervisor's alert.
LEVEL_WORDS = {"concern": "Concern", "high": "High", "imminent": "IMMINENT: act now"}
ALERT_TAGS = {"concern": "Level: concern", "high": "Level: high", "imminent": "Level: IMMINENT"}
HTML_PAYLOAD = (
    '<img src=x onerror="window.__injected = 1"><b>bold</b><script>window.__injected = 2</script>'
)


def ask_for_country(country: str) -> Any:
    """A WebSocket route that adds `country` to the page's `resources` action."""

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("action") == "resources":
                frame["country"] = country
            server.send(json.dumps(frame))

        ws.on_message(from_page)

    return route


# ---- tests ---------------------------------------------------------------------------------


def test_a_seeker_and_a_volunteer_chat_in_two_browsers(new_context: Any, web_url: str) -> None:
    """Given a volunteer who signed in through the form and is available,
    When a seeker picks a topic, writes an intro and asks,
    Then both see the match, the volunteer sees the intro, and messages go both ways."""
    volunteer, console, seeker, page = people.matched_pair(
        new_context, web_url, "Work has been overwhelming lately."
    )

    panel = people.chat_panel(console)
    expect(panel.locator("[data-role=intro]")).to_have_text("Work has been overwhelming lately.")
    expect(panel.locator("[data-role=topics]")).to_contain_text("Anxiety")
    alias = page.locator("#peer-alias").inner_text()
    assert alias.strip()
    expect(console.locator("#status-text")).to_contain_text("1 of 1 in progress")

    page.get_by_label("Your message").fill("Hello, is anyone there?")
    expect(panel.locator("[data-role=typing]")).to_contain_text("is typing")
    page.locator("#composer").get_by_role("button", name="Send").click()
    expect(panel.locator(".msg-peer .msg-text")).to_have_text(["Hello, is anyone there?"])

    people.volunteer_sends(console, "Hi, I'm here and I'm listening. What's been happening?")
    expect(page.locator(".msg-peer .msg-text")).to_have_text(
        ["Hi, I'm here and I'm listening. What's been happening?"]
    )
    expect(page.locator(".msg-peer .msg-who")).to_have_text([alias])

    people.seeker_sends(page, "Thank you. It's mostly deadlines.")
    expect(panel.locator(".msg-peer .msg-text")).to_have_text(
        ["Hello, is anyone there?", "Thank you. It's mostly deadlines."]
    )

    assert a11y_problems(page) == []
    assert a11y_problems(console) == []
    screenshot(page, "seeker-chat-desktop")
    screenshot(console, "volunteer-chat-desktop")

    # The seeker ends the chat: both sides see it, the seeker gets the feedback form.
    page.get_by_role("button", name="End chat").click()
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
    expect(panel.locator("[data-role=panel-notice]")).to_contain_text("ended the chat")
    people.seeker_rates(page, 4)
    assert_clean(volunteer, seeker)


def test_a_crisis_message_shows_crisis_lines_and_alerts_volunteer_and_supervisor(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker in a chat, and a supervisor on shift,
    When the seeker writes that they want to kill themselves,
    Then the seeker sees the crisis panel (focused, with tel: links),
    and the volunteer and the supervisor see the risk alert."""
    volunteer, console, seeker, page = people.matched_pair(
        new_context, web_url, "I don't know who else to talk to.", phone=True
    )
    supervisor = new_context()
    shift = supervisor.new_page()
    people.sign_in(shift, web_url, people.SUPERVISOR, available=False)
    expect(shift.get_by_role("heading", name="Alerts from all chats")).to_be_visible()

    people.seeker_sends(page, people.CRISIS_TEXT)

    crisis = page.locator("#crisis-panel")
    expect(crisis).to_be_visible()
    expect(crisis).to_be_focused()
    expect(crisis.get_by_role("heading")).to_have_text("You don't have to face this alone")
    expect(crisis.locator(".line").first).to_be_visible()  # the lines the server sent
    expect(crisis).to_contain_text(
        "If you are in immediate danger, call your local emergency number."
    )
    screenshot(page, "seeker-crisis-phone")

    expect(people.chat_panel(console).locator("[data-role=risk]")).to_be_visible()
    expect(people.chat_panel(console)).to_have_class(re.compile(r"\bhas-risk\b"))
    expect(shift.locator("#alerts li").first).to_contain_text("Risk of suicide or self-harm")
    for p in (page, console, shift):
        assert a11y_problems(p) == []

    # The chat goes on.
    page.get_by_role("button", name="Back to the chat").click()
    expect(page.get_by_label("Your message")).to_be_focused()
    people.volunteer_sends(console, "Thank you for telling me. I'm here with you.")
    expect(page.locator(".msg-peer .msg-text").last).to_have_text(
        "Thank you for telling me. I'm here with you."
    )
    assert_clean(volunteer, seeker, supervisor)


def test_an_imminent_message_and_the_volunteers_judgement_show_the_level_to_both_consoles(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker in a chat with the volunteer, and a supervisor on shift,
    When the seeker writes that they took a whole bottle of pills an hour ago,
    Then the volunteer's panel and the supervisor's alerts show the chat's level: what
    kindred.safety.assess reads in those words (imminent once the detector knows an overdose
    just taken; none with this tree's interim rules, and then no alert yet);
    and when the volunteer sets the level with the "Risk level" control, to concern and then
    to imminent (with the keyboard),
    Then the panel says IMMINENT in words, not only in colour, and the supervisor's newest alert
    names the level, the volunteer, the seeker's alias and the chat; the seeker has crisis
    lines; every rise gave one alert (two in all, whatever the detector read)."""
    from kindred.safety import assess

    expected = assess(IMMINENT_TEXT).level
    supervisor = new_context()
    shift = supervisor.new_page()
    people.sign_in(shift, web_url, people.SUPERVISOR, available=False)
    volunteer, console, seeker, page = people.matched_pair(
        new_context, web_url, "I don't know where to start."
    )
    panel = people.chat_panel(console)
    seeker_alias = panel.locator("[data-role=alias]").inner_text().strip()
    session_id = panel.get_attribute("data-session-id") or ""
    level_now = panel.locator("[data-role=level-now]")
    expect(level_now).to_have_attribute("data-level", "none")
    expect(level_now).to_contain_text("None noted")
    who = f"{seeker_alias} (seeker) with Demo Volunteer (volunteer)"

    people.seeker_sends(page, IMMINENT_TEXT)
    expect(panel.locator(".msg-peer .msg-text")).to_have_text([IMMINENT_TEXT])
    if expected is not None:
        expect(level_now).to_have_attribute("data-level", expected)
        expect(level_now).to_contain_text(LEVEL_WORDS[expected])
        expect(panel.locator("[data-role=risk]")).to_be_visible()
        newest = shift.locator("#alerts li").first
        expect(newest).to_contain_text(ALERT_TAGS[expected])
        expect(newest).to_contain_text(who)
        expect(newest).to_contain_text(f"chat {session_id[:8]}")
        expect(page.locator("#crisis-panel")).to_be_visible()
    else:
        expect(level_now).to_contain_text("None noted")
        expect(panel.locator("[data-role=risk]")).to_be_hidden()
        expect(shift.locator("#alerts-empty")).to_be_visible()
    screenshot(console, "volunteer-level-after-message-desktop")

    # The volunteer's own judgement, with the control; the button is pressed from the keyboard.
    control = panel.get_by_label("Risk level", exact=True)
    set_level = panel.get_by_role("button", name="Set level")
    for level, words in (("concern", "Concern"), ("imminent", "IMMINENT: act now")):
        control.select_option(level)
        set_level.focus()
        console.keyboard.press("Enter")
        # The console says the server took it (to a screen reader too), then shows it.
        expect(console.locator("#announcer")).to_have_text(
            f"Risk level set to {level} for your chat with {seeker_alias}."
        )
        expect(level_now).to_have_attribute("data-level", level)
        expect(level_now).to_contain_text(words)
    expect(control).to_have_value("imminent")
    expect(panel).to_have_class(re.compile(r"\bis-imminent\b"))
    expect(panel.locator("[data-role=risk]")).to_contain_text("IMMINENT RISK")

    newest = shift.locator("#alerts li").first
    expect(newest).to_contain_text(ALERT_TAGS["imminent"])
    expect(newest).to_contain_text("Risk of suicide or self-harm")
    expect(newest).to_contain_text(who)
    expect(newest).to_contain_text(f"chat {session_id[:8]}")
    expect(shift.locator("#alerts li")).to_have_count(2)
    expect(page.locator("#crisis-panel")).to_be_visible()
    for p in (console, shift):
        assert a11y_problems(p) == []
    screenshot(console, "volunteer-level-imminent-desktop")
    screenshot(shift, "supervisor-alert-imminent-desktop")
    assert_clean(volunteer, seeker, supervisor)


def test_quick_exit_leaves_nothing_behind(new_context: Any, web_url: str) -> None:
    """Given a seeker in a chat (the page keeps a resume token in sessionStorage),
    When they press Quick exit,
    Then the chat ends for the volunteer, the tab is on the neutral site, going back does
    not return to the chat, and no storage or cookie of the page is left."""
    volunteer, console, seeker, page = people.matched_pair(
        new_context, web_url, "Just need to talk."
    )
    people.seeker_sends(page, "Someone might see my screen.")
    assert page.evaluate("sessionStorage.length") > 0  # the resume token, before the exit

    page.get_by_role("button", name="Quick exit").click()
    page.wait_for_url(EXIT_URL)
    assert seeker.exits == [EXIT_URL]
    expect(people.chat_panel(console).locator("[data-role=panel-notice]")).to_be_visible()

    state = seeker.context.storage_state()
    assert state["cookies"] == []
    assert all(origin["localStorage"] == [] for origin in state["origins"])

    page.go_back()
    assert not page.url.startswith(web_url)  # history was replaced, not added to

    # Back on the page in the same tab (sessionStorage lives per tab): nothing was kept.
    page.goto(web_url)
    expect(page.get_by_role("heading", name="Talk with someone who will listen")).to_be_visible()
    assert page.evaluate("[sessionStorage.length, localStorage.length]") == [0, 0]
    assert page.evaluate("document.cookie") == ""
    assert_clean(volunteer, seeker)


def test_html_in_messages_and_intro_is_shown_as_text(new_context: Any, web_url: str) -> None:
    """Given a chat, When either side writes HTML (in a message, or in the intro),
    Then it shows as the literal characters: no element is created, no script runs."""
    volunteer, console, seeker, page = people.matched_pair(new_context, web_url, HTML_PAYLOAD)
    panel = people.chat_panel(console)
    expect(panel.locator("[data-role=intro]")).to_have_text(HTML_PAYLOAD)

    people.seeker_sends(page, HTML_PAYLOAD)
    people.volunteer_sends(console, HTML_PAYLOAD)

    expect(panel.locator(".msg-peer .msg-text")).to_have_text([HTML_PAYLOAD])
    expect(page.locator(".msg-peer .msg-text")).to_have_text([HTML_PAYLOAD])
    for p in (page, console):
        assert p.locator(".chat-log img, .chat-log b, .chat-log script, .intro-box b").count() == 0
        assert p.evaluate("window.__injected") is None
    assert_clean(volunteer, seeker)


def test_pages_pass_basic_accessibility_checks_without_console_errors(
    new_context: Any, web_url: str
) -> None:
    """Every control has a label, every button a name, <html> a lang, text has AA contrast;
    no console errors; on the seeker page (welcome, urgent help) and the console (login,
    signed in). The chat and crisis tests run the same checks on their screens."""
    seeker = new_context()
    page = seeker.new_page()
    page.goto(web_url)
    expect(page.get_by_role("heading", name="Talk with someone who will listen")).to_be_visible()
    assert a11y_problems(page) == []
    expect(page.get_by_role("button", name="Quick exit")).to_be_visible()

    # Crisis lines are one tap away, before any chat. The page asks for the deployment's
    # country; the local stack has none, so the interceptor asks for the US lines instead,
    # which have a phone number and an SMS number to show as links.
    page.route_web_socket(re.compile(r"^wss?://"), ask_for_country("US"))
    page.get_by_role("button", name="Need urgent help?").click()
    urgent = page.locator("#urgent-panel")
    expect(urgent).to_be_focused()
    expect(urgent).to_contain_text(
        "If you are in immediate danger, call your local emergency number."
    )
    expect(urgent.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(urgent.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    assert a11y_problems(page) == []
    page.keyboard.press("Tab")  # focus moves on into the panel, in order
    assert page.evaluate("document.getElementById('urgent-panel').contains(document.activeElement)")

    volunteer = new_context()
    console = volunteer.new_page()
    console.goto(urljoin(web_url, "volunteer.html"))
    expect(console.get_by_label("E-mail")).to_be_visible()
    assert a11y_problems(console) == []
    console.get_by_label("E-mail").fill(people.VOLUNTEER)
    console.get_by_label("Password", exact=True).fill("not-the-password")
    console.get_by_role("button", name="Sign in").click()
    expect(console.locator("#login-error")).to_contain_text("don't match")
    people.sign_in(console, web_url, available=False)
    assert a11y_problems(console) == []
    screenshot(page, "seeker-welcome-desktop")
    screenshot(console, "volunteer-console-desktop")
    # A failed sign-in is a 400 from Cognito, which Chromium logs as a failed resource.
    volunteer.errors[:] = [e for e in volunteer.errors if "status of 400" not in e]
    assert_clean(seeker, volunteer)


def test_phone_width_has_no_sideways_scrolling(new_context: Any, web_url: str) -> None:
    """At 375 px wide, neither page scrolls sideways: welcome, chat with a long unbroken
    word, the volunteer console with a chat."""
    volunteer, console, seeker, page = people.matched_pair(
        new_context, web_url, "On my phone.", phone=True
    )
    long_word = "a" * 300
    people.seeker_sends(page, long_word)
    people.volunteer_sends(console, "https://example.org/" + "x" * 200)
    expect(page.locator(".msg-peer")).to_have_count(1)
    assert horizontal_overflow(page) == 0
    screenshot(page, "seeker-chat-phone")

    phone_console = new_context(phone=True).new_page()
    people.sign_in(phone_console, web_url, people.SUPERVISOR, available=False)
    assert horizontal_overflow(phone_console) == 0
    screenshot(phone_console, "volunteer-console-phone")

    welcome = new_context(phone=True).new_page()
    welcome.goto(web_url)
    expect(welcome.get_by_role("button", name="Talk to a volunteer")).to_be_visible()
    assert horizontal_overflow(welcome) == 0
    screenshot(welcome, "seeker-welcome-phone")

    console.set_viewport_size({"width": 375, "height": 740})
    assert horizontal_overflow(console) == 0
    screenshot(console, "volunteer-chat-phone")
    assert_clean(volunteer, seeker)


def test_the_seeker_page_orders_messages_by_seq_and_resumes_after_a_drop(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker page whose socket runs through an interceptor,
    When the volunteer's first message (seq 0) arrives after their second (seq 1),
    Then the page shows them in seq order; and when the connection drops,
    the page reconnects by itself with ?resume=<the latest resume token>."""
    volunteer = new_context()
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    seeker = new_context()
    page = seeker.new_page()
    sockets: list[WebSocketRoute] = []
    tokens: list[str] = []
    held: list[str | bytes] = []

    def intercept(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        sockets.append(ws)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "queued":
                tokens.append(frame["resumeToken"])
            if frame.get("type") == "message" and frame.get("seq") == 0:
                held.append(message)  # overtaken by seq 1, as concurrent handlers can do
                return
            ws.send(message)
            if frame.get("type") == "message" and frame.get("seq") == 1:
                for late in held:
                    ws.send(late)

        server.on_message(from_server)

    page.route_web_socket(re.compile(r"^wss?://"), intercept)
    people.ask_for_volunteer(page, web_url, "Testing the order of things.")
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    expect(people.chat_panel(console)).to_be_visible()
    assert page.evaluate("sessionStorage.length") > 0

    people.volunteer_sends(console, "First, hello.")
    people.volunteer_sends(console, "Second, how are you?")
    expect(page.locator(".msg-peer .msg-text")).to_have_text(
        ["First, hello.", "Second, how are you?"]
    )
    assert len(held) == 1  # the interceptor really did deliver seq 0 last

    sockets[0].close(code=4000, reason="network drop")
    expect(page.locator("#notice")).to_contain_text("connected again")
    assert len(sockets) == 2
    query = parse_qs(urlsplit(sockets[1].url).query)
    assert query["resume"] == [tokens[-1]]
    assert query["lang"] == ["en"]
    assert_clean(volunteer, seeker)


def test_a_message_the_gateway_throttles_is_named_to_the_seeker_as_maybe_not_arrived(
    new_context: Any, web_url: str
) -> None:
    """Given a seeker in a chat whose next `message` API Gateway's stage throttle refuses (the
    interceptor answers it as the gateway does: {"message": "Too Many Requests", ...}, a frame
    with no `type` that runs no handler, tests/e2e/test_ws_stage_throttle.py),
    When the seeker sends it,
    Then the volunteer never gets it, and the seeker's page says that what they sent may not
    have arrived and to send it again; sent again, it arrives."""
    volunteer = new_context()
    console = volunteer.new_page()
    people.sign_in(console, web_url)
    seeker = new_context()
    page = seeker.new_page()
    throttled: list[dict[str, Any]] = []

    def intercept(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("action") == "message" and not throttled:
                throttled.append(frame)
                answer = {"message": "Too Many Requests", "connectionId": "c", "requestId": "r"}
                ws.send(json.dumps(answer))
                return
            server.send(message)

        ws.on_message(from_page)
        server.on_message(ws.send)

    page.route_web_socket(re.compile(r"^wss?://"), intercept)
    people.ask_for_volunteer(page, web_url, "Testing a busy night.")
    expect(page.get_by_role("heading", name=re.compile("^You're talking with "))).to_be_visible()
    panel = people.chat_panel(console)
    expect(panel).to_be_visible()

    people.seeker_sends(page, "Are you still there?")
    expect(page.locator("#notice")).to_contain_text("may not have arrived")
    expect(page.locator("#notice")).to_contain_text("send it again")
    screenshot(page, "seeker-gateway-throttled")
    assert [f["text"] for f in throttled] == ["Are you still there?"]
    expect(panel.locator(".msg-peer .msg-text")).to_have_count(0)

    people.seeker_sends(page, "Are you still there?")
    expect(panel.locator(".msg-peer .msg-text")).to_have_text(["Are you still there?"])
    assert_clean(volunteer, seeker)


def test_the_console_signs_in_as_a_browser_does_with_a_cors_preflight(
    browser: Any, web_url: str
) -> None:
    """Given a browser context that lets Chromium make its own requests (the other tests route
    every request through Playwright, which hides the CORS preflight), when the demo volunteer
    signs in, then the console shows the availability panel: the local Cognito answers the
    preflight of the cross-origin sign-in as Cognito does, so `make run` works in a browser."""
    context = browser.new_context()
    try:
        console = context.new_page()
        people.sign_in(console, web_url, available=False)
    finally:
        context.close()
