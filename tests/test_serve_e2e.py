"""End to end: `python -m shortener serve` under gunicorn, followed over real HTTP."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response, payload


@pytest.fixture
def served(tmp_path):
    """Lumen served by gunicorn on a free port with its own embedded Redis."""
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="lumen-e2e-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LUMEN_DOMAINS", "LUMEN_DEFAULT_DOMAIN")}
    env.update({"LUMEN_DATA_DIR": str(data_dir), "PORT": str(port), "LUMEN_WORKERS": "2"})
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "shortener", "serve"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            if request(port, "GET", "/healthz")[0].status == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError((tmp_path / "serve.log").read_text())
        time.sleep(0.1)
    yield port, data_dir, tmp_path / "serve.log"
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    log.close()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_serve_creates_a_link_and_follows_it_over_http(served):
    port, data_dir, log_path = served
    log = log_path.read_text()
    key = next(line.strip() for line in log.splitlines() if line.strip().startswith("lum_"))
    assert f"curl -s -X POST http://localhost:{port}/api/v1/links" in log
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Host": f"localhost:{port}"}
    response, payload = request(port, "POST", "/api/v1/links", {"url": "https://example.com/e2e"}, headers)
    assert response.status == 201, payload
    link = json.loads(payload)
    assert link["short_url"] == f"http://localhost:{port}/{link['code']}"

    response, _ = request(port, "GET", f"/{link['code']}", headers={"Host": f"localhost:{port}", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
    assert response.status == 302
    assert response.getheader("Location") == "https://example.com/e2e"

    response, payload = request(port, "GET", f"/api/v1/links/{link['id']}", headers=headers)
    assert json.loads(payload)["clicks"] == {"total": 1, "human": 1}
    assert (data_dir / "appendonly.aof").exists()
