"""Share buttons on publishers' pages: each page's link and variants, shares made, copy-pastes.

A page is known by its canonical URL. The first request for it creates its link (tagged
`share:<publisher>`) and one share variant per button channel; later requests return the same
ones (the index `pub:<name>:pages` maps the URL to the link). Clicks on the buttons are counted as
`sh:<button>` in the day aggregates; visitors arriving with another page view's copy-paste token
are recorded as human hits with evidence `copy`, plus `gen:<n>` for the token's generation.

The share cascade (`shortener.analytics.cascade`): a share made by a visitor who arrived through
channel P at generation n counts `cas:<P>><button>` and `cg:<n + 1>`; a visitor brought by such
a share counts `cac:<P>><channel>` (the cascade's clicks). Labels come from a closed set, so the
fields stay bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

import redis

from shortener.analytics.attribution import classify_hit
from shortener.analytics.cascade import Arrival, child_generation, parse_arrival
from shortener.analytics.vocabulary import Kind
from shortener.errors import Forbidden, InvalidInput, NotFound, TooManyRequests
from shortener.hits.recording import AGGREGATE_DAYS, Hit, RecordingPolicy, day_of, record_hit
from shortener.hits.tally import InstanceTally
from shortener.links import Link, LinkStore, Variant, short_url
from shortener.publishers import Publisher, origin_of
from shortener.store import SHARDS, Keys
from shortener.validation import MAX_TITLE_LENGTH, validate_target_url

# The buttons share.js can draw, in its default order. Each but `more` shares its own share
# variant; `more` (the Web Share sheet, where the app is chosen later) shares the page's link.
SHARE_BUTTONS = (
    "whatsapp",
    "sms",
    "email",
    "messenger",
    "telegram",
    "twitter",
    "facebook",
    "linkedin",
    "reddit",
    "copy",
    "more",
)
NATIVE_SHARE = "more"
# What a beacon reports: a share-button click, a visitor arriving by copy-paste, or one a
# cascade share brought (see shortener.analytics.cascade).
BEACON_EVENTS = ("share", "copy-arrival", "arrival")
# Body caps of the public endpoints, in bytes: a share-links request names a page, its title and
# up to eleven buttons; a beacon, one event.
MAX_SHARE_LINKS_BODY_BYTES = 4096
MAX_BEACON_BODY_BYTES = 2048
# A copy-paste token: 8 random characters for one page view, then its generation (1 for a view
# that did not arrive by copy-paste, n + 1 for a view that arrived with a generation-n token).
# Checked with fullmatch; the anchors make it the JSON Schema pattern of openapi.py as well.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9]{8}\.([1-9][0-9]?)$")


@dataclass(frozen=True, slots=True)
class SharePage:
    """A publisher's page: its link and the share variants of the buttons asked for."""

    url: str
    link: Link
    variants: tuple[Variant, ...]

    def as_json(self) -> dict[str, object]:
        """What share.js receives: the page's short link and one short link per button."""
        page_link = short_url(self.link.domain, self.link.code)
        return {
            "url": self.url,
            "link": {"id": self.link.id, "short_url": page_link},
            "variants": {v.channel: short_url(v.domain, v.code) for v in self.variants},
        }


def validate_buttons(value: object) -> tuple[str, ...]:
    """The buttons a request names (all of them when absent), in order, without repeats.

    >>> validate_buttons(["sms", "whatsapp", "sms"])
    ('sms', 'whatsapp')
    """
    if value is None:
        return SHARE_BUTTONS
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(
            'channels must be a list of button names such as ["whatsapp", "sms"]', field="channels"
        )
    for item in value:
        validate_button(item)
    return tuple(dict.fromkeys(value))


def validate_button(value: object) -> str:
    """One share-button name, or InvalidInput listing the known ones."""
    if value not in SHARE_BUTTONS:
        raise InvalidInput(f"channel must be one of: {', '.join(SHARE_BUTTONS)}", field="channel")
    return str(value)


def generation_of(token: object) -> int:
    """The generation carried by a copy-paste token, or InvalidInput.

    >>> generation_of("k3J9xQ2a.2")
    2
    """
    match = TOKEN_PATTERN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise InvalidInput(
            "token must be 8 letters or digits, a dot and a generation from 1 to 99", field="token"
        )
    return int(match.group(1))


def page_url(publisher: Publisher, url: object, lumen_domains: tuple[str, ...]) -> str:
    """The canonical URL of a page of `publisher`: a valid target without its fragment."""
    url = validate_target_url(url, lumen_domains)
    parts = urlsplit(url)
    if origin_of(url) not in publisher.origins:
        raise Forbidden(
            f"the page {url!r} is not on the origins of publisher {publisher.name!r} "
            f"({', '.join(publisher.origins)})",
            field="url",
        )
    return urlunsplit(parts._replace(fragment=""))


def _live_link(links: LinkStore, pages_key: str, url: str) -> Link | None:
    raw = links.r.hget(pages_key, url)
    if raw is None:
        return None
    try:
        return links.get(int(raw))
    except NotFound:
        links.r.hdel(
            pages_key, url
        )  # the link was deleted through the API: the page gets a new one
        return None


