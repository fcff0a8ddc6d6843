"""The OpenAPI 3.1 document of Lumen's API, served at /api/v1/openapi.json.

Every pattern and limit is taken from the module that enforces it, so the document cannot drift
from the checks (tests/test_openapi_sources.py holds each against its owner).
"""

from __future__ import annotations

from typing import Any

from shortener.bulk import MAX_BULK_BODY_BYTES, MAX_BULK_ITEMS
from shortener.codes import SLUG_PATTERN
from shortener.destinations import TARGET_KEYS, UTM_FIELDS
from shortener.figures import DEFAULT_RANGE_DAYS, FIRST_DAY, LAST_DAY, MAX_RANGE_DAYS
from shortener.links import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shortener.publishers import KEY_PATTERN
from shortener.qrcodes import DEFAULT_MARGIN as QR_DEFAULT_MARGIN
from shortener.qrcodes import DEFAULT_SCALE as QR_DEFAULT_SCALE
from shortener.qrcodes import MAX_MARGIN as QR_MAX_MARGIN
from shortener.qrcodes import MAX_SCALE as QR_MAX_SCALE
from shortener.qrcodes import MAX_SIZE as QR_MAX_SIZE
from shortener.qrcodes import MIN_SIZE as QR_MIN_SIZE
from shortener.shares import (
    BEACON_EVENTS,
    MAX_BEACON_BODY_BYTES,
    MAX_SHARE_LINKS_BODY_BYTES,
    SHARE_BUTTONS,
    TOKEN_PATTERN,
)
from shortener.validation import (
    MAX_PASSWORD,
    MAX_PREVIEW_DESCRIPTION,
    MAX_SPLIT,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE_LENGTH,
    MAX_URL_LENGTH,
    MAX_UTM_LENGTH,
    MAX_WEIGHT,
    MIN_PASSWORD,
    REDIRECT_STATUSES,
)
from shortener.webhooks import EVENTS as WEBHOOK_EVENTS
from shortener.webhooks import LOG_LENGTH as DELIVERY_LOG_LENGTH
from shortener.webhooks import MAX_SECRET_LENGTH, MIN_SECRET_LENGTH

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_UNAVAILABLE = {"$ref": "#/components/responses/Unavailable"}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_ID = {
    "name": "link_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# The fields that shape where a link sends each visitor and what it shows (issue 15, 1-6).
_TARGET_URL = {"type": "string", "format": "uri", "maxLength": MAX_URL_LENGTH}
_UTM = {
    "type": "object",
    "additionalProperties": False,
    "properties": {name: {"type": "string", "maxLength": MAX_UTM_LENGTH} for name in UTM_FIELDS},
    "description": "Added to the target's query as utm_<name> where the target sets none.",
}
_PREVIEW = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "maxLength": MAX_TITLE_LENGTH},
        "description": {"type": "string", "maxLength": MAX_PREVIEW_DESCRIPTION},
        "image": {
            "type": "string",
            "maxLength": MAX_URL_LENGTH,
            "description": "Absolute http(s) URL of the image; empty: none",
        },
    },
    "description": "Preview robots (WhatsApp, Slack, iMessage...) get a page with these Open Graph "
    "and Twitter card tags instead of the redirect (still counted as shares observed); people "
    "are redirected as before. null: robots follow the redirect to the target's own tags.",
}
_TARGETS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {key: _TARGET_URL for key in TARGET_KEYS},
    "description": "Device targets from the visitor's user-agent: an operating system's key "
    "first, then the device class; `url` otherwise. Clicks are counted per target.",
}
_SPLIT = {
    "type": "array",
    "minItems": 2,
    "maxItems": MAX_SPLIT,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "url": _TARGET_URL,
            "weight": {"type": "integer", "minimum": 1, "maximum": MAX_WEIGHT, "default": 1},
        },
    },
    "description": "Weighted split: one visitor gets the same destination all day; clicks are "
    "counted per destination. [] removes the split.",
}
ROUTING_INPUT = {
    "utm": {**_UTM, "type": ["object", "null"]},
    "forward_query": {
        "type": "boolean",
        "default": True,
        "description": "Forward the short link's own query string to the target.",
    },
    "utm_from_attribution": {
        "type": ["boolean", "null"],
        "default": None,
        "description": "Add utm_source=<channel> and utm_medium=<source> of Lumen's attribution "
        "of each hit where `utm` sets none; null: the instance's LUMEN_UTM_FROM_ATTRIBUTION.",
    },
    "targets": {**_TARGETS, "type": ["object", "null"]},
    "split": {**_SPLIT, "type": ["array", "null"]},
    "preview": _PREVIEW,
    "password": {
        "type": ["string", "null"],
        "minLength": MIN_PASSWORD,
        "maxLength": MAX_PASSWORD,
        "writeOnly": True,
        "description": "Visitors get a form; the right password redirects and counts. Stored as "
        "a hash, never returned. null removes it.",
    },
}
ROUTING_OUTPUT = {
    "utm": _UTM,
    "forward_query": {"type": "boolean"},
    "utm_from_attribution": {"type": ["boolean", "null"]},
    "targets": _TARGETS,
    "split": {**_SPLIT, "minItems": 0, "description": "[] when the link has no split."},
    "preview": _PREVIEW,
    "password_protected": {"type": "boolean"},
}

