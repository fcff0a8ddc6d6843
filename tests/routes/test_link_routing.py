"""Where a link sends each visitor: UTM and query forwarding, UTM from attribution, device
targets, split destinations, custom previews, passwords, and per-domain pages (issue 15)."""

from __future__ import annotations

from collections import Counter

import pytest

from shortener.app import create_app
from shortener.hits.recording import day_of
from shortener.links import CREATE_FIELDS, EDITABLE_FIELDS, now_ms
from tests.agents import IPHONE
from tests.conftest import DOMAINS, tracked
from tests.routes.test_redirect import CHROME, GOOGLEBOT, WHATSAPP_PREVIEW, visit

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
APP_STORE = "https://apps.apple.com/app/id1"
PLAY = "https://play.google.com/store/apps/details?id=x"


def link_day(redis_client, keys, link_id: int) -> dict[str, str]:
    return redis_client.hgetall(keys.link_day(link_id, day_of(now_ms())))


def variant_code(client, auth, link_id: int, channel: str) -> str:
    response = client.post(
        f"/api/v1/links/{link_id}/variants", json={"channel": channel}, headers=auth
    )
    return response.get_json()["code"]


# --- 1. UTM and query forwarding ---------------------------------------------------------------


def test_utm_and_the_short_links_query_are_merged_into_the_target(client, create_link):
    link = create_link(
        url="https://example.com/p?utm_campaign=own",
        utm={"source": "newsletter", "medium": "email", "campaign": "ignored"},
    )
    response = visit(client, f"{link['code']}?ref=abc&utm_source=other")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "https://example.com/p?utm_campaign=own&utm_source=newsletter&utm_medium=email&ref=abc"
    )
    assert link["utm"] == {"source": "newsletter", "medium": "email", "campaign": "ignored"}
    assert link["forward_query"] is True


def test_forward_query_false_drops_the_short_links_query(client, create_link):
    link = create_link(url="https://example.com/p", forward_query=False)
    assert visit(client, f"{link['code']}?ref=abc").headers["Location"] == "https://example.com/p"


def test_utm_can_be_edited_and_removed(client, auth, create_link):
    link = create_link(url="https://example.com/p", utm={"source": "a"})
    patched = client.patch(f"/api/v1/links/{link['id']}", json={"utm": None}, headers=auth)
    assert patched.get_json()["utm"] == {}
    assert visit(client, link["code"]).headers["Location"] == "https://example.com/p"


# --- 2. UTM from Lumen's attribution -----------------------------------------------------------


def test_utm_from_attribution_names_the_share_variants_channel(client, auth, create_link):
    link = create_link(url="https://example.com/p", utm_from_attribution=True)
    code = variant_code(client, auth, link["id"], "whatsapp")
    assert visit(client, code).headers["Location"] == (
        "https://example.com/p?utm_source=whatsapp&utm_medium=messaging"
    )


def test_the_links_own_utm_wins_over_attribution(client, auth, create_link):
    link = create_link(
        url="https://example.com/p", utm={"source": "poster"}, utm_from_attribution=True
    )
    code = variant_code(client, auth, link["id"], "sms")
    assert visit(client, code).headers["Location"] == (
        "https://example.com/p?utm_source=poster&utm_medium=messaging"
    )


def test_utm_from_attribution_is_off_unless_asked(client, auth, create_link):
    link = create_link(url="https://example.com/p")
    code = variant_code(client, auth, link["id"], "whatsapp")
    assert visit(client, code).headers["Location"] == "https://example.com/p"


def test_the_instance_default_applies_to_links_that_do_not_say(settings_overrides, redis_client):
    app = tracked(create_app({**settings_overrides, "utm_from_attribution": True}))
    ctx = app.extensions["lumen"]
    default = ctx.links.create({"url": "https://example.com/p"})
    opted_out = ctx.links.create({"url": "https://example.com/q", "utm_from_attribution": False})
    client = app.test_client()
    referred = {"referrer": "https://l.facebook.com/l.php?u=x"}
    assert visit(client, default.code, **referred).headers["Location"] == (
        "https://example.com/p?utm_source=facebook&utm_medium=social"
    )
    assert visit(client, opted_out.code, **referred).headers["Location"] == "https://example.com/q"


