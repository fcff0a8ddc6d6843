"""Redis failing under the redirect: links keep working, no hit is lost or counted twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from shortener.app import create_app
from shortener.context import AppContext
from shortener.embedded_redis import EmbeddedRedis
from shortener.hits.buffer import HitBuffer, PendingHit
from shortener.hits.instance import read_instance_days
from shortener.hits.recording import day_of
from shortener.links import Link, now_ms
from shortener.redirect import hit_from_environ, write_back
from tests.agents import CHROME
from tests.conftest import DOMAINS, TEST_ENVIRON, instance_day_keys, tracked

HEADERS = {"Host": DOMAINS[0], "User-Agent": CHROME}
TARGET = "https://example.com/printed"
ENVIRON = {"HTTP_HOST": DOMAINS[0], "HTTP_USER_AGENT": CHROME}


@pytest.fixture
def own_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A redis-server of this test's own, which the test stops, pauses or kills."""
    server = EmbeddedRedis(tmp_path / "redis")
    server.ensure_running()
    yield server
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def make_app(server: EmbeddedRedis, data_dir: Path, **settings: object) -> Flask:
    return tracked(
        create_app(
            {
                "redis_url": server.url,
                "data_dir": str(data_dir),
                "secret_key": "test-secret",
                "domains": DOMAINS,
                "default_domain": DOMAINS[0],
                "redis_timeout": 0.3,
                "TESTING": True,
                **settings,
            },
            environ=TEST_ENVIRON,
        )
    )


def drain(ctx) -> None:  # type: ignore[no-untyped-def]
    """Write the buffer back (the worker's own write-back may be at it too) until it is empty."""
    for _ in range(100):  # a bound on waiting, not a speed target
        write_back(ctx)
        if not len(ctx.buffer):
            return
        time.sleep(0.1)
    raise AssertionError(f"{len(ctx.buffer)} hits still buffered")


def followed_link(
    server: EmbeddedRedis, data_dir: Path, **settings: object
) -> tuple[Flask, AppContext, FlaskClient, Link]:
    """An app, its context and client, and a link followed once (so the worker remembers it)."""
    app = make_app(server, data_dir, **settings)
    ctx = app.extensions["lumen"]
    client = app.test_client()
    link = ctx.links.create({"url": TARGET})
    assert visit(client, link.code).status_code == 302
    return app, ctx, client, link


def human_clicks(app: Flask, link_id: int) -> int:
    ctx = app.extensions["lumen"]
    return int(ctx.redis.hget(ctx.keys.link(link_id), "human") or 0)


def instance_clicks(ctx: AppContext) -> int:
    """Today's human clicks of the whole instance, once the worker's tally is written."""
    ctx.tally.flush()
    [today] = read_instance_days(ctx.redis, ctx.keys, [day_of(now_ms())], now_ms())
    return today.fields["k:human"]


def visit(client: FlaskClient, code: str, ip: str = "203.0.113.9"):  # type: ignore[no-untyped-def]
    return client.get(f"/{code}", headers=HEADERS, environ_base={"REMOTE_ADDR": ip})


def test_links_keep_redirecting_while_redis_is_down_and_their_hits_are_written_back(
    own_server: EmbeddedRedis, tmp_path: Path
) -> None:
    app, ctx, client, link = followed_link(own_server, tmp_path / "data")
    own_server.stop()
    answers = [visit(client, link.code, ip=f"198.51.100.{n}") for n in range(20)]
    assert {(a.status_code, a.headers["Location"]) for a in answers} == {(302, TARGET)}
    assert len(ctx.buffer) == 20
    assert visit(client, "neverseen").status_code == 503  # an unknown code cannot be answered
    ready = client.get("/readyz", headers={"Host": DOMAINS[0]})
    assert ready.status_code == 503 and ready.get_json()["hits_buffered"] == 20
    own_server.ensure_running()
    drain(ctx)
    assert human_clicks(app, link.id) == 21
    assert instance_clicks(ctx) == 21
    ready = client.get("/readyz", headers={"Host": DOMAINS[0]}).get_json()
    assert ready["hits_written_back"] == 20 and ready["status"] == "ok"


