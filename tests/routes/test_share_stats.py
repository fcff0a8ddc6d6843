"""What share buttons record shows in the stats API: shares made, clicks, clicks per share,
copy-paste."""

from __future__ import annotations

import re

import pytest

from shortener.openapi import openapi_document
from shortener.shares import SHARE_BUTTONS
from tests.conftest import DOMAINS, write_instance_counts
from tests.routes.sharing import CHROME, PAGE, send
from tests.routes.test_dashboard import sign_in
from tests.routes.test_redirect import visit

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster


def test_per_channel_shares_made_clicks_and_copy_paste_in_the_stats_api(client, publisher, auth):
    page = send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}).get_json()
    for channel in ("whatsapp", "whatsapp", "whatsapp", "whatsapp", "email", "more"):
        assert (
            send(
                client,
                "/api/v1/beacon",
                {"key": publisher.key, "url": PAGE, "event": "share", "channel": channel},
            ).status_code
            == 204
        )
    whatsapp_code = page["variants"]["whatsapp"].rsplit("/", 1)[1]
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        assert visit(client, whatsapp_code, ua=CHROME, ip=ip).status_code == 302
    for n, token in enumerate(("aaaaaaaa.1", "bbbbbbbb.1", "cccccccc.2")):
        assert (
            send(
                client,
                "/api/v1/beacon",
                {"key": publisher.key, "url": PAGE, "event": "copy-arrival", "token": token},
                ip=f"198.51.100.{10 + n}",  # three visitors: one arrival each is counted
            ).status_code
            == 204
        )

    write_instance_counts()  # the instance-wide counts, as the worker writes them each second
    for path in (f"/api/v1/links/{page['link']['id']}/stats", "/api/v1/stats"):
        stats = client.get(path, headers=auth).get_json()
        shares = {row["channel"]: row for row in stats["shares"]}
        assert shares["whatsapp"]["shares_made"] == 4
        assert shares["whatsapp"]["clicks"] == 3
        assert shares["whatsapp"]["clicks_per_share"] == 0.75
        assert (
            shares["email"]["shares_made"],
            shares["email"]["clicks"],
            shares["email"]["clicks_per_share"],
        ) == (1, 0, 0.0)
        assert shares["more"]["shares_made"] == 1
        assert stats["totals"]["human"] == 6 and stats["totals"]["dark"] == 6
        assert stats["dark_evidence"]["copy"] == 3 and stats["dark_evidence"]["tag"] == 3
        evidence = {row["name"]: row["count"] for row in stats["breakdowns"]["evidence"]}
        assert evidence["copy"] == 3
        assert stats["breakdowns"]["copy_generations"] == [
            {"generation": 1, "arrivals": 2},
            {"generation": 2, "arrivals": 1},
        ]
    variants = {
        v["channel"]: v
        for v in client.get(f"/api/v1/links/{page['link']['id']}/stats", headers=auth).get_json()[
            "variants"
        ]
    }
    assert (variants["whatsapp"]["shares_made"], variants["whatsapp"]["clicks"]) == (4, 3)


def test_the_public_endpoints_are_documented_without_the_bearer_key():
    paths = openapi_document()["paths"]
    for path in ("/share-links", "/beacon"):
        assert paths[path]["post"]["security"] == []
    schema = paths["/share-links"]["post"]["requestBody"]["content"]["text/plain"]["schema"]
    assert schema["properties"]["channels"]["items"]["enum"] == list(SHARE_BUTTONS)


def test_the_dashboard_shows_shares_made_clicks_per_share_and_copy_paste_generations(
    client, publisher, api_key
):
    page = send(client, "/api/v1/share-links", {"key": publisher.key, "url": PAGE}).get_json()
    for _ in range(2):
        send(
            client,
            "/api/v1/beacon",
            {"key": publisher.key, "url": PAGE, "event": "share", "channel": "telegram"},
        )
    visit(client, page["variants"]["telegram"].rsplit("/", 1)[1], ua=CHROME)
    for n, token in enumerate(("aaaaaaaa.1", "bbbbbbbb.2")):
        send(
            client,
            "/api/v1/beacon",
            {"key": publisher.key, "url": PAGE, "event": "copy-arrival", "token": token},
            ip=f"198.51.100.{10 + n}",
        )
    write_instance_counts()  # the instance-wide counts, as the worker writes them each second
    assert sign_in(client, api_key).status_code == 302
    html = client.get("/dashboard/", headers={"Host": DOMAINS[0]}).get_data(as_text=True)
    telegram = re.search(r"<tr><td>telegram</td>(.*?)</tr>", html, re.S).group(1)
    # shares made, shares observed, clicks via share links, clicks per share
    assert re.findall(r'class="n">([\d.]+)<', telegram) == ["2", "0", "1", "0.5"]
    generations = re.search(r'<p id="copy-generations">(.*?)</p>', html, re.S).group(1)
    assert re.sub(r"\s+", " ", generations).endswith(
        "generation 1: <b>1</b>, generation 2: <b>1</b>."
    )
