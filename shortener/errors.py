"""The errors Lumen's domain code raises; the routes turn each into one problem+json answer."""

from __future__ import annotations


class LumenError(Exception):
    """Base of the errors a client caused; `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(LumenError):
    """A field holds a value Lumen cannot accept."""

    status = 422
    title = "Invalid input"


class NotFound(LumenError):
    """The named thing does not exist."""

    status = 404
    title = "Not found"


class Conflict(LumenError):
    """The request collides with something that exists (a taken slug)."""

    status = 409
    title = "Conflict"


class Forbidden(LumenError):
    """The caller is known but may not do this (a publisher key used from another origin)."""

    status = 403
    title = "Forbidden"


class TooManyRequests(LumenError):
    """The caller has done this too often lately (a publisher registering new pages)."""

    status = 429
    title = "Too many requests"
