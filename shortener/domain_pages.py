"""Per-domain pages: where a short domain sends people who open its bare address (`/`) or a code
no link owns. Each is a URL, or empty for Lumen's own page (the dashboard, the 404 page)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import cast

import redis

from shortener.errors import NotFound
from shortener.store import Keys
from shortener.validation import reject_unknown_fields, validate_target_url


@dataclass(frozen=True, slots=True)
class DomainPages:
    """One domain's pages; an empty URL means Lumen's own page."""

    domain: str
    root_url: str = ""
    not_found_url: str = ""

    def as_json(self) -> dict[str, object]:
        """The pages as the API shows them (null: Lumen's page)."""
        return {
            "domain": self.domain,
            "root_url": self.root_url or None,
            "not_found_url": self.not_found_url or None,
        }


PAGE_FIELDS = frozenset(f.name for f in fields(DomainPages)) - {"domain"}


def load_domain_pages(r: redis.Redis, keys: Keys, domain: str) -> DomainPages:
    """The pages of `domain` (Lumen's own where none is set)."""
    stored = cast("dict[str, str]", r.hgetall(keys.domain_pages(domain)))
    return DomainPages(domain, **{name: stored[name] for name in PAGE_FIELDS if name in stored})


def save_domain_pages(
    r: redis.Redis, keys: Keys, domain: str, payload: Mapping[str, object], domains: tuple[str, ...]
) -> DomainPages:
    """Set some of a configured domain's pages (a null or empty URL: Lumen's page again)."""
    if domain not in domains:
        raise NotFound(f"{domain!r} is not a configured domain; configured: {', '.join(domains)}")
    reject_unknown_fields(payload, PAGE_FIELDS)
    changes = {}
    for name in PAGE_FIELDS & set(payload):
        value = payload[name]
        changes[name] = "" if value in (None, "") else validate_target_url(value, domains, name)
    pages = replace(load_domain_pages(r, keys, domain), **changes)
    pipe = r.pipeline(transaction=False)
    if set_urls := {name: getattr(pages, name) for name in PAGE_FIELDS if getattr(pages, name)}:
        pipe.hset(keys.domain_pages(domain), mapping=set_urls)
    if cleared := [name for name in PAGE_FIELDS if not getattr(pages, name)]:
        pipe.hdel(keys.domain_pages(domain), *cleared)
    pipe.execute()
    return pages
