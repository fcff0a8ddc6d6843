"""The redirect: status, headers, hit recording field by field, domains, expiry, click budgets."""

from __future__ import annotations

import time

import pytest

from shortener.app import create_app
from shortener.hits.recording import day_of
from tests.agents import CHROME, GOOGLEBOT, WHATSAPP_PREVIEW
from tests.conftest import (
    DOMAINS,
    TEST_ENVIRON,
    TEST_KEYS,
    day_fields,
    instance_day_fields,
    instance_day_keys,
    stored_hits,
    tracked,
)

pytestmark = pytest.mark.both_backends  # on the standalone Redis and the cluster


def visit(
    client,
    code: str,
    *,
    host: str = DOMAINS[0],
    ua: str = CHROME,
    referrer: str = "",
    method: str = "GET",
    ip: str = "203.0.113.7",
    **headers: str,
):
    """Request a short code the way a browser would, from `ip`."""
    all_headers = {"Host": host, "User-Agent": ua, **headers}
    if referrer:
        all_headers["Referer"] = referrer
    return client.open(
        f"/{code}", method=method, headers=all_headers, environ_base={"REMOTE_ADDR": ip}
    )


def link_hits(redis_client, link_id: int) -> list[dict[str, str]]:
    return stored_hits(redis_client, link_id)


def test_redirect_answers_302_with_private_cache_control(client, create_link):
    link = create_link(url="https://example.com/landing?x=1")
    response = visit(client, link["code"])
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.com/landing?x=1"
    assert response.headers["Cache-Control"] == "private, max-age=0"


@pytest.mark.parametrize("status", [301, 302, 307])
def test_redirect_uses_the_links_status(client, create_link, status):
    link = create_link(redirect_status=status)
    assert visit(client, link["code"]).status_code == status


def test_hit_is_stored_field_by_field(client, create_link, redis_client):
    link = create_link()
    long_referrer = "https://news.example.org/story?" + "q" * 2000
    long_ua = CHROME + " " + "x" * 600
    before = int(time.time() * 1000)
    visit(
        client,
        link["code"],
        ua=long_ua,
        referrer=long_referrer,
        **{"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"},
    )
    after = int(time.time() * 1000)
    entries = redis_client.xrange(TEST_KEYS.link_hits(link["id"]))
    assert len(entries) == 1
    assert before <= int(entries[0][0].split("-")[0]) <= after
    [hit] = stored_hits(redis_client, link["id"])
    assert hit["link"] == str(link["id"])
    assert hit["referrer"] == long_referrer[:1024]
    assert hit["ua"] == long_ua[:512]
    assert hit["lang"] == "fr-ch"
    assert len(hit["visitor"]) == 12 and int(hit["visitor"], 16) >= 0
    assert hit["kind"] == "human"
    assert hit["source"] == "referral"
    assert hit["channel"] == "example.org"
    assert hit["evidence"] == "referrer"
    assert hit["dark"] == "0"
    assert hit["browser"] == "Chrome"
    assert hit["os"] == "Windows"
    assert hit["device"] == "desktop"
    # The instance-wide stream holds the compact copy.
    assert [fields["link"] for fields in stored_hits(redis_client)] == [str(link["id"])]
    # Per-link per-day counters.
    day = day_fields(redis_client, TEST_KEYS.link_day(link["id"], day_of(before)))
    assert day["k:human"] == "1" and day["s:referral"] == "1" and "k:bot" not in day


def test_no_raw_ip_is_stored_anywhere(client, create_link, redis_client):
    link = create_link()
    visit(client, link["code"], ip="198.51.100.23")
    assert redis_client.keys("*")
    for key in redis_client.keys("*"):
        # DUMP serialises any type, so the address cannot hide in a stream, hash or string.
        raw = redis_client.execute_command("DUMP", key, NEVER_DECODE=True)
        assert b"198.51.100.23" not in raw, key


