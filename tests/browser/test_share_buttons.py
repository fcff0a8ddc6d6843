"""share.js in a real headless Chromium, on a publisher's page served from a local origin.

Lumen (as `localhost:<port>`) and the publisher's site (as `127.0.0.1:<port>`) are two real HTTP
servers on the loopback interface; the same site reached as `site.localhost` (Chromium resolves
`*.localhost` to the loopback) is an origin the publisher did not list.
Every request to any other host is intercepted and answered locally, so nothing leaves the machine
and the share intents (wa.me, ...) can be checked. Debian's Chromium is used (never `playwright
install`, see tests/browser/conftest.py); without it these tests skip, unless
LUMEN_REQUIRE_BROWSER=1 (CI) makes them fail.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

from shortener.hits.recording import day_of
from shortener.links import now_ms, short_url
from shortener.publishers import create_publisher
from shortener.shares import NATIVE_SHARE, SHARE_BUTTONS
from shortener.store import Keys
from tests.conftest import day_fields

# A desktop Chrome: HeadlessChrome is (rightly) classified as a bot, whose arrivals are not
# people's.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 "
    "Safari/537.36"
)
TITLE = "Dark social, measured"
TEXT = (
    "Most sharing happens in private messages, where analytics cannot see it and calls it direct "
    "traffic; copy-paste is the largest of those channels."
)
# Every button but the Web Share sheet (drawn only where the browser offers one).
BUTTONS = [button for button in SHARE_BUTTONS if button != NATIVE_SHARE]
EXTERNAL = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost|[a-z0-9.-]+\.localhost)[:/])")
TOKEN = re.compile(r"#lm=([A-Za-z0-9]{8})\.(\d+)$")
FIRST_SHARE = "?lc=1_page"
# Do Not Track and Global Privacy Control, as a page sees them.
PRIVACY_SIGNALS = [
    "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})",
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})",
]  # what share.js adds to a link shared by a visitor who came another way
DOCS_SCREENSHOT = os.environ.get(
    "LUMEN_SHARE_SCREENSHOT", ""
)  # set to write the README's screenshot


class LateApp:
    """A WSGI app chosen after its server is bound, so the app can know its own port."""

    def __init__(self) -> None:
        self.app: Callable | None = None

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        return self.app(environ, start_response)


@contextmanager
def serving(app: LateApp) -> Iterator[int]:
    """Serve `app` on 127.0.0.1 in a thread; yields the port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join()


def page_html(lumen: str, key: str, path: str, query: str) -> str | None:
    """The publisher's pages: an article, the home page, a copy-text article and a gallery of
    looks."""
    script_attrs = "" if "no-fb-app" in query else 'data-lumen-fb-app-id="1234567890"'
    if "track-home" in query:
        script_attrs += " data-lumen-track-home"
    widgets = "<div data-lumen-share></div>"
    if path == "/copy":
        script_attrs += " data-lumen-copy-text"
    elif path == "/gallery":
        widgets = (
            '<h2>Brand colours</h2><div data-lumen-share data-lumen-title="A custom title"></div>'
            "<h2>Light, small, chosen channels</h2><div data-lumen-share "
            'data-lumen-theme="light" data-lumen-size="small" '
            'data-lumen-channels="copy, x, whatsapp, email"></div>'
            '<h2>Dark, icons only</h2><div data-lumen-share data-lumen-theme="dark" '
            'data-lumen-labels="off"></div>'
            '<h2>Another article</h2><div data-lumen-share data-lumen-url="/other" '
            'data-lumen-title="Other" '
            'data-lumen-channels="telegram sms"></div>'
        )
    elif path not in ("/story", "/"):
        return None
    # Hostile host styles: none of them may reach the buttons inside the shadow root. (The gallery,
    # which makes the README's screenshot, is styled like an ordinary article.)
    style = (
        "body{font:21px/1.5 "
        "Georgia,serif;color:#8b0000;letter-spacing:3px;margin:2em;max-width:52em}"
        "a,button,span,svg{color:lime!important;background:yellow!important} "
        ".b{display:none!important}"
    )
    if path == "/gallery":
        style = (
            "body{font:17px/1.5 Georgia,serif;color:#222;margin:2em;max-width:52em} "
            "h2{font:600 15px system-ui;color:#555}"
        )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(TITLE)}</title>
