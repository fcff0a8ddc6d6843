"""Lumen's Prometheus metrics: every name defined once, here (no Flask, no I/O at import).

Under gunicorn each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR (set up by
gunicorn.conf.py under the data dir, emptied at start; a dead worker's live gauges are dropped by
the `child_exit` hook) and `/metrics` merges them; elsewhere (tests, the CLI) values live in the
process. Who increments what:

- `REDIRECTS`, `REQUEST_SECONDS`, `REQUESTS_REFUSED`: the WSGI layers (routes/request_metrics.py,
  routes/request_limits.py), so every answer is counted, the redirect fast path's included.
- `REDIS_ERRORS`: the 503 handler (routes/problems.py) and whoever catches a Redis error.
- `HITS_RECORDED`, `HITS_BUFFERED`, `HITS_DROPPED`, `HITS_WAITING`, `REDIS_SECONDS` (the
  recording script's round trip): the redirect (shortener/redirect.py), where those events happen.
"""

from __future__ import annotations

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Request durations: a cached redirect takes well under a millisecond, a 90-day dashboard ~0.1 s.
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1)

REDIRECTS = Counter(
    "lumen_redirects_total",
    "Answers to short-link requests (GET/HEAD /<code>), by HTTP status",
    ["status"],
)
REQUEST_SECONDS = Histogram(
    "lumen_request_duration_seconds",
    "Time to answer a request, by route group (redirect, api, dashboard, embed, health...)",
    ["route"],
    buckets=REQUEST_BUCKETS,
)
REQUESTS_REFUSED = Counter(
    "lumen_requests_refused_total",
    "Requests refused before any view: body too large (413), too slow (408), URI too long (414)",
    ["status"],
)
REDIS_ERRORS = Counter(
    "lumen_redis_errors_total", "Redis calls that failed, by exception class", ["error"]
)
REDIS_SECONDS = Histogram(
    "lumen_redis_duration_seconds", "Time of one Redis round trip", buckets=REDIS_BUCKETS
)
HITS_RECORDED = Counter("lumen_hits_recorded_total", "Hits written to Redis")
HITS_BUFFERED = Counter(
    "lumen_hits_buffered_total", "Hits kept in the worker's buffer while Redis did not answer"
)
HITS_DROPPED = Counter(
    "lumen_hits_dropped_total", "Hits that overflowed the buffer and were not recorded"
)
HITS_WAITING = Gauge(
    "lumen_hits_waiting", "Hits in the buffers now, waiting for Redis", multiprocess_mode="livesum"
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def exposition(multiprocess_dir: str) -> bytes:
    """Every metric in Prometheus' text format: merged from the workers' files under gunicorn."""
    if not multiprocess_dir:
        return bytes(generate_latest(REGISTRY))
    registry = CollectorRegistry()
    collector = _multiprocess.MultiProcessCollector
    collector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    return bytes(generate_latest(registry))


def mark_worker_dead(multiprocess_dir: str, pid: int) -> None:
    """Drop a dead worker's live gauges (gunicorn's `child_exit` hook)."""
    _multiprocess.mark_process_dead(pid, multiprocess_dir)  # type: ignore[no-untyped-call]
