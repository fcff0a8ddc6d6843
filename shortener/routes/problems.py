"""One error shape: every API error is application/problem+json; pages get a small HTML page."""

from __future__ import annotations

import redis
from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from shortener import metrics
from shortener.errors import LumenError

PROBLEM_TYPE = "application/problem+json"
# Seconds a client is asked to wait when Redis does not answer (a restart usually takes a few).
RETRY_AFTER_SECONDS = 5

# Error pages load Lumen's stylesheet and favicon, nothing else, and never run a script.
ERROR_PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Headers of an HTTP error that belong in Lumen's answer too (405's Allow, 401's WWW-Authenticate).
KEPT_ERROR_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def problem(status: int, title: str, detail: str, **extra: object) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_TYPE
    return response


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def _lumen_error(error: LumenError) -> Response:
    return problem(error.status, error.title, error.detail, field=error.field)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if _wants_problem():
        response = problem(status, error.name, error.description or error.name)
    else:
        page = render_template(
            "error.html", status=status, title=error.name, detail=error.description
        )
        response = Response(page, status=status, mimetype="text/html")
    for name, value in error.get_headers():
        if name in KEPT_ERROR_HEADERS:
            response.headers[name] = value
    return response


def protect_error(response: Response) -> Response:
    """Every error answer: no content sniffing; an HTML one, no script and no framing."""
    if response.status_code >= 400:
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", ERROR_PAGE_POLICY)
    return response


def _redis_unavailable(error: redis.RedisError) -> Response:
    metrics.REDIS_ERRORS.labels(type(error).__name__).inc()
    current_app.extensions["lumen"].failures.note(
        f"serving {request.endpoint or 'a request'}", error
    )
    return unavailable()


def unavailable() -> Response:
    """503 with Retry-After: Redis does not answer (problem+json under /api, a page elsewhere)."""
    title, detail = (
        "Service Unavailable",
        "Lumen's database does not answer right now; try again in a few seconds.",
    )
    if _wants_problem():
        response = problem(503, title, detail)
    else:
        response = Response(
            render_template("error.html", status=503, title=title, detail=detail), status=503
        )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register(app: Flask) -> None:
    """Install the error handlers on `app`."""
    app.register_error_handler(LumenError, _lumen_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(redis.RedisError, _redis_unavailable)
    app.after_request(protect_error)
