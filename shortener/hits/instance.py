"""The instance-wide day aggregates read back: shards merged, closed days compacted once.

`shortener.hits.tally` spreads a day's instance-wide aggregates over the `SHARDS` hash tags of
`store.SHARD_TAGS` (by visitor) plus a merged copy (`{g}`: hits recorded after the day closed).
A reader merges them; a day whose shards are still written (today, or a day closed less than
`CLOSE_GRACE_MS` ago) is read from all of them. A closed day is compacted the first time it is
read: each shard is sealed and read in one script on its slot (`SEAL_DAY`: from then on the
tally's script refuses to write that shard's day and writes the merged copy instead, so no count
lands where no one reads), the shards' sums are added to the merged copy in one script on the
`{g}` slot (which applies them only once, however many readers race), the merged hash gets `uv`
(the shards' visitors) as its marker, and the shard keys are emptied down to the seal. From then
on the day costs three commands on one node, so a 90-day read is one pipelined round trip per
node whatever the number of shards (compaction is done by the reader, lazily, so no periodic job
is needed).

A day's unique visitors are the sum of its parts' counts: a visitor's hits all go to one shard
(its visitor hash picks it), so no HyperLogLogs need merging (a merge would cross slots).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import redis

from shortener.hits.recording import CLOSE_GRACE_MS, named_script
from shortener.hits.tally import SEALED, day_expire_at
from shortener.store import SHARDS, Call, Keys, raise_first_error, run_in_pipeline

# The merged hash's marker field: present once the day is compacted; it holds the shards' visitors.
COMPACTED = "uv"

# Adds a closed day's shard sums to its merged copy, once: args are the day's expiry (epoch s),
# the shards' visitors, the number of hash fields n, then n field/count pairs, then link/clicks
# pairs of the top links. Returns 1 when applied, 0 when the day was compacted already.
COMPACT_DAY = named_script(
    "compact_day",
    ("day", "top_links"),
    ("expire_at", "visitors", "fields"),
    """
if redis.call('HEXISTS', K.day, 'uv') == 1 then return 0 end
local fields = tonumber(A.fields)
for i = 4, 3 + 2 * fields, 2 do redis.call('HINCRBY', K.day, ARGV[i], ARGV[i + 1]) end
for i = 4 + 2 * fields, #ARGV, 2 do redis.call('ZINCRBY', K.top_links, ARGV[i + 1], ARGV[i]) end
redis.call('HSET', K.day, 'uv', A.visitors)
redis.call('EXPIREAT', K.day, A.expire_at)
if redis.call('EXISTS', K.top_links) == 1 then redis.call('EXPIREAT', K.top_links, A.expire_at) end
return 1
""",
)


# Seals one shard's day (the tally's script refuses to write it from then on) and returns its day
# hash, visitor count and top links. Sealing again changes nothing.
SEAL_DAY = named_script(
    "seal_day",
    ("day", "visitors", "top_links"),
    ("expire_at",),
    f"""
redis.call('HSET', K.day, '{SEALED}', 1)
redis.call('EXPIREAT', K.day, A.expire_at)
return {{redis.call('HGETALL', K.day), redis.call('PFCOUNT', K.visitors),
  redis.call('ZRANGE', K.top_links, 0, -1, 'WITHSCORES')}}
""",
)

# Once its sums are in the merged copy: a sealed shard's day keeps only its seal.
EMPTY_SEALED_DAY = named_script(
    "empty_sealed_day",
    ("day", "visitors", "top_links"),
    ("expire_at",),
    f"""
redis.call('DEL', K.day, K.visitors, K.top_links)
redis.call('HSET', K.day, '{SEALED}', 1)
redis.call('EXPIREAT', K.day, A.expire_at)
return 1
""",
)


@dataclass(slots=True)
class InstanceDay:
    """One day's instance-wide aggregates, merged: counts by field, visitors, clicks by link."""

    fields: Counter[str] = field(default_factory=Counter)
    visitors: int = 0
    top_links: Counter[int] = field(default_factory=Counter)

    def add(
        self, fields: dict[str, str], visitors: int, top_links: list[tuple[str, float]]
    ) -> None:
        """Add one part (a shard or the merged copy) of the day."""
        self.fields.update({name: int(value) for name, value in fields.items()})
        self.visitors += visitors
        for link_id, clicks in top_links:
            self.top_links[int(link_id)] += int(clicks)


