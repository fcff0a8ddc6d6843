"""Where one redirect's time goes: pyinstrument over a few thousand redirects, in process.

Not part of `make bench` (it prints a call tree, not figures). Each redirect goes through the real
Flask app, the real attribution and the real recording script on an embedded Redis, with the
bench's traffic: distinct user-agents from the corpus and a mix of referrers.

Run: .venv/bin/python bench/profile_redirect.py   (pyinstrument is in requirements-dev.txt)
"""

from __future__ import annotations

import io
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
from pyinstrument import Profiler  # noqa: E402

from shortener.app import create_app  # noqa: E402
from shortener.embedded_redis import EmbeddedRedis  # noqa: E402

DOMAIN = "go.example.com"


def environ(code: str, user_agent: str, referrer: str) -> dict[str, object]:
    """A WSGI environ for GET /<code>, as gunicorn would pass it."""
    env: dict[str, object] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/{code}",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": DOMAIN,
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": DOMAIN,
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "HTTP_USER_AGENT": user_agent,
        "REMOTE_ADDR": "203.0.113.9",
    }
    if referrer:
        env["HTTP_REFERER"] = referrer
    return env


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lumen-profile-"))
    server = EmbeddedRedis(workdir)
    server.ensure_running()
    try:
        app = create_app(
            {
                "redis_url": server.url,
                "data_dir": str(workdir),
                "secret_key": "p",
                "domains": (DOMAIN,),
            },
            environ={},
        )
        links = app.extensions["lumen"].links
        codes = [links.create({"url": f"https://example.com/post/{i}"}).code for i in range(500)]
        rng = random.Random(11)
        traffic = [
            (rng.choice(codes), ua, ref) for ua, ref in distinct_hits(load_hits(), 8000, rng)
        ]

        def run(requests: list[tuple[str, str, str]]) -> None:
            for request in requests:
                body = app.wsgi_app(environ(*request), lambda status, headers, exc_info=None: None)
                getattr(body, "close", lambda: None)()  # a WSGI body may need closing

        run(traffic[:2000])  # warm: link cache, parsers, script loaded
        started = time.process_time()
        run(traffic[2000:5000])
        print(
            f"{(time.process_time() - started) / 3000 * 1e6:.0f} us of CPU per redirect "
            "(distinct user-agents)"
        )
        profiler = Profiler(interval=0.0001)
        profiler.start()
        run(traffic[5000:8000])
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
