"""Crisis signals: which words of a seeker raise the alarm, and which crisis lines they see."""

from __future__ import annotations

import datetime
import json
import re
import socket
from importlib import resources
from typing import Any

import pytest

from kindred.crisis_text import _lexicon, normalise
from kindred.safety import Assessment, assess, crisis_lines, detect_risk

AT_RISK_EN = [
    "I want to kill myself",
    "I want to die",
    "Honestly I'm suicidal",
    "I keep thinking about suicide",
    "I have been cutting myself again",
    "I don\u2019t want to live anymore",  # a curly apostrophe, as phones type it
    "Sometimes I wish I were dead",
    "everyone would be better off dead without me",
    "I plan to take all my pills tonight",
    "I want to END IT ALL!!!",
]
AT_RISK_ES = [
    "quiero morir",
    "Quiero morirme ya",
    "No quiero vivir más",
    "pienso en quitarme la vida",
    "Voy a matarme",
    "me corto los brazos",
    "quiero acabar con todo",
    "pensé en el suicidio",
]
FIGURATIVE = [
    "this exam is killing me",
    "I'm dying to see it",
    "my feet are killing me after that hike",
    "this cake is to die for",
    "I could kill for a coffee",
    "me muero de risa",
    "este examen me está matando",
    "me mata de la risa",
    "me voy a morir de risa",
    "kill the boss in this game",
    "hello, I just need to talk about my week",
    # stretched letters fold away, and must not make figurative speech literal
    "this exam is killllling meeee",
    "I'm dyyyying to see it",
    "kiiill the boss in this game",
    "sooo freeee today",
]


@pytest.mark.parametrize("text", AT_RISK_EN)
def test_english_risk_signals_are_detected(text: str) -> None:
    """Given an English message that signals a risk of suicide or self-harm, when it is
    checked, then the risk is detected (and the seeker will see crisis lines)."""
    assert detect_risk(text) is True


@pytest.mark.parametrize("text", AT_RISK_ES)
def test_spanish_risk_signals_are_detected(text: str) -> None:
    """Given a Spanish message that signals a risk of suicide or self-harm, when it is checked,
    then the risk is detected, accents or not."""
    assert detect_risk(text) is True


@pytest.mark.parametrize("text", FIGURATIVE)
def test_figurative_speech_is_not_a_risk_signal(text: str) -> None:
    """Given everyday figurative speech about dying or killing, when it is checked, then no
    alarm is raised."""
    assert detect_risk(text) is False


@pytest.mark.parametrize("text", [None, "", "   "])
def test_no_text_is_no_risk(text: str | None) -> None:
    """Given a match with no intro, when it is checked, then there is no risk."""
    assert detect_risk(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "me quiero matar",
        "me voy a suicidar",
        "me quiero hacer daño",
        "I keep thinking about killing myself",
        "I wanna die",
    ],
)
def test_common_phrasings_of_risk_are_detected(text: str) -> None:
    """Given a common way of saying "I want to kill myself / hurt myself" that the term list
    does not spell out, when it is checked, then the risk is detected."""
    assert detect_risk(text) is True


@pytest.mark.parametrize("text", ["I want to dieeee", "i waaaant to die", "suiciiiide"])
def test_elongated_words_are_still_detected(text: str) -> None:
    """Given a risk signal typed with stretched letters, as people do when distressed, when it
    is checked, then the risk is detected."""
    assert detect_risk(text) is True


def test_repeated_letters_and_punctuation_do_not_hide_a_doubled_letter_word() -> None:
    """Given "kill" typed with extra l's and punctuation, when checked, then still detected."""
    assert detect_risk("i want to killlll... myself!!!") is True