# --- 3. Device targets -------------------------------------------------------------------------


def test_device_targets_send_each_os_to_its_store_and_count_per_target(
    client, create_link, redis_client, keys
):
    link = create_link(url="https://example.com/app", targets={"ios": APP_STORE, "android": PLAY})
    assert visit(client, link["code"], ua=IPHONE).headers["Location"] == APP_STORE
    assert visit(client, link["code"], ua=ANDROID, ip="203.0.113.8").headers["Location"] == PLAY
    desktop = visit(client, link["code"], ua=CHROME, ip="203.0.113.9")
    assert desktop.headers["Location"] == "https://example.com/app"
    visit(client, link["code"], ua=GOOGLEBOT)  # a bot is not a click of any destination
    day = link_day(redis_client, keys, link["id"])
    assert {k: v for k, v in day.items() if k.startswith("dst:")} == {
        "dst:ios": "1",
        "dst:android": "1",
        "dst:default": "1",
    }
    assert link["targets"] == {"android": PLAY, "ios": APP_STORE}


def test_device_targets_show_in_the_links_stats(client, auth, create_link):
    link = create_link(url="https://example.com/app", targets={"ios": APP_STORE})
    visit(client, link["code"], ua=IPHONE)
    visit(client, link["code"], ua=IPHONE, ip="203.0.113.50")
    stats = client.get(f"/api/v1/links/{link['id']}/stats", headers=auth).get_json()
    assert stats["breakdowns"]["destinations"] == [{"name": "ios", "count": 2}]


def test_an_edit_of_the_targets_elsewhere_is_seen_by_a_worker_that_cached_the_code(
    app, client, create_link, redis_client, keys
):
    link = create_link(url="https://example.com/app", targets={"ios": APP_STORE})
    visit(client, link["code"], ua=IPHONE)  # this worker now has the code in memory
    # as another worker would: this worker's cache still has the old targets
    app.extensions["lumen"].links.update(link["id"], {"targets": {"ios": PLAY}})
    redis_client.config_resetstat()
    assert visit(client, link["code"], ua=IPHONE).headers["Location"] == PLAY
    calls = redis_client.info("commandstats")
    script_runs = sum(v["calls"] for k, v in calls.items() if k.startswith("cmdstat_evalsha"))
    assert script_runs == 2  # the stale choice refused, the fresh one recorded
    assert link_day(redis_client, keys, link["id"])["dst:ios"] == "2"


# --- 4. Split destinations ---------------------------------------------------------------------


def test_split_is_stable_per_visitor_and_follows_the_weights(
    client, auth, create_link, redis_client, keys
):
    a, b = "https://a.example.com/", "https://b.example.com/"
    link = create_link(url=a, split=[{"url": a, "weight": 1}, {"url": b, "weight": 1}])
    locations = Counter()
    for n in range(60):
        ip = f"198.51.100.{n}"
        first = visit(client, link["code"], ip=ip).headers["Location"]
        assert visit(client, link["code"], ip=ip).headers["Location"] == first
        locations[first] += 1
    assert set(locations) == {a, b}
    day = link_day(redis_client, keys, link["id"])
    assert int(day[f"dst:{a}"]) == 2 * locations[a]
    assert int(day[f"dst:{b}"]) == 2 * locations[b]
    stats = client.get(f"/api/v1/links/{link['id']}/stats", headers=auth).get_json()
    assert {row["name"]: row["count"] for row in stats["breakdowns"]["destinations"]} == {
        a: 2 * locations[a],
        b: 2 * locations[b],
    }
    assert link["split"] == [{"url": a, "weight": 1}, {"url": b, "weight": 1}]


# --- 5. Custom previews ------------------------------------------------------------------------


