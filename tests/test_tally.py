"""The instance-wide counts a process tallies: written once per flush, exactly once, never lost."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from collections import Counter

import pytest
import redis

from shortener.analytics.attribution import classify_hit
from shortener.failures import FailureLog
from shortener.hits.instance import read_instance_days
from shortener.hits.recording import (
    CLOSE_GRACE_MS,
    DAY_FIELD_CAPS,
    Hit,
    InstanceHit,
    RecordingPolicy,
    day_of,
    record_hit,
)
from shortener.hits.tally import SEALED, InstanceTally, batch_calls
from shortener.links import now_ms
from shortener.store import SHARDS, connect, run_in_pipeline
from tests.agents import CHROME, GOOGLEBOT, IPHONE, WHATSAPP_PREVIEW
from tests.conftest import ROOT, stored_hits

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster

log = logging.getLogger(__name__)


@pytest.fixture
def ctx(app):  # type: ignore[no-untyped-def]
    """The app's context, its tally written only by the test's own flushes."""
    ctx = app.extensions["lumen"]
    ctx.tally.stop()
    return ctx


@pytest.fixture
def record(app):  # type: ignore[no-untyped-def]
    """Record one live hit of a link as the redirect does (the instance-wide part tallied)."""
    ctx = app.extensions["lumen"]

    def record(link, ua=CHROME, referrer="", visitor="v", lang="en", at=None):  # type: ignore[no-untyped-def]
        hit = Hit(at or now_ms(), link.domain, link.code, referrer, ua, lang, visitor, "ip")
        outcome = record_hit(
            ctx.redis,
            ctx.keys,
            link.id,
            hit,
            classify_hit(ua, referrer),
            tally=ctx.tally,
            policy=RecordingPolicy(),
        )
        assert outcome is not None and outcome.status == 302

    return record


def today_totals(ctx) -> Counter[str]:  # type: ignore[no-untyped-def]
    [today] = read_instance_days(ctx.redis, ctx.keys, [day_of(now_ms())], now_ms())
    return today.fields


def without_counters(fields: dict[str, int]) -> dict[str, int]:
    """A day hash's counts without the cap counters (`n:`) and the link-only `dst:` fields."""
    return {k: int(v) for k, v in fields.items() if not k.startswith(("n:", "dst:")) and int(v)}


def test_counts_wait_in_the_tally_until_a_flush_writes_them_all_at_once(ctx, record):
    link = ctx.links.create({"url": "https://example.com/a"})
    for n in range(30):
        record(link, visitor=f"v{n}")
    assert today_totals(ctx)["k:human"] == 0
    assert len(ctx.tally) == 30
    assert ctx.tally.flush() == 30
    assert len(ctx.tally) == 0
    totals = today_totals(ctx)
    assert totals["k:human"] == 30
    [today] = read_instance_days(ctx.redis, ctx.keys, [day_of(now_ms())], now_ms())
    assert today.visitors == 30 and today.top_links == {link.id: 30}
    assert len(stored_hits(ctx.redis)) == 30  # one compact stream entry per hit
    assert ctx.tally.flush() == 0  # nothing written twice


def test_the_instance_day_holds_the_same_fields_as_the_sum_of_the_link_days(ctx, record):
    links = [ctx.links.create({"url": f"https://example.com/{n}"}) for n in range(3)]
    mix = [
        (CHROME, ""),
        (IPHONE, "https://l.facebook.com/"),
        (CHROME, "https://mail.google.com/"),
        (WHATSAPP_PREVIEW, ""),
        (GOOGLEBOT, ""),
        (IPHONE, "https://t.co/x"),
    ]
    for n in range(60):
        ua, referrer = mix[n % len(mix)]
        record(links[n % 3], ua, referrer, visitor=f"v{n}", lang=f"l{n % 7}")
    ctx.tally.flush()
    day = day_of(now_ms())
    summed: Counter[str] = Counter()
    for link in links:
        summed.update(without_counters(ctx.redis.hgetall(ctx.keys.link_day(link.id, day))))
    assert without_counters(today_totals(ctx)) == dict(summed)


def test_a_capped_family_folds_the_same_values_into_other_as_a_link_day(ctx, record):
    link = ctx.links.create({"url": "https://example.com/langs"})
    cap = DAY_FIELD_CAPS["lang:"]
    for n in range(cap + 15):  # one visitor: one shard, whose day hash has the cap of its own
        record(link, visitor="one", lang=f"x{n:03d}")
    ctx.tally.flush()
    link_day = without_counters(ctx.redis.hgetall(ctx.keys.link_day(link.id, day_of(now_ms()))))
    instance = without_counters(today_totals(ctx))
    assert instance["lang:(other)"] == link_day["lang:(other)"] == 15
    assert sum(1 for name in instance if name.startswith("lang:")) == cap + 1


def test_a_batch_sent_again_is_applied_once_by_each_shard(ctx):
    now = now_ms()
    hits = [InstanceHit(now, n % SHARDS, 7, "human", visitor=f"v{n}") for n in range(40)]
    calls, _ = batch_calls(ctx.keys, ctx.recording, "writer-1", 1, hits)
    assert len(calls) == SHARDS  # one script call per shard the batch touches
    first = run_in_pipeline(ctx.redis, calls)
    again = run_in_pipeline(ctx.redis, calls)  # as after a timeout, or by an adopting process
    assert all(reply == [1] for reply in first) and all(reply == [0] for reply in again)
    assert today_totals(ctx)["k:human"] == 40
    assert len(stored_hits(ctx.redis)) == 40
    later, _ = batch_calls(ctx.keys, ctx.recording, "writer-1", 2, hits[:8])
    assert all(reply == [1] for reply in run_in_pipeline(ctx.redis, later))
    assert today_totals(ctx)["k:human"] == 48


