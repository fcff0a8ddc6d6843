"""Thin Flask blueprints: parse the request, call a domain function, shape the response."""

from __future__ import annotations

from flask import current_app

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
