"""Accounts from the console (issue 13): a coordinator invites and manages staff accounts.

Served by the admin function alone (its role is the only one with Cognito's admin calls). A
frame is refused `not_allowed` unless the sender's connection item says coordinator (the
authorizer found a supervisor in `coordinators`); a coordinator cannot lock themself out.
Each change is logged with the acting and the target account ids (`sub`s), never an address
or a name.
"""

from __future__ import annotations

from typing import Any, Final

from kindred.observability import logger, metrics
from kindred.ports import AccountRefused, StaffMember
from kindred.protocol import (
    AccountGroup,
    Accounts,
    AccountsOut,
    ProtocolError,
    StaffAccount,
    parse_action,
)
from kindred.records import Connection
from kindred.requests import MessageRequest
from kindred.services import Services

OK: Final[dict[str, Any]] = {"statusCode": 200}
ROLE_GROUPS: Final[tuple[AccountGroup, ...]] = ("supervisors", "volunteers", "trainees")
COORDINATORS: Final = "coordinators"
_ON_SELF: Final = frozenset({"set_group", "disable", "remove", "sign_out"})

# What each refusal of the user pool tells the coordinator.
_REFUSED: Final[dict[str, tuple[str, str]]] = {
    "exists": ("invalid_request", "An account with this e-mail address already exists."),
    "not_found": ("invalid_request", "This account no longer exists."),
    "no_group": ("invalid_request", "This group does not exist in the user pool."),
    "throttled": (
        "rate_limited",
        "Cognito is busy or its daily e-mail limit is reached: try later.",
    ),
}


def handle(svc: Services, req: MessageRequest, routes: frozenset[str]) -> dict[str, Any]:
    """Serve one `accounts` frame; every refusal is an `error` frame to the sender."""
    try:
        if req.route_key not in routes:
            raise ProtocolError("unknown_action", "This action is not served here.")
        action = parse_action(req.body)
        if not isinstance(action, Accounts) or action.action != req.route_key:
            raise ProtocolError("unknown_action", "This action is not served here.")
        conn = svc.connections.get_connection(req.connection_id)
        if conn is None or not conn.coordinator or conn.role != "supervisor":
            raise ProtocolError(
                "not_allowed", "Only a coordinator may manage accounts.", action="accounts"
            )
        if conn.token_expires_at is not None and conn.token_expires_at <= int(svc.clock()):
            raise ProtocolError(
                "session_expired", "Your sign-in has run out: sign in again.", action="accounts"
            )
        target = _serve(svc, conn, action)
        listed = svc.staff.list_members()
        svc.notifier.send(
            req.connection_id,
            AccountsOut(
                op=action.op,
                user=target,
                accounts=[_shown(m, conn.user_id) for m in _sorted(listed)],
            ),
        )
    except ProtocolError as exc:
        exc.action = exc.action or "accounts"
        metrics.add_metric(name=f"Error_{exc.code}", unit="Count", value=1)
        logger.info("refused", extra={"code": exc.code, "action": exc.action})
        svc.notifier.send(req.connection_id, exc.frame())
    except Exception:
        logger.exception("action failed", extra={"action": "accounts"})
        metrics.add_metric(name="Error_internal", unit="Count", value=1)
        svc.notifier.send(
            req.connection_id,
            ProtocolError(
                "internal", "Something went wrong on our side. Please try again.", action="accounts"
            ).frame(),
        )
    return OK


def _serve(svc: Services, conn: Connection, action: Accounts) -> str | None:
    """Do what `action` asks; returns the account it was done to (None for `list`)."""
    if action.op == "list":
        return None
    try:
        if action.op == "invite":
            group = _given(action.group)
            invited = svc.staff.create(_given(action.email), _given(action.name))
            svc.staff.add_to_group(invited, group)
            _log(conn, "invite", invited.user_id, group=group)
            return invited.user_id
        user = _given(action.user)
        if action.op in _ON_SELF and user == conn.user_id:
            raise ProtocolError(
                "not_allowed",
                "You cannot change, disable, remove or sign out your own account here: ask "
                "another coordinator.",
            )
        member = svc.staff.find(user)
        if member is None:
            raise ProtocolError("invalid_request", "This account no longer exists.")
        _change(svc, member, action)
    except AccountRefused as refused:
        code, message = _REFUSED.get(
            refused.reason, ("invalid_request", refused.message or "Cognito refused it.")
        )
        raise ProtocolError(code, message) from None  # type: ignore[arg-type]
    _log(conn, action.op, member.user_id)
    return member.user_id


def _change(svc: Services, member: StaffMember, action: Accounts) -> None:
    staff = svc.staff
    if action.op == "set_group":
        wanted: set[str] = {_given(action.group)}
        keep = member.groups & {COORDINATORS} if action.coordinator is None else set()
        if action.group == "supervisors" and (action.coordinator or keep):
            wanted.add(COORDINATORS)  # only a supervisor can be a coordinator
        # Added first: a group the pool refuses leaves the account in the groups it had.
        groups = (*ROLE_GROUPS, COORDINATORS)
        for group in (g for g in groups if g in wanted and g not in member.groups):
            staff.add_to_group(member, group)
        for group in (g for g in groups if g in member.groups and g not in wanted):
            staff.remove_from_group(member, group)
    elif action.op == "disable":
        # Disabled: no new sign-in; signed out: no new ID token, so no `reauth`. The sweeper
        # closes the account's open connections within a minute (kindred.sweeper).
        staff.disable(member)
        staff.sign_out(member)
    elif action.op == "enable":
        staff.enable(member)
    elif action.op == "remove":
        if member.enabled:
            # As the AWS console asks: disabled first, so that the sweeper closes its open
            # connections (a deleted account is left to its token's expiry).
            raise ProtocolError("invalid_request", "Disable the account first, then remove it.")
        staff.delete(member)
    elif action.op == "sign_out":
        staff.sign_out(member)


def _given(value: str | None) -> str:
    """A field the op needs (the model has checked it is there)."""
    if value is None:
        raise ProtocolError("invalid_request", "A field this op needs is missing.")
    return value


def _log(conn: Connection, op: str, target: str, **extra: str) -> None:
    metrics.add_metric(name="AccountChanges", unit="Count", value=1)
    logger.info("account changed", extra={"op": op, "by": conn.user_id, "user": target, **extra})


def _group_of(member: StaffMember) -> AccountGroup | None:
    return next((g for g in ROLE_GROUPS if g in member.groups), None)


def _sorted(members: list[StaffMember]) -> list[StaffMember]:
    return sorted(members, key=lambda m: (m.name.casefold(), m.email.casefold(), m.user_id))


def _shown(member: StaffMember, own_id: str) -> StaffAccount:
    return StaffAccount(
        user=member.user_id,
        email=member.email,
        name=member.name,
        group=_group_of(member),
        coordinator=COORDINATORS in member.groups and "supervisors" in member.groups,
        enabled=member.enabled,
        status=member.status,
        you=True if member.user_id == own_id else None,
    )
