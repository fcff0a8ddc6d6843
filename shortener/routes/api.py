"""The JSON API under /api/v1: links, share variants, domain pages, and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from shortener.domain_pages import load_domain_pages, save_domain_pages
from shortener.links import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shortener.openapi import openapi_document
from shortener.routes import lumen
from shortener.routes.api_requests import int_arg, json_body, require_api_key
from shortener.validation import reject_unknown_fields

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


@bp.before_request
def authenticate() -> Response | None:
    """Every endpoint but the public ones needs `Authorization: Bearer <key>`."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return require_api_key()


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
    limit = int_arg("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
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
    ctx.cache_events.announce((link.domain, code) for code, _ in ctx.links.codes_of(link))
    return jsonify(link.as_json())


@bp.delete("/links/<int:link_id>")
def delete_link(link_id: int) -> tuple[str, int]:
    """Delete a link and its share variants."""
    ctx = lumen()
    link = ctx.links.get(link_id)
    codes = [(link.domain, code) for code, _ in ctx.links.codes_of(link)]
    ctx.links.delete(link_id)
    ctx.cache_events.announce(codes)
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


@bp.get("/domains")
def list_domains() -> Response:
    """Each configured domain with where its bare address and unknown codes send people."""
    ctx = lumen()
    pages = [load_domain_pages(ctx.redis, ctx.keys, d) for d in ctx.settings.all_domains]
    return jsonify({"domains": [p.as_json() for p in pages]})


@bp.patch("/domains/<domain>")
def update_domain(domain: str) -> Response:
    """Set a domain's root and not-found URLs (null: Lumen's own page)."""
    ctx = lumen()
    domains = ctx.settings.all_domains
    pages = save_domain_pages(ctx.redis, ctx.keys, domain.lower(), json_body(), domains)
    return jsonify(pages.as_json())
