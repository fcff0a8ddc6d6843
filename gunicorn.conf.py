"""Gunicorn settings for Lumen (used by `make run`, `python -m shortener serve` and the Dockerfile).

gthread workers: the redirect is short and waits on Redis, so a few threads per process keep both
cores busy while requests wait (see docs/PERFORMANCE.md for the measurements behind the numbers).
"""

import os

import config
from shortener.boot import first_admin_key, start_redis, welcome_text
from shortener.store import Keys, connect

_settings = config.from_env(os.environ)

wsgi_app = "wsgi:app"
bind = [f"127.0.0.1:{_settings.port}"]
workers = _settings.workers
worker_class = "gthread"
threads = _settings.threads
keepalive = 5
errorlog = "-"
loglevel = "info"
control_socket_disable = True

_embedded = None


def on_starting(server):
    """In the master, before workers fork: start the embedded Redis and show the first key."""
    global _embedded
    url, _embedded = start_redis(_settings)
    os.environ["REDIS_URL"] = url
    client = connect(url)
    key = first_admin_key(client, Keys(_settings.key_prefix))
    client.close()
    if key:
        print(welcome_text(key, _settings.primary_domain), flush=True)


def on_exit(server):
    """Stop the embedded Redis this master started."""
    if _embedded is not None:
        _embedded.stop()
