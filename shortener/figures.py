"""Stats: the figures of a range of UTC days, read only from the day aggregates.

A range costs one pipelined round trip whose size depends on the days and hashes asked for, never
on the number of hits: for the whole instance, the merged aggregates of each day (a hash, a
HyperLogLog and the top-links sorted set; `shortener.hits.instance` merges the shards of open
days and compacts closed ones once); for links, one HGETALL and one PFCOUNT per day and link.
Field names are documented in `shortener.store`.

Headline figures (DESIGN.md "Attribution"):

1. **dark share** = dark human hits / human hits (None when there are no human hits);
2. **dark : public ratio** = dark human hits / `social` human hits (None when there are none);
3. the **evidence mix** behind the dark share: dark human hits by the evidence that decided them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import redis

from shortener.analytics.referrers import channel_category
from shortener.analytics.vocabulary import DARK_SOURCES, Evidence, Source
from shortener.errors import InvalidInput
from shortener.hits.instance import read_instance_days
from shortener.hits.recording import AGGREGATE_DAYS, decode_attribution
from shortener.links import Link, LinkStore, Variant, now_ms, short_url
from shortener.store import NO_VALUE, Keys
from shortener.validation import validate_domain

DEFAULT_RANGE_DAYS = 30
# Days a range may name: epoch milliseconds stay positive, and the day after the last one exists.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9999, 12, 30)
MAX_RANGE_DAYS = AGGREGATE_DAYS  # day aggregates expire after this many days
TOP_LINKS = 10
# Stacking order of the per-day chart: private sources first, then public ones (offline: QR codes).
SOURCES: tuple[str, ...] = tuple(
    str(s)
    for s in (
        Source.DARK,
        Source.MESSAGING,
        Source.EMAIL,
        Source.SOCIAL,
        Source.SEARCH,
        Source.REFERRAL,
        Source.OFFLINE,
        Source.INTERNAL,
    )
)
EVIDENCE: tuple[str, ...] = tuple(str(e) for e in Evidence)


@dataclass(frozen=True, slots=True)
class DayRange:
    """An inclusive range of UTC days."""

    first: date
    last: date

    def __len__(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        """Every day of the range, oldest first."""
        return [self.first + timedelta(days=n) for n in range(len(self))]

    def start_ms(self) -> int:
        """The first millisecond of the range (epoch ms, UTC)."""
        return _midnight_ms(self.first)

    def end_ms(self) -> int:
        """The last millisecond of the range (epoch ms, UTC)."""
        return _midnight_ms(self.last + timedelta(days=1)) - 1

    def as_json(self) -> dict[str, object]:
        """The range as the API shows it."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "days": len(self)}


def _midnight_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def today_of(time_ms: int) -> date:
    """The UTC day of an epoch-millisecond time."""
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC).date()


def parse_day(value: str, field: str) -> date:
    """An ISO 8601 date (or date-time, taken in UTC) as a UTC day; InvalidInput naming `field`.

    >>> parse_day("2026-11-26", "from"), parse_day("2026-11-26T23:30:00-02:00", "to")
    (datetime.date(2026, 11, 26), datetime.date(2026, 11, 27))
    """
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"{field} must be an ISO 8601 date such as 2026-11-26", field=field
        ) from None
    return moment.date()


def last_days(count: int, today: date) -> DayRange:
    """The `count` days ending with `today`."""
    return DayRange(today - timedelta(days=count - 1), today)


def day_range(start: str | None, end: str | None, today: date) -> DayRange:
    """The range `start`..`end` (ISO 8601, inclusive); by default the last 30 days up to today.

    >>> day_range("2026-11-01", "2026-11-03", date(2026, 11, 26)).as_json()
    {'from': '2026-11-01', 'to': '2026-11-03', 'days': 3}
    """
    last = parse_day(end, "to") if end else today
    first = (
        parse_day(start, "from")
        if start
        else max(last - timedelta(days=DEFAULT_RANGE_DAYS - 1), FIRST_DAY)
    )
    for name, day in (("from", first), ("to", last)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInput(f"{name} must be between {FIRST_DAY} and {LAST_DAY}", field=name)
    if first > last:
        raise InvalidInput(f"from ({first}) is after to ({last}); swap them", field="from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"a range is at most {MAX_RANGE_DAYS} days (aggregates are kept that long)",
            field="from",
        )
    return DayRange(first, last)


@dataclass(frozen=True, slots=True)
class Count:
    """One row of a breakdown: a value (None when unknown) and its count."""

    name: str | None
    count: int

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "count": self.count}


