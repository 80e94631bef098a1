"""Crisis signals: which words of a seeker raise the alarm, and which crisis lines they see."""

from __future__ import annotations

import pytest

from kindred.safety import crisis_lines, detect_risk

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


# ---- crisis lines ----------------------------------------------------------------------------


def test_a_countrys_lines_come_first_then_the_international_fallback() -> None:
    """Given a seeker in the US, when crisis lines are listed, then the US line comes first and
    the international directory follows."""
    lines = crisis_lines("US")
    assert [item.country for item in lines] == ["US", "INTL"]
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
    assert [item.country for item in lines] == ["INTL"]
    assert lines[0].url


@pytest.mark.parametrize("country", ["INTL", "intl"])
def test_asking_for_the_international_lines_lists_each_line_once(country: str) -> None:
    """Given a client that asks for the international directory itself, when crisis lines are
    listed, then the international line comes once, not as the country's and again as the
    fallback."""
    lines = crisis_lines(country)
    assert [item.country for item in lines] == ["INTL"]
