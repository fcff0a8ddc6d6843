"""The links API: creation, reading, listing, editing, deleting, auth and bad input."""

from __future__ import annotations

import pytest

from tests.conftest import DOMAINS, TEST_KEYS

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster

PROBLEM = "application/problem+json"


def test_create_link_returns_the_link_with_every_field(client, auth):
    response = client.post(
        "/api/v1/links",
        json={
            "url": "https://example.com/a?b=1",
            "title": "Spring sale",
            "tags": ["Promo", "spring"],
            "expires_at": "2999-01-01T00:00:00Z",
            "max_clicks": 10,
            "redirect_status": 301,
        },
        headers=auth,
    )
    assert response.status_code == 201
    link = response.get_json()
    assert response.headers["Location"] == f"/api/v1/links/{link['id']}"
    assert link["url"] == "https://example.com/a?b=1"
    assert link["domain"] == DOMAINS[0]
    assert link["short_url"] == f"https://{DOMAINS[0]}/{link['code']}"
    assert link["title"] == "Spring sale"
    assert link["tags"] == ["promo", "spring"]
    assert link["expires_at"] == "2999-01-01T00:00:00.000Z"
    assert link["max_clicks"] == 10
    assert link["redirect_status"] == 301
    assert link["clicks"] == {"total": 0, "human": 0}
    assert link["created_at"].endswith("Z")


def test_generated_codes_are_at_least_five_characters_without_look_alikes(create_link):
    codes = [create_link()["code"] for _ in range(30)]
    assert len(set(codes)) == 30
    for code in codes:
        assert len(code) >= 5
        assert not set(code) & set("0O1lIo")


def test_custom_slug_is_used_as_the_code(create_link):
    assert create_link(slug="Spring_Sale-2026")["code"] == "Spring_Sale-2026"


def test_taken_slug_is_a_conflict(client, auth, create_link):
    create_link(slug="taken")
    response = client.post(
        "/api/v1/links", json={"url": "https://example.com", "slug": "taken"}, headers=auth
    )
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    assert "taken" in response.get_json()["detail"]


def test_a_slug_left_claimed_by_a_create_that_failed_half_way_can_be_created_again(
    client, auth, redis_client
):
    # A create claimed the slug for link 999, then Redis failed before the link was written.
    redis_client.hset(TEST_KEYS.codes(DOMAINS[0]), "halfway", "999||example.com")
    response = client.post(
        "/api/v1/links", json={"url": "https://example.com/again", "slug": "halfway"}, headers=auth
    )
    assert response.status_code == 201, response.get_json()
    follow = client.get("/halfway", headers={"Host": DOMAINS[0]})
    assert follow.headers["Location"] == "https://example.com/again"


def test_same_slug_may_exist_on_two_domains(create_link):
    first = create_link(slug="same", domain=DOMAINS[0])
    second = create_link(slug="same", domain=DOMAINS[1])
    assert first["id"] != second["id"]
    assert second["short_url"] == f"https://{DOMAINS[1]}/same"


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "has space",
        "a" * 65,
        "émoji",
        "dot.dot",
        "slash/slash",
        "api",
        "dashboard",
        "embed",
        "static",
        "healthz",
        "readyz",
        "metrics",
        "API",
        12,
    ],
    ids=[
        "empty-string-is-not-a-slug",
        "space",
        "too-long",
        "non-ascii",
        "dot",
        "slash",
        "api",
        "dashboard",
        "embed",
        "static",
        "healthz",
        "readyz",
        "metrics",
        "reserved-any-case",
        "not-a-string",
    ],
)
def test_bad_slugs_are_refused_with_422_naming_the_field(client, auth, slug):
    if slug == "":
        # An empty slug means "generate a code", like an absent one.
        response = client.post(
            "/api/v1/links", json={"url": "https://example.com", "slug": slug}, headers=auth
        )
        assert response.status_code == 201
        return
    response = client.post(
        "/api/v1/links", json={"url": "https://example.com", "slug": slug}, headers=auth
    )
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.get_json()["field"] == "slug"


