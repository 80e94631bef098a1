"""The referral directory, the `referral` rule and `resources` by topic (issue 12), on the fakes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kindred import referrals
from kindred.connections import connect as on_connect
from kindred.page_config import page_config
from kindred.requests import ConnectRequest
from kindred.safety import crisis_lines
from tests.unit.harness import (
    FakeServices,
    connect,
    in_chat,
    make_services,
    send,
    store_unchanged,
    volunteer,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "layers" / "core" / "kindred" / "data" / "referrals.json"
SITE = json.loads((ROOT / "web" / "site.json").read_text(encoding="utf-8"))
RAW = json.loads(DATA.read_text(encoding="utf-8"))


def _chat(svc: FakeServices, seeker: str = "s1", vol: str = "v1", lang: str = "en") -> str:
    """A seeker (of that language) matched with a volunteer; every frame so far is taken."""
    return in_chat(svc, seeker, vol, lang=lang, languages=["en", "es"])


def _card(referral_id: str) -> dict[str, Any]:
    """A service as the pages are given it: the file's entry without `source` and `reviewed`."""
    [entry] = [e for e in RAW["services"] if e["id"] == referral_id]
    return {k: v for k, v in entry.items() if k not in ("source", "reviewed")}


# ---- the directory: what an organisation edits ------------------------------------------------


def test_the_directory_reads_and_every_service_keeps_the_rules() -> None:
    """Given the directory as shipped, when it is read, then every service has an id of its
    own, a name, what they do, hours, the country in upper case, at least one way to reach
    them, links that are https only and numbers a phone can dial, and topics and languages
    that web/site.json offers."""
    services = referrals.read_directory(DATA.read_text(encoding="utf-8"))
    topics = {topic["id"] for topic in SITE["topics"]}
    assert len(services) == len(RAW["services"]) >= 9
    assert len({s.id for s in services}) == len(services)
    for service in services:
        assert service.name.strip() and service.description.strip() and service.hours
        assert service.country.isupper() and len(service.country) == 2
        assert service.phone or service.sms or service.url
        assert service.url is None or urlsplit(service.url).scheme == "https"
        for number in (service.phone, service.sms):
            assert number is None or number.replace(" ", "").replace("-", "").lstrip("+").isdigit()
        assert set(service.topics) <= topics, service.id
        assert set(service.languages) <= set(SITE["languages"]), service.id
    for entry in RAW["services"]:
        assert urlsplit(entry["source"]).scheme == "https"
        assert date.fromisoformat(entry["reviewed"]) <= date.today()


def test_the_directory_covers_gb_us_and_es_in_their_languages() -> None:
    """Given the seed directory, then Great Britain, the United States and Spain each have
    services beyond their crisis lines, English in GB and the US, Spanish in Spain."""
    services = referrals.directory()
    for country, language in (("GB", "en"), ("US", "en"), ("ES", "es"), ("US", "es")):
        assert any(s.country == country and language in s.languages for s in services)
    assert {"gb-mind-infoline", "gb-cruse", "us-samhsa-helpline", "us-nami-helpline"} <= {
        s.id for s in services
    }
    assert referrals.find("es-telefono-esperanza") is not None


def _with(**changes: Any) -> str:
    """The directory's text with the first service changed (None: the field removed)."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    first = raw["services"][0]
    for key, value in changes.items():
        if value is None:
            first.pop(key, None)
        else:
            first[key] = value
    return json.dumps(raw)


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "http://www.mind.org.uk"},
        {"url": "javascript:alert(1)"},
        {"url": "https://"},
        {"url": "https://evil.example/ x"},
        {"source": "ftp://example.org"},
        {"phone": "call 0300"},
        {"sms": "<b>1</b>"},
        {"id": "Mind Infoline"},
        {"country": "gb"},
        {"topics": []},
        {"languages": ["english"]},
        {"reviewed": "last year"},
        {"hours": None},
        {"phone": None, "url": None},
        {"colour": "green"},
    ],
    ids=lambda changes: ",".join(f"{k}={v}" for k, v in changes.items()),
)
def test_a_directory_that_breaks_a_rule_is_refused_when_read(changes: dict[str, Any]) -> None:
    """Given a directory whose first service has a link that is not https, a number a phone
    cannot dial, a malformed id, country, topic list, language or date, no hours, no way to
    reach it, or a field the format does not have, when it is read, then it is refused."""
    with pytest.raises(ValueError):
        referrals.read_directory(_with(**changes))


def test_a_directory_with_an_id_twice_is_refused() -> None:
    """Given two services with the same id, when the directory is read, then it is refused
    naming the id: the console and the server would not know which one is meant."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    raw["services"].append(dict(raw["services"][0], name="Another"))
    with pytest.raises(ValueError, match="gb-mind-infoline"):
        referrals.read_directory(json.dumps(raw))


