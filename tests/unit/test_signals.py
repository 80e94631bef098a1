"""The crisis rules as structure: negation, tense and who a message is about decide, not lists."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from kindred import signals
from kindred.safety import reading


def _signals_file() -> Any:
    text = resources.files("kindred.data").joinpath("crisis_signals.json").read_text("utf-8")
    return json.loads(text)


def kinds(text: str) -> set[str]:
    return {signal.kind for signal in reading(text).signals}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I want to die", {"wish_dead"}),
        ("I don't want to die", set()),
        ("I do not want to live anymore", {"wish_dead"}),
        ("quiero morirme", {"wish_dead"}),
        ("no quiero morirme", set()),
        ("ya no quiero vivir", {"wish_dead"}),
    ],
)
def test_a_negation_turns_the_words_it_stands_before(text: str, expected: set[str]) -> None:
    """Given a wish to die with and without a negation in front of it, when it is read, then
    "I don't want to die" raises nothing while "I don't want to live" does: the negation
    belongs to what it stands before, not to the message."""
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "not going to hurt myself, promise",
        "I'm definitely not thinking about killing myself",
        "no estoy pensando en matarme ni nada",
        "I don't have any thoughts of hurting myself",
    ],
)
def test_a_negation_reaches_over_auxiliaries(text: str) -> None:
    """Given a denial with auxiliaries between the negation and the act ("not going to hurt
    myself"), when it is read, then the act is denied."""
    assert kinds(text) == set()


def test_a_negation_of_something_else_earlier_does_not_cancel_a_wish() -> None:
    """Given "no aguanto más, me quiero morir", when it is read, then the "no" of "no aguanto"
    does not reach the wish to die two words later."""
    assert "wish_dead" in kinds("no aguanto más, me quiero morir")


@pytest.mark.parametrize(
    "text",
    [
        "I tried to kill myself years ago. I'm doing well now and just want to talk about work",
        "Hace años pensaba en matarme todo el tiempo. Ahora estoy bien",
        "I used to cut in high school but I haven't in a decade",
    ],
)
def test_past_risk_with_present_safety_is_not_a_signal(text: str) -> None:
    """Given risk told in the past tense by someone who says they are safe now, when it is
    read, then no signal: tense and the present-safety clause decide."""
    assert kinds(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "I tried to kill myself last week",
        "I was clean for two years and I relapsed, cut again last night",
    ],
)
def test_recent_risk_or_a_relapse_is_a_signal(text: str) -> None:
    """Given a recent attempt, or a relapse after a clean streak, when it is read, then it is
    a signal: the past tense alone does not clear it, nor "clean for two years" before "I
    relapsed"."""
    assert kinds(text) != set()


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("my sister has her pills in front of her and says she is taking them tonight", "imminent"),
        ("mi hermano tiene la pistola en la mano y dice que hoy se mata", "imminent"),
        ("my best friend keeps saying she wants to die", "high"),
    ],
)
def test_a_signal_about_someone_else_is_raised_as_another_person_at_risk(
    text: str, level: str
) -> None:
    """Given someone else at risk now, when it is read, then the signal is `other_at_risk`,
    `imminent` where their situation is, `high` otherwise."""
    found = reading(text).strongest
    assert found is not None
    assert (found.kind, found.level) == ("other_at_risk", level)


@pytest.mark.parametrize(
    "text",
    [
        "In the movie the main character wants to die",
        "the song says i want to die and it's such a banger",
        "I'm writing an essay on why people die by suicide",
        "my friend asked if I was going to kill myself, I'm not, just sad",
    ],
)
def test_a_framed_clause_raises_nothing(text: str) -> None:
    """Given the words of risk inside a film, a song, a study or someone else's question, when
    they are read, then no signal."""
    assert kinds(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal, but honestly some days I don't see the point",
        "No soy suicida pero a veces quiero desaparecer",
    ],
)
def test_a_denial_followed_by_but_and_a_hedge_is_a_signal(text: str) -> None:
    """Given "I'm not suicidal, but..." and a wish or hopelessness after the but, when it is
    read, then a signal: what follows the but is often the real concern."""
    assert kinds(text) != set()


def test_an_accident_is_not_self_injury_but_doing_it_on_purpose_is() -> None:
    """Given a burn from cooking and a burn on purpose, when they are read, then only the
    second is self-injury."""
    assert kinds("I burned my hand on the pan while cooking dinner") == set()
    assert kinds("I burned my wrist on purpose with the iron") == {"self_injury"}


@pytest.mark.parametrize("rule", _signals_file()["signals"], ids=lambda rule: rule["id"])
def test_every_signal_raises_its_own_example(rule: dict[str, Any]) -> None:
    """Given a signal of crisis_signals.json, when its example is read, then that very signal
    is raised (an edit that breaks a signal is caught here)."""
    assert rule["id"] in {signal.id for signal in reading(rule["example"]).signals}


def test_every_signal_names_a_kind_of_the_taxonomy_and_known_terms() -> None:
    """Given the data files, when they are built, then every signal names a known kind and
    known terms, and every term compiles (a typo fails here, not in a chat)."""
    signals.taxonomy.cache_clear()
    built = signals.taxonomy()
    assert built.rules
    assert set(built.levels) >= {rule.kind for rule in built.rules}
    assert set(signals.CONTEXT_TERMS) <= set(built.terms)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I tried years ago. Now I'm fine! Really?", 3),
        ("i want to... die", 1),
        ("I'm not suicidal, but I want to disappear", 2),
    ],
)
def test_clauses_end_at_sentences_and_before_but_not_at_an_ellipsis(
    text: str, expected: int
) -> None:
    """Given sentences, an ellipsis and a contrast, when a message is cut into clauses, then it
    is cut at sentence ends and before "but", never inside "i want to... die"."""
    assert len(signals.clauses(text)) == expected