def test_slug_of_64_characters_is_accepted(create_link):
    assert create_link(slug="a" * 64)["code"] == "a" * 64


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/file", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("/relative/path", "scheme"),
        ("https://", "host"),
        ("https://user:pass@example.com/", "credentials"),
        ("https://example.com/" + "a" * 2048, "length"),
        (f"https://{DOMAINS[0]}/loop", "lumen"),
        (f"http://{DOMAINS[1]}:443/loop", "lumen"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com:99999/", "port"),
        ("https://example.com:0/", "port zero"),
        ('https://ex"ample.com/', "quote in host"),
        ("https://exam<ple.com/", "angle bracket in host"),
        ("https://exa\u200bmple.com/", "zero-width space in host"),
        ("https://-example.com/", "label starting with a hyphen"),
        (42, "type"),
        (None, "missing"),
    ],
    ids=[
        "ftp",
        "javascript",
        "relative",
        "no-host",
        "credentials",
        "too-long",
        "own-domain",
        "own-domain-with-port",
        "space",
        "bad-port",
        "port-zero",
        "quote-host",
        "bracket-host",
        "zero-width-host",
        "hyphen-label",
        "number",
        "null",
    ],
)
def test_bad_targets_are_refused_with_422_naming_url(client, auth, url, why):
    response = client.post("/api/v1/links", json={"url": url}, headers=auth)
    assert response.status_code == 422, why
    body = response.get_json()
    assert response.mimetype == PROBLEM
    assert body["field"] == "url"
    assert body["status"] == 422
    assert body["detail"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_clicks": 0}, "max_clicks"),
        ({"max_clicks": "5"}, "max_clicks"),
        ({"max_clicks": True}, "max_clicks"),
        ({"redirect_status": 303}, "redirect_status"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"tags": "x" * 51}, "tags"),
        ({"tags": [1, 2]}, "tags"),
        ({"title": ["x"]}, "title"),
        ({"domain": "evil.test"}, "domain"),
        ({"colour": "red"}, "colour"),
    ],
    ids=[
        "zero-clicks",
        "clicks-as-string",
        "clicks-as-bool",
        "status-303",
        "expiry-not-iso",
        "expiry-past",
        "tag-too-long",
        "tags-not-strings",
        "title-not-string",
        "unknown-domain",
        "unknown-field",
    ],
)
def test_bad_fields_are_refused_with_422_naming_the_field(client, auth, fields, field):
    response = client.post(
        "/api/v1/links", json={"url": "https://example.com", **fields}, headers=auth
    )
    assert response.status_code == 422
    assert response.get_json()["field"] == field


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b"[1, 2]", b'"text"'], ids=["malformed", "empty", "array", "string"]
)
def test_a_body_that_is_not_a_json_object_is_a_400(client, auth, body):
    response = client.post(
        "/api/v1/links", data=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.mimetype == PROBLEM


def test_refused_input_stores_nothing(client, auth, redis_client):
    client.post("/api/v1/links", json={"url": "ftp://x"}, headers=auth)
    client.post("/api/v1/links", json={"url": "https://example.com", "slug": "api"}, headers=auth)
    assert client.get("/api/v1/links", headers=auth).get_json()["links"] == []
    assert not redis_client.keys(TEST_KEYS.codes("*"))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer lum_wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer"},
    ],
    ids=["none", "wrong-key", "wrong-scheme", "empty-bearer"],
)
def test_api_without_a_valid_key_is_401(client, headers):
    response = client.get("/api/v1/links", headers={"Host": DOMAINS[0], **headers})
    assert response.status_code == 401
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "keys create" in response.get_json()["detail"]


def test_revoked_key_is_refused(client, auth, redis_client, keys):
    from shortener.apikeys import revoke_api_key

    assert client.get("/api/v1/links", headers=auth).status_code == 200
    revoke_api_key(redis_client, keys, "tester")
    assert client.get("/api/v1/links", headers=auth).status_code == 401


def test_api_keys_are_stored_only_as_hashes(redis_client, api_key):
    dump = " ".join(
        str(redis_client.hgetall(key))
        for key in redis_client.keys("*")
        if redis_client.type(key) == "hash"
    )
    assert api_key not in dump


def test_openapi_document_is_public_and_describes_links(client):
    response = client.get("/api/v1/openapi.json", headers={"Host": DOMAINS[0]})
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert "/links" in document["paths"] and "/links/{link_id}/variants" in document["paths"]


def test_get_link_and_unknown_link(client, auth, create_link):
    link = create_link(title="Read me")
    assert client.get(f"/api/v1/links/{link['id']}", headers=auth).get_json() == link
    missing = client.get("/api/v1/links/999999", headers=auth)
    assert missing.status_code == 404
    assert missing.mimetype == PROBLEM


