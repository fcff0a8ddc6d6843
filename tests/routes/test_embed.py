"""GET /embed/share.js: the script itself, its headers and its size budget."""

from __future__ import annotations

import gzip
import re

from shortener.routes.embed import STATIC
from tests.conftest import DOMAINS

MAX_GZIPPED_BYTES = 8 * 1024


def test_served_as_cacheable_javascript_loadable_from_any_site(client):
    response = client.get("/embed/share.js", headers={"Host": DOMAINS[0]})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["ETag"]
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers
    assert response.data == (STATIC / "share.js").read_bytes()
    again = client.get(
        "/embed/share.js", headers={"Host": DOMAINS[0], "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_only_on_lumen_domains(client):
    assert client.get("/embed/share.js", headers={"Host": "evil.example"}).status_code == 404


def test_at_most_8_kb_gzipped():
    size = len(gzip.compress((STATIC / "share.js").read_bytes(), compresslevel=9))
    assert size <= MAX_GZIPPED_BYTES, f"share.js is {size} bytes gzipped"


def test_no_cookies_storage_or_third_party_addresses_in_the_script():
    source = (STATIC / "share.js").read_text()
    for forbidden in (
        "document.cookie",
        "localStorage",
        "sessionStorage",
        "indexedDB",
        "eval(",
        "new Function",
    ):
        assert forbidden not in source, forbidden
    # Every absolute URL is a share intent the visitor's own click opens; nothing is fetched
    # from them.
    hosts = set(re.findall(r"https://([a-z0-9.-]+)", source))
    assert hosts <= {
        "wa.me",
        "t.me",
        "twitter.com",
        "www.facebook.com",
        "www.linkedin.com",
        "www.reddit.com",
        "go.example",
    }
    assert (
        "fetch(BASE" in source and source.count("fetch(") == 2
    )  # share links and the beacon fallback