@dataclass(frozen=True, slots=True)
class ChannelClicks:
    """Human clicks from one channel (None: no channel known), with its category."""

    channel: str | None
    category: str
    dark: bool
    clicks: int

    def as_json(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "category": self.category,
            "dark": self.dark,
            "clicks": self.clicks,
        }


@dataclass(frozen=True, slots=True)
class ChannelShares:
    """Shares of one channel: made (share buttons), observed (previews), and the clicks they got."""

    channel: str
    shares_made: int
    shares_observed: int
    clicks: int

    @property
    def clicks_per_share(self) -> float | None:
        """Tagged clicks per share made; None when no share was made."""
        return self.clicks / self.shares_made if self.shares_made else None

    def as_json(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "shares_made": self.shares_made,
            "shares_observed": self.shares_observed,
            "clicks": self.clicks,
            "clicks_per_share": self.clicks_per_share,
        }


@dataclass(frozen=True, slots=True)
class CascadeEdge:
    """One step of the share cascade: visitors who came by `parent` shared by `child`
    (`shares`), and the visitors those shares brought (`clicks`, counted by share.js)."""

    parent: str
    child: str
    shares: int
    clicks: int

    def as_json(self) -> dict[str, object]:
        return {
            "parent": self.parent,
            "child": self.child,
            "shares": self.shares,
            "clicks": self.clicks,
        }


