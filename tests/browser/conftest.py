"""Browser fixtures: the real app served on a free port, and Debian's Chromium through Playwright.

Playwright never downloads a browser here: the tests launch Debian's /usr/bin/chromium by
`executable_path`. Without it they skip, saying why, unless LUMEN_REQUIRE_BROWSER=1 (CI), where
they fail.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import free_port

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    """The Lumen app answering on 127.0.0.1:<port>, a configured domain."""

    app: Flask
    port: int

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium, or a skip (a failure when LUMEN_REQUIRE_BROWSER=1)."""
    path = shutil.which("chromium")
    if path is None:
        reason = (
            "Debian's chromium is not installed (apt-get install chromium): browser tests skipped"
        )
        if os.environ.get("LUMEN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason.replace("skipped", "required by LUMEN_REQUIRE_BROWSER=1"))
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    """One headless Chromium per test module (Playwright's sync API runs one instance at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The real app on a free port (werkzeug's threaded server), refreshing its figures every
    second."""
    port = free_port()
    domain = f"127.0.0.1:{port}"
    app = make_app(domains=(domain,), default_domain=domain, DASHBOARD_REFRESH_SECONDS=1)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, port)
    server.shutdown()
    thread.join()


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/ (git-ignored), where screenshots are kept."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
