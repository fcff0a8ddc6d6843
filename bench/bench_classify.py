"""Throughput of `classify_hit` on one core: repeated user-agents (cache hits) and distinct ones;
and the start-up of `python -m shortener classify` (one line in, one line out).

Run: .venv/bin/python bench/bench_classify.py [--repeated N] [--distinct N] [--starts N]

The distinct set is made from the labelled corpus (../shared/corpus/hits.jsonl beside the repo, or
a few built-in strings without it) by varying every version number, so each string is new to the
cache, as a stream of never-seen visitors would be. Times are process CPU seconds; the start-up
is the fastest of N runs, wall-clock and CPU (user + system) of the child process.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shortener.analytics.attribution import classify_hit, warm_up

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "hits.jsonl"
ROOT = Path(__file__).resolve().parents[1]
TARGET_REPEATED = 150_000  # issue 16
TARGET_DISTINCT = 10_000
TARGET_START_S = 0.5
ONE_LINE = b'{"ua": "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"}\n'
OWN_HOSTS = ("go.example.com", "example.link")
TARGET_SITE = "example.com"
FALLBACK = [
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) "
        "Version/17.3.1 Mobile/15E148 Safari/604.1",
        "",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0.0.0 "
        "Safari/537.36",
        "https://www.google.com/",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-A146M Build/TP1A.220624.014; wv) "
        "AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/117.0.0.0 Mobile Safari/537.36 Instagram 302.1.0.36.111 Android",
        "https://l.instagram.com/",
    ),
    ("WhatsApp/2.19.308 A", ""),
]
_VERSION = re.compile(r"\d+(?:[._]\d+){2,}")  # build versions: 120.0.6099.119, 17_3_1, 2.19.308


def load_hits() -> list[tuple[str, str]]:
    """(user-agent, referrer) pairs from the corpus, or the built-in few."""
    if not CORPUS.is_file():
        return FALLBACK
    rows = [
        json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [(row["ua"], row["referrer"]) for row in rows]


def distinct_hits(
    hits: list[tuple[str, str]], count: int, rng: random.Random
) -> list[tuple[str, str]]:
    """`count` hits whose user-agents all differ, made by varying the builds of version numbers."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < count:
        ua, referrer = rng.choice(hits)
        varied = _VERSION.sub(lambda m: _vary(m.group(), rng), ua)
        if varied not in seen:
            seen.add(varied)
            out.append((varied, referrer))
    return out


def _vary(version: str, rng: random.Random) -> str:
    """Keep major and minor, draw the rest with as many digits: 120.0.6099.119 → 120.0.4821.57."""
    parts = re.split(r"([._])", version)  # numbers at even indexes, separators between
    for index in range(4, len(parts), 2):
        digits = len(parts[index])
        parts[index] = str(rng.randrange(10 ** (digits - 1) if digits > 1 else 0, 10**digits))
    return "".join(parts)


def rate(hits: list[tuple[str, str]]) -> float:
    """Classifications per CPU second over `hits`."""
    start = time.process_time()
    for ua, referrer in hits:
        classify_hit(ua, referrer, own_hosts=OWN_HOSTS, target_site=TARGET_SITE)
    return len(hits) / (time.process_time() - start)


def start_up(runs: int) -> tuple[float, float]:
    """The fastest wall-clock and CPU seconds of `python -m shortener classify` on one line."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "shortener", "classify"],
            input=ONE_LINE,
            capture_output=True,
            check=True,
            cwd=ROOT,
        )
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeated", type=int, default=200_000, help="classifications of a few hits"
    )
    parser.add_argument(
        "--distinct", type=int, default=30_000, help="distinct user-agents (>= 20,000)"
    )
    parser.add_argument("--starts", type=int, default=7, help="runs of the classify start-up")
    args = parser.parse_args()
    if args.distinct < 20_000:
        parser.error("--distinct must be at least 20,000 (more than the cache holds)")
    rng = random.Random(42)
    hits = load_hits()
    few = hits[:: max(1, len(hits) // 8)][:8]
    repeated = (few * (args.repeated // len(few) + 1))[: args.repeated]
    distinct = distinct_hits(hits, args.distinct, rng)

    start_wall, start_cpu = start_up(args.starts)
    warm_up()  # as the app does at start; every distinct user-agent below is still a cache miss
    distinct_rate = rate(distinct)
    repeated_rate = rate(repeated)
    print(
        f"repeated user-agents: {repeated_rate:>9,.0f} classifications/s "
        f"({repeated_rate / TARGET_REPEATED:.2f}x the {TARGET_REPEATED:,}/s target)"
    )
    print(
        f"distinct user-agents: {distinct_rate:>9,.0f} classifications/s "
        f"({distinct_rate / TARGET_DISTINCT:.2f}x the {TARGET_DISTINCT:,}/s target, "
        f"{len(distinct):,} never seen)"
    )
    print(
        f"classify start-up:    {start_wall:>9.3f} s wall, {start_cpu:.3f} s CPU "
        f"(fastest of {args.starts}; target {TARGET_START_S} s)"
    )
    figures = {
        "classify_per_s_repeated": round(repeated_rate),
        "classify_per_s_distinct": round(distinct_rate),
        "classify_start_s_wall": round(start_wall, 3),
        "classify_start_s_cpu": round(start_cpu, 3),
    }
    print(json.dumps(figures))
    met = (
        repeated_rate >= TARGET_REPEATED
        and distinct_rate >= TARGET_DISTINCT
        and start_cpu < TARGET_START_S
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
