"""Every request bounded in work: URI length, body size, JSON nesting, list cursors (issue 13)."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from shortener import links
from shortener.validation import MAX_JSON_DEPTH
from tests.conftest import DOMAINS, TEST_ENVIRON, tracked
from tests.routes.sharing import ORIGIN, snapshot

PROBLEM = "application/problem+json"
HOST = {"Host": DOMAINS[0]}


@pytest.mark.parametrize("path", ["/api/v1/links", "/api/v1/beacon", "/api/v1/share-links"])
def test_deeply_nested_json_is_a_400_problem(client, auth, publisher, redis_client, path):
    before = snapshot(redis_client)
    response = client.post(path, data="[" * 1000, headers={**auth, "Origin": ORIGIN})
    assert response.status_code == 400
    assert response.mimetype == PROBLEM
    assert "nests deeper" in response.get_json()["detail"]
    assert snapshot(redis_client) == before


def test_nesting_within_the_limit_goes_on_to_the_field_checks(client, auth):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = client.post("/api/v1/links", data=f'{{"url": {nested}}}', headers=auth)
    assert response.status_code == 422
    assert response.get_json()["field"] == "url"


def test_brackets_inside_strings_do_not_count_as_nesting(client, auth):
    response = client.post(
        "/api/v1/links", json={"url": "https://example.com/" + "[" * 50}, headers=auth
    )
    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/links", "/dashboard/login", "/api/v1/beacon", "/code1"])
def test_a_body_over_the_cap_is_refused_unread_on_every_route(client, path):
    response = client.post(path, data=b"x" * (64 * 1024 + 1), headers=HOST)
    assert response.status_code == 413
    if path.startswith("/api/"):
        assert response.mimetype == PROBLEM
        assert "larger than 65536 bytes" in response.get_json()["detail"]


def test_the_bearer_api_refuses_a_large_body_before_the_key_check(client):
    response = client.post("/api/v1/links", data=b"x" * (20 * 1024 * 1024), headers=HOST)
    assert response.status_code == 413
    assert response.mimetype == PROBLEM


def test_the_body_cap_is_a_setting(settings_overrides, redis_client, api_key):
    from shortener.app import create_app

    app = tracked(create_app({**settings_overrides, "max_body_bytes": 2048}, environ=TEST_ENVIRON))
    response = app.test_client().post(
        "/api/v1/links",
        json={"url": "https://example.com/" + "a" * 2000, "title": "t" * 100},
        headers={"Authorization": f"Bearer {api_key}", **HOST},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(("size", "status"), [(80_000, 413), (200, 422)], ids=["over", "under"])
def test_a_chunked_body_is_capped_too(app, auth, size, status):
    environ = EnvironBuilder("/api/v1/links", method="POST", headers=auth).get_environ()
    environ.pop("CONTENT_LENGTH", None)  # a chunked body: its length is unknown until it ends
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input"] = io.BytesIO(b'{"url": "' + b"x" * size + b'"}')
    _, response_status, _ = run_wsgi_app(app, environ)
    assert int(response_status.split()[0]) == status


def test_an_over_long_uri_is_a_414_problem_under_api(client, auth):
    response = client.get("/api/v1/links?q=" + "x" * 5000, headers=auth)
    assert response.status_code == 414
    assert response.mimetype == PROBLEM


def test_an_over_long_uri_is_a_414_page_elsewhere(client):
    response = client.get("/dashboard/?q=" + "x" * 5000, headers=HOST)
    assert response.status_code == 414
    assert response.mimetype == "text/html"


def test_405_names_the_allowed_methods(client, auth):
    response = client.put("/api/v1/links", json={}, headers=auth)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    page = client.put("/dashboard/login", headers=HOST)
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


@pytest.mark.parametrize("path", ["/dashboard/nothing", "/api/v1/nothing", "/unknown-code"])
def test_error_answers_carry_nosniff_and_pages_a_policy(client, auth, path):
    response = client.get(path, headers=auth)
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if response.mimetype == "text/html":
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_a_cursor_beyond_the_newest_id_is_refused_at_once(client, auth, create_link):
    create_link()
    response = client.get("/api/v1/links?cursor=4611686018427387904", headers=auth)
    assert response.status_code == 422
    assert response.get_json()["field"] == "cursor"


def test_a_cursor_just_past_the_newest_id_is_the_first_page(client, auth, create_link):
    link = create_link()
    body = client.get(f"/api/v1/links?cursor={link['id'] + 1}", headers=auth).get_json()
    assert [entry["id"] for entry in body["links"]] == [link["id"]]


def test_a_filtered_list_reads_a_bounded_number_of_ids(client, auth, create_link, monkeypatch):
    monkeypatch.setattr(links, "MAX_IDS_SCANNED", 3)
    made = [create_link(tags=["x"] if n == 0 else []) for n in range(5)]
    first = client.get("/api/v1/links?tag=x", headers=auth).get_json()
    assert first["links"] == [] and first["next_cursor"] == made[-1]["id"] - 2
    second = client.get(f"/api/v1/links?tag=x&cursor={first['next_cursor']}", headers=auth)
    assert [entry["id"] for entry in second.get_json()["links"]] == [made[0]["id"]]
    assert second.get_json()["next_cursor"] is None
