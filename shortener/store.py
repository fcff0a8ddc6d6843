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
    lumen:{g3}:d:20261126            hash: instance-wide aggregates of one day in shard `{g3}`
                                     (one of SHARD_TAGS)
    lumen:{g3}:u:20261126            HyperLogLog: that day's visitors whose hash falls in that shard
    lumen:{g3}:top:20261126          sorted set: link id -> human clicks that day, in that shard
    lumen:{g3}:hits                  stream: every hit of that shard, compact (no UA or referrer)
    lumen:{g3}:tally:<writer>        string: the last batch of a process's instance-wide counts
                                     that shard applied (shortener.hits.tally)
    lumen:{g}:d:20261126             hash: the day's merged instance-wide aggregates: hits recorded
                                     late (after the day closed) and, once the day is compacted,
                                     the shards' sums with `uv` (their visitors) as the marker
    lumen:{g}:u:20261126             HyperLogLog: visitors of the hits recorded late that day
    lumen:{g}:top:20261126           sorted set: the merged top links of the day
    lumen:{g}:hits                   stream: every hit recorded late, compact
    lumen:events                     stream: link events (link.created/updated/deleted) for webhooks
    lumen:webhooks                   hash: webhook id -> {"id", "url", "events", "secret", ...}
    lumen:webhooks:queue             sorted set: delivery job (JSON) -> when it is due (epoch ms)
    lumen:webhook:<id>:deliveries    list: the webhook's last deliveries, newest first
    lumen:schema                     the key scheme's version (set by `python -m shortener migrate`)

Instance-wide writes are spread over the hash tags of SHARD_TAGS, so on Redis Cluster no single
slot takes every write; a hit goes to the shard of its visitor hash (`Keys.shard_of`), so a visitor
is in one shard's HyperLogLog only and a day's unique visitors are the sum of the shards'. Reads
merge the shards; a closed day is compacted once into the `{g}` copy (`shortener.figures`).

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
import time
import weakref
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import gevent
import redis
from gevent import monkey
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

NO_VALUE = "-"
# The hash tags the instance-wide day aggregates and streams are spread over. Their slots fall one
# in each eighth of the 16,384 slots, so a cluster whose masters split the slots evenly (2, 4 or 8
# of them, as `redis-cli --cluster create` does) holds as many shards on each; `g4`..`g9` would
# not (`{gk}` and `{gk+4}` hash to neighbouring slots). Changing them needs a migration.
SHARD_TAGS = ("g0", "g1", "g2", "g3", "g10", "g11", "g12", "g13")
SHARDS = len(SHARD_TAGS)
# The key scheme this code reads and writes (1: one instance-wide `lumen:hits` stream).
SCHEMA_VERSION = 2


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

    def schema(self) -> str:
        return f"{self.prefix}:schema"

    def legacy_all_hits(self) -> str:
        """Key scheme 1's single instance-wide stream (moved by `python -m shortener migrate`)."""
        return f"{self.prefix}:hits"

    def migrating_hits(self) -> str:
        """Where the migration builds the merged late-hits stream (its slot: `{g}`)."""
        return f"{self.all_hits()}:migrating"

    def cache_events(self) -> str:
        """The pub/sub channel on which instances announce edits (see shortener.cache_events)."""
        return f"{self.prefix}:cache-events"

    @staticmethod
    def shard_of(visitor: str) -> int:
        """The instance-wide shard a visitor's hits are counted in (stable, spread evenly).

        >>> Keys.shard_of("3f2a9c0b1d4e") == Keys.shard_of("3f2a9c0b1d4e") < SHARDS
        True
        """
        return zlib.crc32(visitor.encode()) % SHARDS

    def _instance(self, shard: int | None) -> str:
        return f"{self.prefix}:{{{'g' if shard is None else SHARD_TAGS[shard]}}}"

    def all_hits(self, shard: int | None = None) -> str:
        """The compact stream of every hit of one shard (None: the hits recorded late)."""
        return f"{self._instance(shard)}:hits"

    def global_day(self, day: str, shard: int | None = None) -> str:
        """Instance-wide aggregates of a day: one shard's, or (None) the merged copy."""
        return f"{self._instance(shard)}:d:{day}"

    def global_visitors(self, day: str, shard: int | None = None) -> str:
        return f"{self._instance(shard)}:u:{day}"

    def global_top_links(self, day: str, shard: int | None = None) -> str:
        return f"{self._instance(shard)}:top:{day}"

    def tally_marker(self, shard: int | None, writer: str) -> str:
        """The last batch of a process's instance-wide counts that a shard applied."""
        return f"{self._instance(shard)}:tally:{writer}"

    def link_events(self) -> str:
        return f"{self.prefix}:events"

    def webhooks(self) -> str:
        return f"{self.prefix}:webhooks"

    def webhook_queue(self) -> str:
        return f"{self.prefix}:webhooks:queue"

    def webhook_deliveries(self, webhook_id: str) -> str:
        return f"{self.prefix}:webhook:{webhook_id}:deliveries"


