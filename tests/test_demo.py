"""The demo history: recorded through the real code, it covers every channel family and evidence
kind."""

from __future__ import annotations

from shortener.cli import main
from shortener.demo import fill_demo
from shortener.figures import last_days, load_stats, today_of
from shortener.hits.reading import iter_hits
from shortener.links import now_ms


def test_demo_fills_every_kind_of_figure(app):
    ctx = app.extensions["lumen"]
    summary = fill_demo(ctx, days=14, scale=0.4)
    days = last_days(14, today_of(now_ms()))
    stats = load_stats(ctx.redis, ctx.keys, days)
    assert len(summary.links) == 7 and summary.hits == stats.totals.hits
    assert {c.name for c in stats.evidence} == {
        "tag",
        "copy",
        "referrer",
        "in-app",
        "preview",
        "none",
    }
    assert {c.name for c in stats.sources} == {
        "dark",
        "messaging",
        "email",
        "social",
        "search",
        "referral",
        "offline",
        "internal",
    }
    assert all(
        stats.dark_evidence[e] > 0 for e in ("tag", "copy", "referrer", "in-app", "preview", "none")
    )
    assert (
        stats.totals.previews > 0
        and stats.totals.bots > 0
        and stats.totals.orphans == summary.orphans > 0
    )
    assert sum(s.shares_made for s in stats.shares) == summary.shares_made > 0
    assert stats.cascade.edges and any(e.parent != "page" for e in stats.cascade.edges)
    assert sum(c.count for c in stats.cascade.generations) == summary.shares_made
    assert any(e.clicks for e in stats.cascade.edges)
    assert 0 < stats.dark_share < 1 and stats.dark_public_ratio > 1
    assert sum(1 for day in stats.series if day.human) >= 12  # a history, not one day
    assert {t.id for t in stats.top_links} == {link.id for link in summary.links}
    spring = summary.links[0]
    link_stats = load_stats(
        ctx.redis, ctx.keys, days, [spring], variants=ctx.links.list_variants(spring.id)
    )
    assert [v.channel for v in link_stats.variants] == ["email", "facebook", "sms", "whatsapp"]
    assert (
        sum(v.clicks for v in link_stats.variants)
        == {c.name: c.count for c in link_stats.evidence}["tag"]
        > 0
    )


def test_demo_hits_keep_their_own_time_in_the_streams(app):
    ctx = app.extensions["lumen"]
    summary = fill_demo(ctx, days=5, scale=0.3)
    days = last_days(5, today_of(now_ms()))
    raw = list(iter_hits(ctx.redis, ctx.keys, days.start_ms(), days.end_ms()))
    assert len(raw) == summary.hits  # every hit kept, none trimmed
    times = [hit.time_ms for hit in raw]
    assert (
        times == sorted(times) and times[0] < days.start_ms() + 86_400_000
    )  # back-filled, not stamped now
    older = list(iter_hits(ctx.redis, ctx.keys, days.start_ms(), days.start_ms() + 86_400_000 - 1))
    assert older and all(hit.time_ms < days.start_ms() + 86_400_000 for hit in older)


def test_demo_command_runs_once_unless_asked_again(
    redis_server, redis_client, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("LUMEN_DATA_DIR", str(tmp_path))
    assert main(["demo", "--days", "2"]) == 0
    assert "Recorded" in capsys.readouterr().out
    assert main(["demo", "--days", "2"]) == 2
    assert "already there" in capsys.readouterr().err
    assert main(["demo", "--days", "2", "--again"]) == 0
