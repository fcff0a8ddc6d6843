"""The background writer: it writes while something waits, ends when nothing does, and stays
ended once stopped."""

from __future__ import annotations

import threading
import time

from shortener.hits.background import BackgroundWriter


def wait_until(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """Whether `condition()` holds within `seconds` (a bound on waiting, not a speed target)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def loops_named(name: str) -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == name)


def test_it_writes_while_items_wait_and_ends_when_none_do() -> None:
    waiting = [3]
    writer = BackgroundWriter("test-writer-a", lambda: waiting[0] > 0, interval=0.01)

    def write() -> None:
        waiting[0] -= 1

    writer.start(write)
    writer.start(write)  # one loop, however often it is started
    assert loops_named("test-writer-a") == 1
    assert wait_until(lambda: waiting[0] == 0 and loops_named("test-writer-a") == 0)
    waiting[0] = 2  # new items start a new loop
    writer.start(write)
    assert wait_until(lambda: waiting[0] == 0 and loops_named("test-writer-a") == 0)


def test_a_stopped_writer_writes_no_more_and_starts_no_loop() -> None:
    writes: list[int] = []
    writer = BackgroundWriter("test-writer-b", lambda: True, interval=0.01)
    writer.start(lambda: writes.append(1))
    assert wait_until(lambda: len(writes) >= 1)
    writer.stop()
    assert wait_until(lambda: loops_named("test-writer-b") == 0)
    after_stop = len(writes)
    writer.start(lambda: writes.append(1))
    assert loops_named("test-writer-b") == 0
    time.sleep(0.05)  # several intervals: a loop left running would have written again
    assert len(writes) == after_stop