LINK_INPUT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "url": {
            "type": "string",
            "format": "uri",
            "maxLength": MAX_URL_LENGTH,
            "description": "Absolute http(s) target, not on a Lumen domain.",
        },
        "slug": {
            "type": "string",
            "pattern": SLUG_PATTERN.pattern,
            "description": "Custom code; reserved words refused.",
        },
        "domain": {"type": "string", "description": "One of the configured short domains."},
        "title": {"type": "string", "maxLength": MAX_TITLE_LENGTH},
        "tags": {
            "type": "array",
            "items": {"type": "string", "maxLength": MAX_TAG_LENGTH},
            "maxItems": MAX_TAGS,
        },
        "expires_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When the link stops redirecting (410 after); must be in the future.",
        },
        "max_clicks": {
            "type": ["integer", "null"],
            "minimum": 1,
            "description": "Human clicks allowed; previews and bots never spend it.",
        },
        "redirect_status": {"type": "integer", "enum": list(REDIRECT_STATUSES), "default": 302},
        **ROUTING_INPUT,
    },
}

LINK_PATCH = {
    **LINK_INPUT,
    "required": [],
    "properties": {
        k: v for k, v in LINK_INPUT["properties"].items() if k not in ("slug", "domain")
    },
}

LINK = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "domain": {"type": "string"},
        "code": {"type": "string"},
        "short_url": {"type": "string", "format": "uri"},
        "url": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "max_clicks": {"type": ["integer", "null"]},
        "redirect_status": {"type": "integer"},
        "clicks": {
            "type": "object",
            "properties": {"total": {"type": "integer"}, "human": {"type": "integer"}},
        },
        **ROUTING_OUTPUT,
    },
}

VARIANT = {
    "type": "object",
    "properties": {
        "link_id": {"type": "integer"},
        "channel": {"type": "string"},
        "code": {"type": "string"},
        "short_url": {"type": "string", "format": "uri"},
    },
}

