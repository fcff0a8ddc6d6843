"""Redirects on a Redis Cluster against standalone Redis, in one run; Redis cost per hit on each.

Three backends, all with append-only persistence and Lumen's compact hash encodings:
- standalone on its unix socket (the embedded default),
- standalone on TCP loopback (a cluster is always reached over TCP: the fair comparison),
- a 3-master Redis Cluster on loopback (tests/redis_cluster.py), REDIS_URL=redis+cluster://...

For each: redirects per second (Lumen's gunicorn.conf.py, 2 gevent workers, the same traffic as
bench_redirect.py, rounds in changing order, medians), Redis CPU per recorded hit (INFO
commandstats usec of every command, and INFO cpu user+sys, summed over the masters), and, from
hits recorded in process (no HTTP: Redis's and redis-py's own cost), Redis command time, CPU and
memory per hit, redis-py's CPU per hit, and Redis memory per link (INFO memory used_memory,
summed over the masters).

Run: .venv/bin/python bench/bench_cluster.py [--seconds 8] [--links 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_redirect import free_port, load, make_traffic, start_server, stop_server  # noqa: E402

from config import Settings  # noqa: E402
from shortener.analytics.attribution import classify_hit  # noqa: E402
from shortener.context import build_context  # noqa: E402
from shortener.embedded_redis import COMPACT_ENCODINGS, EmbeddedRedis, redis_server_binary  # noqa: E402
from shortener.hits.instance import read_instance_days  # noqa: E402
from shortener.hits.recording import Hit, day_of, record_hit  # noqa: E402
from shortener.links import now_ms  # noqa: E402
from shortener.store import connect, is_cluster  # noqa: E402
from tests.redis_cluster import LocalCluster  # noqa: E402

ORDERS = (
    ["standalone-unix", "standalone-tcp", "cluster"],
    ["cluster", "standalone-tcp", "standalone-unix"],
    ["standalone-tcp", "cluster", "standalone-unix"],
)


def every_master(client, section: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """INFO `section` of each master."""
    if is_cluster(client):
        return list(client.info(section, target_nodes=client.PRIMARIES).values())
    return [client.info(section)]


def redis_cost(client) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Totals over the masters: command usec, CPU seconds, used memory bytes."""
    stats = every_master(client, "commandstats")
    cpu = every_master(client, "cpu")
    memory = every_master(client, "memory")
    return {
        "command_usec": sum(
            float(v["usec"]) for info in stats for k, v in info.items() if k.startswith("cmdstat_")
        ),
        "cpu_s": sum(float(i["used_cpu_user"]) + float(i["used_cpu_sys"]) for i in cpu),
        "memory": sum(int(i["used_memory"]) for i in memory),
    }


def hits_today(client, keys) -> int:  # type: ignore[no-untyped-def]
    [day] = read_instance_days(client, keys, [day_of(now_ms())], now_ms())
    return sum(n for name, n in day.fields.items() if name.startswith("k:"))


