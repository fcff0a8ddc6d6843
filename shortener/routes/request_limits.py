"""Every request bounded before any view: its URI in length, its body in size and in time.

gunicorn's gevent workers time out a request's headers but not its body: clients sending one body
byte every few seconds held their connections as long as they liked, and 2,000 of them starved
the server (issue 13). `RequestLimits`, a WSGI layer outside every other one but `ProxyFix`,
checks a request and reads its body at once, before Flask sees it:

0. a URI longer than MAX_URI_LENGTH is refused (414; gunicorn itself refuses request lines
   over 8,190 bytes, with its own plain answer);
1. a body announced larger than `max_bytes` is not read at all (413);
2. a body that has not arrived in full within `deadline_seconds` is dropped (408);
3. a body of unknown length (chunked) that grows past `max_bytes` is dropped (413).

A refused request goes on to Flask with an empty body and the refusal in the environ;
`refuse_limited_requests`, the app's first hook, answers it through the usual error pages, so
`/api/` gets problem+json. Under gevent the deadline is a `gevent.Timeout`; elsewhere (tests, CLI)
bodies are already in memory and are read as they are.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from flask import Flask, abort, request
from gevent import monkey

from shortener import metrics
from shortener.bulk import MAX_BULK_BODY_BYTES

REFUSAL = "lumen.refusal"
READ_SIZE = 64 * 1024
# Longest path plus query string (the request line's limit gunicorn used to apply by default).
MAX_URI_LENGTH = 4094
# Routes whose bodies may be larger than `max_bytes`, and their cap.
LARGER_BODIES = {"/api/v1/links/bulk": MAX_BULK_BODY_BYTES}


class RequestLimits:
    """WSGI middleware: refuse over-long URIs; read each body in full, bounded in size and time."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], max_bytes: int, deadline_seconds: float
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.deadline_seconds = deadline_seconds

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if (
            len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
            > MAX_URI_LENGTH
        ):
            environ[REFUSAL] = (414, f"the URI is longer than {MAX_URI_LENGTH} characters")
        length = environ.get("CONTENT_LENGTH") or ""
        if length not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ:
            cap = LARGER_BODIES.get(environ.get("PATH_INFO", ""), self.max_bytes)
            self._read_body(environ, length, cap)
        return self.app(environ, start_response)

    def _read_body(self, environ: dict[str, Any], length: str, cap: int) -> None:
        try:
            announced = int(length) if length else None
        except ValueError:
            announced = None  # werkzeug treats it as no body; so do we (and read nothing)
            environ[REFUSAL] = (400, "the Content-Length header is not a number")
        if announced is not None and announced > cap:
            environ[REFUSAL] = (413, f"the body is larger than {cap} bytes")
        if REFUSAL in environ:  # refused already: read nothing
            self._replace_body(environ, b"")
            return
        try:
            with _deadline(self.deadline_seconds):
                body = _read_up_to(environ["wsgi.input"], announced, cap + 1)
        except gevent.Timeout:
            environ[REFUSAL] = (408, f"the body did not arrive within {self.deadline_seconds} s")
            _stop_reading(environ)
            body = b""
        if len(body) > cap:
            environ[REFUSAL] = (413, f"the body is larger than {cap} bytes")
            body = b""
        self._replace_body(environ, body)

    @staticmethod
    def _replace_body(environ: dict[str, Any], body: bytes) -> None:
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True


def _stop_reading(environ: dict[str, Any]) -> None:
    """Read nothing more from this connection: gunicorn would otherwise drain the rest of the slow
    body before closing, holding the connection up to `keepalive` seconds longer. The answer is
    still sent; then the connection closes."""
    connection = environ.get("gunicorn.socket")
    if connection is not None:
        try:
            connection.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # the client is gone already


def _deadline(seconds: float) -> gevent.Timeout:
    """A gevent Timeout when sockets are gevent's (a gunicorn gevent worker), else none."""
    if monkey.is_module_patched("socket"):
        return gevent.Timeout(seconds)
    return gevent.Timeout(None)  # never fires


def _read_up_to(stream: Any, announced: int | None, cap: int) -> bytes:
    """The body: `announced` bytes, or (chunked) up to `cap` bytes until the stream ends."""
    chunks: list[bytes] = []
    received = 0
    wanted = cap if announced is None else min(announced, cap)
    while received < wanted:
        chunk = stream.read(min(READ_SIZE, wanted - received))
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def refuse_limited_requests() -> None:
    """First hook of every request: answer the refusal RequestLimits recorded, if any."""
    refusal = request.environ.get(REFUSAL)
    if refusal is not None:
        status, detail = refusal
        metrics.REQUESTS_REFUSED.labels(str(status)).inc()
        abort(status, description=detail)


def register(app: Flask) -> None:
    """Install the hook (the middleware itself is wrapped around the app by the factory)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_limited_requests)