PATHS: dict[str, Any] = {
    "/links": {
        "post": {
            "summary": "Create a short link",
            "operationId": "createLink",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": LINK_INPUT}},
            },
            "responses": {
                "201": _json(LINK, "The new link"),
                "400": _PROBLEM,
                "401": _PROBLEM,
                "409": _PROBLEM,
                "422": _PROBLEM,
            },
        },
        "get": {
            "summary": "List links, newest first",
            "operationId": "listLinks",
            "parameters": [
                {
                    "name": "cursor",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0},
                    "description": (
                        "next_cursor of the previous page: links with lower ids come next. "
                        "At most the newest id + 1 (a larger cursor is a 422). One call reads at "
                        "most 5,000 ids, so a filtered page may be short, even empty, with a "
                        "next_cursor to go on from."
                    ),
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PAGE_SIZE,
                        "default": DEFAULT_PAGE_SIZE,
                    },
                },
                {"name": "tag", "in": "query", "schema": {"type": "string"}},
                {"name": "domain", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Search in title and URL",
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "links": {"type": "array", "items": LINK},
                            "next_cursor": {"type": ["integer", "null"]},
                        },
                    },
                    "A page of links",
                ),
                "401": _PROBLEM,
                "422": _PROBLEM,
            },
        },
    },
    "/links/{link_id}": {
        "parameters": [_ID],
        "get": {
            "summary": "Get a link",
            "operationId": "getLink",
            "responses": {"200": _json(LINK, "The link"), "401": _PROBLEM, "404": _PROBLEM},
        },
        "patch": {
            "summary": "Edit a link",
            "operationId": "updateLink",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": LINK_PATCH}},
            },
            "responses": {
                "200": _json(LINK, "The edited link"),
                "400": _PROBLEM,
                "401": _PROBLEM,
                "404": _PROBLEM,
                "422": _PROBLEM,
            },
        },
        "delete": {
            "summary": "Delete a link",
            "operationId": "deleteLink",
            "responses": {"204": {"description": "Deleted"}, "401": _PROBLEM, "404": _PROBLEM},
        },
    },
    "/links/{link_id}/variants": {
        "parameters": [_ID],
        "post": {
            "summary": "Get or create the link's share variant for a channel",
            "operationId": "createVariant",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["channel"],
                            "properties": {"channel": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {
                "200": _json(VARIANT, "The existing variant"),
                "201": _json(VARIANT, "The new variant"),
                "400": _PROBLEM,
                "401": _PROBLEM,
                "404": _PROBLEM,
                "422": _PROBLEM,
            },
        },
        "get": {
            "summary": "List the link's share variants",
            "operationId": "listVariants",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"variants": {"type": "array", "items": VARIANT}},
                    },
                    "The variants",
                ),
                "401": _PROBLEM,
                "404": _PROBLEM,
            },
        },
    },
}


_INT = {"type": "integer"}


def _array_of(**properties: object) -> dict[str, object]:
    """An array of objects with these properties."""
    return {"type": "array", "items": {"type": "object", "properties": properties}}


_COUNTS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": {"type": ["string", "null"]}, "count": _INT},
    },
}
_RANGE_PARAMS = [
    {
        "name": "from",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": (
            "First UTC day (ISO 8601; a date-time is taken in UTC). "
            f"Default: {DEFAULT_RANGE_DAYS - 1} days before `to`."
        ),
    },
    {
        "name": "to",
        "in": "query",
        "schema": {"type": "string", "format": "date"},
        "description": (
            f"Last UTC day, inclusive. Default: today. Days run from {FIRST_DAY} to {LAST_DAY} "
            f"and a range is at most {MAX_RANGE_DAYS} days; a bad range is a 422."
        ),
    },
]
_SCOPE_PARAMS = [
    {
        "name": "link",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1},
        "description": "One link (its share variants included).",
    },
    {
        "name": "tag",
        "in": "query",
        "schema": {"type": "string"},
        "description": "The links carrying this tag, summed.",
    },
    {
        "name": "domain",
        "in": "query",
        "schema": {"type": "string"},
        "description": "The links of this short domain, summed.",
    },
]

