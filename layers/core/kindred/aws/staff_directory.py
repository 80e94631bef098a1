"""The StaffDirectory port on Cognito: the user pool's admin calls, made by the admin function."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from kindred.ports import AccountRefusal, AccountRefused, StaffMember

# The groups an account is listed with: the role groups and `coordinators` (issue 13).
GROUPS = ("supervisors", "volunteers", "trainees", "coordinators")
# A Cognito `sub` is a UUID; anything else is not looked up (it would break out of the filter).
_SUB = re.compile(r"^[0-9A-Za-z-]{1,128}$")
PAGE = 60  # ListUsers' and ListUsersInGroup's largest page
MAX_PAGES = 50  # 3,000 accounts: far more than a small organisation has

# Cognito's errors, as what they mean for a coordinator's request.
_REFUSALS: dict[str, AccountRefusal] = {
    "UsernameExistsException": "exists",
    "AliasExistsException": "exists",
    "UserNotFoundException": "not_found",
    "ResourceNotFoundException": "no_group",
    "InvalidParameterException": "invalid",
    "CodeDeliveryFailureException": "invalid",
    "TooManyRequestsException": "throttled",
    "LimitExceededException": "throttled",
}


def _refused(exc: ClientError) -> AccountRefused | None:
    error = exc.response.get("Error", {})
    reason = _REFUSALS.get(str(error.get("Code", "")))
    return AccountRefused(reason, str(error.get("Message", ""))) if reason else None


class CognitoStaffDirectory:
    """Implements kindred.ports.StaffDirectory on one user pool, with the admin function's
    role (each call allowed on this pool only). The client is made on first use."""

    def __init__(self, client: Callable[[], Any], user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self._client(), operation)(
                UserPoolId=self._pool, **params
            )
        except ClientError as exc:
            refused = _refused(exc)
            if refused is None:
                raise
            raise refused from None
        return answer

    def _pages(self, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = self._call(
                operation, Limit=PAGE, **params, **({"NextToken": token} if token else {})
            )
            yield from page.get("Users", [])
            token = page.get("NextToken") or page.get("PaginationToken")
            if not token:
                return

    def list_members(self) -> list[StaffMember]:
        users = list(self._list_users())
        members: dict[str, set[str]] = {u["Username"]: set() for u in users}
        for group in GROUPS:
            try:
                for user in self._pages("list_users_in_group", GroupName=group):
                    members.setdefault(user["Username"], set()).add(group)
            except AccountRefused as refused:
                if refused.reason != "no_group":  # a pool without `trainees`: nobody in it
                    raise
        return [_member(u, members[u["Username"]]) for u in users]

    def _list_users(self, **params: Any) -> Iterator[dict[str, Any]]:
        # ListUsers pages with PaginationToken, not NextToken.
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = self._call(
                "list_users", Limit=PAGE, **params, **({"PaginationToken": token} if token else {})
            )
            yield from page.get("Users", [])
            token = page.get("PaginationToken")
            if not token:
                return

    def find(self, user_id: str) -> StaffMember | None:
        if not _SUB.match(user_id):
            return None
        found = self._call("list_users", Filter=f'sub = "{user_id}"', Limit=1).get("Users", [])
        if not found:
            return None
        user = found[0]
        groups = self._call("admin_list_groups_for_user", Username=user["Username"], Limit=60)
        return _member(user, {g["GroupName"] for g in groups.get("Groups", [])})

    def create(self, email: str, name: str) -> StaffMember:
        # No TemporaryPassword and no MessageAction: Cognito makes the password and e-mails it
        # (the pool's invitation message); this function never sees it.
        user = self._call(
            "admin_create_user",
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name},
            ],
            DesiredDeliveryMediums=["EMAIL"],
        )["User"]
        return _member(user, set())

    def add_to_group(self, member: StaffMember, group: str) -> None:
        self._call("admin_add_user_to_group", Username=member.handle, GroupName=group)

    def remove_from_group(self, member: StaffMember, group: str) -> None:
        self._call("admin_remove_user_from_group", Username=member.handle, GroupName=group)

    def disable(self, member: StaffMember) -> None:
        self._call("admin_disable_user", Username=member.handle)

    def enable(self, member: StaffMember) -> None:
        self._call("admin_enable_user", Username=member.handle)

    def delete(self, member: StaffMember) -> None:
        self._call("admin_delete_user", Username=member.handle)

    def sign_out(self, member: StaffMember) -> None:
        self._call("admin_user_global_sign_out", Username=member.handle)


def _member(user: dict[str, Any], groups: set[str]) -> StaffMember:
    attributes = {a["Name"]: a.get("Value", "") for a in user.get("Attributes", [])}
    return StaffMember(
        user_id=attributes.get("sub", ""),
        handle=str(user["Username"]),
        email=attributes.get("email", ""),
        name=attributes.get("name", ""),
        groups=frozenset(groups),
        enabled=bool(user.get("Enabled", True)),
        status=str(user.get("UserStatus", "")),
    )
