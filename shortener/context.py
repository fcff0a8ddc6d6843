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


def kept_secret(data_dir: str, name: str) -> str:
    """A random secret generated once and kept in `data_dir/name` (owner-only), then read back."""
    path = Path(data_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f"{name}.{os.getpid()}.tmp")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # atomic: concurrent workers all end up with the first one written
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def load_secret_key(settings: Settings) -> str:
    """SECRET_KEY, or a key generated once and kept in the data dir."""
    return settings.secret_key or kept_secret(settings.data_dir, "secret_key")


def load_hashids_salt(settings: Settings) -> str:
    """HASHIDS_SALT, or a random salt generated once and kept beside the secret key."""
    return settings.hashids_salt or kept_secret(settings.data_dir, "hashids_salt")


def build_context(settings: Settings, client: redis.Redis) -> AppContext:
    """Assemble the shared objects for `settings` over an existing Redis client."""
    keys = Keys(settings.key_prefix)
    codes = CodeFactory(load_hashids_salt(settings), settings.hashids_min_length)
    return AppContext(
        settings=settings,
        redis=client,
        keys=keys,
        codes=codes,
        links=LinkStore(client, keys, codes, settings.all_domains, settings.primary_domain),
        link_cache=LinkCache(settings.link_cache_seconds),
        secret_key=load_secret_key(settings),
    )
