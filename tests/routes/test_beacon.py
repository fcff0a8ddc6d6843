"""POST /api/v1/beacon: share-button clicks and copy-paste arrivals, validated before anything
is stored."""

from __future__ import annotations

import io

import pytest

from shortener.hits.recording import day_of
from shortener.links import now_ms
from tests.agents import GOOGLEBOT
from tests.conftest import DOMAINS, TEST_KEYS, day_fields, instance_day_fields, stored_hits
from tests.routes.sharing import CHROME, ORIGIN, PAGE, send, snapshot

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster


@pytest.fixture
def page(client, publisher):
    """The page's link and variants, as share.js asks for them before any beacon."""
    response = send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE})
    assert response.status_code == 200
    return response.get_json()


def beacon(client, publisher, **fields):
    return send(client, "/api/v1/beacon", {"key": publisher.key, "url": PAGE, **fields})


def day_hashes(redis_client, link_id: int) -> tuple[dict[str, str], dict[str, str]]:
    day = day_of(now_ms())
    return (
        day_fields(redis_client, TEST_KEYS.link_day(link_id, day)),
        instance_day_fields(redis_client, day),
    )


def test_a_share_click_counts_a_share_made_per_channel(client, publisher, page, redis_client):
    for channel in ("whatsapp", "whatsapp", "copy", "more"):
        response = beacon(client, publisher, event="share", channel=channel)
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    link_day, global_day = day_hashes(redis_client, page["link"]["id"])
    for day in (link_day, global_day):
        assert (day["sh:whatsapp"], day["sh:copy"], day["sh:more"]) == ("2", "1", "1")
        assert "hits" not in day  # a share made is not a click
    assert redis_client.ttl(TEST_KEYS.link_day(page["link"]["id"], day_of(now_ms()))) > 0
    assert redis_client.xlen(TEST_KEYS.link_hits(page["link"]["id"])) == 0


def test_a_copy_paste_arrival_is_a_dark_human_hit_with_evidence_copy(
    client, publisher, page, redis_client
):
    response = send(
        client,
        "/api/v1/beacon",
        {"key": publisher.key, "url": PAGE, "event": "copy-arrival", "token": "k3J9xQ2a.1"},
        **{"Accept-Language": "de-CH,de;q=0.9"},
    )
    assert response.status_code == 204
    link_id = page["link"]["id"]
    [hit] = stored_hits(redis_client, link_id)
    assert (hit["kind"], hit["source"], hit["channel"], hit["evidence"], hit["dark"]) == (
        "human",
        "dark",
        "-",
        "copy",
        "1",
    )
    assert hit["referrer"] == ""  # the beacon's own Referer (the page) is not the arrival's
    assert hit["ua"] == CHROME and hit["lang"] == "de-ch" and hit["browser"] == "Chrome"
    link_day, global_day = day_hashes(redis_client, link_id)
    for day in (link_day, global_day):
        assert (
            day["k:human"] == "1"
            and day["s:dark"] == "1"
            and day["e:copy"] == "1"
            and day["de:copy"] == "1"
        )
        assert day["gen:1"] == "1"
    assert redis_client.hget(TEST_KEYS.link(link_id), "human") == "1"
    assert redis_client.pfcount(TEST_KEYS.link_visitors(link_id, day_of(now_ms()))) == 1
    [compact] = stored_hits(redis_client)
    assert compact["evidence"] == "copy"


def test_generations_are_counted_apart(client, publisher, page, redis_client):
    for n, token in enumerate(("aaaaaaaa.1", "bbbbbbbb.2", "cccccccc.2", "dddddddd.3")):
        payload = {"key": publisher.key, "url": PAGE, "event": "copy-arrival", "token": token}
        assert send(client, "/api/v1/beacon", payload, ip=f"198.51.100.{n}").status_code == 204
    link_day, _ = day_hashes(redis_client, page["link"]["id"])
    assert (link_day["gen:1"], link_day["gen:2"], link_day["gen:3"]) == ("1", "2", "1")
    assert link_day["e:copy"] == "4"


def test_a_robot_arrival_is_recorded_as_a_bot_without_a_generation(
    client, publisher, page, redis_client
):
    response = send(
        client,
        "/api/v1/beacon",
        {"key": publisher.key, "url": PAGE, "event": "copy-arrival", "token": "aaaaaaaa.1"},
        **{"User-Agent": GOOGLEBOT},
    )
    assert response.status_code == 204
    link_day, _ = day_hashes(redis_client, page["link"]["id"])
    assert link_day["k:bot"] == "1" and "gen:1" not in link_day and "e:copy" not in link_day


def test_an_arrival_on_a_spent_link_is_not_counted(client, publisher, page, auth, redis_client):
    link_id = page["link"]["id"]
    assert (
        client.patch(f"/api/v1/links/{link_id}", json={"max_clicks": 1}, headers=auth).status_code
        == 200
    )
    assert beacon(client, publisher, event="copy-arrival", token="aaaaaaaa.1").status_code == 204
    second = send(
        client,
        "/api/v1/beacon",
        {"key": publisher.key, "url": PAGE, "event": "copy-arrival", "token": "bbbbbbbb.1"},
        ip="198.51.100.2",
    )
    assert second.status_code == 410
    link_day, _ = day_hashes(redis_client, link_id)
    assert link_day["gen:1"] == "1"