STATS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "scope": {
            "type": "object",
            "properties": {
                "link": {"type": ["integer", "null"]},
                "tag": {"type": ["string", "null"]},
                "domain": {"type": ["string", "null"]},
            },
        },
        "range": {
            "type": "object",
            "properties": {
                "from": {"type": "string", "format": "date"},
                "to": {"type": "string", "format": "date"},
                "days": _INT,
            },
        },
        "totals": {
            "type": "object",
            "description": (
                "public = human - dark; orphans (unknown codes) only for the whole instance."
            ),
            "properties": {
                k: _INT
                for k in (
                    "hits",
                    "human",
                    "previews",
                    "bots",
                    "unique_visitors",
                    "dark",
                    "public",
                    "social",
                    "orphans",
                )
            },
        },
        "dark_share": {
            "type": ["number", "null"],
            "minimum": 0,
            "maximum": 1,
            "description": "Dark human hits / human hits; null without human hits.",
        },
        "dark_public_ratio": {
            "type": ["number", "null"],
            "description": "Dark human hits / social human hits; null without social hits.",
        },
        "dark_evidence": {
            "type": "object",
            "description": "Dark human hits by the evidence that decided them.",
            "additionalProperties": _INT,
        },
        "series": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    **{
                        k: _INT
                        for k in ("hits", "human", "previews", "bots", "dark", "unique_visitors")
                    },
                    "sources": {
                        "type": "object",
                        "additionalProperties": _INT,
                        "description": "Human hits by source (offline: QR codes scanned).",
                    },
                },
            },
        },
        "breakdowns": {
            "type": "object",
            "properties": {
                "channels": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "channel": {"type": ["string", "null"]},
                            "category": {"type": "string"},
                            "dark": {"type": "boolean"},
                            "clicks": _INT,
                        },
                    },
                },
                **{
                    k: _COUNTS
                    for k in ("sources", "evidence", "devices", "os", "browsers", "languages")
                },
                "previews": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "channel": {"type": ["string", "null"]},
                            "shares_observed": _INT,
                        },
                    },
                },
                "copy_generations": {
                    "type": "array",
                    "description": (
                        "Copy-paste arrivals (share buttons' address-bar token) by "
                        "generation: 1 = pasted by someone who came another way, 2 = a paste "
                        "of a pasted address, ..."
                    ),
                    "items": {
                        "type": "object",
                        "properties": {"generation": _INT, "arrivals": _INT},
                    },
                },
                "destinations": {
                    "type": "array",
                    "description": "A link's human clicks per destination: a device target's key "
                    "(ios, android...), `default` (its own url) or a split destination's URL. "
                    "Only for links with targets or a split.",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "count": _INT},
                    },
                },
            },
        },
        "cascade": {
            "type": "object",
            "description": (
                "The share cascade (share buttons' pages): `edges` = visitors who arrived by "
                "`parent` (a channel, a source such as dark, or page = came another way) and "
                "shared by `child`, with the visitors those shares brought (`clicks`, reported "
                "by share.js); `generations` = shares by generation (1 = a first share); "
                "`carriers` = arrival channels by the shares their visitors made onward."
            ),
            "properties": {
                "edges": _array_of(
                    parent={"type": "string"}, child={"type": "string"}, shares=_INT, clicks=_INT
                ),
                "generations": _array_of(generation=_INT, shares=_INT),
                "carriers": _array_of(channel={"type": "string"}, onward_shares=_INT),
            },
        },
        "shares": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "channel": {"type": "string"},
                    "shares_made": _INT,
                    "shares_observed": _INT,
                    "clicks": _INT,
                    "clicks_per_share": {
                        "type": ["number", "null"],
                        "description": "clicks / shares_made; null when no share was made.",
                    },
                },
            },
        },
        "top_links": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": _INT,
                    "short_url": {"type": "string"},
                    "title": {"type": "string"},
                    "url": {"type": "string"},
                    "clicks": _INT,
                },
            },
        },
        "variants": {
            "type": "array",
            "description": "Only for one link: its share variants one by one.",
            "items": {
                "type": "object",
                "properties": {
                    "channel": {"type": "string"},
                    "short_url": {"type": "string"},
                    "clicks": _INT,
                    "shares_made": _INT,
                    "shares_observed": _INT,
                },
            },
        },
    },
}

_CSV = {
    "description": "CSV (text/csv), sent as an attachment",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}

STATS_PATHS: dict[str, Any] = {
    "/stats": {
        "get": {
            "summary": (
                "Dark-social stats of the instance, one link, or the links of a tag or domain"
            ),
            "operationId": "getStats",
            "parameters": _RANGE_PARAMS + _SCOPE_PARAMS,
            "responses": {
                "200": _json(STATS, "The figures of the range"),
                "401": _PROBLEM,
                "404": _PROBLEM,
                "422": _PROBLEM,
            },
        },
    },
    "/stats.csv": {
        "get": {
            "summary": "The same figures as /stats, as section,date,name,value rows",
            "operationId": "getStatsCsv",
            "parameters": _RANGE_PARAMS + _SCOPE_PARAMS,
            "responses": {"200": _CSV, "401": _PROBLEM, "404": _PROBLEM, "422": _PROBLEM},
        },
    },
    "/links/{link_id}/stats": {
        "parameters": [_ID],
        "get": {
            "summary": "Stats of one link, its share variants included and listed one by one",
            "operationId": "getLinkStats",
            "parameters": _RANGE_PARAMS,
            "responses": {
                "200": _json(
                    {**STATS, "properties": {**STATS["properties"], "link": LINK}},
                    "The link and its figures",
                ),
                "401": _PROBLEM,
                "404": _PROBLEM,
                "422": _PROBLEM,
            },
        },
    },
    "/hits.csv": {
        "get": {
            "summary": "Raw hits with their attribution, streamed from the capped streams",
            "description": "With `link`: every field of that link's hits (referrer and user-agent "
            "included). "
            "Without: every hit of the instance, attribution only. Cells that look like "
            "formulas get a leading '.",
            "operationId": "getHitsCsv",
            "parameters": [*_RANGE_PARAMS, _SCOPE_PARAMS[0]],
            "responses": {"200": _CSV, "401": _PROBLEM, "404": _PROBLEM, "422": _PROBLEM},
        },
    },
}


