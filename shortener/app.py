"""Lumen: a self-hosted link shortener that brings dark social into the light."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import timedelta

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config
from shortener.analytics import warm_up
from shortener.boot import start_redis
from shortener.context import build_context
from shortener.redirect import resume_buffered_hits
from shortener.routes import (
    api,
    bulk,
    dashboard,
    docs,
    embed,
    health,
    problems,
    qr,
    redirect,
    request_limits,
    request_metrics,
    share_buttons,
    stats,
    webhooks,
)
from shortener.store import connect, limiter_storage

SETTING_NAMES = frozenset(f.name for f in dataclasses.fields(config.Settings))


def create_app(
    overrides: Mapping[str, object] | None = None, *, environ: Mapping[str, str] | None = None
) -> Flask:
    """Build a Lumen app: settings from `environ` (the process environment when None), then
    `overrides` (settings or Flask keys). Tests pass their own `environ`, never the shell's."""
    overrides = dict(overrides or {})
    settings = config.from_env(os.environ if environ is None else environ)
    settings = settings.replace(**{k: v for k, v in overrides.items() if k in SETTING_NAMES})

    app = Flask(__name__)
    app.config.update({k: v for k, v in overrides.items() if k not in SETTING_NAMES})

    redis_url, embedded = start_redis(settings)
    ctx = build_context(settings, connect(redis_url, settings.redis_timeout))
    app.config["SECRET_KEY"] = ctx.secret_key
    # Flask's defaults hold these keys already (SameSite None), so setdefault would not apply them.
    app.config["SESSION_COOKIE_SAMESITE"] = overrides.get("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["PERMANENT_SESSION_LIFETIME"] = overrides.get(
        "PERMANENT_SESSION_LIFETIME", timedelta(hours=12)
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["lumen"] = ctx
    app.extensions["lumen_embedded_redis"] = embedded

    app.session_interface = dashboard.DashboardSessions()
    problems.register(app)
    for blueprint in (
        health.bp,
        api.bp,
        stats.bp,
        dashboard.bp,
        redirect.bp,
        embed.bp,
        share_buttons.bp,
        request_metrics.bp,
        qr.bp,
        bulk.bp,
        webhooks.bp,
        docs.bp,
    ):
        app.register_blueprint(blueprint)
    share_buttons.limit_requests(
        app, limiter_storage(redis_url, settings.redis_timeout), ctx.keys.rate_limits(), settings
    )
    redirect.limit_password_guesses(
        app,
        limiter_storage(redis_url, settings.redis_timeout),
        settings.password_guess_limit,
        f"{ctx.keys.rate_limits()}:pw",
    )

    request_limits.register(app)
    app.wsgi_app = redirect.RedirectFastPath(app, ctx)  # type: ignore[method-assign]
    app.wsgi_app = request_limits.RequestLimits(  # type: ignore[method-assign]
        app.wsgi_app, settings.max_body_bytes, settings.body_timeout_seconds
    )
    app.wsgi_app = request_metrics.RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies > 0:  # outermost, so every layer below sees the client's address
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    warm_up()
    resume_buffered_hits(ctx)
    return app