# Redis Cluster URL schemes (a comma-separated list of nodes) -> whether they use TLS.
CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}


@dataclass(frozen=True, slots=True)
class ClusterAddress:
    """A Redis Cluster URL taken apart: its nodes, TLS and credentials."""

    nodes: tuple[tuple[str, int], ...]
    tls: bool
    username: str | None = None
    password: str | None = None


def cluster_address(url: str) -> ClusterAddress | None:
    """The cluster a `redis+cluster://` or `rediss+cluster://` URL names; None for other URLs.

    >>> address = cluster_address("rediss+cluster://:pw@10.0.0.1:7000,[::1]:7001")
    >>> address.nodes, address.tls, address.password
    ((('10.0.0.1', 7000), ('::1', 7001)), True, 'pw')
    >>> cluster_address("redis://localhost:6379/0") is None
    True
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in CLUSTER_SCHEMES:
        return None
    netloc = rest.split("/", 1)[0].split("?", 1)[0]
    credentials, _, hosts = netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    nodes = []
    for host in hosts.split(","):
        parts = urlsplit(f"//{host.strip()}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise ValueError(
                f"REDIS_URL lists {host!r}: write each cluster node as host:port, "
                "such as redis+cluster://10.0.0.1:7000,10.0.0.2:7000"
            )
        nodes.append((parts.hostname, port))
    return ClusterAddress(
        tuple(nodes),
        CLUSTER_SCHEMES[scheme.lower()],
        unquote(username) or None,
        unquote(password) or None,
    )


def limiter_storage(
    url: str, timeout: float | None = None
) -> tuple[str, dict[str, float | str | bool]]:
    """The `limits` storage URI and options of a Redis URL (it spells unix sockets and TLS
    clusters its own way).

    >>> limiter_storage("unix:///var/lumen/redis.sock")
    ('redis+unix:///var/lumen/redis.sock', {})
    >>> limiter_storage("rediss+cluster://cache.example:7000", 1.0)[0]
    'redis+cluster://cache.example:7000'
    """
    options: dict[str, float | str | bool] = {}
    if timeout is not None:
        options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
    if url.startswith("unix://"):
        return "redis+" + url, options
    address = cluster_address(url)
    if address is not None and address.tls:
        return "redis+cluster://" + url.partition("://")[2], {**options, "ssl": True}
    return url, options


def connect(url: str, timeout: float = 0.5) -> redis.Redis:
    """A client for `url` answering str; every call gives up after `timeout` seconds.

    redis://, rediss://, unix:// give a `redis.Redis`, which connects lazily; redis+cluster:// and
    rediss+cluster:// a `RedisCluster` (it reads the slot map when made), which offers the same
    commands for the keys Lumen uses (see `is_cluster`).

    A call times out after `timeout` seconds (to connect, then to read each reply) and is not
    retried: redis-py's default retries three times with a backoff of up to 10 s, which held
    redirects for over 10 s while Redis was stalled. A failed call fails at once; the redirect
    then answers from memory and buffers its hit. A cluster client retries once, at once, so
    that a moved slot (a failover, a resharding) costs one slot-map refresh, not an error.
    """
    address = cluster_address(url)
    if address is None:
        return redis.Redis.from_url(
            url,
            decode_responses=True,
            health_check_interval=30,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
    cluster = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in address.nodes],
        decode_responses=True,
        ssl=address.tls,
        username=address.username,
        password=address.password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
    )
    return cast(redis.Redis, cluster)


def is_cluster(r: object) -> bool:
    """Whether `r` talks to a Redis Cluster (scripts must then keep to one slot each)."""
    return isinstance(r, RedisCluster)


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


# How often, at most, a process reads a cluster's slot map again after a node failed to answer.
SLOT_MAP_READ_SECONDS = 1.0


class ScriptBatcher:
    """Sends the script calls that concurrent requests make at the same moment in one pipeline
    per node, with one trip in flight per node.

    Calls are grouped by the node that owns their slot (standalone Redis is one node). The first
    caller for a node opens a batch and yields twice to the worker's other greenlets (`gather`,
    gevent's `sleep`), which run up to their own call and join it; if that node still has a trip
    in flight, it waits for it, and callers arriving meanwhile join too. Then it sends the batch
    and hands every caller its own reply or error. Each call is still one script, run whole and
    in order. Trips to different nodes go out side by side.

    Each redirect pays a share of one send, one receive and one wake-up instead of all three:
    under load a gevent worker sends 5-16 calls per trip to standalone Redis (throughput
    +15-30 %, p99 halved; docs/PERFORMANCE.md). A cluster splits the same calls over its nodes,
    so its trips are smaller and each one saved counts more: the second yield, one trip in
    flight per node and the lean send (`_send_on_connection`) each raised the cluster's
    redirects against standalone's (bench/bench_cluster.py). Without `gather` (no gevent: the
    CLI, the demo, threaded servers), each call goes out alone: an OS thread's yield costs more
    than it gathers (a lone caller measured 100-300 µs slower).
    """

    def __init__(self, gather: Callable[[], object] | None) -> None:
        self._gather = gather
        self._lock = threading.Lock()
        self._gathering: dict[str, _Batch] = {}  # per node: the batch callers join
        self._in_flight: dict[str, _Batch] = {}  # per node: the batch sent, replies awaited
        self._slot_map_read_at = -SLOT_MAP_READ_SECONDS

    def run(self, r: redis.Redis, script: LuaScript, keys: list[str], args: list[object]) -> object:
        """Run one script call, in the batch being gathered for its node or in a new one."""
        node, name = _node_of(r, keys[0])
        call = (script, keys, args)
        if self._gather is None:
            [reply] = _send(r, node, [call])
        else:
            reply = self._run_in_batch(self._gather, r, node, name, call)
        if isinstance(reply, (redis.ConnectionError, redis.TimeoutError)) and node is not r:
            self._read_slot_map(cast(RedisCluster, r), name)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _read_slot_map(self, cluster: RedisCluster, failed: str) -> None:
        """After a node failed to answer, read the cluster's slot map again (at most once every
        SLOT_MAP_READ_SECONDS): after a failover its slots have a new master, which the next calls
        reach. redis-py's cluster client does the same after each failed command."""
        now = time.monotonic()
        with self._lock:
            if now < self._slot_map_read_at + SLOT_MAP_READ_SECONDS:
                return
            self._slot_map_read_at = now
        cluster.nodes_manager.move_node_to_end_of_cached_nodes(failed)  # asked last
        try:
            cluster.nodes_manager.initialize()
        except (redis.RedisError, RedisClusterException):
            pass  # no node answers either: the call's own error is raised; the next one retries

    def _run_in_batch(
        self, gather: Callable[[], object], r: redis.Redis, node: redis.Redis, name: str, call: Call
    ) -> object:
        with self._lock:
            batch = self._gathering.get(name)
            leading = batch is None
            if batch is None:
                batch = self._gathering[name] = _Batch()
            index = len(batch.calls)
            batch.calls.append(call)
        if not leading:
            batch.sent.wait()
            return batch.replies[index]
        try:
            gather()
            gather()  # the greenlets the first yield woke join too
            while (ahead := self._in_flight.get(name)) is not None:
                ahead.sent.wait()
            with self._lock:
                del self._gathering[name]
                self._in_flight[name] = batch
            batch.replies = _send(r, node, batch.calls)
        finally:
            self._close(name, batch)
        return batch.replies[index]

    def _close(self, name: str, batch: _Batch) -> None:
        # Also reached when the sending caller is interrupted (a gevent Timeout, a worker shutting
        # down): the batch closes and its other callers get an error instead of waiting forever.
        with self._lock:
            if self._gathering.get(name) is batch:
                del self._gathering[name]
            if self._in_flight.get(name) is batch:
                del self._in_flight[name]
        if not batch.replies:
            batch.replies = [
                redis.ConnectionError("the request sending this batch was interrupted")
            ] * len(batch.calls)
        batch.sent.set()


