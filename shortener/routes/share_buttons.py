"""The public endpoints share.js calls from publishers' pages: share links and beacons.

No API key here: a request carries a publisher's public key and must come from one of that
publisher's origins (CORS answers only those). Bodies are small JSON objects, read whatever their
content type (`navigator.sendBeacon` sends text/plain). Rate limits, all counted in Redis:
each endpoint per client address (`embed_rate_limit`); beacons per address and page
(`beacon_rate_limit`) and per page (`beacon_link_rate_limit`); new pages per publisher and hour
(`share_pages_per_hour`). A copy-paste arrival counts once per visitor, page and day.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, make_response, request
from limits import RateLimitItem, RateLimitItemPerHour, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from config import Settings
from shortener.errors import Forbidden, InvalidInput
from shortener.links import now_ms
from shortener.publishers import Publisher, find_publisher, is_publisher_origin
from shortener.routes import client_key, hit_from_request, lumen
from shortener.routes.api_requests import json_body
from shortener.routes.problems import problem
from shortener.shares import (
    BEACON_EVENTS,
    MAX_BEACON_BODY_BYTES,
    MAX_SHARE_LINKS_BODY_BYTES,
    generation_of,
    is_first_beacon_today,
    page_link,
    page_url,
    record_cascade_arrival,
    record_copy_arrival,
    record_share,
    share_page,
    validate_arrival,
    validate_button,
    validate_buttons,
)
from shortener.validation import reject_unknown_fields

bp = Blueprint("share_buttons", __name__, url_prefix="/api/v1")

MAX_ORIGIN_SHOWN = 200


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limiter (moving windows in Redis) and the limits this blueprint applies."""

    limiter: MovingWindowRateLimiter
    per_address: list[RateLimitItem]
    beacons_per_address_and_page: list[RateLimitItem]
    beacons_per_page: list[RateLimitItem]
    new_pages_per_publisher: RateLimitItem

    def exceeded(self, limits: list[RateLimitItem], scope: str, key: str) -> Response | None:
        """Count one request against `limits`; a 429 problem when one of them is exceeded."""
        limit = next((item for item in limits if not self.limiter.hit(item, scope, key)), None)
        if limit is None:
            return None
        reset_at, _ = self.limiter.get_window_stats(limit, scope, key)
        response = problem(429, "Too many requests", f"at most {limit} {scope}; try again later")
        response.headers["Retry-After"] = str(max(1, int(reset_at - time.time())))
        return response


def limit_requests(
    app: Flask,
    storage: tuple[str, dict[str, float | str | bool]],
    key_prefix: str,
    settings: Settings,
) -> None:
    """Set up this blueprint's rate limits (moving windows, counted in Redis).

    `limits` (the library under flask-limiter) is used directly: flask-limiter hooks every request
    of the app, and resolving its limits cost the redirect ~0.1 ms a request, measured.
    """
    uri, options = storage
    windows = storage_from_string(uri, key_prefix=key_prefix, **options)
    app.extensions["lumen_rate_limit"] = RateLimits(
        MovingWindowRateLimiter(windows),
        parse_many(settings.embed_rate_limit),
        parse_many(settings.beacon_rate_limit),
        parse_many(settings.beacon_link_rate_limit),
        RateLimitItemPerHour(settings.share_pages_per_hour),
    )


def rate_limits() -> RateLimits:
    """The app's RateLimits."""
    limits: RateLimits = current_app.extensions["lumen_rate_limit"]
    return limits


def _over_the_limit() -> Response | None:
    endpoint = request.endpoint or bp.name  # each endpoint has its own window
    return rate_limits().exceeded(
        rate_limits().per_address, f"{endpoint} from one address", client_key()
    )


