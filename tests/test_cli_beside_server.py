"""CLI commands run beside `serve` make links on the running server's domain (issue 15, 14)."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.conftest import ROOT, process_environ, served_lumen
from tests.test_serve_e2e import request

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def cli(data_dir, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """The CLI as a user runs it in a second terminal: same data dir, no PORT, no REDIS_URL."""
    env = process_environ(LUMEN_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "shortener", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_links_and_demo_land_on_the_served_port(tmp_path):
    with served_lumen(["-m", "shortener", "serve"], 1, tmp_path / "serve.log") as (port, data_dir):
        assert port != 8000
        made = cli(data_dir, "links", "create", "https://example.com/beside", "--slug", "beside")
        assert made.returncode == 0, made.stderr
        assert made.stdout.strip().splitlines()[-1] == f"http://localhost:{port}/beside"
        # The README opens the dashboard on 127.0.0.1: the same link answers there too.
        for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
            response, _ = request(
                port, "GET", "/beside", headers={"Host": host, "User-Agent": FIREFOX}
            )
            assert (
                response.status == 302
                and response.getheader("Location") == "https://example.com/beside"
            )
        demo = cli(data_dir, "demo", "--days", "2")
        assert demo.returncode == 0, demo.stderr
        assert f"Open http://localhost:{port}/dashboard" in demo.stdout
        assert "demo: 100%" in demo.stderr  # the progress bar
    # Once the server is gone, the CLI is back on its own settings (PORT, default 8000).
    try:
        after = cli(data_dir, "links", "create", "https://example.com/after")
        assert after.returncode == 0, after.stderr
        assert after.stdout.strip().splitlines()[-1].startswith("http://localhost:8000/")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
