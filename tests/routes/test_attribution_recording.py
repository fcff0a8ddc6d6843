"""Attribution recorded through the real redirect: kinds, previews as shares, preview
correlation."""

from __future__ import annotations

import time

import pytest

from shortener.hits.recording import day_of
from tests.conftest import TEST_KEYS, day_fields, stored_hits
from tests.routes.test_redirect import CHROME, GOOGLEBOT, WHATSAPP_PREVIEW, visit

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
INSTAGRAM_IN_APP = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) "
    "Mobile/15E148 Instagram 296.0.0.18.107 (iPhone14,8; iOS 16_6; en_US; en; scale=3.00; "
    "1284x2778; 500000000)"
)
TELEGRAM_PREVIEW = "TelegramBot (like TwitterBot)"
SLACK_PREVIEW = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


def hits_of(redis_client, link_id):
    return stored_hits(redis_client, link_id)


def today(redis_client, link_id):
    return day_fields(redis_client, TEST_KEYS.link_day(link_id, day_of(int(time.time() * 1000))))


def test_each_kind_is_recorded_and_only_humans_are_clicks(client, auth, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ua=WHATSAPP_PREVIEW)
    visit(client, link["code"], ua=GOOGLEBOT)
    visit(client, link["code"], ua=INSTAGRAM_IN_APP)
    kinds = [hit["kind"] for hit in hits_of(redis_client, link["id"])]
    assert kinds == ["preview", "bot", "human"]
    day = today(redis_client, link["id"])
    assert day["k:preview"] == "1" and day["k:bot"] == "1" and day["k:human"] == "1"
    assert day["s:social"] == "1" and day["c:instagram"] == "1" and day["e:in-app"] == "1"
    assert client.get(f"/api/v1/links/{link['id']}", headers=auth).get_json()["clicks"] == {
        "total": 3,
        "human": 1,
    }


def test_preview_is_answered_with_the_redirect_and_counted_as_a_share(
    client, create_link, redis_client
):
    link = create_link(url="https://example.com/og")
    response = visit(client, link["code"], ua=WHATSAPP_PREVIEW)
    assert response.status_code == 302 and response.headers["Location"] == "https://example.com/og"
    visit(client, link["code"], ua=TELEGRAM_PREVIEW)
    day = today(redis_client, link["id"])
    assert day["p:whatsapp"] == "1" and day["p:telegram"] == "1"
    assert "k:human" not in day


def test_referrer_beats_the_in_app_user_agent(client, create_link, redis_client):
    link = create_link()
    visit(
        client,
        link["code"],
        ua=INSTAGRAM_IN_APP,
        referrer="https://en.wikipedia.org/wiki/Dark_social",
    )
    hit = hits_of(redis_client, link["id"])[0]
    assert (hit["source"], hit["channel"], hit["evidence"]) == (
        "referral",
        "wikipedia.org",
        "referrer",
    )


def test_referrer_on_a_lumen_domain_or_the_targets_site_is_internal(
    client, create_link, redis_client
):
    link = create_link(url="https://shop.example.co.uk/product")
    visit(client, link["code"], referrer="https://go.test/abc")
    visit(client, link["code"], referrer="https://www.example.co.uk/blog")
    hits = hits_of(redis_client, link["id"])
    assert [(h["source"], h["dark"]) for h in hits] == [("internal", "0"), ("internal", "0")]


def test_dark_click_after_a_preview_is_credited_to_that_app(client, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ua=WHATSAPP_PREVIEW, ip="198.51.100.10")
    visit(client, link["code"], ua=IPHONE_SAFARI, ip="203.0.113.99")
    hit = hits_of(redis_client, link["id"])[-1]
    assert (hit["kind"], hit["source"], hit["channel"], hit["evidence"], hit["dark"]) == (
        "human",
        "dark",
        "whatsapp",
        "preview",
        "1",
    )
    day = today(redis_client, link["id"])
    assert day["e:preview"] == "1" and day["c:whatsapp"] == "1" and day["s:dark"] == "1"


