"""The OpenAPI document states the patterns and limits the code enforces, from their owners."""

from __future__ import annotations

from typing import Any

import pytest

from shortener import codes, figures, links, publishers, shares, validation
from shortener.openapi import openapi_document

DOCUMENT = openapi_document()
PATHS = DOCUMENT["paths"]


def body(path: str) -> dict[str, Any]:
    """The JSON request-body schema's properties of a POST."""
    content = PATHS[path]["post"]["requestBody"]["content"]
    properties: dict[str, Any] = content["application/json"]["schema"]["properties"]
    return properties


def parameter(path: str, name: str) -> dict[str, Any]:
    """One query parameter of a GET."""
    [found] = [p for p in PATHS[path]["get"]["parameters"] if p["name"] == name]
    return dict(found)


LINK = body("/links")
SHARE_LINKS = body("/share-links")
BEACON = body("/beacon")

# (what, the value in the document, the owner's value)
STATED = [
    ("link url length", LINK["url"]["maxLength"], validation.MAX_URL_LENGTH),
    ("slug pattern", LINK["slug"]["pattern"], codes.SLUG_PATTERN.pattern),
    ("title length", LINK["title"]["maxLength"], validation.MAX_TITLE_LENGTH),
    ("tag length", LINK["tags"]["items"]["maxLength"], validation.MAX_TAG_LENGTH),
    ("tags per link", LINK["tags"]["maxItems"], validation.MAX_TAGS),
    ("redirect statuses", LINK["redirect_status"]["enum"], list(validation.REDIRECT_STATUSES)),
    ("page size", parameter("/links", "limit")["schema"]["maximum"], links.MAX_PAGE_SIZE),
    (
        "default page size",
        parameter("/links", "limit")["schema"]["default"],
        links.DEFAULT_PAGE_SIZE,
    ),
    ("publisher key pattern", SHARE_LINKS["key"]["pattern"], publishers.KEY_PATTERN.pattern),
    ("page url length", SHARE_LINKS["url"]["maxLength"], validation.MAX_URL_LENGTH),
    ("share buttons", SHARE_LINKS["channels"]["items"]["enum"], list(shares.SHARE_BUTTONS)),
    ("beacon key pattern", BEACON["key"]["pattern"], publishers.KEY_PATTERN.pattern),
    ("beacon buttons", BEACON["channel"]["enum"], list(shares.SHARE_BUTTONS)),
    ("beacon events", BEACON["event"]["enum"], list(shares.BEACON_EVENTS)),
    ("copy-paste token pattern", BEACON["token"]["pattern"], shares.TOKEN_PATTERN.pattern),
]
# (what, a description in the document, the owner's value it must state)
DESCRIBED = [
    ("range length", parameter("/stats", "to")["description"], f"{figures.MAX_RANGE_DAYS} days"),
    (
        "default range",
        parameter("/stats", "from")["description"],
        f"{figures.DEFAULT_RANGE_DAYS - 1} days",
    ),
    (
        "page title cut",
        SHARE_LINKS["title"]["description"],
        f"{validation.MAX_TITLE_LENGTH} characters",
    ),
    (
        "share-links body cap",
        PATHS["/share-links"]["post"]["description"],
        f"{shares.MAX_SHARE_LINKS_BODY_BYTES} bytes",
    ),
    (
        "beacon body cap",
        PATHS["/beacon"]["post"]["description"],
        f"{shares.MAX_BEACON_BODY_BYTES} bytes",
    ),
]


@pytest.mark.parametrize(("stated", "owned"), [r[1:] for r in STATED], ids=[r[0] for r in STATED])
def test_the_document_states_the_owners_value(stated: object, owned: object) -> None:
    assert stated == owned


@pytest.mark.parametrize(
    ("text", "owned"), [r[1:] for r in DESCRIBED], ids=[r[0] for r in DESCRIBED]
)
def test_the_document_describes_the_owners_value(text: str, owned: str) -> None:
    assert owned in text
