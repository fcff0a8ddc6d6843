"""Recording hits: what a hit is, the recording policy, and the script that records it.

The recording script's contract lives here whole: its keys and arguments by name
(`RECORD_HIT_KEYS`, `RECORD_HIT_ARGS`, bound to `K.<name>` and `A.<name>` inside the Lua), the
policy it applies (expiry, click budgets, preview correlation, retention), and the encoding of
the fields it writes with the decoder the readers use (`decode_attribution`,
`LINK_STREAM_FIELDS`). Key names come from `shortener.store.Keys`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

import redis

from config import Settings
from shortener.analytics.attribution import Attribution
from shortener.analytics.vocabulary import DARK_SOURCES, Evidence
from shortener.store import NO_VALUE, Keys, LuaScript, run_script

if TYPE_CHECKING:
    from shortener.hits.tally import InstanceTally

V = TypeVar("V")

MAX_USER_AGENT = 512
MAX_REFERRER = 1024
MAX_LANGUAGE = 16
# Day aggregates are kept this long; raw hits are trimmed much sooner (LUMEN_HIT_RETENTION_DAYS).
AGGREGATE_DAYS = 800
# A hit recorded within this many ms of its own time is live: its stream id is the server's.
LIVE_MS = 2000
# A day is closed this long after its end: later hits of it go to its merged instance-wide copy,
# and readers may compact its shards (longer than any request can take to reach Redis).
CLOSE_GRACE_MS = 10 * 60_000


@dataclass(frozen=True, slots=True)
class Hit:
    """A request for a short code, reduced to what Lumen keeps (no IP address)."""

    time_ms: int
    domain: str
    code: str
    referrer: str
    user_agent: str
    language: str
    visitor: str
    ip_hash: str
    # A random id: a hit written again after a timeout (it may have landed) is recorded once.
    hit_id: str = ""


# The kind of an InstanceHit that counts a request for a code no link owns.
ORPHAN = "orphan"


@dataclass(frozen=True, slots=True)
class InstanceHit:
    """What the instance-wide aggregates count of a recorded hit (`shortener.hits.tally`)."""

    time_ms: int
    shard: int | None  # the instance-wide shard (None: the day's merged copy, for a late hit)
    link_id: int  # 0 for an ORPHAN
    kind: str  # a Kind, or ORPHAN
    source: str = NO_VALUE
    channel: str = NO_VALUE
    evidence: str = NO_VALUE
    device: str = NO_VALUE
    os: str = NO_VALUE
    browser: str = NO_VALUE
    lang: str = NO_VALUE
    visitor: str = NO_VALUE


@dataclass(frozen=True, slots=True)
class Outcome:
    """What recording a hit decided: where to send the visitor and how the hit was attributed."""

    status: int
    url: str
    channel: str | None = None
    evidence: str | None = None
    sender_test: bool = False
    gone_reason: str = ""
    expires_at_ms: int | None = None
    options: str = ""  # the link's LinkOptions, encoded
    locked: bool = False  # password-protected and not unlocked: a human hit was not recorded
    stored_destinations: str | None = None  # set when the caller chose from stale destinations


def day_of(time_ms: int) -> str:
    """The UTC day of an epoch-millisecond time, as YYYYMMDD."""
    return _day_name(time_ms // 86_400_000)


@functools.lru_cache(maxsize=512)
def _day_name(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86_400, tz=UTC).strftime("%Y%m%d")


@functools.lru_cache(maxsize=16)
def daily_key(secret_key: str, day: str) -> bytes:
    """The key of one UTC day's visitor hashes: it changes daily, so visitors cannot be followed."""
    return hmac.new(secret_key.encode(), f"visitor-key:{day}".encode(), hashlib.sha256).digest()


def visitor_hash(key: bytes, ip: str, user_agent: str) -> str:
    """Anonymous visitor id for one day: HMAC-SHA256 of IP and user-agent, shortened."""
    return hmac.new(key, f"{ip}\n{user_agent}".encode(), hashlib.sha256).hexdigest()[:12]


