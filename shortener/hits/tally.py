"""Instance-wide counts of recorded hits, gathered by each process and written once a second.

A recorded hit counts twice: in its link's keys (the recording script, at once, in the link's
slot) and in the instance-wide aggregates of its day — totals and breakdowns, visitors, top
links — and the compact instance-wide stream that webhooks and exports read. Those live in other
slots (`store.SHARD_TAGS`), so writing them with each redirect cost a second script call on Redis
Cluster, and on any Redis the same work for every hit. Instead `record_hit` hands the hit's
instance-wide part (`InstanceHit`) to the process's `InstanceTally`, which sends, once a second,
one script call per shard for every hit since the last: field counts summed, visitors in one
PFADD, top links in one ZINCRBY each, one XADD per hit (ids carry the hit's own time).

Nothing is lost or counted twice:
- Every hit added is appended to the process's spool file before `add` returns; a flush first
  seals the file into a numbered batch, and deletes it once every shard took it. A process that
  dies (SIGKILL, OOM) leaves its files, and a new process adopts them (`adopt_orphaned_spools`).
- Each shard keeps, per writer, the number of the last batch it applied (`Keys.tally_marker`),
  set by the script that applies it: a batch sent again after a timeout, or by the process that
  adopted it, is applied once. Batches go oldest first and a flush stops at the first failure.
- A closed day's shards are sealed when a reader compacts them (`shortener.hits.instance`); a
  batch's part for a sealed day is refused by the script, and sent again to the day's merged copy.

So instance-wide figures trail the links' own by up to a second (more while Redis fails: the
batches wait, bounded by `capacity`, like `HitBuffer`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import redis

from shortener.analytics.vocabulary import Kind
from shortener.failures import FailureLog
from shortener.hits.background import BackgroundWriter
from shortener.hits.buffer import process_alive
from shortener.hits.recording import (
    AGGREGATE_DAYS,
    ORPHAN,
    OTHER,
    InstanceHit,
    RecordingPolicy,
    day_of,
    encode_attribution,
    lua_day_fields,
    named_script,
)
from shortener.store import SHARDS, Call, Keys, raise_first_error, run_in_pipeline

log = logging.getLogger(__name__)

# The field of a shard's day hash that tells it was sealed by compaction (no more writes).
SEALED = "sealed"
# How long a shard remembers a writer's last batch: longer than a batch can wait to be sent again.
MARKER_SECONDS = 7 * 86_400

# Applies one batch's part for one shard (or the merged copy): the day aggregates of each day of
# the part (keys 3.. in threes: day hash, visitors, top links) and the stream entries. Refuses the
# days whose hash is sealed (their indexes are returned after the 1); returns {0} when the writer's
# batch was applied already.
FLUSH_TALLY = named_script(
    "flush_tally",
    ("marker", "stream"),
    ("batch", "cap", "min_id", "marker_seconds", "payload"),
    lua_day_fields()
    + """