def test_a_stalled_redis_does_not_hang_redirects(own_server: EmbeddedRedis, tmp_path: Path) -> None:
    app, ctx, client, link = followed_link(own_server, tmp_path / "data")
    assert own_server.process is not None
    os.kill(own_server.process.pid, signal.SIGSTOP)
    answers: list[int] = []
    worker = threading.Thread(target=lambda: answers.append(visit(client, link.code).status_code))
    worker.start()
    worker.join(timeout=20)  # a bound on a hang, not a speed target: the timeout is 0.3 s
    os.kill(own_server.process.pid, signal.SIGCONT)
    assert answers == [302]
    [line] = (tmp_path / "data" / "spool" / f"{os.getpid()}.jsonl").read_text().splitlines()
    assert PendingHit.from_json(line).replay  # it timed out: it may have landed
    drain(ctx)
    assert human_clicks(app, link.id) == 2
    # It had landed once Redis went on: its replay, found recorded, is counted instance-wide
    # (the write that timed out could not be).
    assert instance_clicks(ctx) == 2
    # ...as it was recorded: the same attribution fields as the link's own day.
    day = day_of(now_ms())
    [today] = read_instance_days(ctx.redis, ctx.keys, [day], now_ms())
    link_day = ctx.redis.hgetall(ctx.keys.link_day(link.id, day))
    assert {k: v for k, v in today.fields.items() if k.startswith("a:")} == {
        k: int(v) for k, v in link_day.items() if k.startswith("a:")
    }


def test_a_replayed_hit_that_had_landed_is_recorded_once(
    own_server: EmbeddedRedis, tmp_path: Path
) -> None:
    app, ctx, _client, link = followed_link(own_server, tmp_path / "data")
    ref = ctx.links.resolve(DOMAINS[0], link.code)
    [entry] = ctx.redis.xrange(ctx.keys.link_hits(link.id))
    landed_id = entry[1]["id"]
    # The same hit written again after a timeout: same id, flagged as a replay.
    hit = hit_from_environ({**ENVIRON, "REMOTE_ADDR": "1.2.3.4"}, link.code, ctx.secret_key)
    assert ref is not None
    ctx.buffer.add(PendingHit(ref, replace(hit, hit_id=landed_id), replay=True))
    ctx.buffer.add(PendingHit(ref, hit, replay=True))  # one that had not landed
    drain(ctx)
    assert human_clicks(app, link.id) == 2


def test_buffered_hits_survive_the_worker_and_are_adopted_by_the_next(
    own_server: EmbeddedRedis, tmp_path: Path
) -> None:
    app = make_app(own_server, tmp_path / "data")
    ctx = app.extensions["lumen"]
    link = ctx.links.create({"url": "https://example.com/spooled"})
    visit(app.test_client(), link.code)
    ref = ctx.links.resolve(DOMAINS[0], link.code)
    assert ref is not None
    spool_dir = tmp_path / "spool"
    dying_worker = HitBuffer(spool_dir, capacity=100)
    for n in range(5):
        environ = {**ENVIRON, "REMOTE_ADDR": f"192.0.2.{n}"}
        dying_worker.add(PendingHit(ref, hit_from_environ(environ, link.code, "s"), replay=False))
    spool = spool_dir / f"{os.getpid()}.jsonl"
    assert len(spool.read_text().splitlines()) == 5
    spool.rename(spool.with_name("999999999.jsonl"))  # as if its worker had died
    ctx.buffer = HitBuffer(spool_dir, capacity=100)  # the next worker's
    assert ctx.buffer.adopt_orphaned_spools() == 5
    assert list(spool_dir.iterdir()) == [spool]  # adopted hits are in the new worker's spool
    drain(ctx)
    assert human_clicks(app, link.id) == 6
    assert list(spool_dir.iterdir()) == []


