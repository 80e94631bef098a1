"""The pages' catalogues (web/i18n/): the same keys and placeholders in every language, every key
the pages use is there, and no text a person reads is written outside them (issue 13)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
CATALOGUES = WEB / "i18n"
PAGES = [WEB / "index.html", WEB / "volunteer.html"]
SCRIPTS = sorted((WEB / "js").glob("*.js"))

# What a key looks like: a section, dots, lower-case words ("seeker.crisis.title").
KEY = re.compile(r"^(?:common|seeker|console|board|care|transcript|topic)\.[a-z0-9_.]+$")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Attributes a person reads (or hears) that must come from the catalogue.
READ_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")
# Meta keys of a catalogue: not page texts.
META = ("_language", "_review")


def catalogue(language: str) -> dict[str, object]:
    data = json.loads((CATALOGUES / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def texts(data: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in data.items() if key not in META}


def placeholders(value: object) -> set[str]:
    if isinstance(value, dict):
        found: set[str] = set()
        for form in value.values():
            found |= placeholders(form)
        return found
    return set(PLACEHOLDER.findall(str(value)))


def languages() -> list[str]:
    return sorted(path.stem for path in CATALOGUES.glob("*.json"))


# ---- the HTML -------------------------------------------------------------------------------


# Elements with no end tag.
VOID = frozenset({"meta", "link", "input", "br", "img", "hr", "source", "col", "wbr"})


class _PageText(HTMLParser):
    """Text a person reads that no data-i18n covers, and data-i18n keys used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.loose: list[str] = []
        self.keys: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("data-i18n"):
            self.keys.add(str(found["data-i18n"]))
        covered = {
            pair.split(":")[0].strip(): pair.split(":")[1].strip()
            for pair in str(found.get("data-i18n-attr") or "").split(";")
            if ":" in pair
        }
        self.keys |= set(covered.values())
        for name in READ_ATTRIBUTES:
            if found.get(name) and name not in covered:
                self.loose.append(f'<{tag} {name}="{found[name]}"> has no data-i18n-attr')
        if tag not in VOID:
            self.stack.append((tag, found))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        words = data.strip()
        if not words or not re.search(r"[^\W\d_]", words):
            return  # white space, digits and signs (the 1-5 scale) are no language's
        if self.stack and self.stack[-1][0] in {"script", "style"}:
            return
        if not self.stack or not self.stack[-1][1].get("data-i18n"):
            self.loose.append(f"text {words[:60]!r} outside data-i18n")


def page_text(source: str) -> _PageText:
    parser = _PageText()
    parser.feed(source)
    return parser


# ---- the scripts ----------------------------------------------------------------------------

# A string literal in JavaScript ('...', "...", no template literals in these files).
_LITERAL = re.compile(r"""(?P<q>["'])(?P<body>(?:\\.|(?!(?P=q)).)*)(?P=q)""")
# Two words of letters side by side ("Please wait"), not class lists ("btn btn-primary").
_WORDS = re.compile(r"(?<![\w-])[^\W\d_]{2,}[,.:;!?…]?\s+[^\W\d_]{2,}(?![\w-])")
# A capitalised word alone ("Website", "Joined."), as a label would be.
_WORD = re.compile(r"^[A-Z][a-z]+[.!?…]?$")
# Literals the scripts need that are not page texts: keyboard keys, Cognito's and Intl's tokens,
# Quick exit's neutral title, the authenticator's label, class lists and selectors, errors for
# the developer's console. Each is named here, one by one: a new text is never let through.
_NOT_TEXT = {
    "use strict",
    "(pointer: coarse)",
    "connection closed (",
    "config.json: HTTP ",
    ".json: HTTP ",
    "not open",
    "noopener noreferrer",
    "line-hours muted small",
    "small muted",
    "textarea, input[type=text]",
    "textarea, select, button",
    "textarea, button",
    "select, button",
    "#topics input",
    "#topics input:checked",
    "#checkin input[name=",
    "#checkin input[type=radio]",
    "Enter",
    "Escape",
    "Challenge",
    "Kindred",
    "Wikipedia",
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
    "Sun",
    "Kindred console",
}


def _code_only(source: str) -> str:
    """The source without comments (strings and regular expressions kept as they are)."""
    out: list[str] = []
    i = 0
    while i < len(source):
        two = source[i : i + 2]
        char = source[i]
        if two == "//":
            while i < len(source) and source[i] != "\n":
                i += 1
        elif two == "/*":
            end = source.find("*/", i + 2)
            i = len(source) if end < 0 else end + 2
        elif char in "\"'":
            match = _LITERAL.match(source, i)
            end = match.end() if match else i + 1
            out.append(source[i:end])
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def literals(source: str) -> list[str]:
    return [m.group("body") for m in _LITERAL.finditer(_code_only(source))]


def visible_literals(source: str) -> list[str]:
    """String literals that read as words for a person: they belong in the catalogue."""
    found = []
    for body in literals(source):
        if body in _NOT_TEXT or KEY.match(body):
            continue
        if _WORDS.search(body) or _WORD.match(body.strip()):
            found.append(body)
    return found


