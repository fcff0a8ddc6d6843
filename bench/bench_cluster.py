"""Redirects on a Redis Cluster against standalone Redis, in one run; Redis cost per hit on each.

Three backends, all with append-only persistence and Lumen's compact hash encodings:
- standalone on its unix socket (the embedded default),
- standalone on TCP loopback (a cluster is always reached over TCP: the fair comparison),
- a 3-master Redis Cluster on loopback (tests/redis_cluster.py), REDIS_URL=redis+cluster://...

For each: redirects per second (Lumen's gunicorn.conf.py, 2 gevent workers, the same traffic as
bench_redirect.py), Redis CPU per recorded hit (INFO commandstats usec of every command, and INFO
cpu user+sys, summed over the masters), and, from hits recorded in process (no HTTP: Redis's and
redis-py's own cost), Redis command time, CPU and memory per hit, redis-py's CPU per hit, and
Redis memory per link (INFO memory used_memory, summed over the masters).

The three servers run side by side and are loaded in turn, a short slice each, for many rounds
(the first backend of a round changes from round to round); the cluster's ratio is the median of
its ratios within the rounds. This shared machine's speed drifts by 20-40 % over tens of
seconds: with one 8 s run per backend and round, the same code measured 0.73 to 0.99; rounds a
few seconds long cancel most of the drift.

Run: .venv/bin/python bench/bench_cluster.py [--seconds 2] [--rounds 12] [--links 1000]
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
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_redirect import free_port, load, make_traffic, start_server, stop_server  # noqa: E402

from config import Settings  # noqa: E402
from shortener.analytics.attribution import classify_hit  # noqa: E402
from shortener.context import AppContext, build_context  # noqa: E402
from shortener.embedded_redis import COMPACT_ENCODINGS, EmbeddedRedis, redis_server_binary  # noqa: E402
from shortener.hits.instance import read_instance_days  # noqa: E402
from shortener.hits.recording import Hit, day_of, record_hit  # noqa: E402
from shortener.links import now_ms  # noqa: E402
from shortener.store import connect, is_cluster  # noqa: E402
from tests.redis_cluster import LocalCluster  # noqa: E402


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
        "command_usec": (after["command_usec"] - before["command_usec"]) / count,
        "redis_cpu_usec": (after["cpu_s"] - before["cpu_s"]) * 1e6 / count,
        "hit_bytes": (after["memory"] - before["memory"]) / count,
        "client_cpu_usec": cpu * 1e6 / count,
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


@dataclass
class Backend:
    """One Redis of the run: Lumen's context on it, the server serving it, and what was measured."""

    client: redis.Redis
    ctx: AppContext
    port: int
    traffic: list[list[str]]
    server: subprocess.Popen[bytes] | None
    link_bytes: float
    inproc: dict[str, float]
    rps: list[float] = field(default_factory=list)
    hits_before: int = 0
    cost_before: dict[str, float] = field(default_factory=dict)
    hits: int = 0
    command_usec: float = 0.0
    cpu_s: float = 0.0

    def stop(self) -> None:
        """Stop the server, if it runs (its workers write their instance-wide counts at exit)."""
        if self.server is not None:
            stop_server(self.server)
            self.server = None


