"""Everything Lumen keeps in Redis: the client, every key, and the Lua scripts.

Key scheme (prefix `lumen` by default; `{...}` is the Redis Cluster hash tag, so every key of one
link lives in one slot and per-link work never crosses slots):

    lumen:seq                        counter behind link and share-variant codes (hashids)
    lumen:codes:<domain>             hash, the code index: code -> "<link id>|<variant channel>|<target site>"
    lumen:apikeys                    hash: SHA-256 of an API key -> {"name", "created_at"}
    lumen:publishers                 hash: publisher name -> its public key (share buttons)
    lumen:pubkeys                    hash: publisher public key -> {"name", "origins", "created_at"}
    lumen:pub:<name>:pages           hash: canonical page URL -> the id of that page's link
    lumen:rl:...                     rate-limit windows of `limits` (share-links, beacons)
    lumen:{l:42}                     hash: link 42's record and its running totals
    lumen:{l:42}:variants            hash: share-variant channel -> its code
    lumen:{l:42}:hits                stream: link 42's raw hits (capped by count and age)
    lumen:{l:42}:d:20261126          hash: link 42's aggregates for one UTC day
    lumen:{l:42}:u:20261126          HyperLogLog: link 42's visitors that day
    lumen:{l:42}:pv                  hash: app channel -> "<ms>|<ip hash>" of its latest preview
    lumen:hits                       stream: every hit, compact (no UA or referrer), capped
    lumen:{g}:d:20261126             hash: instance-wide aggregates for one day
    lumen:{g}:u:20261126             HyperLogLog: instance-wide visitors that day (one key: a
                                     single-key PFCOUNT is cached by Redis, a multi-key one merges)
    lumen:{g}:top:20261126           sorted set: link id -> human clicks that day
    lumen:events                     stream: link events (link.created/updated/deleted) for webhooks
    lumen:webhooks                   hash: webhook id -> {"id", "url", "events", "secret", "created_at"}
    lumen:webhooks:queue             sorted set: delivery job (JSON) -> when it is due (epoch ms)
    lumen:webhook:<id>:deliveries    list: the webhook's last deliveries, newest first

Day aggregates store these fields: `k:<kind>`, `orphan`; for human hits
`a:<source>|<channel>|<evidence>` (shortener.figures.day_counts derives from it `s:<source>`,
`c:<channel>`, `e:<evidence>`, `de:<evidence>` for dark hits, `t:<channel>` for tagged ones, and
the sums `hits` and `dark`), `dev:`, `os:`, `br:`, `lang:`; for previews `p:<channel>`
(shares observed); for share-button clicks `sh:<channel>` (shares made; `sh:more` is the Web
Share sheet); for copy-paste arrivals, which are also human hits with evidence `copy`,
`gen:<n>` (arrivals of generation n: 1 = pasted by someone who came another way, 2 = a paste of
a pasted address, ...). A missing channel is written as `-`. Stream entry ids are the server's for live hits and the
hit's own time (kept increasing) for hits recorded later.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import gevent
import redis
from gevent import monkey

NO_VALUE = "-"


@dataclass(frozen=True, slots=True)
class Keys:
    """Builds every Redis key of one Lumen instance from its prefix."""

    prefix: str = "lumen"

    def sequence(self) -> str:
        return f"{self.prefix}:seq"

    def codes(self, domain: str) -> str:
        return f"{self.prefix}:codes:{domain}"

    def api_keys(self) -> str:
        return f"{self.prefix}:apikeys"

    def publishers(self) -> str:
        return f"{self.prefix}:publishers"

    def publisher_keys(self) -> str:
        return f"{self.prefix}:pubkeys"

    def publisher_pages(self, name: str) -> str:
        return f"{self.prefix}:pub:{name}:pages"

    def rate_limits(self) -> str:
        """The prefix under which the rate limiter keeps its windows."""
        return f"{self.prefix}:rl"

    def link(self, link_id: int) -> str:
        return f"{self.prefix}:{{l:{link_id}}}"

    def variants(self, link_id: int) -> str:
        return f"{self.link(link_id)}:variants"

    def link_hits(self, link_id: int) -> str:
        return f"{self.link(link_id)}:hits"

    def link_day(self, link_id: int, day: str) -> str:
        return f"{self.link(link_id)}:d:{day}"

    def link_visitors(self, link_id: int, day: str) -> str:
        return f"{self.link(link_id)}:u:{day}"

    def link_previews(self, link_id: int) -> str:
        return f"{self.link(link_id)}:pv"

    def all_hits(self) -> str:
        return f"{self.prefix}:hits"

    def global_day(self, day: str) -> str:
        return f"{self.prefix}:{{g}}:d:{day}"

    def global_visitors(self, day: str) -> str:
        return f"{self.prefix}:{{g}}:u:{day}"

    def global_top_links(self, day: str) -> str:
        return f"{self.prefix}:{{g}}:top:{day}"

    def link_events(self) -> str:
        return f"{self.prefix}:events"

    def webhooks(self) -> str:
        return f"{self.prefix}:webhooks"

    def webhook_queue(self) -> str:
        return f"{self.prefix}:webhooks:queue"

    def webhook_deliveries(self, webhook_id: str) -> str:
        return f"{self.prefix}:webhook:{webhook_id}:deliveries"


def limiter_storage_uri(url: str) -> str:
    """The `limits` storage URI of a Redis URL: it spells unix sockets its own way.

    >>> limiter_storage_uri("unix:///var/lumen/redis.sock")
    'redis+unix:///var/lumen/redis.sock'
    >>> limiter_storage_uri("rediss://cache.example:6380/0")
    'rediss://cache.example:6380/0'
    """
    if url.startswith("unix://"):
        return "redis+" + url
    return url


def connect(url: str) -> redis.Redis:
    """A client for `url` (redis://, rediss://, unix://) answering str; connects lazily."""
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


# Records one hit of a link: checks that the link exists and can still be followed, credits a
# dark click to a recent preview, bumps the link's and the instance's day aggregates and appends
# the raw hit to both streams, all atomically, in one round trip.
# KEYS: 1 link, 2 link hits stream, 3 link day, 4 link visitors, 5 link previews,
#       6 all-hits stream, 7 global day, 8 global visitors, 9 global top links
# ARGV: 1 now ms, 2 record (1) or only resolve (0), 3 kind, 4 source, 5 channel, 6 evidence,
#       7 dark (1/0), 8 device, 9 os, 10 browser, 11 app, 12 language, 13 visitor hash,
#       14 ip hash, 15 referrer, 16 user agent, 17 variant channel, 18 stream cap per link,
#       19 min stream id (ms) kept, 20 preview window ms, 21 link id, 22 day ttl seconds,
#       23 live (1: recorded as it happens; 0: recorded later, e.g. the demo's history)
# Returns {status, url, channel, evidence, source, dark, sender_test}; status 0 = no such link,
# 410 = expired or out of clicks, else the redirect status.
RECORD_HIT = """
local link = redis.call('HMGET', KEYS[1], 'url', 'redirect_status', 'expires_at', 'max_clicks', 'human')
if not link[1] then return {0} end
local now = tonumber(ARGV[1])
if link[3] and link[3] ~= '' and tonumber(link[3]) <= now then return {410, link[1], 'expired'} end
local max_clicks = tonumber(link[4] or '0') or 0
if max_clicks > 0 and (tonumber(link[5] or '0') or 0) >= max_clicks then
  return {410, link[1], 'max_clicks'}
end
local kind, source, channel, evidence, dark = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local sender_test = '0'
local status = tonumber(link[2]) or 302
if ARGV[2] ~= '1' then return {status, link[1], channel, evidence, source, dark, sender_test} end

local window = tonumber(ARGV[20])
-- Only private apps' previews are remembered for correlation (docs/ATTRIBUTION.md).
if kind == 'preview' and channel ~= '-' and (source == 'messaging' or source == 'email') then
  redis.call('HSET', KEYS[5], channel, ARGV[1] .. '|' .. ARGV[14])
  redis.call('PEXPIRE', KEYS[5], window)
elseif kind == 'human' and evidence == 'none' then
  local seen = redis.call('HGETALL', KEYS[5])
  local best_ms, best_channel, best_ip = -1, nil, nil
  for i = 1, #seen, 2 do
    local sep = string.find(seen[i + 1], '|', 1, true)
    local ms = tonumber(string.sub(seen[i + 1], 1, sep - 1))
    if ms and now - ms <= window and ms > best_ms then
      best_ms, best_channel, best_ip = ms, seen[i], string.sub(seen[i + 1], sep + 1)
    end
  end
  if best_channel then
    if best_ip == ARGV[14] then
      sender_test = '1'
    else
      channel, evidence = best_channel, 'preview'
    end
  end
end

-- Each day key gets its time-to-live when the day's first hit of a kind creates it. A human hit's
-- source, channel and evidence are one field, `a:<source>|<channel>|<evidence>`: one call instead
-- of five; shortener.figures.day_counts derives `s:`, `c:`, `e:`, `de:`, `t:`, `hits` and `dark`.
local attribution = 'a:' .. source .. '|' .. channel .. '|' .. evidence
local function count(key, ttl)
  local first = redis.call('HINCRBY', key, 'k:' .. kind, 1) == 1
  local first_human = first and kind == 'human'
  if kind == 'human' then
    redis.call('HINCRBY', key, attribution, 1)
    redis.call('HINCRBY', key, 'dev:' .. ARGV[8], 1)
    redis.call('HINCRBY', key, 'os:' .. ARGV[9], 1)
    redis.call('HINCRBY', key, 'br:' .. ARGV[10], 1)
    redis.call('HINCRBY', key, 'lang:' .. ARGV[12], 1)
  elseif kind == 'preview' then
    redis.call('HINCRBY', key, 'p:' .. channel, 1)
  end
  if first and ttl > 0 then redis.call('EXPIRE', key, ttl) end
  return first_human
end
local ttl = tonumber(ARGV[22])
local link_first_human = count(KEYS[3], ttl)
local global_first_human = count(KEYS[7], ttl)
local total = redis.call('HINCRBY', KEYS[1], 'hits', 1)
if kind == 'human' then
  redis.call('HINCRBY', KEYS[1], 'human', 1)
  redis.call('PFADD', KEYS[4], ARGV[13])
  redis.call('PFADD', KEYS[8], ARGV[13])
  redis.call('ZINCRBY', KEYS[9], 1, ARGV[21])
  if ttl > 0 and link_first_human then redis.call('EXPIRE', KEYS[4], ttl) end
  if ttl > 0 and global_first_human then
    redis.call('EXPIRE', KEYS[8], ttl)
    redis.call('EXPIRE', KEYS[9], ttl)
  end
end

-- A stream id carries the hit's own time. A live hit takes the server's id ('*'); a hit recorded
-- later (the demo's history) gets its own time, or the next sequence after the newest entry.
local live = ARGV[23] == '1'
local function stream_id(key)
  if live then return '*' end
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if top then
    local ms, seq = string.match(top[1], '^(%d+)-(%d+)$')
    if tonumber(ms) >= now then return ms .. '-' .. (tonumber(seq) + 1) end
  end
  return ARGV[1] .. '-0'
end
local cap = tonumber(ARGV[18])
-- Only what cannot be derived is stored: the link is in the key, `dark` follows from the source,
-- device, OS, browser and app from the user-agent (shortener.hits.reading fills them back in).
redis.call('XADD', KEYS[2], 'MAXLEN', '~', cap, stream_id(KEYS[2]),
  'kind', kind, 'source', source, 'channel', channel, 'evidence', evidence, 'lang', ARGV[12],
  'visitor', ARGV[13], 'sender_test', sender_test, 'referrer', ARGV[15], 'ua', ARGV[16])
redis.call('XADD', KEYS[6], 'MAXLEN', '~', cap * 10, stream_id(KEYS[6]),
  'link', ARGV[21], 'kind', kind, 'source', source, 'channel', channel, 'evidence', evidence)
-- Trimming by age walks the stream head; once every 64 hits is enough (MINID ~ is approximate).
if total % 64 == 1 then redis.call('XTRIM', KEYS[2], 'MINID', '~', ARGV[19]) end
if total % 64 == 2 then redis.call('XTRIM', KEYS[6], 'MINID', '~', ARGV[19]) end
return {status, link[1], channel, evidence, source, dark, sender_test}
"""

# Counts a hit on a code no link owns, in the instance's day aggregates.
# KEYS: 1 global day. ARGV: 1 day ttl seconds
RECORD_ORPHAN = """
redis.call('HINCRBY', KEYS[1], 'orphan', 1)
if tonumber(ARGV[1]) > 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return 1
"""

SCRIPTS = {"record_hit": RECORD_HIT, "record_orphan": RECORD_ORPHAN}
_SHAS = {name: hashlib.sha1(source.encode()).hexdigest() for name, source in SCRIPTS.items()}


def run_script(r: redis.Redis, name: str, keys: list[str], args: list[object]) -> object:
    """Run one of SCRIPTS on `r`; in a gevent worker, calls made at the same moment share a round trip."""
    batcher = _batchers.get(r)
    if batcher is None:
        with _batchers_lock:
            batcher = _batchers.setdefault(
                r, ScriptBatcher(gevent.sleep if monkey.is_module_patched("time") else None)
            )
    return batcher.run(r, name, keys, args)


Call = tuple[str, list[str], list[object]]


@dataclass(eq=False, slots=True)
class _Batch:
    calls: list[Call] = field(default_factory=list)
    replies: list[object] = field(default_factory=list)
    sent: threading.Event = field(default_factory=threading.Event)


class ScriptBatcher:
    """Sends the script calls that concurrent requests make at the same moment in one pipeline.

    The first caller opens a batch and yields once to the worker's other greenlets (`gather`,
    gevent's `sleep`), which run up to their own call and join it; then it sends the batch and
    hands every caller its own reply or error. Each call is still one script, run whole and in
    order. Under load a gevent worker sends 5-7 calls per trip, and each redirect pays a share of
    one send, one receive and one wake-up instead of all three: throughput +15-30 %, p99 halved
    (docs/PERFORMANCE.md). Without `gather` (no gevent: the CLI, the demo, threaded servers),
    each call goes out alone: an OS thread's yield costs more than it gathers (a lone caller
    measured 100-300 µs slower).
    """

    def __init__(self, gather: Callable[[], object] | None) -> None:
        self._gather = gather
        self._lock = threading.Lock()
        self._open: _Batch | None = None

    def run(self, r: redis.Redis, name: str, keys: list[str], args: list[object]) -> object:
        """Run one script call, in the batch being gathered or in a new one."""
        if self._gather is None:
            return _evalsha(r, (name, keys, args))
        with self._lock:
            batch = self._open
            leading = batch is None
            if batch is None:
                batch = self._open = _Batch()
            index = len(batch.calls)
            batch.calls.append((name, keys, args))
        if leading:
            try:
                self._gather()
                with self._lock:
                    self._open = None
                batch.replies = _send(r, batch.calls)
            finally:
                self._close(batch)
        else:
            batch.sent.wait()
        reply = batch.replies[index]
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _close(self, batch: _Batch) -> None:
        # Also reached when the sending caller is interrupted (a gevent Timeout, a worker shutting
        # down): the batch closes and its other callers get an error instead of waiting forever.
        with self._lock:
            if self._open is batch:
                self._open = None
        if not batch.replies:
            batch.replies = [
                redis.ConnectionError("the request sending this batch was interrupted")
            ] * len(batch.calls)
        batch.sent.set()


_batchers: weakref.WeakKeyDictionary[redis.Redis, ScriptBatcher] = weakref.WeakKeyDictionary()
_batchers_lock = threading.Lock()


def _send(r: redis.Redis, calls: list[Call]) -> list[object]:
    """Each call's reply, or the error it met, from one round trip."""
    if len(calls) == 1:
        return [_reply_or_error(r, calls[0])]
    try:
        return _pipeline(r, calls)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        return [error] * len(calls)
    except (redis.DataError, ValueError):
        # An argument Redis cannot take (a lone surrogate, a None): send each call alone, so that
        # only its own caller fails.
        return [_reply_or_error(r, call) for call in calls]


def _reply_or_error(r: redis.Redis, call: Call) -> object:
    try:
        return _evalsha(r, call)
    except (redis.RedisError, ValueError) as error:
        return error


def _evalsha(r: redis.Redis, call: Call) -> object:
    name, keys, args = call
    try:
        return r.evalsha(_SHAS[name], len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:  # the server restarted or flushed its scripts
        r.script_load(SCRIPTS[name])
        return r.evalsha(_SHAS[name], len(keys), *keys, *args)


def _pipeline(r: redis.Redis, calls: list[Call]) -> list[object]:
    replies = _execute(r, calls)
    unknown = [
        i for i, reply in enumerate(replies) if isinstance(reply, redis.exceptions.NoScriptError)
    ]
    if unknown:  # the server restarted or flushed its scripts
        for name in {calls[i][0] for i in unknown}:
            r.script_load(SCRIPTS[name])
        for i, reply in zip(unknown, _execute(r, [calls[i] for i in unknown])):
            replies[i] = reply
    return replies


def _execute(r: redis.Redis, calls: list[Call]) -> list[object]:
    pipe = r.pipeline(transaction=False)
    for name, keys, args in calls:
        pipe.evalsha(_SHAS[name], len(keys), *keys, *args)
    return pipe.execute(raise_on_error=False)
