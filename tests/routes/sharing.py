"""Helpers for the share-button endpoint tests: requests as share.js sends them, Redis snapshots."""

from __future__ import annotations

import json

from tests.agents import CHROME
from tests.conftest import DOMAINS, TEST_KEYS

ORIGIN = "https://news.example"
PAGE = "https://news.example/2026/11/story"


def send(
    client,
    path: str,
    payload: object,
    *,
    origin: str | None = ORIGIN,
    ip: str = "203.0.113.9",
    raw: str | bytes | None = None,
    **headers: str,
):
    """POST a body the way share.js does (text/plain JSON, with the page's Origin)."""
    all_headers = {"Host": DOMAINS[0], "User-Agent": CHROME, "Referer": PAGE, **headers}
    if origin is not None:
        all_headers["Origin"] = origin
    body = raw if raw is not None else json.dumps(payload)
    return client.post(
        path,
        data=body,
        headers=all_headers,
        content_type="text/plain;charset=UTF-8",
        environ_base={"REMOTE_ADDR": ip},
    )


def snapshot(redis_client) -> dict[str, bytes]:
    """Every key's serialised value (on every master of a cluster), except the rate limiter's."""
    return {
        key: redis_client.dump(key)
        for key in redis_client.keys("*")
        if not key.startswith(TEST_KEYS.rate_limits())
    }