<style>{style}</style></head>
<body><h1>{escape(TITLE)}</h1><p id="text">{escape(TEXT)}</p>
<p><span id="short">Three short words</span></p>
{widgets}<p id="comments">Comments</p>
<script src="{lumen}/embed/share.js" data-lumen-key="{key}" {script_attrs} async></script>
</body></html>"""


@dataclass
class Stage:
    """Lumen, the publisher's site and a Chromium, for one test."""

    browser: object
    redis: object
    keys: Keys
    lumen: str
    site_port: int
    key: str
    external: list[str] = field(default_factory=list)
    contexts: list[object] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.site_port}{path}"

    def new_page(self, **options: object):  # type: ignore[no-untyped-def]
        """A page in a fresh context (no shared history: each is another person)."""
        options.setdefault("user_agent", DESKTOP_CHROME)
        context = self.browser.new_context(**options)
        self.contexts.append(context)
        # A pattern, not a callable: Playwright then holds back only the matching requests, so
        # beacons to Lumen go out while this thread polls Redis.
        context.route(EXTERNAL, self._intercept)
        return context.new_page()

    def _intercept(self, route) -> None:  # type: ignore[no-untyped-def]
        self.external.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>intercepted</p>")

    def link_id(self, page_url: str) -> int:
        return int(eventually(lambda: self.redis.hget(self.keys.publisher_pages("news"), page_url)))

    def variants(self, page_url: str) -> dict[str, str]:
        domain = self.lumen.removeprefix("http://")
        codes = self.redis.hgetall(self.keys.variants(self.link_id(page_url)))
        return {channel: short_url(domain, code) for channel, code in codes.items()}

    def day(self, page_url: str) -> dict[str, str]:
        return day_fields(self.redis, self.keys.link_day(self.link_id(page_url), day_of(now_ms())))


def eventually(check: Callable[[], object], timeout: float = 15.0) -> object:
    """Poll `check` until it returns something truthy (beacons land asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("the expected state never appeared in Redis")
        time.sleep(0.05)


@pytest.fixture
def stage(browser, make_app, redis_client, keys) -> Iterator[Stage]:
    lumen_app, site_app = LateApp(), LateApp()
    with serving(lumen_app) as lumen_port, serving(site_app) as site_port:
        domain = f"localhost:{lumen_port}"
        lumen_app.app = make_app(
            domains=(domain,), default_domain=domain, embed_rate_limit="1000 per minute"
        )
        publisher = create_publisher(
            redis_client, keys, "news", [f"http://127.0.0.1:{site_port}"], now_ms()
        )

        def site(environ, start_response):  # type: ignore[no-untyped-def]
            html = page_html(
                f"http://{domain}",
                publisher.key,
                environ["PATH_INFO"],
                environ.get("QUERY_STRING", ""),
            )
            status = "200 OK" if html else "404 Not Found"
            start_response(status, [("Content-Type", "text/html; charset=utf-8")])
            return [(html or "not found").encode()]

        site_app.app = site
        stage = Stage(browser, redis_client, keys, f"http://{domain}", site_port, publisher.key)
        yield stage
        for context in stage.contexts:
            context.close()


def shown_channels(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The channels of the rendered buttons of the first widget, in order (waits for them)."""
    page.locator("[data-lumen-share] .b").first.wait_for()
    return page.eval_on_selector(
        "[data-lumen-share]",
        "el => [...el.shadowRoot.querySelectorAll('.b')].map(b => b.dataset.channel)",
    )


