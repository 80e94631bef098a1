"""API Gateway's @connections management API over HTTP, as botocore's client expects it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from local.gateway import GoneError, PayloadTooLargeError
from local.http_server import BackgroundHTTPServer, QuietHandler

log = logging.getLogger("local.connections")


class Connections(Protocol):
    """What the API manages; WebSocketGateway implements it (thread-safe)."""

    def post(self, connection_id: str, data: bytes) -> None: ...
    def get(self, connection_id: str) -> dict[str, Any]: ...
    def delete(self, connection_id: str) -> None: ...


# (Authorization header, method, resource ARN) -> None if allowed, else (error type, message).
Authorizer = Callable[[str, str, str], "tuple[str, str] | None"]


class _Handler(QuietHandler):
    server: ConnectionsApiServer
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects

    def _connection_id(self) -> str | None:
        """The id in /<stage>/@connections/<id>; None for any other path."""
        path = urlsplit(self.path).path
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != self.server.stage:
            return None
        if unquote(parts[1]) != "@connections" or not parts[2]:
            return None
        return unquote(parts[2])

    def _answer(
        self, status: int, body: dict[str, Any] | None = None, error_type: str | None = None
    ) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        # botocore reads the error code from x-amzn-ErrorType (rest-json protocol).
        errors = {"x-amzn-ErrorType": error_type} if error_type is not None else {}
        self.answer(status, data, "application/json", errors)

    def _serve(self, action: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        connection_id = self._connection_id()
        if connection_id is None:
            self._answer(HTTPStatus.FORBIDDEN, {"message": "Forbidden"}, "ForbiddenException")
            return
        server = self.server
        if server.authorize is not None:
            arn = f"{server.api_arn}/{server.stage}/{action}/@connections/{connection_id}"
            denial = server.authorize(self.headers.get("Authorization", ""), action, arn)
            if denial is not None:
                error_type, message = denial
                self._answer(HTTPStatus.FORBIDDEN, {"message": message}, error_type)
                return
        connections = server.connections
        try:
            if action == "POST":
                connections.post(connection_id, body)
                self._answer(HTTPStatus.OK)
            elif action == "GET":
                self._answer(HTTPStatus.OK, connections.get(connection_id))
            else:
                connections.delete(connection_id)
                self._answer(HTTPStatus.NO_CONTENT)
        except GoneError:
            self._answer(HTTPStatus.GONE, {"message": None}, "GoneException")
        except PayloadTooLargeError as exc:
            self._answer(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"message": f"Message too long: {exc}"},
                "PayloadTooLargeException",
            )
        except Exception:
            log.exception("@connections %s %s failed", action, connection_id)
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal server error"})

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def do_DELETE(self) -> None:
        self._serve("DELETE")


class ConnectionsApiServer(BackgroundHTTPServer):
    """POST/GET/DELETE /<stage>/@connections/<id> on loopback; 410 GoneException when gone,
    403 when the caller's role does not allow it (`authorize`)."""

    def __init__(
        self,
        address: tuple[str, int],
        connections: Connections,
        stage: str,
        *,
        api_arn: str = "",
        authorize: Authorizer | None = None,
    ) -> None:
        super().__init__(address, _Handler, name="connections-api")
        self.connections = connections
        self.stage = stage
        # arn:aws:execute-api:<region>:<account>:<api id>; with `authorize`, every call is
        # checked for execute-api:ManageConnections on <api_arn>/<stage>/<METHOD>/@connections/<id>.
        self.api_arn = api_arn
        self.authorize = authorize

    @property
    def endpoint(self) -> str:
        """The management endpoint a client is given: http://host:port/<stage>."""
        return f"{self.origin}/{self.stage}"
