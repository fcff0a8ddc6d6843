"""Upgrading a standalone installation recorded by the old key scheme: same figures afterwards.

tests/data/standalone_v1.json holds every key of an installation filled by Lumen's key scheme 1
(commit 8d6eddd: `tests/data/make_standalone_v1.py` ran fill_demo there) and the figures that code
read from it. The keys are restored as they were, migrated, and read by today's code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from shortener.figures import DayRange, load_stats
from shortener.hits.reading import iter_hits
from shortener.links import Link, LinkStore
from shortener.migration import migrate
from shortener.store import Keys
from tests.conftest import process_environ

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = json.loads((ROOT / "tests" / "data" / "standalone_v1.json").read_text())


@pytest.fixture
def old_installation(redis_client):  # type: ignore[no-untyped-def]
    """The scheme-1 installation's keys, restored byte for byte."""
    for key, payload in SNAPSHOT["keys"].items():
        redis_client.restore(key, 0, bytes.fromhex(payload))
    assert redis_client.exists("lumen:hits") and not redis_client.exists("lumen:schema")
    return redis_client


def figures(r, keys: Keys, link: Link | None = None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    first, last = (date.fromisoformat(day) for day in SNAPSHOT["expected"]["range"])
    return load_stats(r, keys, DayRange(first, last), None if link is None else [link]).as_json()


def comparable(value: object, shape: object) -> object:
    """`value` with only the fields `shape` (the old code's figures) has: newer fields, such as the
    share cascade, are left out, and so are a channel's category and darkness, which are read from
    today's rule tables, changed since (QR codes are `offline` now)."""
    if isinstance(value, dict) and isinstance(shape, dict):
        dropped = {"category", "dark"} if {"channel", "clicks"} <= shape.keys() else set()
        return {k: comparable(value.get(k), shape[k]) for k in shape if k not in dropped}
    if isinstance(value, list) and isinstance(shape, list):
        return [comparable(v, sh) for v, sh in zip(value, shape, strict=False)] + value[
            len(shape) :
        ]
    return value


def same_figures(new: dict[str, object], old: dict[str, object]) -> bool:
    return comparable(new, old) == comparable(old, old)


def test_migrated_installation_reads_the_same_figures_and_hits(old_installation, keys):
    r = old_installation
    expected = SNAPSHOT["expected"]
    done = migrate(r, keys)
    assert (done.from_version, done.to_version) == (1, 2)
    assert done.hits_moved == len(expected["instance_hits"]) > 0
    assert not r.exists("lumen:hits")
    assert same_figures(figures(r, keys), expected["instance"])
    links = LinkStore(r, keys, None, ("go.test",), "go.test")  # type: ignore[arg-type]
    for link_id, stats in expected["links"].items():
        assert same_figures(figures(r, keys, links.get(int(link_id))), stats)
    hits = [[hit.time_ms, hit.fields] for hit in iter_hits(r, keys, 0, 2**62)]
    assert hits == expected["instance_hits"]
    # Read again (the closed days are compacted by now), and migrate again: nothing changes.
    assert same_figures(figures(r, keys), expected["instance"])
    assert migrate(r, keys).hits_moved == 0
    assert same_figures(figures(r, keys), expected["instance"])


def test_the_old_stream_is_merged_with_hits_the_new_code_already_wrote(old_installation, keys):
    r = old_installation
    old_ids = [entry_id for entry_id, _ in r.xrange("lumen:hits")]
    r.xadd(keys.all_hits(), {"link": "1", "kind": "bot"}, id="1-1")  # a late hit, very old
    migrate(r, keys)
    ids = [entry_id for entry_id, _ in r.xrange(keys.all_hits())]
    assert ids == ["1-1", *old_ids]


def test_migrate_command(old_installation, redis_url, tmp_path):
    env = process_environ(REDIS_URL=redis_url, LUMEN_DATA_DIR=str(tmp_path))
    command = [sys.executable, "-m", "shortener", "migrate"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    moved = len(SNAPSHOT["expected"]["instance_hits"])
    assert f"from scheme version 1 to 2: {moved:,} raw hits moved" in first.stdout
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "nothing to do" in again.stdout
    assert old_installation.get("lumen:schema") == "2"
