"""Liveness and readiness probes."""

from __future__ import annotations

import redis
from flask import Blueprint

from shortener.routes import lumen

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """200 while the process is up (used by Docker's HEALTHCHECK)."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    """200 when Redis answers and this worker's hit buffer has room; 503 otherwise. The body says
    which, with the worker's failures to record, hits buffered, written back and dropped."""
    ctx = lumen()
    buffer = ctx.buffer
    body: dict[str, object] = {
        "status": "ok",
        "record_failures": ctx.failures.total,
        "hits_buffered": len(buffer),
        "hits_written_back": buffer.written,
        "hits_dropped": buffer.dropped,
    }
    problems = []
    try:
        ctx.redis.ping()
    except redis.RedisError as error:
        problems.append(f"Redis does not answer: {error}")
    if buffer.full:
        problems.append("the hit buffer is full")
    if problems:
        return {**body, "status": "unavailable", "detail": "; ".join(problems)}, 503
    return body, 200
