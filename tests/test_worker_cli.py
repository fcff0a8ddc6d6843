"""`python -m shortener worker`: a consumer process of its own delivers webhooks until stopped."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from shortener.webhooks import GROUP, create_webhook
from tests.conftest import ROOT, process_environ
from tests.routes.test_webhooks import Receiver


def test_the_worker_command_delivers_and_stops_on_sigterm(
    app, redis_server, redis_client, tmp_path
):
    ctx = app.extensions["lumen"]
    receiver = Receiver()
    env = process_environ(
        REDIS_URL=redis_server.url,
        LUMEN_DATA_DIR=str(tmp_path),
        SECRET_KEY="worker-test",
        LUMEN_DOMAINS="go.test",
        LUMEN_WEBHOOK_ALLOW_PRIVATE="1",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "shortener", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        create_webhook(
            ctx.redis, ctx.keys, {"url": receiver.url, "events": ["link.created"]}, 1, True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _group_exists(
            redis_client, ctx.keys.link_events()
        ):
            time.sleep(0.05)
        link = ctx.links.create({"url": "https://example.com/worker"})
        while time.monotonic() < deadline and not receiver.received:
            time.sleep(0.05)
        assert [json.loads(body)["data"]["id"] for _, body in receiver.received] == [link.id]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
        assert "Delivering webhooks" in worker.stdout.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        receiver.close()


def _group_exists(redis_client, stream: str) -> bool:  # type: ignore[no-untyped-def]
    if not redis_client.exists(stream):
        return False
    return any(group["name"] == GROUP for group in redis_client.xinfo_groups(stream))
