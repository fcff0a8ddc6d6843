"""Where a link sends one visitor, and the address it sends them to (pure: no Flask, no I/O).

A link may name more than one destination. The choice, first match wins:

1. a device target (`targets`) for the visitor's operating system, then for their device class;
2. a weighted split (`split`), the same destination for one visitor all day (a hash of visitor,
   day and link picks it);
3. the link's own `url`.

The address is then built by `final_url`: the target's own query parameters are kept as they are,
and parameters are added only where none of the earlier ones set them, in this order: the link's
`utm` object, the short link's own query string (unless `forward_query` is off), and, with
`utm_from_attribution`, `utm_source=<channel>` and `utm_medium=<source>` of the hit's attribution.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Device-target keys, and the operating systems (as `shortener.analytics` names them, after
# ua-parser's os families) each one covers.
OS_TARGETS = {
    "ios": ("iOS", "iPadOS"),
    "android": ("Android",),
    "windows": ("Windows",),
    "macos": ("Mac OS X", "macOS"),
    "linux": ("Linux", "Ubuntu", "Fedora", "Debian"),
}
# Device-class keys: the attribution's `device` values they cover.
DEVICE_TARGETS = {"mobile": ("mobile",), "tablet": ("tablet",), "desktop": ("desktop",)}
TARGET_KEYS = tuple(OS_TARGETS) + tuple(DEVICE_TARGETS)
# The label of a link's own `url` when it has targets or a split (counted as `dst:default`).
DEFAULT_LABEL = "default"
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")


@dataclass(frozen=True, slots=True)
class Destinations:
    """A link's device targets (key -> URL) and weighted split ((URL, weight), ...)."""

    targets: tuple[tuple[str, str], ...] = ()
    split: tuple[tuple[str, int], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.targets or self.split)

    def encode(self) -> str:
        """The stored form: compact JSON, '' when there is nothing to choose from."""
        if not self:
            return ""
        return _compact({"targets": dict(self.targets), "split": [list(p) for p in self.split]})

    @classmethod
    def decode(cls, raw: str) -> Destinations:
        """The destinations of a stored form (see `encode`)."""
        if not raw:
            return NO_DESTINATIONS
        body = json.loads(raw)
        return cls(
            targets=tuple(sorted(body.get("targets", {}).items())),
            split=tuple((str(url), int(weight)) for url, weight in body.get("split", [])),
        )


NO_DESTINATIONS = Destinations()


def _compact(body: Mapping[str, object]) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Choice:
    """The destination picked for one visitor, and the label its clicks are counted under."""

    url: str
    label: str


def choose_target(
    destinations: Destinations, client_os: str, device: str, visitor: str, day: str, link_id: int
) -> Choice | None:
    """The destination of one visitor (url '' is the link's own `url`), or None when the link
    has only its own `url`.

    >>> both = Destinations(targets=(("ios", "https://apps.apple.com/x"),))
    >>> choose_target(both, "iOS", "mobile", "v1", "20261203", 7)
    Choice(url='https://apps.apple.com/x', label='ios')
    >>> choose_target(both, "Windows", "desktop", "v1", "20261203", 7)
    Choice(url='', label='default')
    """
    if not destinations:
        return None
    targets = dict(destinations.targets)
    for key in (_os_key(client_os), _device_key(device)):
        if key is not None and key in targets:
            return Choice(targets[key], key)
    if destinations.split:
        url = _weighted_pick(destinations.split, f"{visitor}|{day}|{link_id}")
        return Choice(url, url)
    return Choice("", DEFAULT_LABEL)


def _os_key(client_os: str) -> str | None:
    return next((key for key, families in OS_TARGETS.items() if client_os in families), None)


def _device_key(device: str) -> str | None:
    return next((key for key, devices in DEVICE_TARGETS.items() if device in devices), None)


def _weighted_pick(split: Sequence[tuple[str, int]], seed: str) -> str:
    """One URL of `split`, each with a chance proportional to its weight, fixed for `seed`."""
    total = sum(weight for _, weight in split)
    point = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % total
    for url, weight in split:
        if point < weight:
            return url
        point -= weight
    return split[-1][0]  # unreachable: the weights add up to `total`


def final_url(
    target: str,
    utm: Mapping[str, str],
    forwarded_query: str,
    attribution_utm: Mapping[str, str],
) -> str:
    """`target` with parameters added where it sets none: the link's `utm`, then the short link's
    own query, then the hit's attribution (each only for names nothing before it set).

    >>> final_url("https://ex.com/?a=1", {"source": "news"}, "a=2&b=3", {"utm_source": "sms"})
    'https://ex.com/?a=1&utm_source=news&b=3'
    """
    if not (utm or forwarded_query or attribution_utm):
        return target  # the common case, kept cheap: the redirect calls this every time
    added = [(f"utm_{name}", value) for name, value in utm.items() if value]
    added += parse_qsl(forwarded_query, keep_blank_values=True)
    added += list(attribution_utm.items())
    if not added:
        return target
    parts = urlsplit(target)
    kept = parse_qsl(parts.query, keep_blank_values=True)
    taken = {name for name, _ in kept}
    extra = []
    for name, value in added:
        if name not in taken:
            taken.add(name)
            extra.append((name, value))
    if not extra:
        return target
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit(parts._replace(query=query))


def attribution_utm(channel: str | None, source: str | None) -> dict[str, str]:
    """The `utm_source`/`utm_medium` Lumen's attribution of a hit gives (nothing unknown added).

    >>> attribution_utm("whatsapp", "messaging")
    {'utm_source': 'whatsapp', 'utm_medium': 'messaging'}
    """
    found = {"utm_source": channel, "utm_medium": source}
    return {name: value for name, value in found.items() if value and value != "-"}


@dataclass(frozen=True, slots=True)
class Preview:
    """What link-preview robots are shown instead of the redirect."""

    title: str = ""
    description: str = ""
    image: str = ""

    def as_json(self) -> dict[str, str]:
        """The preview as the API shows it."""
        return {"title": self.title, "description": self.description, "image": self.image}


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """How a link builds its address and answers previews; stored as one JSON field."""

    utm: tuple[tuple[str, str], ...] = ()
    forward_query: bool = True
    utm_from_attribution: bool | None = None  # None: the instance's default
    preview: Preview | None = None

    def encode(self) -> str:
        """The stored form: compact JSON, '' while every option holds its default."""
        if self == NO_OPTIONS:
            return ""
        body: dict[str, object] = {"utm": dict(self.utm), "forward_query": self.forward_query}
        if self.utm_from_attribution is not None:
            body["utm_from_attribution"] = self.utm_from_attribution
        if self.preview is not None:
            body["preview"] = self.preview.as_json()
        return _compact(body)

    @classmethod
    def decode(cls, raw: str) -> LinkOptions:
        """The options of a stored form (see `encode`)."""
        if not raw:
            return NO_OPTIONS
        body = json.loads(raw)
        preview = body.get("preview")
        return cls(
            utm=tuple((name, body["utm"][name]) for name in UTM_FIELDS if name in body["utm"]),
            forward_query=bool(body.get("forward_query", True)),
            utm_from_attribution=body.get("utm_from_attribution"),
            preview=None if preview is None else Preview(**preview),
        )


NO_OPTIONS = LinkOptions()
