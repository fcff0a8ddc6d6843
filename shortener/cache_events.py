"""Telling every app instance of edits, so per-worker caches never serve a changed link for long.

Instances share nothing but Redis. When a link is edited or deleted, the instance that did it
publishes the (domain, code) pairs that changed on one pub/sub channel (`Keys.cache_events`); every
worker of every instance listens in a background thread (a greenlet under gevent) and drops those
entries from its `LinkCache` within milliseconds. Plain PUBLISH reaches every node of a Redis
Cluster (sharded pub/sub needs Redis 7), so this works the same on both backends. A listener that
loses its connection may have missed events: it drops every entry when it subscribes again, then
retries once a second.

API keys and publishers are not cached by workers (each request reads them), so links are the only
cache to keep in step.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable

import redis

from shortener.link_cache import LinkCache

log = logging.getLogger(__name__)

# Seconds a listener waits for a message before checking whether it should stop, and waits
# before subscribing again after losing its connection.
POLL_SECONDS = 1.0


class CacheEvents:
    """Publishes this instance's link edits and applies every instance's to `link_cache`."""

    def __init__(self, r: redis.Redis, channel: str, link_cache: LinkCache) -> None:
        self.r = r
        self.channel = channel
        self.link_cache = link_cache
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def announce(self, codes: Iterable[tuple[str, str]]) -> None:
        """Drop (domain, code) pairs from this worker's cache and tell every other worker."""
        pairs = list(codes)
        for domain, code in pairs:
            self.link_cache.forget(domain, code)
        if pairs:
            self.r.publish(self.channel, json.dumps(pairs))

    def apply(self, message: str) -> None:
        """Drop the pairs an announcement names (a garbled message drops everything)."""
        try:
            pairs = [(str(domain), str(code)) for domain, code in json.loads(message)]
        except (ValueError, TypeError):
            self.link_cache.clear()
            return
        for domain, code in pairs:
            self.link_cache.forget(domain, code)

    def start(self) -> None:
        """Listen in a daemon thread (one per worker; a greenlet under gevent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._listen, name="lumen-cache-events")
            self._thread.daemon = True
            self._thread.start()

    def stop(self) -> None:
        """Stop listening (within POLL_SECONDS)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=POLL_SECONDS * 3)
            self._thread = None

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = self.r.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                self.link_cache.clear()  # whatever was announced while unsubscribed is lost
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None and message.get("type") == "message":
                        self.apply(str(message["data"]))
            except (redis.RedisError, OSError) as error:
                log.warning("cache events: %s: %s; subscribing again", type(error).__name__, error)
            finally:
                pubsub.close()
            self._stop.wait(POLL_SECONDS)
