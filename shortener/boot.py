"""Start-up chores shared by `serve`, gunicorn's master and the CLI: Redis, and the first key."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


# Written by a serving gunicorn master in its data dir: the port it serves, so that CLI commands
# run beside it (`make demo`, `links create`) make links on the domains it answers.
SERVED_FILE = "served.json"


def record_serving(settings: Settings) -> None:
    """Note in the data dir that this process serves `settings.port` (until forget_serving)."""
    path = Path(settings.data_dir) / SERVED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), "port": settings.port}))


def forget_serving(settings: Settings) -> None:
    """Remove this process's note (another server's is left alone)."""
    path = Path(settings.data_dir) / SERVED_FILE
    if _serving_record(path).get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def _serving_record(path: Path) -> dict[str, int]:
    try:
        record = json.loads(path.read_text())
        return {"pid": int(record["pid"]), "port": int(record["port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def beside_server(settings: Settings) -> Settings:
    """The settings of a CLI run: on the running server's port when no LUMEN_DOMAINS names the
    domains (the same rule as `serve`: localhost and 127.0.0.1 of its port)."""
    if settings.domains:
        return settings
    record = _serving_record(Path(settings.data_dir) / SERVED_FILE)
    if not record or not _is_running(record["pid"]):
        return settings
    return settings.replace(port=record["port"])


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return True


@contextmanager
def open_context(settings: Settings) -> Iterator[AppContext]:
    """AppContext for a command-line run. An embedded Redis this command started is stopped at
    the end, unless another process (a server started meanwhile) is using it."""
    settings = beside_server(settings)
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
