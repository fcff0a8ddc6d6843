"""The objects one Lumen app shares across requests: settings, Redis, links and the link cache."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import redis

from config import Settings
from shortener.cache_events import CacheEvents
from shortener.codes import CodeFactory
from shortener.failures import FailureLog
from shortener.hits.buffer import HitBuffer
from shortener.hits.recording import RecordingPolicy
from shortener.hits.tally import InstanceTally
from shortener.link_cache import LinkCache
from shortener.links import LinkStore
from shortener.store import Keys
from shortener.webhooks import WebhookConsumer

log = logging.getLogger("shortener")


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
    recording: RecordingPolicy
    cache_events: CacheEvents
    buffer: HitBuffer
    tally: InstanceTally
    failures: FailureLog


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
    codes = CodeFactory(load_hashids_salt(settings), settings.hashids_min_length)
    link_cache = LinkCache(settings.link_cache_seconds, settings.link_cache_stale_seconds)
    recording = RecordingPolicy.from_settings(settings)
    failures = FailureLog(log)
    spool = Path(settings.data_dir) / "spool"
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
        link_cache=link_cache,
        secret_key=load_secret_key(settings),
        recording=recording,
        cache_events=CacheEvents(client, keys.cache_events(), link_cache),
        buffer=HitBuffer(spool, settings.hit_buffer_size),
        tally=InstanceTally(
            client, keys, recording, spool / "tally", settings.hit_buffer_size, failures
        ),
        failures=failures,
    )
