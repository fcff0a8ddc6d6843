"""Shared fixtures: a real Redis server per test session, and a Lumen app over it.

The server is the bundled redis-server (or REDIS_SERVER_BIN), started by EmbeddedRedis in a
temporary directory; every test starts from an empty database. The test app and every Lumen
process a test starts read their settings from a mapping the tests write, never from the shell
(a developer's exported LUMEN_KEY_PREFIX or HASHIDS_SALT must not change what a test sees).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from redis.cluster import RedisCluster

import config
from shortener.apikeys import create_api_key
from shortener.app import create_app
from shortener.embedded_redis import EmbeddedRedis
from shortener.store import SHARDS, Keys
from tests.redis_cluster import LocalCluster

DOMAINS = ("go.test", "alt.test")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# The environment the test app's settings are read from: nothing but what the overrides set.
TEST_ENVIRON: dict[str, str] = {}
# The test app's key builder (default prefix): tests name keys through it, never by hand.
TEST_KEYS = Keys()


class _ReadNames(dict[str, str]):
    """An empty environment that remembers which names were looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        self.names.add(name)
        return default


def _setting_names() -> frozenset[str]:
    """The environment variables `config.from_env` reads (found by letting it read)."""
    probe = _ReadNames()
    config.from_env(probe)
    return frozenset(probe.names)


SETTING_NAMES = _setting_names()


def process_environ(**settings: str) -> dict[str, str]:
    """The environment of a Lumen process a test starts: the shell's, minus every Lumen setting
    (REDIS_SERVER_BIN excepted: it chooses the test servers' binary), plus `settings`."""
    kept = SETTING_NAMES - {"REDIS_SERVER_BIN"}
    return {k: v for k, v in os.environ.items() if k not in kept} | settings


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A real redis-server for the whole test session."""
    directory = tempfile.mkdtemp(prefix="lumen-redis-")
    server = EmbeddedRedis(directory, os.environ.get("REDIS_SERVER_BIN", ""))
    server.ensure_running()
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A real 3-master Redis Cluster for the whole test session (started on first use, ~2 s)."""
    cluster = LocalCluster(os.environ.get("REDIS_SERVER_BIN", "")).start()
    yield cluster
    cluster.stop()


class ClusterTestClient(RedisCluster):
    """The tests' cluster client: KEYS and CONFIG SET go to every master (redis-py: one)."""

    def keys(self, pattern: str = "*", **kwargs: object) -> list[str]:  # type: ignore[override]
        return super().keys(pattern, target_nodes=RedisCluster.PRIMARIES, **kwargs)  # type: ignore[no-any-return]

    def config_set(self, name: str, value: object, **kwargs: object) -> object:  # type: ignore[override]
        return super().config_set(name, value, target_nodes=RedisCluster.PRIMARIES, **kwargs)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The Redis a test runs on: "standalone", or also "cluster" in modules marked both_backends."""
    return str(getattr(request, "param", "standalone"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of modules marked `both_backends` on the standalone server and the cluster."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_backends"
    ):
        metafunc.parametrize("backend", ["standalone", "cluster"], indirect=True)


@pytest.fixture
def redis_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The URL of the test's Redis: the session's standalone server or its cluster."""
    if backend == "cluster":
        return str(request.getfixturevalue("redis_cluster").url)
    return str(request.getfixturevalue("redis_server").url)


@pytest.fixture
def redis_client(
    redis_url: str, backend: str, request: pytest.FixtureRequest
) -> Iterator[redis.Redis]:
    """A client of the test's Redis, emptied first (on a cluster, every master)."""
    if backend == "cluster":
        port = request.getfixturevalue("redis_cluster").ports[0]
        client: redis.Redis = ClusterTestClient(  # type: ignore[assignment]
            "127.0.0.1", port, decode_responses=True, socket_timeout=5
        )
    else:
        client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def settings_overrides(redis_url: str, tmp_path: Path) -> dict[str, object]:
    """Settings of the test app: two branded domains and a fixed secret."""
    return {
        "redis_url": redis_url,
        "data_dir": str(tmp_path / "data"),
        "secret_key": "test-secret",
        "domains": DOMAINS,
        "default_domain": DOMAINS[0],
        "TESTING": True,
    }


# The apps the running test built (`tracked`). Their instance-wide counts are written by each
# app's tally once a second (shortener.hits.tally); `write_instance_counts` writes them at once,
# as that loop would, and the test's end stops their background writers (the tally's and the hit
# buffer's), so that none writes into the next test's Redis (or retries forever against a server
# the test stopped).
_TEST_APPS: list[Flask] = []


