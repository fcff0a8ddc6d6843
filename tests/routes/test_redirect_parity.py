"""The WSGI fast path and the Flask view answer every redirect case alike.

Each case runs twice on its own fresh data: once through the app as served (the fast path in
front of Flask) and once through Flask's own WSGI callable alone (no fast path). Both must give
the same status, the same headers and the same recorded counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask import Flask
from werkzeug.test import Client, TestResponse

from shortener.app import create_app
from shortener.domain_pages import save_domain_pages
from shortener.embedded_redis import EmbeddedRedis
from shortener.routes.redirect import RedirectFastPath
from shortener.store import Keys
from tests.agents import CHROME, IPHONE, WHATSAPP_PREVIEW
from tests.conftest import DOMAINS, TEST_ENVIRON, instance_day_keys, tracked

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster


@dataclass(frozen=True)
class Case:
    """A request for a code, and what to do to the link before it is made."""

    name: str
    method: str = "GET"
    host: str = DOMAINS[0]
    link: dict[str, object] | None = None  # fields of the link to create; None: no link
    cache_first: bool = False  # one GET before the case, so the worker has the code in memory
    # "delete": another worker deletes the link after caching; "expire": its expiry passes
    then: str = ""
    redis_down: bool = False
    user_agent: str = CHROME
    query: str = ""  # the short link's own query string
    not_found_url: str = ""  # the domain's page for unknown codes


ROUTED = {
    "utm": {"source": "news"},
    "targets": {"ios": "https://apps.apple.com/app/id1"},
    "preview": {"title": "Card"},
}

CASES = [
    Case("get-live", link={}),
    Case("head-live", method="HEAD", link={}),
    Case("get-unknown-host", host="elsewhere.test", link={}),
    Case("head-unknown-host", method="HEAD", host="elsewhere.test", link={}),
    Case("get-expired", link={"expires_at": "2100-01-01T00:00:00Z"}, then="expire"),
    Case("get-out-of-clicks", link={"max_clicks": 1}, cache_first=True),
    Case("get-deleted-after-caching", link={}, cache_first=True, then="delete"),
    Case("get-unknown-code"),
    Case("head-unknown-code", method="HEAD"),
    Case("get-301", link={"redirect_status": 301}),
    Case("get-cached-while-redis-is-down", link={}, cache_first=True, redis_down=True),
    Case("get-uncached-while-redis-is-down", link={}, redis_down=True),
    Case("get-unknown-code-while-redis-is-down", redis_down=True),
    Case("get-utm-and-query", link=ROUTED, query="ref=1"),
    Case("get-device-target", link=ROUTED, user_agent=IPHONE),
    Case(
        "get-device-target-cached-while-redis-is-down",
        link=ROUTED,
        user_agent=IPHONE,
        cache_first=True,
        redis_down=True,
    ),
    Case("get-custom-preview", link=ROUTED, user_agent=WHATSAPP_PREVIEW),
    Case("head-custom-preview", method="HEAD", link=ROUTED, user_agent=WHATSAPP_PREVIEW),
    Case("get-password-form", link={"password": "open sesame"}),
    Case(
        "get-password-cached-while-redis-is-down",
        link={"password": "open sesame"},
        cache_first=True,
        redis_down=True,
    ),
    Case("get-unknown-code-with-a-not-found-url", not_found_url="https://brand.example/404"),
]


def flask_alone(app: Flask) -> Callable[..., object]:
    """The app's WSGI callable without the fast path in front of it (nor the layers around it,
    request limits and metrics, which answer a redirect as they answer any request)."""
    layer = app.wsgi_app
    while not isinstance(layer, RedirectFastPath):
        layer = layer.app  # type: ignore[attr-defined]
    return layer.app


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    counts: tuple[int, int, int]  # the link's hits, its human clicks, the instance's orphan hits
    body: bytes


def counts(r: redis.Redis, keys: Keys, link_id: int | None) -> tuple[int, int, int]:
    orphans = sum(int(r.hget(key, "orphan") or 0) for key in instance_day_keys(r, "*"))
    if link_id is None:
        return 0, 0, orphans
    hits, human = r.hmget(keys.link(link_id), "hits", "human")
    return int(hits or 0), int(human or 0), orphans


def run_case(case: Case, app: Flask, wsgi: Callable[..., object], server: EmbeddedRedis) -> Answer:
    """Make the case's data, send its request through `wsgi`, and read what was recorded."""
    ctx = app.extensions["lumen"]
    r, keys = ctx.redis, ctx.keys
    r.flushall()
    ctx.link_cache.clear()
    served = Client(app.wsgi_app, TestResponse)
    code, link_id = "nosuchcode", None
    if case.link is not None:
        link = ctx.links.create({"url": "https://example.com/landing", **case.link})
        code, link_id = link.code, link.id
    if case.not_found_url:
        save_domain_pages(r, keys, DOMAINS[0], {"not_found_url": case.not_found_url}, DOMAINS)
    headers = {"Host": case.host, "User-Agent": case.user_agent}
    if case.cache_first:
        served.get(f"/{code}", headers={"Host": DOMAINS[0], "User-Agent": case.user_agent})
    if case.then == "expire" and link_id is not None:
        r.hset(keys.link(link_id), "expires_at", 1)  # as if the time had come
    if case.then == "delete" and link_id is not None:
        ctx.links.delete(link_id)  # as another worker would: this worker's cache still has it
    if case.redis_down:
        server.stop()
    try:
        response = Client(wsgi, TestResponse).open(
            f"/{code}",
            query_string=case.query,
            method=case.method,
            headers=headers,
            environ_base={"REMOTE_ADDR": "1.2.3.4"},
        )
    finally:
        if case.redis_down:
            server.ensure_running()
            _wait_until_answering(r)
    recorded = counts(r, keys, link_id) if not case.redis_down else (0, 0, 0)
    return Answer(response.status_code, dict(response.headers), recorded, response.get_data())


