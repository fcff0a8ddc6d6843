"""POST /api/v1/share-links: a page's link and its buttons' variants, for its publisher's
origins only."""

from __future__ import annotations

import json
import threading

import pytest

from shortener.hits.recording import day_of
from shortener.links import now_ms
from shortener.publishers import create_publisher, revoke_publisher
from shortener.shares import SHARE_BUTTONS, share_page
from tests.conftest import DOMAINS, TEST_KEYS, day_fields, stored_hits
from tests.routes.sharing import CHROME, ORIGIN, PAGE, send, snapshot
from tests.routes.test_redirect import visit

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster


def ask(client, publisher, **fields):
    return send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE, **fields})


def test_returns_the_page_link_and_one_variant_per_button(client, publisher, redis_client):
    response = ask(client, publisher, title="A story", channels=["whatsapp", "copy", "more"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["url"] == PAGE
    assert body["link"]["short_url"].startswith(f"https://{DOMAINS[0]}/")
    assert sorted(body["variants"]) == ["copy", "whatsapp"]  # `more` shares the page's own link
    link = redis_client.hgetall(TEST_KEYS.link(body["link"]["id"]))
    assert link["url"] == PAGE and link["title"] == "A story"
    assert json.loads(link["tags"]) == ["share:news"]
    variants = redis_client.hgetall(TEST_KEYS.variants(body["link"]["id"]))
    assert {c: f"https://{DOMAINS[0]}/{code}" for c, code in variants.items()} == body["variants"]
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"


def test_all_buttons_when_none_are_named_and_no_api_key_needed(client, publisher):
    response = ask(client, publisher)
    assert response.status_code == 200
    assert sorted(response.get_json()["variants"]) == sorted(set(SHARE_BUTTONS) - {"more"})


def link_records(redis_client) -> list[int]:
    """The ids of the link records in Redis."""
    last = int(redis_client.get(TEST_KEYS.sequence()) or 0)  # links and variants share it
    return [n for n in range(1, last + 1) if redis_client.exists(TEST_KEYS.link(n))]


def test_is_idempotent_per_publisher_and_canonical_url(client, publisher, redis_client, keys):
    first = ask(client, publisher, channels=["whatsapp"]).get_json()
    again = send(
        client,
        "/api/v1/share-links",
        {"key": publisher.key, "url": PAGE + "#lm=abcdefgh.1", "channels": ["whatsapp", "sms"]},
    ).get_json()
    assert again["link"] == first["link"]
    assert again["variants"]["whatsapp"] == first["variants"]["whatsapp"]
    assert "sms" in again["variants"]
    assert len(link_records(redis_client)) == 1
    other = create_publisher(redis_client, keys, "partner", [ORIGIN], 2)
    theirs = send(client, "/api/v1/share-links", {"key": other.key, "url": PAGE}).get_json()
    assert theirs["link"]["id"] != first["link"]["id"]  # one link per (publisher, page)


def test_concurrent_first_requests_make_one_link(app, publisher, redis_client):
    ctx = app.extensions["lumen"]
    results, barrier = [], threading.Barrier(6)

    def first_request() -> None:
        barrier.wait()
        results.append(share_page(ctx.links, publisher, PAGE, "T", ("whatsapp", "copy")))

    threads = [threading.Thread(target=first_request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({page.link.id for page in results}) == 1
    assert len({tuple(v.code for v in page.variants) for page in results}) == 1
    assert link_records(redis_client) == [results[0].link.id]


def test_a_deleted_page_link_is_made_again(client, publisher, auth):
    first = ask(client, publisher).get_json()
    assert client.delete(f"/api/v1/links/{first['link']['id']}", headers=auth).status_code == 204
    again = ask(client, publisher)
    assert again.status_code == 200
    assert again.get_json()["link"]["id"] != first["link"]["id"]


def test_a_long_page_title_is_cut_not_refused(client, publisher, redis_client):
    body = ask(client, publisher, title="T" * 500).get_json()
    assert redis_client.hget(TEST_KEYS.link(body["link"]["id"]), "title") == "T" * 300


def test_variant_clicks_are_attributed_with_evidence_tag(client, publisher, redis_client):
    body = ask(client, publisher, channels=["whatsapp"]).get_json()
    code = body["variants"]["whatsapp"].rsplit("/", 1)[1]
    response = visit(client, code, ua=CHROME)
    assert response.status_code == 302
    assert response.headers["Location"] == PAGE + "#lumen=1_whatsapp"  # the cascade hand-over
    link_id = body["link"]["id"]
    [hit] = stored_hits(redis_client, link_id)
    assert (hit["evidence"], hit["channel"], hit["source"], hit["variant"]) == (
        "tag",
        "whatsapp",
        "messaging",
        "whatsapp",
    )
    day = day_fields(redis_client, TEST_KEYS.link_day(link_id, day_of(now_ms())))
    assert day["t:whatsapp"] == "1" and day["e:tag"] == "1"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"origin": "https://evil.example"}, 403, "origin"),
        ({"origin": None}, 403, "origin"),
        ({"origin": "null"}, 403, "origin"),
        ({"key": "lpk_" + "x" * 24}, 403, "key"),
        ({"key": None}, 403, "key"),
        ({"url": "https://evil.example/page"}, 403, "url"),
        ({"url": "http://news.example/2026/11/story"}, 403, "url"),
        ({"url": "javascript:alert(1)"}, 422, "url"),
        ({"url": f"https://{DOMAINS[0]}/abc"}, 422, "url"),
        ({"channels": ["whatsapp", "myspace"]}, 422, "channel"),
        ({"channels": "whatsapp"}, 422, "channels"),
        ({"title": ["not", "text"]}, 422, "title"),
        ({"extra": 1}, 422, "extra"),
    ],
    ids=[
        "foreign-origin",
        "no-origin",
        "null-origin",
        "unknown-key",
        "no-key",
        "page-off-origin",
        "page-other-scheme",
        "page-not-http",
        "page-on-lumen",
        "unknown-channel",
        "channels-not-a-list",
        "title-not-text",
        "unknown-field",
    ],
)
def test_refusals_create_nothing(client, publisher, redis_client, change, status, field):
    payload = {"key": publisher.key, "url": PAGE, "channels": ["whatsapp"]}
    change = dict(change)  # the parameters are shared by both backends: leave them as they are
    origin = change.pop("origin", ORIGIN)
    payload.update(change)
    before = snapshot(redis_client)
    response = send(
        client,
        "/api/v1/share-links",
        {k: v for k, v in payload.items() if v is not None},
        origin=origin,
    )
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["field"] == field
    if field in ("origin", "key"):
        assert "Access-Control-Allow-Origin" not in response.headers
    assert snapshot(redis_client) == before