@dataclass(frozen=True, slots=True)
class Cascade:
    """The share cascade of a range: its edges, shares by generation, and the channels whose
    visitors carry shares onward (shares made by visitors who arrived through each)."""

    edges: tuple[CascadeEdge, ...] = ()
    generations: tuple[Count, ...] = ()
    carriers: tuple[Count, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "edges": [edge.as_json() for edge in self.edges],
            "generations": [
                {"generation": int(c.name or 0), "shares": c.count} for c in self.generations
            ],
            "carriers": [{"channel": c.name, "onward_shares": c.count} for c in self.carriers],
        }


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One day of the series: hits by kind and human clicks by source."""

    day: date
    hits: int
    human: int
    previews: int
    bots: int
    dark: int
    unique_visitors: int
    sources: dict[str, int]

    def as_json(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "hits": self.hits,
            "human": self.human,
            "previews": self.previews,
            "bots": self.bots,
            "dark": self.dark,
            "unique_visitors": self.unique_visitors,
            "sources": dict(self.sources),
        }


@dataclass(frozen=True, slots=True)
class TopLink:
    """A link and its human clicks in the range."""

    id: int
    domain: str
    code: str
    title: str
    url: str
    clicks: int

    @property
    def short_url(self) -> str:
        return short_url(self.domain, self.code)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "short_url": self.short_url,
            "title": self.title,
            "url": self.url,
            "clicks": self.clicks,
        }


@dataclass(frozen=True, slots=True)
class VariantClicks:
    """A share variant of the link and what it did in the range."""

    channel: str
    short_url: str
    clicks: int
    shares_made: int
    shares_observed: int

    def as_json(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "short_url": self.short_url,
            "clicks": self.clicks,
            "shares_made": self.shares_made,
            "shares_observed": self.shares_observed,
        }


@dataclass(frozen=True, slots=True)
class Totals:
    """Whole-range totals. `public` = human − dark; `orphans` only for the whole instance."""

    hits: int
    human: int
    previews: int
    bots: int
    unique_visitors: int
    dark: int
    public: int
    social: int
    orphans: int

    def as_json(self) -> dict[str, int]:
        return {
            "hits": self.hits,
            "human": self.human,
            "previews": self.previews,
            "bots": self.bots,
            "unique_visitors": self.unique_visitors,
            "dark": self.dark,
            "public": self.public,
            "social": self.social,
            "orphans": self.orphans,
        }


@dataclass(frozen=True, slots=True)
class Stats:
    """Every figure of a range: totals, headline ratios, series, breakdowns, shares, top links."""

    range: DayRange
    totals: Totals
    dark_evidence: dict[str, int]
    series: tuple[DayFigures, ...]
    sources: tuple[Count, ...]
    channels: tuple[ChannelClicks, ...]
    evidence: tuple[Count, ...]
    devices: tuple[Count, ...]
    oses: tuple[Count, ...]
    browsers: tuple[Count, ...]
    languages: tuple[Count, ...]
    previews: tuple[Count, ...]
    shares: tuple[ChannelShares, ...]
    top_links: tuple[TopLink, ...]
    variants: tuple[VariantClicks, ...] | None = None
    # Copy-paste arrivals by generation (`gen:<n>`): 1 = a paste by someone who came another way.
    copy_generations: tuple[Count, ...] = ()
    # A link's human clicks per destination (`dst:<label>`): a device target's key, `default`
    # (its own url), or a split destination's URL. Only links with targets or a split have them.
    destinations: tuple[Count, ...] = ()
    cascade: Cascade = Cascade()

    @property
    def dark_share(self) -> float | None:
        """Dark human hits / human hits, from 0 to 1; None without human hits."""
        return self.totals.dark / self.totals.human if self.totals.human else None

    @property
    def dark_public_ratio(self) -> float | None:
        """Dark human hits per `social` human hit; None without social hits."""
        return self.totals.dark / self.totals.social if self.totals.social else None

    def as_json(self) -> dict[str, object]:
        """The stats as the API shows them."""
        body: dict[str, object] = {
            "range": self.range.as_json(),
            "totals": self.totals.as_json(),
            "dark_share": self.dark_share,
            "dark_public_ratio": self.dark_public_ratio,
            "dark_evidence": dict(self.dark_evidence),
            "series": [day.as_json() for day in self.series],
            "breakdowns": {
                "sources": [c.as_json() for c in self.sources],
                "channels": [c.as_json() for c in self.channels],
                "evidence": [c.as_json() for c in self.evidence],
                "devices": [c.as_json() for c in self.devices],
                "os": [c.as_json() for c in self.oses],
                "browsers": [c.as_json() for c in self.browsers],
                "languages": [c.as_json() for c in self.languages],
                "previews": [
                    {"channel": c.name, "shares_observed": c.count} for c in self.previews
                ],
                "copy_generations": [
                    {"generation": int(c.name or 0), "arrivals": c.count}
                    for c in self.copy_generations
                ],
                "destinations": [c.as_json() for c in self.destinations],
            },
            "shares": [s.as_json() for s in self.shares],
            "cascade": self.cascade.as_json(),
            "top_links": [t.as_json() for t in self.top_links],
        }
        if self.variants is not None:
            body["variants"] = [v.as_json() for v in self.variants]
        return body


def select_links(
    links: LinkStore, *, tag: str | None = None, domain: str | None = None, query: str | None = None
) -> list[Link]:
    """Every link matching the filters, newest first (walks the link list page by page)."""
    selected: list[Link] = []
    cursor: int | None = None
    while True:
        page, cursor = links.list(cursor=cursor, limit=200, tag=tag, domain=domain, query=query)
        selected.extend(page)
        if cursor is None:
            return selected


def stats_for(
    store: LinkStore,
    days: DayRange,
    *,
    link: Link | None = None,
    tag: str | None = None,
    domain: str | None = None,
) -> Stats:
    """Stats of the whole instance, of one link (its share variants listed one by one), or of the
    links a tag and/or a domain select (their day hashes summed)."""
    if link is not None:
        if tag or domain:
            raise InvalidInput("link selects a single link; leave out tag and domain", field="link")
        return load_stats(store.r, store.keys, days, [link], variants=store.list_variants(link.id))
    if domain:
        domain = validate_domain(domain, store.domains, store.default_domain)
    if tag or domain:
        return load_stats(store.r, store.keys, days, select_links(store, tag=tag, domain=domain))
    return load_stats(store.r, store.keys, days)


def load_stats(
    r: redis.Redis,
    keys: Keys,
    days: DayRange,
    links: Sequence[Link] | None = None,
    *,
    variants: Sequence[Variant] | None = None,
    top: int = TOP_LINKS,
) -> Stats:
    """The figures of `days` for the whole instance (`links` None) or the sum of `links`.

    `variants`, the share variants of a single link, are listed one by one with their tagged clicks.
    """
    day_names = [d.strftime("%Y%m%d") for d in days.dates()]
    per_link: Counter[int] = Counter()
    if links is None:
        instance_days = read_instance_days(r, keys, day_names, now_ms())
        per_day = [day.fields for day in instance_days]
        day_visitors = [day.visitors for day in instance_days]
        for day in instance_days:
            per_link.update(day.top_links)
        top_links = _fetch_top_links(r, keys, per_link, top)
    else:
        per_day, day_visitors = _read_link_days(r, keys, day_names, links, per_link)
        by_id = {link.id: link for link in links}
        top_links = tuple(
            TopLink(i, by_id[i].domain, by_id[i].code, by_id[i].title, by_id[i].url, n)
            for i, n in sorted(per_link.items(), key=lambda item: (-item[1], -item[0]))[:top]
            if n > 0
        )
    # Visitor hashes change every UTC day (privacy), so no visitor can be in two days' sets: the
    # range's count is the sum of the days', and no union of every HyperLogLog is needed.
    unique_visitors = sum(day_visitors)

    total: Counter[str] = Counter()
    for day_total in per_day:
        total.update(day_total)
    # Every derived field is a sum of stored ones: derive once for the range, and only the few
    # figures of the chart for each day (deriving each day in full was half of a 90-day read).
    total = _derived(total)
    series = tuple(
        _day_figures(day, counts, visitors)
        for day, counts, visitors in zip(days.dates(), per_day, day_visitors, strict=True)
    )
    return Stats(
        range=days,
        totals=Totals(
            hits=total["hits"],
            human=total["k:human"],
            previews=total["k:preview"],
            bots=total["k:bot"],
            unique_visitors=unique_visitors,
            dark=total["dark"],
            public=total["k:human"] - total["dark"],
            social=total["s:social"],
            orphans=total["orphan"],
        ),
        dark_evidence={e: total[f"de:{e}"] for e in EVIDENCE},
        series=series,
        sources=_breakdown(total, "s:"),
        channels=_channels(total),
        evidence=_breakdown(total, "e:"),
        devices=_breakdown(total, "dev:"),
        oses=_breakdown(total, "os:"),
        browsers=_breakdown(total, "br:"),
        languages=_breakdown(total, "lang:"),
        previews=_breakdown(total, "p:"),
        shares=_shares(total),
        top_links=top_links,
        variants=None if variants is None else _variants(variants, total),
        copy_generations=tuple(sorted(_breakdown(total, "gen:"), key=lambda c: int(c.name or 0))),
        destinations=_breakdown(total, "dst:"),
        cascade=_cascade(total),
    )


def _cascade(total: Counter[str]) -> Cascade:
    """The cascade from `cas:<parent>><child>` (shares), `cac:<parent>><child>` (clicks) and
    `cg:<n>` (shares of generation n); largest edges first, generations in order."""
    shares, clicks = dict(_field_values(total, "cas:")), dict(_field_values(total, "cac:"))
    edges = []
    for name in shares.keys() | clicks.keys():
        parent, _, child = name.partition(">")
        edges.append(CascadeEdge(parent, child, shares.get(name, 0), clicks.get(name, 0)))
    edges.sort(key=lambda e: (-(e.shares + e.clicks), e.parent, e.child))
    onward: Counter[str] = Counter()
    for edge in edges:
        onward[edge.parent] += edge.shares
    return Cascade(
        edges=tuple(edges),
        generations=tuple(sorted(_breakdown(total, "cg:"), key=lambda c: int(c.name or 0))),
        carriers=tuple(
            Count(name, n) for name, n in sorted(onward.items(), key=lambda i: (-i[1], i[0])) if n
        ),
    )


def _read_link_days(
    r: redis.Redis,
    keys: Keys,
    day_names: Sequence[str],
    links: Sequence[Link],
    per_link: Counter[int],
) -> tuple[list[Counter[str]], list[int]]:
    """Each day's summed hash of `links` and its visitors, one pipeline; adds each link's human
    clicks to `per_link`. Visitors of several links are the sum of each link's count (a PFCOUNT
    of several keys would cross slots on a cluster), so a visitor of two of them counts twice."""
    pipe = r.pipeline(transaction=False)
    for day in day_names:
        for link in links:
            pipe.hgetall(keys.link_day(link.id, day))
            pipe.execute_command("PFCOUNT", keys.link_visitors(link.id, day))
    replies = iter(pipe.execute())
    per_day: list[Counter[str]] = []
    day_visitors: list[int] = []
    for _ in day_names:
        day_total: Counter[str] = Counter()
        visitors = 0
        for link in links:
            fields = Counter({name: int(value) for name, value in next(replies).items()})
            visitors += int(next(replies))
            day_total.update(fields)
            per_link[link.id] += fields.get("k:human", 0)
        per_day.append(day_total)
        day_visitors.append(visitors)
    return per_day, day_visitors


def day_counts(fields: Mapping[str, str]) -> Counter[str]:
    """A day hash as counts, with what the recording script leaves to the reader (see _derived)."""
    return _derived(Counter({name: int(value) for name, value in fields.items()}))


def _derived(counts: Counter[str]) -> Counter[str]:
    """Add `s:`, `c:`, `e:`, `de:` (dark only) and `t:` (tagged only) from each
    `a:<source>|<channel>|<evidence>`, and the sums `hits` (of `k:*`) and `dark` (of `de:*`)."""
    for name, n in list(counts.items()):
        if (stored := decode_attribution(name)) is not None:
            counts[f"s:{stored.source}"] += n
            counts[f"c:{stored.channel}"] += n
            counts[f"e:{stored.evidence}"] += n
            if stored.dark:
                counts[f"de:{stored.evidence}"] += n
                counts["dark"] += n
            if stored.tagged:
                counts[f"t:{stored.channel}"] += n
        elif name.startswith("k:"):
            counts["hits"] += n
    return counts


def _day_figures(day: date, counts: Counter[str], visitors: int) -> DayFigures:
    """One day's figures of the chart from its stored fields (the part of _derived it needs)."""
    sources = dict.fromkeys(SOURCES, 0)
    hits = dark = 0
    for name, n in counts.items():
        if (stored := decode_attribution(name)) is not None:
            sources[stored.source] = sources.get(stored.source, 0) + n
            if stored.dark:
                dark += n
        elif name.startswith("k:"):
            hits += n
    return DayFigures(
        day=day,
        hits=hits,
        human=counts["k:human"],
        previews=counts["k:preview"],
        bots=counts["k:bot"],
        dark=dark,
        unique_visitors=visitors,
        sources={source: sources[source] for source in SOURCES},
    )


