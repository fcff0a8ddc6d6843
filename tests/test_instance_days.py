"""Instance-wide day aggregates on shards: spread by visitor, merged on read, compacted once."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from shortener.analytics.attribution import classify_hit
from shortener.figures import DayRange, load_stats, today_of
from shortener.hits.instance import COMPACT_DAY, read_instance_days
from shortener.hits.reading import iter_hits
from shortener.hits.recording import CLOSE_GRACE_MS, Hit, RecordingPolicy, day_of, record_hit
from shortener.hits.tally import SEALED
from shortener.links import now_ms
from shortener.store import SHARDS, run_script
from tests.agents import CHROME

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster

VISITORS = 40


@pytest.fixture
def ctx(app):  # type: ignore[no-untyped-def]
    return app.extensions["lumen"]


@pytest.fixture
def today_hits(ctx):  # type: ignore[no-untyped-def]
    """VISITORS human hits recorded live today, one per visitor, on two links."""
    links = [ctx.links.create({"url": f"https://example.com/{n}"}) for n in range(2)]
    for n in range(VISITORS):
        link = links[n % 2]
        hit = Hit(now_ms(), link.domain, link.code, "", CHROME, "en", f"visitor-{n}", "ip")
        outcome = record_hit(
            ctx.redis,
            ctx.keys,
            link.id,
            hit,
            classify_hit(CHROME, ""),
            tally=ctx.tally,
            policy=RecordingPolicy(),
        )
        assert outcome is not None
    ctx.tally.flush()
    return links


def shard_keys(r, keys, day: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        keys.global_day(day, shard)
        for shard in range(SHARDS)
        if r.exists(keys.global_day(day, shard))
    ]


def test_live_hits_spread_over_the_shards_by_visitor_and_are_merged_on_read(ctx, today_hits):
    r, keys, day = ctx.redis, ctx.keys, day_of(now_ms())
    assert len(shard_keys(r, keys, day)) >= SHARDS // 2
    assert not r.exists(keys.global_day(day))  # nothing recorded late
    today = today_of(now_ms())
    stats = load_stats(r, keys, DayRange(today, today))
    assert (stats.totals.human, stats.totals.unique_visitors) == (VISITORS, VISITORS)
    assert sorted((t.id, t.clicks) for t in stats.top_links) == [
        (today_hits[0].id, VISITORS // 2),
        (today_hits[1].id, VISITORS // 2),
    ]
    assert len(list(iter_hits(r, keys, 0, 2**62))) == VISITORS


def test_a_closed_day_is_compacted_once_into_its_merged_copy(ctx, today_hits):
    r, keys, day = ctx.redis, ctx.keys, day_of(now_ms())
    [open_day] = read_instance_days(r, keys, [day], now_ms())
    after_close = (now_ms() // 86_400_000 + 1) * 86_400_000 + CLOSE_GRACE_MS
    [compacted] = read_instance_days(r, keys, [day], after_close)
    assert compacted == open_day
    # The shards keep only their seal: the tally's late writes of that day go to the merged copy.
    for shard in range(SHARDS):
        assert r.hgetall(keys.global_day(day, shard)) == {SEALED: "1"}
        assert not r.exists(keys.global_visitors(day, shard), keys.global_top_links(day, shard))
    assert r.hget(keys.global_day(day), "uv") == str(VISITORS)
    assert int(r.hget(keys.global_day(day), "k:human")) == VISITORS
    [again] = read_instance_days(r, keys, [day], after_close)
    assert again == open_day
    # A second compactor that read the same shards before they were emptied adds nothing.
    replay = run_script(
        r,
        COMPACT_DAY,
        [keys.global_day(day), keys.global_top_links(day)],
        [after_close // 1000 + 86_400, VISITORS, 1, "k:human", VISITORS],
    )
    assert replay == 0
    assert read_instance_days(r, keys, [day], after_close) == [open_day]


def test_the_shards_fall_one_in_each_eighth_of_the_slots(keys):
    slots = [key_slot(keys.global_day("20261203", shard).encode()) for shard in range(SHARDS)]
    assert sorted(slot * 8 // 16384 for slot in slots) == list(range(8))
