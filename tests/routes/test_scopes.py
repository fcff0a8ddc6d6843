"""API key scopes: the API and the dashboard let each key do what its scopes allow, no more."""

from __future__ import annotations

import json

import pytest

from shortener.apikeys import create_api_key, validate_scopes
from shortener.errors import InvalidInput
from tests.conftest import DOMAINS
from tests.routes.test_dashboard import HOST, csrf_of, sign_in


@pytest.fixture
def key_with(redis_client, keys):
    """Headers of a fresh key holding `scopes`."""

    def make(*scopes: str) -> dict[str, str]:
        key = create_api_key(
            redis_client, keys, "k-" + "-".join(scopes or ("none",)).replace(":", ""), 1, scopes
        )
        return {"Authorization": f"Bearer {key}", "Host": DOMAINS[0]}

    return make


def test_a_key_without_scopes_is_admin():
    assert validate_scopes(None) == ("admin",)
    assert validate_scopes([]) == ("admin",)
    with pytest.raises(InvalidInput):
        validate_scopes(["links:delete"])


def test_keys_stored_before_scopes_are_admin(client, redis_client, keys):
    key = create_api_key(redis_client, keys, "old", 1)
    digest = next(iter(redis_client.hgetall(keys.api_keys())))
    redis_client.hset(keys.api_keys(), digest, json.dumps({"name": "old", "created_at": 1}))
    headers = {"Authorization": f"Bearer {key}", "Host": DOMAINS[0]}
    assert (
        client.post(
            "/api/v1/links", json={"url": "https://example.com"}, headers=headers
        ).status_code
        == 201
    )
    assert client.get("/api/v1/stats", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("scopes", "method", "path", "missing"),
    [
        (("links:read",), "get", "/api/v1/links", None),
        (("links:read",), "post", "/api/v1/links", "links:write"),
        (("links:read",), "get", "/api/v1/stats", "stats:read"),
        (("links:write",), "post", "/api/v1/links", None),
        (("links:write",), "get", "/api/v1/links", None),
        (("stats:read",), "get", "/api/v1/stats", None),
        (("stats:read",), "get", "/api/v1/hits.csv", None),
        (("stats:read",), "get", "/api/v1/links", "links:read"),
        (("stats:read",), "post", "/api/v1/links", "links:write"),
        (("links:write", "stats:read"), "get", "/api/v1/stats", None),
        (("links:write", "stats:read"), "get", "/api/v1/webhooks", "admin"),
        (("admin",), "get", "/api/v1/webhooks", None),
        (("admin",), "post", "/api/v1/links", None),
    ],
    ids=lambda value: str(value),
)
def test_the_api_enforces_scopes(client, key_with, scopes, method, path, missing):
    headers = key_with(*scopes)
    kwargs = {"json": {"url": "https://example.com/x"}} if method == "post" else {}
    response = getattr(client, method)(path, headers=headers, **kwargs)
    if missing is None:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["scope"] == missing
        assert repr(missing) in problem["detail"]


def test_a_stats_key_reads_the_dashboard_but_cannot_create(client, key_with, create_link):
    link = create_link(title="Scoped")
    key = key_with("stats:read")["Authorization"].split()[1]
    assert sign_in(client, key).status_code == 302
    page = client.get("/dashboard/links", headers=HOST).get_data(as_text=True)
    assert "Scoped" in page and "Create link" not in page
    detail = client.get(f"/dashboard/links/{link['id']}", headers=HOST)
    assert detail.status_code == 200 and "New share link for" not in detail.get_data(as_text=True)
    refused = client.post(
        "/dashboard/links",
        data={"url": "https://example.com/new", "csrf_token": csrf_of(page)},
        headers=HOST,
    )
    assert refused.status_code == 403
    assert "links:write" in refused.get_data(as_text=True)
    assert client.get("/api/v1/links", headers=HOST).status_code == 401  # no session in the API


def test_a_writer_sees_the_forms(client, api_key, create_link):
    create_link(title="Mine")
    assert sign_in(client, api_key).status_code == 302
    page = client.get("/dashboard/links", headers=HOST).get_data(as_text=True)
    assert "Create link" in page


def test_a_key_without_stats_read_cannot_sign_in(client, key_with):
    response = sign_in(client, key_with("links:write")["Authorization"].split()[1])
    assert response.status_code == 403
    assert "stats:read" in response.get_data(as_text=True)