def _field_values(total: Counter[str], prefix: str) -> Iterable[tuple[str, int]]:
    return ((name[len(prefix) :], n) for name, n in total.items() if name.startswith(prefix) and n)


def _breakdown(total: Counter[str], prefix: str) -> tuple[Count, ...]:
    """The fields under `prefix`, largest first (`-` becomes None: not known)."""
    rows = [
        Count(None if value == NO_VALUE else value, n) for value, n in _field_values(total, prefix)
    ]
    return tuple(sorted(rows, key=lambda c: (-c.count, c.name or "")))


def _channels(total: Counter[str]) -> tuple[ChannelClicks, ...]:
    """Human clicks by channel. Clicks with no channel split exactly into `internal` (an internal
    referrer never names a channel) and unattributed dark clicks."""
    rows: list[ChannelClicks] = []
    for channel, n in _field_values(total, "c:"):
        if channel == NO_VALUE:
            internal = min(n, total[f"s:{Source.INTERNAL}"])
            if internal:
                rows.append(ChannelClicks(None, str(Source.INTERNAL), False, internal))
            if n - internal:
                rows.append(ChannelClicks(None, str(Source.DARK), True, n - internal))
            continue
        category = channel_category(channel)
        rows.append(ChannelClicks(channel, str(category), category in DARK_SOURCES, n))
    return tuple(sorted(rows, key=lambda c: (-c.clicks, c.channel or "", c.category)))


