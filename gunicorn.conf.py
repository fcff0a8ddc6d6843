"""Gunicorn settings for Lumen (used by `make run`, `python -m shortener serve` and the Dockerfile).

gevent workers, one per core: the redirect is short and waits on Redis, and gevent's greenlets
switch more cheaply than gthread's OS threads, which fight over the GIL. Measured against gthread
(2 x 8 threads) and sync (4 workers) in docs/PERFORMANCE.md.
"""

# Patch first, before anything below imports redis (which imports redis.asyncio and with it
# direct references to ssl.SSLContext) or tldextract (urllib3): each gevent worker patches itself
# after the fork, too late for the modules this master imported, so gevent warned at every worker
# start ("MonkeyPatchWarning: Monkey-patching ssl after ssl has already been imported") and those
# references stayed unpatched. Patched here, the workers inherit patched modules; their own
# patch_all() with the same (default) arguments is then a no-op.
from gevent import monkey as _monkey

_monkey.patch_all()

import gc as _gc  # noqa: E402
import os as _os  # noqa: E402
import shutil as _shutil  # noqa: E402
import threading as _threading  # noqa: E402

from gevent import sleep as _gevent_sleep  # noqa: E402
from gunicorn.workers.ggevent import GeventWorker as _GeventWorker  # noqa: E402

# Every public module-level name here is read as a gunicorn setting ("config" is one): keep
# imports private.
from config import from_env as _from_env  # noqa: E402
from shortener.boot import first_admin_key as _first_admin_key  # noqa: E402
from shortener.boot import forget_serving as _forget_serving  # noqa: E402
from shortener.boot import record_serving as _record_serving  # noqa: E402
from shortener.boot import start_redis as _start_redis  # noqa: E402
from shortener.boot import welcome_text as _welcome_text  # noqa: E402
from shortener.context import webhook_consumer as _webhook_consumer  # noqa: E402
from shortener.store import Keys as _Keys  # noqa: E402
from shortener.store import connect as _connect  # noqa: E402

_settings = _from_env(_os.environ)

wsgi_app = "wsgi:app"
bind = [f"127.0.0.1:{_settings.port}"]
workers = _settings.workers
worker_class = "gevent"
worker_connections = _settings.worker_connections
keepalive = 5
errorlog = "-"
loglevel = "info"
control_socket_disable = True
# X-Forwarded-Proto and the other forwarded headers are trusted by Werkzeug's ProxyFix alone, for
# LUMEN_TRUSTED_PROXIES hops (the app factory): gunicorn's own default trusts them from 127.0.0.1,
# so any local client could claim HTTPS with LUMEN_TRUSTED_PROXIES=0.
forwarded_allow_ips = ""
if _settings.log_format == "json":
    logger_class = "shortener.logs.JsonLogger"
# Each worker writes its metrics under the data dir; /metrics merges them (prometheus-client's
# multiprocess mode). Emptied at every start so a past run's counters do not come back.
_metrics_dir = _os.path.join(_os.path.abspath(_settings.data_dir), "metrics")

_embedded = None


def on_starting(server: object) -> None:
    """In the master, before workers fork: start the embedded Redis and show the first key."""
    global _embedded
    _shutil.rmtree(_metrics_dir, ignore_errors=True)
    _os.makedirs(_metrics_dir, mode=0o700)
    _os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
    url, _embedded = _start_redis(_settings)
    if _embedded is not None:
        _embedded.supervise()  # brought back within a second if it dies, its data reloaded
    _os.environ["REDIS_URL"] = url
    _record_serving(_settings)
    client = _connect(url, _settings.redis_timeout)
    key = _first_admin_key(client, _Keys(_settings.key_prefix))
    client.close()
    if key:
        print(_welcome_text(key, _settings.primary_domain), flush=True)


def post_worker_init(worker: object) -> None:
    """Freeze what loading the app made (rule tables, parsers, Flask) out of the garbage collector.

    Those ~80,000 objects live as long as the worker, yet every full collection walked them: a
    60 ms pause of every request in the worker, a few times a minute under load (measured with
    gc.callbacks: docs/PERFORMANCE.md).

    Then start listening for other instances' link edits (shortener.cache_events).
    """
    _gc.freeze()
    # The Lumen app this worker loaded (None for another app served with this file: the bench's
    # baselines).
    ctx = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("lumen")
    if ctx is not None:
        ctx.cache_events.start()
    if _settings.webhooks_in_workers and ctx is not None:
        # The webhook consumer runs beside the requests, as a greenlet under gevent; the consumer
        # group hands each event to one worker only.
        consumer = _webhook_consumer(ctx)
        _threading.Thread(
            target=consumer.run_forever, args=(_threading.Event(),), daemon=True
        ).start()


def post_request(worker: object, req: object, environ: object, resp: object) -> None:
    """Under gevent, let the worker's other connections run before this one's next request.

    A greenlet only yields when it waits, and a keep-alive client (a benchmark, or a proxy that
    funnels many visitors through a few connections) often has its next request ready before the
    answer to the last one is fully sent: without this yield one connection is served back to back
    while the others wait, up to a second (p99 measured: docs/PERFORMANCE.md).
    """
    if isinstance(worker, _GeventWorker):
        _gevent_sleep(0)


def child_exit(server: object, worker: object) -> None:
    """A worker ended: its live gauges stop counting (its counters stay, as Prometheus expects)."""
    # Imported here, not above: prometheus-client picks its multiprocess mode when first imported,
    # which must come after on_starting has set PROMETHEUS_MULTIPROC_DIR.
    from shortener.metrics import mark_worker_dead

    mark_worker_dead(_metrics_dir, getattr(worker, "pid", 0))


def on_exit(server: object) -> None:
    """Stop the embedded Redis this master started, and forget the port it served."""
    _forget_serving(_settings)
    if _embedded is not None:
        _embedded.stop()


def worker_exit(server: object, worker: object) -> None:
    """On SIGTERM (or any exit), write the hits this worker buffered while Redis failed and the
    instance-wide counts it tallied; what cannot be written stays in its spool files for the next
    worker."""
    from shortener.redirect import write_back_at_exit  # imported in the worker, after patching

    ctx = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("lumen")
    if ctx is not None:
        write_back_at_exit(ctx)
