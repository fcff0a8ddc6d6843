"""gunicorn.conf.py: the production server's hooks, checked on a real gunicorn with gevent
workers."""

from __future__ import annotations

import selectors
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT, process_environ, served_lumen

PIPELINED = 1000
ANSWER = b'"status":"ok"'  # the end of one answer to GET /healthz


@pytest.fixture
def one_worker(tmp_path):
    """Lumen under gunicorn.conf.py with a single gevent worker; yields its port."""
    with served_lumen(
        ["-m", "gunicorn", "--config", "gunicorn.conf.py"], 1, tmp_path / "gunicorn.log"
    ) as (port, _):
        yield port


def health_request() -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"


def read_answers(connection: socket.socket, count: int) -> bytes:
    """Read until `count` complete answers to health_request() have arrived."""
    received = b""
    while received.count(ANSWER) < count:
        chunk = connection.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed after {received.count(ANSWER)} answers")
        received += chunk
    return received


def test_a_busy_keep_alive_connection_does_not_starve_the_others(one_worker):
    busy = socket.create_connection(("127.0.0.1", one_worker), timeout=10)
    other = socket.create_connection(("127.0.0.1", one_worker), timeout=10)
    for connection in (busy, other):  # both accepted, each with its greenlet waiting for a request
        connection.sendall(health_request())
        read_answers(connection, 1)

    busy.sendall(health_request() * PIPELINED)  # all queued at once: its greenlet never has to wait
    received = {busy: read_answers(busy, 1), other: b""}  # its greenlet is running through them
    other.sendall(health_request())
    with selectors.DefaultSelector() as selector:
        selector.register(busy, selectors.EVENT_READ)
        selector.register(other, selectors.EVENT_READ)
        while ANSWER not in received[other]:
            ready = selector.select(timeout=10)
            assert ready, "no answer for 10 s"
            for key, _ in ready:
                received[key.fileobj] += key.fileobj.recv(65536)
    # Loopback delivers as the server sends: whatever it sent to `busy` before answering `other`
    # is in `busy`'s buffer now.
    busy.setblocking(False)
    try:
        while chunk := busy.recv(65536):
            received[busy] += chunk
    except BlockingIOError:
        pass
    answered_before_other = received[busy].count(ANSWER)
    busy.close()
    other.close()

    # Without the yield after each request, the busy connection is served to the end first.
    assert answered_before_other < PIPELINED / 2


def test_worker_init_freezes_the_objects_loading_made_and_listens_for_edits():
    # In a child process: gunicorn.conf.py monkey-patches with gevent first thing, as gunicorn's
    # master must, and that must not happen to the test process.
    check = (
        "import gc, runpy, types\n"
        f"hooks = runpy.run_path({str(ROOT / 'gunicorn.conf.py')!r})\n"
        "before = gc.get_freeze_count()\n"
        "hooks['post_worker_init'](None)\n"
        "frozen = gc.get_freeze_count() > before\n"
        "started = []\n"
        "events = types.SimpleNamespace(start=lambda: started.append(1))\n"
        "ctx = types.SimpleNamespace(cache_events=events)\n"
        "app = types.SimpleNamespace(extensions={'lumen': ctx})\n"
        "hooks['post_worker_init'](types.SimpleNamespace(wsgi=app))\n"
        "print(frozen, started == [1])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", check],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=process_environ(LUMEN_WEBHOOKS_IN_WORKERS="0"),  # the fake app has no Redis
    )
    assert run.stdout.strip() == "True True", run.stderr


WORKER_EXIT_SCENARIO = """
import runpy, sys, types
from shortener.app import create_app
from shortener.hits.buffer import PendingHit
from shortener.redirect import hit_from_environ
hooks = runpy.run_path("gunicorn.conf.py")
app = create_app({"redis_url": sys.argv[1], "data_dir": sys.argv[2], "secret_key": "s",
                  "domains": ("go.test",)}, environ={})
ctx = app.extensions["lumen"]
link = ctx.links.create({"url": "https://example.com/kept"})
ref = ctx.links.resolve("go.test", link.code)
for n in range(3):  # as if answered from memory while Redis failed (no write-back loop running)
    environ = {"HTTP_HOST": "go.test", "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) "
               "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
               "REMOTE_ADDR": f"192.0.2.{n}"}
    ctx.buffer.add(PendingHit(ref, hit_from_environ(environ, link.code, "s"), replay=False))
hooks["worker_exit"](None, types.SimpleNamespace(wsgi=app))
from shortener.hits.instance import read_instance_days
from shortener.hits.recording import day_of
from shortener.links import now_ms
[today] = read_instance_days(ctx.redis, ctx.keys, [day_of(now_ms())], now_ms())
print(len(ctx.buffer), ctx.redis.hget(ctx.keys.link(link.id), "human"), len(ctx.tally),
      today.fields["k:human"])
"""


def test_worker_exit_writes_the_buffered_hits_back(redis_server, redis_client, tmp_path):
    """gunicorn calls worker_exit on SIGTERM: the worker's buffered hits reach Redis first, and
    its tallied instance-wide counts with them."""
    out = subprocess.run(
        [sys.executable, "-c", WORKER_EXIT_SCENARIO, redis_server.url, str(tmp_path / "data")],
        cwd=ROOT,
        env=process_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "3", "0", "3"]