def test_buttons_render_with_their_variant_links_accessibly_and_isolated(stage):
    page = stage.new_page()
    page.goto(stage.url("/story"))
    channels = shown_channels(page)
    has_web_share = page.evaluate("typeof navigator.share === 'function'")
    assert channels == BUTTONS + ([NATIVE_SHARE] if has_web_share else [])
    variants = stage.variants(stage.url("/story"))
    hrefs = page.eval_on_selector(
        "[data-lumen-share]",
        (
            "el => Object.fromEntries([...el.shadowRoot.querySelectorAll('a.b')].map(a => "
            "[a.dataset.channel, a.href]))"
        ),
    )
    for channel, href in hrefs.items():
        assert quote(variants[channel], safe="") in href, (
            channel
        )  # each button carries its own variant
    assert hrefs["whatsapp"] == "https://wa.me/?text=" + quote(
        f"{TITLE} {variants['whatsapp']}{FIRST_SHARE}", safe=""
    )
    assert hrefs["messenger"].startswith(
        "https://www.facebook.com/dialog/send?app_id=1234567890&link="
    )
    assert hrefs["sms"].startswith("sms:?&body=") and hrefs["email"].startswith("mailto:?subject=")
    # Real links and buttons with accessible names, in a labelled group.
    assert page.get_by_role("group", name="Share this page").is_visible()
    assert page.get_by_role("link", name="Share on WhatsApp (new tab)").is_visible()
    assert page.get_by_role("link", name="Share by SMS").is_visible()
    assert page.get_by_role("button", name="Copy link").is_visible()
    # The host page's hostile styles do not reach inside.
    style = page.locator("[data-lumen-share] .b").first.evaluate(
        "b => { const s = getComputedStyle(b); return [s.display, s.color, "
        "s.backgroundColor, s.fontSize, s.letterSpacing] }"
    )
    assert style == ["flex", "rgb(255, 255, 255)", "rgb(11, 122, 75)", "14px", "normal"]
    # Keyboard: Tab reaches the buttons in order, with a visible focus ring.
    page.keyboard.press("Tab")
    focused = (
        "el => [el.shadowRoot.activeElement?.dataset.channel, "
        "getComputedStyle(el.shadowRoot.activeElement).outlineStyle]"
    )
    assert page.eval_on_selector("[data-lumen-share]", focused) == ["whatsapp", "solid"]
    page.keyboard.press("Tab")
    assert page.eval_on_selector("[data-lumen-share]", focused)[0] == "sms"
    # No cookies, no storage, no request to anything but Lumen and the site.
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert stage.external == []


def test_clicking_whatsapp_opens_wa_me_with_the_variant_and_counts_a_share(stage):
    page = stage.new_page()
    page.goto(stage.url("/story"))
    shown_channels(page)
    whatsapp = stage.variants(stage.url("/story"))["whatsapp"]
    with page.expect_popup() as popup:
        page.get_by_role("link", name="Share on WhatsApp (new tab)").click()
    popup.value.wait_for_load_state()
    assert popup.value.url == "https://wa.me/?text=" + quote(
        f"{TITLE} {whatsapp}{FIRST_SHARE}", safe=""
    )
    assert stage.external == [popup.value.url]  # intercepted: nothing left the machine
    assert eventually(lambda: stage.day(stage.url("/story")).get("sh:whatsapp")) == "1"
    # The friend follows the shared link: a click attributed to WhatsApp by its tag.
    friend = stage.new_page()
    friend.goto(whatsapp)
    assert friend.url.startswith(stage.url("/story"))
    day = eventually(lambda: (d := stage.day(stage.url("/story"))).get("t:whatsapp") and d)
    assert day["t:whatsapp"] == "1" and day["e:tag"] == "1" and day["s:messaging"] == "1"