@bp.before_request
def guard_request() -> Response | None:
    """Apply the rate limit; refuse a body over the cap (even one of unknown length); answer CORS
    preflights."""
    if (refusal := _over_the_limit()) is not None:
        return refusal
    if request.method != "OPTIONS":
        cap = MAX_BODY_BYTES[current_app.view_functions[request.endpoint or ""]]
        request.max_content_length = cap + 1
        if (request.content_length or 0) > cap or len(request.get_data(cache=True)) > cap:
            abort(413, description=f"the body is larger than {cap} bytes")
        return None
    ctx = lumen()
    origin = request.headers.get("Origin")
    if not is_publisher_origin(ctx.redis, ctx.keys, origin):
        return problem(403, "Forbidden", f"origin {_shown(origin)} is not a publisher's origin")
    g.cors_origin = origin
    response = make_response("", 204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    return response


@bp.after_request
def allow_origin(response: Response) -> Response:
    """Let the page read the answer, but only when its origin was checked against the key."""
    origin = g.get("cors_origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.add("Origin")
    response.headers["Cache-Control"] = "no-store"
    return response


def _shown(origin: str | None) -> str:
    return repr(origin[:MAX_ORIGIN_SHOWN]) if origin else "(none: send an Origin header)"


def publisher_of(payload: dict[str, object]) -> Publisher:
    """The publisher whose key the body carries, when the request comes from one of its origins."""
    ctx = lumen()
    publisher = find_publisher(ctx.redis, ctx.keys, payload.get("key"))
    if publisher is None:
        raise Forbidden(
            "key is not a publisher key; create one with: "
            "python -m shortener publishers create NAME --origin https://your.site",
            field="key",
        )
    origin = request.headers.get("Origin")
    if not publisher.allows(origin):
        raise Forbidden(
            f"this publisher key may not be used from origin {_shown(origin)}", field="origin"
        )
    g.cors_origin = origin
    return publisher


@bp.post("/share-links")
def share_links() -> Response:
    """A page's short link and its buttons' share variants, created the first time."""
    ctx = lumen()
    payload = json_body()
    publisher = publisher_of(payload)
    reject_unknown_fields(payload, {"key", "url", "title", "channels"})
    buttons = validate_buttons(payload.get("channels"))
    url = page_url(publisher, payload.get("url"), ctx.settings.all_domains)
    limits = rate_limits()

    def may_add_page() -> bool:
        return limits.limiter.hit(limits.new_pages_per_publisher, "new pages", publisher.name)

    page = share_page(
        ctx.links, publisher, url, payload.get("title"), buttons, may_add_page=may_add_page
    )
    return jsonify(page.as_json())


@bp.post("/beacon")
def beacon() -> Response | tuple[str, int]:
    """A share-button click (`share`, with the sharer's cascade arrival in `from` unless DNT/GPC),
    a copy-paste arrival (`copy-arrival`) or a visitor a cascade share brought (`arrival`)."""
    ctx = lumen()
    settings = ctx.settings
    payload = json_body()
    publisher = publisher_of(payload)
    reject_unknown_fields(payload, {"key", "event", "url", "channel", "token", "from"})
    event = payload.get("event")
    if event not in BEACON_EVENTS:
        raise InvalidInput(f"event must be one of: {', '.join(BEACON_EVENTS)}", field="event")
    arrival = None
    if event == "share":
        button = validate_button(payload.get("channel"))
        if payload.get("from") is not None:
            arrival = validate_arrival(payload.get("from"), parent_required=False)
    elif event == "arrival":
        arrival = validate_arrival(payload.get("from"), parent_required=True)
    else:
        generation = generation_of(payload.get("token"))
    url = page_url(publisher, payload.get("url"), settings.all_domains)
    link = page_link(ctx.links, publisher, url)
    limits = rate_limits()
    page_scope = f"beacons about page {link.id}"
    refusal = limits.exceeded(limits.beacons_per_page, page_scope, "all") or limits.exceeded(
        limits.beacons_per_address_and_page, f"{page_scope} from one address", client_key()
    )
    if refusal is not None:
        return refusal
    if event == "share":
        record_share(ctx.redis, ctx.keys, link.id, button, now_ms(), arrival)
        return "", 204
    if arrival is not None:
        record_cascade_arrival(ctx.redis, ctx.keys, link.id, arrival, now_ms())
        return "", 204
    hit = replace(
        hit_from_request(link.code), referrer=""
    )  # the beacon's Referer is the page itself
    if not is_first_beacon_today(ctx.redis, ctx.keys, link.id, hit, event):
        return "", 204  # this visitor's arrival on this page is counted already today
    counted = record_copy_arrival(
        ctx.redis,
        ctx.keys,
        link,
        hit,
        generation,
        tally=ctx.tally,
        policy=ctx.recording,
    )
    if not counted:
        return problem(410, "Gone", "this page's link has expired or is out of clicks")
    return "", 204


# Body caps by view function (bytes), not by endpoint name: renaming the blueprint or a view
# cannot drop a cap, and a view without one fails loudly (a test checks that each has one).
MAX_BODY_BYTES: dict[Callable[..., object], int] = {
    share_links: MAX_SHARE_LINKS_BODY_BYTES,
    beacon: MAX_BEACON_BODY_BYTES,
}
