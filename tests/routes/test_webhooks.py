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
from tests.conftest import DOMAINS
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
    """Run the consumer (as a worker would) until `until()` holds, a bounded number of rounds."""
    for _ in range(rounds):
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
