"""Resume tickets: a seeker's way back to their place after a dropped connection.

A seeker holds the token; the table holds only its hash, so the table alone cannot resume
anyone. A new token comes with every `queued` (and with `resumed`), and the one before stops
working.
"""

from __future__ import annotations

import hashlib
import secrets


def resume_hash(token: str) -> str:
    """What the table stores of a resume token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_resume_token() -> tuple[str, str]:
    """A fresh token for the seeker, and its hash for the table."""
    token = secrets.token_urlsafe(32)
    return token, resume_hash(token)
