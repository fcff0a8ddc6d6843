"""The dashboard without a browser: sign-in, sessions, CSRF, pages, forms, escaping, headers."""

from __future__ import annotations

import re

import pytest

from shortener.apikeys import revoke_api_key
from tests.conftest import DOMAINS, write_instance_counts
from tests.routes.test_redirect import GOOGLEBOT, WHATSAPP_PREVIEW, visit

HOST = {"Host": DOMAINS[0]}
HOSTILE_TITLE = '<script>window.pwned=1</script>"><img src=x onerror=alert(1)>'
HOSTILE_REFERRER = 'https://evil.example/"><img src=x onerror=alert(2)>'
HOSTILE_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 "
    "Safari/537.36 <script>alert(3)</script>"
)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, api_key: str, next_path: str = "/dashboard/"):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/dashboard/login", headers=HOST).get_data(as_text=True))
    return client.post(
        "/dashboard/login",
        data={"csrf_token": token, "api_key": api_key, "next": next_path},
        headers=HOST,
    )


@pytest.fixture
def signed_in(client, api_key):  # type: ignore[no-untyped-def]
    assert sign_in(client, api_key).status_code == 302
    return client


def page(client, path: str):  # type: ignore[no-untyped-def]
    response = client.get(path, headers=HOST)
    return response, response.get_data(as_text=True)


def test_pages_need_a_sign_in(client):
    response = client.get("/dashboard/links?q=x", headers=HOST)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/login?next=/dashboard/links?q%3Dx"
    assert client.get("/dashboard/?partial=1", headers=HOST).status_code == 401


def test_sign_in_sets_a_safe_session_cookie_and_goes_back(client, api_key):
    response = sign_in(client, api_key, "/dashboard/links")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/links"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert api_key not in cookie  # only the key's hash is kept
    assert client.get("/dashboard/links", headers=HOST).status_code == 200


def test_session_cookie_is_secure_over_https(client, api_key):
    token = csrf_of(
        client.get("/dashboard/login", headers=HOST, base_url=f"https://{DOMAINS[0]}").get_data(
            as_text=True
        )
    )
    response = client.post(
        "/dashboard/login",
        data={"csrf_token": token, "api_key": api_key},
        headers=HOST,
        base_url=f"https://{DOMAINS[0]}",
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_wrong_key_is_refused_with_a_message(client):
    response = sign_in(client, "lum_not-a-key")
    assert response.status_code == 401
    assert "This is not a valid API key" in response.get_data(as_text=True)
    assert client.get("/dashboard/", headers=HOST).status_code == 302


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/dashboard", "/\\evil.example", "/api/v1/links"],
)
def test_next_never_leaves_the_dashboard(client, api_key, target):
    response = sign_in(client, api_key, target)
    assert response.headers["Location"] == "/dashboard/"


def test_posts_without_the_csrf_token_are_refused(client, api_key, signed_in):
    assert (
        client.post("/dashboard/login", data={"api_key": api_key}, headers=HOST).status_code == 400
    )
    response = client.post("/dashboard/links", data={"url": "https://example.com/x"}, headers=HOST)
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    response = client.post("/dashboard/logout", data={"csrf_token": "forged"}, headers=HOST)
    assert response.status_code == 400
    response = client.post("/dashboard/logout", data={"csrf_token": "\u00e9t\u00e9"}, headers=HOST)
    assert response.status_code == 400  # not a 500: non-ASCII is compared as bytes
    assert client.get("/dashboard/", headers=HOST).status_code == 200  # still signed in


def test_sign_out_ends_the_session(signed_in):
    _, html = page(signed_in, "/dashboard/")
    response = signed_in.post("/dashboard/logout", data={"csrf_token": csrf_of(html)}, headers=HOST)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/login"
    assert signed_in.get("/dashboard/", headers=HOST).status_code == 302


def test_sign_out_ends_the_session_on_the_server_for_a_copied_cookie(app, signed_in):
    copy = app.test_client()
    cookie = signed_in.get_cookie("session", domain=DOMAINS[0])
    copy.set_cookie("session", cookie.value, domain=DOMAINS[0])
    assert copy.get("/dashboard/", headers=HOST).status_code == 200
    _, html = page(signed_in, "/dashboard/")
    signed_in.post("/dashboard/logout", data={"csrf_token": csrf_of(html)}, headers=HOST)
    assert copy.get("/dashboard/", headers=HOST).status_code == 302


def test_sign_in_is_kept_in_redis_for_the_session_lifetime(signed_in, redis_client):
    (key,) = redis_client.keys("lumen:signin:*")
    assert 11 * 3600 < redis_client.ttl(key) <= 12 * 3600


