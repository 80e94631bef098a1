"""The pages under their Content-Security-Policy in a real browser (issue 11, hardening).

Debian's Chromium under Playwright against the local stack, as in test_browser.py. Every
violation the browser reports (the `securitypolicyviolation` event) is recorded by an init
script: a whole chat on both pages raises none, and what an attacker would inject (an inline
script, an inline event handler, an inline style, a script from another site) is blocked.
"""

from __future__ import annotations

import re
import urllib.request
from typing import Any
from urllib.parse import urljoin

from playwright.sync_api import Page, expect

from tests.e2e import people
from tests.e2e.browser import Watched, assert_clean

RECORD_VIOLATIONS_JS = """
(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push({ directive: e.effectiveDirective, blocked: e.blockedURI });
  });
})();
"""

# What each page's policy must say (docs/operations.md argues each directive).
PAGE_POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self' wss: https: ws: http://127.0.0.1:*",
    "base-uri": "'none'",
    "form-action": "'none'",
}


def policy(text: str) -> dict[str, str]:
    directives = (d.strip().split(" ", 1) for d in text.split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def meta_policy(page: Page) -> dict[str, str]:
    content = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert content, "the page has no Content-Security-Policy <meta>"
    return policy(content)


def violations(page: Page) -> list[dict[str, str]]:
    found: list[dict[str, str]] = page.evaluate("window.__csp")
    return found


def recorded(watched: Watched) -> Watched:
    watched.context.add_init_script(RECORD_VIOLATIONS_JS)
    return watched


def test_both_pages_serve_their_policy_and_the_header_adds_frame_ancestors(web_url: str) -> None:
    """Given the local web server, when each page is fetched, then its <meta> policy is the
    documented one, and the server's Content-Security-Policy header is the same plus
    `frame-ancestors 'none'`, which only a header can carry."""
    for name in ("", "volunteer.html"):
        with urllib.request.urlopen(urljoin(web_url, name), timeout=10) as response:
            html = response.read().decode()
            header = response.headers["Content-Security-Policy"]
        found = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
        assert found, f"{name or 'index.html'} has no Content-Security-Policy <meta>"
        assert policy(found.group(1)) == PAGE_POLICY
        assert policy(header) == {**PAGE_POLICY, "frame-ancestors": "'none'"}
        assert "<style" not in html and " style=" not in html
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], "an inline script"


def test_a_whole_chat_on_both_pages_raises_no_violation(new_context: Any, web_url: str) -> None:
    """Given both pages under their policy (the console signs in to Cognito and both talk over
    the WebSocket, hosts that config.json names), when a volunteer signs in, a seeker is
    matched, they write to each other, the seeker opens the crisis lines and ends the chat and
    gives feedback, then the stylesheet applied, neither page reported a single violation, and
    there were no console errors."""

    def watched_new_context(**kwargs: Any) -> Watched:
        return recorded(new_context(**kwargs))

    volunteer, console, seeker, page = people.matched_pair(
        watched_new_context, web_url, "Work has been overwhelming lately."
    )
    panel = people.chat_panel(console)
    expect(panel.locator("[data-role=intro]")).to_have_text("Work has been overwhelming lately.")
    people.seeker_sends(page, "Hello, is anyone there?")
    expect(panel.locator(".msg-peer .msg-text")).to_have_text(["Hello, is anyone there?"])
    people.volunteer_sends(console, "I'm here and listening.")
    expect(page.locator(".msg-peer .msg-text")).to_have_text(["I'm here and listening."])
    page.get_by_role("button", name="Need urgent help?").click()
    expect(page.locator("#urgent-panel")).to_be_visible()
    page.get_by_role("button", name="Close").first.click()
    page.get_by_role("button", name="End chat").click()
    expect(page.get_by_role("heading", name="The chat has ended")).to_be_visible()
    people.seeker_rates(page, 4)

    for each in (page, console):
        assert meta_policy(each) == PAGE_POLICY
        assert each.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == (
            "sticky"
        ), "the stylesheet did not apply"
        assert violations(each) == []
    assert_clean(volunteer, seeker)


INJECT_JS = """
async () => {
  const inline = document.createElement('script');
  inline.textContent = 'window.__injected = "inline script"';
  document.head.appendChild(inline);
  const handler = document.createElement('img');
  handler.setAttribute('onerror', 'window.__injected = "event handler"');
  handler.src = 'data:,';  // not an image: its error event fires
  document.body.appendChild(handler);
  const offsite = document.createElement('script');
  offsite.src = 'https://attacker.example/steal.js';
  document.head.appendChild(offsite);
  const styled = document.createElement('p');
  styled.setAttribute('style', 'color: rgb(255, 0, 0)');
  styled.textContent = 'styled';
  document.body.appendChild(styled);
  const sheet = document.createElement('style');
  sheet.textContent = 'body { background: rgb(255, 0, 0) !important; }';
  document.head.appendChild(sheet);
  await new Promise((done) => setTimeout(done, 500));
  return {
    injected: window.__injected || null,
    styledColor: getComputedStyle(styled).color,
    background: getComputedStyle(document.body).backgroundColor,
  };
}
"""


def test_what_an_attacker_would_inject_is_blocked(new_context: Any, web_url: str) -> None:
    """Given each page under its policy, when an inline script, an inline event handler, a
    script from another site, an inline style attribute and a <style> element are
    injected, then none of them runs or applies, the browser reports each as a violation of
    script-src or style-src, and nothing was fetched from the other site."""
    watched = recorded(new_context())
    for path in ("", "volunteer.html"):
        page = watched.new_page()
        page.goto(urljoin(web_url, path))
        expect(page.locator("main")).to_be_visible()
        assert violations(page) == []
        result = page.evaluate(INJECT_JS)
        assert result["injected"] is None, result
        assert result["styledColor"] != "rgb(255, 0, 0)", result
        assert result["background"] != "rgb(255, 0, 0)", result
        blocked = {v["directive"] for v in violations(page)}
        assert {"script-src-elem", "script-src-attr", "style-src-attr", "style-src-elem"} <= (
            blocked
        ), blocked
        assert any("attacker.example" in v["blocked"] for v in violations(page))
        page.close()
    assert watched.offsite == []  # the other site's script was never requested
    # Chromium logs each refusal as a console error; there is nothing else.
    assert watched.errors and all("Content Security Policy" in e for e in watched.errors), (
        watched.errors
    )
