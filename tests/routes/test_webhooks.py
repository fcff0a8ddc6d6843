"""Webhooks: registered through the API, delivered signed to a real local HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shortener.context import webhook_consumer
from tests.conftest import DOMAINS, write_instance_counts
from tests.routes.test_redirect import visit


class Receiver:
    """A real HTTP server on 127.0.0.1 that records each POST and answers the next status."""

    def __init__(self, statuses: list[int] | None = None, default: int = 200) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        self.default = default
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """The app with private targets allowed (the receiver is on loopback) and quick retries."""
    return make_app(webhook_allow_private=True, webhook_retry_ms=20, webhook_max_attempts=3)


@pytest.fixture
def consumer(app):  # type: ignore[no-untyped-def]
    return webhook_consumer(app.extensions["lumen"])


def pump(consumer, until, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    """Run the consumer (as a worker would, its tally writing the hit streams beside it) until
    `until()` holds, a bounded number of rounds."""
    for _ in range(rounds):
        write_instance_counts()
        consumer.run_once()
        if until():
            return
        time.sleep(0.02)
    raise AssertionError("the consumer did not get there")


def register(client, auth, url: str, events: list[str], **extra: object) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "events": events, **extra}, headers=auth
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_link_events_are_delivered_signed(client, auth, receiver, consumer, create_link):
    consumer.run_once()  # the consumer group starts from now
    webhook = register(client, auth, receiver.url, ["link.created", "link.updated", "link.deleted"])
    assert len(webhook["secret"]) == 64 and webhook["id"].startswith("wh_")
    link = create_link(title="Hooked")
    client.patch(f"/api/v1/links/{link['id']}", json={"title": "Renamed"}, headers=auth)
    client.delete(f"/api/v1/links/{link['id']}", headers=auth)
    pump(consumer, lambda: len(receiver.received) == 3)
    events = []
    for headers, body in receiver.received:
        expected = (
            "sha256=" + hmac.new(webhook["secret"].encode(), body, hashlib.sha256).hexdigest()
        )
        assert headers["X-Lumen-Signature"] == expected
        payload = json.loads(body)
        assert headers["X-Lumen-Event"] == payload["event"]
        events.append((payload["event"], payload["data"].get("title")))
    assert events == [
        ("link.created", "Hooked"),
        ("link.updated", "Renamed"),
        ("link.deleted", None),
    ]
    log = client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=auth).get_json()
    assert [d["outcome"] for d in log["deliveries"]] == ["delivered"] * 3
    assert log["deliveries"][0]["status"] == 200


def test_clicks_come_from_the_hit_stream(client, auth, receiver, consumer, create_link):
    link = create_link()
    consumer.run_once()
    register(client, auth, receiver.url, ["click"])
    assert visit(client, link["code"]).status_code == 302
    pump(consumer, lambda: len(receiver.received) == 1)
    payload = json.loads(receiver.received[0][1])
    assert payload["event"] == "click"
    assert payload["data"]["link_id"] == link["id"] and payload["data"]["kind"] == "human"
    # Only subscribed events: no link.created for a click-only webhook.
    create_link()
    pump(consumer, lambda: True)
    assert len(receiver.received) == 1


def test_each_event_is_delivered_once_across_consumers(app, client, auth, receiver, create_link):
    first, second = (webhook_consumer(app.extensions["lumen"]) for _ in range(2))
    first.name, second.name = "worker-1", "worker-2"
    first.run_once(), second.run_once()
    register(client, auth, receiver.url, ["link.created"])
    for n in range(10):
        create_link(url=f"https://example.com/{n}")
    for _ in range(20):
        first.run_once(), second.run_once()
    assert len(receiver.received) == 10
    assert len({json.loads(body)["id"] for _, body in receiver.received}) == 10


def test_a_failing_receiver_is_retried_then_delivered(client, auth, consumer, create_link):
    flaky = Receiver(statuses=[500])
    try:
        consumer.run_once()
        webhook = register(client, auth, flaky.url, ["link.created"])
        create_link()
        pump(consumer, lambda: len(flaky.received) == 2)
        assert flaky.received[0][1] == flaky.received[1][1]  # the same body, signed the same
        log = client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=auth).get_json()
        assert [(d["attempt"], d["status"], d["outcome"]) for d in log["deliveries"]] == [
            (2, 200, "delivered"),
            (1, 500, "retrying"),
        ]
    finally:
        flaky.close()


def test_an_always_failing_receiver_is_given_up_and_logged(client, auth, consumer, create_link):
    broken = Receiver(default=500)
    try:
        consumer.run_once()
        webhook = register(client, auth, broken.url, ["link.created"])
        create_link()
        log_url = f"/api/v1/webhooks/{webhook['id']}/deliveries"

        def given_up() -> bool:
            found = client.get(log_url, headers=auth).get_json()["deliveries"]
            return bool(found) and found[0]["outcome"] == "failed"

        pump(consumer, given_up)
        outcomes = [
            (d["attempt"], d["outcome"])
            for d in client.get(log_url, headers=auth).json["deliveries"]
        ]
        assert outcomes == [(3, "failed"), (2, "retrying"), (1, "retrying")]
        time.sleep(0.2)
        consumer.run_once()
        assert len(broken.received) == 3  # bounded: no fourth attempt
    finally:
        broken.close()


def test_list_and_delete_never_show_the_secret(client, auth, receiver):
    webhook = register(client, auth, receiver.url, ["click"], secret="my-own-secret-1234")
    assert webhook["secret"] == "my-own-secret-1234"
    listed = client.get("/api/v1/webhooks", headers=auth).get_json()["webhooks"]
    assert listed == [{k: v for k, v in webhook.items() if k != "secret"}]
    assert client.delete(f"/api/v1/webhooks/{webhook['id']}", headers=auth).status_code == 204
    assert client.get("/api/v1/webhooks", headers=auth).get_json()["webhooks"] == []
    assert client.delete(f"/api/v1/webhooks/{webhook['id']}", headers=auth).status_code == 404
    assert (
        client.get(f"/api/v1/webhooks/{webhook['id']}/deliveries", headers=auth).status_code == 404
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com", "events": ["click"]}, "url"),
        ({"url": "https://u:p@example.com", "events": ["click"]}, "url"),
        ({"url": "https://example.com", "events": []}, "events"),
        ({"url": "https://example.com", "events": ["link.exploded"]}, "events"),
        ({"url": "https://example.com", "events": "click"}, "events"),
        ({"url": "https://example.com", "events": ["click"], "secret": "short"}, "secret"),
        ({"url": "https://example.com", "events": ["click"], "colour": 1}, "colour"),
    ],
)
def test_bad_webhooks_are_refused(client, auth, body, field):
    response = client.post("/api/v1/webhooks", json=body, headers=auth)
    assert response.status_code == 422 and response.get_json()["field"] == field


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_targets_are_refused_by_default(make_app, api_key, url):
    client = make_app().test_client()
    headers = {"Authorization": f"Bearer {api_key}", "Host": DOMAINS[0]}
    response = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["click"]}, headers=headers
    )
    assert response.status_code == 422
    assert "LUMEN_WEBHOOK_ALLOW_PRIVATE" in response.get_json()["detail"]
    public = client.post(
        "/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hook", "events": ["click"]},
        headers=headers,
    )
    assert public.status_code == 201


def test_webhooks_need_an_admin_key(client, redis_client, keys, receiver):
    from shortener.apikeys import create_api_key

    key = create_api_key(redis_client, keys, "writer", 1, ["links:write", "stats:read"])
    headers = {"Authorization": f"Bearer {key}", "Host": DOMAINS[0]}
    response = client.post(
        "/api/v1/webhooks", json={"url": receiver.url, "events": ["click"]}, headers=headers
    )
    assert response.status_code == 403 and response.get_json()["scope"] == "admin"
    assert client.get("/api/v1/webhooks", headers=headers).status_code == 403


def test_events_a_dead_consumer_left_are_taken_over(app, client, auth, receiver, create_link):
    from shortener.webhooks import GROUP, WebhookConsumer

    ctx = app.extensions["lumen"]
    live = WebhookConsumer(
        ctx.redis, ctx.keys, allow_private=True, retry_base_ms=20, max_attempts=3, stale_ms=0
    )
    live.run_once()
    register(client, auth, receiver.url, ["link.created"])
    create_link()
    # A worker reads the event and dies before queueing it.
    taken = ctx.redis.xreadgroup(GROUP, "dead-worker", {ctx.keys.link_events(): ">"}, count=10)
    assert len(taken[0][1]) == 1
    pump(live, lambda: len(receiver.received) == 1)
    assert json.loads(receiver.received[0][1])["event"] == "link.created"
    assert ctx.redis.xpending(ctx.keys.link_events(), GROUP)["pending"] == 0


# The hit streams are read only while a webhook subscribes to clicks; these run on both backends.


def read_positions(redis_client, keys) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    """Each hit stream's `webhooks` group: (the last id it delivered, entries pending)."""
    from shortener.webhooks import GROUP, hit_streams

    positions = {}
    for stream in hit_streams(keys):
        [group] = [found for found in redis_client.xinfo_groups(stream) if found["name"] == GROUP]
        positions[stream] = (group["last-delivered-id"], group["pending"])
    return positions


