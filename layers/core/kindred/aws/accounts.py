"""The Accounts port on Cognito: which staff accounts are disabled (ListUsers by sub)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# A Cognito `sub` is a UUID; anything else is not looked up (it would break out of the filter).
_SUB = re.compile(r"^[0-9A-Za-z-]{1,128}$")


class CognitoAccounts:
    """Implements kindred.ports.Accounts: one ListUsers call per account asked after.

    ListUsers with `sub = "..."` finds an account whatever its username (with e-mail as the
    login, Cognito's username is not the e-mail); one with `Enabled` false is disabled. Only
    that positive answer closes a connection: an account not found (deleted, or a pool id
    set wrong) is left to its token's expiry, so a misconfiguration never closes everyone.
    The client is made on first use: only the sweeper asks.
    """

    def __init__(self, client: Callable[[], Any], user_pool_id: str) -> None:
        self._make_client = client
        self._client: Any = None
        self._user_pool_id = user_pool_id

    def inactive(self, user_ids: list[str]) -> set[str]:
        if not user_ids or not self._user_pool_id:
            return set()
        if self._client is None:
            self._client = self._make_client()
        cognito = self._client
        gone: set[str] = set()
        for user_id in user_ids:
            if not _SUB.match(user_id):
                continue  # no account has such a sub: nothing to ask
            users = cognito.list_users(
                UserPoolId=self._user_pool_id,
                Filter=f'sub = "{user_id}"',
                Limit=1,
                AttributesToGet=["sub"],
            ).get("Users", [])
            if users and users[0].get("Enabled") is False:
                gone.add(user_id)
        return gone
