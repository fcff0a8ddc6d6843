"""Validation of the link fields that arrive from outside (API bodies, CLI arguments)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Set
from datetime import UTC, datetime
from urllib.parse import urlsplit

import idna

from shortener.errors import InvalidInput

MAX_URL_LENGTH = 2048
MAX_TITLE_LENGTH = 300
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
REDIRECT_STATUSES = (301, 302, 307)
# Deepest JSON nesting a body may have; Lumen's own bodies are 2 deep (an object holding a list).
MAX_JSON_DEPTH = 8

MAX_HOST_LENGTH = 253
# An ASCII host label: letters, digits, inner hyphens; underscores too, as real hosts carry them
# (RFC 2181 allows any octet in DNS names; browsers accept `_` in hosts).
_ASCII_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_nesting_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings ignored).

    >>> json_nesting_depth('{"tags": ["a", "[["]}')
    2
    """
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth = depth + 1 if bracket in "[{" else depth - 1
        deepest = max(deepest, depth)
    return deepest


def reject_unknown_fields(payload: Mapping[str, object], allowed: Set[str]) -> None:
    """Raise InvalidInput naming the first field of `payload` that is not in `allowed`."""
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"unknown field {unknown[0]!r}; allowed fields are {', '.join(sorted(allowed))}",
            field=unknown[0],
        )


def is_valid_host(hostname: str) -> bool:
    """Whether `hostname` (lower-case, as urlsplit gives it) is an IP address or a DNS name.

    Non-ASCII labels must pass IDNA 2008 (`idna`), which refuses invisible characters.

    >>> [is_valid_host(h) for h in ("bücher.de", "1.2.3.4", 'ex"ample.com', "exa\u200bmple.com")]
    [True, True, False, False]
    """
    try:
        ipaddress.ip_address(hostname)
        return True
    except ValueError:
        pass
    name = hostname[:-1] if hostname.endswith(".") else hostname
    if not name or len(name) > MAX_HOST_LENGTH:
        return False
    for label in name.split("."):
        if not label.isascii():
            try:
                label = idna.encode(label).decode("ascii")
            except idna.IDNAError:
                return False
        if not _ASCII_LABEL.match(label):
            return False
    return True


def validate_target_url(url: object, lumen_domains: tuple[str, ...]) -> str:
    """Return `url` when it is an absolute http(s) URL Lumen may redirect to.

    >>> validate_target_url("https://example.com/a?b=1", ("go.brand.com",))
    'https://example.com/a?b=1'
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("url is required and must be a string", field="url")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url is longer than {MAX_URL_LENGTH} characters", field="url")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidInput("url must not contain spaces or control characters", field="url")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError as error:
        raise InvalidInput(f"url is not a valid URL ({error})", field="url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("url must start with http:// or https://", field="url")
    if not hostname:
        raise InvalidInput("url must name a host, as in https://example.com/page", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url must not carry a user name or password", field="url")
    if not is_valid_host(hostname):
        raise InvalidInput(f"url names an invalid host ({hostname[:100]!r})", field="url")
    if port == 0:
        raise InvalidInput("url's port must be between 1 and 65535", field="url")
    host_with_port = f"{hostname}:{port}" if port else hostname
    lumen_hosts = {d.lower() for d in lumen_domains} | {
        d.split(":")[0].lower() for d in lumen_domains
    }
    if hostname in lumen_hosts or host_with_port in lumen_hosts:
        raise InvalidInput(
            "url must not point at a Lumen short domain (no redirect loops)", field="url"
        )
    return url


def validate_title(title: object) -> str:
    """Return a title of at most MAX_TITLE_LENGTH characters."""
    if title is None:
        return ""
    if not isinstance(title, str):
        raise InvalidInput("title must be a string", field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput(f"title is longer than {MAX_TITLE_LENGTH} characters", field="title")
    return title.strip()


def validate_tags(tags: object) -> tuple[str, ...]:
    """Return tags as a tuple of distinct, trimmed, lower-case strings."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = [t for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput("tags must be a list of strings", field="tags")
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH or "," in tag:
            raise InvalidInput(
                f"each tag is at most {MAX_TAG_LENGTH} characters, without commas", field="tags"
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags per link", field="tags")
    return tuple(cleaned)


def validate_expires_at(value: object, now_ms: int) -> int | None:
    """Return an ISO 8601 expiry as epoch milliseconds (None for no expiry); it must be future."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput("expires_at must be an ISO 8601 date-time string", field="expires_at")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            "expires_at must be an ISO 8601 date-time such as 2026-12-31T23:59:00Z",
            field="expires_at",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    millis = int(moment.timestamp() * 1000)
    if millis <= now_ms:
        raise InvalidInput("expires_at must be in the future", field="expires_at")
    return millis


def validate_max_clicks(value: object) -> int | None:
    """Return a positive click budget, or None for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 10**12:
        raise InvalidInput(
            "max_clicks must be a whole number of at least 1, or null", field="max_clicks"
        )
    return value


def validate_redirect_status(value: object) -> int:
    """Return 301, 302 or 307 (302 when absent)."""
    if value is None:
        return 302
    if isinstance(value, bool) or value not in REDIRECT_STATUSES:
        raise InvalidInput("redirect_status must be 301, 302 or 307", field="redirect_status")
    return int(value)


def validate_domain(value: object, domains: tuple[str, ...], default: str) -> str:
    """Return a configured domain (the default when absent)."""
    if value is None or value == "":
        return default
    if not isinstance(value, str) or value.lower() not in domains:
        raise InvalidInput(f"domain must be one of: {', '.join(domains)}", field="domain")
    return value.lower()


def iso_from_ms(millis: int | None) -> str | None:
    """Epoch milliseconds as an ISO 8601 UTC string."""
    if millis is None:
        return None
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
