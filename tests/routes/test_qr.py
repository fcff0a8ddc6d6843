"""QR downloads: the link's `qr` share variant as SVG or PNG, sized and validated."""

from __future__ import annotations

import io
import struct

import pytest
import segno

from tests.conftest import DOMAINS, stored_hits
from tests.routes.test_dashboard import HOST, sign_in
from tests.routes.test_redirect import visit


def expected_svg(url: str, scale: int, margin: int) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=scale, border=margin, title=f"QR code of {url}"
    )
    return out.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_svg_encodes_the_qr_variant_created_on_first_request(client, auth, create_link):
    link = create_link()
    response = client.get(f"/api/v1/links/{link['id']}/qr.svg", headers=auth)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    variants = client.get(f"/api/v1/links/{link['id']}/variants", headers=auth).get_json()
    [variant] = variants["variants"]
    assert variant["channel"] == "qr" and variant["code"] != link["code"]
    assert response.headers["X-Lumen-Short-Url"] == variant["short_url"]
    assert response.data == expected_svg(variant["short_url"], 8, 4)
    again = client.get(f"/api/v1/links/{link['id']}/qr.svg?scale=3&margin=1", headers=auth)
    assert again.data == expected_svg(variant["short_url"], 3, 1)  # same variant, other size
    assert (
        len(client.get(f"/api/v1/links/{link['id']}/variants", headers=auth).json["variants"]) == 1
    )


def test_a_scan_counts_for_the_link_with_the_qr_channel(client, auth, create_link, redis_client):
    link = create_link()
    short = client.get(f"/api/v1/links/{link['id']}/qr.png", headers=auth).headers[
        "X-Lumen-Short-Url"
    ]
    response = visit(client, short.rsplit("/", 1)[1])
    assert response.status_code == 302 and response.headers["Location"] == link["url"]
    [hit] = stored_hits(redis_client, link["id"])
    assert hit["channel"] == "qr" and hit["evidence"] == "tag"


@pytest.mark.parametrize(
    ("query", "width"),
    [
        ("", (25 + 8) * 8),
        ("?scale=2", (25 + 8) * 2),
        ("?scale=5&margin=0", 25 * 5),
        ("?size=100", 99),
    ],
    ids=["default", "scale", "no-margin", "size"],
)
def test_png_is_sized_by_scale_size_and_margin(client, auth, create_link, query, width):
    link = create_link()
    response = client.get(f"/api/v1/links/{link['id']}/qr.png{query}", headers=auth)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert png_size(response.data) == (width, width)
    assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?scale=0", "scale"),
        ("?scale=41", "scale"),
        ("?scale=big", "scale"),
        ("?margin=-1", "margin"),
        ("?margin=17", "margin"),
        ("?size=10", "size"),
        ("?size=9000", "size"),
        ("?size=100&scale=2", "size"),
    ],
)
def test_bad_sizes_are_refused_with_a_problem(client, auth, create_link, query, field):
    link = create_link()
    response = client.get(f"/api/v1/links/{link['id']}/qr.svg{query}", headers=auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["field"] == field


def test_unknown_link_and_format(client, auth):
    assert client.get("/api/v1/links/999/qr.svg", headers=auth).status_code == 404
    assert client.get("/api/v1/links/1/qr.gif", headers=auth).status_code == 404


def test_the_dashboard_shows_and_offers_the_qr_variant(client, api_key, create_link):
    link = create_link()
    assert sign_in(client, api_key).status_code == 302
    page = client.get(f"/dashboard/links/{link['id']}", headers=HOST).get_data(as_text=True)
    assert "Download SVG" in page and "Download PNG" in page
    svg = client.get(f"/dashboard/links/{link['id']}/qr.svg", headers=HOST)
    png = client.get(f"/dashboard/links/{link['id']}/qr.png", headers=HOST)
    assert svg.mimetype == "image/svg+xml" and png_size(png.data)[0] == (25 + 8) * 8
    variants = client.get(
        f"/api/v1/links/{link['id']}/variants",
        headers={**HOST, "Authorization": f"Bearer {api_key}"},
    ).get_json()["variants"]
    assert [v["channel"] for v in variants] == ["qr"]
    assert variants[0]["short_url"] in page and svg.data == expected_svg(
        variants[0]["short_url"], 8, 4
    )
    assert DOMAINS[0] in variants[0]["short_url"]
