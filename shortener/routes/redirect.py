"""The redirect: GET /<code> on a configured domain, answered first, recorded in the same trip."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import redis
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.urls import iri_to_uri

from shortener.analytics.attribution import classify_hit
from shortener.codes import RESERVED_WORDS, SLUG_PATTERN
from shortener.context import AppContext
from shortener.hits.recording import Hit, Outcome, record_hit, record_orphan
from shortener.links import LinkRef
from shortener.routes import hit_from_environ, hit_from_request, lumen, request_domain

log = logging.getLogger(__name__)

bp = Blueprint("redirect", __name__)

UNGUARDED_PATHS = ("/healthz", "/readyz")


@bp.before_app_request
def refuse_unknown_hosts() -> None:
    """Only configured domains are served: any other Host gets 404 and never a redirect."""
    if request.path in UNGUARDED_PATHS:
        return
    if request_domain(request.host) not in lumen().settings.all_domains:
        abort(404, description="This host is not a Lumen domain.")


NO_STORE = "private, max-age=0"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = NO_STORE
    return response


def _gone(reason: str) -> Response:
    return _no_store(make_response(render_template("gone.html", reason=reason), 410))


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask every short domain for an icon: answer it rather than count an orphan hit."""
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.svg",
        mimetype="image/svg+xml",
        max_age=86_400,
    )


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers may follow short links (they are recorded as bots), not read the API or dashboard."""
    body = "User-agent: *\nDisallow: /api/\nDisallow: /dashboard\n"
    return Response(body, mimetype="text/plain", headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/")
def home() -> Response:
    """The bare short domain sends people to the dashboard."""
    return redirect("/dashboard", code=302)


@bp.route("/<code>", methods=["GET", "HEAD"])
def follow(code: str) -> Response:
    """Send the visitor on and record the hit (HEAD is answered but not counted)."""
    ctx = lumen()
    hit = hit_from_request(code)
    counted = request.method == "GET"
    ref = ctx.resolve(hit.domain, code)
    if ref is None:
        if counted:
            try:
                record_orphan(ctx.redis, ctx.keys, hit)
            except redis.RedisError:
                ctx.record_failures += 1
                log.exception("recording an orphan hit on %s/%s failed", hit.domain, code)
        abort(404, description="This short link does not exist. Check the address for typos.")
    outcome = attribute_and_record(ctx, hit, ref, counted)
    if outcome is None:
        # The link went away after this worker cached its code (or the code now names another link).
        ctx.link_cache.forget(hit.domain, code)
        ref = ctx.resolve(hit.domain, code)
        outcome = attribute_and_record(ctx, hit, ref, counted) if ref is not None else None
    if outcome is None:
        abort(404, description="This short link does not exist. Check the address for typos.")
    if outcome.status == 410:
        return _gone(outcome.gone_reason)
    # A bare response: the HTML body redirect() would build is never read by a browser.
    return Response(
        status=outcome.status, headers={"Location": outcome.url, "Cache-Control": NO_STORE}
    )


def attribute_and_record(ctx: AppContext, hit: Hit, ref: LinkRef, counted: bool) -> Outcome | None:
    """Classify the hit for the link `ref` names and record it; a failure to record is logged,
    counted, and answered from a resolve-only run so the visitor still gets the redirect."""
    settings = ctx.settings
    attribution = classify_hit(
        hit.user_agent,
        hit.referrer,
        own_hosts=settings.all_domains,
        target_site=ref.site or None,
        tag_channel=ref.channel or None,
    )
    record = partial(
        record_hit,
        ctx.redis,
        ctx.keys,
        ref.link_id,
        hit,
        attribution,
        variant_channel=ref.channel,
        retention_count=settings.hit_retention_count,
        retention_days=settings.hit_retention_days,
        preview_window_ms=settings.preview_window_seconds * 1000,
    )
    try:
        return record(count=counted)
    except redis.RedisError:
        if not counted:
            raise
        ctx.record_failures += 1
        log.exception("recording a hit of %s/%s failed; answering without it", hit.domain, hit.code)
        return record(count=False)


class RedirectFastPath:
    """WSGI layer that answers the common case, GET or HEAD /<code> of a live link on a configured
    domain, without Flask's request machinery (its context, hooks and Response object cost about a
    third of a redirect, measured: docs/PERFORMANCE.md). It runs the same steps as `follow`. Every
    other request, and every redirect that does not end in a 30x (unknown code, gone link), goes on
    to Flask untouched: nothing is recorded here unless the answer is given here."""

    def __init__(self, app: Flask, ctx: AppContext) -> None:
        self.app = app.wsgi_app
        self.ctx = ctx
        # Single-segment paths Flask serves itself (health checks, robots.txt…) are never codes.
        self.own_paths = (
            frozenset(
                rule.rule.strip("/").lower()
                for rule in app.url_map.iter_rules()
                if "<" not in rule.rule
            )
            | RESERVED_WORDS
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        code = environ.get("PATH_INFO", "")[1:]
        if (
            method in ("GET", "HEAD")
            and SLUG_PATTERN.match(code)
            and code.lower() not in self.own_paths
        ):
            try:
                answer = self._redirect(environ, code, counted=method == "GET")
            except redis.RedisError:
                answer = (
                    None  # Flask's view meets the same error and answers 503 (routes/problems.py)
                )
            if answer is not None:
                start_response(*answer)
                return [b""]
        return self.app(environ, start_response)

    def _redirect(
        self, environ: dict[str, Any], code: str, counted: bool
    ) -> tuple[str, list[tuple[str, str]]] | None:
        ctx = self.ctx
        hit = hit_from_environ(environ, code, ctx.secret_key)
        if hit.domain not in ctx.settings.all_domains:
            return None
        ref = ctx.resolve(hit.domain, code)
        if ref is None:
            return None
        outcome = attribute_and_record(ctx, hit, ref, counted)
        if outcome is None or outcome.status == 410:
            return None  # nothing was recorded: Flask answers it in full
        location = outcome.url if outcome.url.isascii() else iri_to_uri(outcome.url)
        status = f"{outcome.status} {HTTP_STATUS_CODES[outcome.status]}"
        return status, [
            ("Location", location),
            ("Cache-Control", NO_STORE),
            ("Content-Length", "0"),
        ]
