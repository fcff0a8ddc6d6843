"""The OpenAPI document describes the content-team endpoints and the scope of every operation."""

from __future__ import annotations

from shortener.openapi import OPERATION_SCOPES, openapi_document
from shortener.routes.api_requests import REQUIRED_SCOPES


def operations() -> list[tuple[str, str, dict]]:
    return [
        (path, method, item)
        for path, path_item in openapi_document()["paths"].items()
        for method, item in path_item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_keyed_operation_names_its_scope_and_its_403():
    for path, method, item in operations():
        if item.get("security") == []:
            continue  # public
        [requirement] = item["security"]
        [scope] = requirement["bearer"]
        assert scope in ("links:read", "links:write", "stats:read", "admin"), (path, method)
        assert "403" in item["responses"], (path, method)


def test_the_document_and_the_api_ask_for_the_same_scopes():
    by_operation = {item["operationId"]: item for _, _, item in operations()}
    assert set(OPERATION_SCOPES) <= set(by_operation)
    # The API's table is by Flask endpoint; every scope it asks for appears in the document too.
    assert set(REQUIRED_SCOPES.values()) <= set(OPERATION_SCOPES.values())


def test_qr_downloads_are_described():
    paths = openapi_document()["paths"]
    for image_format, media_type in (("svg", "image/svg+xml"), ("png", "image/png")):
        operation = paths[f"/links/{{link_id}}/qr.{image_format}"]["get"]
        assert media_type in operation["responses"]["200"]["content"]
        assert {p["name"] for p in operation["parameters"]} == {
            "link_id",
            "size",
            "scale",
            "margin",
        }
        assert operation["security"] == [{"bearer": ["links:read"]}]


def test_bulk_and_webhooks_are_described():
    paths = openapi_document()["paths"]
    bulk = paths["/links/bulk"]["post"]
    assert bulk["requestBody"]["content"]["application/json"]["schema"]["maxItems"] == 1000
    assert {"200", "413"} <= set(bulk["responses"])
    result = bulk["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(result["properties"]["results"]["items"]["properties"]) == {
        "status",
        "link",
        "problem",
    }
    assert set(paths["/webhooks"]) == {"get", "post"}
    created = paths["/webhooks"]["post"]
    body = created["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["events"]["items"]["enum"] == [
        "click",
        "link.created",
        "link.updated",
        "link.deleted",
    ]
    assert "X-Lumen-Signature" in created["description"]
    assert "delete" in paths["/webhooks/{webhook_id}"]
    log = paths["/webhooks/{webhook_id}/deliveries"]["get"]["responses"]["200"]
    entry = log["content"]["application/json"]["schema"]["properties"]["deliveries"]["items"]
    assert entry["properties"]["outcome"]["enum"] == ["delivered", "retrying", "failed"]
    for operation in (created, paths["/webhooks"]["get"]):
        assert operation["security"] == [{"bearer": ["admin"]}]


def test_the_content_limits_come_from_their_owners():
    from shortener import bulk, qrcodes, webhooks

    paths = openapi_document()["paths"]
    schema = paths["/links/bulk"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["maxItems"] == bulk.MAX_BULK_ITEMS
    params = {p["name"]: p for p in paths["/links/{link_id}/qr.png"]["get"]["parameters"]}
    assert params["size"]["schema"] == {
        "type": "integer",
        "minimum": qrcodes.MIN_SIZE,
        "maximum": qrcodes.MAX_SIZE,
    }
    assert params["scale"]["schema"]["maximum"] == qrcodes.MAX_SCALE
    assert params["margin"]["schema"]["maximum"] == qrcodes.MAX_MARGIN
    assert f"default {qrcodes.DEFAULT_SCALE}" in params["scale"]["description"]
    webhook = paths["/webhooks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    secret = webhook["properties"]["secret"]
    assert (secret["minLength"], secret["maxLength"]) == (
        webhooks.MIN_SECRET_LENGTH,
        webhooks.MAX_SECRET_LENGTH,
    )
    assert webhook["properties"]["events"]["items"]["enum"] == list(webhooks.EVENTS)
    assert webhooks.SIGNATURE_HEADER in paths["/webhooks"]["post"]["description"]