_batchers: weakref.WeakKeyDictionary[redis.Redis, ScriptBatcher] = weakref.WeakKeyDictionary()
_batchers_lock = threading.Lock()


def _node_of(r: redis.Redis, key: str) -> tuple[redis.Redis, str]:
    """The client of the node owning `key`'s slot, and the node's name: `r` itself on standalone
    Redis. On a cluster, calls go to the node's own client, found from the cluster client's slot
    map: redis-py's cluster client costs 2-3 times the CPU of a node's own client per command
    (measured: bench/bench_cluster.py)."""
    if not is_cluster(r):
        return r, ""
    cluster = cast(RedisCluster, r)
    node = cluster.nodes_manager.get_node_from_slot(cluster.keyslot(key))
    return cluster.get_redis_connection(node), node.name


def _send(r: redis.Redis, node: redis.Redis, calls: list[Call]) -> list[object]:
    """Each call's reply, or the error it met, from one trip to `node` (`r`, or the cluster node
    owning the calls' slot). A call whose slot has moved (a failover, a resharding) is sent again
    through the cluster client, which refreshes its slot map."""
    replies = _send_to_node(node, calls)
    if node is not r:
        for index, reply in enumerate(replies):
            if isinstance(reply, redis.exceptions.AskError):  # MOVED or ASK
                replies[index] = _reply_or_error(r, calls[index])
    return replies