def network_hash(key: bytes, ip: str) -> str:
    """Anonymous id of the IP alone for one day to spot a sender testing their own link."""
    return hmac.new(key, f"ip\n{ip}".encode(), hashlib.sha256).hexdigest()[:12]


def primary_language(accept_language: str) -> str:
    """The first language tag of an Accept-Language header, lower-cased ('-' when none).

    >>> primary_language("fr-CH, fr;q=0.9, en;q=0.8")
    'fr-ch'
    """
    first = accept_language.split(",")[0].split(";")[0].strip().lower()
    if not first or first == "*" or not all(ch.isalnum() or ch == "-" for ch in first):
        return NO_VALUE
    return first[:MAX_LANGUAGE]


def _text(value: object) -> str:
    return NO_VALUE if value is None or value == "" else str(value)


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """How hits are kept: raw-hit retention and the preview-correlation window."""

    # Raw hits kept per link stream at most (10x that in the instance-wide stream).
    retention_count: int = 10_000
    # Raw hits older than this many days are trimmed from the streams.
    retention_days: int = 90
    # A dark click this long after a private app's link preview is credited to that app.
    preview_window_ms: int = 6 * 3_600_000

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordingPolicy:
        """The policy an instance's settings ask for."""
        return cls(
            retention_count=settings.hit_retention_count,
            retention_days=settings.hit_retention_days,
            preview_window_ms=settings.preview_window_seconds * 1000,
        )


# How many distinct values of each open-ended breakdown a day hash keeps (its own link's, or the
# instance's); past the cap a new value is counted under OTHER. Anyone can send a new
# Accept-Language tag or referrer, so without a bound a day hash (and every stats read) would grow
# with whatever visitors invent. For `a:` fields only the channel is folded: source and evidence
# (closed sets) stay exact, so the dark share stays exact.
DAY_FIELD_CAPS = {"a:": 200, "lang:": 50, "os:": 50, "br:": 50, "dev:": 20}
OTHER = "(other)"

# A human hit's source, channel and evidence are one day-hash field (one HINCRBY instead of five):
# `a:<source>|<channel>|<evidence>`, a missing value written as NO_VALUE. Written by RECORD_HIT,
# read back by `decode_attribution`.
ATTRIBUTION_PREFIX = "a:"


def encode_attribution(source: str, channel: str, evidence: str) -> str:
    """The day-hash field of one attribution (the Lua in RECORD_HIT builds the same string).

    >>> encode_attribution("messaging", "whatsapp", "in-app")
    'a:messaging|whatsapp|in-app'
    """
    return f"{ATTRIBUTION_PREFIX}{source}|{channel}|{evidence}"


@dataclass(frozen=True, slots=True)
class StoredAttribution:
    """An `a:` field read back, with what follows from it."""

    source: str
    channel: str
    evidence: str
    dark: bool = field(init=False)
    tagged: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dark", self.source in DARK_SOURCES)
        object.__setattr__(self, "tagged", self.evidence == Evidence.TAG)


@functools.lru_cache(maxsize=4096)
def decode_attribution(name: str) -> StoredAttribution | None:
    """The attribution of a day-hash field, or None when the field is not an `a:` field.

    >>> decode_attribution("a:messaging|whatsapp|in-app").dark
    True
    >>> decode_attribution("k:human") is None
    True
    """
    if not name.startswith(ATTRIBUTION_PREFIX):
        return None
    source, channel, evidence = name[len(ATTRIBUTION_PREFIX) :].split("|", 2)
    return StoredAttribution(source, channel, evidence)


# The fields of an entry of a link's raw-hit stream, as RECORD_HIT writes them (what can be
# derived — link, dark, variant, device, OS, browser, app — is left out: `hits.reading` derives it).
LINK_STREAM_FIELDS = (
    "id",
    "kind",
    "source",
    "channel",
    "evidence",
    "lang",
    "visitor",
    "sender_test",
    "referrer",
    "ua",
)
# The fields of an entry of the instance-wide stream.
ALL_STREAM_FIELDS = ("link", "kind", "source", "channel", "evidence")