def test_with_several_apps_in_the_window_the_latest_preview_wins(client, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ua=WHATSAPP_PREVIEW, ip="198.51.100.10")
    time.sleep(0.005)
    visit(client, link["code"], ua=SLACK_PREVIEW, ip="198.51.100.11")
    visit(client, link["code"], ua=IPHONE_SAFARI, ip="203.0.113.99")
    assert hits_of(redis_client, link["id"])[-1]["channel"] == "slack"


def test_sender_testing_the_link_is_not_credited_to_the_app(client, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ua=WHATSAPP_PREVIEW, ip="198.51.100.10")
    visit(client, link["code"], ua=IPHONE_SAFARI, ip="198.51.100.10")
    hit = hits_of(redis_client, link["id"])[-1]
    assert (hit["channel"], hit["evidence"], hit["sender_test"]) == ("-", "none", "1")


def test_stronger_evidence_is_not_overridden_by_a_preview(client, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ua=WHATSAPP_PREVIEW, ip="198.51.100.10")
    visit(client, link["code"], ua=IPHONE_SAFARI, referrer="https://t.co/", ip="203.0.113.99")
    visit(client, link["code"], ua=INSTAGRAM_IN_APP, ip="203.0.113.98")
    hits = hits_of(redis_client, link["id"])
    assert [(h["channel"], h["evidence"]) for h in hits[1:]] == [
        ("twitter", "referrer"),
        ("instagram", "in-app"),
    ]


def test_preview_outside_the_window_is_ignored(app, client, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ua=WHATSAPP_PREVIEW, ip="198.51.100.10")
    # Age the recorded preview beyond the 6-hour window.
    stale = int(time.time() * 1000) - 6 * 3600 * 1000 - 1000
    key = TEST_KEYS.link_previews(link["id"])
    redis_client.hset(
        key, "whatsapp", f"{stale}|{redis_client.hget(key, 'whatsapp').split('|')[1]}"
    )
    visit(client, link["code"], ua=IPHONE_SAFARI, ip="203.0.113.99")
    hit = hits_of(redis_client, link["id"])[-1]
    assert (hit["channel"], hit["evidence"]) == ("-", "none")


def test_unique_visitors_count_humans_once_a_day(client, create_link, redis_client):
    link = create_link()
    for ip in ("198.51.100.1", "198.51.100.1", "198.51.100.2"):
        visit(client, link["code"], ip=ip)
    visit(client, link["code"], ua=GOOGLEBOT, ip="198.51.100.3")
    key = TEST_KEYS.link_visitors(link["id"], day_of(int(time.time() * 1000)))
    assert redis_client.pfcount(key) == 2


def test_chrome_without_referrer_is_dark_and_unattributed(client, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ua=CHROME)
    hit = hits_of(redis_client, link["id"])[0]
    assert (hit["source"], hit["channel"], hit["evidence"], hit["dark"]) == (
        "dark",
        "-",
        "none",
        "1",
    )


@pytest.mark.parametrize(
    ("preview_ua", "channel"),
    [
        ("Microsoft Office Existence Discovery", "ms-office"),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "facebook"),
    ],
    ids=["no-category", "public-network"],
)
def test_only_private_apps_previews_credit_a_dark_click(
    client, create_link, redis_client, preview_ua, channel
):
    link = create_link()
    visit(client, link["code"], ua=preview_ua, ip="198.51.100.10")
    visit(client, link["code"], ua=IPHONE_SAFARI, ip="203.0.113.99")
    hits = hits_of(redis_client, link["id"])
    assert hits[0]["kind"] == "preview" and hits[0]["channel"] == channel
    assert (hits[1]["channel"], hits[1]["evidence"]) == ("-", "none")
    assert today(redis_client, link["id"])[f"p:{channel}"] == "1"  # still a share observed
