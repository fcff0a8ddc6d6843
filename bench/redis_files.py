"""Redis's files between benchmark rounds: what every bench that times Redis work needs."""

from __future__ import annotations

import time

import redis


def compact_append_only_file(client: redis.Redis) -> None:
    """Rewrite Redis's append-only file now and wait for it, after any rewrite already running.

    Redis rewrites the file on its own each time it doubles past 64 MB; such a rewrite (a fork
    writing the whole dataset) landing, by chance, in one round would be timed with that round."""
    while client.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.2)
    client.bgrewriteaof()
    time.sleep(0.1)
    while client.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.2)
