"""The objects one Lumen app shares across requests: settings, Redis, links and the link cache."""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from config import Settings
from shortener.codes import CodeFactory
from shortener.links import LinkRef, LinkStore
from shortener.store import Keys
from shortener.webhooks import WebhookConsumer


class LinkCache:
    """A short-lived, per-process memory of code -> LinkRef, so most redirects skip one round trip.

    The cached value holds only what a code points at; the link's target, expiry and click budget
    are read by the recording script on every hit, so an edit elsewhere shows at once. A deleted
    link is noticed by that script, which makes the caller drop the entry.
    """

    def __init__(self, ttl_seconds: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, LinkRef]] = {}
        self._lock = threading.Lock()

    def get(self, domain: str, code: str) -> LinkRef | None:
        """The cached ref of (domain, code), if fresh."""
        entry = self._entries.get((domain, code))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, domain: str, code: str, ref: LinkRef) -> None:
        """Remember a ref for `ttl` seconds."""
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[(domain, code)] = (time.monotonic() + self.ttl, ref)

    def forget(self, domain: str, code: str) -> None:
        """Drop one entry."""
        with self._lock:
            self._entries.pop((domain, code), None)

    def clear(self) -> None:
        """Drop every entry (after an edit or delete in this process)."""
        with self._lock:
            self._entries.clear()


@dataclass
class AppContext:
    """Everything the routes need, built once by the app factory."""

    settings: Settings
    redis: redis.Redis
    keys: Keys
    codes: CodeFactory
    links: LinkStore
    link_cache: LinkCache
    secret_key: str
    record_failures: int = field(default=0)

    def resolve(self, domain: str, code: str) -> LinkRef | None:
        """What a code points at, from the cache or Redis."""
        ref = self.link_cache.get(domain, code)
        if ref is None:
            ref = self.links.resolve(domain, code)
            if ref is not None:
                self.link_cache.put(domain, code, ref)
        return ref


def load_secret_key(settings: Settings) -> str:
    """SECRET_KEY, or a key generated once and kept in the data dir."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f"secret_key.{os.getpid()}.tmp")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # atomic: concurrent workers all end up with the first key written
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def webhook_consumer(ctx: AppContext) -> WebhookConsumer:
    """The webhook consumer of this instance, configured from its settings."""
    return WebhookConsumer(
        ctx.redis,
        ctx.keys,
        allow_private=ctx.settings.webhook_allow_private,
        retry_base_ms=ctx.settings.webhook_retry_ms,
        max_attempts=ctx.settings.webhook_max_attempts,
    )


def build_context(settings: Settings, client: redis.Redis) -> AppContext:
    """Assemble the shared objects for `settings` over an existing Redis client."""
    keys = Keys(settings.key_prefix)
    codes = CodeFactory(settings.hashids_salt, settings.hashids_min_length)
    return AppContext(
        settings=settings,
        redis=client,
        keys=keys,
        codes=codes,
        links=LinkStore(
            client,
            keys,
            codes,
            settings.all_domains,
            settings.primary_domain,
            aliases=settings.domain_aliases,
        ),
        link_cache=LinkCache(settings.link_cache_seconds),
        secret_key=load_secret_key(settings),
    )
