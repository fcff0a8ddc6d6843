"""Writes tests/data/standalone_v1.json: an installation recorded by Lumen's standalone key scheme
(version 1, commit 8d6eddd on main: one `lumen:hits` stream, unsharded `{g}` aggregates), with the
figures that code read from it. tests/test_migration.py restores it, migrates it and reads it back.

Run from a checkout of that commit: python tests/data/make_standalone_v1.py OUT.json
(needs the repository's venv; starts its own redis-server).
"""

import json
import sys
import tempfile
from datetime import timedelta

import redis

from config import Settings
from shortener.context import build_context
from shortener.demo import fill_demo
from shortener.embedded_redis import EmbeddedRedis
from shortener.figures import DayRange, load_stats, today_of
from shortener.hits.reading import iter_hits
from shortener.links import now_ms


def main(out_path: str) -> None:
    """Fill an installation with the old code, and write its keys and figures to `out_path`."""
    server = EmbeddedRedis(tempfile.mkdtemp(prefix="lumen-v1-"))
    server.ensure_running()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    settings = Settings(
        redis_url=server.url, data_dir=tempfile.mkdtemp(), secret_key="v1", domains=("go.test",)
    )
    ctx = build_context(settings, client)
    fill_demo(ctx, days=4, scale=0.15)
    today = today_of(now_ms())
    days = DayRange(today - timedelta(days=4), today)
    links = [
        ctx.links.get(i)
        for i in range(1, int(client.get("lumen:seq")) + 1)
        if client.exists(f"lumen:{{l:{i}}}")
    ]
    expected = {
        "range": [days.first.isoformat(), days.last.isoformat()],
        "instance": load_stats(client, ctx.keys, days).as_json(),
        "links": {
            str(link.id): load_stats(client, ctx.keys, days, [link]).as_json() for link in links
        },
        "instance_hits": [
            [hit.time_ms, hit.fields] for hit in iter_hits(client, ctx.keys, 0, 2**62)
        ],
    }
    raw = redis.Redis.from_url(server.url)
    dump = {key.decode(): raw.dump(key).hex() for key in raw.keys("*")}
    with open(out_path, "w") as out:
        json.dump({"keys": dump, "expected": expected}, out, sort_keys=True)
    server.stop()
    print(f"{len(dump)} keys, {expected['instance']['totals']['hits']} hits")


if __name__ == "__main__":
    main(sys.argv[1])