def test_preview_robots_get_the_links_own_preview_and_count_as_shares(
    client, create_link, redis_client, keys
):
    link = create_link(
        url="https://example.com/secret-target",
        preview={
            "title": 'Spring <sale> & "more"',
            "description": "Half off",
            "image": "https://cdn.example.com/card.png",
        },
    )
    response = visit(client, link["code"], ua=WHATSAPP_PREVIEW)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert '<meta property="og:title" content="Spring &lt;sale&gt; &amp; &#34;more&#34;">' in page
    assert '<meta property="og:image" content="https://cdn.example.com/card.png">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    assert f'<meta property="og:url" content="https://{DOMAINS[0]}/{link["code"]}">' in page
    assert "secret-target" not in page
    assert link_day(redis_client, keys, link["id"])["p:whatsapp"] == "1"
    human = visit(client, link["code"])
    assert human.headers["Location"] == "https://example.com/secret-target"


def test_without_a_custom_preview_robots_follow_the_redirect(client, create_link):
    link = create_link(url="https://example.com/p")
    assert visit(client, link["code"], ua=WHATSAPP_PREVIEW).status_code == 302


# --- 6. Passwords ------------------------------------------------------------------------------


def unlock(client, code: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        f"/{code}",
        data={"password": password},
        headers={"Host": DOMAINS[0], "User-Agent": CHROME},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_a_protected_link_shows_a_form_and_counts_only_once_unlocked(
    client, create_link, redis_client, keys
):
    link = create_link(
        url="https://example.com/members", password="open sesame", utm={"source": "x"}
    )
    assert link["password_protected"] is True
    assert "password" not in link
    form = visit(client, f"{link['code']}?ref=1")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert f'action="/{link["code"]}?ref=1"' in page
    assert "example.com/members" not in page
    assert redis_client.hget(keys.link(link["id"]), "human") is None
    wrong = unlock(client, f"{link['code']}?ref=1", "nope")
    assert wrong.status_code == 403
    assert "not right" in wrong.get_data(as_text=True)
    right = unlock(client, f"{link['code']}?ref=1", "open sesame")
    assert right.status_code == 303
    assert right.headers["Location"] == "https://example.com/members?utm_source=x&ref=1"
    assert redis_client.hget(keys.link(link["id"]), "human") == "1"
    stored = redis_client.hget(keys.link(link["id"]), "password")
    assert stored and "open sesame" not in stored


def test_previews_and_bots_never_get_a_protected_target(client, create_link):
    link = create_link(url="https://example.com/members", password="open sesame")
    for ua in (WHATSAPP_PREVIEW, GOOGLEBOT):
        response = visit(client, link["code"], ua=ua)
        assert response.status_code == 200
        assert "Location" not in response.headers
        assert "example.com/members" not in response.get_data(as_text=True)


def test_wrong_guesses_are_limited_per_address(settings_overrides, redis_client):
    app = tracked(create_app({**settings_overrides, "password_guess_limit": "3 per hour"}))
    link = app.extensions["lumen"].links.create(
        {"url": "https://example.com/m", "password": "open sesame"}
    )
    client = app.test_client()
    assert [unlock(client, link.code, "guess").status_code for _ in range(4)] == [403] * 3 + [429]
    assert unlock(client, link.code, "open sesame").status_code == 429  # even the right one
    assert unlock(client, link.code, "open sesame", ip="198.51.100.1").status_code == 303


def test_a_password_can_be_removed(client, auth, create_link):
    link = create_link(url="https://example.com/m", password="open sesame")
    patched = client.patch(f"/api/v1/links/{link['id']}", json={"password": None}, headers=auth)
    assert patched.get_json()["password_protected"] is False
    assert visit(client, link["code"]).headers["Location"] == "https://example.com/m"


# --- Validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"utm": {"source": "a", "color": "red"}}, "color"),
        ({"utm": "source=a"}, "utm"),
        ({"utm": {"source": "a\nb"}}, "utm.source"),
        ({"forward_query": "no"}, "forward_query"),
        ({"utm_from_attribution": 1}, "utm_from_attribution"),
        ({"targets": {"ios": "ftp://x"}}, "targets.ios"),
        ({"targets": {"symbian": "https://x.example"}}, "symbian"),
        ({"targets": {"ios": f"https://{DOMAINS[1]}/loop"}}, "targets.ios"),
        ({"split": [{"url": "https://a.example/"}]}, "split"),
        ({"split": [{"url": "https://a.example/"}, {"url": "https://a.example/"}]}, "split"),
        (
            {"split": [{"url": "https://a.example/", "weight": 0}, {"url": "https://b.example/"}]},
            "split[0].weight",
        ),
        ({"preview": {"description": "no title"}}, "preview.title"),
        ({"preview": {"title": "t", "image": "javascript:alert(1)"}}, "preview.image"),
        ({"password": "abc"}, "password"),
    ],
    ids=[
        "utm-unknown-name",
        "utm-not-object",
        "utm-control-char",
        "forward-query-not-bool",
        "utm-from-attribution-not-bool",
        "target-not-http",
        "target-unknown-key",
        "target-loops-back",
        "split-of-one",
        "split-same-url-twice",
        "split-zero-weight",
        "preview-without-title",
        "preview-image-not-http",
        "password-too-short",
    ],
)
def test_bad_routing_fields_get_a_clear_problem_and_store_nothing(
    client, auth, redis_client, keys, fields, field
):
    response = client.post(
        "/api/v1/links", json={"url": "https://example.com/", **fields}, headers=auth
    )
    assert response.status_code in (400, 422)
    assert response.content_type == "application/problem+json"
    assert response.get_json()["field"] == field
    assert redis_client.get(keys.sequence()) is None