@pytest.mark.parametrize(
    "text",
    [
        "sometimes i want to k1ll mys3lf",  # digits for letters
        "thinking about su1c1de",
        "$uicide",
        "i want to k*ll myself",  # a censoring star
        "s u i c i d e",  # spaced letters
        "s.u.i.c.i.d.e",
        "k i l l myself",
        "sucide is all i think about",  # misspellings
        "suicdal again",
        "i want to kil myself",
        "im gonna kms",  # slang
        "been thinking about sewerslide",
        "i want to unalive myself",
        "might just self delete",
        "i want 2 die",
        "I dont want to be here anymore",
        "kiero morirme",  # Spanish chat spelling
        "ya no kiero vivir",
        "a veces quiero suisidarme",
        "m quiero matar",
        "QUIERO MORIR",
        "ﬁnally decided: I want to end my life",  # a ligature and capitals
    ],
)
def test_disguised_spellings_are_still_detected(text: str) -> None:
    """Given a risk signal spelt the way people type it (digits, spaced or stretched letters,
    misspellings, slang, chat spelling), when it is checked, then the risk is detected."""
    assert detect_risk(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal, I just need someone to talk to",
        "I would never kill myself, my kids need me",
        "I'm not going to hurt myself, I promise",
        "I've never thought about suicide",
        "no soy suicida, solo me siento sola",
        "nunca me haría daño",
    ],
)
def test_a_firm_denial_is_not_a_signal(text: str) -> None:
    """Given a seeker who says plainly they are not at risk, when it is checked, then no alarm
    is raised (they came to talk, and would feel unheard)."""
    assert detect_risk(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal but I think about dying a lot",
        "not suicidal or anything, but i wouldn't mind if a car hit me",
        "I'm not suicidal, but honestly some days I don't see the point",
        "No soy suicida pero a veces quiero desaparecer",
        "no me quiero matar pero ya no sé qué hacer",
    ],
)
def test_a_denial_followed_by_but_is_still_a_signal(text: str) -> None:
    """Given "I'm not suicidal but...", when it is checked, then the risk is raised: what
    follows the "but" is often the real concern, and a gentle check costs little."""
    assert detect_risk(text) is True


@pytest.mark.parametrize(
    "text",
    ["kys lol", "someone in the game chat told me to kys", "I ran 5 kms", "did 10kms today"],
)
def test_kys_and_distances_are_not_signals(text: str) -> None:
    """Given "kys" (abuse aimed at someone else) or a distance in km, when it is checked, then
    no alarm is raised: neither says anything about the writer's own risk."""
    assert detect_risk(text) is False


@pytest.mark.parametrize(
    "text",
    ["I can't take it anymore", "ya no aguanto más", "I hate my life right now", "ya no puedo más"],
)
def test_distress_alone_is_not_a_risk_signal(text: str) -> None:
    """Given distress with no sign of suicide or self-harm, when it is checked, then no alarm:
    it is why most seekers come, and alerting on it would drown the real alerts."""
    assert detect_risk(text) is False


def test_an_assessment_names_the_rule_and_never_the_text() -> None:
    """Given a message at risk, when it is assessed, then the result says which signal of
    crisis_signals.json raised it and at which level (for metrics and tests), and carries none
    of the seeker's words."""
    result = assess("honestly, I want to kill myself tonight")
    assert result == Assessment(risk=True, rule="means_soon", level="imminent")
    assert "tonight" not in repr(result)
    assert assess("hello there") == Assessment(risk=False, rule=None)
    assert assess(None) == Assessment(risk=False, rule=None)