# The recording script's keys: the link's own, under one hash tag (one slot on Redis Cluster).
# The hit's instance-wide part is not written here: `record_hit` hands it to the process's
# `InstanceTally` (shortener.hits.tally), which writes the instance-wide aggregates once a second.
RECORD_HIT_KEYS = (
    "link",  # hash: the link's record and running totals
    "link_hits",  # stream: the link's raw hits
    "link_day",  # hash: the link's aggregates of the hit's day
    "link_visitors",  # HyperLogLog: the link's visitors that day
    "link_previews",  # hash: app channel -> "<ms>|<ip hash>" of its latest preview
)
RECORD_HIT_ARGS = (
    "now",  # the hit's time, epoch ms
    "kind",
    "source",
    "channel",
    "evidence",
    "device",
    "os",
    "browser",
    "lang",
    "visitor",  # the visitor's daily hash
    "ip_hash",  # the network's daily hash (tells a sender testing a link after its preview)
    "referrer",
    "ua",
    "cap",  # raw hits kept per link stream
    "min_id",  # raw hits older than this (epoch ms) are trimmed
    "window",  # preview-correlation window, ms
    "ttl",  # seconds a day aggregate is kept
    "live",  # "1": recorded as it happens (the server's stream id); "0": recorded later
    "hit_id",  # the hit's random id (empty: none)
    "replay",  # "1": this hit may have been recorded already (its first write timed out)
    "dests",  # the link's destinations the caller chose from ('' for none; '*': no choice made)
    "destination",  # the chosen destination's label (human clicks count `dst:<label>`), or NO_VALUE
    "unlocked",  # "1": the visitor gave the link's password (a locked human hit is not recorded)
)


def lua_day_fields() -> str:
    """DAY_FIELD_CAPS and OTHER as Lua, so the scripts and their readers share one bound, and
    `bump`, which counts a day-hash field of a capped family within that bound (RECORD_HIT for a
    link's day, FLUSH_TALLY for the instance's)."""
    caps = ", ".join(f"['{family}']={cap}" for family, cap in DAY_FIELD_CAPS.items())
    return f"local CAPS = {{{caps}}}\nlocal OTHER = '{OTHER}'\n" + _LUA_BUMP


# Adds n to `field` of a day hash, a value of the capped `family`: an open-ended family keeps at
# most CAPS[family] values a day (`n:<family>` counts them); a value new past the cap is counted
# under `other` (the family's OTHER field) instead.
_LUA_BUMP = """
local function bump(key, family, field, other, n)
  if redis.call('HINCRBY', key, field, n) == n then
    if redis.call('HINCRBY', key, 'n:' .. family, 1) > CAPS[family] then
      redis.call('HDEL', key, field)
      redis.call('HINCRBY', key, 'n:' .. family, -1)
      redis.call('HINCRBY', key, other, n)
    end
  end
end
"""


def _named(names: tuple[str, ...], table: str, source: str) -> str:
    """Lua that binds KEYS or ARGV to a table by name, so the script reads `A.kind`, not ARGV[3]."""
    listed = ", ".join(f"{name}={table}[{i}]" for i, name in enumerate(names, 1))
    return f"local {table[0]} = {{{listed}}}\n{source}"


def _lua_stream_fields() -> str:
    """The position of each LINK_STREAM_FIELDS value in a stream entry's flat field list, as the
    Lua table F (a replay reads its first write's attribution back by name)."""
    listed = ", ".join(f"{name}={2 * i + 2}" for i, name in enumerate(LINK_STREAM_FIELDS))
    return f"  local F = {{{listed}}}"


def named_script(
    name: str, key_names: tuple[str, ...], arg_names: tuple[str, ...], body: str
) -> LuaScript:
    """A script whose body reads its keys as `K.<name>` and its arguments as `A.<name>`."""
    return LuaScript(name, _named(key_names, "KEYS", _named(arg_names, "ARGV", body)))


