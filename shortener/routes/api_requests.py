"""What the API's blueprints share (`api`, `stats`, `share_buttons`): the bearer-key check and
the readers of JSON bodies and query parameters. No blueprint here, so blueprints need not
import each other."""

from __future__ import annotations

import json

from flask import Response, request

from shortener.apikeys import ADMIN, verify_api_key
from shortener.errors import InvalidInput, LumenError
from shortener.routes import lumen
from shortener.routes.problems import problem
from shortener.validation import MAX_JSON_DEPTH, json_nesting_depth


class MalformedBody(LumenError):
    """The body is not a JSON object."""

    status = 400
    title = "Malformed JSON"


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


def require_api_key() -> Response | None:
    """None when the request carries `Authorization: Bearer <a valid key>` holding the endpoint's
    scope; else a 401 (no valid key) or a 403 naming the missing scope."""
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


def json_payload() -> object:
    """The request body parsed as JSON, or a 400 that says what is wrong with it (empty, nested
    deeper than MAX_JSON_DEPTH, not JSON)."""
    raw = request.get_data(as_text=True)
    if not raw.strip():
        raise MalformedBody("the request body is empty; send JSON")
    if json_nesting_depth(raw) > MAX_JSON_DEPTH:
        raise MalformedBody(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(raw)
    except ValueError as error:
        raise MalformedBody(f"the request body is not valid JSON: {error}") from None


def json_body() -> dict[str, object]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    payload = json_payload()
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
