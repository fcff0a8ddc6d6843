"""Links and their share variants: creation, lookup, editing, listing, and code resolution."""

from __future__ import annotations

import builtins
import ipaddress
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import redis

from shortener.analytics.referrers import registrable_domain
from shortener.analytics.vocabulary import is_known_channel
from shortener.codes import CodeFactory, validate_slug
from shortener.destinations import NO_DESTINATIONS, NO_OPTIONS, Destinations, LinkOptions
from shortener.errors import Conflict, InvalidInput, NotFound
from shortener.passwords import hash_password, password_matches
from shortener.store import Keys
from shortener.validation import (
    iso_from_ms,
    reject_unknown_fields,
    validate_domain,
    validate_expires_at,
    validate_flag,
    validate_max_clicks,
    validate_password,
    validate_preview,
    validate_redirect_status,
    validate_split,
    validate_tags,
    validate_target_url,
    validate_targets,
    validate_title,
    validate_utm,
)
from shortener.webhooks import announce_link_event

# Fields that shape where a link sends visitors and what it shows (shortener.destinations).
ROUTING_FIELDS = frozenset(
    {"utm", "forward_query", "utm_from_attribution", "targets", "split", "preview", "password"}
)
EDITABLE_FIELDS = (
    frozenset({"url", "title", "tags", "expires_at", "max_clicks", "redirect_status"})
    | ROUTING_FIELDS
)
CREATE_FIELDS = EDITABLE_FIELDS | {"slug", "domain"}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Ids one list call reads at most, whatever its filters match (bounds a request's work).
MAX_IDS_SCANNED = 5_000
CODE_ATTEMPTS = 20
# How long a claimed code may stand without its link before a create may take it over.
ABANDONED_CLAIM_SECONDS = 2.0


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def is_local_domain(domain: str) -> bool:
    """Whether a domain ("host" or "host:port") is this machine: `localhost` and the names under
    it (RFC 6761), or a loopback address. Such a domain is served over plain http.

    >>> [is_local_domain(d) for d in ("localhost:8000", "app.localhost", "127.0.0.2", "[::1]:80")]
    [True, True, True, True]
    >>> [is_local_domain(d) for d in ("go.brand.com", "notlocalhost:80", "10.0.0.1")]
    [False, False, False]
    """
    host = urlsplit(f"//{domain}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def domain_origin(domain: str) -> str:
    """Where Lumen's public URLs on `domain` start: http for this machine, https elsewhere.

    >>> domain_origin("localhost:8000"), domain_origin("go.brand.com")
    ('http://localhost:8000', 'https://go.brand.com')
    """
    return f"{'http' if is_local_domain(domain) else 'https'}://{domain}"


def short_url(domain: str, code: str) -> str:
    """The public short URL of a code."""
    return f"{domain_origin(domain)}/{code}"


@dataclass(frozen=True, slots=True)
class Link:
    """A short link as stored, with its running click totals."""

    id: int
    domain: str
    code: str
    url: str
    title: str
    tags: tuple[str, ...]
    created_at: int
    expires_at: int | None
    max_clicks: int | None
    redirect_status: int
    destinations: Destinations = NO_DESTINATIONS
    options: LinkOptions = NO_OPTIONS
    password_hash: str = ""
    hits: int = 0
    human: int = 0
    share_page: bool = False  # a share-button page's link: its redirects hand over the cascade

    def as_json(self) -> dict[str, object]:
        """The link as the API shows it (never the password or its hash)."""
        return {
            "id": self.id,
            "domain": self.domain,
            "code": self.code,
            "short_url": short_url(self.domain, self.code),
            "url": self.url,
            "title": self.title,
            "tags": list(self.tags),
            "created_at": iso_from_ms(self.created_at),
            "expires_at": iso_from_ms(self.expires_at),
            "max_clicks": self.max_clicks,
            "redirect_status": self.redirect_status,
            "clicks": {"total": self.hits, "human": self.human},
            **self.routing_json(),
        }

    def routing_json(self) -> dict[str, object]:
        """The fields of ROUTING_FIELDS as the API shows them."""
        options = self.options
        return {
            "utm": dict(options.utm),
            "forward_query": options.forward_query,
            "utm_from_attribution": options.utm_from_attribution,
            "targets": dict(self.destinations.targets),
            "split": [{"url": url, "weight": weight} for url, weight in self.destinations.split],
            "preview": None if options.preview is None else options.preview.as_json(),
            "password_protected": bool(self.password_hash),
        }


@dataclass(frozen=True, slots=True)
class Variant:
    """A share variant: a code of its own that counts for its parent link on one channel."""

    link_id: int
    channel: str
    domain: str
    code: str

    def as_json(self) -> dict[str, object]:
        """The variant as the API shows it."""
        return {
            "link_id": self.link_id,
            "channel": self.channel,
            "code": self.code,
            "short_url": short_url(self.domain, self.code),
        }


@dataclass(frozen=True, slots=True)
class LinkRef:
    """What a code resolves to: its link, the variant channel if any, the target's site, whether
    the link is a share-button page's (its redirects hand the cascade to share.js), and the link's
    destinations (so the redirect can choose one before its single script call)."""

    link_id: int
    channel: str
    site: str
    cascade: bool = False
    destinations: str = ""  # Destinations.encode() of the link

    def encode(self) -> str:
        flags = "c" if self.cascade else ""
        if not self.destinations:
            return f"{self.link_id}|{self.channel}|{self.site}" + (f"|{flags}" if flags else "")
        return f"{self.link_id}|{self.channel}|{self.site}|{flags}|{self.destinations}"

    @classmethod
    def decode(cls, raw: str) -> LinkRef:
        link_id, channel, site, *rest = raw.split("|", 4)
        flags = rest[0] if rest else ""
        return cls(int(link_id), channel, site, flags == "c", rest[1] if len(rest) > 1 else "")


def _link_from_hash(link_id: int, data: Mapping[str, str]) -> Link:
    return Link(
        id=link_id,
        domain=data["domain"],
        code=data["code"],
        url=data["url"],
        title=data.get("title", ""),
        tags=tuple(json.loads(data.get("tags", "[]"))),
        created_at=int(data["created_at"]),
        expires_at=int(data["expires_at"]) if data.get("expires_at") else None,
        max_clicks=int(data["max_clicks"]) if data.get("max_clicks", "0") != "0" else None,
        redirect_status=int(data.get("redirect_status", "302")),
        destinations=Destinations.decode(data.get("dests", "")),
        options=LinkOptions.decode(data.get("options", "")),
        password_hash=data.get("password", ""),
        hits=int(data.get("hits", "0")),
        human=int(data.get("human", "0")),
        share_page=data.get("share_page") == "1",
    )


# Fields left out of the stored record while they hold their default, to keep links small.
DEFAULTS = {
    "title": "",
    "tags": "[]",
    "expires_at": "",
    "max_clicks": "0",
    "redirect_status": "302",
    "share_page": "",
    "dests": "",
    "options": "",
    "password": "",
}


def _link_fields(link: Link) -> dict[str, str]:
    fields = {
        "domain": link.domain,
        "code": link.code,
        "url": link.url,
        "title": link.title,
        "tags": json.dumps(list(link.tags)),
        "created_at": str(link.created_at),
        "expires_at": "" if link.expires_at is None else str(link.expires_at),
        "max_clicks": str(link.max_clicks or 0),
        "redirect_status": str(link.redirect_status),
        "share_page": "1" if link.share_page else "",
        "dests": link.destinations.encode(),
        "options": link.options.encode(),
        "password": link.password_hash,
    }
    return {name: value for name, value in fields.items() if DEFAULTS.get(name) != value}


class LinkStore:
    """Reads and writes links, variants and the code index in Redis."""

    def __init__(
        self,
        r: redis.Redis,
        keys: Keys,
        codes: CodeFactory,
        domains: tuple[str, ...],
        default_domain: str,
        *,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.r = r
        self.keys = keys
        self.codes = codes
        self.domains = domains
        self.default_domain = default_domain
        self.aliases = dict(aliases or {})

    def canonical_domain(self, domain: str) -> str:
        """The link domain `domain` names (alias 127.0.0.1:<port> -> localhost:<port>)."""
        return self.aliases.get(domain, domain)

    def create(self, payload: Mapping[str, object], *, share_page: bool = False) -> Link:
        """Validate `payload` and store a new link; a taken slug raises Conflict.

        `share_page` marks the link of a share-button page (set by the share-links endpoint only).
        """
        reject_unknown_fields(payload, CREATE_FIELDS)
        created = now_ms()
        url = validate_target_url(payload.get("url"), self.domains)
        domain = self.canonical_domain(
            validate_domain(payload.get("domain"), self.domains, self.default_domain)
        )
        slug = payload.get("slug")
        link = Link(
            id=0,
            domain=domain,
            code="",
            url=url,
            title=validate_title(payload.get("title")),
            tags=validate_tags(payload.get("tags")),
            created_at=created,
            expires_at=validate_expires_at(payload.get("expires_at"), created),
            max_clicks=validate_max_clicks(payload.get("max_clicks")),
            redirect_status=validate_redirect_status(payload.get("redirect_status")),
            share_page=share_page,
        )
        link = self._with_routing(link, payload)
        link_id = int(self.r.incr(self.keys.sequence()))
        site = registrable_domain(url) or ""
        ref = LinkRef(link_id, "", site, share_page, link.destinations.encode())
        if slug is None or slug == "":
            code = self._claim_generated_code(domain, link_id, ref)
        else:
            code = validate_slug(slug)
            self._claim_slug(domain, code, ref)
        link = replace(link, id=link_id, code=code)
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(self.keys.link(link_id), mapping=_link_fields(link))
        announce_link_event(pipe, self.keys, "link.created", link.as_json())
        pipe.execute()
        return link

    def _claim_slug(self, domain: str, code: str, ref: LinkRef) -> None:
        """Claim a custom slug; Conflict when a link holds it.

        A create claims its code, then writes its link. When Redis fails between the two, the
        slug stays claimed by a link that never came to be; such a claim (its link still missing
        ABANDONED_CLAIM_SECONDS after it was seen) is taken over, so that creating the link
        again (an import run again) succeeds instead of finding its own slug taken.
        """
        key = self.keys.codes(domain)
        if self.r.hsetnx(key, code, ref.encode()):
            return
        taken = Conflict(f"slug {code!r} is already taken on {domain}", field="slug")
        held = self.r.hget(key, code)
        if held is None or self.r.exists(self.keys.link(LinkRef.decode(held).link_id)):
            raise taken
        time.sleep(ABANDONED_CLAIM_SECONDS)  # a create in flight writes its link meanwhile
        with self.r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                if pipe.hget(key, code) != held or self.r.exists(
                    self.keys.link(LinkRef.decode(held).link_id)
                ):
                    raise taken
                pipe.multi()
                pipe.hset(key, code, ref.encode())
                pipe.execute()
            except redis.WatchError:
                raise taken from None

    def _claim_generated_code(self, domain: str, number: int, ref: LinkRef) -> str:
        """Claim the code of `number`, or of later counter values if a custom slug holds it."""
        for _ in range(CODE_ATTEMPTS):
            code = self.codes.encode(number)
            if self.r.hsetnx(self.keys.codes(domain), code, ref.encode()):
                return code
            number = int(self.r.incr(self.keys.sequence()))
        raise Conflict("could not find a free code; try again")

    def get(self, link_id: int) -> Link:
        """The link with this id, or NotFound."""
        data = self.r.hgetall(self.keys.link(link_id))
        if not data:
            raise NotFound(f"there is no link with id {link_id}")
        return _link_from_hash(link_id, data)

    def update(self, link_id: int, payload: Mapping[str, object]) -> Link:
        """Apply a partial edit; the domain and code of a link never change."""
        if "slug" in payload or "domain" in payload:
            field = "slug" if "slug" in payload else "domain"
            raise InvalidInput(f"{field} cannot be changed; create a new link instead", field=field)
        reject_unknown_fields(payload, EDITABLE_FIELDS)
        link = self.get(link_id)
        changes: dict[str, Any] = {}
        if "url" in payload:
            changes["url"] = validate_target_url(payload["url"], self.domains)
        if "title" in payload:
            changes["title"] = validate_title(payload["title"])
        if "tags" in payload:
            changes["tags"] = validate_tags(payload["tags"])
        if "expires_at" in payload:
            changes["expires_at"] = validate_expires_at(payload["expires_at"], now_ms())
        if "max_clicks" in payload:
            changes["max_clicks"] = validate_max_clicks(payload["max_clicks"])
        if "redirect_status" in payload:
            changes["redirect_status"] = validate_redirect_status(payload["redirect_status"])
        updated = replace(link, **changes)
        updated = self._with_routing(updated, payload)
        fields = _link_fields(updated)
        pipe = self.r.pipeline(transaction=False)
        pipe.hset(self.keys.link(link_id), mapping=fields)
        if back_to_default := [name for name in DEFAULTS if name not in fields]:
            pipe.hdel(self.keys.link(link_id), *back_to_default)
        if updated.url != link.url or updated.destinations != link.destinations:
            site = registrable_domain(updated.url) or ""
            destinations = updated.destinations.encode()
            refs = {
                code: LinkRef(link_id, channel, site, link.share_page, destinations).encode()
                for code, channel in self.codes_of(updated)
            }
            pipe.hset(self.keys.codes(updated.domain), mapping=refs)
        announce_link_event(pipe, self.keys, "link.updated", updated.as_json())
        pipe.execute()
        return updated

    def _with_routing(self, link: Link, payload: Mapping[str, object]) -> Link:
        """`link` with the fields of ROUTING_FIELDS that `payload` sets (the others kept)."""
        targets, split = link.destinations.targets, link.destinations.split
        if "targets" in payload:
            targets = validate_targets(payload["targets"], self.domains)
        if "split" in payload:
            split = validate_split(payload["split"], self.domains)
        options = link.options
        if "utm" in payload:
            options = replace(options, utm=validate_utm(payload["utm"]))
        if "forward_query" in payload:
            forward = validate_flag(payload["forward_query"], "forward_query")
            options = replace(options, forward_query=bool(forward))
        if "utm_from_attribution" in payload:
            flag = validate_flag(
                payload["utm_from_attribution"], "utm_from_attribution", nullable=True
            )
            options = replace(options, utm_from_attribution=flag)
        if "preview" in payload:
            options = replace(options, preview=validate_preview(payload["preview"]))
        password_hash = link.password_hash
        if "password" in payload:
            password = validate_password(payload["password"])
            password_hash = "" if password is None else hash_password(password)
        return replace(
            link,
            destinations=Destinations(targets, split),
            options=options,
            password_hash=password_hash,
        )

    def check_password(self, link_id: int, password: str) -> bool:
        """True when `password` is the link's password (False for a link without one)."""
        stored = self.r.hget(self.keys.link(link_id), "password")
        return isinstance(stored, str) and password_matches(stored, password)

    def codes_of(self, link: Link) -> list[tuple[str, str]]:
        """Every (code, variant channel) that resolves to `link`, its own code first."""
        variants = self.r.hgetall(self.keys.variants(link.id))
        return [(link.code, "")] + [(code, channel) for channel, code in sorted(variants.items())]

    def delete(self, link_id: int) -> None:
        """Delete a link, its variants and raw hits; its codes stop resolving at once."""
        link = self.get(link_id)
        pipe = self.r.pipeline(transaction=False)
        pipe.hdel(self.keys.codes(link.domain), *(code for code, _ in self.codes_of(link)))
        # One DEL per key: redis-py's cluster pipeline takes no multi-key DEL (they share a slot).
        for key in (
            self.keys.link(link_id),
            self.keys.variants(link_id),
            self.keys.link_hits(link_id),
            self.keys.link_previews(link_id),
        ):
            pipe.delete(key)
        deleted = {"id": link.id, "domain": link.domain, "code": link.code, "url": link.url}
        announce_link_event(pipe, self.keys, "link.deleted", deleted)
        pipe.execute()

    def list(
        self,
        *,
        cursor: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        tag: str | None = None,
        domain: str | None = None,
        query: str | None = None,
    ) -> tuple[list[Link], int | None]:
        """Links newest first, filtered; returns the page and the cursor of the next one.

        One call reads at most MAX_IDS_SCANNED ids: a filter that matches little returns a short
        page (maybe empty) with a cursor to go on from. A cursor beyond the newest id is refused.
        """
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        needle = (query or "").lower()
        tag = (tag or "").lower() or None
        domain = self.canonical_domain((domain or "").lower()) or None
        # Ids come from one counter, newest highest; ids of share variants and deleted links
        # have no record and are skipped.
        newest = int(self.r.get(self.keys.sequence()) or 0)
        if cursor is not None and cursor > newest + 1:
            raise InvalidInput(
                f"cursor must be a next_cursor from an earlier page (at most {newest + 1})",
                field="cursor",
            )
        upper = newest if cursor is None else cursor - 1
        lowest = max(0, upper - MAX_IDS_SCANNED)
        page: list[Link] = []
        while upper > lowest:
            ids = range(upper, max(lowest, upper - MAX_PAGE_SIZE), -1)
            pipe = self.r.pipeline(transaction=False)
            for link_id in ids:
                pipe.hgetall(self.keys.link(link_id))
            for link_id, data in zip(ids, pipe.execute(), strict=True):
                upper = link_id - 1
                if not data:
                    continue
                link = _link_from_hash(link_id, data)
                if tag and tag not in link.tags:
                    continue
                if domain and link.domain != domain:
                    continue
                if needle and needle not in link.title.lower() and needle not in link.url.lower():
                    continue
                if len(page) == limit:
                    return page, page[-1].id
                page.append(link)
        return page, (upper + 1 if upper > 0 else None)

    def resolve(self, domain: str, code: str) -> LinkRef | None:
        """What (domain, code) points at, or None for an unknown code."""
        raw = self.r.hget(self.keys.codes(self.canonical_domain(domain)), code)
        return LinkRef.decode(raw) if raw else None

    def add_variant(self, link_id: int, channel: object) -> tuple[Variant, bool]:
        """The link's share variant for `channel`, created on first request; True when created."""
        if not isinstance(channel, str) or not is_known_channel(channel):
            raise InvalidInput(
                "channel must be a known channel slug such as whatsapp, sms or email",
                field="channel",
            )
        link = self.get(link_id)
        existing = self.r.hget(self.keys.variants(link_id), channel)
        if existing:
            return Variant(link_id, channel, link.domain, existing), False
        site = registrable_domain(link.url) or ""
        ref = LinkRef(link_id, channel, site, link.share_page, link.destinations.encode())
        code = self._claim_generated_code(link.domain, int(self.r.incr(self.keys.sequence())), ref)
        if not self.r.hsetnx(self.keys.variants(link_id), channel, code):
            self.r.hdel(self.keys.codes(link.domain), code)
            return Variant(
                link_id, channel, link.domain, self.r.hget(self.keys.variants(link_id), channel)
            ), False
        return Variant(link_id, channel, link.domain, code), True

    def list_variants(self, link_id: int) -> builtins.list[Variant]:
        """The link's share variants, by channel."""
        link = self.get(link_id)
        variants = self.r.hgetall(self.keys.variants(link_id))
        return [
            Variant(link_id, channel, link.domain, code)
            for channel, code in sorted(variants.items())
        ]
