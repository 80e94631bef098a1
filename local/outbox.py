"""The local stack's outbox: the invitations Cognito would e-mail, kept here (never deployed).

Cognito's AdminCreateUser without a TemporaryPassword makes one and e-mails it (with
DesiredDeliveryMediums EMAIL, unless MessageAction is SUPPRESS). moto sends nothing, and
without a TemporaryPassword it gives the user no password at all (None), so no password can
ever sign in. While `delivering()` lasts, moto does what Cognito does, and the "e-mail" lands
here: the invited person's address and temporary password, which `make run` prints and the
web server shows at /outbox. The admin function's code is the same as in the cloud.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any
from unittest import mock


@dataclass(frozen=True)
class Invitation:
    """What Cognito's invitation e-mail tells the invited person."""

    email: str
    temporary_password: str
    sent_at: float


def temporary_password() -> str:
    """A password that meets the pool's policy (12+, upper, lower, digit, symbol), as
    Cognito makes one."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{body}Aa1!"


class LocalOutbox:
    """The invitations sent while `delivering()` lasted, oldest first."""

    def __init__(self, on_sent: Callable[[Invitation], None] | None = None) -> None:
        self._sent: list[Invitation] = []
        self._lock = threading.Lock()
        self._on_sent = on_sent

    def sent(self) -> list[Invitation]:
        with self._lock:
            return list(self._sent)

    def messages(self) -> list[dict[str, Any]]:
        """The invitations as JSON objects (for the web server's /outbox.json)."""
        return [asdict(i) for i in self.sent()]

    def password_for(self, email: str) -> str:
        """The temporary password of the latest invitation to `email`."""
        found = [i for i in self.sent() if i.email.lower() == email.lower()]
        if not found:
            raise LookupError(f"no invitation was sent to {email}")
        return found[-1].temporary_password

    def _deliver(self, invitation: Invitation) -> None:
        with self._lock:
            self._sent.append(invitation)
        if self._on_sent is not None:
            self._on_sent(invitation)

    @contextmanager
    def delivering(self) -> Iterator[LocalOutbox]:
        """moto's AdminCreateUser as Cognito's: a temporary password made and "e-mailed"."""
        from moto.cognitoidp.responses import CognitoIdpResponse

        original = CognitoIdpResponse.admin_create_user
        outbox = self

        def admin_create_user(handler: Any) -> Any:
            given = handler._get_param("TemporaryPassword")
            action = handler._get_param("MessageAction")
            mediums = handler._get_param("DesiredDeliveryMediums") or ["SMS"]
            answer = original(handler)
            if given or action == "SUPPRESS":
                return answer
            password = temporary_password()
            pool, username = handler._get_param("UserPoolId"), handler._get_param("Username")
            user = handler.backend.admin_get_user(pool, username)
            user.password = password
            email = next((a["Value"] for a in user.attributes if a["Name"] == "email"), "")
            if "EMAIL" in mediums and email:
                outbox._deliver(Invitation(email, password, time.time()))
            return answer

        with mock.patch.object(CognitoIdpResponse, "admin_create_user", admin_create_user):
            yield self


def outbox_page(invitations: list[Invitation]) -> bytes:
    """/outbox: the invitations as a plain page (no script), newest first."""
    from html import escape

    rows = "".join(
        f"<tr><td>{escape(time.strftime('%H:%M:%S', time.localtime(i.sent_at)))}</td>"
        f"<td>{escape(i.email)}</td><td><code>{escape(i.temporary_password)}</code></td></tr>"
        for i in reversed(invitations)
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Local outbox</title></head><body>"
        "<h1>Local outbox</h1><p>The invitations Cognito would have e-mailed (local stack "
        "only: nothing is sent). Sign in at the console with the address and the temporary "
        "password; you are then asked for a new password.</p>"
        "<table><thead><tr><th>Sent</th><th>To</th><th>Temporary password</th></tr></thead>"
        f"<tbody>{rows or '<tr><td colspan=3>No invitation yet.</td></tr>'}</tbody></table>"
        "</body></html>"
    ).encode()
