"""The API reference page: public, every operation of the OpenAPI document, a strict CSP."""

from __future__ import annotations

from shortener.openapi import openapi_document
from tests.conftest import DOMAINS


def test_the_reference_lists_every_operation_with_its_scope(client):
    response = client.get("/api/v1/docs", headers={"Host": DOMAINS[0]})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    document = openapi_document()
    for path, path_item in document["paths"].items():
        for method, item in path_item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert f'id="{item["operationId"]}"' in page, (method, path)
    assert page.count('class="operation"') == sum(
        1
        for item in document["paths"].values()
        for m in item
        if m in ("get", "post", "patch", "delete")
    )
    assert "Key scope: <strong>links:write</strong>" in page
    assert "Key scope: <strong>public</strong>" in page
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "<script" not in page


def test_the_reference_escapes_the_document_text(client):
    page = client.get("/api/v1/docs", headers={"Host": DOMAINS[0]}).get_data(as_text=True)
    # The webhook description holds `sha256=<HMAC-SHA256 of …>`: shown as text, never as markup.
    assert "sha256=&lt;HMAC-SHA256" in page and "<HMAC" not in page


def test_the_reference_shows_backtick_spans_as_code(client):
    page = client.get("/api/v1/docs", headers={"Host": DOMAINS[0]}).get_data(as_text=True)
    assert "<code>X-Lumen-Short-Url</code>" in page and "`X-Lumen-Short-Url`" not in page