def stream_ends(redis_client, keys) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The id of each hit stream's newest entry ("0-0" for an empty one)."""
    from shortener.webhooks import hit_streams

    ends = {}
    for stream in hit_streams(keys):
        top = redis_client.xrevrange(stream, count=1)
        ends[stream] = top[0][0] if top else "0-0"
    return ends


def click_once_each(client, code: str, visitors: range) -> None:  # type: ignore[no-untyped-def]
    """A click on `code` from each visitor (their hashes fall in several shards' streams)."""
    for n in visitors:
        assert visit(client, code, ip=f"203.0.113.{n}").status_code == 302
    write_instance_counts()  # into the hit streams, as the worker's tally does each second


def clicked_links(receiver: Receiver) -> list[int]:
    """The link of each click the receiver got, in order."""
    return [json.loads(body)["data"]["link_id"] for _, body in receiver.received]


def settle(consumer) -> None:  # type: ignore[no-untyped-def]
    """A few more loops: long enough for an extra delivery to show up, if there were one."""
    for _ in range(3):
        write_instance_counts()
        consumer.run_once()
        time.sleep(0.02)


@pytest.mark.both_backends
def test_without_a_click_webhook_the_hit_streams_are_not_read(
    client, auth, receiver, consumer, create_link, redis_client, keys
):
    link = create_link()
    consumer.run_once()
    register(client, auth, receiver.url, ["link.updated"])
    unread = read_positions(redis_client, keys)
    click_once_each(client, link["code"], range(20))
    client.patch(f"/api/v1/links/{link['id']}", json={"title": "Read"}, headers=auth)
    pump(consumer, lambda: len(receiver.received) == 1)  # the consumer runs: link events go out
    settle(consumer)
    assert sum(redis_client.xlen(stream) for stream in unread) == 20
    assert read_positions(redis_client, keys) == unread  # no hit read, none pending
    assert not consumer.reads_clicks


