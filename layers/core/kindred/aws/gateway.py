"""The Notifier on API Gateway's @connections API: post, get and delete a connection."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from kindred.observability import logger
from kindred.protocol import ServerFrame


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class GatewayNotifier:
    """Implements kindred.ports.Notifier: one PostToConnection per frame, 410 means gone."""

    def __init__(self, client: Any) -> None:
        self._api = client

    def send(self, connection_id: str, frame: ServerFrame) -> bool:
        try:
            self._api.post_to_connection(ConnectionId=connection_id, Data=frame.wire())
        except ClientError as exc:
            if _code(exc) == "GoneException" or _status(exc) == 410:
                logger.info("connection gone", extra={"frame": frame.type})
                return False
            raise
        return True

    def exists(self, connection_id: str) -> bool:
        try:
            self._api.get_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if _code(exc) == "GoneException" or _status(exc) == 410:
                return False
            raise
        return True

    def close(self, connection_id: str) -> None:
        try:
            self._api.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            if _code(exc) != "GoneException" and _status(exc) != 410:
                raise
