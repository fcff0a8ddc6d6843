"""Redirect throughput and latency: Lumen against two baselines, in one run, same gunicorn settings.

Baselines (bench/baseline_apps.py): (a) a bare Flask 302; (b) Flask doing one Redis GET and one
pipelined HINCRBY + XADD. All three run under Lumen's gunicorn.conf.py (worker class, keep-alive,
hooks) with the same workers and threads. Traffic: 2,000 links, mostly distinct user-agents made
from the labelled corpus, a mix of referrers. Load: wrk (Debian package) when installed, else
bench/loadgen.py; 32 connections on loopback. The three servers run side by side and are loaded
in turn, a short slice each (3 s), for 12 rounds; each round starts on a freshly rewritten
append-only file and with a different server first. Lumen's ratios to the baselines are taken
within each round, so that the machine's drift cancels out: this shared machine's speed drifts by
20-40 % over tens of seconds, and with one 10 s run per server and round, single rounds of the
same code read 0.88 to 1.40 against (b). The figures reported are medians over the rounds.

Run: .venv/bin/python bench/bench_redirect.py [--seconds 3] [--rounds 12] [--links 2000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_classify import distinct_hits, load_hits  # noqa: E402
from redis_files import compact_append_only_file  # noqa: E402

from config import Settings  # noqa: E402
from shortener.context import build_context  # noqa: E402
from shortener.embedded_redis import EmbeddedRedis  # noqa: E402
from shortener.store import connect  # noqa: E402

CONNECTIONS = 32
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "1"))
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "gevent")  # as gunicorn.conf.py
WRK_SCRIPT = """
local requests = %s
local n = #requests
math.randomseed(os.time())
request = function()
  local r = requests[math.random(n)]
  local headers = {["User-Agent"] = r[2]}
  if r[3] ~= "" then headers["Referer"] = r[3] end
  return wrk.format("GET", r[1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "JSON {\\"requests\\": %%d, \\"seconds\\": %%f, \\"p50_ms\\": %%f, \\"p99_ms\\": %%f, "
      .. "\\"errors\\": %%d}\\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_traffic(codes: list[str], count: int) -> list[list[str]]:
    """[path, user-agent, referrer] requests: distinct UAs, realistic referrers, many links."""
    rng = random.Random(7)
    hits = distinct_hits(load_hits(), count, rng)
    return [[f"/{rng.choice(codes)}", ua, referrer] for ua, referrer in hits]


def start_server(app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """`app` under gunicorn with Lumen's gunicorn.conf.py (worker class, hooks) and the bench's
    worker count."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        WORKER_CLASS,
        "--threads",
        str(THREADS),
        "--no-control-socket",
        "--log-level",
        "warning",
        app,
    ]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the server runs)
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            connection.getresponse().read()  # any answer (the baselines 302 every path) means up
            connection.close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    log.seek(0)
    raise RuntimeError(f"{app} did not start:\n{log.read().decode(errors='replace')[-3000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def load(port: int, traffic: list[list[str]], seconds: float, workdir: Path) -> dict[str, float]:
    """Drive the server at `port` and return rps, p50_ms, p99_ms."""
    if shutil.which("wrk"):
        script = workdir / "traffic.lua"
        rows = ",\n".join("{" + ",".join(lua_string(x) for x in row) + "}" for row in traffic)
        script.write_text(WRK_SCRIPT % ("{" + rows + "}"))
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{CONNECTIONS}",
                f"-d{seconds}s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))
        result["rps"] = result["requests"] / result["seconds"]
        return result
    path = workdir / "traffic.json"
    path.write_text(json.dumps(traffic))
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "loadgen.py"),
            str(path),
            str(port),
            str(CONNECTIONS),
            str(seconds),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=3, help="length of one load slice")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--links", type=int, default=2000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="lumen-bench-"))
    redis_server = EmbeddedRedis(workdir / "redis")
    redis_server.ensure_running()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ports = {name: free_port() for name in ("bare", "naive", "lumen")}
        domain = f"127.0.0.1:{ports['lumen']}"
        settings = Settings(
            redis_url=redis_server.url, data_dir=str(workdir), secret_key="bench", domains=(domain,)
        )
        client = connect(redis_server.url)
        ctx = build_context(settings, client)
        codes = []
        for i in range(args.links):
            link = ctx.links.create({"url": f"https://example.com/article/{i}", "tags": ["bench"]})
            codes.append(link.code)
            client.set(f"naive:code:{link.code}", link.url)
            if i % 4 == 0:
                variant, _ = ctx.links.add_variant(
                    link.id, random.choice(["whatsapp", "sms", "email"])
                )
                codes.append(variant.code)
                client.set(f"naive:code:{variant.code}", link.url)
        traffic = make_traffic(codes, 20_000)

        # The servers' settings are these alone: none of the shell's Lumen settings.
        shell = {k: v for k, v in os.environ.items() if not k.startswith(("LUMEN_", "HASHIDS_"))}
        env = {
            **shell,
            "REDIS_URL": redis_server.url,
            "BENCH_REDIS_URL": redis_server.url,
            "LUMEN_DOMAINS": domain,
            "SECRET_KEY": "bench",
            "LUMEN_DATA_DIR": str(workdir),
            "PYTHONPATH": str(ROOT),
        }
        servers = {
            "bare": ("baseline_apps:bare", ROOT / "bench"),
            "naive": ("baseline_apps:naive", ROOT / "bench"),
            "lumen": ("wsgi:app", ROOT),
        }
        for name, (app, cwd) in servers.items():
            processes.append(start_server(app, ports[name], env, cwd))
            load(ports[name], traffic, 2, workdir)  # warm-up: caches, connections, JIT of regexes
        names = list(servers)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
        for number in range(args.rounds):
            compact_append_only_file(client)
            for name in names[number % 3 :] + names[: number % 3]:
                results[name].append(load(ports[name], traffic, args.seconds, workdir))
        for process in processes:
            stop_server(process)
        processes.clear()
        recorded = sum(
            int(client.hget(ctx.keys.link(i), "hits") or 0) for i in range(1, args.links * 2)
        )
        client.close()
    finally:
        for process in processes:
            stop_server(process)
        redis_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    rounds = list(zip(results["bare"], results["naive"], results["lumen"], strict=True))
    generator = "wrk" if shutil.which("wrk") else "bench/loadgen.py"
    print(
        f"redirect load: {generator}, {CONNECTIONS} connections, gunicorn {WORKER_CLASS} "
        f"{WORKERS} workers x {THREADS} threads; the servers side by side, loaded in turn "
        f"{args.seconds:.0f} s each, {len(rounds)} rounds"
    )
    for number, (bare, naive, lumen) in enumerate(rounds, 1):
        print(
            f"  round {number}: (a) {bare['rps']:6.0f}  (b) {naive['rps']:6.0f}  Lumen "
            f"{lumen['rps']:6.0f} req/s"
            f"  ratios {lumen['rps'] / naive['rps']:.2f} / {lumen['rps'] / bare['rps']:.2f}"
            f"  p99 ratio {lumen['p99_ms'] / naive['p99_ms']:.2f}"
        )
    figures = {
        name: {
            key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")
        }
        for name, runs in results.items()
    }
    ratio_naive = statistics.median(lumen["rps"] / naive["rps"] for _, naive, lumen in rounds)
    ratio_bare = statistics.median(lumen["rps"] / bare["rps"] for bare, _, lumen in rounds)
    ratio_p99 = statistics.median(lumen["p99_ms"] / naive["p99_ms"] for _, naive, lumen in rounds)
    bare, naive, lumen = figures["bare"], figures["naive"], figures["lumen"]
    print("medians over the rounds:")
    print(
        f"baseline (a) bare Flask 302:       {bare['rps']:8.0f} req/s  p50 "
        f"{bare['p50_ms']:.2f} ms  p99 {bare['p99_ms']:.2f} ms"
    )
    print(
        f"baseline (b) GET + HINCRBY/XADD:   {naive['rps']:8.0f} req/s  p50 "
        f"{naive['p50_ms']:.2f} ms  p99 {naive['p99_ms']:.2f} ms"
    )
    print(
        f"Lumen redirect (attributed):       {lumen['rps']:8.0f} req/s  p50 "
        f"{lumen['p50_ms']:.2f} ms  p99 {lumen['p99_ms']:.2f} ms"
    )
    print(f"  ratio to (b) throughput: {ratio_naive:.2f} (target >= 1.0)")
    print(f"  ratio to (a) throughput: {ratio_bare:.2f} (target >= 0.6)")
    print(f"  p99 ratio to (b):        {ratio_p99:.2f} (target <= 2.0)")
    print(
        f"  hits recorded by Lumen:  {recorded} (errors seen by the load generator: "
        f"{sum(run['errors'] for run in results['lumen'])})"
    )
    print(
        json.dumps(
            {
                "redirect_rps": round(lumen["rps"], 1),
                "redirect_p50_ms": round(lumen["p50_ms"], 3),
                "redirect_p99_ms": round(lumen["p99_ms"], 3),
                "baseline_bare_rps": round(bare["rps"], 1),
                "baseline_bare_p99_ms": round(bare["p99_ms"], 3),
                "baseline_redis_rps": round(naive["rps"], 1),
                "baseline_redis_p99_ms": round(naive["p99_ms"], 3),
                "redirect_ratio_to_redis": round(ratio_naive, 3),
                "redirect_ratio_to_bare": round(ratio_bare, 3),
                "redirect_p99_ratio_to_redis": round(ratio_p99, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
