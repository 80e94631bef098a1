"""What a handler needs of an API Gateway WebSocket event: its connection and what it carries."""

from __future__ import annotations

from dataclasses import field

from kindred.frozen import Frozen


class ConnectRequest(Frozen):
    """A `$connect`: the connection, and what the authorizer found of whoever opens it."""

    connection_id: str
    role: str
    user_id: str
    alias: str
    query: dict[str, str] = field(default_factory=dict)
    token_expires_at: int | None = None  # staff: the ID token's `exp`, from the authorizer
    source_ip: str = ""  # for the connection budget only (kindred.admission): never stored
    practice: bool = False  # a supervisor playing a seeker (kindred.practice), per the authorizer
    coordinator: bool = False  # issue 13: the authorizer found the `coordinators` group


class DisconnectRequest(Frozen):
    """A `$disconnect`: the connection, and how it closed (API Gateway's code and reason)."""

    connection_id: str
    status_code: int
    reason: str


class MessageRequest(Frozen):
    """A frame: the connection, the route API Gateway chose, and the body as sent."""

    connection_id: str
    route_key: str
    body: str | None