def _send_to_node(node: redis.Redis, calls: list[Call]) -> list[object]:
    try:
        return _pipeline(node, calls)
    except (redis.ConnectionError, redis.TimeoutError) as error:
        # One error object per caller: a shared one would collect every caller's traceback.
        return [type(error)(*error.args) for _ in calls]
    except (redis.DataError, ValueError):
        # An argument Redis cannot take (a lone surrogate, a None): send each call alone, so that
        # only its own caller fails.
        return [_reply_or_error(node, call) for call in calls]


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


def run_in_pipeline(r: redis.Redis, calls: list[Call]) -> list[object]:
    """Run script calls in one pipeline; each call's reply, or the error it met."""
    return _pipeline(r, calls)


def raise_first_error(replies: list[object]) -> list[object]:
    """The replies of `run_in_pipeline`, or the first error among them raised."""
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


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
    if is_cluster(r):
        return _execute_in_cluster_pipeline(cast(RedisCluster, r), calls)
    return _send_on_connection(r, calls)


def _send_on_connection(r: redis.Redis, calls: list[Call]) -> list[object]:
    """The calls' replies (an error reply in its place) from one write and one read on one of
    `r`'s connections. redis-py's pipeline does the same with a retry wrapper, a command stack and
    metrics around it: 30-40 µs of CPU more per trip on this machine (a trip costs 150-200 µs)."""
    commands = [("EVALSHA", script.sha, len(keys), *keys, *args) for script, keys, args in calls]
    pool = r.connection_pool
    connection = pool.get_connection()
    try:
        # Packing fails (DataError, ValueError) before anything is sent; sending and reading drop
        # the connection on any error or interruption, so no reply is left on it for the next trip.
        connection.send_packed_command(connection.pack_commands(commands))
        replies: list[object] = []
        for _ in commands:
            try:
                replies.append(connection.read_response())
            except redis.ResponseError as error:
                replies.append(error)
        return replies
    finally:
        pool.release(connection)


def _execute_in_cluster_pipeline(cluster: RedisCluster, calls: list[Call]) -> list[object]:
    pipe = cluster.pipeline(transaction=False)
    for script, keys, args in calls:
        # execute_command: redis-py's cluster pipeline refuses its evalsha method, not the command
        # (it routes each call by its first key; every key of a Lumen script shares its slot).
        pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
    replies: list[object] = pipe.execute(raise_on_error=False)
    return replies
