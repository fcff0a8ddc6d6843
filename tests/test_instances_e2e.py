"""Two Lumen instances (gunicorn, gevent workers) sharing nothing but a real Redis Cluster."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shortener.apikeys import create_api_key
from shortener.store import Keys
from tests.agents import CHROME
from tests.conftest import served_lumen

DOMAIN = "go.test"
CLICKS_EACH = 60


def request(port: int, method: str, path: str, body=None, headers=None):  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = json.dumps(body) if body is not None else None
        connection.request(method, path, body=payload, headers={"Host": DOMAIN, **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("backend", ["cluster"], indirect=True)
def test_two_instances_share_links_edits_and_counts(redis_client, redis_url, tmp_path):
    key = create_api_key(redis_client, Keys(), "tester", 1)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    env = {
        "REDIS_URL": redis_url,
        "SECRET_KEY": "shared-secret",
        "LUMEN_DOMAINS": DOMAIN,
    }
    command = ["-m", "shortener", "serve"]
    with (
        served_lumen(command, 1, tmp_path / "a.log", env) as (port_a, _),
        served_lumen(command, 1, tmp_path / "b.log", env) as (port_b, _),
    ):
        status, _, body = request(
            port_a, "POST", "/api/v1/links", {"url": "https://one.com/"}, auth
        )
        assert status == 201, body
        link = json.loads(body)
        path = f"/{link['code']}"
        # Created through A, it redirects through B.
        status, headers, _ = request(port_b, "GET", path, headers={"User-Agent": CHROME})
        assert (status, headers["Location"]) == (302, "https://one.com/")

        # Edited through A, B serves the new target within a second.
        patch = {"url": "https://two.com/"}
        assert request(port_a, "PATCH", f"/api/v1/links/{link['id']}", patch, auth)[0] == 200
        started = time.monotonic()
        while request(port_b, "HEAD", path)[1]["Location"] != "https://two.com/":  # not counted
            assert time.monotonic() - started < 1.0
            time.sleep(0.02)

        # Clicks through both, at once, add up exactly.
        def click(port: int) -> int:
            return request(port, "GET", path, headers={"User-Agent": CHROME})[0]

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(click, [port_a, port_b] * CLICKS_EACH))
        assert answers == [302] * (2 * CLICKS_EACH)
        status, _, body = request(port_b, "GET", f"/api/v1/links/{link['id']}", headers=auth)
        assert json.loads(body)["clicks"]["human"] == 1 + 2 * CLICKS_EACH
        # The instance-wide totals: each worker writes its tally once a second.
        deadline = time.monotonic() + 10  # a bound on waiting, not a speed target
        while True:
            status, _, body = request(port_a, "GET", "/api/v1/stats", headers=auth)
            human = json.loads(body)["totals"]["human"]
            if human == 1 + 2 * CLICKS_EACH or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert human == 1 + 2 * CLICKS_EACH
        time.sleep(1.5)  # and nothing more arrives later: counted once
        status, _, body = request(port_a, "GET", "/api/v1/stats", headers=auth)
        assert json.loads(body)["totals"]["human"] == 1 + 2 * CLICKS_EACH
