"""Scenarios of tests/test_store.py that need greenlets, run in a child process patched as
gunicorn's gevent worker patches itself.

Usage: store_under_gevent.py <redis url> <scenario>; prints one JSON line.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import Settings  # noqa: E402
from shortener.analytics.attribution import classify_hit  # noqa: E402
from shortener.context import build_context  # noqa: E402
from shortener.hits.recording import RECORD_HIT, Hit, RecordingPolicy, record_hit  # noqa: E402
from shortener.store import connect  # noqa: E402

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
DOMAIN = "go.test"

url, scenario = sys.argv[1], sys.argv[2]
client = connect(url, timeout=10)  # a scenario pauses Redis for 2 s
client.flushall()
ctx = build_context(
    Settings(redis_url=url, data_dir=tempfile.mkdtemp(), secret_key="test", domains=(DOMAIN,)),
    client,
)
links = [
    ctx.links.create({"url": f"https://example.com/{i}"})
    for i in range(20 if scenario in ("together", "apart") else 10)
]


def follow(link, user_agent=CHROME):  # type: ignore[no-untyped-def]
    """Record one hit of `link` as the redirect does; the outcome's status and target."""
    hit = Hit(
        time_ms=1_780_000_000_000,
        domain=DOMAIN,
        code=link.code,
        referrer="",
        user_agent=user_agent,
        language="en",
        visitor=f"v{link.id}",
        ip_hash="i",
    )
    outcome = record_hit(
        client,
        ctx.keys,
        link.id,
        hit,
        classify_hit(user_agent, ""),
        tally=ctx.tally,
        policy=RecordingPolicy(100, 30, 1000),
    )
    return outcome.status, outcome.url


def outcome_of(greenlet):  # type: ignore[no-untyped-def]
    return str(greenlet.value[0]) if greenlet.successful() else type(greenlet.exception).__name__


def reads() -> int:
    return int(client.info("stats")["total_reads_processed"])


def hits() -> list[int]:
    return [int(client.hget(ctx.keys.link(link.id), "hits") or 0) for link in links]


report: dict[str, object] = {}
if scenario in ("together", "apart"):
    client.script_load(RECORD_HIT.source)
    before = reads()
    if scenario == "together":
        greenlets = [gevent.spawn(follow, link) for link in links]
        gevent.joinall(greenlets)
        replies = [greenlet.value[1] for greenlet in greenlets]
    else:
        replies = [follow(link)[1] for link in links]
    report = {
        "reads": reads() - before,
        "replies": replies,
        "expected": [link.url for link in links],
        "hits": hits(),
    }
elif scenario == "one-bad":
    greenlets = [
        gevent.spawn(follow, link, "\ud800 lone surrogate" if i == 3 else CHROME)
        for i, link in enumerate(links)
    ]
    gevent.joinall(greenlets)
    report = {"outcomes": [outcome_of(greenlet) for greenlet in greenlets], "hits": hits()}
elif scenario == "flushed":
    follow(links[0])
    client.script_flush()
    client.hset(ctx.keys.link(links[0].id), "hits", 0)
    greenlets = [gevent.spawn(follow, link) for link in links]
    gevent.joinall(greenlets)
    report = {"outcomes": [outcome_of(greenlet) for greenlet in greenlets], "hits": hits()}
elif scenario == "interrupted":
    # The sender's batch waits on Redis far longer than the kill takes, even on a loaded machine.
    connect(url).execute_command("CLIENT", "PAUSE", 2000)
    sender, joined = gevent.spawn(follow, links[0]), gevent.spawn(follow, links[1])
    gevent.sleep(0.1)
    sender.kill()
    joined.join()
    report = {
        "joined": f"{type(joined.exception).__name__}: {joined.exception}",
        "after": str(follow(links[2])[0]),
    }
print(json.dumps(report))
