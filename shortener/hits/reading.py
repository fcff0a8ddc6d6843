"""Raw hits: reading the capped streams, for the CSV export and a link's latest hits.

Stream ids are the hits' own times (see `shortener.store`), so a time range is an id range. The
per-link stream keeps what cannot be derived, referrer and user-agent included; the instance-wide
stream only the link and the attribution. Derivable fields (link, dark, variant, device, OS,
browser, app) are filled back in here, from the key and the user-agent (the parse is cached).
Reading goes in batches, so an export never holds a whole stream in memory.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

import redis

from shortener.analytics.user_agents import classify_user_agent
from shortener.analytics.vocabulary import Kind
from shortener.hits.recording import StoredAttribution
from shortener.store import NO_VALUE, SHARDS, Keys

BATCH = 500
# The columns of an export: the stored fields (hits.recording.LINK_STREAM_FIELDS and
# ALL_STREAM_FIELDS, the visitor hash left out) with the derived ones filled back in.
LINK_FIELDS = (
    "link",
    "kind",
    "source",
    "channel",
    "evidence",
    "dark",
    "variant",
    "device",
    "os",
    "browser",
    "app",
    "lang",
    "sender_test",
    "referrer",
    "ua",
)
COMPACT_FIELDS = ("link", "kind", "source", "channel", "evidence", "dark")


@dataclass(frozen=True, slots=True)
class RawHit:
    """One stream entry: its time and fields as stored (`-` for none)."""

    time_ms: int
    fields: dict[str, str]


def _raw_hit(entry_id: str, stored: dict[str, str], link_id: int | None) -> RawHit:
    """A stream entry with the fields the recording script leaves out derived again."""
    fields = dict(stored)
    if link_id is not None:
        fields["link"] = str(link_id)
    attribution = StoredAttribution(
        fields.get("source", NO_VALUE),
        fields.get("channel", NO_VALUE),
        fields.get("evidence", NO_VALUE),
    )
    fields["dark"] = "1" if fields.get("kind") == Kind.HUMAN and attribution.dark else "0"
    if "ua" in fields:
        fields["variant"] = attribution.channel if attribution.tagged else NO_VALUE
        client = classify_user_agent(fields["ua"])
        fields.update(
            device=client.device, os=client.os, browser=client.browser, app=client.app or NO_VALUE
        )
    return RawHit(int(entry_id.split("-")[0]), fields)


def iter_hits(
    r: redis.Redis, keys: Keys, start_ms: int, end_ms: int, link_id: int | None = None
) -> Iterator[RawHit]:
    """The hits from `start_ms` to `end_ms` inclusive, oldest first: a link's, or the instance's
    (its shards' streams and the stream of hits recorded late, merged by time)."""
    if link_id is not None:
        for entry_id, fields in stream_entries(r, keys.link_hits(link_id), start_ms, end_ms):
            yield _raw_hit(entry_id, fields, link_id)
        return
    streams = [keys.all_hits(shard) for shard in (*range(SHARDS), None)]
    merged = heapq.merge(
        *(stream_entries(r, stream, start_ms, end_ms) for stream in streams), key=entry_order
    )
    for entry_id, fields in merged:
        yield _raw_hit(entry_id, fields, None)


def entry_order(entry: tuple[str, dict[str, str]]) -> tuple[int, int]:
    """A stream entry's id as numbers, to order entries of several streams by time."""
    ms, _, sequence = entry[0].partition("-")
    return int(ms), int(sequence)


def stream_entries(
    r: redis.Redis, stream: str, start_ms: int, end_ms: int
) -> Iterator[tuple[str, dict[str, str]]]:
    """One stream's entries from `start_ms` to `end_ms` inclusive, oldest first, in batches."""
    lower: str = str(start_ms)
    upper = f"{end_ms}-18446744073709551615"
    while True:
        entries = r.xrange(stream, lower, upper, count=BATCH)
        yield from entries
        if len(entries) < BATCH:
            return
        lower = f"({entries[-1][0]}"


def recent_hits(r: redis.Redis, keys: Keys, link_id: int, count: int = 20) -> list[RawHit]:
    """The link's latest `count` hits, newest first."""
    entries = r.xrevrange(keys.link_hits(link_id), count=count)
    return [_raw_hit(entry_id, fields, link_id) for entry_id, fields in entries]