def test_config_json_gives_the_console_the_directory_the_server_accepts() -> None:
    """Given the pages' config, then its `referrals` are the services of the directory, each
    as a `referral` card carries it: the ids the console offers are those the server takes."""
    config = page_config("", "")
    assert config["referrals"] == [_card(e["id"]) for e in RAW["services"]]
    assert [e["id"] for e in config["referrals"]] == [s.id for s in referrals.directory()]


# ---- `referral`: the volunteer sends a service to the seeker --------------------------------


def test_a_volunteer_sends_a_referral_and_the_seeker_gets_the_card(svc: FakeServices) -> None:
    """Given a chat, when its volunteer sends the referral `gb-cruse`, then the seeker gets a
    `referral` frame with the session and the whole service, the volunteer the same frame back,
    nothing is stored, and the only store call is the sender's counted connection."""
    session = _chat(svc)
    svc.store.calls.clear()
    with store_unchanged(svc):
        send(svc, "v1", {"action": "referral", "id": "gb-cruse"})
    expected = {"type": "referral", "sessionId": session, "item": _card("gb-cruse")}
    assert svc.notifier.take("s1") == [expected]
    assert svc.notifier.take("v1") == [expected]
    assert svc.store.calls == ["count_action"]


def test_a_referral_goes_to_the_named_chat_of_a_volunteer_with_several(svc: FakeServices) -> None:
    """Given a volunteer with two chats, when they send a referral naming the second chat,
    then only that chat's seeker gets it; without a sessionId it is `session_required` and
    nobody gets anything."""
    volunteer(svc, "v1", capacity=2, languages=["en", "es"])
    _chat(svc, "s1")
    second = _chat(svc, "s2")
    send(svc, "v1", {"action": "referral", "id": "us-nami-helpline"})
    [refused] = svc.notifier.take("v1")
    assert (refused["code"], refused["action"]) == ("session_required", "referral")
    send(svc, "v1", {"action": "referral", "sessionId": second, "id": "us-nami-helpline"})
    assert svc.notifier.take("s1") == []
    assert [f["item"]["id"] for f in svc.notifier.take("s2")] == ["us-nami-helpline"]


@pytest.mark.parametrize(
    ("sender", "frame", "code", "names"),
    [
        ("s1", {"action": "referral", "id": "gb-cruse"}, "not_allowed", None),
        ("v1", {"action": "referral", "id": "gb-no-such-service"}, "invalid_request", "id"),
        ("v1", {"action": "referral", "id": "GB-CRUSE"}, "invalid_request", "id"),
        ("v1", {"action": "referral", "id": ""}, "invalid_request", "id"),
        ("v1", {"action": "referral", "id": 7}, "invalid_request", "id"),
        ("v1", {"action": "referral"}, "invalid_request", "id"),
        ("v1", {"action": "referral", "sessionId": "other", "id": "gb-cruse"}, "not_in_chat", None),
    ],
    ids=["seeker", "unknown id", "upper case", "empty", "a number", "no id", "another chat"],
)
def test_a_referral_that_cannot_be_served_is_refused_and_sends_nothing(
    svc: FakeServices, sender: str, frame: dict[str, Any], code: str, names: str | None
) -> None:
    """Given a chat, when the seeker sends a referral, or the volunteer names a service the
    directory does not have (or no id, or a malformed one) or a chat that is not theirs, then
    the sender gets the `error` (naming `id` when the id is at fault), the other side gets
    nothing, and nothing is stored."""
    _chat(svc)
    with store_unchanged(svc):
        send(svc, sender, frame)
    [refused] = svc.notifier.take(sender)
    assert (refused["type"], refused["code"], refused["action"]) == ("error", code, "referral")
    if names:
        assert refused["message"].startswith(names)
    if isinstance(frame.get("id"), str) and frame["id"]:
        assert frame["id"] not in refused["message"]  # never echoes what was sent
    other = "v1" if sender == "s1" else "s1"
    assert svc.notifier.take(other) == []


