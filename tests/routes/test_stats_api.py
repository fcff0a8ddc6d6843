"""The stats API and its CSV exports, fed through the real redirect; they agree with each other."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from shortener.figures import today_of
from shortener.links import now_ms
from tests.agents import IPHONE
from tests.conftest import DOMAINS, write_instance_counts
from tests.routes.test_redirect import CHROME, GOOGLEBOT, WHATSAPP_PREVIEW, visit

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster

MESSENGER_IN_APP = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) "
    "Mobile/15E148 [FBAN/Messenger;FBAV/450.0.0.34.109;FBBV/600000000;FBDV/iPhone15,2;FBMD/iPhone;"
    "FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/5]"
)


def span() -> str:
    """A range holding today whatever the hour: yesterday and today (UTC)."""
    today = today_of(now_ms())
    return f"from={today - timedelta(days=1)}&to={today}"


@pytest.fixture
def sent(client, auth, create_link):  # type: ignore[no-untyped-def]
    """A link and a known mix of hits sent through the redirect: 6 humans (4 dark), 1 preview,
    1 bot."""
    link = create_link(url="https://shop.example.com/offer", title="Offer", tags=["promo"])
    sms = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "sms"}, headers=auth
    ).get_json()
    other = create_link(url="https://example.org/other", domain=DOMAINS[1])
    visit(client, link["code"], ip="198.51.100.1")  # dark, none
    visit(client, link["code"], ua=IPHONE, ip="198.51.100.2")  # dark, none
    visit(client, link["code"], ua=MESSENGER_IN_APP, ip="198.51.100.3")  # messaging, in-app
    visit(
        client, link["code"], referrer="https://l.facebook.com/l.php", ip="198.51.100.4"
    )  # social
    visit(client, link["code"], ua=WHATSAPP_PREVIEW, ip="198.51.100.5")  # preview
    visit(client, link["code"], ua=GOOGLEBOT, ip="198.51.100.6")  # bot
    visit(client, sms["code"], ua=IPHONE, ip="198.51.100.7")  # messaging, tag
    visit(
        client, other["code"], referrer="https://t.co/x", host=DOMAINS[1], ip="198.51.100.8"
    )  # social
    visit(client, "no-such-code")  # orphan
    write_instance_counts()  # the instance-wide counts, as the worker writes them each second
    return {"link": link, "other": other, "sms": sms}


def test_stats_need_an_api_key(client):
    response = client.get("/api/v1/stats", headers={"Host": DOMAINS[0]})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_instance_stats_of_a_known_mix(client, auth, sent):
    body = client.get(f"/api/v1/stats?{span()}", headers=auth).get_json()
    assert body["totals"] == {
        "hits": 8,
        "human": 6,
        "previews": 1,
        "bots": 1,
        "unique_visitors": 6,
        "dark": 4,
        "public": 2,
        "social": 2,
        "orphans": 1,
    }
    assert body["dark_share"] == pytest.approx(4 / 6)
    assert body["dark_public_ratio"] == pytest.approx(2.0)
    assert body["dark_evidence"] == {
        "tag": 1,
        "copy": 0,
        "referrer": 0,
        "in-app": 1,
        "preview": 0,
        "none": 2,
    }
    assert [day["date"] for day in body["series"]] == [body["range"]["from"], body["range"]["to"]]
    assert sum(day["sources"]["dark"] for day in body["series"]) == 2
    assert sum(day["sources"]["messaging"] for day in body["series"]) == 2
    assert {c["channel"] or c["category"]: c["clicks"] for c in body["breakdowns"]["channels"]} == {
        "dark": 2,
        "messenger": 1,
        "sms": 1,
        "facebook": 1,
        "twitter": 1,
    }
    assert body["breakdowns"]["previews"] == [{"channel": "whatsapp", "shares_observed": 1}]
    assert [(t["id"], t["clicks"]) for t in body["top_links"]] == [
        (sent["link"]["id"], 5),
        (sent["other"]["id"], 1),
    ]
    assert body["top_links"][0]["title"] == "Offer"
    assert "variants" not in body


def test_link_stats_include_and_list_the_share_variants(client, auth, sent):
    link = sent["link"]
    body = client.get(f"/api/v1/links/{link['id']}/stats?{span()}", headers=auth).get_json()
    assert body["link"]["id"] == link["id"] and body["scope"]["link"] == link["id"]
    assert body["totals"]["human"] == 5 and body["totals"]["orphans"] == 0
    assert body["variants"] == [
        {
            "channel": "sms",
            "short_url": sent["sms"]["short_url"],
            "clicks": 1,
            "shares_made": 0,
            "shares_observed": 0,
        }
    ]
    same = client.get(f"/api/v1/stats?link={link['id']}&{span()}", headers=auth).get_json()
    assert same["totals"] == body["totals"] and same["variants"] == body["variants"]


def test_tag_and_domain_filters(client, auth, sent):
    promo = client.get(f"/api/v1/stats?tag=promo&{span()}", headers=auth).get_json()
    alt = client.get(f"/api/v1/stats?domain={DOMAINS[1]}&{span()}", headers=auth).get_json()
    assert promo["totals"]["human"] == 5 and promo["scope"]["tag"] == "promo"
    assert alt["totals"]["human"] == 1 and alt["dark_share"] == 0 and alt["dark_public_ratio"] == 0


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_stats_csv_holds_the_same_figures_as_the_json(client, auth, sent):
    body = client.get(f"/api/v1/stats?{span()}", headers=auth).get_json()
    rows = _csv_rows(client.get(f"/api/v1/stats.csv?{span()}", headers=auth))
    table = {(row["section"], row["date"], row["name"]): row["value"] for row in rows}
    for name, value in body["totals"].items():
        assert table[("totals", "", name)] == str(value)
    assert float(table[("headline", "", "dark_share")]) == pytest.approx(body["dark_share"])
    assert float(table[("headline", "", "dark_public_ratio")]) == pytest.approx(
        body["dark_public_ratio"]
    )
    for day in body["series"]:
        assert table[("day", day["date"], "human")] == str(day["human"])
        for source, value in day["sources"].items():
            assert table[("day", day["date"], f"source:{source}")] == str(value)
    for channel in body["breakdowns"]["channels"]:
        assert table[("channel", "", channel["channel"] or f"({channel['category']})")] == str(
            channel["clicks"]
        )
    for evidence, value in body["dark_evidence"].items():
        assert table[("dark_evidence", "", evidence)] == str(value)
    assert table[("top_link", "", sent["link"]["short_url"])] == "5"


def test_hits_csv_of_a_link_agrees_with_its_stats(client, auth, sent):
    link = sent["link"]
    rows = _csv_rows(client.get(f"/api/v1/hits.csv?link={link['id']}&{span()}", headers=auth))
    stats = client.get(f"/api/v1/links/{link['id']}/stats?{span()}", headers=auth).get_json()
    assert len(rows) == stats["totals"]["hits"] == 7
    assert sum(row["kind"] == "human" for row in rows) == stats["totals"]["human"]
    assert sum(row["dark"] == "1" for row in rows) == stats["totals"]["dark"]
    assert sum(row["kind"] == "preview" for row in rows) == stats["totals"]["previews"]
    assert [row["time"] for row in rows] == sorted(row["time"] for row in rows)
    tagged = [row for row in rows if row["evidence"] == "tag"]
    assert [(r["channel"], r["variant"], r["source"]) for r in tagged] == [
        ("sms", "sms", "messaging")
    ]
    facebook = next(row for row in rows if row["channel"] == "facebook")
    assert (
        facebook["referrer"] == "https://l.facebook.com/l.php" and facebook["user_agent"] == CHROME
    )
    assert rows[0]["channel"] == "" and rows[0]["variant"] == ""  # none is empty, not "-"


def test_hits_csv_of_the_instance_is_compact(client, auth, sent):
    rows = _csv_rows(client.get(f"/api/v1/hits.csv?{span()}", headers=auth))
    assert list(rows[0]) == ["time", "link", "kind", "source", "channel", "evidence", "dark"]
    assert len(rows) == 8  # every hit of every link; the orphan has no link
    assert {row["link"] for row in rows} == {str(sent["link"]["id"]), str(sent["other"]["id"])}


def test_hits_csv_range_excludes_other_days(client, auth, sent):
    today = today_of(now_ms())
    earlier = today - timedelta(days=3)
    rows = _csv_rows(client.get(f"/api/v1/hits.csv?from={earlier}&to={earlier}", headers=auth))
    assert rows == []


def test_hits_csv_defuses_formulas_in_referrers(client, auth, create_link):
    link = create_link()
    visit(client, link["code"], referrer='=HYPERLINK("https://evil.example","x")')
    rows = _csv_rows(client.get(f"/api/v1/hits.csv?link={link['id']}&{span()}", headers=auth))
    assert rows[0]["referrer"] == '\'=HYPERLINK("https://evil.example","x")'


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-02-30", "from"),
        ("to=tomorrow", "to"),
        ("from=2026-03-05&to=2026-03-01", "from"),
        ("from=2020-01-01&to=2026-03-01", "from"),
        ("link=abc", "link"),
        ("link=1&tag=promo", "link"),
        ("domain=elsewhere.example", "domain"),
    ],
    ids=[
        "no-such-day",
        "not-a-date",
        "reversed",
        "too-long",
        "link-not-a-number",
        "link-and-tag",
        "unknown-domain",
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/stats", "/api/v1/stats.csv"])
def test_bad_queries_are_a_422_naming_the_field(client, auth, create_link, path, query, field):
    create_link()
    response = client.get(f"{path}?{query}", headers=auth)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["field"] == field


@pytest.mark.parametrize(
    "path", ["/api/v1/links/999/stats", "/api/v1/stats?link=999", "/api/v1/hits.csv?link=999"]
)
def test_unknown_link_is_a_404(client, auth, path):
    response = client.get(path, headers=auth)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-03-05&to=2026-03-01", "from"),
        ("from=0001-01-01&to=0001-01-02", "from"),
        ("to=9999-12-31", "to"),
    ],
    ids=["reversed", "year-one", "last-day"],
)
def test_bad_range_on_hits_csv_is_a_422(client, auth, query, field):
    response = client.get(f"/api/v1/hits.csv?{query}", headers=auth)
    assert response.status_code == 422 and response.get_json()["field"] == field


def test_openapi_documents_the_stats_endpoints(client):
    paths = client.get("/api/v1/openapi.json", headers={"Host": DOMAINS[0]}).get_json()["paths"]
    for path in ("/stats", "/stats.csv", "/links/{link_id}/stats", "/hits.csv"):
        assert "get" in paths[path]
    assert {p["name"] for p in paths["/stats"]["get"]["parameters"]} == {
        "from",
        "to",
        "link",
        "tag",
        "domain",
    }
