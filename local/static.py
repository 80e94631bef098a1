"""Serves the web frontend (web/) and the config.json the local stack generates for it."""

from __future__ import annotations

import json
import mimetypes
import posixpath
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from local.http_server import BackgroundHTTPServer, QuietHandler
from local.outbox import Invitation, outbox_page

# Explicit types for what a web page uses: the system's MIME database varies between machines.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def site_config(path: Path) -> dict[str, Any]:
    """The deployment's topics, languages and canned replies (web/site.json)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    topics, languages = data.get("topics"), data.get("languages")
    replies = data.get("cannedReplies", {})
    if not isinstance(topics, list) or not isinstance(languages, list):
        raise ValueError(f"{path} needs a list of topics and a list of languages")
    if not isinstance(replies, dict):
        raise ValueError(f"{path}: cannedReplies is an object of lists of replies by language")
    return {"topics": topics, "languages": languages, "cannedReplies": replies}


_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The pages' own policy (their <meta http-equiv>), and what only a header can say: no other
# site may frame them. docs/operations.md asks every host to send the same.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' wss: https: ws: http://127.0.0.1:*; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {**_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY}


class _Handler(QuietHandler):
    server: StaticServer
    protocol_version = "HTTP/1.1"

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.answer(status, body, kind, _PAGE_HEADERS if kind.startswith("text/html") else _HEADERS)

    def _not_found(self) -> None:
        self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8")

    def _resolve(self, url_path: str) -> Path | None:
        """The file or directory under the web root this path names; None outside it."""
        root = self.server.root
        clean = posixpath.normpath(unquote(url_path))
        if "\x00" in clean:
            return None
        candidate = (root / clean.lstrip("/")).resolve()
        if candidate != root and root not in candidate.parents:
            return None
        return candidate if candidate.exists() else None

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/config.json":
            body = json.dumps(self.server.config(), indent=2).encode()
            self._send(HTTPStatus.OK, body, "application/json")
            return
        if path in ("/outbox", "/outbox.json"):  # local only: what Cognito would e-mail
            sent = self.server.outbox()
            if path == "/outbox":
                self._send(HTTPStatus.OK, outbox_page(sent), "text/html; charset=utf-8")
            else:
                body = json.dumps([vars(i) for i in sent], indent=2).encode()
                self._send(HTTPStatus.OK, body, "application/json")
            return
        found = self._resolve(path)
        if found is not None and found.is_dir():
            if not path.endswith("/"):
                # /volunteer -> /volunteer/, so that the page's relative links resolve
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            found = found / "index.html"  # never a directory listing
        if found is None or not found.is_file():
            self._not_found()
            return
        self._send(HTTPStatus.OK, found.read_bytes(), content_type(found))

    def do_HEAD(self) -> None:
        self.do_GET()


class StaticServer(BackgroundHTTPServer):
    """GET and HEAD of the files under `root`, /config.json from `config()`, and the local
    outbox (/outbox, /outbox.json: the invitations Cognito would have e-mailed)."""

    def __init__(
        self,
        address: tuple[str, int],
        root: Path,
        config: Callable[[], dict[str, Any]],
        outbox: Callable[[], list[Invitation]] = list,
    ) -> None:
        super().__init__(address, _Handler, name="web")
        self.root = root.resolve()
        self.config = config
        self.outbox = outbox

    @property
    def url(self) -> str:
        return f"{self.origin}/"
