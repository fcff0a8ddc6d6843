"""A small HTTP/1.1 keep-alive load generator, used by the redirect bench when wrk is not installed.

Run as a process of its own: python bench/loadgen.py REQUESTS.json PORT CONNECTIONS SECONDS
REQUESTS.json is a list of [path, user-agent, referrer]. Prints one JSON line:
{"requests": n, "seconds": s, "rps": r, "p50_ms": ..., "p99_ms": ..., "errors": e}.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time


async def _connection(
    port: int, requests: list[bytes], deadline: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random()
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        writer.write(rng.choice(requests))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        if not head.startswith((b"HTTP/1.1 30", b"HTTP/1.0 30")):
            errors.append(1)
        latencies.append(time.perf_counter() - started)
    writer.close()


async def run(
    requests: list[list[str]], port: int, connections: int, seconds: float
) -> dict[str, float]:
    """Keep `connections` connections busy for `seconds`; return throughput and latency."""
    raw = [
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {ua}\r\n"
            + (f"Referer: {referrer}\r\n" if referrer else "")
            + "\r\n"
        ).encode()
        for path, ua, referrer in requests
    ]
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(port, raw, deadline, latencies, errors) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": len(errors),
    }


if __name__ == "__main__":
    path, port, connections, seconds = (
        sys.argv[1],
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    with open(path) as handle:
        print(json.dumps(asyncio.run(run(json.load(handle), port, connections, seconds))))
