"""Stats reading cost: it must follow the days and links asked for, never the number of hits.

A throwaway embedded Redis gets the 90-day demo history (`python -m shortener demo`, recorded
through the real attribution and recording code); then `load_stats` is timed for the whole
instance over 7, 30 and 90 days, for one link, and for a tag. The database is then emptied and
the same seven links get three times the traffic (`scale=3`), and the same reads are timed again:
with three times the hits, the time should stay about the same (`stats_90d_ratio_3x_hits` near 1). Times are medians of repeated runs, in milliseconds, on a
noisy shared machine: compare the ratios, not the absolute figures across machines.

Run: .venv/bin/python bench/bench_stats.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import Settings  # noqa: E402
from shortener.demo import fill_demo  # noqa: E402
from shortener.embedded_redis import EmbeddedRedis  # noqa: E402
from shortener.links import now_ms  # noqa: E402
from shortener.services import Services, build_services  # noqa: E402
from shortener.stats import last_days, load_stats, select_links, stats_for, today_of  # noqa: E402
from shortener.store import connect  # noqa: E402


def median_ms(read: Callable[[], object], repeat: int) -> float:
    """The median wall time of `read`, in ms, after one warm-up call."""
    read()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def reads(services: Services, repeat: int) -> dict[str, float]:
    """Median times of the dashboard's usual reads."""
    today = today_of(now_ms())
    r, keys = services.redis, services.keys
    first = select_links(services.links, tag="campaign")[0]
    return {
        "instance_7d": median_ms(lambda: load_stats(r, keys, last_days(7, today)), repeat),
        "instance_30d": median_ms(lambda: load_stats(r, keys, last_days(30, today)), repeat),
        "instance_90d": median_ms(lambda: load_stats(r, keys, last_days(90, today)), repeat),
        "link_90d": median_ms(lambda: stats_for(services.links, last_days(90, today), link=first), repeat),
        "tag_90d": median_ms(lambda: stats_for(services.links, last_days(90, today), tag="campaign"), repeat),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lumen-bench-stats-"))
    server = EmbeddedRedis(str(workdir))
    server.ensure_running()
    client = connect(server.url)
    try:
        settings = Settings(secret_key="bench", redis_url=server.url, data_dir=str(workdir))
        services = build_services(settings, client)
        started = time.perf_counter()
        demo = fill_demo(services)
        demo_seconds = time.perf_counter() - started
        print(f"demo: {demo.hits:,} hits recorded in {demo_seconds:.1f} s ({demo.hits / demo_seconds:,.0f} hits/s)")
        before = reads(services, args.repeat)
        hits_before = load_stats(client, services.keys, last_days(90, today_of(now_ms()))).totals.hits
        client.flushall()
        fill_demo(services, scale=3)
        hits_after = load_stats(client, services.keys, last_days(90, today_of(now_ms()))).totals.hits
        after = reads(services, args.repeat)
        for name in before:
            print(f"{name:>12}: {before[name]:6.2f} ms with {hits_before:,} hits, {after[name]:6.2f} ms with "
                  f"{hits_after:,} ({after[name] / before[name]:.2f}x)")
        figures = {
            "demo_hits": demo.hits,
            "demo_seconds": round(demo_seconds, 2),
            **{f"stats_{name}_ms": round(value, 2) for name, value in before.items()},
            "stats_90d_ratio_3x_hits": round(after["instance_90d"] / before["instance_90d"], 2),
        }
        print(json.dumps(figures))
    finally:
        client.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
