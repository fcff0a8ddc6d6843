"""Link passwords: salted scrypt hashes, and a gevent worker keeps serving while one is checked."""

from __future__ import annotations

import subprocess
import sys

from shortener.passwords import hash_password, password_matches
from tests.conftest import ROOT

UNDER_GEVENT = """
from gevent import monkey
monkey.patch_all()
import gevent
from shortener.passwords import hash_password

ticks = []
def tick():
    while True:
        ticks.append(1)
        gevent.sleep(0.001)

ticker = gevent.spawn(tick)
gevent.sleep(0.01)
before = len(ticks)
hash_password("open sesame")
print(len(ticks) - before)
"""


def test_hashes_are_salted_and_check_only_the_right_password() -> None:
    first, second = hash_password("open sesame"), hash_password("open sesame")
    assert first != second and "open sesame" not in first
    assert password_matches(first, "open sesame") and password_matches(second, "open sesame")
    assert not password_matches(first, "open sesame ")
    assert not password_matches("scrypt$1$2$3$zz$zz", "x")


def test_a_gevent_worker_keeps_running_other_greenlets_while_hashing() -> None:
    run = subprocess.run(
        [sys.executable, "-c", UNDER_GEVENT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(run.stdout) > 0  # the ticker ran while scrypt did (blocking, it could not)