@pytest.mark.parametrize(
    ("payload", "origin", "status", "field"),
    [
        ({"key": "lpk_" + "x" * 24}, ORIGIN, 403, "key"),
        ({"key": 7}, ORIGIN, 403, "key"),
        ({}, "https://evil.example", 403, "origin"),
        ({}, None, 403, "origin"),
        ({"channel": "myspace"}, ORIGIN, 422, "channel"),
        ({"channel": None}, ORIGIN, 422, "channel"),
        ({"channel": "WhatsApp"}, ORIGIN, 422, "channel"),
        ({"event": "like"}, ORIGIN, 422, "event"),
        ({"event": None}, ORIGIN, 422, "event"),
        ({"event": "copy-arrival", "token": "short.1"}, ORIGIN, 422, "token"),
        ({"event": "copy-arrival", "token": "aaaaaaaa.0"}, ORIGIN, 422, "token"),
        ({"event": "copy-arrival", "token": "aaaaaaaa.100"}, ORIGIN, 422, "token"),
        ({"event": "copy-arrival"}, ORIGIN, 422, "token"),
        ({"url": "https://evil.example/story"}, ORIGIN, 403, "url"),
        ({"url": "https://news.example/never-asked-for"}, ORIGIN, 404, None),
        ({"visitor": "me"}, ORIGIN, 422, "visitor"),
    ],
    ids=[
        "unknown-key",
        "key-not-text",
        "foreign-origin",
        "no-origin",
        "unknown-channel",
        "no-channel",
        "channel-case",
        "unknown-event",
        "no-event",
        "token-too-short",
        "token-generation-0",
        "token-generation-100",
        "no-token",
        "page-off-origin",
        "page-never-asked-for",
        "unknown-field",
    ],
)
def test_bad_beacons_answer_4xx_and_store_nothing(
    client, publisher, page, redis_client, payload, origin, status, field
):
    body = {"key": publisher.key, "url": PAGE, "event": "share", "channel": "whatsapp", **payload}
    before = snapshot(redis_client)
    response = send(
        client, "/api/v1/beacon", {k: v for k, v in body.items() if v is not None}, origin=origin
    )
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json().get("field") == field
    assert snapshot(redis_client) == before


@pytest.mark.parametrize(
    ("raw", "status"),
    [("", 400), ('{"event": ', 400), ('"share"', 400), ('{"pad": "' + "x" * 2100 + '"}', 413)],
    ids=["empty", "malformed", "not-an-object", "oversized"],
)
def test_bodies_that_are_not_small_json_objects(client, publisher, page, redis_client, raw, status):
    before = snapshot(redis_client)
    response = send(client, "/api/v1/beacon", None, raw=raw)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert snapshot(redis_client) == before


def test_an_oversized_body_is_refused_even_without_a_length(client, publisher, page, redis_client):
    before = snapshot(redis_client)
    body = io.BytesIO(b'{"pad": "' + b"x" * 4000 + b'"}')
    response = client.post(
        "/api/v1/beacon",
        input_stream=body,
        headers={"Host": DOMAINS[0], "Origin": ORIGIN, "Content-Type": "text/plain"},
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )  # as with chunked encoding
    assert response.status_code == 413
    assert snapshot(redis_client) == before


def test_beacons_are_rate_limited(make_app, publisher, redis_client):
    client = make_app(embed_rate_limit="2 per minute").test_client()
    assert (
        send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}).status_code == 200
    )
    statuses = [
        send(
            client,
            "/api/v1/beacon",
            {"key": publisher.key, "url": PAGE, "event": "share", "channel": "sms"},
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [204, 204, 429]


def test_a_copy_arrival_counts_once_per_visitor_page_and_day(client, publisher, page, redis_client):
    for token in ("aaaaaaaa.1", "bbbbbbbb.1", "cccccccc.2"):
        assert beacon(client, publisher, event="copy-arrival", token=token).status_code == 204
    other = {"key": publisher.key, "url": PAGE, "event": "copy-arrival", "token": "dddddddd.1"}
    assert send(client, "/api/v1/beacon", other, ip="198.51.100.7").status_code == 204
    link_day, global_day = day_hashes(redis_client, page["link"]["id"])
    assert link_day["e:copy"] == global_day["e:copy"] == "2"
    assert link_day["gen:1"] == "2" and "gen:2" not in link_day
    assert len(stored_hits(redis_client, page["link"]["id"])) == 2


def test_beacons_are_limited_per_address_and_page(make_app, publisher, redis_client):
    client = make_app(beacon_rate_limit="3 per minute").test_client()
    assert (
        send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}).status_code == 200
    )
    share = {"key": publisher.key, "url": PAGE, "event": "share", "channel": "sms"}
    statuses = [send(client, "/api/v1/beacon", share).status_code for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]
    assert send(client, "/api/v1/beacon", share, ip="198.51.100.7").status_code == 204
    link_day, _ = day_hashes(redis_client, 1)
    assert link_day["sh:sms"] == "4"


def test_beacons_are_limited_per_page_from_all_addresses(make_app, publisher, redis_client):
    app = make_app(beacon_link_rate_limit="4 per minute")
    client = app.test_client()
    assert (
        send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}).status_code == 200
    )
    share = {"key": publisher.key, "url": PAGE, "event": "share", "channel": "sms"}
    statuses = [
        send(client, "/api/v1/beacon", share, ip=f"198.51.100.{n}").status_code for n in range(6)
    ]
    assert statuses == [204] * 4 + [429] * 2
    refused = send(client, "/api/v1/beacon", share, ip="198.51.100.99")
    assert refused.mimetype == "application/problem+json" and "Retry-After" in refused.headers
