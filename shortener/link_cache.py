"""The per-process memory of what codes point at, so most redirects skip a round trip and links
keep redirecting while Redis does not answer.

An entry holds a code's `LinkRef` and, once a redirect has read it, the link's target (URL,
redirect status, expiry). While an entry is fresh (`ttl` seconds) the redirect uses its ref and
still reads the target from the recording script, so an edit elsewhere shows at once. Once it is
stale it is only used when Redis fails: for up to `stale_ttl` seconds the redirect answers from
the remembered target (never past the link's expiry). The cache is bounded: past `max_entries`
the least recently used entry goes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from shortener.links import LinkRef


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Where a link sent its last visitor, as the recording script read it."""

    url: str
    status: int
    expires_at_ms: int | None = None

    def is_live(self, now_ms: int) -> bool:
        """False once the link's expiry has passed."""
        return self.expires_at_ms is None or now_ms < self.expires_at_ms


@dataclass(frozen=True, slots=True)
class CachedCode:
    """One cache entry: what a code points at and, once known, where it sends visitors."""

    ref: LinkRef
    target: LinkTarget | None
    fresh_until: float
    usable_until: float


class LinkCache:
    """Code -> (LinkRef, LinkTarget): fresh for `ttl` seconds, usable on failure for `stale_ttl`."""

    def __init__(self, ttl: float, stale_ttl: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.stale_ttl = max(ttl, stale_ttl)
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], CachedCode] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, domain: str, code: str) -> LinkRef | None:
        """The ref of (domain, code) while its entry is fresh."""
        entry = self._entries.get((domain, code))
        if entry is None or entry.fresh_until < time.monotonic():
            return None
        return entry.ref

    def fallback(self, domain: str, code: str) -> CachedCode | None:
        """The entry of (domain, code), fresh or stale, while it may stand in for Redis."""
        entry = self._entries.get((domain, code))
        if entry is None or entry.usable_until < time.monotonic():
            return None
        return entry

    def put(self, domain: str, code: str, ref: LinkRef) -> None:
        """Remember what (domain, code) points at; a target already known for it is kept."""
        now = time.monotonic()
        with self._lock:
            key = (domain, code)
            known = self._entries.get(key)
            target = known.target if known is not None and known.ref == ref else None
            self._entries[key] = CachedCode(ref, target, now + self.ttl, now + self.stale_ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def remember_target(self, domain: str, code: str, target: LinkTarget) -> None:
        """Note where (domain, code) sent its latest visitor; usable for `stale_ttl` from now."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get((domain, code))
            if entry is not None:
                self._entries[(domain, code)] = CachedCode(
                    entry.ref, target, entry.fresh_until, now + self.stale_ttl
                )

    def forget(self, domain: str, code: str) -> None:
        """Drop one entry."""
        with self._lock:
            self._entries.pop((domain, code), None)

    def clear(self) -> None:
        """Drop every entry (after an edit or delete in this process)."""
        with self._lock:
            self._entries.clear()
