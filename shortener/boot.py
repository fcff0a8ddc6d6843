"""Start-up chores shared by `serve`, gunicorn's master and the CLI: Redis, and the first key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from config import Settings
from shortener.apikeys import create_api_key, list_api_keys
from shortener.context import AppContext, build_context
from shortener.embedded_redis import EmbeddedRedis
from shortener.links import now_ms
from shortener.store import Keys, connect


def start_redis(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use, starting (or reusing) the embedded server when REDIS_URL is unset."""
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(settings.data_dir, settings.redis_server_bin)
    embedded.ensure_running()
    return embedded.url, embedded


@contextmanager
def open_context(settings: Settings) -> Iterator[AppContext]:
    """AppContext for a command-line run; an embedded Redis started here is stopped at the end."""
    url, embedded = start_redis(settings)
    client = connect(url, settings.redis_timeout)
    try:
        yield build_context(settings, client)
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()


def first_admin_key(r: redis.Redis, keys: Keys) -> str | None:
    """Create an `admin` key when the instance has none yet, and return it (else None)."""
    if list_api_keys(r, keys):
        return None
    return create_api_key(r, keys, "admin", now_ms())


def welcome_text(key: str, domain: str) -> str:
    """What `make run` prints on first start: the admin key and a curl to try it."""
    scheme = "http" if domain.split(":")[0] in ("localhost", "127.0.0.1") else "https"
    return (
        "\n"
        "  Lumen is starting for the first time. Your admin API key (shown once):\n\n"
        f"    {key}\n\n"
        "  Create a short link:\n\n"
        f"    curl -s -X POST {scheme}://{domain}/api/v1/links \\\n"
        f"      -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n"
        '      -d \'{"url": "https://example.com/hello", "title": "Hello"}\'\n\n'
        f"  Dashboard: {scheme}://{domain}/dashboard\n"
    )
