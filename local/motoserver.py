"""A moto server on loopback that serves one request at a time, so transactions are atomic."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server


class _Serialized:
    """moto applies a transaction item by item; one request at a time makes it all-or-nothing
    for every other client, which is what DynamoDB guarantees."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class _Preflight:
    """Answers a browser's CORS preflight as AWS's JSON endpoints do (Cognito's sign-in from
    the console's page, another origin): 200, any origin, the asked method and headers.

    moto routes a bare OPTIONS, which names no service, to S3, whose IAM check then fails on
    the missing Authorization header: a browser could not sign in to the local stack."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if environ.get("REQUEST_METHOD") != "OPTIONS" or not asked:
            return self._app(environ, start_response)  # type: ignore[no-any-return]
        headers = [
            ("Access-Control-Allow-Origin", environ.get("HTTP_ORIGIN", "*")),
            ("Access-Control-Allow-Methods", asked),
            (
                "Access-Control-Allow-Headers",
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""),
            ),
            ("Access-Control-Max-Age", "300"),
            ("Vary", "Origin"),
            ("Content-Length", "0"),
        ]
        start_response("200 OK", headers)
        return [b""]


class _QuietHandler(MotoRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per AWS call would drown what matters


class MotoServer:
    """Start with `start()`, read `endpoint`, stop with `stop()`.

    moto keeps its state (tables, pools, queues, items) per process, not per server: the first
    server of a process to start resets it, so a stack started after another one stopped
    begins empty (its tables and accounts otherwise kept what the last stack left, such as a
    volunteer's risk pause). A server started while another runs shares its state.
    """

    _running = 0
    _count_lock = threading.Lock()

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = _Preflight(_Serialized(DomainDispatcherApplication(create_backend_app)))
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> MotoServer:
        with MotoServer._count_lock:
            if MotoServer._running == 0:
                from moto.moto_api._internal.models import moto_api_backend

                moto_api_backend.reset()
            MotoServer._running += 1
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        with MotoServer._count_lock:
            MotoServer._running -= 1
