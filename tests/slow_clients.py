"""Slow-body clients (issue 13, failure 2), shared by the e2e test and `make soak`."""

from __future__ import annotations

import selectors
import socket
import threading
import time


class SlowClients:
    """`count` connections each sending a login body one byte a second, reconnecting when cut.

    Run in a thread; `answers` collects the status of every answer a slow client got (408 when
    the server cut its body off), `cut` counts connections the server ended.
    """

    def __init__(self, port: int, count: int, seconds: float, byte_every: float = 1.0) -> None:
        self.port, self.count, self.seconds, self.byte_every = port, count, seconds, byte_every
        self.answers: list[int] = []
        self.cut = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self, selector: selectors.BaseSelector) -> None:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        connection.sendall(
            b"POST /dashboard/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            % self.port
        )
        selector.register(connection, selectors.EVENT_READ)

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:  # epoll: more than 1,024 sockets
            for _ in range(self.count):
                self._connect(selector)
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                for key, _ in selector.select(timeout=self.byte_every):
                    connection = key.fileobj
                    try:
                        head = connection.recv(64)  # type: ignore[union-attr]
                    except OSError:
                        head = b""
                    if head.startswith(b"HTTP/1.1 "):
                        self.answers.append(int(head[9:12]))
                    self.cut += 1
                    selector.unregister(connection)
                    connection.close()  # type: ignore[union-attr]
                    self._connect(selector)
                for key in list(selector.get_map().values()):
                    try:
                        key.fileobj.send(b"a")  # type: ignore[union-attr]
                    except OSError:
                        pass  # cut: the selector reports it next round
            for key in list(selector.get_map().values()):
                key.fileobj.close()  # type: ignore[union-attr]
