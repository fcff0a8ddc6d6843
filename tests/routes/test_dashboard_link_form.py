"""The dashboard's link form without a browser: every field created and edited, errors shown on
their field, delete after a confirmation, and the CSV of the figures on screen."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import DOMAINS, write_instance_counts
from tests.routes.test_dashboard import HOST, csrf_of, page, sign_in
from tests.routes.test_link_routing import IPHONE
from tests.routes.test_redirect import visit

EVERY_FIELD = {
    "url": "https://example.com/full",
    "title": "Full",
    "tags": "spring, print",
    "expires_at": "2099-01-01T10:00",
    "max_clicks": "500",
    "redirect_status": "307",
    "utm_source": "poster",
    "utm_campaign": "spring",
    "forward_query": "on",
    "utm_from_attribution": "on",
    "target_ios": "https://apps.apple.com/app/id1",
    "target_android": "https://play.google.com/store/apps/details?id=x",
    "split": "https://example.com/a 3\nhttps://example.com/b",
    "preview_title": "Spring sale",
    "preview_description": "Half off",
    "preview_image": "https://example.com/card.png",
    "password": "open sesame",
}


@pytest.fixture
def signed_in(client, api_key):  # type: ignore[no-untyped-def]
    assert sign_in(client, api_key).status_code == 302
    return client


def post_form(client, path: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    _, html = page(client, path)
    return client.post(path, headers=HOST, data={"csrf_token": csrf_of(html), **fields})


def test_the_create_form_sets_every_field(signed_in, auth):
    response = post_form(signed_in, "/dashboard/links", EVERY_FIELD)
    assert response.status_code == 302
    link_id = int(response.headers["Location"].rsplit("/", 1)[1])
    link = signed_in.get(f"/api/v1/links/{link_id}", headers=auth).get_json()
    assert link["expires_at"] == "2099-01-01T10:00:00.000Z"
    assert (link["max_clicks"], link["redirect_status"]) == (500, 307)
    assert link["tags"] == ["spring", "print"]
    assert link["utm"] == {"source": "poster", "campaign": "spring"}
    assert (link["forward_query"], link["utm_from_attribution"]) == (True, True)
    assert link["targets"] == {
        "android": "https://play.google.com/store/apps/details?id=x",
        "ios": "https://apps.apple.com/app/id1",
    }
    assert link["split"] == [
        {"url": "https://example.com/a", "weight": 3},
        {"url": "https://example.com/b", "weight": 1},
    ]
    assert link["preview"] == {
        "title": "Spring sale",
        "description": "Half off",
        "image": "https://example.com/card.png",
    }
    assert link["password_protected"] is True
    _, html = page(signed_in, f"/dashboard/links/{link_id}")
    assert "Password-protected" in html and "ios → https://apps.apple.com/app/id1" in html


def test_the_edit_form_shows_every_field_but_the_password_and_saves_changes(
    signed_in, auth, create_link
):
    link = create_link(
        url="https://example.com/e",
        utm={"source": "news"},
        targets={"ios": "https://apps.apple.com/app/id1"},
        split=[{"url": "https://example.com/a", "weight": 2}, {"url": "https://example.com/b"}],
        preview={"title": "Card"},
        password="open sesame",
        max_clicks=9,
    )
    path = f"/dashboard/links/{link['id']}/edit"
    _, html = page(signed_in, path)
    assert 'name="utm_source" type="text" value="news"' in html
    assert 'value="https://apps.apple.com/app/id1"' in html
    assert "https://example.com/a 2\nhttps://example.com/b 1</textarea>" in html
    assert 'name="password" type="password" value=""' in html
    assert "open sesame" not in html
    response = post_form(
        signed_in,
        path,
        {
            "url": "https://example.com/e2",
            "title": "Edited",
            "tags": "",
            "max_clicks": "",
            "redirect_status": "301",
            "utm_medium": "print",
            "utm_from_attribution": "off",
            "split": "",
            "preview_title": "",
        },
    )
    assert response.status_code == 302
    edited = signed_in.get(f"/api/v1/links/{link['id']}", headers=auth).get_json()
    assert (edited["url"], edited["title"], edited["max_clicks"]) == (
        "https://example.com/e2",
        "Edited",
        None,
    )
    assert edited["utm"] == {"medium": "print"}
    assert (edited["forward_query"], edited["utm_from_attribution"]) == (False, False)
    assert (edited["targets"], edited["split"], edited["preview"]) == ({}, [], None)
    assert edited["password_protected"] is True  # kept: no new one typed
    post_form(signed_in, path, {"url": "https://example.com/e2", "remove_password": "on"})
    assert (
        signed_in.get(f"/api/v1/links/{link['id']}", headers=auth).get_json()["password_protected"]
        is False
    )


def test_an_edit_shows_at_once_on_the_redirect(signed_in, create_link):
    link = create_link(url="https://example.com/app")
    visit(signed_in, link["code"], ua=IPHONE)  # cached in this worker
    post_form(
        signed_in,
        f"/dashboard/links/{link['id']}/edit",
        {"url": "https://example.com/app", "target_ios": "https://apps.apple.com/app/id1"},
    )
    assert visit(signed_in, link["code"], ua=IPHONE).headers["Location"] == (
        "https://apps.apple.com/app/id1"
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"target_ios": "not a url"}, "target_ios"),
        ({"split": "https://example.com/a 0\nhttps://example.com/b"}, "split"),
        ({"split": "https://example.com/a three"}, "split"),
        ({"preview_description": "no title"}, "preview_title"),
        ({"max_clicks": "many"}, "max_clicks"),
        ({"utm_source": "a\tb"}, "utm_source"),
        ({"password": "abc"}, "password"),
    ],
    ids=["target", "split-weight", "split-line", "preview-title", "max-clicks", "utm", "password"],
)
def test_a_bad_field_is_shown_on_that_field_and_nothing_is_created(
    signed_in, redis_client, keys, fields, field
):
    response = post_form(signed_in, "/dashboard/links", {"url": "https://example.com/", **fields})
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 422)
    assert f'id="f-{field}-error" role="alert"' in html
    assert '<details class="more-fields" open>' in html
    assert redis_client.get(keys.sequence()) is None


def test_delete_asks_first_then_deletes(signed_in, create_link):
    link = create_link(url="https://example.com/d")
    response, html = page(signed_in, f"/dashboard/links/{link['id']}/delete")
    assert response.status_code == 200
    assert "Yes, delete it" in html
    assert visit(signed_in, link["code"]).status_code == 302  # asking deleted nothing
    response = signed_in.post(
        f"/dashboard/links/{link['id']}/delete", headers=HOST, data={"csrf_token": csrf_of(html)}
    )
    assert response.headers["Location"] == "/dashboard/links"
    assert visit(signed_in, link["code"]).status_code == 404


def test_delete_needs_the_forms_token(signed_in, create_link):
    link = create_link(url="https://example.com/d")
    response = signed_in.post(f"/dashboard/links/{link['id']}/delete", headers=HOST)
    assert response.status_code == 400
    assert visit(signed_in, link["code"]).status_code == 302


def test_the_csv_download_has_the_figures_on_screen(signed_in, create_link):
    link = create_link(url="https://example.com/c", targets={"ios": "https://apps.apple.com/a"})
    other = create_link(url="https://example.com/other")
    visit(signed_in, link["code"], ua=IPHONE)
    visit(signed_in, other["code"], ip="198.51.100.9")
    _, html = page(signed_in, f"/dashboard/links/{link['id']}?range=7")
    href = f"/dashboard/figures.csv?range=7&amp;link={link['id']}"
    assert f'href="{href}"' in html
    response = signed_in.get(href.replace("&amp;", "&"), headers=HOST)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    totals = {row["name"]: row["value"] for row in rows if row["section"] == "totals"}
    assert totals["human"] == "1"  # this link's, not the instance's 2
    assert len({row["date"] for row in rows if row["section"] == "day"}) == 7
    assert {"section": "destination", "date": "", "name": "ios", "value": "1"} in rows
    write_instance_counts()  # the instance-wide counts, as the worker writes them each second
    instance = signed_in.get("/dashboard/figures.csv", headers=HOST).get_data(as_text=True)
    instance_totals = {
        row["name"]: row["value"]
        for row in csv.DictReader(io.StringIO(instance))
        if row["section"] == "totals"
    }
    assert instance_totals["human"] == "2"


def test_the_overview_offers_its_csv(signed_in):
    _, html = page(signed_in, "/dashboard/?tag=spring")
    assert 'href="/dashboard/figures.csv?tag=spring"' in html


def test_the_domains_page_sets_each_domains_pages(signed_in):
    response = post_form(
        signed_in,
        "/dashboard/domains",
        {"domain": DOMAINS[1], "root_url": "https://brand.example/", "not_found_url": ""},
    )
    assert response.headers["Location"] == "/dashboard/domains"
    assert signed_in.get("/", headers={"Host": DOMAINS[1]}).headers["Location"] == (
        "https://brand.example/"
    )
    assert signed_in.get("/", headers=HOST).headers["Location"] == "/dashboard"
    _, html = page(signed_in, "/dashboard/domains")
    assert 'value="https://brand.example/"' in html
    refused = post_form(
        signed_in, "/dashboard/domains", {"domain": DOMAINS[0], "not_found_url": "javascript:x"}
    )
    assert refused.status_code == 422
    assert "not_found_url must start with http:// or https://" in refused.get_data(as_text=True)
