"""Thin Flask blueprints: parse the request, call a domain function, shape the response."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, request
from werkzeug.wsgi import get_host

from shortener.context import AppContext
from shortener.hits.recording import (
    MAX_REFERRER,
    MAX_USER_AGENT,
    Hit,
    daily_key,
    day_of,
    network_hash,
    primary_language,
    visitor_hash,
)
from shortener.links import now_ms


def lumen() -> AppContext:
    """The shared Lumen ctx of the current app."""
    return current_app.extensions["lumen"]


def request_domain(host: str) -> str:
    """The request's Host, lower-cased, with a default port dropped."""
    host = host.lower()
    for default_port in (":80", ":443"):
        if host.endswith(default_port):
            return host[: -len(default_port)]
    return host


def hit_from_request(code: str) -> Hit:
    """The current request as a Hit (see hit_from_environ)."""
    return hit_from_environ(request.environ, code, lumen().secret_key)


def hit_from_environ(environ: Mapping[str, object], code: str, secret_key: str) -> Hit:
    """A WSGI request as a Hit: untrusted strings cut to their limits, the IP reduced to hashes."""
    time_ms = now_ms()
    user_agent = str(environ.get("HTTP_USER_AGENT", ""))[:MAX_USER_AGENT]
    key = daily_key(secret_key, day_of(time_ms))
    ip = str(environ.get("REMOTE_ADDR") or "")
    return Hit(
        time_ms=time_ms,
        domain=request_domain(get_host(environ)),  # type: ignore[arg-type]
        code=code,
        referrer=str(environ.get("HTTP_REFERER", ""))[:MAX_REFERRER],
        user_agent=user_agent,
        language=primary_language(str(environ.get("HTTP_ACCEPT_LANGUAGE", ""))),
        visitor=visitor_hash(key, ip, user_agent),
        ip_hash=network_hash(key, ip),
    )