@pytest.mark.both_backends
@pytest.mark.parametrize("consumer_ran", [True, False], ids=["group-behind", "no-group-yet"])
def test_a_click_webhook_gets_the_clicks_made_after_its_creation_only(
    client, auth, receiver, consumer, create_link, redis_client, keys, consumer_ran
):
    before, after = create_link(), create_link(url="https://example.com/after")
    if consumer_ran:
        consumer.run_once()
    click_once_each(client, before["code"], range(10))
    register(client, auth, receiver.url, ["click"])
    # The consumers will not wade through those 10: each group starts where its stream ended.
    assert {
        stream: position for stream, (position, _) in read_positions(redis_client, keys).items()
    } == stream_ends(redis_client, keys)
    click_once_each(client, after["code"], range(1))
    pump(consumer, lambda: len(receiver.received) == 1)
    settle(consumer)
    assert clicked_links(receiver) == [after["id"]]


@pytest.mark.both_backends
def test_a_second_click_webhook_moves_no_group(
    client, auth, app, consumer, create_link, redis_client, keys
):
    link = create_link()
    first, second = Receiver(), Receiver()
    try:
        consumer.run_once()
        register(client, auth, first.url, ["click"])
        click_once_each(client, link["code"], range(5))  # not read yet when the second comes
        register(client, auth, second.url, ["click"])
        click_once_each(client, link["code"], range(5, 6))
        pump(consumer, lambda: len(first.received) == 6 and len(second.received) == 1)
        settle(consumer)
        assert len(first.received) == 6 and len(second.received) == 1
        assert json.loads(second.received[0][1]) == json.loads(first.received[-1][1])
    finally:
        first.close()
        second.close()


