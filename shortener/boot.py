"""Start-up chores shared by `serve`, gunicorn's master and the CLI: Redis, and the first key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from config import Settings
from shortener.apikeys import create_api_key, list_api_keys
from shortener.context import AppContext, build_context
from shortener.embedded_redis import EmbeddedRedis
from shortener.links import domain_origin, now_ms
from shortener.store import Keys, connect


def start_redis(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The Redis URL to use, starting (or reusing) the embedded server when REDIS_URL is unset."""
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(
        settings.data_dir, settings.redis_server_bin, settings.redis_appendfsync
    )
    embedded.ensure_running()
    return embedded.url, embedded


@contextmanager
def open_context(settings: Settings) -> Iterator[AppContext]:
    """AppContext for a command-line run. An embedded Redis this command started is stopped at
    the end, unless another process (a server started meanwhile) is using it."""
    url, embedded = start_redis(settings)
    client = connect(url, timeout=5.0)  # a command may wait longer than a visitor
    try:
        yield build_context(settings, client)
    finally:
        others_connected = embedded is not None and _has_other_clients(client)
        client.close()
        if embedded is not None and not others_connected:
            embedded.stop()


def _has_other_clients(client: redis.Redis) -> bool:
    """Whether a process other than this one holds a connection to the server."""
    try:
        return len(client.client_list()) > 1
    except redis.RedisError:
        return False


def first_admin_key(r: redis.Redis, keys: Keys) -> str | None:
    """Create an `admin` key when the instance has none yet, and return it (else None)."""
    if list_api_keys(r, keys):
        return None
    return create_api_key(r, keys, "admin", now_ms())


def welcome_text(key: str, domain: str) -> str:
    """What `make run` prints on first start: the admin key and a curl to try it."""
    origin = domain_origin(domain)
    return (
        "\n"
        "  Lumen is starting for the first time. Your admin API key (shown once):\n\n"
        f"    {key}\n\n"
        "  Create a short link:\n\n"
        f"    curl -s -X POST {origin}/api/v1/links \\\n"
        f"      -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n"
        '      -d \'{"url": "https://example.com/hello", "title": "Hello"}\'\n\n'
        f"  Dashboard: {origin}/dashboard\n"
    )
