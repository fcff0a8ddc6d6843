"""Lumen's SVG charts: geometry from known numbers, escaping, empty data."""

from __future__ import annotations

import re
from datetime import date

from shortener.charts import meter, qr_code, split_bar, stacked_days

DAYS = [date(2026, 3, 1), date(2026, 3, 2)]
COLORS = {"a": "#111111", "b": "#222222"}


def rects(svg: str) -> list[dict[str, str]]:
    """The rectangles of the chart itself (not of its legend's swatches)."""
    chart = re.search(r'<svg class="(?:bars|split)".*?</svg>', svg, re.S).group(0)
    return [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<rect [^>]*>", chart)]


def test_stacked_days_draws_one_segment_per_nonzero_value_scaled_to_a_nice_top():
    svg = str(
        stacked_days(
            DAYS,
            [{"a": 3, "b": 1}, {"a": 0, "b": 2}],
            ["a", "b"],
            COLORS,
            {"a": "A", "b": "B"},
            caption="clicks",
        )
    )
    segments = [r for r in rects(svg) if r.get("fill") in COLORS.values()]
    assert [(r["fill"], float(r["height"])) for r in segments] == [
        ("#111111", 144.0),
        ("#222222", 48.0),
        ("#222222", 96.0),
    ]
    # The top is 5 (the nice ceiling of 4) over 240 units; segments stack from the bottom.
    assert float(segments[0]["y"]) == 96.0 and float(segments[1]["y"]) == 48.0
    assert (
        '<g data-day="2026-03-01" data-total="4">' in svg
        and '<g data-day="2026-03-02" data-total="2">' in svg
    )
    assert "<title>2026-03-01: 3 A</title>" in svg
    assert "5 per day at the top line" in svg
    assert "2026-03-01</span><span>2026-03-02" in svg


def test_stacked_days_with_no_clicks_draws_no_segment():
    svg = str(stacked_days(DAYS, [{}, {}], ["a"], COLORS, {"a": "A"}, caption="clicks"))
    assert [r for r in rects(svg) if r.get("fill")] == []
    assert 'data-total="0"' in svg


def test_labels_are_escaped():
    svg = str(
        stacked_days(DAYS[:1], [{"a": 1}], ["a"], COLORS, {"a": "<b>A</b>"}, caption='"><script>')
    )
    assert "<b>A</b>" not in svg and "&lt;b&gt;A&lt;/b&gt;" in svg
    assert "<script>" not in svg
    assert "<script>" not in str(split_bar([("<script>", "#000", 1)], caption="x"))


def test_split_bar_is_proportional():
    svg = str(
        split_bar(
            [("dark", "#111111", 3), ("public", "#222222", 1), ("none", "#333333", 0)],
            caption="split",
        )
    )
    widths = [float(r["width"]) for r in rects(svg) if r.get("fill")]
    assert widths == [750.0, 250.0]
    assert "public <b>1</b>" in svg.replace("</svg>", "")  # legend with its number
    empty = str(split_bar([("dark", "#111111", 0)], caption="split"))
    assert 'class="empty"' in empty


def test_meter_width_is_a_share_of_the_maximum():
    assert 'width="25.00"' in str(meter(1, 4))
    assert 'width="0.00"' in str(meter(0, 0))
    assert 'width="1.00"' in str(meter(1, 10_000))  # a non-zero value stays visible


def test_qr_code_is_inline_svg_with_an_escaped_title():
    svg = str(qr_code('https://go.test/a"<b>'))
    assert svg.startswith("<svg") and "<path" in svg
    assert "<b>" not in svg
