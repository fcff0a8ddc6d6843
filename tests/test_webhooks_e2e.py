"""End to end: the gunicorn workers' own consumers deliver webhooks, each event once."""

from __future__ import annotations

import json
import time

from tests.conftest import served_lumen
from tests.routes.test_webhooks import Receiver
from tests.test_serve_e2e import request

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_served_workers_deliver_link_events_and_clicks_once(tmp_path):
    receiver = Receiver()
    try:
        with served_lumen(
            ["-m", "shortener", "serve"],
            2,
            tmp_path / "serve.log",
            {"LUMEN_WEBHOOK_ALLOW_PRIVATE": "1"},
        ) as (port, _):
            log = (tmp_path / "serve.log").read_text()
            key = next(line.strip() for line in log.splitlines() if line.strip().startswith("lum_"))
            headers = {
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
                "Host": f"localhost:{port}",
            }
            response, payload = request(
                port,
                "POST",
                "/api/v1/webhooks",
                {"url": receiver.url, "events": ["link.created", "click"]},
                headers,
            )
            assert response.status == 201, payload
            time.sleep(1.5)  # both workers' consumers have joined the group (they block 0.5 s)
            _, payload = request(
                port, "POST", "/api/v1/links", {"url": "https://example.com/e2e"}, headers
            )
            code = json.loads(payload)["code"]
            for _ in range(3):
                request(
                    port,
                    "GET",
                    f"/{code}",
                    headers={"Host": f"localhost:{port}", "User-Agent": FIREFOX},
                )
            deadline = time.monotonic() + 15
            while len(receiver.received) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1)  # long enough for a duplicate to show up, if there were one
            events = sorted(json.loads(body)["event"] for _, body in receiver.received)
            assert events == ["click", "click", "click", "link.created"]
    finally:
        receiver.close()
