"""Bulk link creation under /api/v1: a JSON array in, one result per item out, in order."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from shortener.bulk import MAX_BULK_BODY_BYTES, MAX_BULK_ITEMS, check_bulk_size, create_item
from shortener.routes import lumen
from shortener.routes.api_requests import MalformedBody, json_payload, require_api_key
from shortener.routes.problems import problem

bp = Blueprint("bulk", __name__, url_prefix="/api/v1")
bp.before_request(require_api_key)


def json_array_body() -> list[object]:
    """The request body as a JSON array, or a 400 that says what is wrong with it."""
    request.max_content_length = MAX_BULK_BODY_BYTES  # as RequestLimits' cap for this route
    payload = json_payload()
    if not isinstance(payload, list):
        raise MalformedBody('the request body must be a JSON array of links, [{"url": …}, …]')
    return payload


@bp.post("/links/bulk")
def create_links_in_bulk() -> Response:
    """Create up to MAX_BULK_ITEMS links; each item is created whole or reports its problem."""
    items = json_array_body()
    if len(items) > MAX_BULK_ITEMS:
        return problem(
            413,
            "Too many items",
            f"send at most {MAX_BULK_ITEMS:,} links per request (got {len(items):,}); "
            "split the list, or use: python -m shortener links import FILE.csv",
        )
    check_bulk_size(items)
    links = lumen().links
    results = [create_item(links, item).as_json() for item in items]
    created = sum(1 for result in results if result["status"] == 201)
    return jsonify({"created": created, "failed": len(results) - created, "results": results})
