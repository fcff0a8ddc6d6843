"""Dark social carried into the site's own analytics, end to end in a real headless Chromium:
a share variant's click lands on the target page with utm_source/utm_medium from Lumen's
attribution, as the site's analytics script would read them from its own address."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from shortener.links import short_url
from tests.conftest import free_port

# A desktop Chrome: HeadlessChrome is (rightly) classified as a bot.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
# The target site's page: like an analytics snippet, its script reads its own query string.
LANDING = """<!doctype html><html><head><title>Landing</title></head><body>
<p id="query"></p>
<script>
const params = new URLSearchParams(location.search);
document.getElementById("query").textContent = JSON.stringify(Object.fromEntries(params));
</script></body></html>"""


@Request.application
def landing_site(request: Request) -> Response:
    return Response(LANDING, mimetype="text/html")


@pytest.fixture
def target_site() -> Iterator[str]:
    """The site's own page on another loopback origin (`localhost`, not a Lumen domain)."""
    port = free_port()
    server = make_server("127.0.0.1", port, landing_site, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}/landing"
    server.shutdown()
    thread.join()


def query_seen_by_the_page(browser, url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    context = browser.new_context(user_agent=DESKTOP_CHROME)
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("document.getElementById('query').textContent !== ''")
        return json.loads(page.text_content("#query") or "{}")
    finally:
        context.close()


def test_a_whatsapp_share_lands_as_whatsapp_in_the_sites_analytics(
    browser, live_server, target_site
) -> None:
    ctx = live_server.app.extensions["lumen"]
    link = ctx.links.create(
        {
            "url": f"{target_site}?lang=en",
            "utm_from_attribution": True,
            "utm": {"campaign": "spring"},
        }
    )
    variant, _ = ctx.links.add_variant(link.id, "whatsapp")
    seen = query_seen_by_the_page(browser, f"{short_url(variant.domain, variant.code)}?ref=chat")
    assert seen == {
        "lang": "en",
        "utm_campaign": "spring",
        "ref": "chat",
        "utm_source": "whatsapp",
        "utm_medium": "messaging",
    }
    assert ctx.redis.hget(ctx.keys.link(link.id), "human") == "1"


def test_without_the_option_the_site_sees_only_its_own_parameters(
    browser, live_server, target_site
) -> None:
    ctx = live_server.app.extensions["lumen"]
    link = ctx.links.create({"url": f"{target_site}?lang=en"})
    variant, _ = ctx.links.add_variant(link.id, "whatsapp")
    seen = query_seen_by_the_page(browser, short_url(variant.domain, variant.code))
    assert seen == {"lang": "en"}