def test_patch_changes_only_the_given_fields(client, auth, create_link):
    link = create_link(title="Old", tags=["a"])
    response = client.patch(
        f"/api/v1/links/{link['id']}",
        json={"title": "New", "url": "https://example.org/x"},
        headers=auth,
    )
    assert response.status_code == 200
    edited = response.get_json()
    assert edited["title"] == "New"
    assert edited["url"] == "https://example.org/x"
    assert edited["tags"] == ["a"]
    assert edited["code"] == link["code"]


@pytest.mark.parametrize(
    "fields",
    [{"slug": "new"}, {"domain": DOMAINS[1]}, {"url": "mailto:x@y"}, {"nope": 1}],
    ids=["slug-is-fixed", "domain-is-fixed", "bad-url", "unknown-field"],
)
def test_patch_refuses_what_cannot_change(client, auth, create_link, fields):
    link = create_link()
    response = client.patch(f"/api/v1/links/{link['id']}", json=fields, headers=auth)
    assert response.status_code == 422
    assert client.get(f"/api/v1/links/{link['id']}", headers=auth).get_json() == link


def test_patch_clears_expiry_and_click_budget_with_null(client, auth, create_link):
    link = create_link(expires_at="2999-01-01T00:00:00Z", max_clicks=3)
    edited = client.patch(
        f"/api/v1/links/{link['id']}", json={"expires_at": None, "max_clicks": None}, headers=auth
    ).get_json()
    assert edited["expires_at"] is None and edited["max_clicks"] is None


def test_delete_removes_the_link_and_its_code(client, auth, create_link):
    link = create_link(slug="bye")
    assert client.delete(f"/api/v1/links/{link['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/links/{link['id']}", headers=auth).status_code == 404
    assert client.get("/bye", headers={"Host": DOMAINS[0]}).status_code == 404
    assert client.delete(f"/api/v1/links/{link['id']}", headers=auth).status_code == 404
    # The slug is free again.
    assert create_link(slug="bye")["code"] == "bye"


def test_list_is_newest_first_with_cursor_pagination(client, auth, create_link):
    ids = [create_link(title=f"n{i}")["id"] for i in range(7)]
    first = client.get("/api/v1/links?limit=3", headers=auth).get_json()
    assert [link["id"] for link in first["links"]] == ids[::-1][:3]
    second = client.get(
        f"/api/v1/links?limit=3&cursor={first['next_cursor']}", headers=auth
    ).get_json()
    assert [link["id"] for link in second["links"]] == ids[::-1][3:6]
    third = client.get(
        f"/api/v1/links?limit=3&cursor={second['next_cursor']}", headers=auth
    ).get_json()
    assert [link["id"] for link in third["links"]] == ids[:1]
    assert third["next_cursor"] is None


def test_list_filters_by_tag_domain_and_search(client, auth, create_link):
    a = create_link(title="Winter boots", tags=["shoes"])
    b = create_link(url="https://example.com/summer-hats", tags=["hats"], domain=DOMAINS[1])
    create_link(title="Other")

    def ids(query: str) -> list[int]:
        return [
            link["id"]
            for link in client.get(f"/api/v1/links?{query}", headers=auth).get_json()["links"]
        ]

    assert ids("tag=shoes") == [a["id"]]
    assert ids(f"domain={DOMAINS[1]}") == [b["id"]]
    assert ids("q=WINTER") == [a["id"]]
    assert ids("q=summer-hats") == [b["id"]]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=abc", "limit=201", "cursor=x"],
    ids=["zero", "text", "too-big", "bad-cursor"],
)
def test_list_refuses_bad_query_parameters(client, auth, query):
    response = client.get(f"/api/v1/links?{query}", headers=auth)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM


def test_unknown_api_path_is_a_problem_404(client, auth):
    response = client.get("/api/v1/nothing", headers=auth)
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_wrong_method_is_a_problem_405(client, auth):
    response = client.put("/api/v1/links", json={}, headers=auth)
    assert response.status_code == 405
    assert response.mimetype == PROBLEM


def test_openapi_document_names_the_503_of_every_operation(client):
    document = client.get("/api/v1/openapi.json", headers={"Host": DOMAINS[0]}).get_json()
    operations = [
        item
        for path_item in document["paths"].values()
        for method, item in path_item.items()
        if method in ("get", "post", "patch", "delete")
    ]
    assert operations and all(
        op["responses"]["503"] == {"$ref": "#/components/responses/Unavailable"}
        for op in operations
    )
    assert "Retry-After" in document["components"]["responses"]["Unavailable"]["headers"]
