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
from shortener.store import LuaScript, connect, is_cluster, run_script  # noqa: E402
from tests.agents import CHROME  # noqa: E402

DOMAIN = "go.test"
# Holds Redis (the node owning KEYS[1]) for ARGV[1] microseconds: a trip that stays in flight.
BUSY = LuaScript(
    "busy",
    """
    local start = redis.call('TIME')
    local now
    repeat
      now = redis.call('TIME')
    until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) >= tonumber(ARGV[1])
    return redis.call('EXISTS', KEYS[1])
    """,
)

url, scenario = sys.argv[1], sys.argv[2]
client = connect(url, timeout=10)  # a scenario pauses Redis for 2 s
client.flushall()
ctx = build_context(
    Settings(redis_url=url, data_dir=tempfile.mkdtemp(), secret_key="test", domains=(DOMAIN,)),
    client,
)
links = [
    ctx.links.create({"url": f"https://example.com/{i}"})
    for i in range(10 if scenario in ("one-bad", "flushed", "wrong-type") else 20)
]
primaries = {"target_nodes": client.PRIMARIES} if is_cluster(client) else {}


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
    """Socket reads Redis made so far (on a cluster, summed over the masters)."""
    stats = client.info("stats", **primaries)
    per_node = stats.values() if primaries else [stats]
    return sum(int(node["total_reads_processed"]) for node in per_node)


def node_of(link):  # type: ignore[no-untyped-def]
    """The name of the node holding `link` (standalone Redis is one node)."""
    if not primaries:
        return ""
    return client.nodes_manager.get_node_from_slot(client.keyslot(ctx.keys.link(link.id))).name


def busy(link, microseconds):  # type: ignore[no-untyped-def]
    return run_script(client, BUSY, [ctx.keys.link(link.id)], [microseconds])


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
        "nodes": len(client.get_primaries()) if primaries else 1,
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
elif scenario == "wrong-type":
    client.delete(ctx.keys.link(links[3].id))
    client.set(ctx.keys.link(links[3].id), "not a hash")
    greenlets = [gevent.spawn(follow, link) for link in links]
    gevent.joinall(greenlets)
    report = {"outcomes": [outcome_of(greenlet) for greenlet in greenlets]}
elif scenario == "interrupted":
    # The sender's batch waits on Redis far longer than the kill takes, even on a loaded machine.
    first, second, third = [link for link in links if node_of(link) == node_of(links[0])][:3]
    connect(url).execute_command("CLIENT", "PAUSE", 2000, **primaries)
    sender, joined = gevent.spawn(follow, first), gevent.spawn(follow, second)
    gevent.sleep(0.1)
    sender.kill()
    joined.join()
    report = {
        "joined": f"{type(joined.exception).__name__}: {joined.exception}",
        "after": follow(third)[1],
        "expected": third.url,
    }
elif scenario == "queued":
    # While one trip to a node is in flight, calls for that node made one after another wait and
    # go out together in the next trip.
    held, *others = [link for link in links if node_of(link) == node_of(links[0])][:6]
    client.script_load(RECORD_HIT.source)
    client.script_load(BUSY.source)
    before = reads()
    holder = gevent.spawn(busy, held, 500_000)
    gevent.sleep(0.05)
    callers = []
    for link in others:
        callers.append(gevent.spawn(follow, link))
        gevent.sleep(0.02)
    gevent.joinall([holder, *callers])
    report = {
        "reads": reads() - before,
        "nodes": len(client.get_primaries()) if primaries else 1,
        "replies": [caller.value[1] for caller in callers],
        "expected": [link.url for link in others],
    }
elif scenario == "side-by-side":
    # A call to one node does not wait for another node's trip, even when made at the same moment.
    held = links[0]
    elsewhere = next(link for link in links if node_of(link) != node_of(held))
    client.script_load(BUSY.source)
    holder = gevent.spawn(busy, held, 1_000_000)
    caller = gevent.spawn(follow, elsewhere)
    caller.join()
    report = {"held_still": not holder.ready(), "reply": caller.value[1], "expected": elsewhere.url}
    holder.join()
print(json.dumps(report))