def test_copy_link_puts_the_copy_variant_on_the_clipboard(stage):
    page = stage.new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(stage.url("/story"))
    shown_channels(page)
    copy_button = page.get_by_role("button", name="Copy link")
    copy_button.focus()
    page.keyboard.press("Enter")
    assert (
        page.evaluate("navigator.clipboard.readText()")
        == stage.variants(stage.url("/story"))["copy"] + FIRST_SHARE
    )
    assert copy_button.inner_text() == "Copied"
    assert eventually(lambda: stage.day(stage.url("/story")).get("sh:copy")) == "1"


def test_the_address_bar_token_and_copy_paste_arrivals_by_generation(stage):
    story = stage.url("/story")
    first = stage.new_page()
    first.goto(story)
    first.wait_for_url(TOKEN)
    token_1 = TOKEN.search(first.url)
    assert token_1.group(2) == "1"
    # Someone pastes that address into a fresh browser (no referrer): a copy-paste arrival.
    second = stage.new_page()
    second.goto(first.url)
    second.wait_for_url(
        lambda url: TOKEN.search(url) and TOKEN.search(url).group(1) != token_1.group(1)
    )
    assert TOKEN.search(second.url).group(2) == "2"
    day = eventually(lambda: (d := stage.day(story)).get("gen:1") and d)
    assert (day["gen:1"], day["e:copy"], day["s:dark"], day["de:copy"]) == ("1", "1", "1", "1")
    # A reload is the same view: its token stays and nothing is reported.
    own = second.url
    second.reload()
    shown_channels(second)
    assert second.url == own
    # A paste of the pasted address is the next generation (by another person: an arrival
    # counts once per visitor, page and day, and these contexts share one address).
    third = stage.new_page(user_agent=DESKTOP_CHROME + " Edg/126.0.0.0")
    third.goto(own)
    third.wait_for_url(lambda url: TOKEN.search(url) and TOKEN.search(url).group(2) == "3")
    day = eventually(lambda: (d := stage.day(story)).get("gen:2") and d)
    assert (day["gen:1"], day["gen:2"], day["e:copy"]) == ("1", "1", "2")
    link_id = stage.link_id(story)
    arrivals = [
        hit
        for _, hit in stage.redis.xrange(stage.keys.link_hits(link_id))
        if hit["evidence"] == "copy"
    ]
    assert [(hit["kind"], hit["source"], hit["referrer"]) for hit in arrivals] == [
        ("human", "dark", "")
    ] * 2


def test_no_token_on_a_page_with_its_own_fragment_or_on_the_home_page(stage):
    page = stage.new_page()
    page.goto(stage.url("/story#comments"))
    shown_channels(page)
    assert page.url == stage.url("/story#comments")
    page.goto(stage.url("/"))
    shown_channels(page)
    assert page.url == stage.url("/")
    page.goto(stage.url("/?track-home"))  # the home page when the script tag asks for it
    page.wait_for_url(TOKEN)


def test_a_page_on_an_origin_the_publisher_did_not_list_gets_no_links_and_no_buttons(stage):
    page = stage.new_page()
    refused = []
    page.on("requestfailed", lambda request: refused.append(request.url))
    with page.expect_console_message(lambda m: "Lumen share buttons" in m.text):
        page.goto(stage.url("/story", host="site.localhost"))
    assert refused == [f"{stage.lumen}/api/v1/share-links"]  # 403 without CORS headers: unreadable
    assert page.eval_on_selector("[data-lumen-share]", "el => el.shadowRoot") is None
    assert page.url == stage.url("/story", host="site.localhost")  # no token either
    assert stage.redis.get(stage.keys.sequence()) is None  # no link was ever made
    assert not stage.redis.exists(stage.keys.publisher_pages("news"))


