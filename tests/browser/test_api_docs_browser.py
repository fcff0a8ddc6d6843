"""The API reference in Chromium: every operation shown, nothing loaded from another origin."""

from __future__ import annotations

from shortener.openapi import openapi_document


def test_the_reference_page_shows_every_operation_from_lumen_alone(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    violations: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console",
        lambda message: violations.append(message.text) if message.type == "error" else None,
    )
    page.goto(live_server.url("/api/v1/docs"))
    operations = [
        item["operationId"]
        for path_item in openapi_document()["paths"].values()
        for method, item in path_item.items()
        if method in ("get", "post", "patch", "delete")
    ]
    shown = page.locator("section.operation").evaluate_all("sections => sections.map(s => s.id)")
    assert sorted(shown) == sorted(operations)
    for operation in operations:
        assert (
            page.locator(f"#{operation.replace('.', '-')} h2").is_visible()
            or page.locator(f"[id='{operation}'] h2").is_visible()
        )
    # The stylesheet applied (no CSP violation): a method badge has its colour.
    badge = page.locator("#createLink .method")
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(59, 76, 202)"
    assert any(url.endswith("api_docs.css") for url in requested)
    assert [url for url in requested if not url.startswith(live_server.url("/"))] == []
    assert violations == []
    context.close()
