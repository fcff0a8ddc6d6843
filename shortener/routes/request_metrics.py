"""Request metrics (a WSGI layer, so the redirect fast path is measured too) and `/metrics`.

`/metrics` answers Prometheus' text format to `Authorization: Bearer <token>`, where the token is
`LUMEN_METRICS_TOKEN` when set, or any live API key.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, request

from shortener import metrics
from shortener.apikeys import verify_api_key
from shortener.routes import lumen
from shortener.routes.problems import problem

bp = Blueprint("request_metrics", __name__)

# Route groups by path prefix, first match wins; anything else is a short code (a redirect).
ROUTE_GROUPS = (
    ("/api/", "api"),
    ("/dashboard", "dashboard"),
    ("/embed/", "embed"),
    ("/static/", "static"),
    ("/healthz", "health"),
    ("/readyz", "health"),
    ("/metrics", "metrics"),
    ("/favicon.ico", "static"),
    ("/robots.txt", "static"),
)


def route_group(path: str) -> str:
    """The group a path's requests are measured in.

    >>> route_group("/api/v1/links"), route_group("/aB3xY"), route_group("/")
    ('api', 'redirect', 'redirect')
    """
    return next((group for prefix, group in ROUTE_GROUPS if path.startswith(prefix)), "redirect")


class RequestMetrics:
    """WSGI middleware: time every request by route group; count redirect answers by status."""

    def __init__(self, app: Any) -> None:
        self.app = app
        # Labelled children resolved once: `labels()` costs as much as the increment itself.
        self._timers = {group: metrics.REQUEST_SECONDS.labels(group) for _, group in ROUTE_GROUPS}
        self._timers["redirect"] = metrics.REQUEST_SECONDS.labels("redirect")
        self._redirects: dict[str, Any] = {}

    def _count_redirect(self, status: str) -> None:
        counter = self._redirects.get(status)
        if counter is None:
            counter = self._redirects[status] = metrics.REDIRECTS.labels(status)
        counter.inc()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.perf_counter()
        group = route_group(environ.get("PATH_INFO", ""))

        def counting_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            if group == "redirect":
                self._count_redirect(status[:3])
            return start_response(status, headers, exc_info)

        try:
            answer: Iterable[bytes] = self.app(environ, counting_start_response)
            return answer
        finally:
            self._timers[group].observe(time.perf_counter() - started)


def _is_allowed(token: str) -> bool:
    ctx = lumen()
    expected = ctx.settings.metrics_token
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return True
    return verify_api_key(ctx.redis, ctx.keys, token) is not None


@bp.get("/metrics")
def show_metrics() -> Response:
    """Prometheus' text format, for the metrics token or an API key."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _is_allowed(token.strip()):
        response = problem(
            401,
            "Unauthorized",
            "Send 'Authorization: Bearer <token>' with LUMEN_METRICS_TOKEN or an API key.",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="lumen-metrics"'
        return response
    body = metrics.exposition(lumen().settings.metrics_multiprocess_dir)
    return Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE)