@pytest.mark.parametrize(
    "next_path",
    ["/dashboard/\r\nSet-Cookie: x=1", "/dashboard/\nX: y", "/dashboard/\t", "/dashboard/ a"],
    ids=["crlf", "lf", "tab", "space"],
)
def test_a_next_with_controls_goes_to_the_overview(client, api_key, next_path):
    response = sign_in(client, api_key, next_path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


def test_revoking_the_key_ends_its_sessions(signed_in, redis_client, keys):
    revoke_api_key(redis_client, keys, "tester")
    assert signed_in.get("/dashboard/", headers=HOST).status_code == 302


def test_overview_shows_the_figures_of_hits_sent(signed_in, create_link):
    link = create_link(title="Launch")
    visit(signed_in, link["code"], ip="198.51.100.1")  # dark
    visit(signed_in, link["code"], ip="198.51.100.2")  # dark
    visit(signed_in, link["code"], referrer="https://l.facebook.com/", ip="198.51.100.3")  # social
    visit(signed_in, link["code"], referrer="https://www.google.com/", ip="198.51.100.4")  # search
    visit(signed_in, link["code"], ua=WHATSAPP_PREVIEW)
    visit(signed_in, link["code"], ua=GOOGLEBOT)
    write_instance_counts()  # the instance-wide counts, as the worker writes them each second
    response, html = page(signed_in, "/dashboard/?range=7")
    assert response.status_code == 200
    assert 'data-figure="dark-share">50 %<' in html
    assert 'data-figure="dark-public-ratio">2.0 : 1<' in html
    assert 'data-figure="human">4<' in html and 'data-figure="previews">1<' in html
    assert 'data-figure="bots">1<' in html
    assert html.count("<g data-day=") == 7
    assert re.search(r'<g data-day="[0-9-]+" data-total="4">', html)  # today's stacked column
    assert "Launch" in html  # top links


def test_partial_is_only_the_live_figures(signed_in):
    response, html = page(signed_in, "/dashboard/?partial=1")
    assert response.status_code == 200
    assert "<html" not in html and 'data-figure="dark-share"' in html


@pytest.mark.parametrize("query", ["from=2026-02-30", "from=2026-03-05&to=2026-03-01", "range=12"])
def test_a_bad_range_is_a_422_with_the_reason_shown(signed_in, query):
    response, html = page(signed_in, f"/dashboard/?{query}")
    assert response.status_code == 422
    assert 'class="field-error" role="alert"' in html
    assert html.count("<g data-day=") == 30  # the default range is shown instead


def test_custom_range(signed_in):
    _, html = page(signed_in, "/dashboard/?from=2026-01-01&to=2026-01-10")
    assert html.count("<g data-day=") == 10 and 'data-day="2026-01-01"' in html


def test_create_link_form_creates_and_opens_the_link(signed_in, redis_client):
    _, html = page(signed_in, "/dashboard/links")
    response = signed_in.post(
        "/dashboard/links",
        headers=HOST,
        data={
            "csrf_token": csrf_of(html),
            "url": "https://example.com/new",
            "title": "New one",
            "slug": "new-one",
            "domain": DOMAINS[1],
            "tags": "a, b",
            "expires_at": "2099-01-01T10:00",
        },
    )
    assert response.status_code == 302
    _, detail = page(signed_in, response.headers["Location"])
    assert "New one" in detail and f"https://{DOMAINS[1]}/new-one" in detail
    assert "expires 2099-01-01 10:00:00" in detail
    assert '<svg viewBox="0 0 ' in detail and 'class="segno"' in detail  # the QR code


@pytest.mark.parametrize(
    "fields, field, status, message",
    [
        ({"url": "ftp://example.com/x"}, "url", 422, "must start with http"),
        ({"url": "https://example.com/x", "slug": "bad slug!"}, "slug", 422, "slug"),
        ({"url": "https://example.com/x", "slug": "api"}, "slug", 422, "reserved"),
        (
            {"url": "https://example.com/x", "expires_at": "2001-01-01T00:00"},
            "expires_at",
            422,
            "in the future",
        ),
        (
            {"url": "https://example.com/x", "domain": "evil.example"},
            "domain",
            422,
            "domain must be one of",
        ),
    ],
    ids=["url", "slug", "reserved-slug", "expiry", "domain"],
)
def test_create_link_errors_show_next_to_their_field(signed_in, fields, field, status, message):
    _, html = page(signed_in, "/dashboard/links")
    response = signed_in.post(
        "/dashboard/links", headers=HOST, data={"csrf_token": csrf_of(html), **fields}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == status
    error = re.search(
        rf'<p class="field-error" id="f-{field}-error" role="alert">([^<]+)</p>', body
    )
    assert error and message in error.group(1)
    assert f'aria-describedby="f-{field}-error"' in body
    assert f'value="{fields["url"]}"' in body  # what was typed is kept


def test_a_taken_slug_is_a_409_next_to_the_slug(signed_in, create_link):
    create_link(slug="taken")
    _, html = page(signed_in, "/dashboard/links")
    response = signed_in.post(
        "/dashboard/links",
        headers=HOST,
        data={"csrf_token": csrf_of(html), "url": "https://example.com/x", "slug": "taken"},
    )
    assert response.status_code == 409
    assert 'id="f-slug-error"' in response.get_data(as_text=True)


def test_link_list_searches_filters_and_sorts(signed_in, create_link):
    create_link(title="Alpha", tags=["x"])
    beta = create_link(title="Beta", tags=["y"])
    visit(signed_in, beta["code"])
    _, html = page(signed_in, "/dashboard/links?sort=clicks")
    assert html.index(">Beta<") < html.index(">Alpha<")
    _, html = page(signed_in, "/dashboard/links?sort=title")
    assert html.index(">Alpha<") < html.index(">Beta<")
    _, html = page(signed_in, "/dashboard/links?q=alp")
    assert ">Alpha<" in html and ">Beta<" not in html
    _, html = page(signed_in, "/dashboard/links?tag=y")
    assert ">Beta<" in html and ">Alpha<" not in html
    assert 'class="copy" data-copy="https://go.test/' in html


def test_share_variants_are_added_and_listed_with_their_clicks(signed_in, create_link):
    link = create_link()
    _, html = page(signed_in, f"/dashboard/links/{link['id']}")
    token = csrf_of(html)
    response = signed_in.post(
        f"/dashboard/links/{link['id']}/variants",
        headers=HOST,
        data={"csrf_token": token, "channel": "whatsapp"},
    )
    assert response.status_code == 302
    _, html = page(signed_in, f"/dashboard/links/{link['id']}")
    code = re.search(
        (
            r'<tr data-channel="whatsapp"><td>whatsapp</td>\s*<td '
            r'class="copy-cell"><code>https://go.test/(\w+)</code>'
        ),
        html,
    ).group(1)
    visit(signed_in, code)
    visit(signed_in, code, ip="198.51.100.9")
    _, html = page(signed_in, f"/dashboard/links/{link['id']}?partial=1")
    row = re.search(r'<tr data-channel="whatsapp">.*?</tr>', html, re.S).group(0)
    assert re.findall(r'<td class="n">(\d+)</td>', row) == ["2", "0", "0"]
    response = signed_in.post(
        f"/dashboard/links/{link['id']}/variants",
        headers=HOST,
        data={"csrf_token": token, "channel": "myspace"},
    )
    assert response.status_code == 422 and 'id="channel-error"' in response.get_data(as_text=True)


def test_unknown_link_is_a_404_page(signed_in):
    response, html = page(signed_in, "/dashboard/links/999")
    assert response.status_code == 404 and "<html" in html


def test_hostile_title_referrer_and_user_agent_are_escaped(signed_in, create_link):
    link = create_link(title=HOSTILE_TITLE)
    visit(signed_in, link["code"], ua=HOSTILE_UA, referrer=HOSTILE_REFERRER)
    write_instance_counts()  # the instance-wide counts, as the worker writes them each second
    for path in (f"/dashboard/links/{link['id']}", "/dashboard/links", "/dashboard/"):
        _, html = page(signed_in, path)
        assert (
            "<script>window.pwned" not in html
            and "<img src=x" not in html
            and "<script>alert" not in html
        )
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    _, html = page(signed_in, f"/dashboard/links/{link['id']}")
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # the referrer, shown as text
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html  # the user-agent, shown as text


def test_dashboard_pages_carry_a_strict_policy_and_only_local_assets(signed_in, create_link):
    link = create_link()
    signed_out = signed_in.application.test_client()
    for client, path in (
        (signed_in, "/dashboard/"),
        (signed_in, "/dashboard/links"),
        (signed_in, f"/dashboard/links/{link['id']}"),
        (signed_out, "/dashboard/login"),
    ):
        response, html = page(client, path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["Cache-Control"] == "no-store"
        assets = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
        assert assets and all(asset.startswith("/static/") for asset in assets), assets
        assert (
            "<script>" not in html and " style=" not in html
        )  # nothing inline for the policy to block
    for asset in ("dashboard.css", "dashboard.js", "favicon.svg"):
        assert signed_in.get(f"/static/{asset}", headers=HOST).status_code == 200


def test_dashboard_answers_only_on_configured_domains(client, api_key):
    assert client.get("/dashboard/login", headers={"Host": "evil.example"}).status_code == 404
