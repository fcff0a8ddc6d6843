"""The two baselines Lumen's redirect is measured against, served with the same gunicorn settings.

- `bare:app` — a bare Flask app answering a fixed 302.
- `naive:app` — a bare Flask app doing one Redis GET, then one pipelined HINCRBY + XADD, then 302:
  the naive "resolve, then record" shortener. Its Redis URL comes from BENCH_REDIS_URL.
"""

from __future__ import annotations

import os
import time

import redis
from flask import Flask, redirect, request


def bare_app() -> Flask:
    """Fixed 302, no I/O."""
    app = Flask("bare")

    @app.get("/<code>")
    def follow(code: str):  # type: ignore[no-untyped-def]
        return redirect("https://example.com/landing", code=302)

    return app


def naive_app(redis_url: str) -> Flask:
    """One GET to resolve, one pipelined HINCRBY + XADD to record."""
    app = Flask("naive")
    client = redis.Redis.from_url(redis_url, decode_responses=True)

    @app.get("/<code>")
    def follow(code: str):  # type: ignore[no-untyped-def]
        target = client.get(f"naive:code:{code}")
        if target is None:
            return "not found", 404
        pipe = client.pipeline(transaction=False)
        pipe.hincrby(f"naive:clicks:{time.strftime('%Y%m%d')}", code, 1)
        pipe.xadd(
            "naive:hits",
            {
                "code": code,
                "ua": request.headers.get("User-Agent", ""),
                "referrer": request.headers.get("Referer", ""),
            },
            maxlen=100_000,
            approximate=True,
        )
        pipe.execute()
        return redirect(target, code=302)

    return app


def __getattr__(name: str) -> Flask:
    # gunicorn imports "baseline_apps:bare" / "baseline_apps:naive"; build the app only then.
    if name == "bare":
        return bare_app()
    if name == "naive":
        return naive_app(os.environ["BENCH_REDIS_URL"])
    raise AttributeError(name)
