"""The share cascade over HTTP: the redirect's hand-over, the beacons that count it, the stats."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from shortener.hits.recording import day_of
from shortener.links import now_ms
from tests.conftest import day_fields
from tests.routes.sharing import PAGE, send
from tests.routes.test_dashboard import HOST, sign_in
from tests.routes.test_redirect import visit


@pytest.fixture
def page(client, publisher):
    """The page's link and variants, as share.js asks for them."""
    response = send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE})
    assert response.status_code == 200
    return response.get_json()


def code_of(short_url: str) -> str:
    return urlsplit(short_url).path.lstrip("/")


def beacon(client, publisher, **fields):
    return send(client, "/api/v1/beacon", {"key": publisher.key, "url": PAGE, **fields})


def link_day(redis_client, link_id: int) -> dict[str, str]:
    return day_fields(redis_client, f"lumen:{{l:{link_id}}}:d:{day_of(now_ms())}")


def test_a_first_hop_gets_its_channel_at_generation_one(client, page):
    response = visit(client, code_of(page["variants"]["whatsapp"]))
    assert response.status_code == 302
    assert response.headers["Location"] == PAGE + "#lumen=1_whatsapp"


def test_a_shared_url_hands_over_its_generation_and_parent(client, page):
    response = visit(client, code_of(page["variants"]["telegram"]) + "?lc=2_whatsapp")
    assert response.headers["Location"] == PAGE + "#lumen=2_telegram_whatsapp"


def test_the_page_link_names_the_arrivals_own_channel(client, page):
    response = visit(client, code_of(page["link"]["short_url"]), referrer="https://t.co/")
    assert response.headers["Location"] == PAGE + "#lumen=1_twitter"
    response = visit(client, code_of(page["link"]["short_url"]), ip="198.51.100.4")
    assert response.headers["Location"] == PAGE + "#lumen=1_dark"


@pytest.mark.parametrize(
    "query", ["lc=2_evil", "lc=0_page", "lc=2_sms_sms", "lc=100_sms", "lc=2_sms&lc=3_sms"]
)
def test_a_bad_hand_over_is_ignored_not_trusted(client, page, query):
    response = visit(client, code_of(page["variants"]["sms"]) + "?" + query)
    assert response.headers["Location"] == PAGE + "#lumen=1_sms"


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}], ids=["dnt", "gpc"])
def test_do_not_track_and_gpc_get_no_fragment(client, page, header):
    response = visit(client, code_of(page["variants"]["whatsapp"]) + "?lc=2_sms", **header)
    assert response.headers["Location"] == PAGE


def test_ordinary_links_and_robots_get_no_fragment(client, create_link, page):
    link = create_link(url="https://example.com/article")
    assert visit(client, link["code"] + "?lc=2_sms").headers["Location"] == (
        "https://example.com/article"
    )
    robot = visit(client, code_of(page["variants"]["sms"]), ua="curl/8.5.0")
    assert robot.headers["Location"] == PAGE


def test_a_share_counts_its_edge_and_generation(client, publisher, page, redis_client):
    assert beacon(client, publisher, event="share", channel="telegram", **{"from": "1_whatsapp"})
    assert beacon(client, publisher, event="share", channel="sms", **{"from": "0_page"})
    assert beacon(client, publisher, event="share", channel="sms").status_code == 204  # DNT
    day = link_day(redis_client, page["link"]["id"])
    assert day["cas:whatsapp>telegram"] == "1" and day["cg:2"] == "1"
    assert day["cas:page>sms"] == "1" and day["cg:1"] == "1"
    assert day["sh:sms"] == "2"


def test_an_arrival_through_a_cascade_share_counts_a_click_on_its_edge(
    client, publisher, page, redis_client
):
    response = beacon(client, publisher, event="arrival", **{"from": "2_telegram_whatsapp"})
    assert response.status_code == 204
    day = link_day(redis_client, page["link"]["id"])
    assert day["cac:whatsapp>telegram"] == "1"
    assert "hits" not in day  # the redirect already counted the click itself


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"event": "arrival", "from": "2_telegram"}, "from"),
        ({"event": "arrival"}, "from"),
        ({"event": "share", "channel": "sms", "from": "1_myspace"}, "from"),
        ({"event": "share", "channel": "sms", "from": "0_sms"}, "from"),
        ({"event": "share", "channel": "sms", "from": 3}, "from"),
        ({"event": "share", "channel": "sms", "from": "100_sms"}, "from"),
    ],
    ids=["no-parent", "missing", "unknown-label", "zero-not-root", "not-text", "generation-100"],
)
def test_bad_cascade_beacons_are_refused(client, publisher, page, redis_client, fields, field):
    response = beacon(client, publisher, **fields)
    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert not any(
        name.startswith(("cas:", "cac:", "cg:"))
        for name in link_day(redis_client, page["link"]["id"])
    )


def test_stats_show_the_cascade(client, auth, publisher, page):
    for _ in range(2):
        beacon(client, publisher, event="share", channel="whatsapp", **{"from": "0_page"})
    beacon(client, publisher, event="share", channel="telegram", **{"from": "1_whatsapp"})
    for _ in range(3):
        beacon(client, publisher, event="arrival", **{"from": "2_telegram_whatsapp"})
    stats = client.get(f"/api/v1/stats?link={page['link']['id']}", headers=auth).get_json()
    assert stats["cascade"] == {
        "edges": [
            {"parent": "whatsapp", "child": "telegram", "shares": 1, "clicks": 3},
            {"parent": "page", "child": "whatsapp", "shares": 2, "clicks": 0},
        ],
        "generations": [{"generation": 1, "shares": 2}, {"generation": 2, "shares": 1}],
        "carriers": [
            {"channel": "page", "onward_shares": 2},
            {"channel": "whatsapp", "onward_shares": 1},
        ],
    }


def test_the_link_page_of_the_dashboard_shows_the_cascade(client, api_key, publisher, page):
    beacon(client, publisher, event="share", channel="whatsapp", **{"from": "0_page"})
    beacon(client, publisher, event="share", channel="telegram", **{"from": "1_whatsapp"})
    beacon(client, publisher, event="arrival", **{"from": "2_telegram_whatsapp"})
    assert sign_in(client, api_key).status_code == 302
    html = client.get(f"/dashboard/links/{page['link']['id']}", headers=HOST).get_data(as_text=True)
    table = re.search(r'<table class="ranked" id="cascade".*?</table>', html, re.S).group(0)
    rows = [
        re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr><td>.*?</tr>", table)
    ]
    assert rows == [
        ["whatsapp", "telegram", "1", "1"],
        ["the page (first share)", "whatsapp", "1", "0"],
    ]
    generations = re.search(r'<p id="cascade-generations">(.*?)</p>', html, re.S).group(1)
    assert "generation 1: <b>1</b>, generation 2: <b>1</b>" in generations
    assert "whatsapp (<b>1</b> shares)" in generations


def test_a_link_without_cascade_shows_no_cascade_table(client, api_key, create_link):
    link = create_link()
    assert sign_in(client, api_key).status_code == 302
    html = client.get(f"/dashboard/links/{link['id']}", headers=HOST).get_data(as_text=True)
    assert 'id="cascade"' not in html
