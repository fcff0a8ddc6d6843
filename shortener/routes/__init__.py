"""Thin Flask blueprints: parse the request, call a domain function, shape the response."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from shortener.context import AppContext
from shortener.hits.recording import Hit, daily_key, day_of, network_hash
from shortener.links import now_ms
from shortener.redirect import hit_from_environ


def lumen() -> AppContext:
    """The shared Lumen context of the current app."""
    return current_app.extensions["lumen"]  # type: ignore[no-any-return]


def hit_from_request(code: str) -> Hit:
    """The current request as a Hit (see shortener.redirect.hit_from_environ)."""
    return hit_from_environ(request.environ, code, lumen().secret_key)


def client_key() -> str:
    """Who a rate limit counts: the client's address under the daily key, never the address."""
    return network_hash(daily_key(lumen().secret_key, day_of(now_ms())), request.remote_addr or "")


@dataclass(frozen=True)
class RateLimit:
    """Moving-window limits counted in Redis by `limits` (the library under flask-limiter, used
    directly: flask-limiter hooks every request of the app, which cost the redirect ~0.1 ms)."""

    limiter: MovingWindowRateLimiter
    limits: list[RateLimitItem]

    @classmethod
    def build(
        cls, storage: tuple[str, dict[str, float | str | bool]], rate: str, key_prefix: str
    ) -> RateLimit:
        """Limits of `rate` ("10 per hour; 100 per day") kept under `key_prefix`, in the
        `limits` storage (URI and options) `storage` names."""
        uri, options = storage
        windows = storage_from_string(uri, key_prefix=key_prefix, **options)
        return cls(MovingWindowRateLimiter(windows), parse_many(rate))

    def hit(self, *identifiers: str) -> int | None:
        """Count one hit; None while within every limit, else the seconds until a retry."""
        for limit in self.limits:
            if not self.limiter.hit(limit, *identifiers):
                reset_at, _ = self.limiter.get_window_stats(limit, *identifiers)
                return max(1, int(reset_at - time.time()))
        return None

    def is_exceeded(self, *identifiers: str) -> bool:
        """True while one of the limits is used up (counts nothing)."""
        return any(not self.limiter.test(limit, *identifiers) for limit in self.limits)
