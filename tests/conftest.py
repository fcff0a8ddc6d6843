"""Shared fixtures: a real Redis server per test session, and a Lumen app over it.

The server is the bundled redis-server (or REDIS_SERVER_BIN), started by EmbeddedRedis in a
temporary directory; every test starts from an empty database.
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
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from shortener.apikeys import create_api_key
from shortener.app import create_app
from shortener.embedded_redis import EmbeddedRedis
from shortener.store import Keys
from tests.redis_cluster import LocalCluster

DOMAINS = ("go.test", "alt.test")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


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


@pytest.fixture
def app(settings_overrides: dict[str, object], redis_client: redis.Redis):  # type: ignore[no-untyped-def]
    """A Lumen app over the test server."""
    return create_app(settings_overrides)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A test client sending requests to the default branded domain."""
    return app.test_client()


@pytest.fixture
def keys() -> Keys:
    """The key builder of the test app (default prefix)."""
    return Keys()


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
    """The raw hits of one link (or the instance's compact ones) as Lumen reads them back."""
    from shortener.hits.reading import iter_hits

    return [hit.fields for hit in iter_hits(redis_client, Keys(), 0, 2**62, link_id)]


def day_fields(redis_client: redis.Redis, key: str) -> dict[str, str]:
    """A day-aggregate hash as Lumen reads it (derived fields included), values as strings."""
    from shortener.figures import day_counts

    return {name: str(n) for name, n in day_counts(redis_client.hgetall(key)).items() if n}


def instance_day_fields(redis_client: redis.Redis, day: str) -> dict[str, str]:
    """The instance's aggregates of one day as Lumen reads them (shards merged, derived fields
    included), values as strings."""
    from shortener.figures import day_counts
    from shortener.hits.instance import read_instance_days
    from shortener.links import now_ms

    [merged] = read_instance_days(redis_client, Keys(), [day], now_ms())
    fields = {name: str(n) for name, n in merged.fields.items()}
    return {name: str(n) for name, n in day_counts(fields).items() if n}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served_lumen(
    command: list[str], workers: int, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[int, Path]]:
    """Run `command` (a Lumen server process) on a free port with its own embedded Redis (or the
    REDIS_URL of `extra_env`), until /healthz answers; yields (port, data dir) and stops the whole
    process group afterwards."""
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="lumen-served-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "LUMEN_DOMAINS", "LUMEN_DEFAULT_DOMAIN")
    }
    env.update({"LUMEN_DATA_DIR": str(data_dir), "PORT": str(port), "LUMEN_WORKERS": str(workers)})
    env.update(extra_env or {})
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
