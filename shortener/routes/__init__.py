"""Thin Flask blueprints: parse the request, call a domain function, shape the response."""

from __future__ import annotations

from flask import current_app, request

from shortener.hits import (
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
from shortener.services import Services


def lumen() -> Services:
    """The shared Lumen services of the current app."""
    return current_app.extensions["lumen"]


def request_domain(host: str) -> str:
    """The request's Host, lower-cased, with a default port dropped."""
    host = host.lower()
    for default_port in (":80", ":443"):
        if host.endswith(default_port):
            return host[: -len(default_port)]
    return host


def hit_from_request(code: str) -> Hit:
    """The request as a Hit: untrusted strings cut to their limits, the IP reduced to hashes."""
    services = lumen()
    time_ms = now_ms()
    user_agent = request.headers.get("User-Agent", "")[:MAX_USER_AGENT]
    key = daily_key(services.secret_key, day_of(time_ms))
    ip = request.remote_addr or ""
    return Hit(
        time_ms=time_ms,
        domain=request_domain(request.host),
        code=code,
        referrer=request.headers.get("Referer", "")[:MAX_REFERRER],
        user_agent=user_agent,
        language=primary_language(request.headers.get("Accept-Language", "")),
        visitor=visitor_hash(key, ip, user_agent),
        ip_hash=network_hash(key, ip),
    )
