"""Thin Flask blueprints: parse the request, call a domain function, shape the response."""

from __future__ import annotations

from flask import current_app, request

from shortener.context import AppContext
from shortener.hits.recording import Hit
from shortener.redirect import hit_from_environ


def lumen() -> AppContext:
    """The shared Lumen context of the current app."""
    return current_app.extensions["lumen"]  # type: ignore[no-any-return]


def hit_from_request(code: str) -> Hit:
    """The current request as a Hit (see shortener.redirect.hit_from_environ)."""
    return hit_from_environ(request.environ, code, lumen().secret_key)
