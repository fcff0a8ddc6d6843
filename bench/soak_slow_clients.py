"""`make soak`: 2,000 slow-body clients against `python -m shortener serve` (issue 13, failure 2).

Each client sends a login form's headers, then one body byte every 5 s, and reconnects when cut
off; meanwhile /healthz and a redirect are asked every second. Prints how many health checks and
redirects were answered (and their worst wait) and how many slow bodies were cut. Not part of
`make test` (it takes about a minute and 2,000 sockets); the e2e test runs 300 such clients.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import served_lumen
from tests.slow_clients import SlowClients

CLIENTS = 2000
SECONDS = 60.0


def ask(port: int, path: str) -> tuple[int, float]:
    """Status of GET `path` (0 when it did not answer within 30 s) and the wait in seconds."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return status, time.monotonic() - started


def main() -> int:
    log = Path("/tmp/lumen-soak-serve.log")
    with served_lumen(["-m", "shortener", "serve"], 2, log) as (port, _):
        attack = SlowClients(port, CLIENTS, SECONDS, byte_every=5.0)
        attack.thread.start()
        checks: list[tuple[int, float]] = []
        while attack.thread.is_alive():
            checks.append(ask(port, "/healthz"))
            checks.append(ask(port, "/nosuchcode"))  # the redirect path (an orphan: 404)
            time.sleep(1)
    answered = [wait for status, wait in checks if status in (200, 404)]
    figures = {
        "slow_clients": CLIENTS,
        "seconds": SECONDS,
        "checks": len(checks),
        "checks_answered": len(answered),
        "worst_wait_s": round(max(answered, default=0.0), 2),
        "slow_bodies_cut": attack.cut,
        "answered_408": attack.answers.count(408),
    }
    print(
        f"{len(answered)}/{len(checks)} health checks and redirects answered during "
        f"{SECONDS:.0f} s of {CLIENTS} slow clients (worst wait {figures['worst_wait_s']} s); "
        f"{attack.cut} slow bodies cut, {figures['answered_408']} answered 408"
    )
    print(json.dumps(figures))
    return 0 if len(answered) == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
