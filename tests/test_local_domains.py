"""One rule says which domains are this machine (served over http): short URLs and the first-start
text both follow it."""

from __future__ import annotations

import pytest

from shortener.boot import welcome_text
from shortener.links import is_local_domain, short_url

DOMAINS = [
    ("localhost", True),
    ("localhost:8000", True),
    ("app.localhost:8000", True),  # RFC 6761: every name under localhost is loopback
    ("127.0.0.1:8000", True),
    ("127.0.0.2", True),  # all of 127.0.0.0/8 is loopback
    ("[::1]:8000", True),
    ("go.brand.com", False),
    ("notlocalhost:8000", False),
    ("localhost.brand.com", False),
    ("127.0.0.1.nip.io", False),
    ("10.0.0.1:8000", False),
]


@pytest.mark.parametrize(("domain", "local"), DOMAINS, ids=[d for d, _ in DOMAINS])
def test_local_domains_get_http_everywhere_else_https(domain: str, local: bool) -> None:
    scheme = "http" if local else "https"
    assert is_local_domain(domain) is local
    assert short_url(domain, "abc") == f"{scheme}://{domain}/abc"
    text = welcome_text("lum_key", domain)
    assert f"{scheme}://{domain}/api/v1/links" in text
    assert f"{scheme}://{domain}/dashboard" in text
