"""Per-worker caches learn of edits made through another instance (shortener.cache_events)."""

from __future__ import annotations

import time

import pytest

from shortener.app import create_app
from tests.agents import CHROME
from tests.conftest import DOMAINS, tracked

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster


def wait_for(condition, seconds: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `condition()` held; fails after `seconds`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not within the time allowed"
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture
def other_instance(settings_overrides):  # type: ignore[no-untyped-def]
    """A second app over the same Redis (as another machine would run it), listening for edits."""
    app = tracked(create_app(settings_overrides))
    events = app.extensions["lumen"].cache_events
    events.start()
    # Subscribing is asynchronous: wait until the listener is on the channel.
    r = app.extensions["lumen"].redis
    wait_for(lambda: r.pubsub_numsub(events.channel)[0][1] >= 1, seconds=5)
    yield app
    events.stop()


def test_an_edit_through_one_instance_reaches_the_other_within_a_second(
    client, other_instance, create_link, auth
):
    link = create_link(url="https://first-site.com/page")
    variant = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "sms"}, headers=auth
    ).get_json()
    other = other_instance.test_client()
    cache = other_instance.extensions["lumen"].link_cache
    for code in (link["code"], variant["code"]):
        assert other.get(f"/{code}", headers={"Host": DOMAINS[0]}).status_code == 302
        assert cache.get(DOMAINS[0], code).site == "first-site.com"

    edited = client.patch(
        f"/api/v1/links/{link['id']}", json={"url": "https://second-site.com/page"}, headers=auth
    )
    assert edited.status_code == 200
    wait_for(lambda: cache.get(DOMAINS[0], link["code"]) is None)
    wait_for(lambda: cache.get(DOMAINS[0], variant["code"]) is None)
    # The other instance now attributes with the new target: its site's referrer is internal.
    response = other.get(
        f"/{link['code']}",
        headers={
            "Host": DOMAINS[0],
            "Referer": "https://second-site.com/home",
            "User-Agent": CHROME,
        },
    )
    assert response.headers["Location"] == "https://second-site.com/page"
    assert cache.get(DOMAINS[0], link["code"]).site == "second-site.com"
    stats = client.get(f"/api/v1/links/{link['id']}/stats", headers=auth).get_json()
    assert {s["name"]: s["count"] for s in stats["breakdowns"]["sources"]}.get("internal") == 1


def test_a_delete_through_one_instance_reaches_the_other(client, other_instance, create_link, auth):
    link = create_link(slug="gone-soon")
    other = other_instance.test_client()
    cache = other_instance.extensions["lumen"].link_cache
    assert other.get("/gone-soon", headers={"Host": DOMAINS[0]}).status_code == 302
    assert cache.get(DOMAINS[0], "gone-soon") is not None
    assert client.delete(f"/api/v1/links/{link['id']}", headers=auth).status_code == 204
    wait_for(lambda: cache.fallback(DOMAINS[0], "gone-soon") is None)
    assert other.get("/gone-soon", headers={"Host": DOMAINS[0]}).status_code == 404


def test_a_garbled_announcement_empties_the_cache(app):
    ctx = app.extensions["lumen"]
    ctx.link_cache.put(DOMAINS[0], "abc", None)  # type: ignore[arg-type]
    ctx.cache_events.apply("not json")
    assert ctx.link_cache.fallback(DOMAINS[0], "abc") is None
