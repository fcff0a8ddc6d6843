"""The share cascade: who shared a page onward, from which arrival, at which generation.

A visitor who reaches a share-button page through one of its short links arrives at generation
n (1 for a first hop) by channel C. If they share the page again, that share is generation n + 1
and its parent channel is C. Three compact texts carry this, never a cookie or storage:

- the shared short URL's query `?lc=<generation>_<parent>` (share.js adds it to the link it
  shares; `lc=1_page` for a share by a visitor who came to the page by any other way);
- the redirect's `Location` fragment `#lumen=<generation>_<channel>[_<parent>]`, for the links of
  share-button pages only (share.js reads it, then removes it from the address bar);
- the share beacon's `from` field, `<generation>_<channel>` of the sharer's arrival, or `0_page`
  for a visitor who arrived another way; and the arrival beacon's `from`,
  `<generation>_<channel>_<parent>`, sent by share.js when a cascade share brought the visitor.

Labels are channel slugs of the vocabulary (`whatsapp`, `google`…), a source name for arrivals
without a known channel (`dark`, `referral`, `internal`…), or `page` for the page itself (the
root of a cascade): a closed set, so the day aggregates that count them stay bounded. `_` never
occurs in a label, so it separates the parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from shortener.analytics.vocabulary import CHANNELS, Source

FRAGMENT_NAME = "lumen"
QUERY_NAME = "lc"
ROOT = "page"  # the parent of a share by a visitor who did not arrive through the cascade
MAX_GENERATION = 99
LABELS = frozenset({*CHANNELS, *(str(source) for source in Source), ROOT})
_ARRIVAL = re.compile(r"(0|[1-9][0-9]?)_([a-z0-9.-]{1,32})(?:_([a-z0-9.-]{1,32}))?")


@dataclass(frozen=True, slots=True)
class Arrival:
    """How a visitor reached the page: the channel, its generation, and the channel before it."""

    generation: int
    channel: str
    parent: str | None = None

    def fragment(self) -> str:
        """`lumen=2_telegram_whatsapp`: what the redirect appends to a share page's URL.

        >>> Arrival(2, "telegram", "whatsapp").fragment()
        'lumen=2_telegram_whatsapp'
        """
        parts = [str(self.generation), self.channel, *([self.parent] if self.parent else [])]
        return f"{FRAGMENT_NAME}={'_'.join(parts)}"


def label_of(channel: str | None, source: str | None) -> str:
    """The cascade label of an attribution: its channel when the vocabulary knows it, else its
    source (`dark`, `referral`…), else `dark`.

    >>> label_of("whatsapp", "messaging"), label_of("bbc.co.uk", "referral"), label_of(None, None)
    ('whatsapp', 'referral', 'dark')
    """
    if channel in CHANNELS:
        return str(channel)
    return str(source) if source in LABELS else str(Source.DARK)


def handed_over(query: str) -> tuple[int, str] | None:
    """The (generation, parent) a shared short URL carries in `?lc=`; None when absent or bad.

    >>> handed_over("lc=2_whatsapp"), handed_over("utm_source=x&lc=1_page")
    ((2, 'whatsapp'), (1, 'page'))
    >>> handed_over("lc=2_evil"), handed_over("lc=0_page"), handed_over("lc=2_sms&lc=3_sms")
    (None, None, None)
    """
    if QUERY_NAME not in query:  # the common case: no query at all
        return None
    values = [value for name, value in parse_qsl(query[:512]) if name == QUERY_NAME]
    match = _ARRIVAL.fullmatch(values[0]) if len(values) == 1 else None
    if match is None or match.group(3) is not None or match.group(2) not in LABELS:
        return None
    generation = int(match.group(1))
    return (generation, match.group(2)) if generation >= 1 else None


def arrival_for(channel: str, query: str) -> Arrival:
    """The arrival a redirect through a share page's link hands to share.js: the hit's channel,
    and the generation and parent the shared URL carried (a first hop without them).

    >>> arrival_for("telegram", "lc=2_whatsapp")
    Arrival(generation=2, channel='telegram', parent='whatsapp')
    >>> arrival_for("google", "")
    Arrival(generation=1, channel='google', parent=None)
    """
    handed = handed_over(query)
    if handed is None:
        return Arrival(1, channel)
    generation, parent = handed
    return Arrival(generation, channel, parent)


def with_fragment(url: str, arrival: Arrival) -> str:
    """`url` with the arrival in its fragment; unchanged when the page has a fragment of its own.

    >>> with_fragment("https://example.com/a?b=1", Arrival(1, "sms"))
    'https://example.com/a?b=1#lumen=1_sms'
    >>> with_fragment("https://example.com/a#section", Arrival(1, "sms"))
    'https://example.com/a#section'
    """
    return url if "#" in url else f"{url}#{arrival.fragment()}"


def parse_arrival(text: object) -> Arrival | None:
    """An arrival as share.js reports it (`2_telegram`, `2_telegram_whatsapp`, or `0_page` for
    a visitor who did not arrive through the cascade); None if bad.

    >>> parse_arrival("2_telegram_whatsapp")
    Arrival(generation=2, channel='telegram', parent='whatsapp')
    >>> parse_arrival("0_page")
    Arrival(generation=0, channel='page', parent=None)
    >>> parse_arrival("3_nowhere"), parse_arrival("0_sms"), parse_arrival(7)
    (None, None, None)
    """
    match = _ARRIVAL.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    generation, channel, parent = int(match.group(1)), match.group(2), match.group(3)
    if channel not in LABELS or (parent is not None and parent not in LABELS):
        return None
    if (generation == 0) != (channel == ROOT and parent is None):
        return None
    return Arrival(generation, channel, parent)


def child_generation(arrival: Arrival) -> int:
    """The generation of a share made by a visitor who arrived so (`0_page`: a first share).

    >>> child_generation(Arrival(0, "page")), child_generation(Arrival(2, "telegram"))
    (1, 3)
    >>> child_generation(Arrival(99, "sms"))
    99
    """
    return min(arrival.generation + 1, MAX_GENERATION)
