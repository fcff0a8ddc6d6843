"""Lumen's own charts: small SVG pictures rendered on the server (no script, no CDN).

Each function returns `Markup` whose every piece of text has been escaped here, so templates can
insert it as is. Only SVG presentation attributes are used (no `style=`), which the dashboard's
Content-Security-Policy allows. Bars stretch with the page (`preserveAspectRatio="none"`); text
labels stay in HTML around them, so they read at the same size on a phone and on a desktop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import segno
from markupsafe import Markup

# Private sources in violet, public ones in green, offline (QR codes) in amber, internal in grey:
# the dark share reads at a glance.
SOURCE_COLORS: dict[str, str] = {
    "dark": "#3b2a86",
    "messaging": "#6f52d9",
    "email": "#a98ff0",
    "social": "#137a63",
    "search": "#3fae8a",
    "referral": "#8fd3b9",
    "offline": "#d9a13b",
    "internal": "#b9c0cc",
}
SOURCE_LABELS: dict[str, str] = {
    "dark": "dark direct",
    "messaging": "messaging",
    "email": "e-mail",
    "social": "social",
    "search": "search",
    "referral": "referral",
    "offline": "offline (QR)",
    "internal": "internal",
}
EVIDENCE_COLORS: dict[str, str] = {
    "tag": "#2f1f74",
    "copy": "#4a36a8",
    "in-app": "#6f52d9",
    "referrer": "#8c74e6",
    "preview": "#b3a1f2",
    "none": "#d6cdf7",
}
EVIDENCE_LABELS: dict[str, str] = {
    "tag": "tagged share link",
    "copy": "copy-paste token",
    "in-app": "in-app browser",
    "referrer": "referrer",
    "preview": "preview-inferred",
    "none": "unattributed",
}
PUBLIC_COLOR = SOURCE_COLORS["social"]
BAR_COLOR = "#4b5fd1"

_WIDTH = 1000
_HEIGHT = 240


def _swatch(color: str) -> Markup:
    return Markup(
        '<svg class="swatch" width="10" height="10" aria-hidden="true">'
        '<rect width="10" height="10" rx="2" fill="{}"/></svg>'
    ).format(color)


def _legend(items: Sequence[tuple[str, str, int | None]]) -> Markup:
    rows = Markup("").join(
        Markup("<li>{}{}{}</li>").format(
            _swatch(color),
            label,
            Markup(" <b>{}</b>").format(f"{value:,}") if value is not None else "",
        )
        for label, color, value in items
    )
    return Markup('<ul class="legend">{}</ul>').format(rows)


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^k at or above `value` (at least 1): the top of an axis.

    >>> [nice_ceiling(v) for v in (0, 1, 3, 7, 10, 11, 260)]
    [1, 1, 5, 10, 10, 20, 500]
    """
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def stacked_days(
    days: Sequence[date],
    values: Sequence[Mapping[str, int]],
    order: Sequence[str],
    colors: Mapping[str, str],
    labels: Mapping[str, str],
    *,
    caption: str,
) -> Markup:
    """A per-day stacked bar chart: one column per day, one segment per key of `order`."""
    totals = [sum(v.get(k, 0) for k in order) for v in values]
    top = nice_ceiling(max(totals, default=0))
    slot = _WIDTH / max(len(days), 1)
    gap = min(slot * 0.2, 6)
    parts: list[Markup] = []
    for tick in (0.25, 0.5, 0.75, 1.0):
        y = _HEIGHT - tick * _HEIGHT
        parts.append(
            Markup(
                '<line x1="0" x2="{}" y1="{:.1f}" y2="{:.1f}" class="grid" '
                'vector-effect="non-scaling-stroke"/>'
            ).format(_WIDTH, y, y)
        )
    for index, (day, counts, total) in enumerate(zip(days, values, totals, strict=True)):
        x = index * slot + gap / 2
        y = float(_HEIGHT)
        segments: list[Markup] = []
        for key in order:
            n = counts.get(key, 0)
            if not n:
                continue
            height = n / top * _HEIGHT
            y -= height
            segments.append(
                Markup(
                    '<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="{}">'
                    "<title>{}: {} {}</title></rect>"
                ).format(
                    x, y, slot - gap, height, colors[key], day.isoformat(), f"{n:,}", labels[key]
                )
            )
        parts.append(
            Markup('<g data-day="{}" data-total="{}">{}</g>').format(
                day.isoformat(), total, Markup("").join(segments)
            )
        )
    svg = Markup(
        '<svg class="bars" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" '
        'aria-label="{caption}">'
        "{body}</svg>"
    ).format(w=_WIDTH, h=_HEIGHT, caption=caption, body=Markup("").join(parts))
    first, last = (days[0], days[-1]) if days else (None, None)
    axis = Markup('<div class="x-axis"><span>{}</span><span>{}</span></div>').format(
        first.isoformat() if first else "", last.isoformat() if last else ""
    )
    y_axis = Markup('<div class="y-axis">{} per day at the top line</div>').format(f"{top:,}")
    legend = _legend([(labels[k], colors[k], None) for k in order])
    return Markup(
        '<figure class="chart">{}{}{}{}<figcaption class="sr-only">{}</figcaption></figure>'
    ).format(y_axis, svg, axis, legend, caption)


def split_bar(parts: Sequence[tuple[str, str, int]], *, caption: str) -> Markup:
    """One bar split in proportion to `parts` (label, color, value), with its legend."""
    total = sum(value for _, _, value in parts)
    x = 0.0
    rects: list[Markup] = []
    for label, color, value in parts:
        if not value:
            continue
        width = value / total * _WIDTH
        rects.append(
            Markup(
                '<rect x="{:.2f}" y="0" width="{:.2f}" height="20" fill="{}">'
                "<title>{}: {}</title></rect>"
            ).format(x, width, color, label, f"{value:,}")
        )
        x += width
    if not rects:
        rects.append(
            Markup('<rect x="0" y="0" width="{}" height="20" class="empty"/>').format(_WIDTH)
        )
    svg = Markup(
        '<svg class="split" viewBox="0 0 {} 20" preserveAspectRatio="none" role="img" '
        'aria-label="{}">'
        "{}</svg>"
    ).format(_WIDTH, caption, Markup("").join(rects))
    return Markup('<figure class="split-chart">{}{}</figure>').format(svg, _legend(parts))


def meter(value: int, maximum: int, color: str = BAR_COLOR) -> Markup:
    """A small horizontal bar: `value` against `maximum`, for ranked tables."""
    width = 0.0 if maximum <= 0 else max(value / maximum * 100, 1.0 if value else 0.0)
    return Markup(
        '<svg class="meter" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
        '<rect width="100" height="8" rx="2" class="track"/>'
        '<rect width="{:.2f}" height="8" rx="2" fill="{}"/></svg>'
    ).format(width, color)


def qr_code(url: str) -> Markup:
    """The QR code of `url` as inline SVG (segno; its title is escaped by segno)."""
    picture = segno.make(url, error="m").svg_inline(
        scale=4, dark="#1d2433", light="#ffffff", omitsize=True, title=f"QR code of {url}"
    )
    return Markup(picture)