def _in_order(names: tuple[str, ...], values: Mapping[str, V]) -> list[V]:
    """The values of `names`, in order; a name missing or unknown is a programming error.

    (Checked by count and lookup, not by comparing sets: this runs twice per redirect.)

    >>> _in_order(("a", "b"), {"b": 2, "a": 1})
    [1, 2]
    >>> _in_order(("a", "b"), {"a": 1, "c": 3})
    Traceback (most recent call last):
    ValueError: script arguments differ from the contract: ['b', 'c']
    >>> _in_order(("a",), {"a": 1, "c": 3})
    Traceback (most recent call last):
    ValueError: script arguments differ from the contract: ['c']
    """
    ordered = [values[name] for name in names if name in values]
    if len(ordered) != len(names) or len(values) != len(names):
        differing = sorted(set(names) ^ values.keys())
        raise ValueError(f"script arguments differ from the contract: {differing}")
    return ordered


# RECORD_HIT's first part: checks that the link exists and can still be followed and credits a
# dark click to a recent preview. Returns early {status, url, ...} for no link (status 0), a gone
# link (410: url, reason), a replay already recorded (found by its hit id), and a locked click.
_LINK_PART = (
    """
local link = redis.call('HMGET', K.link,
  'url', 'redirect_status', 'expires_at', 'max_clicks', 'human', 'dests', 'options', 'password')
if not link[1] then return {0} end
local now = tonumber(A.now)
if link[3] and link[3] ~= '' and tonumber(link[3]) <= now then return {410, link[1], 'expired'} end
local max_clicks = tonumber(link[4] or '0') or 0
if max_clicks > 0 and (tonumber(link[5] or '0') or 0) >= max_clicks then
  return {410, link[1], 'max_clicks'}
end
if A.dests ~= '*' and (link[6] or '') ~= A.dests then return {-1, link[6] or ''} end
local kind, source, channel, evidence = A.kind, A.source, A.channel, A.evidence
local sender_test = '0'
local status = tonumber(link[2]) or 302
local locked = (link[8] or '') ~= '' and A.unlocked ~= '1'
local options, locked_flag = link[7] or '', locked and '1' or '0'
local answer = {status, link[1], channel, evidence, source, sender_test, link[3] or '',
  options, locked_flag}
-- A hit written again after a timeout is recorded once: its first write, if it landed, is in the
-- link's stream within a minute or so of the hit's own time. It is answered as recorded then
-- (attribution and total), so that the caller counts it instance-wide, which it could not do
-- for the write that timed out.
if A.replay == '1' and A.hit_id ~= '' then
"""
    + _lua_stream_fields()
    + """
  local nearby = redis.call('XRANGE', K.link_hits, tonumber(A.now) - 5000, tonumber(A.now) + 300000,
    'COUNT', 5000)
  for _, entry in ipairs(nearby) do
    local fields = entry[2]
    if fields[F.id] == A.hit_id then
      return {status, link[1], fields[F.channel], fields[F.evidence], fields[F.source],
        fields[F.sender_test], link[3] or '', options, locked_flag,
        redis.call('HGET', K.link, 'hits')}
    end
  end
end
if locked and kind == 'human' then return answer end

local window = tonumber(A.window)
-- Only private apps' previews are remembered for correlation (docs/ATTRIBUTION.md).
if kind == 'preview' and channel ~= '-' and (source == 'messaging' or source == 'email') then
  redis.call('HSET', K.link_previews, channel, A.now .. '|' .. A.ip_hash)
  redis.call('PEXPIRE', K.link_previews, window)
elseif kind == 'human' and evidence == 'none' then
  local seen = redis.call('HGETALL', K.link_previews)
  local best_ms, best_channel, best_ip = -1, nil, nil
  for i = 1, #seen, 2 do
    local sep = string.find(seen[i + 1], '|', 1, true)
    local ms = tonumber(string.sub(seen[i + 1], 1, sep - 1))
    if ms and now - ms <= window and ms > best_ms then
      best_ms, best_channel, best_ip = ms, seen[i], string.sub(seen[i + 1], sep + 1)
    end
  end
  if best_channel then
    if best_ip == A.ip_hash then
      sender_test = '1'
    else
      channel, evidence = best_channel, 'preview'
    end
  end
end
"""
)
# Then, the hit's attribution settled: `count` bumps the day hash, `stream_id` gives the raw hit
# its stream id.
_WRITERS = (
    lua_day_fields()
    + """
local ttl = tonumber(A.ttl)
local live = A.live == '1'
-- Each day key gets its time-to-live when the day's first hit of a kind creates it. A human hit's
-- attribution is one field (encode_attribution in Python; decode_attribution reads it back).
local attribution = source .. '|' .. channel .. '|' .. evidence
local other_attribution = source .. '|' .. OTHER .. '|' .. evidence
-- The instance-wide day hashes get the same fields from `shortener.hits.tally.day_fields`.
local function count(key, ttl)
  local first = redis.call('HINCRBY', key, 'k:' .. kind, 1) == 1
  local first_human = first and kind == 'human'
  if kind == 'human' then
    bump(key, 'a:', 'a:' .. attribution, 'a:' .. other_attribution, 1)
    bump(key, 'dev:', 'dev:' .. A.device, 'dev:' .. OTHER, 1)
    bump(key, 'os:', 'os:' .. A.os, 'os:' .. OTHER, 1)
    bump(key, 'br:', 'br:' .. A.browser, 'br:' .. OTHER, 1)
    bump(key, 'lang:', 'lang:' .. A.lang, 'lang:' .. OTHER, 1)
  elseif kind == 'preview' then
    redis.call('HINCRBY', key, 'p:' .. channel, 1)
  end
  if first and ttl > 0 then redis.call('EXPIRE', key, ttl) end
  return first_human
end

-- A stream id carries the hit's own time. A live hit takes the server's id ('*'); a hit recorded
-- later (the demo's history) gets its own time, or the next sequence after the newest entry.
local function stream_id(key)
  if live then return '*' end
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if top then
    local ms, seq = string.match(top[1], '^(%d+)-(%d+)$')
    if tonumber(ms) >= now then return ms .. '-' .. (tonumber(seq) + 1) end
  end
  return A.now .. '-0'
end
"""
)