def record_in_process(ctx, traffic: list[list[str]], count: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Record `count` live hits through classify_hit + record_hit in this process: Redis command
    time, Redis memory and this client's CPU per hit (no HTTP, so the figures are Redis's and
    redis-py's own)."""
    by_code = {}
    for link_id in range(1, int(ctx.redis.get(ctx.keys.sequence()) or 0) + 1):
        data = ctx.redis.hmget(ctx.keys.link(link_id), "code", "domain")
        if data[0]:
            by_code[data[0]] = (link_id, data[1])
    before, cpu_before = redis_cost(ctx.redis), time.process_time()
    for n in range(count):
        path, ua, referrer = traffic[n % len(traffic)]
        link_id, domain = by_code[path[1:]]
        hit = Hit(now_ms(), domain, path[1:], referrer, ua, "en", f"visitor-{n}", f"ip-{n}")
        record_hit(
            ctx.redis,
            ctx.keys,
            link_id,
            hit,
            classify_hit(ua, referrer, own_hosts=(domain,), target_site="example.com"),
            tally=ctx.tally,
            policy=ctx.recording,
        )
    ctx.tally.flush()
    cpu, after = time.process_time() - cpu_before, redis_cost(ctx.redis)
    return {
        "inproc_command_usec": (after["command_usec"] - before["command_usec"]) / count,
        "inproc_redis_cpu_usec": (after["cpu_s"] - before["cpu_s"]) * 1e6 / count,
        "inproc_hit_bytes": (after["memory"] - before["memory"]) / count,
        "inproc_client_cpu_usec": cpu * 1e6 / count,
    }


def start_tcp_standalone(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    directory.mkdir()
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--appendonly",
            "yes",
            "--save",
            "",
            *COMPACT_ENCODINGS,
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = connect(url, 2.0)
    for _ in range(500):
        try:
            client.ping()
            break
        except (redis.ConnectionError, redis.TimeoutError):  # not answering yet
            time.sleep(0.02)
    client.close()
    return process, url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hits", type=int, default=20_000, help="hits recorded in process")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="lumen-bench-cluster-"))
    embedded = EmbeddedRedis(workdir / "unix")
    embedded.ensure_running()
    tcp_process, tcp_url = start_tcp_standalone(workdir / "tcp")
    cluster = LocalCluster(append_only=True).start()
    urls = {"standalone-unix": embedded.url, "standalone-tcp": tcp_url, "cluster": cluster.url}
    port = free_port()
    domain = f"127.0.0.1:{port}"
    results: dict[str, dict[str, object]] = {}
    traffic_of: dict[str, list[list[str]]] = {}
    try:
        for name, url in urls.items():
            client = connect(url, 5.0)
            settings = Settings(
                redis_url=url, data_dir=str(workdir), secret_key="bench", domains=(domain,)
            )
            ctx = build_context(settings, client)
            before = redis_cost(client)
            codes = [
                ctx.links.create(
                    {"url": f"https://example.com/article/{i}", "tags": ["bench"]}
                ).code
                for i in range(args.links)
            ]
            after = redis_cost(client)
            traffic_of[name] = make_traffic(codes, 20_000)
            recorded = record_in_process(ctx, traffic_of[name], args.hits)
            results[name] = {
                "client": client,
                "ctx": ctx,
                "link_bytes": (after["memory"] - before["memory"]) / args.links,
                **recorded,
                "rps": [],
                "hits": 0,
                "command_usec": 0.0,
                "cpu_s": 0.0,
            }
        for order in ORDERS[: args.rounds]:
            for name in order:
                entry = results[name]
                client, ctx = entry["client"], entry["ctx"]
                env = {
                    **os.environ,
                    "REDIS_URL": urls[name],
                    "LUMEN_DOMAINS": domain,
                    "SECRET_KEY": "bench",
                    "LUMEN_DATA_DIR": str(workdir),
                    "PYTHONPATH": str(ROOT),
                }
                process = start_server("wsgi:app", port, env, ROOT)
                try:
                    load(port, traffic_of[name], 2, workdir)  # warm-up
                    hits_before, cost_before = hits_today(client, ctx.keys), redis_cost(client)
                    run = load(port, traffic_of[name], args.seconds, workdir)
                    hits_after, cost_after = hits_today(client, ctx.keys), redis_cost(client)
                finally:
                    stop_server(process)
                entry["rps"].append(run["rps"])  # type: ignore[union-attr]
                entry["hits"] += hits_after - hits_before  # type: ignore[operator]
                for key in ("command_usec", "cpu_s"):
                    entry[key] += cost_after[key] - cost_before[key]  # type: ignore[operator]
    finally:
        embedded.stop()
        tcp_process.terminate()
        tcp_process.wait(timeout=10)
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"redirects, 2 gevent workers, {args.seconds} s per backend per round, {args.rounds} rounds"
    )
    figures: dict[str, float] = {}
    for name, entry in results.items():
        hits = max(1, int(entry["hits"]))  # type: ignore[call-overload]
        rps = statistics.median(entry["rps"])  # type: ignore[arg-type]
        usec = float(entry["command_usec"]) / hits  # type: ignore[arg-type]
        cpu = float(entry["cpu_s"]) * 1e6 / hits  # type: ignore[arg-type]
        print(
            f"  {name:16} over HTTP: {rps:6.0f} req/s (rounds: "
            + ", ".join(f"{x:.0f}" for x in entry["rps"])  # type: ignore[attr-defined]
            + f"); Redis per hit {usec:5.1f} µs in commands, {cpu:5.1f} µs CPU ({hits} hits)"
        )
        print(
            f"  {'':16} in process ({args.hits} hits): Redis per hit "
            f"{entry['inproc_command_usec']:5.1f} µs in commands, "
            f"{entry['inproc_redis_cpu_usec']:5.1f} µs CPU, {entry['inproc_hit_bytes']:4.0f} B; "
            f"redis-py {entry['inproc_client_cpu_usec']:5.1f} µs CPU per hit; "
            f"per link {entry['link_bytes']:.0f} B"
        )
        key = name.replace("-", "_")
        figures[f"{key}_redirect_rps"] = round(rps, 1)
        figures[f"{key}_http_redis_command_usec_per_hit"] = round(usec, 1)
        figures[f"{key}_http_redis_cpu_usec_per_hit"] = round(cpu, 1)
        for measure in ("command_usec", "redis_cpu_usec", "hit_bytes", "client_cpu_usec"):
            figures[f"{key}_{measure}_per_hit"] = round(float(entry[f"inproc_{measure}"]), 1)  # type: ignore[arg-type]
        figures[f"{key}_redis_bytes_per_link"] = round(float(entry["link_bytes"]), 1)  # type: ignore[arg-type]
    ratio_tcp = figures["cluster_redirect_rps"] / figures["standalone_tcp_redirect_rps"]
    ratio_unix = figures["cluster_redirect_rps"] / figures["standalone_unix_redirect_rps"]
    print(f"  cluster / standalone (TCP) redirects: {ratio_tcp:.2f} (target >= 0.85)")
    print(f"  cluster / standalone (unix socket):   {ratio_unix:.2f}")
    figures["cluster_ratio_to_standalone_tcp"] = round(ratio_tcp, 3)
    figures["cluster_ratio_to_standalone_unix"] = round(ratio_unix, 3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