def script_keys(source: str) -> set[str]:
    return {body for body in literals(source) if KEY.match(body)}


# ---- the tests ------------------------------------------------------------------------------


def test_english_and_spanish_catalogues_exist() -> None:
    assert {"en", "es"} <= set(languages())
    assert "LANGUAGES = [" in (WEB / "js" / "i18n.js").read_text(encoding="utf-8")
    listed = re.search(r"LANGUAGES = \[([^\]]*)\]", (WEB / "js" / "i18n.js").read_text())
    assert listed is not None
    assert sorted(re.findall(r'"(\w+)"', listed.group(1))) == languages()


@pytest.mark.parametrize("language", [lang for lang in languages() if lang != "en"])
def test_every_catalogue_has_the_same_keys_and_placeholders_as_english(language: str) -> None:
    english, other = texts(catalogue("en")), texts(catalogue(language))
    assert sorted(set(english) - set(other)) == [], f"{language}.json lacks these keys"
    assert sorted(set(other) - set(english)) == [], f"{language}.json has keys English lacks"
    for key, value in english.items():
        assert placeholders(other[key]) == placeholders(value), f"{language}.json {key}"
        if isinstance(value, dict):
            assert isinstance(other[key], dict) and "other" in other[key], key  # type: ignore[operator]
        if isinstance(other[key], str):
            assert str(other[key]).strip(), f"{language}.json {key} is empty"


def test_plural_forms_have_other_and_a_count() -> None:
    for language in languages():
        for key, value in texts(catalogue(language)).items():
            if isinstance(value, dict):
                assert "other" in value, f"{language}.json {key}"
                assert "count" in placeholders(value), f"{language}.json {key}: no {{count}}"


def test_texts_marked_for_review_exist_and_say_why() -> None:
    for language in languages():
        data = catalogue(language)
        review = data.get("_review", {})
        assert isinstance(review, dict)
        for key, reason in review.items():
            assert key in data, f"{language}.json _review names a missing key {key}"
            assert isinstance(reason, str) and reason.strip()
    assert len(catalogue("es").get("_review", {})) >= 10  # type: ignore[arg-type]


def test_every_key_the_pages_use_is_in_the_english_catalogue() -> None:
    english = texts(catalogue("en"))
    used: set[str] = set()
    for page in PAGES:
        used |= page_text(page.read_text(encoding="utf-8")).keys
    for script in SCRIPTS:
        used |= script_keys(script.read_text(encoding="utf-8"))
    assert sorted(used - set(english)) == []
    # And nothing in the catalogue is forgotten (topic labels are looked up by the topic's id).
    unused = {key for key in english if key not in used and not key.startswith("topic.")}
    assert sorted(unused) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_pages_html_has_no_text_outside_the_catalogue(page: Path) -> None:
    assert page_text(page.read_text(encoding="utf-8")).loose == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_pages_english_html_is_the_catalogues_english(page: Path) -> None:
    """What the HTML holds before the catalogue loads is the catalogue's English, word for word."""
    english = texts(catalogue("en"))

    class Pairs(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.open: list[str | None] = []
            self.pairs: list[tuple[str, str]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag not in VOID:
                found = dict(attrs)
                self.open.append(
                    found.get("data-i18n") if not found.get("data-i18n-vars") else None
                )

        def handle_endtag(self, tag: str) -> None:
            if self.open:
                self.open.pop()

        def handle_data(self, data: str) -> None:
            if self.open and self.open[-1] and data.strip():
                self.pairs.append((self.open[-1], " ".join(data.split())))

    pairs = Pairs()
    pairs.feed(page.read_text(encoding="utf-8"))
    wrong = [(key, text) for key, text in pairs.pairs if english.get(key) != text]
    assert wrong == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_scripts_write_no_text_outside_the_catalogue(script: Path) -> None:
    assert visible_literals(script.read_text(encoding="utf-8")) == []


def test_the_checks_catch_a_planted_hard_coded_text() -> None:
    """The checks above can fail: a text written straight into a page or a script is found."""
    planted_js = (
        'node.textContent = "Thank you for waiting";\n'
        'el("button", {}, "Website");\n'
        "notice('You are offline.', { kind: \"warn\" });\n"
        'var ok = K.t("seeker.crisis.title"); // "Not this comment"\n'
        'box.className = "btn btn-primary btn-small";\n'
    )
    assert visible_literals(planted_js) == [
        "Thank you for waiting",
        "Website",
        "You are offline.",
    ]
    planted_html = (
        '<p data-i18n="seeker.crisis.title">Fine</p><p>Hard-coded words</p>'
        '<input placeholder="Type here"><span title="x" data-i18n-attr="title:common.close"></span>'
    )
    assert page_text(planted_html).loose == [
        "text 'Hard-coded words' outside data-i18n",
        '<input placeholder="Type here"> has no data-i18n-attr',
    ]