def test_a_volunteer_with_no_chat_cannot_send_a_referral(svc: FakeServices) -> None:
    """Given a volunteer on shift with no chat, when they send a referral, then `not_in_chat`."""
    volunteer(svc, "v1")
    send(svc, "v1", {"action": "referral", "id": "gb-cruse"})
    [refused] = svc.notifier.take("v1")
    assert (refused["code"], refused["action"]) == ("not_in_chat", "referral")


def test_a_referral_to_a_seeker_who_is_gone_ends_the_chat_as_a_message_would(
    svc: FakeServices,
) -> None:
    """Given a chat whose seeker's socket is gone (410), when the volunteer sends a referral,
    then they hear `peer_gone` (not the card back) and the chat ends for them (`peer_left`)."""
    session = _chat(svc)
    svc.notifier.gone.add("s1")
    send(svc, "v1", {"action": "referral", "id": "gb-cruse"})
    got = svc.notifier.take("v1")
    assert [(f["type"], f.get("code"), f.get("action")) for f in got[:1]] == [
        ("error", "peer_gone", "referral")
    ]
    assert {"type": "ended", "sessionId": session, "reason": "peer_left"} in got
    assert all(f["type"] != "referral" for f in got)


# ---- `resources` honours `topic` ---------------------------------------------------------------


def _resources(svc: FakeServices, cid: str, **fields: Any) -> list[dict[str, Any]]:
    send(svc, cid, {"action": "resources", **fields})
    [frame] = svc.notifier.take(cid)
    assert (frame["type"], frame["reason"]) == ("resources", "requested")
    items: list[dict[str, Any]] = frame["items"]
    return items


def _lines(country: str) -> list[dict[str, Any]]:
    return [line.model_dump(exclude_none=True) for line in crisis_lines(country)]


def _as_item(referral_id: str) -> dict[str, Any]:
    card = _card(referral_id)
    return {k: v for k, v in card.items() if k not in ("id", "languages", "topics")}


def test_resources_with_a_topic_adds_the_countrys_services_for_it(svc: FakeServices) -> None:
    """Given a seeker, when they ask for resources in GB about grief, then they get the crisis
    lines of GB and the international ones first, then Cruse, shaped as a line; without a
    topic, the crisis lines alone, as before."""
    connect(svc, "s1")
    assert _resources(svc, "s1", country="GB", topic="grief") == [
        *_lines("GB"),
        _as_item("gb-cruse"),
    ]
    assert _resources(svc, "s1", country="GB") == _lines("GB")


def test_resources_by_topic_prefer_the_seekers_language(svc: FakeServices) -> None:
    """Given seekers who connected in Spanish and in English, when each asks for resources in
    Spain about family, then the Spanish speaker gets the Spanish services, and the English
    speaker the one that answers in English; about grief, where no Spanish service answers
    in English, the English speaker still gets the Spanish one (better than none)."""
    on_connect(svc, ConnectRequest("es1", "seeker", "", "", {"lang": "es-MX"}))
    connect(svc, "en1")
    spanish = _resources(svc, "es1", country="ES", topic="family")[len(_lines("ES")) :]
    english = _resources(svc, "en1", country="ES", topic="family")[len(_lines("ES")) :]
    assert [i["name"] for i in spanish] == [
        referrals.find(i).name  # type: ignore[union-attr]
        for i in ("es-telefono-esperanza", "es-anar", "es-016")
    ]
    assert english == [_as_item("es-016")]
    grief = _resources(svc, "en1", country="ES", topic="grief")[len(_lines("ES")) :]
    assert grief == [_as_item("es-telefono-esperanza")]


def test_resources_by_topic_use_the_default_country_and_need_a_country(svc: FakeServices) -> None:
    """Given no country in the frame, when a seeker asks about relationships, then the
    deployment's DefaultCountry decides; with none, there is no country to refer within, so
    only the international crisis lines come. A topic no service lists adds nothing."""
    connect(svc, "s1")
    assert _resources(svc, "s1", topic="relationships") == _lines("")
    us = make_services(default_country="US")
    connect(us, "s1")
    assert _resources(us, "s1", topic="relationships") == [
        *_lines("US"),
        _as_item("us-domestic-violence-hotline"),
    ]
    assert _resources(us, "s1", topic="identity") == _lines("US")
