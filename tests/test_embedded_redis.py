"""The embedded Redis: started, reused by a second client, stopped, restarted with links intact."""

from __future__ import annotations

import os
import tempfile

import pytest
import redis

from config import Settings
from shortener.boot import open_context
from shortener.embedded_redis import EmbeddedRedis


@pytest.fixture
def data_dir():
    with tempfile.TemporaryDirectory(prefix="lumen-data-") as directory:
        yield directory


def test_embedded_redis_starts_is_reused_stops_and_keeps_links(data_dir):
    first = EmbeddedRedis(data_dir)
    assert first.ensure_running() is True
    assert first.is_answering()

    second = EmbeddedRedis(data_dir)
    assert second.ensure_running() is False, "a second client must reuse the running server"
    assert second.url == first.url

    settings = Settings(data_dir=data_dir, secret_key="s", domains=("go.test",))
    with open_context(settings) as ctx:
        link = ctx.links.create({"url": "https://example.com/kept", "slug": "kept"})

    second.stop()  # not the owner: does nothing
    assert first.is_answering()
    first.stop()
    assert not first.is_answering()

    third = EmbeddedRedis(data_dir)
    assert third.ensure_running() is True
    try:
        with open_context(settings) as ctx:
            assert ctx.links.get(link.id).url == "https://example.com/kept"
            assert ctx.links.resolve("go.test", "kept").link_id == link.id
    finally:
        third.stop()


def test_embedded_redis_persists_with_append_only_file(data_dir):
    server = EmbeddedRedis(data_dir)
    server.ensure_running()
    try:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert client.config_get("dir")["dir"] == str(server.data_dir)
        client.close()
    finally:
        server.stop()


def test_open_context_stops_the_server_it_started(data_dir):
    settings = Settings(data_dir=data_dir, secret_key="s")
    with open_context(settings):
        assert EmbeddedRedis(data_dir).is_answering()
    assert not EmbeddedRedis(data_dir).is_answering()


def test_missing_binary_is_a_clear_error(data_dir):
    with pytest.raises(FileNotFoundError):
        EmbeddedRedis(data_dir, "/nonexistent/redis-server").ensure_running()


def test_a_supervised_server_that_dies_is_started_again_with_its_data(tmp_path):
    import signal
    import time

    server = EmbeddedRedis(tmp_path / "supervised", appendfsync="always")
    server.ensure_running()
    server.supervise(interval=0.2)
    try:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        client.set("kept", "yes")
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        for _ in range(100):  # a bound on waiting, not a speed target
            if server.is_answering():
                break
            time.sleep(0.1)
        assert client.get("kept") == "yes"
    finally:
        server.stop()


def test_a_stalled_server_is_not_taken_for_gone(tmp_path):
    import signal

    server = EmbeddedRedis(tmp_path / "stalled")
    server.ensure_running()
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        assert not server.is_gone()
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()
    assert server.is_gone()


def test_a_command_leaves_running_a_server_another_process_uses(data_dir):
    settings = Settings(data_dir=str(data_dir), secret_key="s", domains=("go.test",))
    with open_context(settings):
        other = redis.Redis.from_url(EmbeddedRedis(data_dir).url)
        other.ping()  # a server started meanwhile now uses it
    assert EmbeddedRedis(data_dir).is_answering()
    other.shutdown(nosave=True)


def test_the_data_files_are_for_lumens_user_only(data_dir):
    server = EmbeddedRedis(data_dir)
    server.ensure_running()
    try:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        client.bgrewriteaof()
        client.close()
    finally:
        server.stop()
    path = server.data_dir
    assert path.stat().st_mode & 0o777 == 0o700
    written = [p for p in path.iterdir() if p.suffix in (".aof", ".rdb", ".log")]
    assert any(p.name == "appendonly.aof" for p in written)
    for p in written:
        assert p.stat().st_mode & 0o077 == 0, p.name