@pytest.mark.parametrize("signal", PRIVACY_SIGNALS, ids=["do-not-track", "global-privacy-control"])
def test_do_not_track_and_gpc_mean_no_tokens_only_button_shares(stage, signal):
    page = stage.new_page()
    page.context.add_init_script(signal)
    page.goto(stage.url("/story"))
    shown_channels(page)
    assert page.url == stage.url("/story")  # no token written
    pasted = stage.url("/story#lm=Abcdefgh.1")
    page.goto(pasted)
    shown_channels(page)
    assert page.url == pasted  # not replaced, and not reported
    with page.expect_popup():
        page.get_by_role("link", name="Share on Telegram (new tab)").click()
    day = eventually(lambda: (d := stage.day(stage.url("/story"))).get("sh:telegram") and d)
    assert "e:copy" not in day and not any(name.startswith("gen:") for name in day)


def test_copied_text_gets_the_copy_link_appended_when_the_site_opts_in(stage):
    page = stage.new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(stage.url("/copy"))
    shown_channels(page)
    page.wait_for_url(TOKEN)  # tracking has started: the copy listener is in place
    copy_link = stage.variants(stage.url("/copy"))["copy"]

    def copied(selector: str) -> str:
        page.evaluate("s => getSelection().selectAllChildren(document.querySelector(s))", selector)
        page.keyboard.press("Control+C")
        return page.evaluate("navigator.clipboard.readText()")

    assert copied("#text") == f"{TEXT}\n\nRead more: {copy_link}{FIRST_SHARE}"
    assert copied("#short") == "Three short words"  # a few words are left alone
    plain = stage.new_page(permissions=["clipboard-read", "clipboard-write"])
    plain.goto(stage.url("/story"))
    shown_channels(plain)
    plain.evaluate("getSelection().selectAllChildren(document.querySelector('#text'))")
    plain.keyboard.press("Control+C")
    assert plain.evaluate("navigator.clipboard.readText()") == TEXT  # not opted in: untouched


def test_several_widgets_with_their_own_looks_channels_and_pages(stage, tmp_path):
    page = stage.new_page(viewport={"width": 1000, "height": 720})
    page.goto(stage.url("/gallery"))
    page.wait_for_function(
        "[...document.querySelectorAll('[data-lumen-share]')].every(el => el.shadowRoot)"
    )
    widgets = page.eval_on_selector_all(
        "[data-lumen-share]",
        (
            "els => els.map(el => [...el.shadowRoot.querySelectorAll('.b')].map(b => "
            "[b.dataset.channel, b.href || '']))"
        ),
    )
    assert [channel for channel, _ in widgets[1]] == ["copy", "twitter", "whatsapp", "email"]
    assert [channel for channel, _ in widgets[3]] == ["telegram", "sms"]
    other = stage.variants(stage.url("/other"))
    assert quote(other["telegram"], safe="") in widgets[3][0][1]  # that widget shares its own page
    assert "A%20custom%20title" in dict(widgets[0])["twitter"]
    icons_only = page.locator("[data-lumen-share]").nth(2).locator(".b span").first
    assert (
        icons_only.evaluate("s => getComputedStyle(s).width") == "1px"
    )  # visually hidden, still read out
    page.evaluate("""() => {
        const late = document.createElement('div');
        late.id = 'late';
        late.setAttribute('data-lumen-share', '');
        late.setAttribute('data-lumen-channels', 'reddit');
        document.body.append(late);
        LumenShare.scan();
    }""")
    page.locator("#late .b").wait_for()  # a widget added after load, rendered on request
    shot = tmp_path / "share-buttons.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if DOCS_SCREENSHOT:
        Path(DOCS_SCREENSHOT).write_bytes(shot.read_bytes())


