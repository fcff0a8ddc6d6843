"""Choosing a link's destination and building the address it redirects to (pure rules)."""

from __future__ import annotations

from collections import Counter

import pytest

from shortener.destinations import (
    DEFAULT_LABEL,
    NO_DESTINATIONS,
    NO_OPTIONS,
    Choice,
    Destinations,
    LinkOptions,
    Preview,
    attribution_utm,
    choose_target,
    final_url,
)

APP_STORE = "https://apps.apple.com/app/id1"
PLAY = "https://play.google.com/store/apps/details?id=x"
DEVICE_TARGETS = Destinations(targets=(("android", PLAY), ("ios", APP_STORE)))


@pytest.mark.parametrize(
    ("client_os", "device", "expected"),
    [
        ("iOS", "mobile", Choice(APP_STORE, "ios")),
        ("iOS", "tablet", Choice(APP_STORE, "ios")),
        ("Android", "mobile", Choice(PLAY, "android")),
        ("Windows", "desktop", Choice("", DEFAULT_LABEL)),
        ("Other", "bot", Choice("", DEFAULT_LABEL)),
        ("", "", Choice("", DEFAULT_LABEL)),
    ],
    ids=["iphone", "ipad", "android", "windows-default", "robot-default", "nothing-known"],
)
def test_device_targets_follow_the_operating_system(client_os, device, expected) -> None:
    assert choose_target(DEVICE_TARGETS, client_os, device, "v", "20261203", 1) == expected


def test_an_os_target_beats_a_device_class_target() -> None:
    both = Destinations(targets=(("ios", APP_STORE), ("mobile", "https://m.example.com/")))
    assert choose_target(both, "iOS", "mobile", "v", "20261203", 1).label == "ios"
    assert choose_target(both, "Android", "mobile", "v", "20261203", 1).label == "mobile"


def test_a_link_without_targets_or_split_chooses_nothing() -> None:
    assert choose_target(NO_DESTINATIONS, "iOS", "mobile", "v", "20261203", 1) is None


SPLIT = Destinations(split=(("https://a.example.com/", 3), ("https://b.example.com/", 1)))


def test_split_is_stable_per_visitor_and_day() -> None:
    first = choose_target(SPLIT, "Windows", "desktop", "visitor-1", "20261203", 9)
    for _ in range(5):
        assert choose_target(SPLIT, "Windows", "desktop", "visitor-1", "20261203", 9) == first


def test_split_follows_the_weights_across_visitors() -> None:
    picks = Counter(
        choose_target(SPLIT, "Windows", "desktop", f"visitor-{n}", "20261203", 9).url
        for n in range(4000)
    )
    share_of_a = picks["https://a.example.com/"] / 4000
    assert 0.70 < share_of_a < 0.80  # weight 3 of 4


def test_split_choice_changes_with_the_day_for_some_visitors() -> None:
    def pick(day: str, n: int) -> str:
        return choose_target(SPLIT, "Windows", "desktop", f"v{n}", day, 9).url

    assert any(pick("20261203", n) != pick("20261204", n) for n in range(100))


def test_a_device_target_beats_the_split() -> None:
    both = Destinations(targets=(("ios", APP_STORE),), split=SPLIT.split)
    assert choose_target(both, "iOS", "mobile", "v", "20261203", 1) == Choice(APP_STORE, "ios")
    assert choose_target(both, "Windows", "desktop", "v", "20261203", 1).label.startswith("https")


@pytest.mark.parametrize(
    ("target", "utm", "query", "from_attribution", "expected"),
    [
        ("https://ex.com/p", {}, "", {}, "https://ex.com/p"),
        (
            "https://ex.com/p",
            {"source": "news", "campaign": "spring"},
            "",
            {},
            "https://ex.com/p?utm_source=news&utm_campaign=spring",
        ),
        (
            "https://ex.com/p?utm_source=own",
            {"source": "news"},
            "",
            {},
            "https://ex.com/p?utm_source=own",
        ),
        ("https://ex.com/p?a=1", {}, "b=2&a=9", {}, "https://ex.com/p?a=1&b=2"),
        (
            "https://ex.com/p",
            {"source": "news"},
            "utm_source=x&ref=y",
            {},
            "https://ex.com/p?utm_source=news&ref=y",
        ),
        (
            "https://ex.com/p",
            {"medium": "print"},
            "",
            {"utm_source": "whatsapp", "utm_medium": "messaging"},
            "https://ex.com/p?utm_medium=print&utm_source=whatsapp",
        ),
        ("https://ex.com/p#top", {}, "q=a b", {}, "https://ex.com/p?q=a+b#top"),
        (
            "https://ex.com/p?x=%C3%A9",
            {},
            "",
            {"utm_source": "sms"},
            "https://ex.com/p?x=%C3%A9&utm_source=sms",
        ),
    ],
    ids=[
        "nothing-added",
        "utm",
        "target-keeps-its-own",
        "forwarded-query-never-overrides",
        "utm-beats-forwarded-query",
        "attribution-only-where-unset",
        "fragment-kept",
        "target-query-untouched",
    ],
)
def test_final_url_adds_parameters_where_nothing_set_them(
    target, utm, query, from_attribution, expected
) -> None:
    assert final_url(target, utm, query, from_attribution) == expected


def test_attribution_utm_leaves_out_what_is_unknown() -> None:
    assert attribution_utm(None, "dark") == {"utm_medium": "dark"}
    assert attribution_utm("-", None) == {}


def test_stored_forms_read_back_the_same() -> None:
    destinations = Destinations(targets=(("ios", APP_STORE),), split=SPLIT.split)
    assert Destinations.decode(destinations.encode()) == destinations
    assert NO_DESTINATIONS.encode() == ""
    options = LinkOptions(
        utm=(("source", "news"), ("campaign", "x|y")),
        forward_query=False,
        utm_from_attribution=True,
        preview=Preview("T", "D", "https://ex.com/i.png"),
    )
    assert LinkOptions.decode(options.encode()) == options
    assert NO_OPTIONS.encode() == ""