_PUBLISHER_KEY = {
    "type": "string",
    "pattern": KEY_PATTERN.pattern,
    "description": (
        "A publisher's public key (python -m shortener publishers create NAME --origin URL)."
    ),
}
_PAGE_URL = {
    "type": "string",
    "format": "uri",
    "maxLength": MAX_URL_LENGTH,
    "description": (
        "The page's canonical URL, on one of the publisher's origins; its fragment is dropped."
    ),
}
_BUTTONS = list(SHARE_BUTTONS)


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    # share.js sends JSON as text/plain (a CORS-simple request, and what sendBeacon sends).
    return {
        "required": True,
        "content": {"text/plain": {"schema": schema}, "application/json": {"schema": schema}},
    }


SHARE_PATHS: dict[str, Any] = {
    "/share-links": {
        "post": {
            "summary": (
                "A publisher's page: its short link and one share variant per button, created "
                "the first time"
            ),
            "description": (
                "Called by /embed/share.js. No bearer key: the publisher key must be used from "
                "one of its origins (the Origin header), and CORS answers only those. "
                f"Rate-limited per address; bodies over {MAX_SHARE_LINKS_BODY_BYTES} bytes get 413."
            ),
            "operationId": "getShareLinks",
            "security": [],
            "requestBody": _body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["key", "url"],
                    "properties": {
                        "key": _PUBLISHER_KEY,
                        "url": _PAGE_URL,
                        "title": {
                            "type": "string",
                            "description": f"Cut at {MAX_TITLE_LENGTH} characters",
                        },
                        "channels": {
                            "type": "array",
                            "items": {"type": "string", "enum": _BUTTONS},
                            "description": "Default: all",
                        },
                    },
                }
            ),
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "url": {"type": "string"},
                            "link": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "short_url": {"type": "string"},
                                },
                            },
                            "variants": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                                "description": (
                                    "button -> short URL of its share variant (`more` uses "
                                    "the page link)"
                                ),
                            },
                        },
                    },
                    "The page's links",
                ),
                "400": _PROBLEM,
                "403": _PROBLEM,
                "413": _PROBLEM,
                "422": _PROBLEM,
                "429": _PROBLEM,
            },
        },
    },
    "/beacon": {
        "post": {
            "summary": "A share-button click, or an arrival by copy-paste or by a cascade share",
            "description": (
                "Sent by share.js with navigator.sendBeacon. `share` counts `sh:<channel>` "
                "(shares made) and, with `from`, the cascade edge "
                "`cas:<arrival channel>><channel>` and generation `cg:<n>`; `copy-arrival` records "
                "a dark human hit with evidence `copy` and its generation (`gen:<n>`) for the "
                "page's link; `arrival` counts a visitor a cascade share brought "
                "(`cac:<parent>><channel>`). Same key, origin and rate rules as /share-links; "
                f"bodies over {MAX_BEACON_BODY_BYTES} bytes get 413."
            ),
            "operationId": "sendBeacon",
            "security": [],
            "requestBody": _body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["key", "url", "event"],
                    "properties": {
                        "key": _PUBLISHER_KEY,
                        "url": _PAGE_URL,
                        "event": {"type": "string", "enum": list(BEACON_EVENTS)},
                        "channel": {
                            "type": "string",
                            "enum": _BUTTONS,
                            "description": "For `share`",
                        },
                        "token": {
                            "type": "string",
                            "pattern": TOKEN_PATTERN.pattern,
                            "description": (
                                "For `copy-arrival`: the token found in the address, `<view "
                                "id>.<generation>`"
                            ),
                        },
                        "from": {
                            "type": "string",
                            "pattern": "^(0|[1-9][0-9]?)_[a-z0-9.-]{1,32}(_[a-z0-9.-]{1,32})?$",
                            "description": (
                                "The visitor's arrival, from the redirect's `#lumen=` fragment: "
                                "for `share` `<generation>_<channel>` (`0_page`: came another "
                                "way; absent under DNT/GPC); for `arrival` "
                                "`<generation>_<channel>_<parent>`"
                            ),
                        },
                    },
                }
            ),
            "responses": {
                "204": {"description": "Counted"},
                "400": _PROBLEM,
                "403": _PROBLEM,
                "404": _PROBLEM,
                "410": _PROBLEM,
                "413": _PROBLEM,
                "422": _PROBLEM,
                "429": _PROBLEM,
            },
        },
    },
}