def test_a_signal_deep_inside_a_long_message_is_found() -> None:
    """Given a long message with the signal in the middle, when it is checked, then it is
    detected, and the same filler alone is not."""
    filler = "work has been a lot and my flatmate keeps leaving dishes everywhere. " * 200
    assert detect_risk(filler + "some nights i want to die. " + filler) is True
    assert detect_risk(filler) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I DON'T wanna  live!!!", "i do not want to live"),
        ("Quiero MORIR… ya", "quiero morir ya"),
        ("k1ll mys3lf", "kill myself"),
        ("s u i c i d e", "suicide"),
        ("dieeeee", "die"),
        ("killllling meeee", "killing me"),
        ("I ran 5kms", "i ran 5kms"),
        ("ya no aguanto más, me haré daño", "ya no aguanto mas me hare dano"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    """Given seeker text, when normalised, then it has the form the rules are written for."""
    assert normalise(text) == expected


# ---- the term files --------------------------------------------------------------------------


def _data(name: str) -> Any:
    return json.loads(resources.files("kindred.data").joinpath(name).read_text(encoding="utf-8"))


def _masked(text: str) -> str:
    plain = normalise(text)
    lex = _lexicon()
    return plain if lex.not_risk is None else lex.not_risk.sub(" ~ ", plain)


FIRST_RULE_EXAMPLES = [
    ("en.kill_self", "I keep thinking about killing myself"),
    ("en.kms", "might just kms tonight"),
    ("en.unalive", "ngl been wanting to unalive lately"),
    ("en.suicide", "I keep thinking about suicide"),
    ("en.suicide_slang", "been thinking about sewerslide"),
    ("en.self_harm", "I self harm when it gets too much"),
    ("en.cutting", "I've been cutting again"),
    ("en.want_die", "I want to die"),
    ("en.dead", "I wish I were dead"),
    ("en.not_alive", "I don't want to be alive anymore"),
    ("en.no_reason", "I have nothing left to live for"),
    ("en.end_life", "I just want to end it all"),
    ("en.disappear", "I wish I could disappear forever"),
    ("en.burden", "Everyone would be better off without me"),
    ("en.nobody_cares", "nobody would care if I died"),
    ("en.passive", "I would not mind if a car hit me"),
    ("en.sleep_forever", "I want to go to sleep and not wake up"),
    ("en.method", "Is there a painless way to die?"),
    ("en.overdose", "I took a bunch of pills last night"),
    ("en.goodbye", "I wrote a goodbye letter to my mom"),
    ("en.thoughts", "I can't stop thinking about dying"),
    ("en.not_safe", "I don't feel safe with myself tonight"),
    ("es.matarme", "me quiero matar"),
    ("es.suicidio", "pienso en suicidarme"),
    ("es.morir", "me quiero morir"),
    ("es.no_vivir", "ya no quiero vivir"),
    ("es.no_despertar", "quiero dormirme y no despertar nunca mas"),
    ("es.acabar", "quiero quitarme la vida"),
    ("es.autolesion", "me corto los brazos"),
    ("es.carga", "todos estarian mejor sin mi"),
    ("es.desaparecer", "quiero desaparecer para siempre"),
    ("es.metodo", "a veces pienso en tirarme de un puente"),
    ("es.hacerme_algo", "tengo miedo de lo que me pueda hacer"),
    ("es.pensamientos", "a veces pienso en la muerte todo el dia"),
]


@pytest.mark.parametrize(
    ("rule", "text"), FIRST_RULE_EXAMPLES, ids=[i for i, _ in FIRST_RULE_EXAMPLES]
)
def test_the_examples_of_the_first_phrase_rules_are_still_detected(rule: str, text: str) -> None:
    """Given the example of each phrase rule of the first detector (replaced by the taxonomy
    of crisis_signals.json), when it is checked, then it is still detected."""
    assert detect_risk(text) is True, rule


@pytest.mark.parametrize("rule", _lexicon().not_risk_rules, ids=lambda rule: rule.id)
def test_every_not_risk_rule_clears_its_own_example(rule: Any) -> None:
    """Given a figurative use or name of crisis_terms.json, when its example is checked,
    then the phrase is recognised and no alarm is raised."""
    assert re.search(rule.pattern, normalise(rule.example)), rule.id
    assert detect_risk(rule.example) is False


def test_rule_ids_are_unique_and_name_their_language() -> None:
    """Given the term file, then each rule has a unique id that starts with its language."""
    terms = _data("crisis_terms.json")
    ids = [item["id"] for item in terms["not_risk"]]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"(en|es)\.[a-z_.]+", i) for i in ids), ids


def test_word_rewrites_are_single_normalised_words_and_agree_across_languages() -> None:
    """Given the word table, then every key is one normalised word and no key is given two
    meanings by two languages."""
    tables = {lang: t for lang, t in _data("crisis_words.json").items() if not lang.startswith("_")}
    seen: dict[str, str] = {}
    for table in tables.values():
        for key, value in table.items():
            assert re.fullmatch(r"[a-z0-9]+", key), key
            assert re.fullmatch(r"[a-z]+( [a-z]+)*", value), value
            assert key != value, key
            assert seen.setdefault(key, value) == value, key


