"""End to end: `python -m shortener serve` under gunicorn, followed over real HTTP."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.conftest import served_lumen


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None
):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        method, path, body=json.dumps(body) if body is not None else None, headers=headers or {}
    )
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


@pytest.fixture
def served(tmp_path):
    """Lumen served by `python -m shortener serve` (gunicorn) with its own embedded Redis."""
    log_path = tmp_path / "serve.log"
    with served_lumen(["-m", "shortener", "serve"], 2, log_path) as (port, data_dir):
        yield port, data_dir, log_path


def test_serve_creates_a_link_and_follows_it_over_http(served):
    port, data_dir, log_path = served
    log = log_path.read_text()
    key = next(line.strip() for line in log.splitlines() if line.strip().startswith("lum_"))
    assert f"curl -s -X POST http://localhost:{port}/api/v1/links" in log
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Host": f"localhost:{port}",
    }
    response, payload = request(
        port, "POST", "/api/v1/links", {"url": "https://example.com/e2e"}, headers
    )
    assert response.status == 201, payload
    link = json.loads(payload)
    assert link["short_url"] == f"http://localhost:{port}/{link['code']}"

    response, _ = request(
        port,
        "GET",
        f"/{link['code']}",
        headers={
            "Host": f"localhost:{port}",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        },
    )
    assert response.status == 302
    assert response.getheader("Location") == "https://example.com/e2e"

    response, payload = request(port, "GET", f"/api/v1/links/{link['id']}", headers=headers)
    assert json.loads(payload)["clicks"] == {"total": 1, "human": 1}
    assert (data_dir / "appendonly.aof").exists()
