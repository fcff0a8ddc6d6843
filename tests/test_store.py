"""Running Lua scripts: calls made at the same moment share one round trip, each gets its own reply.

The batching matters in a gevent worker, so the scenarios that need greenlets run in a child
process patched as gunicorn's gevent worker patches itself (tests/store_under_gevent.py).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading

import pytest
import redis

from shortener.analytics.attribution import classify_hit
from shortener.embedded_redis import EmbeddedRedis
from shortener.failures import FailureLog
from shortener.hits.recording import Hit, RecordingPolicy, record_hit
from shortener.hits.tally import InstanceTally
from shortener.store import Keys
from tests.conftest import DOMAINS, ROOT

log = logging.getLogger(__name__)

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def under_gevent(redis_server: EmbeddedRedis, scenario: str) -> dict[str, object]:
    """Run one scenario of tests/store_under_gevent.py and return what it reports."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "store_under_gevent.py"), redis_server.url, scenario],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_calls_made_at_once_by_greenlets_share_one_round_trip(redis_server, redis_client):
    report = under_gevent(redis_server, "together")
    assert report["replies"] == report["expected"]  # each greenlet got its own link's target
    assert report["hits"] == [1] * 20
    # 20 calls; Redis read its sockets at most 3 times (the batch, and the INFO asking).
    assert report["reads"] <= 3


def test_greenlets_one_after_another_each_send_their_own_call(redis_server, redis_client):
    report = under_gevent(redis_server, "apart")
    assert report["replies"] == report["expected"]
    assert report["reads"] >= 20


def test_a_call_redis_cannot_take_fails_alone_in_its_batch(redis_server, redis_client):
    report = under_gevent(redis_server, "one-bad")
    assert report["outcomes"][3] == "UnicodeEncodeError"
    assert [o for i, o in enumerate(report["outcomes"]) if i != 3] == ["302"] * 9
    assert report["hits"] == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


def test_a_batch_is_sent_again_once_the_server_forgot_the_scripts(redis_server, redis_client):
    report = under_gevent(redis_server, "flushed")
    assert report["outcomes"] == ["302"] * 10
    assert report["hits"] == [1] * 10


def test_an_interrupted_sender_fails_its_batch_and_the_next_calls_go_through(
    redis_server, redis_client
):
    report = under_gevent(redis_server, "interrupted")
    assert report["joined"] == "ConnectionError: the request sending this batch was interrupted"
    assert report["after"] == "302"


def test_concurrent_threads_each_get_the_reply_to_their_own_call(app, redis_client):
    ctx = app.extensions["lumen"]
    links = [ctx.links.create({"url": f"https://example.com/{i}"}) for i in range(16)]
    start = threading.Barrier(len(links))
    replies: dict[int, str] = {}

    def follow(link) -> None:  # type: ignore[no-untyped-def]
        hit = Hit(
            time_ms=1_780_000_000_000,
            domain=DOMAINS[0],
            code=link.code,
            referrer="",
            user_agent=CHROME,
            language="en",
            visitor=f"v{link.id}",
            ip_hash="i",
        )
        start.wait()
        outcome = record_hit(
            ctx.redis,
            ctx.keys,
            link.id,
            hit,
            classify_hit(CHROME, ""),
            tally=ctx.tally,
            policy=RecordingPolicy(100, 30, 1000),
        )
        replies[link.id] = outcome.url

    threads = [threading.Thread(target=follow, args=(link,)) for link in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == {link.id: link.url for link in links}
    assert [int(redis_client.hget(ctx.keys.link(link.id), "hits")) for link in links] == [1] * 16


def test_a_call_on_a_stopped_server_raises_a_connection_error(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    server.ensure_running()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    server.stop()
    hit = Hit(
        time_ms=1_780_000_000_000,
        domain=DOMAINS[0],
        code="abc",
        referrer="",
        user_agent=CHROME,
        language="en",
        visitor="v",
        ip_hash="i",
    )
    with pytest.raises(redis.ConnectionError):
        record_hit(
            client,
            Keys(),
            1,
            hit,
            classify_hit(CHROME, ""),
            tally=InstanceTally(
                client, Keys(), RecordingPolicy(), tmp_path / "tally", 10, FailureLog(log)
            ),
            policy=RecordingPolicy(100, 30, 1000),
        )