def test_visitor_hash_is_the_same_within_a_day_and_differs_by_visitor(
    client, create_link, redis_client
):
    link = create_link()
    visit(client, link["code"], ip="198.51.100.1")
    visit(client, link["code"], ip="198.51.100.1")
    visit(client, link["code"], ip="198.51.100.2")
    visitors = [hit["visitor"] for hit in link_hits(redis_client, link["id"])]
    assert visitors[0] == visitors[1] != visitors[2]


def test_clicks_show_in_the_link(client, auth, create_link):
    link = create_link()
    visit(client, link["code"])
    visit(client, link["code"], ua=GOOGLEBOT)
    clicks = client.get(f"/api/v1/links/{link['id']}", headers=auth).get_json()["clicks"]
    assert clicks == {"total": 2, "human": 1}


def test_head_is_answered_and_recorded_as_a_probe_never_a_click(client, create_link, redis_client):
    link = create_link(max_clicks=1)
    response = visit(client, link["code"], method="HEAD")
    assert response.status_code == 302
    assert response.headers["Location"] == link["url"]
    [probe] = link_hits(redis_client, link["id"])
    assert (probe["kind"], probe["source"], probe["dark"]) == ("bot", "-", "0")
    assert redis_client.hget(TEST_KEYS.link(link["id"]), "human") is None
    assert visit(client, link["code"]).status_code == 302  # the click budget is untouched


def test_head_of_an_unknown_code_counts_as_an_orphan(client, redis_client):
    assert visit(client, "nosuchcode", method="HEAD").status_code == 404
    today = day_of(int(time.time() * 1000))
    assert instance_day_fields(redis_client, today)["orphan"] == "1"


def test_unknown_code_is_a_404_page_counted_as_orphan(client, redis_client):
    response = visit(client, "nosuchcode")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    today = day_of(int(time.time() * 1000))
    assert instance_day_fields(redis_client, today)["orphan"] == "1"


def test_non_canonical_form_of_a_generated_code_is_unknown(client, app, create_link):
    link = create_link()
    codes = app.extensions["lumen"].codes
    assert codes.is_canonical(link["code"])
    # hashids decodes some other strings to the same number; they must not resolve.
    lookalikes = [link["code"] + "x", link["code"].swapcase(), link["code"][1:]]
    for lookalike in lookalikes:
        assert not codes.is_canonical(lookalike) or lookalike == link["code"]
        assert visit(client, lookalike).status_code == 404


def test_same_code_on_two_domains_goes_to_each_domains_target(client, create_link):
    create_link(slug="promo", domain=DOMAINS[0], url="https://one.example/")
    create_link(slug="promo", domain=DOMAINS[1], url="https://two.example/")
    assert visit(client, "promo", host=DOMAINS[0]).headers["Location"] == "https://one.example/"
    assert visit(client, "promo", host=DOMAINS[1]).headers["Location"] == "https://two.example/"


def test_a_code_on_another_domain_is_unknown_here(client, create_link):
    create_link(slug="only-alt", domain=DOMAINS[1])
    assert visit(client, "only-alt", host=DOMAINS[0]).status_code == 404


@pytest.mark.parametrize("path", ["/promo", "/", "/api/v1/links", "/dashboard"])
def test_unconfigured_host_gets_404_and_never_a_redirect(client, create_link, auth, path):
    create_link(slug="promo")
    response = client.get(path, headers={**auth, "Host": "evil.example"})
    assert response.status_code == 404
    assert "Location" not in response.headers


def test_host_header_is_matched_case_insensitively(client, create_link):
    create_link(slug="caps")
    assert visit(client, "caps", host=DOMAINS[0].upper()).status_code == 302


