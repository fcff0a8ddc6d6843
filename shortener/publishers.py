"""Publishers: the sites that embed share buttons, each with a public key bound to its origins.

A public key is not a secret (it sits in the page's HTML); what protects it is the binding: Lumen
answers a key only for requests whose `Origin` is one of the publisher's origins, and only about
pages on those origins.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

from shortener.errors import Conflict, InvalidInput, NotFound
from shortener.store import Keys

KEY_PREFIX = "lpk_"
# Checked with fullmatch (a `$` alone also matches before a trailing newline); the anchors make
# KEY_PATTERN the JSON Schema pattern of openapi.py as well.
KEY_PATTERN = re.compile(r"^lpk_[A-Za-z0-9_-]{16,64}$")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MAX_ORIGINS = 20
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Publisher:
    """A site allowed to embed share buttons: its name, public key and origins."""

    name: str
    key: str
    origins: tuple[str, ...]
    created_at: int

    def allows(self, origin: str | None) -> bool:
        """Whether the Origin header `origin` is exactly one of this publisher's origins.

        Browsers send an origin serialised (lower case, no default port, no path or user), as
        origins are stored; anything else, such as `https://evil.example@news.example`, is not
        a browser's Origin and is refused rather than normalised (it would be echoed in CORS).
        """
        return origin is not None and origin in self.origins


def origin_of(url: str) -> str | None:
    """The origin of an http(s) URL as browsers spell it, or None when it has none.

    >>> origin_of("HTTPS://News.Example:443/story?id=1#top")
    'https://news.example'
    >>> origin_of("http://localhost:8080/"), origin_of("ftp://x.example"), origin_of("/relative")
    ('http://localhost:8080', None, None)
    """
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def validate_origin(value: object) -> str:
    """An origin given by a person (`https://site.example`), normalised; InvalidInput otherwise.

    >>> validate_origin("https://Site.Example/")
    'https://site.example'
    """
    if not isinstance(value, str) or len(value) > 300:
        raise InvalidInput("an origin is a string such as https://site.example", field="origin")
    origin = origin_of(value)
    parts = urlsplit(value.strip())
    if (
        origin is None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise InvalidInput(
            f"{value!r} is not an origin: write scheme and host only, such as https://site.example",
            field="origin",
        )
    return origin


def _record(publisher: Publisher) -> str:
    return json.dumps(
        {
            "name": publisher.name,
            "origins": list(publisher.origins),
            "created_at": publisher.created_at,
        }
    )


def _publisher(key: str, raw: str) -> Publisher:
    data = json.loads(raw)
    return Publisher(data["name"], key, tuple(data["origins"]), int(data["created_at"]))


def create_publisher(
    r: redis.Redis, keys: Keys, name: str, origins: Iterable[object], created_at: int
) -> Publisher:
    """Create a publisher bound to `origins` and return it with its new public key."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            "a publisher name is 1 to 40 letters, digits, '.', '_' or '-'", field="name"
        )
    normalised = tuple(dict.fromkeys(validate_origin(origin) for origin in origins))
    if not normalised:
        raise InvalidInput(
            "give at least one origin, such as --origin https://site.example", field="origin"
        )
    if len(normalised) > MAX_ORIGINS:
        raise InvalidInput(f"a publisher has at most {MAX_ORIGINS} origins", field="origin")
    publisher = Publisher(name, KEY_PREFIX + secrets.token_urlsafe(18), normalised, created_at)
    if not r.hsetnx(keys.publishers(), name, publisher.key):
        raise Conflict(f"a publisher named {name!r} exists; revoke it first or choose another name")
    r.hset(keys.publisher_keys(), publisher.key, _record(publisher))
    return publisher


def list_publishers(r: redis.Redis, keys: Keys) -> list[Publisher]:
    """Every publisher, oldest first."""
    publishers = [_publisher(key, raw) for key, raw in r.hgetall(keys.publisher_keys()).items()]
    return sorted(publishers, key=lambda p: (p.created_at, p.name))


def revoke_publisher(r: redis.Redis, keys: Keys, name: str) -> None:
    """Revoke a publisher's key at once; its pages' links and their statistics are kept."""
    key = r.hget(keys.publishers(), name)
    if key is None:
        raise NotFound(f"there is no publisher named {name!r}")
    # Two keys in two slots (no MULTI on a cluster): the key goes first, so it stops working now.
    r.hdel(keys.publisher_keys(), key)
    r.hdel(keys.publishers(), name)


def find_publisher(r: redis.Redis, keys: Keys, key: object) -> Publisher | None:
    """The publisher whose public key is `key`, or None (also for anything that is not a key)."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        return None
    raw = r.hget(keys.publisher_keys(), key)
    return _publisher(key, raw) if raw else None


def is_publisher_origin(r: redis.Redis, keys: Keys, origin: str | None) -> bool:
    """Whether any publisher lists `origin` (for CORS preflights, which carry no key)."""
    return origin is not None and any(p.allows(origin) for p in list_publishers(r, keys))
