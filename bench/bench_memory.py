"""Redis memory per link and per recorded hit (INFO memory over 100,000 of each), default retention.

Links are created through LinkStore (with titles and tags, as the API would); hits are recorded
through the real attribution and recording code (`classify_hit` + `record_hit`) with realistic
user-agents and referrers, so the figure per hit includes its share of the day aggregates,
HyperLogLogs and both streams. The target scenario puts the hits on 100 links over 7 days (an
active campaign, ~140 hits per link-day); a long-tail scenario (1,000 links over 30 days) is
printed beside it, where the per-link-day aggregates dominate.

Run: .venv/bin/python bench/bench_memory.py [--links 100000] [--hits 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_classify import distinct_hits, load_hits  # noqa: E402

from config import Settings  # noqa: E402
from shortener.analytics.attribution import classify_hit  # noqa: E402
from shortener.context import build_context  # noqa: E402
from shortener.embedded_redis import EmbeddedRedis  # noqa: E402
from shortener.hits.recording import (  # noqa: E402
    Hit,
    RecordingPolicy,
    daily_key,
    day_of,
    network_hash,
    record_hit,
    visitor_hash,
)
from shortener.store import connect  # noqa: E402
from shortener.webhooks import EVENT_STREAM_LENGTH  # noqa: E402

TARGET_LINK_BYTES = 400
TARGET_HIT_BYTES = 300


def used_memory(client) -> int:  # type: ignore[no-untyped-def]
    return int(client.info("memory")["used_memory"])


def measure_hits(client, ctx, settings, traffic, count: int, *, links: range, days: int) -> float:  # type: ignore[no-untyped-def]
    """Bytes per hit for `count` hits spread evenly over the `links` ids and the last `days`
    days."""
    rng = random.Random(5)
    now = int(time.time() * 1000)
    before = used_memory(client)
    for i in range(count):
        ua, referrer = traffic[i % len(traffic)]
        time_ms = now - rng.randrange(days * 86_400_000)
        key = daily_key("bench", day_of(time_ms))
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        hit = Hit(
            time_ms=time_ms,
            domain="go.example.com",
            code="x",
            referrer=referrer,
            user_agent=ua[:512],
            language=rng.choice(["en-us", "fr-fr", "de-de", "-"]),
            visitor=visitor_hash(key, ip, ua),
            ip_hash=network_hash(key, ip),
        )
        record_hit(
            client,
            ctx.keys,
            rng.choice(links),
            hit,
            classify_hit(ua, referrer, own_hosts=settings.all_domains, target_site="example.com"),
            tally=ctx.tally,
            policy=RecordingPolicy(
                settings.hit_retention_count,
                settings.hit_retention_days,
                settings.preview_window_seconds * 1000,
            ),
        )
    ctx.tally.flush()
    return (used_memory(client) - before) / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=100_000, help="at least 1,100")
    parser.add_argument("--hits", type=int, default=100_000)
    args = parser.parse_args()
    settings = Settings(secret_key="bench", domains=("go.example.com",))

    workdir = Path(tempfile.mkdtemp(prefix="lumen-mem-"))
    server = EmbeddedRedis(workdir)
    server.ensure_running()
    try:
        client = connect(server.url)
        ctx = build_context(settings.replace(redis_url=server.url, data_dir=str(workdir)), client)
        base = used_memory(client)
        half = args.links // 2
        for i in range(args.links):
            if i == half:
                middle = used_memory(client)
            ctx.links.create(
                {
                    "url": f"https://www.example.com/blog/2026/11/post-{i}?utm_source=newsletter",
                    "title": f"Post number {i}",
                    "tags": ["blog", "autumn"],
                }
            )
        end = used_memory(client)
        # What one more link costs: the second half's growth. The average over all links also
        # carries the link-event log (webhooks), a fixed cost once it holds its last
        # EVENT_STREAM_LENGTH events, full long before the second half starts.
        per_link = (end - middle) / (args.links - half)
        average_per_link = (end - base) / args.links
        event_log = client.memory_usage(ctx.keys.link_events()) or 0

        traffic = distinct_hits(load_hits(), 20_000, random.Random(3))
        per_hit = measure_hits(
            client, ctx, settings, traffic, args.hits, links=range(1, 101), days=7
        )
        per_hit_sparse = measure_hits(
            client, ctx, settings, traffic, args.hits, links=range(101, 1101), days=30
        )
        client.close()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"Redis memory per link: {per_link:6.0f} bytes, each of links {half + 1:,} to "
        f"{args.links:,} (target <= {TARGET_LINK_BYTES}: ratio {per_link / TARGET_LINK_BYTES:.2f})"
    )
    print(
        f"  average over all {args.links:,} links: {average_per_link:.0f} bytes, of which the "
        f"link-event log (its last {EVENT_STREAM_LENGTH:,} events) is {event_log / 1e6:.1f} MB"
    )
    print(
        f"Redis memory per hit:  {per_hit:6.0f} bytes over {args.hits} hits on 100 links "
        f"over 7 days, aggregates included (target <= {TARGET_HIT_BYTES}: "
        f"ratio {per_hit / TARGET_HIT_BYTES:.2f})"
    )
    print(
        f"  long tail: {per_hit_sparse:6.0f} bytes per hit when the same hits fall on "
        "1,000 links over 30 days "
        f"(~3 hits per link-day: each link-day's aggregates and HyperLogLog weigh ~700 bytes)"
    )
    print(
        json.dumps(
            {
                "redis_bytes_per_link": round(per_link, 1),
                "redis_bytes_per_link_average": round(average_per_link, 1),
                "redis_link_event_log_bytes": event_log,
                "redis_bytes_per_hit": round(per_hit, 1),
                "redis_bytes_per_hit_long_tail": round(per_hit_sparse, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