_LINK_WRITES = """
local link_first_human = count(K.link_day, ttl)
if kind == 'human' and A.destination ~= '-' then
  redis.call('HINCRBY', K.link_day, 'dst:' .. A.destination, 1)
end
local total = redis.call('HINCRBY', K.link, 'hits', 1)
if kind == 'human' then
  redis.call('HINCRBY', K.link, 'human', 1)
  redis.call('PFADD', K.link_visitors, A.visitor)
  if ttl > 0 and link_first_human then redis.call('EXPIRE', K.link_visitors, ttl) end
end
-- The fields of LINK_STREAM_FIELDS, in that order.
redis.call('XADD', K.link_hits, 'MAXLEN', '~', tonumber(A.cap), stream_id(K.link_hits),
  'id', A.hit_id,
  'kind', kind, 'source', source, 'channel', channel, 'evidence', evidence, 'lang', A.lang,
  'visitor', A.visitor, 'sender_test', sender_test, 'referrer', A.referrer, 'ua', A.ua)
-- Trimming by age walks the stream head; once every 64 hits is enough (MINID ~ is approximate).
if total % 64 == 1 then redis.call('XTRIM', K.link_hits, 'MINID', '~', A.min_id) end
"""

_LINK_REPLY = """
return {status, link[1], channel, evidence, source, sender_test, link[3] or '', options,
  locked_flag, total}
"""

# Records one hit of a link: checks that the link exists and can still be followed, attributes a
# dark click to a recent preview, and writes the link's keys (one slot).
# Returns {status, url, channel, evidence, source, sender_test, expires_at, options, locked,
# total} (total only for a hit recorded, now or by the write a replay repeats); status 0 = no such
# link, -1 = the link's destinations are not the caller's ({-1, the stored ones}: choose again),
# 410 = expired or out of clicks (url, reason), else the redirect status.
RECORD_HIT = named_script(
    "record_hit",
    RECORD_HIT_KEYS,
    RECORD_HIT_ARGS,
    _LINK_PART + _WRITERS + _LINK_WRITES + _LINK_REPLY,
)


def instance_shard(keys: Keys, hit: Hit, now_ms: int) -> int | None:
    """The instance-wide shard a hit is counted in: its visitor's, or None (the day's merged copy)
    for a hit recorded after its day closed (`CLOSE_GRACE_MS`), as its shards may be compacted."""
    if now_ms >= day_end_ms(hit.time_ms) + CLOSE_GRACE_MS:
        return None
    return keys.shard_of(hit.visitor)