def _json_request(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_PAGE_URL_OR_NULL = {**_TARGET_URL, "type": ["string", "null"]}
DOMAIN_PAGES = {
    "type": "object",
    "properties": {
        "domain": {"type": "string"},
        "root_url": {
            **_PAGE_URL_OR_NULL,
            "description": "Where the bare domain (/) sends people; null: the dashboard",
        },
        "not_found_url": {
            **_PAGE_URL_OR_NULL,
            "description": "Where unknown codes send people (still counted as orphan hits); "
            "null: Lumen's 404 page",
        },
    },
}
DOMAIN_PATHS: dict[str, Any] = {
    "/domains": {
        "get": {
            "summary": "The configured domains and their pages",
            "operationId": "listDomains",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"domains": {"type": "array", "items": DOMAIN_PAGES}},
                    },
                    "Every configured domain",
                ),
                "401": _PROBLEM,
            },
        }
    },
    "/domains/{domain}": {
        "patch": {
            "summary": "Set where a domain's bare address and unknown codes send people",
            "operationId": "updateDomain",
            "parameters": [
                {"name": "domain", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "requestBody": _json_request(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "root_url": _PAGE_URL_OR_NULL,
                        "not_found_url": _PAGE_URL_OR_NULL,
                    },
                }
            ),
            "responses": {
                "200": _json(DOMAIN_PAGES, "The domain's pages"),
                "400": _PROBLEM,
                "401": _PROBLEM,
                "404": _PROBLEM,
                "422": _PROBLEM,
            },
        }
    },
}


# Answers any operation may give: a URI over 4,094 characters (414), a body over the size cap
# (413, LUMEN_MAX_BODY_BYTES) or slower than the body deadline (408), Redis not answering (503).
_COMMON_ANSWERS = {"408": _PROBLEM, "413": _PROBLEM, "414": _PROBLEM, "503": _UNAVAILABLE}