def test_counts_kept_while_redis_fails_are_written_once_it_answers(ctx, record, redis_client):
    link = ctx.links.create({"url": "https://example.com/b"})
    for n in range(10):
        record(link, visitor=f"v{n}")
    tally = ctx.tally
    unreachable = InstanceTally(
        connect("redis://127.0.0.1:1", timeout=0.2),
        ctx.keys,
        ctx.recording,
        tally.spool_dir.with_name("unreachable"),
        100,
        FailureLog(log),
    )
    for n in range(5):
        unreachable.add(InstanceHit(now_ms(), n % SHARDS, link.id, "human", visitor=f"w{n}"))
    unreachable.stop()
    with pytest.raises(redis.ConnectionError):
        unreachable.flush()
    assert len(unreachable) == 5  # kept, in its spool too
    assert sum(1 for _ in unreachable.spool_dir.iterdir()) == 1
    # The same spool, adopted by a process that reaches Redis, is written once.
    assert tally.flush() == 10
    shutil.copytree(unreachable.spool_dir, tally.spool_dir, dirs_exist_ok=True)
    for path in tally.spool_dir.iterdir():  # held by a process that is gone
        path.rename(path.with_name("999999999" + path.name[path.name.index(".") :]))
    assert tally.adopt_orphaned_spools() == 5
    assert tally.flush() == 5
    assert today_totals(ctx)["k:human"] == 15
    assert list(tally.spool_dir.iterdir()) == []


def test_a_process_killed_before_or_after_writing_loses_nothing_and_counts_once(
    ctx, redis_url, tmp_path
):
    spool = tmp_path / "spool"
    # A child process tallies 20 hits and flushes them, then tallies 7 more and dies without
    # flushing; it also leaves a copy of its first batch's file, as if killed after the shards
    # applied it but before it could delete it.
    child = f"""
import logging, os, shutil, sys
from pathlib import Path
from shortener.failures import FailureLog
from shortener.hits.recording import InstanceHit, RecordingPolicy
from shortener.hits.tally import InstanceTally
from shortener.links import now_ms
from shortener.store import Keys, connect
spool = Path({str(spool)!r})
tally = InstanceTally(connect({redis_url!r}), Keys(), RecordingPolicy(), spool, 100,
                      FailureLog(logging.getLogger()))
tally.stop()  # written by its flushes only
for n in range(20):
    tally.add(InstanceHit(now_ms(), n % 8, 5, "human", visitor=f"a{{n}}"))
[open_file] = spool.iterdir()
kept = spool.parent / "kept"
shutil.copy(open_file, kept)
assert tally.flush() == 20
batch_name = open_file.name.replace(".open", ".1.batch")
for n in range(7):
    tally.add(InstanceHit(now_ms(), n % 8, 5, "human", visitor=f"b{{n}}"))
kept.rename(spool / batch_name)
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", child], cwd=ROOT, check=True, timeout=60)
    assert sorted(path.suffix for path in spool.iterdir()) == [".batch", ".open"]
    assert today_totals(ctx)["k:human"] == 20
    adopter = InstanceTally(ctx.redis, ctx.keys, ctx.recording, spool, 100, FailureLog(log))
    adopter.stop()
    assert adopter.adopt_orphaned_spools() == 27
    assert adopter.flush() == 27
    assert today_totals(ctx)["k:human"] == 27  # the first batch again: applied once
    assert list(spool.iterdir()) == []


def test_a_late_part_for_a_sealed_day_goes_to_the_days_merged_copy(ctx, record):
    link = ctx.links.create({"url": "https://example.com/c"})
    for n in range(12):
        record(link, visitor=f"v{n}")
    ctx.tally.flush()
    day = day_of(now_ms())
    after_close = (now_ms() // 86_400_000 + 1) * 86_400_000 + CLOSE_GRACE_MS
    [closed] = read_instance_days(ctx.redis, ctx.keys, [day], after_close)  # compacts: sealed
    assert closed.fields["k:human"] == 12
    # A batch that waited (Redis away) still names the shards of that day.
    for n in range(SHARDS):
        ctx.tally.add(InstanceHit(now_ms(), n, link.id, "human", visitor=f"late{n}"))
    assert ctx.tally.flush() == SHARDS  # refused by the shards, written to the merged copy
    [again] = read_instance_days(ctx.redis, ctx.keys, [day], after_close)
    assert again.fields["k:human"] == 12 + SHARDS
    assert again.top_links == {link.id: 12 + SHARDS}
    for shard in range(SHARDS):
        assert ctx.redis.hgetall(ctx.keys.global_day(day, shard)) == {SEALED: "1"}
    assert len(stored_hits(ctx.redis)) == 12 + SHARDS


def test_past_its_capacity_the_tally_drops_and_counts_what_it_cannot_keep(ctx, tmp_path):
    tally = InstanceTally(ctx.redis, ctx.keys, ctx.recording, tmp_path / "t", 3, FailureLog(log))
    tally.stop()
    kept = [tally.add(InstanceHit(now_ms(), 0, 1, "human", visitor=f"v{n}")) for n in range(5)]
    assert kept == [True, True, True, False, False]
    assert (len(tally), tally.dropped) == (3, 2)


def test_a_running_tally_writes_by_itself_within_a_few_seconds(app, record):
    ctx = app.extensions["lumen"]
    link = ctx.links.create({"url": "https://example.com/d"})
    record(link)
    deadline = time.monotonic() + 10
    while today_totals(ctx)["k:human"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert today_totals(ctx)["k:human"] == 1
    assert len(ctx.tally) == 0