def test_expired_link_answers_410(client, auth, create_link, redis_client):
    link = create_link(expires_at="2999-01-01T00:00:00Z")
    assert visit(client, link["code"]).status_code == 302
    # Move the expiry into the past the way time would.
    redis_client.hset(TEST_KEYS.link(link["id"]), "expires_at", int(time.time() * 1000) - 1)
    response = visit(client, link["code"])
    assert response.status_code == 410
    assert "expiry" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, max-age=0"


def test_max_clicks_counts_only_human_clicks(client, create_link):
    link = create_link(max_clicks=2)
    assert visit(client, link["code"], ua=WHATSAPP_PREVIEW).status_code == 302
    assert visit(client, link["code"], ua=GOOGLEBOT).status_code == 302
    assert visit(client, link["code"]).status_code == 302
    assert visit(client, link["code"], method="HEAD").status_code == 302
    assert visit(client, link["code"]).status_code == 302
    response = visit(client, link["code"])
    assert response.status_code == 410
    assert "limited number" in response.get_data(as_text=True)


def test_edit_of_target_shows_at_once_despite_the_link_cache(client, auth, create_link):
    link = create_link(url="https://before.example/")
    assert visit(client, link["code"]).headers["Location"] == "https://before.example/"
    client.patch(
        f"/api/v1/links/{link['id']}", json={"url": "https://after.example/"}, headers=auth
    )
    assert visit(client, link["code"]).headers["Location"] == "https://after.example/"


def test_deleted_link_is_gone_even_when_another_worker_cached_it(
    app, client, auth, create_link, redis_client
):
    link = create_link(slug="cached")
    assert visit(client, "cached").status_code == 302
    # Delete behind this app's back, as another worker would: its cache still holds the code.
    redis_client.hdel(TEST_KEYS.codes("go.test"), "cached")
    redis_client.delete(TEST_KEYS.link(link["id"]))
    assert visit(client, "cached").status_code == 404
    assert app.extensions["lumen"].link_cache.get(DOMAINS[0], "cached") is None


def test_healthz_answers_on_any_host(client):
    assert client.get("/healthz", headers={"Host": "anything.example"}).status_code == 200
    assert client.get("/readyz", headers={"Host": "anything.example"}).status_code == 200


def test_bare_domain_sends_people_to_the_dashboard(client):
    response = client.get("/", headers={"Host": DOMAINS[0]})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")


def test_a_failure_to_record_still_redirects_and_is_counted(app, client, create_link, redis_client):
    link = create_link(url="https://example.com/still-works")
    visit(client, link["code"])  # caches the code
    redis_client.config_set("maxmemory", "1")  # Redis now refuses every write (noeviction)
    try:
        response = visit(client, link["code"])
    finally:
        redis_client.config_set("maxmemory", "0")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.com/still-works"
    assert app.extensions["lumen"].failures.total == 1
    assert len(link_hits(redis_client, link["id"])) == 1
    ready = client.get("/readyz", headers={"Host": DOMAINS[0]}).get_json()
    assert ready["record_failures"] == 1


def test_favicon_and_robots_are_answered_not_counted_as_orphans(client, redis_client):
    icon = client.get("/favicon.ico", headers={"Host": DOMAINS[0]})
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    robots = client.get("/robots.txt", headers={"Host": DOMAINS[0]})
    assert robots.status_code == 200 and "Disallow: /api/" in robots.get_data(as_text=True)
    assert not any(redis_client.hget(key, "orphan") for key in instance_day_keys(redis_client, "*"))


def test_a_slug_deleted_and_made_again_by_another_worker_follows_the_new_link(
    app, settings_overrides, client, auth, create_link
):
    from shortener.app import create_app

    create_link(slug="reuse", url="https://first.example/")
    assert (
        visit(client, "reuse").headers["Location"] == "https://first.example/"
    )  # cached by this worker
    other_worker = tracked(create_app(settings_overrides, environ=TEST_ENVIRON)).test_client()
    old = other_worker.get("/api/v1/links?q=first.example", headers=auth).get_json()["links"][0]
    assert other_worker.delete(f"/api/v1/links/{old['id']}", headers=auth).status_code == 204
    assert (
        other_worker.post(
            "/api/v1/links", json={"url": "https://second.example/", "slug": "reuse"}, headers=auth
        ).status_code
        == 201
    )
    assert visit(client, "reuse").headers["Location"] == "https://second.example/"