def test_a_full_buffer_counts_what_it_drops_and_is_not_ready(
    own_server: EmbeddedRedis, tmp_path: Path
) -> None:
    _app, ctx, client, link = followed_link(own_server, tmp_path / "data", hit_buffer_size=3)
    own_server.stop()
    for n in range(5):
        assert visit(client, link.code, ip=f"192.0.2.{n}").status_code == 302
    assert (len(ctx.buffer), ctx.buffer.dropped) == (3, 2)
    ready = client.get("/readyz", headers={"Host": DOMAINS[0]})
    assert ready.status_code == 503
    assert ready.get_json()["hits_dropped"] == 2
    assert "the hit buffer is full" in ready.get_json()["detail"]


def test_an_outage_logs_each_kind_of_failure_once_without_tracebacks(
    own_server: EmbeddedRedis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _app, ctx, client, link = followed_link(own_server, tmp_path / "data")
    own_server.stop()
    caplog.clear()
    for _ in range(50):
        visit(client, link.code)
        visit(client, "unknowncode")
    records = [r for r in caplog.records if r.name.startswith("shortener")]
    assert ctx.failures.total == 100
    assert len(records) == 1  # both kinds meet the same failing call: "recording a hit"
    assert all(r.exc_info is None for r in records)


def test_a_flood_of_distinct_languages_and_referrers_keeps_the_day_hash_bounded(
    own_server: EmbeddedRedis, tmp_path: Path
) -> None:
    app = make_app(own_server, tmp_path / "data")
    ctx = app.extensions["lumen"]
    client = app.test_client()
    link = ctx.links.create({"url": "https://example.com/flood"})
    for n in range(400):
        client.get(
            f"/{link.code}",
            headers={
                **HEADERS,
                "Accept-Language": f"x-l{n}",
                "Referer": f"https://site{n}.example/page",
            },
        )
    from shortener.hits.recording import DAY_FIELD_CAPS, OTHER, day_of

    # One visitor: every hit went to the same instance-wide shard.
    [key] = instance_day_keys(ctx.redis, day_of(ctx.links.get(link.id).created_at))
    day = ctx.redis.hgetall(key)
    languages = [f for f in day if f.startswith("lang:")]
    attributions = [f for f in day if f.startswith("a:")]
    assert len(languages) == DAY_FIELD_CAPS["lang:"] + 1
    assert len(attributions) == DAY_FIELD_CAPS["a:"] + 1
    assert int(day[f"lang:{OTHER}"]) == 400 - DAY_FIELD_CAPS["lang:"]
    assert int(day[f"a:referral|{OTHER}|referrer"]) == 400 - DAY_FIELD_CAPS["a:"]
    assert sum(int(day[f]) for f in attributions) == 400  # every click still counted once
    stats = client.get(
        "/api/v1/stats", headers={**HEADERS, "Authorization": f"Bearer {api_key_of(app)}"}
    ).get_json()
    assert stats["totals"]["human"] == 400


def api_key_of(app: Flask) -> str:
    from shortener.apikeys import create_api_key

    ctx = app.extensions["lumen"]
    return create_api_key(ctx.redis, ctx.keys, "tester", 1)


def test_every_redis_call_has_the_configured_timeout(
    own_server: EmbeddedRedis, tmp_path: Path
) -> None:
    app = make_app(own_server, tmp_path / "data", redis_timeout=0.3)
    pool = app.extensions["lumen"].redis.connection_pool
    assert pool.connection_kwargs["socket_timeout"] == 0.3
    assert pool.connection_kwargs["socket_connect_timeout"] == 0.3
    with pytest.raises(redis.TimeoutError):
        assert own_server.process is not None
        os.kill(own_server.process.pid, signal.SIGSTOP)
        try:
            app.extensions["lumen"].redis.ping()
        finally:
            os.kill(own_server.process.pid, signal.SIGCONT)
