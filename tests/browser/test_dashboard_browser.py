"""The dashboard in a real headless Chromium, against the real app and real redirects."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from shortener.apikeys import create_api_key
from shortener.demo import fill_demo
from shortener.figures import today_of
from shortener.links import now_ms
from tests.agents import CHROME, GOOGLEBOT, IPHONE, WHATSAPP_PREVIEW
from tests.browser.conftest import LiveServer
from tests.conftest import write_instance_counts

MESSENGER_IN_APP = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) "
    "Mobile/15E148 [FBAN/Messenger;FBAV/450.0.0.34.109;FBBV/600000000;FBDV/iPhone15,2;FBMD/iPhone;"
    "FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]"
)
HOSTILE_TITLE = '<script>window.pwned=1</script>"><img src=x onerror="window.pwned=2">'
HOSTILE_REFERRER = 'https://evil.example/"><img src=x onerror="window.pwned=3">'
HOSTILE_UA = CHROME + ' <script>window.pwned=4</script>"><img src=x onerror="window.pwned=5">'
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def send_hit(server: LiveServer, code: str, ua: str, referrer: str = "") -> int:
    """One GET of a short code with real headers, not following the redirect; returns the status."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"User-Agent": ua, "Host": server.host}
    if referrer:
        headers["Referer"] = referrer
    connection.request("GET", f"/{code}", headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.fixture
def api_key(live_server: LiveServer) -> str:
    ctx = live_server.app.extensions["lumen"]
    return create_api_key(ctx.redis, ctx.keys, "browser", now_ms())


@pytest.fixture
def page(browser, live_server: LiveServer, api_key: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A signed-in page; fails the test on any script error or dialog."""
    context = browser.new_context(viewport=DESKTOP)
    signed_in = context.new_page()
    errors: list[str] = []
    signed_in.on("pageerror", lambda error: errors.append(str(error)))
    signed_in.on(
        "dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    signed_in.goto(live_server.url("/dashboard/"))
    assert "/dashboard/login" in signed_in.url
    signed_in.fill("#api_key", api_key)
    signed_in.click("button[type=submit]")
    signed_in.wait_for_url(live_server.url("/dashboard/"))
    yield signed_in
    context.close()
    assert errors == []


def figure(page, name: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f'[data-figure="{name}"]').first.inner_text()


def create_link_through_the_form(page, live_server: LiveServer, **fields: str) -> str:  # type: ignore[no-untyped-def]
    """Fill the create form; returns the new link's short code (from its page)."""
    page.goto(live_server.url("/dashboard/links"))
    for name, value in fields.items():
        page.fill(f"#f-{name}", value)
    page.click("form.create button[type=submit]")
    page.wait_for_url("**/dashboard/links/*")
    return page.locator("#short-url").inner_text().rsplit("/", 1)[1]


def test_hits_sent_through_the_redirect_change_figures_and_charts_in_place(
    page, live_server, artifacts
):
    code = create_link_through_the_form(
        page,
        live_server,
        url="https://example.com/spring",
        title="Spring sale",
        tags="campaign, spring",
    )
    page.goto(live_server.url("/dashboard/?range=7"))
    assert figure(page, "human") == "0" and figure(page, "dark-share") == "—"
    page.evaluate("window.notReloaded = true")

    assert send_hit(live_server, code, CHROME) == 302  # dark direct
    assert send_hit(live_server, code, IPHONE, "https://l.facebook.com/l.php") == 302  # social
    assert send_hit(live_server, code, MESSENGER_IN_APP) == 302  # messaging, in-app
    assert send_hit(live_server, code, WHATSAPP_PREVIEW) == 302  # a share, not a click
    assert send_hit(live_server, code, GOOGLEBOT) == 302  # a bot, not a click

    expect(page.locator('[data-figure="human"]')).to_have_text(
        "3", timeout=15_000
    )  # the page refreshes itself
    assert page.evaluate("window.notReloaded") is True  # refreshed in place, not reloaded
    assert figure(page, "dark-share") == "67 %"
    assert figure(page, "dark-public-ratio") == "2.0 : 1"
    assert figure(page, "previews") == "1" and figure(page, "bots") == "1"
    today = today_of(now_ms()).isoformat()
    column = page.locator(f'svg.bars g[data-day="{today}"]')
    assert column.get_attribute("data-total") == "3"
    assert column.locator("rect").count() == 3  # dark direct, messaging, social
    assert page.locator("svg.bars g").count() == 7
    assert page.locator("#channels").inner_text().count("facebook") == 1
    assert "Spring sale" in page.locator("#top-links").inner_text()
    page.screenshot(path=str(artifacts / "dashboard-overview-after-hits.png"), full_page=True)


def test_range_picker_and_custom_range(page, live_server):
    page.click("nav.presets >> text=7 days")
    page.wait_for_url("**range=7")
    assert page.locator("svg.bars g").count() == 7
    page.click("nav.presets >> text=90 days")
    assert page.locator("svg.bars g").count() == 90
    page.fill("form.custom input[name=from]", "2026-01-01")
    page.fill("form.custom input[name=to]", "2026-01-14")
    page.click("form.custom button[type=submit]")
    page.wait_for_url("**from=2026-01-01**")
    assert page.locator("svg.bars g").count() == 14


def test_create_form_errors_show_next_to_the_field(page, live_server):
    page.goto(live_server.url("/dashboard/links"))
    page.fill("#f-url", "ftp://example.com/x")
    page.fill("#f-slug", "api")
    page.click("form.create button[type=submit]")
    assert "http:// or https://" in page.locator("#f-url-error").inner_text()
    assert page.input_value("#f-url") == "ftp://example.com/x"
    page.fill("#f-url", "https://example.com/x")
    page.click("form.create button[type=submit]")
    assert "reserved" in page.locator("#f-slug-error").inner_text()


def test_share_link_copy_button_and_qr_code(page, live_server, browser):
    code = create_link_through_the_form(
        page, live_server, url="https://example.com/podcast", title="Podcast"
    )
    page.select_option("#channel", "whatsapp")
    page.click("form.inline button[type=submit]")
    row = page.locator('tr[data-channel="whatsapp"]')
    variant_url = row.locator("code").inner_text()
    assert send_hit(live_server, variant_url.rsplit("/", 1)[1], IPHONE) == 302
    expect(row.locator("td.n").first).to_have_text("1", timeout=15_000)
    page.context.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server.url("")
    )
    row.locator("button.copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == variant_url
    assert page.locator("figure.qr svg.segno path").count() >= 1  # the QR code, inline
    assert page.locator("#short-url").inner_text() == live_server.url(f"/{code}")


def test_hostile_title_referrer_and_user_agent_show_as_text_and_run_nothing(page, live_server):
    code = create_link_through_the_form(
        page, live_server, url="https://example.com/x", title=HOSTILE_TITLE
    )
    assert send_hit(live_server, code, HOSTILE_UA, HOSTILE_REFERRER) == 302
    write_instance_counts()  # the instance-wide counts, as the worker writes them each second
    for path in (page.url, live_server.url("/dashboard/links"), live_server.url("/dashboard/")):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.pwned") is None
        assert page.locator('img[src="x"]').count() == 0
        assert HOSTILE_TITLE in page.inner_text("main")
    page.go_back()  # the link's page: referrer and user-agent in the latest hits
    page.goto(live_server.url("/dashboard/links"))
    page.click("#link-list a >> nth=0")
    hits = page.locator("#recent-hits").inner_text()
    assert HOSTILE_REFERRER in hits and "<script>window.pwned=4</script>" in hits
    assert page.evaluate("window.pwned") is None and page.locator('img[src="x"]').count() == 0


def test_every_page_loads_all_it_needs_from_lumen_itself(page, live_server):
    """No CDN: scripts, styles, fonts, icons and images all come from Lumen's own origin."""
    requested: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))
    create_link_through_the_form(page, live_server, url="https://example.com/own-assets")
    for path in ("/dashboard/", "/dashboard/links", "/no-such-code", "/"):
        page.goto(live_server.url(path))
    page.goto(live_server.url("/dashboard/"))
    page.click("form.signout button")
    page.wait_for_url("**/dashboard/login")
    assert any(url.endswith(".css") for url in requested) and any(
        url.endswith(".js") for url in requested
    )
    assert [url for url in requested if not url.startswith(live_server.url("/"))] == []


def test_sign_out(page, live_server):
    page.click("form.signout button")
    page.wait_for_url("**/dashboard/login")
    page.goto(live_server.url("/dashboard/"))
    assert "/dashboard/login" in page.url


def test_overview_screenshot_with_a_demo_history(page, live_server, artifacts):
    fill_demo(live_server.app.extensions["lumen"], days=30, scale=0.5)
    page.goto(live_server.url("/dashboard/?range=30"))
    assert float(figure(page, "dark-share").rstrip(" %")) > 0
    assert page.locator("svg.bars rect").count() > 60
    page.screenshot(path=str(artifacts / "dashboard-overview.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the overview scrolls sideways on a phone"
    page.screenshot(path=str(artifacts / "dashboard-overview-phone.png"), full_page=True)
    page.goto(live_server.url(page.locator("#top-links a").first.get_attribute("href")))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(artifacts / "dashboard-link-phone.png"), full_page=True)