@pytest.mark.both_backends
def test_deleting_the_last_click_webhook_stops_the_reading(
    client, auth, receiver, consumer, create_link, redis_client, keys
):
    link = create_link()
    webhook = register(client, auth, receiver.url, ["click"])
    click_once_each(client, link["code"], range(1))
    pump(consumer, lambda: len(receiver.received) == 1)
    assert consumer.reads_clicks
    assert client.delete(f"/api/v1/webhooks/{webhook['id']}", headers=auth).status_code == 204
    consumer.run_once()
    assert not consumer.reads_clicks
    unread = read_positions(redis_client, keys)
    click_once_each(client, link["code"], range(1, 11))
    settle(consumer)
    assert read_positions(redis_client, keys) == unread


@pytest.mark.both_backends
def test_clicks_a_dead_consumer_left_are_not_sent_to_a_later_webhook(
    app, client, auth, receiver, create_link, redis_client, keys
):
    from shortener.webhooks import GROUP, WebhookConsumer, hit_streams

    ctx = app.extensions["lumen"]
    live = WebhookConsumer(
        ctx.redis, ctx.keys, allow_private=True, retry_base_ms=20, max_attempts=3, stale_ms=0
    )
    old, new = create_link(), create_link(url="https://example.com/new")
    gone = register(client, auth, receiver.url, ["click"])
    click_once_each(client, old["code"], range(5))
    # A worker reads those clicks and dies before queueing them; their webhook is deleted.
    for stream in hit_streams(keys):
        redis_client.xreadgroup(GROUP, "dead-worker", {stream: ">"}, count=10)
    client.delete(f"/api/v1/webhooks/{gone['id']}", headers=auth)
    register(client, auth, receiver.url, ["click"])
    assert sum(group[1] for group in read_positions(redis_client, keys).values()) == 5
    click_once_each(client, new["code"], range(1))
    pump(live, lambda: len(receiver.received) == 1)
    settle(live)
    assert clicked_links(receiver) == [new["id"]]
    assert sum(group[1] for group in read_positions(redis_client, keys).values()) == 0


@pytest.mark.both_backends
def test_a_creation_that_lost_a_race_moves_no_group_back(
    client, auth, receiver, consumer, create_link, redis_client, keys
):
    from shortener.store import run_script
    from shortener.webhooks import _MOVE_GROUP_FORWARD, GROUP

    link = create_link()
    click_once_each(client, link["code"], range(5))
    # Another creation read where the streams ended, found no click webhook, and stalled...
    stalled_ends = stream_ends(redis_client, keys)
    # ...while this one was made and clicks were read for it.
    register(client, auth, receiver.url, ["click"])
    click_once_each(client, link["code"], range(5, 10))
    pump(consumer, lambda: len(receiver.received) == 5)
    read = read_positions(redis_client, keys)
    click_once_each(
        client, link["code"], range(10, 15)
    )  # not read yet when the stalled one goes on
    for stream, end in stalled_ends.items():
        run_script(redis_client, _MOVE_GROUP_FORWARD, [stream], [GROUP, end])
    assert read_positions(redis_client, keys) == read  # nothing read twice, nothing skipped
    pump(consumer, lambda: len(receiver.received) == 10)
    settle(consumer)
    assert len({json.loads(body)["id"] for _, body in receiver.received}) == 10


@pytest.mark.both_backends
def test_the_same_click_id_in_two_shards_is_two_clicks(
    client, auth, receiver, consumer, create_link, redis_client, keys
):
    from shortener.webhooks import hit_streams

    link = create_link()
    register(client, auth, receiver.url, ["click"])
    click_once_each(client, link["code"], range(1))
    [(stream, entries)] = [
        (s, found) for s in hit_streams(keys) if (found := redis_client.xrange(s))
    ]
    [(entry_id, fields)] = entries
    # A click of another visitor on another shard in the same millisecond: the same entry id.
    other = next(s for s in hit_streams(keys) if s != stream)
    redis_client.xadd(other, fields, id=entry_id)
    pump(consumer, lambda: len(receiver.received) == 2)
    settle(consumer)
    ids = {json.loads(body)["id"] for _, body in receiver.received}
    deliveries = {headers["X-Lumen-Delivery"] for headers, _ in receiver.received}
    assert len(receiver.received) == 2 and len(ids) == 2 and len(deliveries) == 2
    assert ids == {f"{hit_streams(keys)[s]}:{entry_id}" for s in (stream, other)}
