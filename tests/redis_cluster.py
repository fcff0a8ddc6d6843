"""A real 3-master Redis Cluster from the bundled redis-server, for the tests and the benchmarks.

Each node runs with `--cluster-enabled yes` in a directory of its own; the first node meets the
others (CLUSTER MEET), each takes a third of the slots (CLUSTER ADDSLOTS: ADDSLOTSRANGE is a 7.0
command and the bundled server is 6.2), and the cluster is ready when every node reports
`cluster_state:ok` (about 2 s: Redis's built-in writable delay).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis.cluster import RedisCluster

from shortener.embedded_redis import COMPACT_ENCODINGS, redis_server_binary

MASTERS = 3
SLOTS = 16384
START_TIMEOUT_SECONDS = 20.0
# A node also listens on port + 10000 (the cluster bus), and a port above 55535 makes it exit.
PORT_RANGE = (20000, 45000)


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_node_ports(count: int) -> list[int]:
    """`count` ports whose cluster-bus port (+10000) is free too (bounded tries)."""
    ports: list[int] = []
    for _ in range(1000):
        port = random.randrange(*PORT_RANGE)
        if port not in ports and _is_free(port) and _is_free(port + 10000):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError("no free ports for the Redis Cluster nodes")


class LocalCluster:
    """Three cluster masters on loopback; `url` is Lumen's `redis+cluster://` URL for them."""

    def __init__(self, binary: str = "", *, append_only: bool = False) -> None:
        self.binary = redis_server_binary(binary)
        self.append_only = append_only  # as a production node (the tests do without)
        self.directory = Path(tempfile.mkdtemp(prefix="lumen-cluster-"))
        self.ports = _free_node_ports(MASTERS)
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self) -> LocalCluster:
        """Start the nodes, join them, assign the slots, and wait until the cluster is ok."""
        for port in self.ports:
            node_dir = self.directory / str(port)
            node_dir.mkdir()
            self.processes.append(
                subprocess.Popen(
                    [
                        self.binary,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--dir",
                        str(node_dir),
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "2000",
                        "--appendonly",
                        "yes" if self.append_only else "no",
                        "--save",
                        "",
                        "--daemonize",
                        "no",
                        "--loglevel",
                        "warning",
                        *COMPACT_ENCODINGS,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        nodes = [self._node(port) for port in self.ports]
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        for node in nodes:
            self._wait(lambda node=node: node.ping(), deadline)
        for port in self.ports[1:]:
            nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", port)
        share = SLOTS // MASTERS
        for index, node in enumerate(nodes):
            last = SLOTS if index == MASTERS - 1 else (index + 1) * share
            node.execute_command("CLUSTER ADDSLOTS", *range(index * share, last))
        for node in nodes:
            self._wait(lambda node=node: self._is_ok(node), deadline)
        for node in nodes:
            node.close()
        return self

    def _node(self, port: int) -> redis.Redis:
        return redis.Redis("127.0.0.1", port, socket_timeout=2, decode_responses=True)

    def _is_ok(self, node: redis.Redis) -> bool:
        info = node.cluster("INFO")
        return info["cluster_state"] == "ok" and int(info["cluster_known_nodes"]) == MASTERS

    def _wait(self, ready, deadline: float) -> None:  # type: ignore[no-untyped-def]
        while True:
            try:
                if ready():
                    return
            except (redis.ConnectionError, redis.TimeoutError):
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                self.stop()
                raise RuntimeError("the Redis Cluster did not start (ports taken?)")
            time.sleep(0.02)

    def client(self) -> RedisCluster:
        """A cluster client answering str, with timeouts."""
        return RedisCluster("127.0.0.1", self.ports[0], decode_responses=True, socket_timeout=5)

    def stop(self) -> None:
        """Stop every node and remove their directories."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
