"""Settings from environment variables, validated once per cold start."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError, field_validator

if TYPE_CHECKING:
    from kindred.hours import Hours


class ConfigError(RuntimeError):
    """A required setting is missing or invalid: the function cannot start."""


class Settings(BaseModel):
    """Every setting a Kindred function reads; the template sets them all in Globals."""

    table_name: str = Field(min_length=1)
    match_queue_url: str = Field(min_length=1)
    websocket_endpoint: str = Field(
        min_length=1
    )  # https://{api}.execute-api.{region}.amazonaws.com/{stage}
    sealing_key_parameter: str = Field(min_length=1)  # SSM SecureString sealing intros, notes
    region: str = Field(min_length=1)
    allowed_origins: tuple[str, ...] = ()
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    cognito_issuer: str = ""  # default: https://cognito-idp.{region}.amazonaws.com/{pool}
    cognito_jwks_url: str = ""  # default: {issuer}/.well-known/jwks.json
    resume_grace_seconds: int = Field(default=120, ge=10, le=3600)
    connection_ttl_seconds: int = Field(default=3 * 3600, ge=600)
    session_retention_hours: int = Field(default=24, ge=1, le=24 * 30)
    report_retention_days: int = Field(default=30, ge=1, le=365)
    block_retention_days: int = Field(default=90, ge=1, le=3650)
    # Matching and the queue (issue 4).
    # How long a seeker who chose topics waits for a volunteer who lists one of them before any
    # volunteer who speaks their language will do. At most SQS's longest message delay (900 s):
    # the matcher is woken once that long after `match` (see matching.request_match).
    topic_fallback_seconds: int = Field(default=60, ge=0, le=900)
    # After a matcher pass, at most this many of the first waiting seekers hear `position`.
    position_updates: int = Field(default=20, ge=0, le=100)
    # Every action but `ping` counts: at most `rate_limit_actions` in any `rate_limit_window`.
    # The limit is capped at 60: the connection item keeps one timestamp per allowed action.
    rate_limit_actions: int = Field(default=30, ge=1, le=60)
    rate_limit_window_seconds: int = Field(default=10, ge=1, le=3600)
    # Abuse limits (issue 11): new seeker connections per source address (hashed) and minute;
    # 0 turns the budget off (the local stack, where every client shares one address).
    max_connections_per_source_per_minute: int = Field(default=30, ge=0, le=100_000)
    default_language: str = "en"
    default_country: str = ""  # ISO 3166 alpha-2: whose crisis lines a seeker sees first
    # Safety at the edges (issue 9). A seeker who has waited this long hears it, with the crisis
    # lines, and keeps their place; minutes, fractions allowed (a test stack waits seconds).
    max_wait_minutes: float = Field(default=20, gt=0, le=24 * 60)
    # The weekly schedule as JSON (kindred.hours); empty: open 24/7.
    opening_hours: str = ""
    # Care for volunteers (issue 12, kindred.care). After a chat whose level was `high` or
    # `imminent` when it ended, the volunteer takes no new chat for this long (0: no pause);
    # minutes, fractions allowed (a test stack pauses seconds).
    risk_pause_minutes: float = Field(default=5, ge=0, le=240)
    # New chats stop once a shift is this long (0: no cap); hours, fractions allowed.
    shift_cap_hours: float = Field(default=4, ge=0, le=24)
    # Coming back (issue 13, kindred.return_keys): how long a seeker's opt-in return key leads
    # back to the volunteer they last talked with (0: the feature is off).
    return_key_days: int = Field(default=14, ge=0, le=365)

    @field_validator("opening_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        if value.strip():  # a ValueError names what is wrong
            from kindred.hours import parse  # only a deployment with hours pays for zoneinfo

            parse(value)
        return value

    @property
    def schedule(self) -> Hours | None:
        """The opening hours; None when open 24/7."""
        if not self.opening_hours.strip():
            return None
        from kindred.hours import parse

        return parse(self.opening_hours)

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value

    @property
    def issuer(self) -> str:
        return (
            self.cognito_issuer
            or f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_user_pool_id}"
        )

    @property
    def jwks_url(self) -> str:
        return self.cognito_jwks_url or f"{self.issuer}/.well-known/jwks.json"


_ENV = {
    "table_name": "TABLE_NAME",
    "match_queue_url": "MATCH_QUEUE_URL",
    "websocket_endpoint": "WEBSOCKET_ENDPOINT",
    "sealing_key_parameter": "SEALING_KEY_PARAMETER",
    "region": "AWS_REGION",
    "allowed_origins": "ALLOWED_ORIGINS",
    "cognito_user_pool_id": "COGNITO_USER_POOL_ID",
    "cognito_client_id": "COGNITO_CLIENT_ID",
    "cognito_issuer": "COGNITO_ISSUER",
    "cognito_jwks_url": "COGNITO_JWKS_URL",
    "resume_grace_seconds": "RESUME_GRACE_SECONDS",
    "connection_ttl_seconds": "CONNECTION_TTL_SECONDS",
    "session_retention_hours": "SESSION_RETENTION_HOURS",
    "report_retention_days": "REPORT_RETENTION_DAYS",
    "block_retention_days": "BLOCK_RETENTION_DAYS",
    "topic_fallback_seconds": "TOPIC_FALLBACK_SECONDS",
    "position_updates": "POSITION_UPDATES",
    "rate_limit_actions": "RATE_LIMIT_ACTIONS",
    "rate_limit_window_seconds": "RATE_LIMIT_WINDOW_SECONDS",
    "max_connections_per_source_per_minute": "MAX_CONNECTIONS_PER_SOURCE_PER_MINUTE",
    "default_language": "DEFAULT_LANGUAGE",
    "default_country": "DEFAULT_COUNTRY",
    "max_wait_minutes": "MAX_WAIT_MINUTES",
    "opening_hours": "OPENING_HOURS",
    "risk_pause_minutes": "RISK_PAUSE_MINUTES",
    "shift_cap_hours": "SHIFT_CAP_HOURS",
    "return_key_days": "RETURN_KEY_DAYS",
}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate the settings; a bad one is a ConfigError naming the variable."""
    env = os.environ if environ is None else environ
    raw = {field: env[var] for field, var in _ENV.items() if env.get(var, "") != ""}
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        names = ", ".join(_ENV[str(err["loc"][0])] for err in exc.errors() if err["loc"])
        raise ConfigError(f"invalid or missing settings: {names}") from None


@cache
def settings() -> Settings:
    """The settings of this process, read once (cold start)."""
    return load_settings()
