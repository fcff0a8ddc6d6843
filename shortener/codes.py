"""Short codes: hashids over a Redis counter, and the rules for custom slugs."""

from __future__ import annotations

import re

from hashids import Hashids

from shortener.errors import InvalidInput

# No look-alikes: 0/O/o, 1/l/I are left out so a code read aloud or off paper is typed right.
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Paths Lumen serves itself, and names people would expect to be the site's own.
RESERVED_WORDS = frozenset(
    {
        "api",
        "dashboard",
        "embed",
        "static",
        "healthz",
        "readyz",
        "metrics",
        "favicon.ico",
        "robots.txt",
        "admin",
        "login",
        "logout",
        "signin",
        "signout",
        "assets",
        "docs",
        "openapi.json",
        "well-known",
        ".well-known",
        "sitemap.xml",
        "humans.txt",
        "security.txt",
        "apple-touch-icon.png",
        "manifest.json",
        "sw.js",
    }
)


class CodeFactory:
    """Encodes counter values as short codes and tells canonical codes from look-alikes."""

    def __init__(self, salt: str, min_length: int = 5) -> None:
        self._hashids = Hashids(salt=salt, min_length=min_length, alphabet=ALPHABET)

    def encode(self, number: int) -> str:
        """The code of a counter value."""
        return str(self._hashids.encode(number))

    def is_canonical(self, code: str) -> bool:
        """True when `code` decodes to one number that encodes back to exactly `code`."""
        numbers = self._hashids.decode(code)
        return len(numbers) == 1 and self._hashids.encode(numbers[0]) == code


def validate_slug(slug: object) -> str:
    """Return `slug` when it is a valid custom slug, else raise InvalidInput naming the rule.

    >>> validate_slug("spring-sale_2026")
    'spring-sale_2026'
    """
    if not isinstance(slug, str):
        raise InvalidInput("slug must be a string", field="slug")
    if not SLUG_PATTERN.fullmatch(slug):
        raise InvalidInput(
            "slug must be 1 to 64 characters of letters, digits, '-' and '_'", field="slug"
        )
    if slug.lower() in RESERVED_WORDS:
        raise InvalidInput(f"slug {slug!r} is reserved by Lumen; choose another", field="slug")
    return slug
