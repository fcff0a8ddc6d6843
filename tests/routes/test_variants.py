"""Share variants: one code per (link, channel), hits counted for the parent with evidence tag."""

from __future__ import annotations

import re

import pytest

from tests.conftest import DOMAINS, stored_hits
from tests.routes.test_dashboard import sign_in
from tests.routes.test_redirect import CHROME, visit

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster


def test_variant_is_created_once_per_channel(client, auth, create_link):
    link = create_link()
    first = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "whatsapp"}, headers=auth
    )
    again = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "whatsapp"}, headers=auth
    )
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json() == again.get_json()
    variant = first.get_json()
    assert variant["channel"] == "whatsapp"
    assert variant["code"] != link["code"]
    assert variant["short_url"] == f"https://{DOMAINS[0]}/{variant['code']}"


def test_variants_are_listed_by_channel(client, auth, create_link):
    link = create_link()
    for channel in ("sms", "email", "whatsapp"):
        client.post(f"/api/v1/links/{link['id']}/variants", json={"channel": channel}, headers=auth)
    listed = client.get(f"/api/v1/links/{link['id']}/variants", headers=auth).get_json()["variants"]
    assert [v["channel"] for v in listed] == ["email", "sms", "whatsapp"]
    assert len({v["code"] for v in listed}) == 3


def test_variant_lives_on_the_links_domain(client, auth, create_link):
    link = create_link(domain=DOMAINS[1])
    variant = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "sms"}, headers=auth
    ).get_json()
    assert variant["short_url"].startswith(f"https://{DOMAINS[1]}/")
    assert visit(client, variant["code"], host=DOMAINS[1]).status_code == 302
    assert visit(client, variant["code"], host=DOMAINS[0]).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"channel": "carrier-pigeon"}, 422),
        ({"channel": 3}, 422),
        ({}, 422),
        ({"channel": "sms", "x": 1}, 422),
    ],
    ids=["unknown-channel", "not-a-string", "missing", "unknown-field"],
)
def test_bad_variant_requests_are_refused(client, auth, create_link, body, status):
    link = create_link()
    response = client.post(f"/api/v1/links/{link['id']}/variants", json=body, headers=auth)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert (
        client.get(f"/api/v1/links/{link['id']}/variants", headers=auth).get_json()["variants"]
        == []
    )


def test_variant_of_unknown_link_is_404(client, auth):
    assert (
        client.post(
            "/api/v1/links/4242/variants", json={"channel": "sms"}, headers=auth
        ).status_code
        == 404
    )


def test_hit_on_variant_counts_for_the_parent_with_evidence_tag(
    client, auth, create_link, redis_client
):
    link = create_link(url="https://example.com/article")
    variant = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "sms"}, headers=auth
    ).get_json()
    response = visit(client, variant["code"], referrer="https://www.facebook.com/")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.com/article"
    hits = stored_hits(redis_client, link["id"])
    assert len(hits) == 1
    assert hits[0]["evidence"] == "tag"
    assert hits[0]["channel"] == "sms"
    assert hits[0]["source"] == "messaging"
    assert hits[0]["dark"] == "1"
    assert hits[0]["variant"] == "sms"
    assert client.get(f"/api/v1/links/{link['id']}", headers=auth).get_json()["clicks"] == {
        "total": 1,
        "human": 1,
    }


def test_variant_follows_an_edit_of_the_parent_target(client, auth, create_link):
    link = create_link(url="https://old.example/")
    variant = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "email"}, headers=auth
    ).get_json()
    client.patch(f"/api/v1/links/{link['id']}", json={"url": "https://new.example/"}, headers=auth)
    assert visit(client, variant["code"], ua=CHROME).headers["Location"] == "https://new.example/"


def test_deleting_the_link_deletes_its_variants(client, auth, create_link):
    link = create_link()
    variant = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "email"}, headers=auth
    ).get_json()
    client.delete(f"/api/v1/links/{link['id']}", headers=auth)
    assert visit(client, variant["code"]).status_code == 404


def test_qr_variant_clicks_are_offline_not_dark(client, auth, api_key, create_link, redis_client):
    link = create_link(url="https://example.com/poster")
    qr = client.post(
        f"/api/v1/links/{link['id']}/variants", json={"channel": "qr"}, headers=auth
    ).get_json()
    visit(client, qr["code"], ip="198.51.100.9")
    visit(client, link["code"], ip="198.51.100.10")  # no referrer: dark
    hits = stored_hits(redis_client, link["id"])
    scanned = [hit for hit in hits if hit.get("variant") == "qr"]
    assert len(scanned) == 1
    assert (scanned[0]["source"], scanned[0]["channel"], scanned[0]["evidence"]) == (
        "offline",
        "qr",
        "tag",
    )
    assert scanned[0]["dark"] == "0"
    stats = client.get(f"/api/v1/stats?link={link['id']}", headers=auth).get_json()
    assert stats["totals"]["human"] == 2 and stats["totals"]["dark"] == 1
    assert stats["dark_share"] == 0.5
    sources = {row["name"]: row["count"] for row in stats["breakdowns"]["sources"]}
    assert sources["offline"] == 1
    channels = {row["channel"]: row for row in stats["breakdowns"]["channels"]}
    assert channels["qr"]["category"] == "offline" and channels["qr"]["dark"] is False
    assert sign_in(client, api_key).status_code == 302
    html = client.get(f"/dashboard/links/{link['id']}", headers=auth).get_data(as_text=True)
    assert re.search(r"<tr><td>offline \(QR\)</td><td class=\"n\">1</td>", html)