def test_detection_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given no network at all, when text is checked, then detection works as usual."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the detector tried to open a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    _lexicon.cache_clear()
    try:
        assert detect_risk("i want to die") is True
    finally:
        _lexicon.cache_clear()


# ---- crisis lines ----------------------------------------------------------------------------


def test_a_countrys_lines_come_first_then_the_international_fallback() -> None:
    """Given a seeker in the US, when crisis lines are listed, then the US line comes first and
    the international directory follows."""
    lines = crisis_lines("US")
    assert [item.country for item in lines] == ["US"] + ["INTL"] * len(crisis_lines("INTL"))
    assert lines[0].phone == "988"


def test_the_country_code_is_case_insensitive() -> None:
    """Given a country code in lower case, when crisis lines are listed, then it is the same
    as in upper case."""
    assert crisis_lines("es") == crisis_lines("ES")
    assert crisis_lines("es")[0].country == "ES"


@pytest.mark.parametrize("country", ["ZZ", "", None])
def test_an_unknown_or_missing_country_gives_the_international_fallback(
    country: str | None,
) -> None:
    """Given a country with no lines in the directory (or none at all), when crisis lines are
    listed, then the seeker still gets the international fallback."""
    lines = crisis_lines(country)
    assert lines and {item.country for item in lines} == {"INTL"}
    assert all(line.url for line in lines)


@pytest.mark.parametrize("country", ["INTL", "intl"])
def test_asking_for_the_international_lines_lists_each_line_once(country: str) -> None:
    """Given a client that asks for the international directory itself, when crisis lines are
    listed, then the international line comes once, not as the country's and again as the
    fallback."""
    lines = crisis_lines(country)
    assert [item.name for item in lines] == [
        item["name"] for item in _data("resources.json")["INTL"]
    ]


REQUIRED_LINES = {
    "US": "988",
    "CA": "988",
    "GB": "116 123",
    "IE": "116 123",
    "AU": "13 11 14",
    "NZ": "1737",
    "ES": "024",
    "MX": "800 911 2000",
    "AR": "135",
    "CO": "106",
    "CL": "*4141",
    "DE": "0800 111 0 111",
    "FR": "3114",
}


@pytest.mark.parametrize(("country", "phone"), REQUIRED_LINES.items())
def test_each_country_has_its_national_line_first(country: str, phone: str) -> None:
    """Given a seeker in one of the countries the directory covers, when crisis lines are
    listed, then the country's national line comes first and the international one last."""
    lines = crisis_lines(country)
    assert lines[0].country == country
    assert lines[0].phone == phone
    assert lines[-1].country == "INTL"


def test_every_line_in_the_directory_is_complete() -> None:
    """Given the directory, then every line has a name, a description, hours, the country it
    is filed under, and at least one way to reach it; no country lists a line twice."""
    directory = {k: v for k, v in _data("resources.json").items() if not k.startswith("_")}
    for code, items in directory.items():
        assert code == "INTL" or re.fullmatch(r"[A-Z]{2}", code), code
        for item in items:
            assert item["name"] and item["description"] and item["hours"], item
            assert item["country"] == code, item
            assert item.get("phone") or item.get("sms") or item.get("url"), item
        assert len(crisis_lines(code)) == len(set(crisis_lines(code)))


def test_the_directory_has_lines_to_call_or_text_in_at_least_40_countries() -> None:
    """Issue 9: crisis lines that are lines. At least 40 countries, every line of a country
    with a phone or text number, and each with the page it was checked against and the date
    (not in the future)."""
    directory = {k: v for k, v in _data("resources.json").items() if not k.startswith("_")}
    countries = [code for code in directory if code != "INTL"]
    assert len(countries) >= 40, len(countries)
    today = datetime.date.today()
    for code in countries:
        for item in directory[code]:
            assert item.get("phone") or item.get("sms"), item["name"]
            assert re.fullmatch(r"https?://\S+", item["source"]), item["name"]
            checked = datetime.date.fromisoformat(item["checked"])
            assert checked <= today, item["name"]
