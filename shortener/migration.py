"""Upgrading an installation's keys to the current key scheme (`python -m shortener migrate`).

Scheme 1 (Lumen before Redis Cluster support) kept one instance-wide stream, `lumen:hits`, and
unsharded instance-wide day aggregates under `{g}`. Scheme 2 spreads new writes over the shards
(`store.SHARD_TAGS`) and keeps `{g}` as each day's merged copy, so the old aggregates are already in
place: the readers merge them with the shards, and a closed day's old HyperLogLog still counts
its visitors. Only the stream moves: its entries are merged, by id, into `lumen:{g}:hits` (the
stream the readers merge with the shards'), built under a temporary key in the same slot and
renamed, so a reader never sees half of it. Safe to run again; stop the old version first.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import redis

from shortener.hits.reading import entry_order, stream_entries
from shortener.store import SCHEMA_VERSION, Keys

BATCH = 1000
END = 2**63 - 1  # the last millisecond a stream id can name


@dataclass(frozen=True, slots=True)
class Migration:
    """What a run of `migrate` did."""

    from_version: int
    to_version: int
    hits_moved: int


def migrate(r: redis.Redis, keys: Keys) -> Migration:
    """Bring the installation's keys to `SCHEMA_VERSION` (nothing to do when already there)."""
    version = int(r.get(keys.schema()) or 1)
    moved = 0
    if version < 2:
        moved = _move_stream(r, keys.legacy_all_hits(), keys.all_hits(), keys.migrating_hits())
    r.set(keys.schema(), SCHEMA_VERSION)
    return Migration(version, max(version, SCHEMA_VERSION), moved)


def _move_stream(r: redis.Redis, old: str, new: str, draft: str) -> int:
    """Merge the entries of `old` into `new` (ids kept) and delete `old`; how many moved."""
    if not r.exists(old):
        return 0
    r.delete(draft)
    moved = written = 0
    last: tuple[int, int] | None = None
    pipe = r.pipeline(transaction=False)
    merged = heapq.merge(
        ((entry, True) for entry in stream_entries(r, old, 0, END)),
        ((entry, False) for entry in stream_entries(r, new, 0, END)),
        key=lambda item: entry_order(item[0]),
    )
    for (entry_id, fields), from_old in merged:
        if last is not None and entry_order((entry_id, fields)) <= last:
            continue  # the same entry in both streams
        last = entry_order((entry_id, fields))
        pipe.xadd(draft, fields, id=entry_id)
        moved += from_old
        written += 1
        if written % BATCH == 0:
            pipe.execute()
    pipe.execute()
    if written:
        r.rename(draft, new)  # one slot: `new` and `draft` share the `{g}` hash tag
    r.delete(old)
    return moved