def _parts(keys: Keys, day: str, shards: Sequence[int | None]) -> list[tuple[str, str, str]]:
    return [
        (
            keys.global_day(day, shard),
            keys.global_visitors(day, shard),
            keys.global_top_links(day, shard),
        )
        for shard in shards
    ]


def _day_start_ms(day: str) -> int:
    return int(datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC).timestamp() * 1000)


def is_open(day: str, now_ms: int) -> bool:
    """Whether a day's shards may still be written (today, or closed less than the grace ago)."""
    return now_ms < _day_start_ms(day) + 86_400_000 + CLOSE_GRACE_MS


def read_instance_days(
    r: redis.Redis, keys: Keys, days: Sequence[str], now_ms: int
) -> list[InstanceDay]:
    """The merged instance-wide aggregates of `days` (YYYYMMDD); compacts closed days on the way.

    One pipeline: the merged copy of every day, and every shard of the open days; closed days not
    compacted yet cost one more read and one write, once.
    """
    every_shard: list[int | None] = [*range(SHARDS)]
    plan = [(day, [None, *every_shard] if is_open(day, now_ms) else [None]) for day in days]
    pipe = r.pipeline(transaction=False)
    for day, shards in plan:
        for hash_key, visitors_key, top_key in _parts(keys, day, shards):
            pipe.hgetall(hash_key)
            pipe.execute_command("PFCOUNT", visitors_key)
            pipe.zrange(top_key, 0, -1, withscores=True)
    replies = iter(pipe.execute())
    result: list[InstanceDay] = []
    to_compact: list[tuple[str, InstanceDay]] = []
    for day, shards in plan:
        merged = InstanceDay()
        for _ in shards:
            fields, visitors, top = next(replies), next(replies), next(replies)
            if COMPACTED in fields:
                visitors += int(fields.pop(COMPACTED))
            elif len(shards) == 1:
                to_compact.append((day, merged))
            merged.add(fields, int(visitors), top)
        result.append(merged)
    if to_compact:
        compact_days(r, keys, to_compact)
    return result


def compact_days(r: redis.Redis, keys: Keys, days: Sequence[tuple[str, InstanceDay]]) -> None:
    """Fold each closed day's shards into its merged copy (and into the `InstanceDay` given, which
    holds the merged copy as read): seal and read the shards, add their sums to the merged copy
    once, then empty the shards down to their seals."""
    sealing: list[Call] = [
        (SEAL_DAY, list(part), [day_expire_at(day)])
        for day, _ in days
        for part in _parts(keys, day, range(SHARDS))
    ]
    replies = iter(raise_first_error(run_in_pipeline(r, sealing)))
    sums = []
    for day, merged in days:
        shards = InstanceDay()
        for _ in range(SHARDS):
            flat_fields, visitors, flat_top = cast(tuple[list[str], int, list[str]], next(replies))
            fields = dict(zip(flat_fields[::2], flat_fields[1::2], strict=True))
            fields.pop(SEALED, None)
            top = [(link, float(n)) for link, n in zip(flat_top[::2], flat_top[1::2], strict=True)]
            shards.add(fields, int(visitors), top)
        merged.fields.update(shards.fields)
        merged.visitors += shards.visitors
        merged.top_links.update(shards.top_links)
        sums.append((day, shards))
    calls: list[Call] = []
    for day, shards in sums:
        counts = [item for name, n in shards.fields.items() if n for item in (name, n)]
        tops = [item for link_id, n in shards.top_links.items() if n for item in (link_id, n)]
        day_keys = [keys.global_day(day), keys.global_top_links(day)]
        args: list[object] = [day_expire_at(day), shards.visitors, len(counts) // 2, *counts, *tops]
        calls.append((COMPACT_DAY, day_keys, args))
    raise_first_error(
        run_in_pipeline(r, calls)
    )  # on failure the shards stay: the next read compacts
    emptying: list[Call] = [
        (EMPTY_SEALED_DAY, list(part), [day_expire_at(day)])
        for day, _ in sums
        for part in _parts(keys, day, range(SHARDS))
    ]
    raise_first_error(run_in_pipeline(r, emptying))
