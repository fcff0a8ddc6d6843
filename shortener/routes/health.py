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
    """200 when Redis answers, 503 otherwise; with this worker's count of hits it failed to
    record."""
    ctx = lumen()
    try:
        ctx.redis.ping()
    except redis.RedisError as error:
        return {
            "status": "unavailable",
            "detail": f"Redis does not answer: {error}",
            "record_failures": ctx.record_failures,
        }, 503
    return {"status": "ok", "record_failures": ctx.record_failures}, 200
