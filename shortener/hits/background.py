"""A writer that runs beside the requests while something waits to be written to Redis.

The `HitBuffer` (hits answered while Redis failed) and the `InstanceTally` (instance-wide counts)
both write what waits once a second, from a thread of their own — a greenlet under gevent
workers — started when the first item arrives and ended once nothing waits, so an idle worker
runs no loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class BackgroundWriter:
    """Calls a write function every `interval` seconds while `waiting()` says something waits."""

    def __init__(self, name: str, waiting: Callable[[], bool], interval: float = 1.0) -> None:
        self.name = name
        self.interval = interval
        self._waiting = waiting
        # Made here, in the worker: a lock made in gunicorn's master at import time would be a
        # real OS lock in a gevent worker, and a greenlet waiting on it blocks them all.
        self._lock = threading.Lock()
        self._running = False
        self._stopped = False

    def start(self, write: Callable[[], object]) -> None:
        """Start the loop with `write` unless it runs (or the writer was stopped)."""
        with self._lock:
            if self._running or self._stopped:
                return
            self._running = True
        threading.Thread(target=self._loop, args=(write,), name=self.name, daemon=True).start()

    def stop(self) -> None:
        """End the loop at its next turn, for good (at a process's exit, after a last write)."""
        with self._lock:
            self._stopped = True

    def _loop(self, write: Callable[[], object]) -> None:
        try:
            while True:
                time.sleep(self.interval)
                with self._lock:
                    if self._stopped:
                        self._running = False
                        return
                write()
                # Checked and cleared under the lock `start` takes: an item added after the check
                # finds no loop running and starts one.
                with self._lock:
                    if not self._waiting():
                        self._running = False
                        return
        except BaseException:
            with self._lock:
                self._running = False
            raise
