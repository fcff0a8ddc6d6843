"""Hits answered while Redis failed, kept in order and written back once it answers again.

When the recording script fails, a link the worker has in memory still redirects
(`shortener.redirect`), and its hit comes here instead of being lost. The buffer is bounded
(`capacity`): what does not fit is counted in `dropped`, never dropped silently. Each pending hit
is also appended to a spool file of the worker's own (`<spool dir>/<pid>.jsonl`), so a worker that
dies or is restarted loses none: a new worker adopts the spool files of workers that are gone.
`flush` writes the pending hits oldest first and stops at the first failure; a hit whose write
timed out may have landed, so it is written again as a replay, which the script records once.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import redis

from shortener.hits.background import BackgroundWriter
from shortener.hits.recording import Hit
from shortener.links import LinkRef

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PendingHit:
    """A hit to write back: the link its code named, the hit, and whether it may have landed."""

    ref: LinkRef
    hit: Hit
    replay: bool
    probe: bool = False  # a HEAD request: recorded as a non-human probe, never as a click

    def to_json(self) -> str:
        """One spool line."""
        return json.dumps(
            {
                "ref": self.ref.encode(),
                "hit": asdict(self.hit),
                "replay": self.replay,
                "probe": self.probe,
            }
        )

    @classmethod
    def from_json(cls, line: str) -> PendingHit:
        """The pending hit of one spool line."""
        data = json.loads(line)
        return cls(
            LinkRef.decode(data["ref"]),
            Hit(**data["hit"]),
            bool(data["replay"]),
            bool(data.get("probe", False)),
        )


# Writes one pending hit; raises redis.RedisError when Redis fails.
Writer = Callable[[PendingHit], object]


class HitBuffer:
    """A bounded, spooled, ordered queue of hits waiting for Redis."""

    def __init__(self, spool_dir: Path, capacity: int) -> None:
        self.spool_dir = spool_dir
        self.capacity = capacity
        self.dropped = 0
        self.written = 0
        self._pending: deque[PendingHit] = deque()
        self._lock = threading.Lock()
        self._spool: Path | None = None
        # Locks are made here, in the worker: one made at import time in gunicorn's master would
        # be a real OS lock in a gevent worker, and a greenlet waiting on it blocks them all.
        self._flushing = threading.Lock()
        self._writer = BackgroundWriter("hit-write-back", lambda: bool(self._pending))

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def full(self) -> bool:
        """True when a new hit would be dropped."""
        return len(self._pending) >= self.capacity

    def add(self, pending: PendingHit) -> bool:
        """Keep a hit for later (in memory and in the spool); False when the buffer is full."""
        with self._lock:
            if len(self._pending) >= self.capacity:
                self.dropped += 1
                return False
            self._pending.append(pending)
            with self._spool_path().open("a", encoding="utf-8") as spool:
                spool.write(pending.to_json() + "\n")
        return True

    def adopt_orphaned_spools(self) -> int:
        """Take over the spool files of workers that are gone; the number of hits taken."""
        if not self.spool_dir.is_dir():
            return 0
        taken = 0
        for path in sorted(self.spool_dir.glob("*.jsonl")):
            if path == self._spool or process_alive(path.stem):
                continue
            claimed = path.with_name(f"adopted-{os.getpid()}-{path.name}.part")
            try:
                path.rename(claimed)  # atomic: of two workers adopting it, one wins
            except FileNotFoundError:
                continue
            lines = claimed.read_text(encoding="utf-8").splitlines()
            for line in lines:
                if line.strip() and self.add(PendingHit.from_json(line)):
                    taken += 1
            claimed.unlink()
        return taken

    def flush(self, write: Writer) -> int:
        """Write pending hits oldest first until one fails; the number written."""
        if not self._flushing.acquire(blocking=False):
            return 0  # another greenlet is flushing
        written = 0
        try:
            while self._pending:
                pending = self._pending[0]
                try:
                    write(pending)
                except redis.TimeoutError:
                    self._pending[0] = replace(pending, replay=True)
                    break
                except redis.RedisError:
                    break
                with self._lock:
                    self._pending.popleft()
                written += 1
        finally:
            self.written += written
            if written:
                self._rewrite_spool()
            self._flushing.release()
        return written

    def write_back_in_background(self, write: Writer) -> None:
        """Flush once a second from a thread of its own (a greenlet under gevent) until the buffer
        is empty; does nothing while such a thread runs."""
        self._writer.start(lambda: self.flush(write))

    def stop(self) -> None:
        """Stop writing back in the background (what waits stays in the spool file, for the next
        worker to adopt)."""
        self._writer.stop()

    def _spool_path(self) -> Path:
        if self._spool is None or self._spool.stem != str(os.getpid()):  # a forked worker
            self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._spool = self.spool_dir / f"{os.getpid()}.jsonl"
        return self._spool

    def _rewrite_spool(self) -> None:
        """The spool file holds exactly the hits still pending."""
        with self._lock:
            path = self._spool_path()
            draft = path.with_suffix(".tmp")
            draft.write_text("".join(p.to_json() + "\n" for p in self._pending), encoding="utf-8")
            draft.replace(path)
            if not self._pending:
                path.unlink()


def process_alive(name: str) -> bool:
    """Whether the process a spool file is named after (its pid) is still running."""
    if not name.isdigit():
        return False
    try:
        os.kill(int(name), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