def share_page(
    links: LinkStore,
    publisher: Publisher,
    url: str,
    title: object,
    buttons: Collection[str],
    *,
    may_add_page: Callable[[], bool] = lambda: True,
) -> SharePage:
    """The page's link and its buttons' variants, created the first time (safe to race).

    A new page mints a link and a code per button, so it is created only if `may_add_page()`
    (the publisher's hourly allowance); TooManyRequests otherwise.
    """
    if title is not None and not isinstance(title, str):
        raise InvalidInput("title must be a string", field="title")
    title = (title or "")[:MAX_TITLE_LENGTH]  # a page's own title: cut, not refused
    pages_key = links.keys.publisher_pages(publisher.name)
    link = _live_link(links, pages_key, url)
    if link is None:
        if not may_add_page():
            raise TooManyRequests(
                f"publisher {publisher.name!r} has registered its allowance of new pages for "
                "this hour; try again later",
                field="url",
            )
        created = links.create(
            {"url": url, "title": title, "tags": [f"share:{publisher.name}"]}, share_page=True
        )
        if links.r.hsetnx(pages_key, url, created.id):
            link = created
        else:  # another request created the page's link first: keep that one
            links.delete(created.id)
            link = links.get(int(links.r.hget(pages_key, url)))
    existing = {v.channel: v for v in links.list_variants(link.id)}
    variants = []
    for button in buttons:
        if button == NATIVE_SHARE:
            continue
        variants.append(existing.get(button) or links.add_variant(link.id, button)[0])
    return SharePage(url, link, tuple(variants))


def page_link(links: LinkStore, publisher: Publisher, url: str) -> Link:
    """The link of a page the publisher's script already asked for, or NotFound."""
    link = _live_link(links, links.keys.publisher_pages(publisher.name), url)
    if link is None:
        raise NotFound(f"the page {url!r} has no share link yet; share.js asks for it first")
    return link


def _count(r: redis.Redis, keys: Keys, link_id: int, time_ms: int, *fields: str) -> None:
    day = day_of(time_ms)
    pipe = r.pipeline(transaction=False)
    # Any instance-wide shard can hold a count (the shards are summed): the link's spreads them.
    for key in (keys.link_day(link_id, day), keys.global_day(day, link_id % SHARDS)):
        for field in fields:
            pipe.hincrby(key, field, 1)
        pipe.expire(key, AGGREGATE_DAYS * 86_400)
    pipe.execute()


def validate_arrival(value: object, *, parent_required: bool) -> Arrival:
    """The arrival a beacon's `from` field reports, or InvalidInput.

    >>> validate_arrival("2_telegram_whatsapp", parent_required=True).parent
    'whatsapp'
    """
    arrival = parse_arrival(value)
    if arrival is None or (parent_required and arrival.parent is None):
        shape = "<generation>_<channel>_<parent>" if parent_required else "<generation>_<channel>"
        raise InvalidInput(
            f"from must be {shape} with a generation from 0 to 99 and known channel names "
            "(as share.js sends it)",
            field="from",
        )
    return arrival


def record_share(
    r: redis.Redis,
    keys: Keys,
    link_id: int,
    button: str,
    time_ms: int,
    arrival: Arrival | None = None,
) -> None:
    """Count one click on a share button (a share made) for the link and the instance; with the
    sharer's `arrival`, also the cascade edge `cas:<arrival channel>><button>` and the share's
    generation `cg:<n>`."""
    fields = [f"sh:{button}"]
    if arrival is not None:
        fields += [f"cas:{arrival.channel}>{button}", f"cg:{child_generation(arrival)}"]
    _count(r, keys, link_id, time_ms, *fields)


def record_cascade_arrival(
    r: redis.Redis, keys: Keys, link_id: int, arrival: Arrival, time_ms: int
) -> None:
    """Count a visitor brought by a cascade share: a click on the edge `cac:<parent>><channel>`."""
    _count(r, keys, link_id, time_ms, f"cac:{arrival.parent}>{arrival.channel}")


def is_first_beacon_today(r: redis.Redis, keys: Keys, link_id: int, hit: Hit, event: str) -> bool:
    """Whether this visitor's `event` beacon is the first about this page today (then remembered).

    Visitor hashes change every UTC day, so a day's set of them is all it takes.
    """
    key = keys.beacon_visitors(link_id, day_of(hit.time_ms))
    pipe = r.pipeline(transaction=False)
    pipe.sadd(key, f"{event}|{hit.visitor}")
    pipe.expire(key, 2 * 86_400)
    added, _ = pipe.execute()
    return bool(added)


def record_copy_arrival(
    r: redis.Redis,
    keys: Keys,
    link: Link,
    hit: Hit,
    generation: int,
    *,
    tally: InstanceTally,
    policy: RecordingPolicy,
) -> bool:
    """Record a visitor who pasted a page's URL: a dark human hit with evidence `copy`.

    The hit goes through `record_hit`, so it counts in every aggregate like a click; a person's
    arrival also counts `gen:<generation>`. False when nothing was counted (link gone or spent).
    """
    attribution = classify_hit(hit.user_agent, "", copy=True)
    outcome = record_hit(
        r,
        keys,
        link.id,
        hit,
        attribution,
        tally=tally,
        policy=replace(policy, preview_window_ms=0),
        unlocked=True,  # a paste comes from someone who was on the page: past any password
    )
    if outcome is None or outcome.status == 410:
        return False
    if attribution.kind is Kind.HUMAN:
        _count(r, keys, link.id, hit.time_ms, f"gen:{generation}")
    return True