# --- 10. Per-domain pages ----------------------------------------------------------------------


def test_domain_pages_send_the_bare_domain_and_unknown_codes_where_set(client, auth):
    listed = client.get("/api/v1/domains", headers=auth).get_json()
    assert listed["domains"][0] == {"domain": DOMAINS[0], "root_url": None, "not_found_url": None}
    assert client.get("/", headers={"Host": DOMAINS[0]}).headers["Location"] == "/dashboard"
    response = client.patch(
        f"/api/v1/domains/{DOMAINS[0]}",
        json={"root_url": "https://brand.example/", "not_found_url": "https://brand.example/404"},
        headers=auth,
    )
    assert response.status_code == 200
    assert client.get("/", headers={"Host": DOMAINS[0]}).headers["Location"] == (
        "https://brand.example/"
    )
    unknown = visit(client, "nosuchcode")
    assert unknown.status_code == 302
    assert unknown.headers["Location"] == "https://brand.example/404"
    other = visit(client, "nosuchcode", host=DOMAINS[1])
    assert other.status_code == 404  # the other domain keeps Lumen's pages
    client.patch(f"/api/v1/domains/{DOMAINS[0]}", json={"not_found_url": None}, headers=auth)
    assert visit(client, "nosuchcode").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (f"/api/v1/domains/{DOMAINS[0]}", {"root_url": "not a url"}, 422),
        (f"/api/v1/domains/{DOMAINS[0]}", {"root_url": f"https://{DOMAINS[0]}/x"}, 422),
        (f"/api/v1/domains/{DOMAINS[0]}", {"home": "https://brand.example/"}, 422),
        ("/api/v1/domains/elsewhere.test", {"root_url": "https://brand.example/"}, 404),
    ],
    ids=["not-a-url", "loops-back", "unknown-field", "unknown-domain"],
)
def test_bad_domain_pages_are_refused(client, auth, path, body, status):
    response = client.patch(path, json=body, headers=auth)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"


def test_the_openapi_document_describes_every_link_field(client, create_link):
    document = client.get("/api/v1/openapi.json", headers={"Host": DOMAINS[0]}).get_json()
    create = document["paths"]["/links"]["post"]["requestBody"]["content"]["application/json"]
    assert set(create["schema"]["properties"]) == set(CREATE_FIELDS)
    edit = document["paths"]["/links/{link_id}"]["patch"]["requestBody"]["content"]
    assert set(edit["application/json"]["schema"]["properties"]) == set(EDITABLE_FIELDS)
    shown = document["paths"]["/links/{link_id}"]["get"]["responses"]["200"]["content"]
    assert set(shown["application/json"]["schema"]["properties"]) == set(create_link())
    assert "/domains" in document["paths"] and "/domains/{domain}" in document["paths"]


def test_an_oversized_password_form_is_refused(client, create_link):
    link = create_link(url="https://example.com/m", password="open sesame")
    assert unlock(client, link["code"], "x" * 10_000).status_code == 413
