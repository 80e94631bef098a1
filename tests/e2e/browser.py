"""Helpers for the browser tests: Debian's Chromium under Playwright, and page checks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    ViewportSize,
)

CHROMIUM = os.environ.get("KINDRED_CHROMIUM", "/usr/bin/chromium")
# Root, no display, no network beyond loopback: no sandbox, no GPU, nothing phoning home.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 375, "height": 740}
# Where the seeker page's Quick exit goes (EXIT_URL in web/js/seeker.js).
EXIT_URL = "https://www.wikipedia.org/"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)


@dataclass
class Watched:
    """A browser context whose pages report console errors and every off-site request."""

    context: BrowserContext
    errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        return page

    def _on_console(self, message: object) -> None:
        if getattr(message, "type", "") == "error":
            self.errors.append(f"console: {getattr(message, 'text', '')}")

    def route_offsite(self, route: Route, request: Request) -> None:
        """The pages load nothing from another host; Quick exit's target gets a stand-in page."""
        url = request.url
        if url.startswith(EXIT_URL):
            self.exits.append(url)
            route.fulfill(
                status=200,
                content_type="text/html",
                body="<!doctype html><html lang=en><title>Wikipedia</title><p>Neutral page</p>",
            )
            return
        host = urlsplit(url).hostname or ""
        if urlsplit(url).scheme in {"http", "https"} and host not in LOCAL_HOSTS:
            self.offsite.append(url)
            route.abort()
            return
        route.continue_()


def watched_context(
    browser: Browser, *, phone: bool = False, locale: str = "en-US", zone: str | None = None
) -> Watched:
    """A new context (a phone or a desktop, a locale, a time zone) whose pages are watched."""
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        locale=locale,
        timezone_id=zone,
    )
    context.set_default_timeout(10_000)
    watched = Watched(context)
    context.route("**/*", watched.route_offsite)
    return watched


def assert_clean(*watched: Watched) -> None:
    """No console errors, no page errors, nothing fetched from another site."""
    for w in watched:
        assert w.errors == [], w.errors
        assert w.offsite == [], w.offsite


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/ (scrolled to the top: the top bar is sticky)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path


# Every problem a basic check finds, as plain sentences: form controls without a label,
# buttons and links without a name, no lang on <html>, images without alt, duplicate ids,
# not exactly one <main> and at least one <h1>. Hidden elements are checked too: they show later.
A11Y_PROBLEMS_JS = """
() => {
  const problems = [];
  const lang = document.documentElement.getAttribute('lang');
  if (!lang || !lang.trim()) problems.push('<html> has no lang attribute');
  if (!document.title.trim()) problems.push('the page has no title');
  const name = (el) => (el.getAttribute('aria-label') || '').trim() ||
    (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const labelled = (el.labels && el.labels.length && [...el.labels].some(
      (l) => l.textContent.trim())) || name(el);
    if (!labelled) problems.push(`${el.tagName.toLowerCase()}#${el.id || '?'} has no label`);
  }
  for (const el of document.querySelectorAll('button, a[href], [role=button]')) {
    if (!(el.textContent.trim() || name(el) || (el.getAttribute('title') || '').trim())) {
      problems.push(`${el.tagName.toLowerCase()}#${el.id || '?'} has no accessible name`);
    }
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`img ${img.src} has no alt`);
  }
  const ids = [...document.querySelectorAll('[id]')].map((el) => el.id);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length) problems.push(`duplicate ids: ${[...new Set(dupes)].join(', ')}`);
  if (document.querySelectorAll('main').length !== 1) problems.push('not exactly one <main>');
  if (!document.querySelector('h1')) problems.push('no <h1>');
  for (const el of document.querySelectorAll('[aria-labelledby]')) {
    for (const id of el.getAttribute('aria-labelledby').split(/\\s+/)) {
      if (id && !document.getElementById(id)) problems.push(`aria-labelledby names missing #${id}`);
    }
  }
  return problems;
}
"""


# Text whose contrast with the background behind it is under WCAG AA: 4.5:1, or 3:1 for large
# text (24 px, or 18.66 px bold). Only visible, enabled text; the background is the nearest
# ancestor's opaque background colour (the pages use no background images behind text).
CONTRAST_PROBLEMS_JS = """
() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const problems = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || seen.has(el)) continue;
    seen.add(el);
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    if (el.closest('.visually-hidden, :disabled')) continue;
    const style = getComputedStyle(el);
    const fg = parse(style.color);
    if (!fg) continue;
    const l1 = lum(fg), l2 = lum(behind(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push(`contrast ${ratio.toFixed(2)}:1 for "${text.slice(0, 40)}"`);
    }
  }
  return problems;
}
"""


def a11y_problems(page: Page) -> list[str]:
    """The basic checks above, and AA contrast of the text on screen."""
    problems: list[str] = page.evaluate(A11Y_PROBLEMS_JS)
    problems += page.evaluate(CONTRAST_PROBLEMS_JS)
    return problems


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
    overflow: int = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return overflow
