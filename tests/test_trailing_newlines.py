"""Every pattern-checked input refuses a trailing newline (a `$` alone would let it through)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from shortener.apikeys import create_api_key
from shortener.codes import validate_slug
from shortener.errors import InvalidInput
from shortener.publishers import create_publisher, find_publisher
from shortener.shares import generation_of
from shortener.store import Keys

ORIGINS = ["https://news.example"]

# (what is checked, the check, a value it accepts)
VALIDATORS: list[tuple[str, Callable[[redis.Redis, Keys, str], object], str]] = [
    ("slug", lambda r, keys, text: validate_slug(text), "promo"),
    ("API key name", lambda r, keys, text: create_api_key(r, keys, text, 1), "ci-bot"),
    (
        "publisher name",
        lambda r, keys, text: create_publisher(r, keys, text, ORIGINS, 1),
        "news",
    ),
    ("copy-paste token", lambda r, keys, text: generation_of(text), "k3J9xQ2a.2"),
]


@pytest.mark.parametrize(
    ("check", "valid"), [(c, v) for _, c, v in VALIDATORS], ids=[n for n, _, _ in VALIDATORS]
)
def test_a_trailing_newline_is_refused(redis_client, keys, check, valid):
    check(redis_client, keys, valid)  # accepted as it is
    with pytest.raises(InvalidInput):
        check(redis_client, keys, valid + "\n")


def test_a_publisher_key_with_a_trailing_newline_finds_no_publisher(redis_client, keys):
    publisher = create_publisher(redis_client, keys, "news", ORIGINS, 1)
    assert find_publisher(redis_client, keys, publisher.key) == publisher
    assert find_publisher(redis_client, keys, publisher.key + "\n") is None


def test_the_api_refuses_a_slug_with_a_trailing_newline(client, auth):
    response = client.post(
        "/api/v1/links", json={"url": "https://example.com/", "slug": "promo\n"}, headers=auth
    )
    assert response.status_code == 422
    assert response.get_json()["field"] == "slug"