def tracked(app: Flask) -> Flask:
    """An app the test built, known to `write_instance_counts` and stopped at the test's end."""
    _TEST_APPS.append(app)
    return app


def write_instance_counts() -> None:
    """Write the instance-wide counts the test's apps hold (what their tallies' loops do)."""
    for app in _TEST_APPS:
        app.extensions["lumen"].tally.flush()


@pytest.fixture(autouse=True)
def _stop_the_tests_apps() -> Iterator[None]:
    yield
    for app in _TEST_APPS:
        app.extensions["lumen"].tally.stop()
        app.extensions["lumen"].buffer.stop()
    _TEST_APPS.clear()


@pytest.fixture
def make_app(
    settings_overrides: dict[str, object], redis_client: redis.Redis
) -> Callable[..., Flask]:
    """Build a Lumen app over the test server, with some settings (or Flask keys) changed."""

    def make(**changes: object) -> Flask:
        return tracked(create_app({**settings_overrides, **changes}, environ=TEST_ENVIRON))

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """A Lumen app over the test server."""
    return make_app()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A test client sending requests to the default branded domain."""
    return app.test_client()


@pytest.fixture
def keys() -> Keys:
    """The key builder of the test app (default prefix)."""
    return TEST_KEYS


@pytest.fixture
def run_cli(
    redis_server: EmbeddedRedis, redis_client: redis.Redis, tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m shortener ARGS` against the test Redis server, as a user would."""

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = process_environ(
            REDIS_URL=redis_server.url,
            LUMEN_DATA_DIR=str(tmp_path),
            SECRET_KEY="cli-test",
            LUMEN_DOMAINS="go.test",
        )
        return subprocess.run(
            [sys.executable, "-m", "shortener", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture
def api_key(redis_client: redis.Redis, keys: Keys) -> str:
    """A valid API key."""
    return create_api_key(redis_client, keys, "tester", 1)


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    """Headers that authenticate an API request on the default domain."""
    return {"Authorization": f"Bearer {api_key}", "Host": DOMAINS[0]}


@pytest.fixture
def create_link(client, auth):  # type: ignore[no-untyped-def]
    """Create a link through the API and return its JSON."""

    def create(**fields: object) -> dict[str, object]:
        fields.setdefault("url", "https://example.com/page")
        response = client.post("/api/v1/links", json=fields, headers=auth)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


def stored_hits(redis_client: redis.Redis, link_id: int | None = None) -> list[dict[str, str]]:
    """The raw hits of one link (or the instance's compact ones, once the test's apps wrote
    them) as Lumen reads them back."""
    from shortener.hits.reading import iter_hits

    if link_id is None:
        write_instance_counts()
    return [hit.fields for hit in iter_hits(redis_client, TEST_KEYS, 0, 2**62, link_id)]


def day_fields(redis_client: redis.Redis, key: str) -> dict[str, str]:
    """A day-aggregate hash as Lumen reads it (derived fields included), values as strings."""
    from shortener.figures import day_counts

    return {name: str(n) for name, n in day_counts(redis_client.hgetall(key)).items() if n}


def instance_day_fields(redis_client: redis.Redis, day: str) -> dict[str, str]:
    """The instance's aggregates of one day as Lumen reads them (the test's apps' counts written,
    shards merged, derived fields included), values as strings."""
    from shortener.figures import day_counts
    from shortener.hits.instance import read_instance_days
    from shortener.links import now_ms

    write_instance_counts()
    [merged] = read_instance_days(redis_client, Keys(), [day], now_ms())
    fields = {name: str(n) for name, n in merged.fields.items()}
    return {name: str(n) for name, n in day_counts(fields).items() if n}


def instance_day_keys(redis_client: redis.Redis, day: str) -> list[str]:
    """The instance-wide day hashes (the merged copy and every shard) of days matching `day`."""
    write_instance_counts()
    parts: tuple[int | None, ...] = (None, *range(SHARDS))
    return [key for part in parts for key in redis_client.keys(TEST_KEYS.global_day(day, part))]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served_lumen(
    command: list[str], workers: int, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[int, Path]]:
    """Run `command` (a Lumen server process) on a free port with its own embedded Redis, until
    /healthz answers; yields (port, data dir) and stops the whole process group afterwards.
    `extra_env` adds settings (environment variables) for this server."""
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="lumen-served-"))
    env = process_environ(
        LUMEN_DATA_DIR=str(data_dir),
        PORT=str(port),
        LUMEN_WORKERS=str(workers),
        **(extra_env or {}),
    )
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while not _answers_health_check(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log_path.read_text())
                time.sleep(0.1)
            yield port, data_dir
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
            shutil.rmtree(data_dir, ignore_errors=True)


def _answers_health_check(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
