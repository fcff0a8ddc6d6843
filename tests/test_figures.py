"""Stats math on hit mixes whose right answers are known, recorded through the real recording
code."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from redis.cluster import RedisCluster

from shortener.analytics.attribution import classify_hit
from shortener.errors import InvalidInput
from shortener.figures import DayRange, day_range, load_stats, select_links
from shortener.hits.recording import Hit, RecordingPolicy, record_hit, record_orphan
from shortener.links import Link
from shortener.store import SHARDS, is_cluster
from tests.agents import CHROME, GOOGLEBOT, IPHONE, WHATSAPP_PREVIEW
from tests.conftest import DOMAINS

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster

WHATSAPP_IN_APP = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/141.0.7390.124 Mobile Safari/537.36 [WA4A/2.25.32.75;]"
)
TELEGRAM_PREVIEW = "TelegramBot (like TwitterBot)"

DAY1, DAY2, DAY3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def ms(day: date, hour: int = 12, minute: int = 0, second: int = 0, millis: int = 0) -> int:
    moment = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)
    return int(moment.timestamp() * 1000) + millis


@pytest.fixture
def ctx(app):  # type: ignore[no-untyped-def]
    return app.extensions["lumen"]


@pytest.fixture
def send(ctx):  # type: ignore[no-untyped-def]
    """Record one hit of a link through classify_hit + record_hit, at a given time."""

    def send(
        link: Link,
        ua: str,
        referrer: str = "",
        *,
        at: int,
        visitor: str,
        ip: str = "ip-1",
        variant: str = "",
        copy: bool = False,
        lang: str = "en-us",
    ) -> None:
        attribution = classify_hit(
            ua,
            referrer,
            own_hosts=DOMAINS,
            target_site="example.com",
            tag_channel=variant or None,
            copy=copy,
        )
        hit = Hit(
            time_ms=at,
            domain=link.domain,
            code=link.code,
            referrer=referrer,
            user_agent=ua,
            language=lang,
            visitor=visitor,
            ip_hash=ip,
        )
        outcome = record_hit(
            ctx.redis,
            ctx.keys,
            link.id,
            hit,
            attribution,
            tally=ctx.tally,
            policy=RecordingPolicy(1000, 3650, 6 * 3600_000),
        )
        assert outcome is not None and outcome.status == 302

    return send


@pytest.fixture
def mix(ctx, send):  # type: ignore[no-untyped-def]
    """Two days of a known mix on one link, with hits on both sides of midnight."""
    link = ctx.links.create({"url": "https://www.example.com/spring", "tags": ["spring"]})
    ctx.links.add_variant(link.id, "sms")
    # Day 1: 8 human clicks (5 dark), 1 preview, 1 bot.
    send(link, CHROME, at=ms(DAY1, 9), visitor="a")  # dark, none
    send(link, IPHONE, at=ms(DAY1, 10), visitor="b")  # dark, none
    send(link, WHATSAPP_IN_APP, at=ms(DAY1, 11), visitor="c")  # messaging, in-app
    send(link, CHROME, "https://mail.google.com/", at=ms(DAY1, 12), visitor="d")  # email, referrer
    send(link, CHROME, "https://l.facebook.com/", at=ms(DAY1, 13), visitor="e")  # social
    send(
        link, CHROME, "https://l.facebook.com/", at=ms(DAY1, 14), visitor="e"
    )  # social, same visitor
    send(link, CHROME, "https://www.google.com/", at=ms(DAY1, 15), visitor="f")  # search
    send(link, WHATSAPP_PREVIEW, at=ms(DAY1, 16), visitor="-", ip="sender")  # preview
    send(link, GOOGLEBOT, at=ms(DAY1, 17), visitor="-")  # bot
    send(link, IPHONE, at=ms(DAY1, 23, 59, 59, 999), visitor="g", variant="sms")  # messaging, tag
    # Day 2: 5 human clicks (2 dark), 1 preview.
    send(link, CHROME, "https://t.co/abc", at=ms(DAY2, 0), visitor="h")  # social
    send(link, CHROME, "https://news.example.org/story", at=ms(DAY2, 1), visitor="i")  # referral
    send(link, CHROME, "https://www.example.com/blog", at=ms(DAY2, 2), visitor="j")  # internal
    send(link, TELEGRAM_PREVIEW, at=ms(DAY2, 3), visitor="-", ip="sender")  # preview
    send(link, IPHONE, at=ms(DAY2, 4), visitor="k", ip="friend")  # dark, preview → telegram
    send(link, CHROME, at=ms(DAY2, 5), visitor="l", copy=True)  # dark, copy
    ctx.tally.flush()  # the instance-wide counts, as a worker writes them once a second
    return link


def test_totals_and_headline_ratios_of_a_known_mix(ctx, mix):
    stats = load_stats(ctx.redis, ctx.keys, DayRange(DAY1, DAY2))
    totals = stats.totals.as_json()
    assert totals == {
        "hits": 16,
        "human": 13,
        "previews": 2,
        "bots": 1,
        "unique_visitors": 12,
        "dark": 7,
        "public": 6,
        "social": 3,
        "orphans": 0,
    }
    assert stats.dark_share == pytest.approx(7 / 13)
    assert stats.dark_public_ratio == pytest.approx(7 / 3)
    assert stats.dark_evidence == {
        "tag": 1,
        "copy": 1,
        "referrer": 1,
        "in-app": 1,
        "preview": 1,
        "none": 2,
    }
    assert sum(stats.dark_evidence.values()) == stats.totals.dark


def test_series_splits_each_day_by_source_across_midnight(ctx, mix):
    stats = load_stats(ctx.redis, ctx.keys, DayRange(DAY1, DAY3))
    day1, day2, day3 = (day.as_json() for day in stats.series)
    assert day1 == {
        "date": "2026-03-01",
        "hits": 10,
        "human": 8,
        "previews": 1,
        "bots": 1,
        "dark": 5,
        "unique_visitors": 7,
        "sources": {
            "dark": 2,
            "messaging": 2,
            "email": 1,
            "social": 2,
            "search": 1,
            "referral": 0,
            "offline": 0,
            "internal": 0,
        },
    }
    assert day2 == {
        "date": "2026-03-02",
        "hits": 6,
        "human": 5,
        "previews": 1,
        "bots": 0,
        "dark": 2,
        "unique_visitors": 5,
        "sources": {
            "dark": 2,
            "messaging": 0,
            "email": 0,
            "social": 1,
            "search": 0,
            "referral": 1,
            "offline": 0,
            "internal": 1,
        },
    }
    assert day3["hits"] == 0 and day3["sources"]["dark"] == 0


def test_a_range_of_one_day_counts_only_that_day(ctx, mix):
    stats = load_stats(ctx.redis, ctx.keys, DayRange(DAY2, DAY2))
    assert (stats.totals.human, stats.totals.dark, stats.totals.social) == (5, 2, 1)
    assert stats.dark_share == pytest.approx(2 / 5)
    assert stats.dark_public_ratio == pytest.approx(2.0)
    empty = load_stats(ctx.redis, ctx.keys, DayRange(DAY3, DAY3))
    assert empty.totals.hits == 0 and empty.dark_share is None and empty.dark_public_ratio is None


def test_breakdowns_of_a_known_mix(ctx, mix):
    stats = load_stats(ctx.redis, ctx.keys, DayRange(DAY1, DAY2))
    channels = {(c.channel, c.category): (c.clicks, c.dark) for c in stats.channels}
    assert channels == {
        (None, "dark"): (3, True),
        (None, "internal"): (1, False),
        ("facebook", "social"): (2, False),
        ("whatsapp", "messaging"): (1, True),
        ("sms", "messaging"): (1, True),
        ("gmail", "email"): (1, True),
        ("google", "search"): (1, False),
        ("twitter", "social"): (1, False),
        ("example.org", "referral"): (1, False),
        ("telegram", "messaging"): (1, True),
    }
    assert stats.channels[0].channel is None and stats.channels[0].clicks == 3  # ranked
    assert sum(c.clicks for c in stats.channels) == stats.totals.human
    assert {c.name: c.count for c in stats.sources} == {
        "dark": 4,
        "messaging": 2,
        "email": 1,
        "social": 3,
        "search": 1,
        "referral": 1,
        "internal": 1,
    }
    assert {c.name: c.count for c in stats.evidence} == {
        "none": 2,
        "in-app": 1,
        "referrer": 7,
        "tag": 1,
        "preview": 1,
        "copy": 1,
    }
    assert {c.name: c.count for c in stats.devices} == {"desktop": 9, "mobile": 4}
    assert {c.name: c.count for c in stats.oses} == {"Windows": 9, "iOS": 3, "Android": 1}
    assert {c.name: c.count for c in stats.languages} == {"en-us": 13}
    assert {c.name: c.count for c in stats.previews} == {"whatsapp": 1, "telegram": 1}
    assert sum(c.count for c in stats.browsers) == 13


def test_link_scope_lists_share_variants_with_their_clicks(ctx, mix, send):
    whatsapp, _ = ctx.links.add_variant(mix.id, "whatsapp")
    send(mix, IPHONE, at=ms(DAY2, 6), visitor="m", variant="whatsapp")
    send(mix, IPHONE, at=ms(DAY2, 7), visitor="n", variant="whatsapp")
    stats = load_stats(
        ctx.redis, ctx.keys, DayRange(DAY1, DAY2), [mix], variants=ctx.links.list_variants(mix.id)
    )
    assert [(v.channel, v.clicks, v.shares_observed) for v in stats.variants] == [
        ("sms", 1, 0),
        ("whatsapp", 2, 1),
    ]
    assert stats.variants[1].short_url == f"https://{DOMAINS[0]}/{whatsapp.code}"
    assert stats.totals.human == 15  # variant clicks count for the parent link
    assert stats.top_links[0].id == mix.id and stats.top_links[0].clicks == 15
    assert load_stats(ctx.redis, ctx.keys, DayRange(DAY1, DAY2)).variants is None


def test_tag_and_domain_filters_sum_only_the_selected_links(ctx, mix, send):
    other = ctx.links.create(
        {"url": "https://other.example.net/", "tags": ["autumn"], "domain": DOMAINS[1]}
    )
    for visitor in ("x", "y", "z"):
        send(other, CHROME, "https://l.facebook.com/", at=ms(DAY1, 8), visitor=visitor)
    ctx.tally.flush()
    r, keys = ctx.redis, ctx.keys
    spring = load_stats(r, keys, DayRange(DAY1, DAY2), select_links(ctx.links, tag="spring"))
    autumn = load_stats(r, keys, DayRange(DAY1, DAY2), select_links(ctx.links, tag="autumn"))
    alt = load_stats(r, keys, DayRange(DAY1, DAY2), select_links(ctx.links, domain=DOMAINS[1]))
    everything = load_stats(r, keys, DayRange(DAY1, DAY2))
    assert (spring.totals.human, autumn.totals.human, alt.totals.human) == (13, 3, 3)
    assert autumn.dark_share == 0 and autumn.dark_public_ratio == 0
    assert everything.totals.human == 16 and everything.totals.social == 6
    assert everything.dark_public_ratio == pytest.approx(7 / 6)
    assert [(t.id, t.clicks) for t in everything.top_links] == [(mix.id, 13), (other.id, 3)]
    assert [(t.id, t.clicks) for t in autumn.top_links] == [(other.id, 3)]
    nothing = load_stats(r, keys, DayRange(DAY1, DAY2), select_links(ctx.links, tag="winter"))
    assert nothing.totals.hits == 0 and nothing.top_links == ()


def test_orphans_count_for_the_instance_only(ctx, mix):
    for code in ("nope1", "nope2"):
        record_orphan(
            ctx.tally, ctx.keys, Hit(ms(DAY2), DOMAINS[0], code, "", CHROME, "-", "v", "i")
        )
    ctx.tally.flush()
    assert load_stats(ctx.redis, ctx.keys, DayRange(DAY1, DAY2)).totals.orphans == 2
    assert load_stats(ctx.redis, ctx.keys, DayRange(DAY1, DAY2), [mix]).totals.orphans == 0


def test_shares_block_joins_shares_made_observed_and_tagged_clicks(ctx, mix, send, keys):
    # The share buttons write sh:<channel> into the same day hashes (as another module will).
    ctx.redis.hincrby(keys.link_day(mix.id, "20260302"), "sh:whatsapp", 4)
    ctx.redis.hincrby(keys.global_day("20260302"), "sh:whatsapp", 4)
    ctx.links.add_variant(mix.id, "whatsapp")
    send(mix, IPHONE, at=ms(DAY2, 6), visitor="m", variant="whatsapp")
    send(mix, IPHONE, at=ms(DAY2, 7), visitor="n", variant="whatsapp")
    ctx.tally.flush()
    stats = load_stats(ctx.redis, ctx.keys, DayRange(DAY1, DAY2))
    shares = {s.channel: s.as_json() for s in stats.shares}
    assert shares["whatsapp"] == {
        "channel": "whatsapp",
        "shares_made": 4,
        "shares_observed": 1,
        "clicks": 2,
        "clicks_per_share": 0.5,
    }
    assert shares["telegram"]["clicks_per_share"] is None  # observed, never made with a button
    assert shares["sms"] == {
        "channel": "sms",
        "shares_made": 0,
        "shares_observed": 0,
        "clicks": 1,
        "clicks_per_share": None,
    }


def test_reading_cost_depends_on_days_not_on_hits(ctx, mix, send):
    r = ctx.redis
    on_every_node = {"target_nodes": RedisCluster.PRIMARIES} if is_cluster(r) else {}

    def commands_for(days: DayRange) -> dict[str, int]:
        r.config_resetstat(**on_every_node)
        load_stats(r, ctx.keys, days)
        infos = r.info("commandstats", **on_every_node)
        nodes = infos.values() if is_cluster(r) else [infos]
        return {
            name: sum(int(info.get(f"cmdstat_{name}", {}).get("calls", 0)) for info in nodes)
            for name in ("hgetall", "pfcount", "zrange")
        }

    # The first read of closed days compacts them: their merged copy and every shard, once.
    first = commands_for(DayRange(DAY1, DAY3))
    assert first == dict.fromkeys(("hgetall", "pfcount", "zrange"), 3 * (1 + SHARDS))
    before = commands_for(DayRange(DAY1, DAY3))
    for n in range(50):
        send(mix, CHROME, at=ms(DAY1, 6, n), visitor=f"extra-{n}")
    ctx.tally.flush()
    assert commands_for(DayRange(DAY1, DAY3)) == before == {"hgetall": 3, "pfcount": 3, "zrange": 3}
    # Hits recorded after their day closed go to its merged copy, which the reader reads.
    assert load_stats(r, ctx.keys, DayRange(DAY1, DAY1)).totals.human == 8 + 50


@pytest.mark.parametrize(
    "start, end, field",
    [
        ("2026-13-01", None, "from"),
        ("yesterday", None, "from"),
        (None, "2026-02-30", "to"),
        ("2026-03-05", "2026-03-01", "from"),
        ("2020-01-01", "2026-03-01", "from"),
        ("1969-12-31", "1970-01-02", "from"),
        ("9999-12-30", "9999-12-31", "to"),
        (None, "9999-12-31T23:00:00-05:00", "to"),
    ],
    ids=[
        "bad-month",
        "not-a-date",
        "no-such-day",
        "reversed",
        "too-long",
        "before-1970",
        "last-day",
        "overflow",
    ],
)
def test_bad_ranges_are_refused_naming_the_field(start, end, field):
    with pytest.raises(InvalidInput) as caught:
        day_range(start, end, DAY3)
    assert caught.value.field == field


def test_default_range_is_the_last_30_days():
    assert day_range(None, None, DAY3) == DayRange(date(2026, 2, 2), DAY3)
    assert day_range(None, "1970-01-05", DAY3) == DayRange(date(1970, 1, 1), date(1970, 1, 5))
    assert day_range("2026-03-01T22:00:00-05:00", None, DAY3).first == DAY2
