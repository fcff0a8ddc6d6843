"""Everything Lumen keeps in Redis: the client, every key, and the Lua scripts.

Key scheme (prefix `lumen` by default; `{...}` is the Redis Cluster hash tag, so every key of one
link lives in one slot and per-link work never crosses slots):

    lumen:seq                        counter behind link and share-variant codes (hashids)
    lumen:codes:<domain>             hash, the code index:
                                     code -> "<link id>|<variant channel>|<target site>|
                                     <destinations JSON, '' for none>"
    lumen:apikeys                    hash: SHA-256 of an API key -> {"name", "created_at"}
    lumen:publishers                 hash: publisher name -> its public key (share buttons)
    lumen:pubkeys                    hash: publisher public key -> {"name", "origins", "created_at"}
    lumen:pub:<name>:pages           hash: canonical page URL -> the id of that page's link
    lumen:domain:<domain>            hash: where that domain sends people: root_url, not_found_url
    lumen:rl:...                     rate-limit windows of `limits` (share-links, beacons)
    lumen:signin:<sha256 of id>      string: a dashboard sign-in -> its key's SHA-256 (expires)
    lumen:{l:42}:bv:20261126         set: "<event>|<visitor>" of page link 42's beacons that day
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
    lumen:webhooks                   hash: webhook id -> {"id", "url", "events", "secret", ...}
    lumen:webhooks:queue             sorted set: delivery job (JSON) -> when it is due (epoch ms)
    lumen:webhook:<id>:deliveries    list: the webhook's last deliveries, newest first

Day aggregates store these fields: `k:<kind>`, `orphan`; for human hits
`a:<source>|<channel>|<evidence>` (written by the recording script and read back by
`shortener.hits.recording.decode_attribution`; the readers derive source, channel, evidence, dark
and tagged counts from it), `dev:`, `os:`, `br:`, `lang:`, and in a link's day hash `dst:<label>`
(clicks per device target or split destination); for previews `p:<channel>`
(shares observed); for share-button clicks `sh:<channel>` (shares made; `sh:more` is the Web
Share sheet); for copy-paste arrivals, which are also human hits with evidence `copy`,
`gen:<n>` (arrivals of generation n: 1 = pasted by someone who came another way, 2 = a paste of
a pasted address, ...); for the share cascade (`shortener.shares`) `cas:<parent>><button>`
(shares made by visitors who arrived by `parent`), `cac:<parent>><channel>` (the visitors those
shares brought) and `cg:<n>` (shares of generation n). A missing channel is written as `-`.
Stream entry ids are the server's for live hits and the hit's own time (kept increasing) for hits
recorded later. The recording
scripts and the policy they apply live in `shortener.hits.recording`.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gevent
import redis
from gevent import monkey
from redis.backoff import NoBackoff
from redis.retry import Retry

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

    def domain_pages(self, domain: str) -> str:
        return f"{self.prefix}:domain:{domain}"

    def rate_limits(self) -> str:
        """The prefix under which the rate limiter keeps its windows."""
        return f"{self.prefix}:rl"

    def sign_in(self, sign_in_digest: str) -> str:
        return f"{self.prefix}:signin:{sign_in_digest}"

    def link(self, link_id: int) -> str:
        return f"{self.prefix}:{{l:{link_id}}}"

    def beacon_visitors(self, link_id: int, day: str) -> str:
        return f"{self.link(link_id)}:bv:{day}"

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


def connect(url: str, timeout: float = 0.5) -> redis.Redis:
    """A client for `url` (redis://, rediss://, unix://) answering str; connects lazily.

    Every call gives up after `timeout` seconds (to connect, then to read each reply), and is not
    retried: redis-py's default retries three times with a backoff of up to 10 s, which held
    redirects for over 10 s while Redis was stalled. A failed call fails at once; the redirect
    then answers from memory and buffers its hit.
    """
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=30,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


@dataclass(frozen=True, slots=True)
class LuaScript:
    """A Lua script run by its SHA-1 (loaded again when the server has forgotten it)."""

    name: str
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


def run_script(
    r: redis.Redis, script: LuaScript, keys: Sequence[str], args: Sequence[object]
) -> Any:
    """Run `script` on `r`; in a gevent worker, calls made at the same moment share a round trip."""
    batcher = _batchers.get(r)
    if batcher is None:
        with _batchers_lock:
            batcher = _batchers.setdefault(
                r, ScriptBatcher(gevent.sleep if monkey.is_module_patched("time") else None)
            )
    return batcher.run(r, script, list(keys), list(args))


Call = tuple[LuaScript, list[str], list[object]]


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

    def run(self, r: redis.Redis, script: LuaScript, keys: list[str], args: list[object]) -> object:
        """Run one script call, in the batch being gathered or in a new one."""
        if self._gather is None:
            return _evalsha(r, (script, keys, args))
        with self._lock:
            batch = self._open
            leading = batch is None
            if batch is None:
                batch = self._open = _Batch()
            index = len(batch.calls)
            batch.calls.append((script, keys, args))
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
        # One error object per caller: a shared one would collect every caller's traceback.
        return [type(error)(*error.args) for _ in calls]
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
    script, keys, args = call
    try:
        return r.evalsha(script.sha, len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:  # the server restarted or flushed its scripts
        r.script_load(script.source)
        return r.evalsha(script.sha, len(keys), *keys, *args)


def _pipeline(r: redis.Redis, calls: list[Call]) -> list[object]:
    replies = _execute(r, calls)
    unknown = [
        i for i, reply in enumerate(replies) if isinstance(reply, redis.exceptions.NoScriptError)
    ]
    if unknown:  # the server restarted or flushed its scripts
        for script in {calls[i][0] for i in unknown}:
            r.script_load(script.source)
        for i, reply in zip(unknown, _execute(r, [calls[i] for i in unknown]), strict=True):
            replies[i] = reply
    return replies


def _execute(r: redis.Redis, calls: list[Call]) -> list[object]:
    pipe = r.pipeline(transaction=False)
    for script, keys, args in calls:
        pipe.evalsha(script.sha, len(keys), *keys, *args)
    replies: list[object] = pipe.execute(raise_on_error=False)
    return replies