def test_non_ascii_targets_are_sent_as_ascii_uris(client, create_link):
    link = create_link(url="https://例え.jp/ページ?q=é")
    response = visit(client, link["code"])
    assert response.status_code == 302
    assert (
        response.headers["Location"]
        == "https://xn--r8jz45g.jp/%E3%83%9A%E3%83%BC%E3%82%B8?q=%C3%A9"
    )


def test_forwarded_host_and_address_count_only_behind_trusted_proxies(
    settings_overrides, create_link, redis_client
):
    from shortener.app import create_app

    create_link(slug="proxied", url="https://example.com/p")
    forwarded = {
        "Host": "internal:8080",
        "X-Forwarded-Host": DOMAINS[0],
        "X-Forwarded-For": "198.51.100.77",
        "User-Agent": CHROME,
    }
    untrusting = tracked(create_app(settings_overrides, environ=TEST_ENVIRON)).test_client()
    assert (
        untrusting.get("/proxied", headers=forwarded).status_code == 404
    )  # Host internal:8080 is not a domain
    trusting = tracked(
        create_app({**settings_overrides, "trusted_proxies": 1}, environ=TEST_ENVIRON)
    ).test_client()
    assert (
        trusting.get(
            "/proxied", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.1"}
        ).status_code
        == 302
    )
    direct = trusting.get(
        "/proxied",
        headers={"Host": DOMAINS[0], "User-Agent": CHROME, "X-Forwarded-For": "198.51.100.78"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert direct.status_code == 302
    visitors = [hit["visitor"] for hit in stored_hits(redis_client, 1)]
    # Same proxy address, two forwarded clients: two visitors.
    assert len(visitors) == 2 and visitors[0] != visitors[1]


def test_a_redirect_while_redis_is_down_answers_503_with_retry_after(settings_overrides, tmp_path):
    app = tracked(
        create_app(
            {**settings_overrides, "redis_url": f"unix://{tmp_path}/stopped-redis.sock"},
            environ=TEST_ENVIRON,
        )
    )
    response = app.test_client().get("/abc123", headers={"Host": DOMAINS[0]})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "try again in a few seconds" in response.get_data(as_text=True)


def test_the_api_while_redis_is_down_answers_503_as_a_problem(settings_overrides, tmp_path):
    app = tracked(
        create_app(
            {**settings_overrides, "redis_url": f"unix://{tmp_path}/stopped-redis.sock"},
            environ=TEST_ENVIRON,
        )
    )
    response = app.test_client().get(
        "/api/v1/links", headers={"Host": DOMAINS[0], "Authorization": "Bearer lum_x"}
    )
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Service Unavailable"


def test_non_ascii_user_agents_and_referrers_are_stored_as_sent(client, create_link, redis_client):
    link = create_link()
    user_agent, referrer = CHROME + " Ｐｒｏｂｅ＝1", "https://news.example.org/ünïcode＝"
    # A WSGI server hands headers over as Latin-1: the UTF-8 bytes a client sent, one per char.
    as_wsgi = {
        "HTTP_USER_AGENT": user_agent.encode().decode("latin-1"),
        "HTTP_REFERER": referrer.encode().decode("latin-1"),
        "REMOTE_ADDR": "203.0.113.7",
    }
    response = client.get(f"/{link['code']}", headers={"Host": DOMAINS[0]}, environ_base=as_wsgi)
    assert response.status_code == 302
    [hit] = link_hits(redis_client, link["id"])
    assert (hit["ua"], hit["referrer"]) == (user_agent, referrer)
