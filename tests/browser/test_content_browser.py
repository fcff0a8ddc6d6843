"""Content-team features in Chromium: QR downloads on a link's page, and a read-only key."""

from __future__ import annotations

from shortener.apikeys import create_api_key
from shortener.links import now_ms
from tests.browser.conftest import LiveServer
from tests.browser.test_dashboard_browser import DESKTOP


def sign_in(browser, live_server: LiveServer, key: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    tab = context.new_page()
    tab.goto(live_server.url("/dashboard/login"))
    tab.fill("#api_key", key)
    tab.click("button[type=submit]")
    tab.wait_for_url(live_server.url("/dashboard/"))
    return context, tab


def test_the_link_page_downloads_the_qr_variants_code(browser, live_server, tmp_path):
    ctx = live_server.app.extensions["lumen"]
    link = ctx.links.create({"url": "https://example.com/poster", "title": "Poster"})
    context, tab = sign_in(
        browser, live_server, create_api_key(ctx.redis, ctx.keys, "qr", now_ms())
    )
    tab.goto(live_server.url(f"/dashboard/links/{link.id}"))
    [variant] = ctx.links.list_variants(link.id)
    assert variant.channel == "qr"
    qr_url = str(variant.as_json()["short_url"])
    assert qr_url in tab.locator("figure.qr figcaption").inner_text()
    for label, suffix in (("Download SVG", ".svg"), ("Download PNG", ".png")):
        with tab.expect_download() as info:
            tab.get_by_role("link", name=label).click()
        download = info.value
        assert download.suggested_filename == f"lumen-{link.id}-qr{suffix}"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        data = saved.read_bytes()
        if suffix == ".svg":
            assert b"<svg" in data and f"QR code of {qr_url}".encode() in data
        else:
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert tab.locator("figure.qr svg").count() == 1
    context.close()


def test_a_stats_key_reads_but_sees_no_forms(browser, live_server):
    ctx = live_server.app.extensions["lumen"]
    link = ctx.links.create({"url": "https://example.com/read", "title": "Read only"})
    key = create_api_key(ctx.redis, ctx.keys, "reader", now_ms(), ["stats:read"])
    context, tab = sign_in(browser, live_server, key)
    tab.goto(live_server.url("/dashboard/links"))
    assert tab.get_by_text("Read only").count() >= 1
    assert tab.locator("form.create").count() == 0
    tab.goto(live_server.url(f"/dashboard/links/{link.id}"))
    assert tab.locator("#channel").count() == 0
    context.close()