local batch = tonumber(A.batch)
if batch <= tonumber(redis.call('GET', K.marker) or '0') then return {0} end
local payload = cjson.decode(A.payload)
local refused, answer = {}, {1}
for i, day in ipairs(payload.days) do
  local day_key, visitors_key, top_key = KEYS[3 * i], KEYS[3 * i + 1], KEYS[3 * i + 2]
  if redis.call('HEXISTS', day_key, 'sealed') == 1 then
    refused[i] = true
    answer[#answer + 1] = i
  else
    for _, f in ipairs(day.fields) do
      local name, family, other, n = f[1], f[2], f[3], f[4]
      if family == '' then
        redis.call('HINCRBY', day_key, name, n)
      else
        bump(day_key, family, name, other, n)
      end
    end
    redis.call('EXPIREAT', day_key, day.expire_at)
    -- 1000 visitors per PFADD: Lua's unpack has a limit on the values it spreads.
    for j = 1, #day.visitors, 1000 do
      redis.call('PFADD', visitors_key, unpack(day.visitors, j, math.min(j + 999, #day.visitors)))
    end
    if #day.visitors > 0 then redis.call('EXPIREAT', visitors_key, day.expire_at) end
    for _, t in ipairs(day.top) do redis.call('ZINCRBY', top_key, t[2], t[1]) end
    if #day.top > 0 then redis.call('EXPIREAT', top_key, day.expire_at) end
  end
end
-- Stream ids carry each hit's own time, kept increasing: past the last id the stream gave (its
-- newest entry may have been trimmed), the next sequence.
local last_ms, last_seq = '0', -1
if redis.call('EXISTS', K.stream) == 1 then
  local info = redis.call('XINFO', 'STREAM', K.stream)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      local ms, seq = string.match(info[i + 1], '^(%d+)-(%d+)$')
      last_ms, last_seq = ms, tonumber(seq)
    end
  end
end
local added = 0
for _, e in ipairs(payload.entries) do
  if not refused[e[2]] then
    if tonumber(e[1]) <= tonumber(last_ms) then
      last_seq = last_seq + 1
    else
      last_ms, last_seq = e[1], 0
    end
    -- The fields of ALL_STREAM_FIELDS, in that order.
    redis.call('XADD', K.stream, last_ms .. '-' .. last_seq,
      'link', e[3], 'kind', e[4], 'source', e[5], 'channel', e[6], 'evidence', e[7])
    added = added + 1
  end
end
if added > 0 then
  redis.call('XTRIM', K.stream, 'MAXLEN', '~', tonumber(A.cap))
  redis.call('XTRIM', K.stream, 'MINID', '~', A.min_id)
end
redis.call('SET', K.marker, A.batch, 'EX', tonumber(A.marker_seconds))
return answer
""",
)


def day_fields(hit: InstanceHit) -> list[tuple[str, str, str]]:
    """The day-hash fields a hit counts in: (field, its capped family or '', the family's other).

    The same fields RECORD_HIT's `count` writes in a link's day hash.

    >>> day_fields(InstanceHit(0, 0, 1, "preview", channel="slack"))
    [('k:preview', '', ''), ('p:slack', '', '')]
    """
    if hit.kind == ORPHAN:
        return [(ORPHAN, "", "")]
    fields = [(f"k:{hit.kind}", "", "")]
    if hit.kind == Kind.HUMAN:
        fields.append(
            (
                encode_attribution(hit.source, hit.channel, hit.evidence),
                "a:",
                encode_attribution(hit.source, OTHER, hit.evidence),
            )
        )
        for family, value in (
            ("dev:", hit.device),
            ("os:", hit.os),
            ("br:", hit.browser),
            ("lang:", hit.lang),
        ):
            fields.append((family + value, family, family + OTHER))
    elif hit.kind == Kind.PREVIEW:
        fields.append((f"p:{hit.channel}", "", ""))
    return fields


def day_expire_at(day: str) -> int:
    """When a day's aggregates expire (epoch s): AGGREGATE_DAYS after the day ends."""
    start = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC).timestamp()
    return int(start) + 86_400 * (AGGREGATE_DAYS + 1)


def batch_calls(
    keys: Keys, policy: RecordingPolicy, writer: str, seq: int, hits: Sequence[InstanceHit]
) -> tuple[list[Call], list[list[list[InstanceHit]]]]:
    """The script calls that write a batch (one per shard it touches), and for each call the hits
    of each of its days (to re-route the days a call refuses)."""
    by_part: dict[int | None, dict[str, list[InstanceHit]]] = {}
    for hit in hits:
        by_part.setdefault(hit.shard, {}).setdefault(day_of(hit.time_ms), []).append(hit)
    calls: list[Call] = []
    day_hits: list[list[list[InstanceHit]]] = []
    cap = policy.retention_count * 10 // SHARDS
    for shard, days in by_part.items():
        call_keys = [keys.tally_marker(shard, writer), keys.all_hits(shard)]
        payload_days = []
        entries: list[tuple[int, int, int, str, str, str, str]] = []
        for index, (day, of_day) in enumerate(sorted(days.items()), 1):
            call_keys += [
                keys.global_day(day, shard),
                keys.global_visitors(day, shard),
                keys.global_top_links(day, shard),
            ]
            counts: Counter[tuple[str, str, str]] = Counter()
            top: Counter[int] = Counter()
            visitors: set[str] = set()
            for hit in of_day:
                counts.update(day_fields(hit))
                if hit.kind == Kind.HUMAN:
                    visitors.add(hit.visitor)
                    top[hit.link_id] += 1
                if hit.kind != ORPHAN:
                    entry = (hit.link_id, hit.kind, hit.source, hit.channel, hit.evidence)
                    entries.append((hit.time_ms, index, *entry))
            payload_days.append(
                {
                    "fields": [[*name, n] for name, n in counts.items()],
                    "visitors": sorted(visitors),
                    "top": [[link_id, n] for link_id, n in top.items()],
                    "expire_at": day_expire_at(day),
                }
            )
        # The time goes as a string: Lua would print a number as 1.7e+12.
        stream = [[str(ms), *rest] for ms, *rest in sorted(entries, key=lambda e: e[0])]
        min_id = max(0, int(time.time() * 1000) - policy.retention_days * 86_400_000)
        payload = json.dumps({"days": payload_days, "entries": stream}, separators=(",", ":"))
        calls.append((FLUSH_TALLY, call_keys, [seq, cap, min_id, MARKER_SECONDS, payload]))
        day_hits.append([of_day for _, of_day in sorted(days.items())])
    return calls, day_hits


@dataclass(slots=True)
class _Batch:
    """Hits sealed under one writer and number, kept in `path` until every shard took them."""

    writer: str
    seq: int
    hits: list[InstanceHit]
    path: Path


@dataclass(slots=True)
class _Process:
    """What belongs to the process that adds: a forked child starts afresh (the parent's pending
    hits are the parent's to write)."""

    pid: int = field(default_factory=os.getpid)
    writer: str = field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(4)}")
    seq: int = 0
    spool: int | None = None  # the open spool file's descriptor


class InstanceTally:
    """The instance-wide part of this process's recorded hits, written once a second."""

    # What belongs to the process that adds (`_start_process`; a forked child starts afresh).
    _process: _Process
    _open: list[InstanceHit]  # added since the last flush (the open spool file)
    _batches: deque[_Batch]  # sealed, not yet taken by every shard
    _pending: int  # hits in both
    _writer: BackgroundWriter

    def __init__(
        self,
        r: redis.Redis,
        keys: Keys,
        policy: RecordingPolicy,
        spool_dir: Path,
        capacity: int,
        failures: FailureLog,
        interval: float = 1.0,
    ) -> None:
        self.r = r
        self.keys = keys
        self.policy = policy
        self.spool_dir = spool_dir
        self.capacity = capacity
        self.failures = failures
        self.interval = interval
        self.dropped = 0
        self.written = 0
        # Made here, in the worker (see HitBuffer): one made in gunicorn's master at import time
        # would be a real OS lock in a gevent worker.
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._start_process()

    def __len__(self) -> int:
        """Hits added and not yet written."""
        return self._pending

    def add(self, hit: InstanceHit) -> bool:
        """Keep a hit's instance-wide part until the next flush (in memory and in the spool file);
        False when `capacity` hits wait already (it is dropped and counted)."""
        line = _spool_line(hit).encode()
        with self._lock:
            self._own_process()
            if self._pending >= self.capacity:
                self.dropped += 1
                return False
            os.write(self._spool_fd(), line)
            self._open.append(hit)
            self._pending += 1
        self._writer.start(self.write)
        return True

    def flush(self) -> int:
        """Write every waiting hit, oldest batch first, until one fails; the number written.

        Waits for a flush under way in another thread. Raises redis.RedisError when Redis fails
        (what was not written stays, in order, for the next flush)."""
        with self._flushing:
            self._seal()
            written = 0
            try:
                while self._batches:
                    batch = self._batches[0]
                    passed_on = self._send(batch)
                    with self._lock:
                        self._batches.popleft()
                        self._pending -= len(batch.hits)
                    batch.path.unlink(missing_ok=True)
                    written += len(batch.hits) - passed_on
            finally:
                self.written += written
            return written

    def adopt_orphaned_spools(self) -> int:
        """Take over the spool files of processes that are gone; the number of hits taken."""
        if not self.spool_dir.is_dir():
            return 0
        with self._lock:
            self._own_process()
        taken: list[_Batch] = []
        for path in sorted(self.spool_dir.iterdir()):
            holder, _, rest = path.name.partition(".")
            if holder == str(os.getpid()) or process_alive(holder) or path.suffix == ".tmp":
                continue
            writer, _, seq = rest.removesuffix(".open").removesuffix(".batch").partition(".")
            if path.suffix == ".open":  # never sent: it becomes a batch of this process
                with self._lock:
                    writer, seq = self._process.writer, str(self._next_seq())
            claimed = self.spool_dir / f"{os.getpid()}.{writer}.{seq}.batch"
            try:
                path.rename(claimed)  # atomic: of two processes adopting it, one wins
            except FileNotFoundError:
                continue
            hits = [_hit_from_line(line) for line in claimed.read_text().splitlines() if line]
            taken.append(_Batch(writer, int(seq), hits, claimed))
        with self._lock:
            for batch in sorted(taken, key=lambda b: (b.writer, b.seq)):
                self._batches.append(batch)
                self._pending += len(batch.hits)
        if taken:
            self._writer.start(self.write)
        return sum(len(batch.hits) for batch in taken)

    def stop(self) -> None:
        """Stop writing in the background (what waits stays in the spool, for the next process
        to adopt): at a process's exit, after a last `flush`."""
        self._writer.stop()
        with self._flushing:  # a flush under way ends first
            pass

    def _send(self, batch: _Batch) -> int:
        """Write one batch; the days a shard refuses (sealed) go on as a new batch to the days'
        merged copies (the number of hits passed on is returned). Raises the first error met."""
        calls, day_hits = batch_calls(self.keys, self.policy, batch.writer, batch.seq, batch.hits)
        replies = run_in_pipeline(self.r, calls)
        late: list[InstanceHit] = []
        for reply, of_days in zip(replies, day_hits, strict=True):
            if isinstance(reply, list) and reply[0] == 1:
                late += [replace(h, shard=None) for i in reply[1:] for h in of_days[int(i) - 1]]
        if late:
            with self._lock:
                self._batches.append(self._new_batch(late))
                self._pending += len(late)
        raise_first_error(replies)
        return len(late)

    def write(self) -> None:
        """A flush whose Redis failure is noted, not raised: the background writer's turn, and
        a worker's last write at its exit."""
        try:
            self.flush()
        except redis.RedisError as error:
            self.failures.note("writing instance-wide counts", error)

    def _seal(self) -> None:
        """The hits added since the last flush become the next batch (the open spool file its
        batch file)."""
        with self._lock:
            self._own_process()
            if not self._open:
                return
            hits, self._open = self._open, []
            seq = self._next_seq()
            path = self._batch_path(seq)
            if self._process.spool is not None:
                os.close(self._process.spool)
                self._process.spool = None
            self._open_path().rename(path)
            self._batches.append(_Batch(self._process.writer, seq, hits, path))

    def _new_batch(self, hits: Iterable[InstanceHit]) -> _Batch:
        """A batch of this process made of `hits`, written to its file (call under the lock)."""
        hits = list(hits)
        seq = self._next_seq()
        path = self._batch_path(seq)
        draft = path.with_suffix(".tmp")
        draft.write_text("".join(_spool_line(hit) for hit in hits))
        draft.replace(path)
        return _Batch(self._process.writer, seq, hits, path)

    def _next_seq(self) -> int:
        self._process.seq += 1
        return self._process.seq

    def _own_process(self) -> None:
        if self._process.pid != os.getpid():  # a forked child: the parent's hits are its own
            self._start_process()

    def _start_process(self) -> None:
        self._process = _Process()
        self._open = []
        self._batches = deque()
        self._pending = 0
        self._writer = BackgroundWriter("tally-writer", lambda: self._pending > 0, self.interval)

    def _open_path(self) -> Path:
        return self.spool_dir / f"{os.getpid()}.{self._process.writer}.open"

    def _batch_path(self, seq: int) -> Path:
        return self.spool_dir / f"{os.getpid()}.{self._process.writer}.{seq}.batch"

    def _spool_fd(self) -> int:
        if self._process.spool is None:
            self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._process.spool = os.open(
                self._open_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
            )
        return self._process.spool


# An InstanceHit's fields in order: a spool line is their values as a JSON list.
_HIT_FIELDS = tuple(f.name for f in fields(InstanceHit))


def _spool_line(hit: InstanceHit) -> str:
    # dataclasses.astuple deep-copies every value: 5 times slower for these flat ones.
    return json.dumps([getattr(hit, name) for name in _HIT_FIELDS], separators=(",", ":")) + "\n"


def _hit_from_line(line: str) -> InstanceHit:
    return InstanceHit(*json.loads(line))
