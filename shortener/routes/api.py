"""The JSON API under /api/v1: links, share variants, and the OpenAPI document."""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, request, url_for

from shortener.apikeys import ADMIN, verify_api_key
from shortener.errors import InvalidInput, LumenError
from shortener.openapi import openapi_document
from shortener.routes import lumen
from shortener.routes.problems import problem
from shortener.validation import reject_unknown_fields

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})
# The scope each endpoint needs (apikeys.SCOPE_GRANTS says which scopes grant which); an endpoint
# missing from this table needs `admin`, so a new endpoint is closed until it is listed.
REQUIRED_SCOPES = {
    "api.create_link": "links:write",
    "bulk.create_links_in_bulk": "links:write",
    "api.list_links": "links:read",
    "api.get_link": "links:read",
    "api.update_link": "links:write",
    "api.delete_link": "links:write",
    "api.create_variant": "links:write",
    "api.list_variants": "links:read",
    "qr.link_qr": "links:read",
    "stats.get_stats": "stats:read",
    "stats.get_stats_csv": "stats:read",
    "stats.get_link_stats": "stats:read",
    "stats.get_hits_csv": "stats:read",
}


class MalformedBody(LumenError):
    """The body is not a JSON object."""

    status = 400
    title = "Malformed JSON"


@bp.before_request
def require_api_key() -> Response | None:
    """Every endpoint but the public ones needs `Authorization: Bearer <key>` with its scope."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    ctx = lumen()
    api_key = (
        verify_api_key(ctx.redis, ctx.keys, key.strip()) if scheme.lower() == "bearer" else None
    )
    if api_key is None:
        response = problem(
            401,
            "Unauthorized",
            "Send a valid API key as 'Authorization: Bearer <key>'. "
            "Create one with: python -m shortener keys create NAME",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="lumen"'
        return response
    needed = REQUIRED_SCOPES.get(request.endpoint or "", ADMIN)
    if not api_key.allows(needed):
        return problem(
            403,
            "Forbidden",
            f"The API key {api_key.name!r} lacks the scope {needed!r} "
            f"(it has: {', '.join(api_key.scopes)}). "
            f"Create one with: python -m shortener keys create NAME --scope {needed}",
            scope=needed,
        )
    return None


def json_body() -> dict[str, object]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    raw = request.get_data(as_text=True)
    if not raw.strip():
        raise MalformedBody("the request body is empty; send a JSON object")
    try:
        payload = json.loads(raw)
    except ValueError as error:
        raise MalformedBody(f"the request body is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise MalformedBody('the request body must be a JSON object, such as {"url": "https://…"}')
    return payload


def int_arg(name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    """A whole-number query parameter within bounds, or a 422 naming it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", field=name) from None
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API (public)."""
    return jsonify(openapi_document())


@bp.post("/links")
def create_link() -> tuple[Response, int, dict[str, str]]:
    """Create a link."""
    link = lumen().links.create(json_body())
    location = url_for("api.get_link", link_id=link.id)
    return jsonify(link.as_json()), 201, {"Location": location}


@bp.get("/links")
def list_links() -> Response:
    """List links newest first, with cursor pagination and filters."""
    cursor = int_arg("cursor", None, 0, 2**62)
    limit = int_arg("limit", 50, 1, 200) or 50
    links, next_cursor = lumen().links.list(
        cursor=cursor,
        limit=limit,
        tag=request.args.get("tag"),
        domain=request.args.get("domain"),
        query=request.args.get("q"),
    )
    return jsonify({"links": [link.as_json() for link in links], "next_cursor": next_cursor})


@bp.get("/links/<int:link_id>")
def get_link(link_id: int) -> Response:
    """One link with its click totals."""
    return jsonify(lumen().links.get(link_id).as_json())


@bp.patch("/links/<int:link_id>")
def update_link(link_id: int) -> Response:
    """Edit a link's target, title, tags, expiry, click budget or redirect status."""
    ctx = lumen()
    link = ctx.links.update(link_id, json_body())
    ctx.link_cache.clear()
    return jsonify(link.as_json())


@bp.delete("/links/<int:link_id>")
def delete_link(link_id: int) -> tuple[str, int]:
    """Delete a link and its share variants."""
    ctx = lumen()
    ctx.links.delete(link_id)
    ctx.link_cache.clear()
    return "", 204


@bp.post("/links/<int:link_id>/variants")
def create_variant(link_id: int) -> tuple[Response, int]:
    """The link's share variant for one channel (created once, then returned again)."""
    payload = json_body()
    reject_unknown_fields(payload, {"channel"})
    variant, created = lumen().links.add_variant(link_id, payload.get("channel"))
    return jsonify(variant.as_json()), 201 if created else 200


@bp.get("/links/<int:link_id>/variants")
def list_variants(link_id: int) -> Response:
    """Every share variant of a link."""
    return jsonify({"variants": [v.as_json() for v in lumen().links.list_variants(link_id)]})