def test_messenger_needs_an_app_id_on_desktop_and_opens_the_app_on_phones(stage):
    desktop = stage.new_page()
    desktop.goto(stage.url("/story?no-fb-app"))
    assert "messenger" not in shown_channels(desktop)  # Facebook's send dialog needs an app id
    phone = stage.new_page(
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    phone.goto(stage.url("/story?no-fb-app"))
    assert "messenger" in shown_channels(phone)
    messenger = stage.variants(stage.url("/story?no-fb-app"))["messenger"]
    href = phone.get_by_role("link", name="Share on Messenger").get_attribute("href")
    assert href == "fb-messenger://share?link=" + quote(messenger + FIRST_SHARE, safe="")


def cascade_fields(day: dict[str, str]) -> dict[str, str]:
    return {name: n for name, n in day.items() if name.startswith(("cas:", "cac:", "cg:"))}


def test_the_share_cascade_across_pages_and_people(stage):
    story = stage.url("/story")
    # Person 0 came to the story another way and shares it on WhatsApp: generation 1.
    origin = stage.new_page()
    origin.goto(story)
    shown_channels(origin)
    whatsapp = stage.variants(story)["whatsapp"]
    with origin.expect_popup() as popup:
        origin.get_by_role("link", name="Share on WhatsApp (new tab)").click()
    assert popup.value.url.endswith(quote(f"{whatsapp}?lc=1_page", safe=""))
    eventually(lambda: stage.day(story).get("cas:page>whatsapp"))
    # Person A, in another browser context, follows that WhatsApp link: the redirect hands the
    # arrival to share.js in the fragment, which reads it, removes it and reports the click.
    friend = stage.new_page()
    friend.goto(f"{whatsapp}?lc=1_page")
    friend.wait_for_url(TOKEN)  # the fragment is now the copy-paste token, the hand-over is gone
    assert "lumen=" not in friend.url and friend.url.startswith(story)
    eventually(lambda: stage.day(story).get("cac:page>whatsapp"))
    # A shares it on Telegram: generation 2, its parent channel WhatsApp.
    telegram = stage.variants(story)["telegram"]
    href = friend.get_by_role("link", name="Share on Telegram (new tab)").get_attribute("href")
    assert quote(f"{telegram}?lc=2_whatsapp", safe="") in href
    with friend.expect_popup():
        friend.get_by_role("link", name="Share on Telegram (new tab)").click()
    eventually(lambda: stage.day(story).get("cas:whatsapp>telegram"))
    # Person B, a third context, follows the Telegram link: a click on WhatsApp -> Telegram.
    second = stage.new_page()
    second.goto(f"{telegram}?lc=2_whatsapp")
    second.wait_for_url(TOKEN)
    assert "lumen=" not in second.url
    day = eventually(lambda: (d := stage.day(story)).get("cac:whatsapp>telegram") and d)
    assert cascade_fields(day) == {
        "cas:page>whatsapp": "1",
        "cg:1": "1",
        "cac:page>whatsapp": "1",
        "cas:whatsapp>telegram": "1",
        "cg:2": "1",
        "cac:whatsapp>telegram": "1",
    }
    assert (day["t:whatsapp"], day["t:telegram"]) == ("1", "1")  # the redirect's own clicks
    assert stage.external and all("lumen" not in url.split("?")[0] for url in stage.external)


@pytest.mark.parametrize("signal", PRIVACY_SIGNALS, ids=["do-not-track", "global-privacy-control"])
def test_do_not_track_and_gpc_turn_the_cascade_off(stage, signal):
    story = stage.url("/story")
    first = stage.new_page()
    first.goto(story)
    shown_channels(first)
    telegram = stage.variants(story)["telegram"]
    private = stage.new_page()
    private.context.add_init_script(signal)
    private.goto(f"{telegram}?lc=2_whatsapp")
    shown_channels(private)
    assert private.url == story  # the hand-over is removed, and nothing replaces it
    share = private.get_by_role("link", name="Share on Telegram (new tab)")
    href = share.get_attribute("href")
    assert "lc%3D" not in href and quote(telegram, safe="") in href
    with private.expect_popup():
        share.click()
    day = eventually(lambda: (d := stage.day(story)).get("sh:telegram") and d)
    assert cascade_fields(day) == {}  # no edge, no generation, no click reported