def _wait_until_answering(r: redis.Redis) -> None:
    for _ in range(200):
        try:
            r.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.01)


@pytest.fixture
def own_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A redis-server of this test's own, which a case may stop."""
    server = EmbeddedRedis(tmp_path / "redis")
    server.ensure_running()
    yield server
    server.stop()


@pytest.fixture
def parity_app(own_server: EmbeddedRedis, tmp_path: Path) -> Flask:
    return tracked(
        create_app(
            {
                "redis_url": own_server.url,
                "data_dir": str(tmp_path / "data"),
                "secret_key": "test-secret",
                "domains": DOMAINS,
                "default_domain": DOMAINS[0],
                "key_prefix": "lumen",
                "TESTING": True,
            },
            environ=TEST_ENVIRON,
        )
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fast_path_and_flask_view_answer_alike(
    case: Case, parity_app: Flask, own_server: EmbeddedRedis
) -> None:
    through_fast_path = run_case(case, parity_app, parity_app.wsgi_app, own_server)
    through_flask = run_case(case, parity_app, flask_alone(parity_app), own_server)
    assert through_fast_path == through_flask


EXPECTED = {
    "get-live": (302, (1, 1, 0)),
    "head-live": (302, (1, 0, 0)),  # recorded as a probe: a hit, not a human click
    "get-unknown-host": (404, (0, 0, 0)),
    "head-unknown-host": (404, (0, 0, 0)),
    "get-expired": (410, (0, 0, 0)),
    "get-out-of-clicks": (410, (1, 1, 0)),
    "get-deleted-after-caching": (404, (0, 0, 1)),
    "get-unknown-code": (404, (0, 0, 1)),
    "head-unknown-code": (404, (0, 0, 1)),
    "get-301": (301, (1, 1, 0)),
    "get-cached-while-redis-is-down": (302, (0, 0, 0)),
    "get-uncached-while-redis-is-down": (503, (0, 0, 0)),
    "get-unknown-code-while-redis-is-down": (503, (0, 0, 0)),
    "get-utm-and-query": (302, (1, 1, 0)),
    "get-device-target": (302, (1, 1, 0)),
    "get-device-target-cached-while-redis-is-down": (302, (0, 0, 0)),
    "get-custom-preview": (200, (1, 0, 0)),
    "head-custom-preview": (200, (1, 0, 0)),  # the page, recorded as a probe
    "get-password-form": (200, (0, 0, 0)),
    "get-password-cached-while-redis-is-down": (503, (0, 0, 0)),
    "get-unknown-code-with-a-not-found-url": (302, (0, 0, 1)),
}
LOCATIONS = {
    "get-utm-and-query": "https://example.com/landing?utm_source=news&ref=1",
    "get-device-target": "https://apps.apple.com/app/id1?utm_source=news",
    "get-device-target-cached-while-redis-is-down": "https://apps.apple.com/app/id1?utm_source=news",
    "get-unknown-code-with-a-not-found-url": "https://brand.example/404",
}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_case_gets_its_expected_status_and_counts(
    case: Case, parity_app: Flask, own_server: EmbeddedRedis
) -> None:
    answer = run_case(case, parity_app, parity_app.wsgi_app, own_server)
    assert (answer.status, answer.counts) == EXPECTED[case.name]
    if answer.status in (301, 302):
        expected = LOCATIONS.get(case.name, "https://example.com/landing")
        assert answer.headers["Location"] == expected
        assert answer.headers["Cache-Control"] == "private, max-age=0"
    if answer.status == 503:
        assert answer.headers["Retry-After"] == "5"


def test_a_stale_cached_code_costs_two_script_runs_not_three(
    parity_app: Flask, own_server: EmbeddedRedis
) -> None:
    ctx = parity_app.extensions["lumen"]
    link = ctx.links.create({"url": "https://example.com/landing", "slug": "again"})
    client = Client(parity_app.wsgi_app, TestResponse)
    client.get("/again", headers={"Host": DOMAINS[0], "User-Agent": CHROME})
    ctx.links.delete(link.id)  # another worker deletes it and makes the slug again
    remade = ctx.links.create({"url": "https://example.com/remade", "slug": "again"})
    ctx.redis.config_resetstat()
    response = client.get("/again", headers={"Host": DOMAINS[0], "User-Agent": CHROME})
    assert response.headers["Location"] == "https://example.com/remade"
    calls = ctx.redis.info("commandstats")["cmdstat_evalsha"]["calls"]
    assert calls == 2
    assert int(ctx.redis.hget(ctx.keys.link(remade.id), "hits")) == 1
