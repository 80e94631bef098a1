"""The table's layout: every partition and sort key Kindred writes, spelled in this one place.

One DynamoDB table; an item is told by its keys (`pk`, `sk`):

| item | pk | sk |
|---|---|---|
| a connection | `CONN#<connection id>` | `CONN` |
| a chat | `SESSION#<session id>` | `SESSION` |
| a resume ticket | `RESUME#<hash of the token>` | `RESUME` |
| a block | `BLOCK#<volunteer's user id>` | `SEEKER#<seeker key>` |
| a report | `REPORT#<report id>` | `REPORT` |
| a waiting seeker | `QUEUE` | the queue key (priority, time, connection id) |
| a volunteer's slot | `POOL` | connection id |
| a supervisor on shift | `SHIFT` | connection id |
| the pace of matches | `STATS` | `PACE` |

The adapter (kindred.aws.dynamo) and the tests that look at items through moto use these names;
nothing else spells a key.
"""

from __future__ import annotations

from typing import Any

QUEUE_PK = "QUEUE"
POOL_PK = "POOL"
SHIFT_PK = "SHIFT"
STATS_PK = "STATS"
PACE_SK = "PACE"
CONN_SK = "CONN"
SESSION_SK = "SESSION"
RESUME_SK = "RESUME"
REPORT_SK = "REPORT"
_CONN = "CONN#"
_SESSION = "SESSION#"
_RESUME = "RESUME#"
_BLOCK = "BLOCK#"
_SEEKER = "SEEKER#"
_REPORT = "REPORT#"


def conn_pk(connection_id: str) -> str:
    return _CONN + connection_id


def session_pk(session_id: str) -> str:
    return _SESSION + session_id


def resume_pk(resume_hash: str) -> str:
    return _RESUME + resume_hash


def block_pk(volunteer_user_id: str) -> str:
    return _BLOCK + volunteer_user_id


def block_sk(seeker_key: str) -> str:
    return _SEEKER + seeker_key


def report_pk(report_id: str) -> str:
    return _REPORT + report_id


def key(pk: str, sk: str) -> dict[str, Any]:
    """An item's key as DynamoDB's low-level API takes it."""
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def conn_key(connection_id: str) -> dict[str, Any]:
    return key(conn_pk(connection_id), CONN_SK)


def session_key(session_id: str) -> dict[str, Any]:
    return key(session_pk(session_id), SESSION_SK)


def resume_key(resume_hash: str) -> dict[str, Any]:
    return key(resume_pk(resume_hash), RESUME_SK)


def block_key(volunteer_user_id: str, seeker_key: str) -> dict[str, Any]:
    return key(block_pk(volunteer_user_id), block_sk(seeker_key))


def connection_id_of(pk: str, sk: str) -> str | None:
    """The connection id of a connection item's keys; None for any other item."""
    return pk.removeprefix(_CONN) if sk == CONN_SK and pk.startswith(_CONN) else None


def session_id_of(pk: str, sk: str) -> str | None:
    """The session id of a chat item's keys; None for any other item."""
    return pk.removeprefix(_SESSION) if sk == SESSION_SK and pk.startswith(_SESSION) else None


def block_of(pk: str, sk: str) -> tuple[str, str]:
    """(volunteer's user id, seeker key) of a block item's keys."""
    return pk.removeprefix(_BLOCK), sk.removeprefix(_SEEKER)


def resume_hash_of(pk: str) -> str | None:
    """The token hash of a resume ticket's partition key; None for any other item."""
    return pk.removeprefix(_RESUME) if pk.startswith(_RESUME) else None