def prepare(name: str, url: str, workdir: Path, links: int, hits: int) -> Backend:
    """`links` links on the Redis at `url`, `hits` hits recorded there in process, and a Lumen
    server of its own (its port, its data directory) serving the links."""
    client = connect(url, 5.0)
    port = free_port()
    domain = f"127.0.0.1:{port}"
    data_dir = workdir / f"data-{name}"
    settings = Settings(
        redis_url=url, data_dir=str(data_dir), secret_key="bench", domains=(domain,)
    )
    ctx = build_context(settings, client)
    before = redis_cost(client)
    codes = [
        ctx.links.create({"url": f"https://example.com/article/{i}", "tags": ["bench"]}).code
        for i in range(links)
    ]
    after = redis_cost(client)
    traffic = make_traffic(codes, 20_000)
    inproc = record_in_process(ctx, traffic, hits)
    env = {
        **os.environ,
        "REDIS_URL": url,
        "LUMEN_DOMAINS": domain,
        "SECRET_KEY": "bench",
        "LUMEN_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(ROOT),
    }
    server = start_server("wsgi:app", port, env, ROOT)
    return Backend(
        client, ctx, port, traffic, server, (after["memory"] - before["memory"]) / links, inproc
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=2, help="length of one load slice")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--hits", type=int, default=20_000, help="hits recorded in process")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="lumen-bench-cluster-"))
    embedded = EmbeddedRedis(workdir / "unix")
    embedded.ensure_running()
    tcp_process, tcp_url = start_tcp_standalone(workdir / "tcp")
    cluster = LocalCluster(append_only=True).start()
    urls = {"standalone-unix": embedded.url, "standalone-tcp": tcp_url, "cluster": cluster.url}
    backends: dict[str, Backend] = {}
    try:
        for name, url in urls.items():
            backends[name] = prepare(name, url, workdir, args.links, args.hits)
        for backend in backends.values():
            load(backend.port, backend.traffic, 2, workdir)  # warm-up
        for backend in backends.values():
            backend.hits_before = hits_today(backend.client, backend.ctx.keys)
            backend.cost_before = redis_cost(backend.client)
        names = list(backends)
        for number in range(args.rounds):
            for name in names[number % len(names) :] + names[: number % len(names)]:
                backend = backends[name]
                backend.rps.append(
                    load(backend.port, backend.traffic, args.seconds, workdir)["rps"]
                )
        for backend in backends.values():
            backend.stop()
            backend.hits = hits_today(backend.client, backend.ctx.keys) - backend.hits_before
            after = redis_cost(backend.client)
            backend.command_usec = after["command_usec"] - backend.cost_before["command_usec"]
            backend.cpu_s = after["cpu_s"] - backend.cost_before["cpu_s"]
    finally:
        for backend in backends.values():
            backend.stop()
        embedded.stop()
        tcp_process.terminate()
        tcp_process.wait(timeout=10)
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report(backends, args)


def report(backends: dict[str, Backend], args: argparse.Namespace) -> None:
    """Print each backend's figures, the cluster's ratios, and the figures as one JSON line."""
    print(
        f"redirects, 2 gevent workers, {args.rounds} rounds of {args.seconds} s per backend "
        "(the backends' servers run side by side, loaded in turn)"
    )
    figures: dict[str, float] = {}
    for name, backend in backends.items():
        hits = max(1, backend.hits)
        rps = statistics.median(backend.rps)
        usec = backend.command_usec / hits
        cpu = backend.cpu_s * 1e6 / hits
        print(
            f"  {name:16} over HTTP: {rps:6.0f} req/s (median of "
            + ", ".join(f"{x:.0f}" for x in backend.rps)
            + f"); Redis per hit {usec:5.1f} µs in commands, {cpu:5.1f} µs CPU ({hits} hits)"
        )
        print(
            f"  {'':16} in process ({args.hits} hits): Redis per hit "
            f"{backend.inproc['command_usec']:5.1f} µs in commands, "
            f"{backend.inproc['redis_cpu_usec']:5.1f} µs CPU, "
            f"{backend.inproc['hit_bytes']:4.0f} B; "
            f"redis-py {backend.inproc['client_cpu_usec']:5.1f} µs CPU per hit; "
            f"per link {backend.link_bytes:.0f} B"
        )
        key = name.replace("-", "_")
        figures[f"{key}_redirect_rps"] = round(rps, 1)
        figures[f"{key}_http_redis_command_usec_per_hit"] = round(usec, 1)
        figures[f"{key}_http_redis_cpu_usec_per_hit"] = round(cpu, 1)
        for measure in ("command_usec", "redis_cpu_usec", "hit_bytes", "client_cpu_usec"):
            figures[f"{key}_{measure}_per_hit"] = round(backend.inproc[measure], 1)
        figures[f"{key}_redis_bytes_per_link"] = round(backend.link_bytes, 1)
    cluster = backends["cluster"].rps
    for name, label in (("standalone-tcp", "TCP"), ("standalone-unix", "unix socket")):
        ratios = [a / b for a, b in zip(cluster, backends[name].rps, strict=True)]
        ratio = statistics.median(ratios)
        target = " (target >= 0.85)" if name == "standalone-tcp" else ""
        print(
            f"  cluster / standalone ({label}) redirects: {ratio:.2f}{target}; "
            f"rounds {min(ratios):.2f}-{max(ratios):.2f}"
        )
        figures[f"cluster_ratio_to_{name.replace('-', '_')}"] = round(ratio, 3)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