def day_end_ms(time_ms: int) -> int:
    """The first millisecond after the UTC day of `time_ms`."""
    return (time_ms // 86_400_000 + 1) * 86_400_000


def record_hit(
    r: redis.Redis,
    keys: Keys,
    link_id: int,
    hit: Hit,
    attribution: Attribution,
    *,
    tally: InstanceTally,
    policy: RecordingPolicy,
    replay: bool = False,
    destinations: str | None = None,
    destination: str = NO_VALUE,
    unlocked: bool = False,
) -> Outcome | None:
    """Resolve and record a hit of one link; None if the link is gone.

    One script call on the link's slot writes the link's keys; a hit it recorded is then counted
    instance-wide by `tally`, which writes the instance's day aggregates once a second.

    `destinations` are the link's as the caller knows them (None: the caller chooses none) and
    `destination` the label it chose; when the stored destinations differ nothing is recorded
    and the Outcome carries them (`stored_destinations`) to choose again. A human hit of a
    password-protected link is recorded only when `unlocked`.
    """
    day = day_of(hit.time_ms)
    now = time.time_ns() // 1_000_000
    link_keys = {
        "link": keys.link(link_id),
        "link_hits": keys.link_hits(link_id),
        "link_day": keys.link_day(link_id, day),
        "link_visitors": keys.link_visitors(link_id, day),
        "link_previews": keys.link_previews(link_id),
    }
    args: dict[str, object] = {
        "now": hit.time_ms,
        "kind": attribution.kind,
        "source": _text(attribution.source),
        "channel": _text(attribution.channel),
        "evidence": attribution.evidence,
        "device": attribution.device,
        "os": attribution.os,
        "browser": attribution.browser,
        "lang": hit.language,
        "visitor": hit.visitor,
        "ip_hash": hit.ip_hash,
        "referrer": hit.referrer,
        "ua": hit.user_agent,
        "cap": policy.retention_count,
        "min_id": max(0, hit.time_ms - policy.retention_days * 86_400_000),
        "window": policy.preview_window_ms,
        "ttl": AGGREGATE_DAYS * 86_400,
        "live": 1 if abs(now - hit.time_ms) < LIVE_MS else 0,
        "hit_id": hit.hit_id,
        "replay": 1 if replay else 0,
        "dests": "*" if destinations is None else destinations,
        "destination": destination,
        "unlocked": 1 if unlocked else 0,
    }
    reply = run_script(
        r, RECORD_HIT, _in_order(RECORD_HIT_KEYS, link_keys), _in_order(RECORD_HIT_ARGS, args)
    )
    status = int(reply[0])
    if status == 0:
        return None
    if status == 410:
        return Outcome(status=410, url=reply[1], gone_reason=reply[2])
    if status == -1:
        return Outcome(status=-1, url="", stored_destinations=reply[1])
    if len(reply) > 9:  # recorded, now or before (a locked click has no total)
        tally.add(
            InstanceHit(
                time_ms=hit.time_ms,
                shard=instance_shard(keys, hit, now),
                link_id=link_id,
                kind=str(attribution.kind),
                source=reply[4],
                channel=reply[2],
                evidence=reply[3],
                device=str(attribution.device),
                os=attribution.os,
                browser=attribution.browser,
                lang=hit.language,
                visitor=hit.visitor,
            )
        )
    channel = None if reply[2] == NO_VALUE else reply[2]
    return Outcome(
        status=status,
        url=reply[1],
        channel=channel,
        evidence=reply[3],
        sender_test=reply[5] == "1",
        expires_at_ms=int(reply[6]) if reply[6] else None,
        options=reply[7],
        locked=reply[8] == "1",
    )


def record_orphan(tally: InstanceTally, keys: Keys, hit: Hit) -> None:
    """Count a hit on an unknown code in the instance's day aggregates (the visitor's shard)."""
    shard = instance_shard(keys, hit, time.time_ns() // 1_000_000)
    tally.add(InstanceHit(hit.time_ms, shard, 0, ORPHAN, visitor=hit.visitor))
