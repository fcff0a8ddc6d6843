"""Failures the visitor never sees (a hit that could not be recorded), counted and logged sparingly.

During an outage every redirect meets the same error; logging each one with its traceback once
wrote 31 MB for 443 redirects. A `FailureLog` counts every failure by kind and logs a kind at
most once per interval, with the error's message and how many were left unlogged since.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter


class FailureLog:
    """Counts failures by kind; logs each kind at most once per `interval` seconds."""

    def __init__(self, log: logging.Logger, interval: float = 10.0) -> None:
        self.log = log
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self._unlogged: Counter[str] = Counter()
        self._next_log: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, kind: str, error: BaseException) -> None:
        """Count one failure of `kind`; log it unless that kind was logged within the interval."""
        now = time.monotonic()
        with self._lock:
            self.counts[kind] += 1
            if now < self._next_log.get(kind, 0.0):
                self._unlogged[kind] += 1
                return
            unlogged = self._unlogged.pop(kind, 0)
            self._next_log[kind] = now + self.interval
        self.log.error(
            "%s failed: %s: %s (%d more since the last report; next report in %.0f s at most)",
            kind,
            type(error).__name__,
            error,
            unlogged,
            self.interval,
        )

    @property
    def total(self) -> int:
        """Failures of every kind so far."""
        return sum(self.counts.values())
