"""HTTP on loopback for the local stack, its tests and benches: a server on a thread of its own,
and a request handler that logs nothing and answers in one call."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs no request: one line per request would drown what matters."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def answer(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """The status, Content-Type and Content-Length, then `headers`, then the body (none to
        a HEAD)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)


class BackgroundHTTPServer(ThreadingHTTPServer):
    """Serves on a daemon thread from start() until stop(); a request never holds up stop()."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        name: str,
        poll_interval: float = 0.1,
    ) -> None:
        super().__init__(address, handler)
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )

    @property
    def origin(self) -> str:
        """http://host:port"""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2)
