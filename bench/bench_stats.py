"""Stats reading cost: it must follow the days and links asked for, never the number of hits.

A throwaway embedded Redis gets the 90-day demo history (`python -m shortener demo`, recorded
through the real attribution and recording code, about 11,000 hits); then the stats API
(`GET /api/v1/stats`, the instance over 90 days, and `GET /api/v1/links/<id>/stats`) and
`load_stats` for 7, 30 and 90 days, one link and a tag are timed. The database is then emptied and
the same links get about 1,000,000 hits (`--million-scale`, a few minutes of recording), and the
same reads are timed again: the time must stay about the same (`stats_ratio_1m_to_10k`, target
<= 1.5). Times are medians of repeated runs, in milliseconds, on a noisy shared machine: compare
the ratios, not the absolute figures across machines.

Run: .venv/bin/python bench/bench_stats.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis_files import compact_append_only_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shortener import create_app  # noqa: E402
from shortener.apikeys import create_api_key  # noqa: E402
from shortener.demo import fill_demo  # noqa: E402
from shortener.embedded_redis import EmbeddedRedis  # noqa: E402
from shortener.links import now_ms  # noqa: E402
from shortener.services import Services  # noqa: E402
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


def settle(client: redis.Redis) -> None:
    """Leave both histories in the same state before their reads are timed: Redis's append-only
    file compacted (the million-hit recording writes gigabytes of it, and a background rewrite
    running during the reads would be timed with them), and this process's objects from the
    recording frozen out of the garbage collector, as a worker's are after start-up
    (gunicorn.conf.py), so the reads do not pay for walking what the recording left behind."""
    compact_append_only_file(client)
    gc.collect()
    gc.freeze()


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


def api_reads(services: Services, client_app, api_key: str, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Median times of GET /api/v1/stats (instance, 90 days) and /api/v1/links/<id>/stats."""
    link = select_links(services.links, tag="campaign")[0]
    headers = {"Authorization": f"Bearer {api_key}", "Host": services.settings.primary_domain}
    days = last_days(90, today_of(now_ms()))
    span = f"from={days.first.isoformat()}&to={days.last.isoformat()}"

    def get(path: str) -> Callable[[], object]:
        def read() -> object:
            response = client_app.get(path, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            return response

        return read

    return {
        "api_instance_90d": median_ms(get(f"/api/v1/stats?{span}"), repeat),
        "api_link_90d": median_ms(get(f"/api/v1/links/{link.id}/stats?{span}"), repeat),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--million-scale", type=float, default=87.0,
                        help="demo scale of the large history (87 gives about 1,000,000 hits)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lumen-bench-stats-"))
    server = EmbeddedRedis(str(workdir))
    server.ensure_running()
    client = connect(server.url)
    try:
        app = create_app({"redis_url": server.url, "data_dir": str(workdir), "secret_key": "bench"})
        services = app.extensions["lumen"]
        test_client = app.test_client()
        today = last_days(90, today_of(now_ms()))

        def history(scale: float) -> tuple[int, dict[str, float]]:
            client.flushall()
            api_key = create_api_key(client, services.keys, "bench", now_ms())
            started = time.perf_counter()
            demo = fill_demo(services, scale=scale)
            seconds = time.perf_counter() - started
            print(f"history: {demo.hits:,} hits recorded in {seconds:.1f} s ({demo.hits / seconds:,.0f} hits/s)")
            settle(client)
            return load_stats(client, services.keys, today).totals.hits, {
                **reads(services, args.repeat), **api_reads(services, test_client, api_key, args.repeat)}

        hits_small, small = history(1.0)
        hits_large, large = history(args.million_scale)
        for name in small:
            print(f"{name:>16}: {small[name]:6.2f} ms with {hits_small:,} hits, {large[name]:6.2f} ms with "
                  f"{hits_large:,} hits (ratio {large[name] / small[name]:.2f}, target <= 1.5)")
        figures = {
            "stats_hits_small": hits_small,
            "stats_hits_large": hits_large,
            "stats_ms_10k": round(small["api_instance_90d"], 2),
            "stats_ms_1m": round(large["api_instance_90d"], 2),
            "stats_link_ms_10k": round(small["api_link_90d"], 2),
            "stats_link_ms_1m": round(large["api_link_90d"], 2),
            **{f"stats_{name}_ms": round(value, 2) for name, value in small.items() if not name.startswith("api_")},
            "stats_ratio_1m_to_10k": round(large["api_instance_90d"] / small["api_instance_90d"], 2),
        }
        print(json.dumps(figures))
    finally:
        client.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
