"""The share-button endpoints cap their bodies per view: 4 KB for share-links, 2 KB for beacons."""

from __future__ import annotations

import json

from shortener.routes import share_buttons
from shortener.shares import MAX_BEACON_BODY_BYTES, MAX_SHARE_LINKS_BODY_BYTES
from tests.routes.sharing import PAGE, send

SIZE = 3000  # between the two caps


def padded(payload: dict[str, object], field: str, size: int) -> str:
    """`payload` as JSON of exactly `size` bytes, `field` padded with x."""
    short = json.dumps({**payload, field: ""})
    return json.dumps({**payload, field: "x" * (size - len(short))})


def test_the_caps_lie_either_side_of_the_size_tried() -> None:
    assert MAX_BEACON_BODY_BYTES < SIZE < MAX_SHARE_LINKS_BODY_BYTES


def test_a_3000_byte_share_links_body_is_accepted(client, publisher):
    body = padded({"key": publisher.key, "url": PAGE}, "title", SIZE)  # a title is cut, not refused
    assert len(body.encode()) == SIZE
    response = send(client, "/api/v1/share-links", None, raw=body)
    assert response.status_code == 200, response.get_json()


def test_a_3000_byte_beacon_is_refused_with_413(client, publisher):
    body = padded({"key": publisher.key, "url": PAGE, "event": "share"}, "channel", SIZE)
    assert len(body.encode()) == SIZE
    response = send(client, "/api/v1/beacon", None, raw=body)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_every_share_button_endpoint_has_a_cap(app):
    prefix = f"{share_buttons.bp.name}."
    views = {view for name, view in app.view_functions.items() if name.startswith(prefix)}
    assert views == set(share_buttons.MAX_BODY_BYTES)
