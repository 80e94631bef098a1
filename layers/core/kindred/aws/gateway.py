"""The Notifier on API Gateway's @connections API: post, get and delete a connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from kindred.observability import logger
from kindred.ports import Undelivered
from kindred.protocol import ServerFrame


def _answered(call: Callable[..., Any], connection_id: str, **kwargs: Any) -> bool:
    """Make one @connections call: True if it was answered, False if the connection is gone
    (GoneException, 410); any other error (past the SDK's retries) is raised as Undelivered."""
    try:
        call(ConnectionId=connection_id, **kwargs)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code == "GoneException" or status == 410:
            return False
        raise Undelivered(f"{code} ({status})") from exc
    return True


class GatewayNotifier:
    """Implements kindred.ports.Notifier: one PostToConnection per frame, 410 means gone."""

    def __init__(self, client: Any) -> None:
        self._api = client

    def send(self, connection_id: str, frame: ServerFrame) -> bool:
        sent = _answered(self._api.post_to_connection, connection_id, Data=frame.wire())
        if not sent:
            logger.info("connection gone", extra={"frame": frame.type})
        return sent

    def exists(self, connection_id: str) -> bool:
        return _answered(self._api.get_connection, connection_id)

    def close(self, connection_id: str) -> None:
        _answered(self._api.delete_connection, connection_id)
