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
from tests.agents import CHROME
from tests.conftest import DOMAINS, ROOT

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster
log = logging.getLogger(__name__)


def under_gevent(redis_url: str, scenario: str) -> dict[str, object]:
    """Run one scenario of tests/store_under_gevent.py and return what it reports."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "store_under_gevent.py"), redis_url, scenario],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_calls_made_at_once_by_greenlets_share_one_round_trip_per_node(redis_url, redis_client):
    report = under_gevent(redis_url, "together")
    assert report["replies"] == report["expected"]  # each greenlet got its own link's target
    assert report["hits"] == [1] * 20
    # 20 calls; each node read its sockets at most twice (the batch, and the INFO asking).
    assert report["reads"] <= 2 * report["nodes"]


def test_greenlets_one_after_another_each_send_their_own_call(redis_url, redis_client):
    report = under_gevent(redis_url, "apart")
    assert report["replies"] == report["expected"]
    assert report["reads"] >= 20


def test_calls_made_while_a_trip_is_in_flight_go_together_in_the_next(redis_url, redis_client):
    report = under_gevent(redis_url, "queued")
    assert report["replies"] == report["expected"]
    # The held trip, one trip for the five calls made 20 ms apart, and the INFO asking (one read
    # per node); a trip per call would be five reads more.
    assert report["reads"] <= 2 + report["nodes"]


def test_a_call_to_one_cluster_node_does_not_wait_for_another_nodes_trip(redis_cluster):
    report = under_gevent(redis_cluster.url, "side-by-side")
    assert report["reply"] == report["expected"]
    assert report["held_still"]


def test_a_call_redis_cannot_take_fails_alone_in_its_batch(redis_url, redis_client):
    report = under_gevent(redis_url, "one-bad")
    assert report["outcomes"][3] == "UnicodeEncodeError"
    assert [o for i, o in enumerate(report["outcomes"]) if i != 3] == ["302"] * 9
    assert report["hits"] == [1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


def test_a_call_redis_answers_with_an_error_fails_alone_in_its_batch(redis_url, redis_client):
    report = under_gevent(redis_url, "wrong-type")
    assert report["outcomes"][3] == "ResponseError"
    assert [o for i, o in enumerate(report["outcomes"]) if i != 3] == ["302"] * 9


def test_a_batch_is_sent_again_once_the_server_forgot_the_scripts(redis_url, redis_client):
    report = under_gevent(redis_url, "flushed")
    assert report["outcomes"] == ["302"] * 10
    assert report["hits"] == [1] * 10


def test_an_interrupted_sender_fails_its_batch_and_the_next_calls_get_their_own_replies(
    redis_url, redis_client
):
    report = under_gevent(redis_url, "interrupted")
    assert report["joined"] == "ConnectionError: the request sending this batch was interrupted"
    # The interrupted trip's connection is dropped: its late reply is not read as the next one's.
    assert report["after"] == report["expected"]


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