def _with_common_answers(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation may answer the request-limit refusals and 503 (Redis not answering)."""
    return {
        path: {
            key: {**item, "responses": {**item["responses"], **_COMMON_ANSWERS}}
            if key in _METHODS
            else item
            for key, item in path_item.items()
        }
        for path, path_item in paths.items()
    }


def _query_int(name: str, minimum: int, maximum: int, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "schema": {"type": "integer", "minimum": minimum, "maximum": maximum},
        "description": description,
    }


def _qr_operation(image_format: str, media_type: str) -> dict[str, Any]:
    return {
        "summary": f"The link's QR code as {image_format.upper()}",
        "description": "Encodes the short URL of the link's `qr` share variant (created on the "
        "first request), so scans are counted apart under channel `qr`. Sent as an attachment; "
        "the header `X-Lumen-Short-Url` names the URL encoded.",
        "operationId": f"getLinkQr{image_format.capitalize()}",
        "parameters": [
            _ID,
            _query_int(
                "size", QR_MIN_SIZE, QR_MAX_SIZE, "Largest width in pixels (not with `scale`)"
            ),
            _query_int(
                "scale",
                1,
                QR_MAX_SCALE,
                f"Pixels per module (default {QR_DEFAULT_SCALE}; not with `size`)",
            ),
            _query_int(
                "margin", 0, QR_MAX_MARGIN, f"Quiet zone in modules (default {QR_DEFAULT_MARGIN})"
            ),
        ],
        "responses": {
            "200": {
                "description": "The QR code",
                "headers": {"X-Lumen-Short-Url": {"schema": {"type": "string", "format": "uri"}}},
                "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            },
            "401": _PROBLEM,
            "404": _PROBLEM,
            "422": _PROBLEM,
        },
    }


# Content-team endpoints: QR downloads, bulk creation, webhooks, the API reference page.
_BULK_RESULT = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "description": "201, or the item's problem status"},
        "link": {**LINK, "description": "The link made (status 201)"},
        "problem": {"type": "object", "description": "The item's problem details (status 4xx)"},
    },
}

_WEBHOOK_EVENTS = list(WEBHOOK_EVENTS)
WEBHOOK = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^wh_[0-9a-f]{16}$"},
        "url": {"type": "string", "format": "uri"},
        "events": {"type": "array", "items": {"type": "string", "enum": _WEBHOOK_EVENTS}},
        "created_at": {"type": "string", "format": "date-time"},
        "secret": {
            "type": "string",
            "description": "Only in the answer to POST /webhooks: the HMAC-SHA256 key of "
            "`X-Lumen-Signature: sha256=<hex>`",
        },
    },
}
_WEBHOOK_ID = {"name": "webhook_id", "in": "path", "required": True, "schema": {"type": "string"}}
DELIVERY = {
    "type": "object",
    "properties": {
        "delivery": {"type": "string"},
        "event": {"type": "string", "enum": _WEBHOOK_EVENTS},
        "attempt": {"type": "integer", "minimum": 1},
        "status": {"type": ["integer", "null"], "description": "The receiver's HTTP status"},
        "error": {"type": ["string", "null"]},
        "outcome": {"type": "string", "enum": ["delivered", "retrying", "failed"]},
        "at": {"type": "string", "format": "date-time"},
    },
}

CONTENT_PATHS: dict[str, Any] = {
    "/docs": {
        "get": {
            "summary": "This reference as an HTML page",
            "description": "Rendered on the server from this document; no script, and every "
            "asset from Lumen itself.",
            "operationId": "getApiReference",
            "security": [],
            "responses": {
                "200": {
                    "description": "The reference page",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/webhooks": {
        "post": {
            "summary": "Register a webhook",
            "description": "Lumen POSTs each subscribed event as JSON `{id, event, created_at, "
            "data}`, signed with `X-Lumen-Signature: sha256=<HMAC-SHA256 of the raw body under "
            "the secret>`, and retries a failure with exponential backoff. A `click` is any "
            "hit recorded after the webhook was created (`data.kind` says human, preview or "
            "bot), never the hits recorded before. Targets resolving to "
            "loopback, private or link-local addresses are refused (422) unless "
            "LUMEN_WEBHOOK_ALLOW_PRIVATE=1.",
            "operationId": "createWebhook",
            "requestBody": _body(
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["url", "events"],
                    "properties": {
                        "url": {"type": "string", "format": "uri", "maxLength": 2048},
                        "events": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "enum": _WEBHOOK_EVENTS},
                        },
                        "secret": {
                            "type": "string",
                            "minLength": MIN_SECRET_LENGTH,
                            "maxLength": MAX_SECRET_LENGTH,
                            "description": "Leave out and Lumen makes one (shown once)",
                        },
                    },
                }
            ),
            "responses": {
                "201": _json(WEBHOOK, "Registered; the secret is shown this once"),
                "400": _PROBLEM,
                "401": _PROBLEM,
                "422": _PROBLEM,
            },
        },
        "get": {
            "summary": "List webhooks (without secrets)",
            "operationId": "listWebhooks",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"webhooks": {"type": "array", "items": WEBHOOK}},
                    },
                    "Every webhook",
                ),
                "401": _PROBLEM,
            },
        },
    },
    "/webhooks/{webhook_id}": {
        "delete": {
            "summary": "Delete a webhook and its pending deliveries",
            "operationId": "deleteWebhook",
            "parameters": [_WEBHOOK_ID],
            "responses": {"204": {"description": "Deleted"}, "401": _PROBLEM, "404": _PROBLEM},
        }
    },
    "/webhooks/{webhook_id}/deliveries": {
        "get": {
            "summary": f"The webhook's last {DELIVERY_LOG_LENGTH} delivery attempts, newest first",
            "operationId": "listWebhookDeliveries",
            "parameters": [_WEBHOOK_ID],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"deliveries": {"type": "array", "items": DELIVERY}},
                    },
                    "The delivery log",
                ),
                "401": _PROBLEM,
                "404": _PROBLEM,
            },
        }
    },
    "/links/bulk": {
        "post": {
            "summary": f"Create up to {MAX_BULK_ITEMS:,} links in one request",
            "description": "Each item is a link as for POST /links and is created whole or not "
            f"at all; one result per item, in order. Over {MAX_BULK_ITEMS:,} items: 413, as is "
            f"a body over {MAX_BULK_BODY_BYTES:,} bytes.",
            "operationId": "createLinksInBulk",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": LINK_INPUT,
                            "minItems": 1,
                            "maxItems": MAX_BULK_ITEMS,
                        }
                    }
                },
            },
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "created": {"type": "integer"},
                            "failed": {"type": "integer"},
                            "results": {"type": "array", "items": _BULK_RESULT},
                        },
                    },
                    "One result per item, in order",
                ),
                "400": _PROBLEM,
                "401": _PROBLEM,
                "413": _PROBLEM,
                "422": _PROBLEM,
            },
        }
    },
    "/links/{link_id}/qr.svg": {"get": _qr_operation("svg", "image/svg+xml")},
    "/links/{link_id}/qr.png": {"get": _qr_operation("png", "image/png")},
}


# The scope each operation needs (shortener.routes.api.REQUIRED_SCOPES enforces the same); in
# OpenAPI 3.1 a bearer requirement may list role names, so each operation names its scope there.
OPERATION_SCOPES = {
    "createLink": "links:write",
    "createLinksInBulk": "links:write",
    "listLinks": "links:read",
    "getLink": "links:read",
    "updateLink": "links:write",
    "deleteLink": "links:write",
    "createVariant": "links:write",
    "listVariants": "links:read",
    "listDomains": "links:read",
    "updateDomain": "admin",
    "getLinkQrSvg": "links:read",
    "getLinkQrPng": "links:read",
    "getStats": "stats:read",
    "getStatsCsv": "stats:read",
    "getLinkStats": "stats:read",
    "getHitsCsv": "stats:read",
    "createWebhook": "admin",
    "listWebhooks": "admin",
    "deleteWebhook": "admin",
    "listWebhookDeliveries": "admin",
}


def _with_scopes(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation with a bearer key names its scope and may answer 403 without it."""
    scoped: dict[str, Any] = {}
    for path, path_item in paths.items():
        scoped[path] = {}
        for key, item in path_item.items():
            public = key not in _METHODS or item.get("security") == []
            # As in the API, an operation missing from the table needs `admin`.
            scope = None if public else OPERATION_SCOPES.get(item.get("operationId", ""), "admin")
            if scope is not None:
                item = {
                    **item,
                    "security": [{"bearer": [scope]}],
                    "responses": {**item["responses"], "403": _PROBLEM},
                }
            scoped[path][key] = item
    return scoped


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lumen API",
            "version": "1.0.0",
            "description": (
                "Branded short links with dark-social attribution. Errors are "
                "application/problem+json. Limits on every request: a URI of at most 4,094 "
                "characters (414); a body of at most 64 KiB by default (LUMEN_MAX_BODY_BYTES; "
                "413, the body is not read), arriving within 10 s (LUMEN_BODY_TIMEOUT_SECONDS; "
                "408); JSON nested at most 8 levels deep (400)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _with_common_answers(
            _with_scopes({**PATHS, **STATS_PATHS, **SHARE_PATHS, **CONTENT_PATHS, **DOMAIN_PATHS})
        ),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Create a key with `python -m shortener keys create NAME "
                    "[--scope SCOPE ...]`. Scopes: `links:read`, `links:write` (grants "
                    "`links:read`), `stats:read`, `admin` (grants everything; the default). "
                    "Each operation names the scope it needs; without it the answer is 403.",
                }
            },
            "responses": {
                "Problem": {
                    "description": "An error, as RFC 9457 problem details",
                    "content": {
                        "application/problem+json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string"},
                                    "title": {"type": "string"},
                                    "status": {"type": "integer"},
                                    "detail": {"type": "string"},
                                    "field": {"type": "string"},
                                    "scope": {
                                        "type": "string",
                                        "description": "On a 403: the scope the key lacks",
                                    },
                                },
                            }
                        }
                    },
                },
                "Unavailable": {
                    "description": (
                        "Redis does not answer; try again after Retry-After seconds (a "
                        "problem document)"
                    ),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {"application/problem+json": {"schema": {"type": "object"}}},
                },
            },
        },
    }
