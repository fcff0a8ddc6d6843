"""The dashboard's link form in a real headless Chromium: create a link with every field, follow
it as an iPhone and through its password form, edit it, download the figures as CSV, and delete
it after confirming."""

from __future__ import annotations

import csv
import http.client
import io
from collections.abc import Iterator

import pytest

from shortener.apikeys import create_api_key
from shortener.links import now_ms
from tests.agents import IPHONE
from tests.browser.conftest import LiveServer

DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture
def signed_in(browser, live_server: LiveServer) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A signed-in dashboard page; fails the test on any script error."""
    ctx = live_server.app.extensions["lumen"]
    key = create_api_key(ctx.redis, ctx.keys, "browser", now_ms())
    context = browser.new_context(user_agent=DESKTOP_CHROME, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url("/dashboard/login"))
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url("/dashboard/"))
    yield page
    context.close()
    assert errors == []


def location_for(server: LiveServer, code: str, user_agent: str) -> tuple[int, str]:
    """One GET of a short code, not following it: (status, Location)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", f"/{code}", headers={"User-Agent": user_agent, "Host": server.host})
    response = connection.getresponse()
    connection.close()
    return response.status, response.getheader("Location") or ""


def test_create_use_edit_download_and_delete_a_link(signed_in, live_server: LiveServer) -> None:
    page = signed_in
    page.goto(live_server.url("/dashboard/links"))
    page.fill("#f-url", "https://example.com/spring")
    page.fill("#f-title", "Spring sale")
    page.click("details.more-fields > summary")
    page.fill("#f-max_clicks", "100")
    page.select_option("#f-redirect_status", "307")
    page.fill("#f-utm_source", "poster")
    page.fill("#f-target_ios", "https://apps.apple.com/app/id1")
    page.fill("#f-split", "https://example.com/a 1\nhttps://example.com/b 1")
    page.fill("#f-preview_title", "Spring sale!")
    page.click("form.create button[type=submit]")
    page.wait_for_url("**/dashboard/links/*")
    code = page.locator("#short-url").inner_text().rsplit("/", 1)[1]
    link_page = page.url
    assert "ios → https://apps.apple.com/app/id1" in page.locator("#routing").inner_text()

    assert location_for(live_server, code, IPHONE) == (
        307,
        "https://apps.apple.com/app/id1?utm_source=poster",
    )
    page.reload()
    assert "ios" in page.locator("#destinations").inner_text()

    page.click("#edit-link")
    page.wait_for_url("**/edit")
    assert page.input_value("#f-utm_source") == "poster"
    assert page.input_value("#f-max_clicks") == "100"
    page.fill("#f-title", "Spring sale, edited")
    page.fill("#f-target_ios", "")
    page.fill("#f-password", "open sesame")
    page.click("#edit-form button[type=submit]")
    page.wait_for_url(link_page)
    assert page.locator("h1.link-title").inner_text() == "Spring sale, edited"
    assert "Password-protected" in page.locator("#routing").inner_text()

    visitor_context = page.context.browser.new_context(user_agent=DESKTOP_CHROME)
    visitor = visitor_context.new_page()
    visitor.goto(live_server.url(f"/{code}"))
    visitor.fill("input[name=password]", "wrong")
    visitor.click("button[type=submit]")
    assert "not right" in visitor.locator("[role=alert]").inner_text()
    with visitor.expect_request(lambda request: "example.com" in request.url) as followed:
        visitor.route("https://example.com/**", lambda route: route.fulfill(body="target"))
        visitor.fill("input[name=password]", "open sesame")
        visitor.click("button[type=submit]")
    assert followed.value.url.startswith("https://example.com/")
    assert "utm_source=poster" in followed.value.url
    visitor_context.close()

    with page.expect_download() as download:
        page.click("#csv-download")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    totals = {row["name"]: row["value"] for row in rows if row["section"] == "totals"}
    assert totals["human"] == "2"  # the iPhone click and the unlocked one

    page.click("text=Delete…")
    page.wait_for_url("**/delete")
    page.click("#confirm-delete")
    page.wait_for_url(live_server.url("/dashboard/links"))
    assert "Spring sale" not in page.locator("#link-list").inner_text()
    assert location_for(live_server, code, DESKTOP_CHROME)[0] == 404
