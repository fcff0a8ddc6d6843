"""CSV exports: the stats as a tidy table, and raw hits row by row.

Every cell that starts like a spreadsheet formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`,
so a hostile referrer or user-agent opened in a spreadsheet stays text (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain

from shortener.figures import Stats
from shortener.hits.reading import COMPACT_FIELDS, LINK_FIELDS, RawHit
from shortener.store import NO_VALUE
from shortener.validation import iso_from_ms

STATS_COLUMNS = ("section", "date", "name", "value")
Row = tuple[object, ...]


def _cell(value: object) -> object:
    """A CSV cell: None empty, formula-like text defused.

    >>> _cell("=HYPERLINK(1)"), _cell(None), _cell(3), _cell("x")
    ("'=HYPERLINK(1)", '', 3, 'x')
    """
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_lines(columns: Iterable[str], rows: Iterable[Row]) -> Iterator[str]:
    """The header and each row as one CSV line (for a streamed response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in chain([tuple(columns)], rows):
        writer.writerow([_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def stats_rows(stats: Stats) -> Iterator[Row]:
    """The figures of `stats` as (section, date, name, value) rows: the same numbers as its JSON."""
    for name, value in stats.totals.as_json().items():
        yield ("totals", "", name, value)
    yield ("headline", "", "dark_share", stats.dark_share)
    yield ("headline", "", "dark_public_ratio", stats.dark_public_ratio)
    for evidence, value in stats.dark_evidence.items():
        yield ("dark_evidence", "", evidence, value)
    for day in stats.series:
        iso = day.day.isoformat()
        for name in ("hits", "human", "previews", "bots", "dark", "unique_visitors"):
            yield ("day", iso, name, getattr(day, name))
        for source, value in day.sources.items():
            yield ("day", iso, f"source:{source}", value)
    for channel in stats.channels:
        yield ("channel", "", channel.channel or f"({channel.category})", channel.clicks)
    for section, counts in (
        ("source", stats.sources),
        ("evidence", stats.evidence),
        ("device", stats.devices),
        ("os", stats.oses),
        ("browser", stats.browsers),
        ("language", stats.languages),
        ("previews", stats.previews),
    ):
        for count in counts:
            yield (section, "", count.name or "(unknown)", count.count)
    for share in stats.shares:
        yield ("shares_made", "", share.channel, share.shares_made)
        yield ("shares_observed", "", share.channel, share.shares_observed)
        yield ("share_clicks", "", share.channel, share.clicks)
        yield ("clicks_per_share", "", share.channel, share.clicks_per_share)
    for link in stats.top_links:
        yield ("top_link", "", link.short_url, link.clicks)
    for variant in stats.variants or ():
        yield ("variant", "", variant.short_url, variant.clicks)


def hit_columns(full: bool) -> tuple[str, ...]:
    """The columns of a raw-hits export: every field for one link, attribution only
    instance-wide."""
    fields = LINK_FIELDS if full else COMPACT_FIELDS
    return ("time", *("user_agent" if f == "ua" else f for f in fields))


def hit_rows(hits: Iterable[RawHit], full: bool) -> Iterator[Row]:
    """One row per raw hit, in the order of `hit_columns(full)`; `-` (none) becomes empty."""
    fields = LINK_FIELDS if full else COMPACT_FIELDS
    for hit in hits:
        values = (hit.fields.get(name, "") for name in fields)
        yield (iso_from_ms(hit.time_ms), *("" if v == NO_VALUE else v for v in values))