def test_a_revoked_key_is_refused(client, publisher, redis_client, keys):
    revoke_publisher(redis_client, keys, "news")
    assert ask(client, publisher).status_code == 403


@pytest.mark.parametrize(
    ("raw", "status"),
    [("", 400), ("{not json", 400), ("[1, 2]", 400), ('{"url": "' + "x" * 5000 + '"}', 413)],
    ids=["empty", "malformed", "array", "oversized"],
)
def test_bodies_that_are_not_small_json_objects(client, publisher, redis_client, raw, status):
    before = snapshot(redis_client)
    response = send(client, "/api/v1/share-links", None, raw=raw)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert snapshot(redis_client) == before


def test_preflight_answers_publishers_origins_only(client, publisher):
    allowed = client.options(
        "/api/v1/share-links",
        headers={
            "Host": DOMAINS[0],
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert allowed.headers["Access-Control-Allow-Methods"] == "POST"
    assert allowed.headers["Access-Control-Allow-Headers"] == "Content-Type"
    refused = client.options(
        "/api/v1/share-links",
        headers={
            "Host": DOMAINS[0],
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "evil.example" in refused.get_json()["detail"]


def test_requests_are_rate_limited_per_address(make_app, publisher, redis_client):
    client = make_app(embed_rate_limit="3 per minute").test_client()
    statuses = [
        send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE})
    assert limited.mimetype == "application/problem+json"
    assert "3 per 1 minute" in limited.get_json()["detail"]
    assert int(limited.headers["Retry-After"]) > 0
    assert (
        send(
            client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}, ip="198.51.100.4"
        ).status_code
        == 200
    )
    windows = redis_client.keys(f"{TEST_KEYS.rate_limits()}:*")
    assert windows  # the windows live in Redis, shared by every worker
    assert not [
        key for key in windows if "203.0.113.9" in key or "198.51.100.4" in key
    ]  # no IP stored


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example@news.example",
        "https://news.example/path",
        "HTTPS://NEWS.EXAMPLE",
        "https://news.example:443",
        "https://news.example.",
    ],
    ids=["userinfo", "path", "upper-case", "default-port", "trailing-dot"],
)
def test_odd_origins_are_refused_and_never_echoed(client, publisher, origin):
    response = ask_from(client, publisher, origin)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/v1/share-links",
        headers={"Host": DOMAINS[0], "Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers


def ask_from(client, publisher, origin):
    return send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}, origin=origin)


def test_new_pages_are_limited_per_publisher_and_hour(make_app, publisher, redis_client):
    client = make_app(share_pages_per_hour=2).test_client()
    statuses = [
        send(
            client,
            "/api/v1/share-links",
            {"key": publisher.key, "url": f"{PAGE}/{n}"},
            ip=f"198.51.100.{n}",
        ).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert len(link_records(redis_client)) == 2  # the refused page minted no link, no code
    known = send(client, "/api/v1/share-links", {"key": publisher.key, "url": f"{PAGE}/0"})
    assert known.status_code == 200  # a page already registered is always answered
