"""Stats reading cost: it must follow the days and links asked for, never the number of hits.

Two throwaway embedded Redis servers get the 90-day demo history (`python -m shortener demo`,
recorded through the real attribution and recording code): about 11,000 hits in one, about
1,000,000 in the other (`--million-scale`, a few minutes of recording). Then the stats API
(`GET /api/v1/stats`, the instance over 90 days, and `GET /api/v1/links/<id>/stats`) and
`load_stats` for 7, 30 and 90 days, one link and a tag are timed on both, one read of the small
history then the same read of the large one, over and over, so that both are timed in the same
moments of a noisy machine. The time must stay about the same (`stats_ratio_1m_to_10k`, target
<= 1.5). Times are medians, in milliseconds: compare the ratios, not the absolute figures across
machines.

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

from redis_files import compact_append_only_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shortener.apikeys import create_api_key  # noqa: E402
from shortener.app import create_app  # noqa: E402
from shortener.context import AppContext  # noqa: E402
from shortener.demo import fill_demo  # noqa: E402
from shortener.embedded_redis import EmbeddedRedis  # noqa: E402
from shortener.figures import last_days, load_stats, select_links, stats_for, today_of  # noqa: E402
from shortener.links import now_ms  # noqa: E402

# The target (<= 1.5) is on the stats API and the reads behind it. A tag's read sums its
# links and counts their visitors with a multi-key PFCOUNT, a union of HyperLogLogs computed on
# each call: its cost grows as the HyperLogLogs turn from sparse to dense (a few hundred visitors
# a day each) and then stays, so it is shown for information.
TARGETS = {"tag_90d": "no target: a union of dense HyperLogLogs costs more than of sparse ones"}


def paired_medians(
    small: Callable[[], object], large: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Median wall times of two reads, in ms, each timed right after the other `repeat` times
    (after one warm-up call of each)."""
    small()
    large()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for read, kept in ((small, times[0]), (large, times[1])):
            started = time.perf_counter()
            read()
            kept.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def settle() -> None:
    """Freeze this process's objects from the recording out of the garbage collector, as a
    worker's are after start-up (gunicorn.conf.py), so that the reads do not pay for walking what
    the recording left behind. (Each Redis's append-only file is compacted beforehand: the
    million-hit recording writes gigabytes of it, and a background rewrite running during the reads
    would be timed with them.)"""
    gc.collect()
    gc.freeze()


def reads(ctx: AppContext, client_app, api_key: str) -> dict[str, Callable[[], object]]:  # type: ignore[no-untyped-def]
    """The dashboard's usual reads of one history, by name."""
    today = today_of(now_ms())
    r, keys = ctx.redis, ctx.keys
    first = select_links(ctx.links, tag="campaign")[0]
    headers = {"Authorization": f"Bearer {api_key}", "Host": ctx.settings.primary_domain}
    days = last_days(90, today)
    span = f"from={days.first.isoformat()}&to={days.last.isoformat()}"

    def get(path: str) -> Callable[[], object]:
        def read() -> object:
            response = client_app.get(path, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            return response

        return read

    return {
        "instance_7d": lambda: load_stats(r, keys, last_days(7, today)),
        "instance_30d": lambda: load_stats(r, keys, last_days(30, today)),
        "instance_90d": lambda: load_stats(r, keys, days),
        "link_90d": lambda: stats_for(ctx.links, days, link=first),
        "tag_90d": lambda: stats_for(ctx.links, days, tag="campaign"),
        "api_instance_90d": get(f"/api/v1/stats?{span}"),
        "api_link_90d": get(f"/api/v1/links/{first.id}/stats?{span}"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--million-scale",
        type=float,
        default=87.0,
        help="demo scale of the large history (87 gives about 1,000,000 hits)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lumen-bench-stats-"))
    servers: list[EmbeddedRedis] = []
    try:
        histories = []
        for name, scale in (("small", 1.0), ("large", args.million_scale)):
            server = EmbeddedRedis(str(workdir / name))
            server.ensure_running()
            servers.append(server)
            app = create_app(
                {"redis_url": server.url, "data_dir": str(workdir / name), "secret_key": "bench"},
                environ={},
            )
            ctx = app.extensions["lumen"]
            api_key = create_api_key(ctx.redis, ctx.keys, "bench", now_ms())
            started = time.perf_counter()
            demo = fill_demo(ctx, scale=scale)
            seconds = time.perf_counter() - started
            rate = demo.hits / seconds
            print(f"history: {demo.hits:,} hits recorded in {seconds:.1f} s ({rate:,.0f} hits/s)")
            hits = load_stats(ctx.redis, ctx.keys, last_days(90, today_of(now_ms()))).totals.hits
            histories.append((hits, reads(ctx, app.test_client(), api_key)))
            compact_append_only_file(ctx.redis)
        settle()
        (hits_small, small_reads), (hits_large, large_reads) = histories
        small, large = {}, {}
        for name in small_reads:
            small[name], large[name] = paired_medians(
                small_reads[name], large_reads[name], args.repeat
            )
            print(
                f"{name:>16}: {small[name]:6.2f} ms with {hits_small:,} hits, "
                f"{large[name]:6.2f} ms with "
                f"{hits_large:,} hits (ratio {large[name] / small[name]:.2f}, "
                f"{TARGETS.get(name, 'target <= 1.5')})"
            )
        figures = {
            "stats_hits_small": hits_small,
            "stats_hits_large": hits_large,
            "stats_ms_10k": round(small["api_instance_90d"], 2),
            "stats_ms_1m": round(large["api_instance_90d"], 2),
            "stats_link_ms_10k": round(small["api_link_90d"], 2),
            "stats_link_ms_1m": round(large["api_link_90d"], 2),
            **{
                f"stats_{name}_ms": round(value, 2)
                for name, value in small.items()
                if not name.startswith("api_")
            },
            "stats_ratio_1m_to_10k": round(
                large["api_instance_90d"] / small["api_instance_90d"], 2
            ),
        }
        print(json.dumps(figures))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
