"""End to end under gunicorn: slow bodies cut off, metrics merged over workers, JSON logs, no
trusted X-Forwarded-Proto, no MonkeyPatchWarning (issue 13)."""

from __future__ import annotations

import http.client
import json
import re
import time

import pytest

from tests.conftest import served_lumen
from tests.slow_clients import SlowClients

SLOW_CLIENTS = 300


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def served_json(tmp_path_factory):
    """Two gevent workers, JSON logs."""
    log_path = tmp_path_factory.mktemp("served") / "serve.log"
    env = {"LUMEN_LOG_FORMAT": "json"}
    with served_lumen(["-m", "shortener", "serve"], 2, log_path, env) as (port, _):
        log = log_path.read_text()
        key = next(line.strip() for line in log.splitlines() if line.strip().startswith("lum_"))
        yield port, key, log_path


def test_workers_start_without_a_monkey_patch_warning(served_json):
    _, _, log_path = served_json
    log = log_path.read_text()
    assert log.count("Booting worker") == 2
    assert "MonkeyPatchWarning" not in log


def test_json_logs_are_one_object_per_line(served_json):
    _, _, log_path = served_json
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line[:1] == "{"]
    assert sum("Booting worker" in record["message"] for record in records) == 2
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)


def test_x_forwarded_proto_from_localhost_is_not_trusted(served_json):
    port, _, _ = served_json
    response, _ = get(port, "/dashboard/login", {"X-Forwarded-Proto": "https"})
    assert response.status == 200
    cookie = response.getheader("Set-Cookie")
    assert cookie and "session=" in cookie
    assert "Secure" not in cookie  # the request came over plain HTTP, whatever the header says


def test_metrics_are_merged_over_the_workers(served_json):
    port, key, _ = served_json
    auth = {"Authorization": f"Bearer {key}"}

    def orphans() -> float:
        response, body = get(port, "/metrics", auth)
        assert response.status == 200
        match = re.search(r'^lumen_redirects_total\{status="404"\} ([0-9.]+)$', body.decode(), re.M)
        return float(match.group(1)) if match else 0.0

    before = orphans()
    for n in range(40):  # new connections each: both workers take some of them
        response, _ = get(port, f"/nosuch{n}")
        assert response.status == 404
    assert orphans() - before == 40  # whichever worker answers /metrics counts all 40


def test_slow_bodies_are_cut_off_and_health_checks_keep_answering(tmp_path):
    env = {"LUMEN_WORKER_CONNECTIONS": "100", "LUMEN_BODY_TIMEOUT_SECONDS": "1"}
    with served_lumen(["-m", "shortener", "serve"], 1, tmp_path / "serve.log", env) as (port, _):
        attack = SlowClients(port, SLOW_CLIENTS, seconds=14)
        attack.thread.start()
        time.sleep(2)  # every connection slot is taken by a slow client by now
        answered = []
        for _ in range(3):
            response, _ = get(port, "/healthz", timeout=8)
            answered.append(response.status)
        attack.thread.join()
    assert answered == [200, 200, 200]
    assert attack.answers.count(408) >= SLOW_CLIENTS  # every slow body was cut off
