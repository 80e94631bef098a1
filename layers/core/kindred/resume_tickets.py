"""Resume tickets: a seeker's way back to their place after a dropped connection.

A seeker holds the token; the table holds only its hash, so the table alone cannot resume
anyone. A new token comes with every `queued` (and with `resumed`), and the one before stops
working.
"""

from __future__ import annotations

import hashlib
import secrets

from kindred.records import Ticket
from kindred.services import Services


def resume_hash(token: str) -> str:
    """What the table stores of a resume token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_ticket(svc: Services) -> tuple[str, Ticket]:
    """A fresh token for the seeker, and the ticket the table keeps of it: its hash, expiring
    with the connection."""
    token = secrets.token_urlsafe(32)
    expires_at = int(svc.clock()) + svc.settings.connection_ttl_seconds
    return token, Ticket(resume_hash(token), expires_at)
