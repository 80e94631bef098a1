"""The organisation's referral directory: services beyond crisis lines, by country and topic.

The directory is a data file (`kindred/data/referrals.json`) the organisation edits; it is read
and checked once per process. The same file gives the console its list (config.json's
`referrals`, through kindred.page_config) and the server the ids it accepts in `referral`, so
the two cannot drift apart within a deployment.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kindred.protocol import LanguageTag, ReferralId, ReferralItem, ResourceItem, TopicId

# A number to call or text as people write it: digits, spaces and dashes, an optional "+".
PHONE_PATTERN = r"^\+?[0-9][0-9 -]{1,23}[0-9]$"


def _https(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an https:// address")
    return value


class _Service(BaseModel):
    """One service as the data file gives it; a file that breaks a rule fails when read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ReferralId
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=400)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    languages: list[LanguageTag] = Field(min_length=1)
    topics: list[TopicId] = Field(min_length=1)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    sms: str | None = Field(default=None, pattern=PHONE_PATTERN)
    url: str | None = None
    hours: str = Field(min_length=1, max_length=120)
    source: str  # where the number and hours were checked
    reviewed: date  # when

    @field_validator("url", "source")
    @classmethod
    def _links_are_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value)

    @model_validator(mode="after")
    def _reachable(self) -> _Service:
        if not (self.phone or self.sms or self.url):
            raise ValueError(f"{self.id}: give at least one of phone, sms, url")
        return self

    def item(self) -> ReferralItem:
        return ReferralItem.model_validate(self.model_dump(exclude={"source", "reviewed"}))


def read_directory(text: str) -> tuple[ReferralItem, ...]:
    """The services of a directory file's text, checked: every rule of _Service, ids unique."""
    raw = json.loads(text)
    services = [_Service.model_validate(entry) for entry in raw["services"]]
    ids = [service.id for service in services]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"a referral id appears twice: {', '.join(twice)}")
    return tuple(service.item() for service in services)


@cache
def directory() -> tuple[ReferralItem, ...]:
    """Every service of the directory, in the file's order (read once per process)."""
    text = resources.files("kindred.data").joinpath("referrals.json").read_text(encoding="utf-8")
    return read_directory(text)


def find(referral_id: str) -> ReferralItem | None:
    """The service with this id; None when the directory has none."""
    return next((item for item in directory() if item.id == referral_id), None)


def _speaks(item: ReferralItem, language: str) -> bool:
    wanted = language.lower()
    return any(
        spoken.lower() == wanted or spoken.lower().split("-")[0] == wanted.split("-")[0]
        for spoken in item.languages
    )


def for_topic(country: str | None, language: str, topic: str) -> list[ReferralItem]:
    """The services of a country for a topic, those in the seeker's language; when none of
    them speaks it, all of them (a service in another language beats none). No country: none."""
    code = (country or "").strip().upper()
    found = [item for item in directory() if item.country == code and topic in item.topics]
    spoken = [item for item in found if _speaks(item, language)]
    return spoken or found


def as_resource(item: ReferralItem) -> ResourceItem:
    """A service as a `resources` frame lists it (the shape of a crisis line)."""
    return ResourceItem.model_validate(
        item.model_dump(include={"name", "description", "country", "phone", "sms", "url", "hours"})
    )


def page_directory() -> list[dict[str, object]]:
    """The whole directory as config.json gives it to the console."""
    return [item.model_dump(exclude_none=True) for item in directory()]
