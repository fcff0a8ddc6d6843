"""/metrics: Prometheus' format, behind a token; redirects, refusals and latency counted."""

from __future__ import annotations

import re

import pytest

from shortener.app import create_app
from tests.conftest import DOMAINS, TEST_ENVIRON, tracked

HOST = {"Host": DOMAINS[0]}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(f"{name}{{{label_text}}}" if labels else name) + r" ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else 0.0


def scrape(client, auth) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/metrics", headers=auth)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_metrics_need_a_key_or_the_metrics_token(client, settings_overrides, redis_client):
    assert client.get("/metrics", headers=HOST).status_code == 401
    wrong = client.get("/metrics", headers={**HOST, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.mimetype == "application/problem+json"
    app = tracked(
        create_app({**settings_overrides, "metrics_token": "scrape-me"}, environ=TEST_ENVIRON)
    )
    token = {**HOST, "Authorization": "Bearer scrape-me"}
    assert app.test_client().get("/metrics", headers=token).status_code == 200


def test_redirects_are_counted_by_status_and_timed(client, auth, create_link):
    link = create_link()
    before = scrape(client, auth)
    for _ in range(3):
        assert client.get(f"/{link['code']}", headers=HOST).status_code == 302
    assert client.get("/nosuchcode", headers=HOST).status_code == 404
    after = scrape(client, auth)
    assert (
        sample(after, "lumen_redirects_total", status="302")
        - sample(before, "lumen_redirects_total", status="302")
        == 3
    )
    assert (
        sample(after, "lumen_redirects_total", status="404")
        - sample(before, "lumen_redirects_total", status="404")
        == 1
    )
    timed = "lumen_request_duration_seconds_count"
    assert sample(after, timed, route="redirect") - sample(before, timed, route="redirect") == 4


@pytest.mark.parametrize(
    ("send", "status"),
    [
        (lambda c: c.post("/api/v1/links", data=b"x" * 70_000, headers=HOST), "413"),
        (lambda c: c.get("/api/v1/links?q=" + "x" * 5000, headers=HOST), "414"),
    ],
    ids=["body", "uri"],
)
def test_refused_requests_are_counted(client, auth, send, status):
    before = sample(scrape(client, auth), "lumen_requests_refused_total", status=status)
    send(client)
    after = sample(scrape(client, auth), "lumen_requests_refused_total", status=status)
    assert after - before == 1


def test_every_metric_the_recording_path_needs_is_exported(client, auth):
    text = scrape(client, auth)
    for name in (
        "lumen_hits_recorded_total",
        "lumen_hits_buffered_total",
        "lumen_hits_dropped_total",
        "lumen_hits_waiting",
        "lumen_redis_errors_total",
        "lumen_redis_duration_seconds",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name


def test_redis_errors_are_counted_by_class(client, auth, settings_overrides, tmp_path):
    down = tracked(
        create_app(
            {**settings_overrides, "redis_url": f"unix://{tmp_path}/no-redis.sock"},
            environ=TEST_ENVIRON,
        )
    )
    before = sample(scrape(client, auth), "lumen_redis_errors_total", error="ConnectionError")
    assert down.test_client().get("/abc123", headers=HOST).status_code == 503
    after = sample(scrape(client, auth), "lumen_redis_errors_total", error="ConnectionError")
    assert after - before == 1