def _shares(total: Counter[str]) -> tuple[ChannelShares, ...]:
    names = {name for prefix in ("sh:", "p:", "t:") for name, _ in _field_values(total, prefix)} - {
        NO_VALUE
    }
    rows = [
        ChannelShares(name, total[f"sh:{name}"], total[f"p:{name}"], total[f"t:{name}"])
        for name in names
    ]
    return tuple(
        sorted(rows, key=lambda s: (-(s.shares_made + s.shares_observed + s.clicks), s.channel))
    )


def _variants(variants: Sequence[Variant], total: Counter[str]) -> tuple[VariantClicks, ...]:
    return tuple(
        VariantClicks(
            v.channel,
            short_url(v.domain, v.code),
            total[f"t:{v.channel}"],
            total[f"sh:{v.channel}"],
            total[f"p:{v.channel}"],
        )
        for v in variants
    )


def _fetch_top_links(
    r: redis.Redis, keys: Keys, clicks: Counter[int], top: int
) -> tuple[TopLink, ...]:
    """The `top` links with most clicks that still exist, with their titles (one pipeline)."""
    ranked = [
        (i, n) for i, n in sorted(clicks.items(), key=lambda item: (-item[1], -item[0])) if n > 0
    ]
    candidates = ranked[: top * 2]
    pipe = r.pipeline(transaction=False)
    for link_id, _ in candidates:
        pipe.hmget(keys.link(link_id), "domain", "code", "title", "url")
    found = [
        TopLink(link_id, domain, code, title or "", url, n)
        for (link_id, n), (domain, code, title, url) in zip(candidates, pipe.execute(), strict=True)
        if domain is not None
    ]
    return tuple(found[:top])
