"""Without LUMEN_DOMAINS, localhost and 127.0.0.1 of a port are one domain; configured, apart."""

from __future__ import annotations

import pytest

import config
from tests.routes.test_redirect import visit

PORT = 18100
LOCAL, LOOPBACK = f"localhost:{PORT}", f"127.0.0.1:{PORT}"


def test_settings_name_the_alias_only_without_configured_domains():
    assert config.from_env({"PORT": str(PORT)}).domain_aliases == {LOOPBACK: LOCAL}
    assert config.from_env({"PORT": str(PORT)}).link_domains == (LOCAL,)
    configured = config.from_env({"LUMEN_DOMAINS": f"{LOCAL},{LOOPBACK}"})
    assert configured.domain_aliases == {} and configured.link_domains == (LOCAL, LOOPBACK)


@pytest.fixture
def local_client(make_app, api_key):  # type: ignore[no-untyped-def]
    return make_app(domains=(), default_domain="", port=PORT).test_client()


@pytest.mark.parametrize("made_on", [LOCAL, LOOPBACK])
def test_a_link_made_on_either_name_resolves_on_both(local_client, api_key, made_on):
    headers = {"Authorization": f"Bearer {api_key}", "Host": made_on}
    response = local_client.post(
        "/api/v1/links", json={"url": "https://example.com/l"}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    link = response.get_json()
    assert link["domain"] == LOCAL and link["short_url"] == f"http://{LOCAL}/{link['code']}"
    for host in (LOCAL, LOOPBACK):
        answer = visit(local_client, link["code"], host=host)
        assert answer.status_code == 302 and answer.headers["Location"] == "https://example.com/l"
    explicit = local_client.post(
        "/api/v1/links", json={"url": "https://example.com/m", "domain": LOOPBACK}, headers=headers
    )
    assert explicit.get_json()["domain"] == LOCAL
    listed = local_client.get(f"/api/v1/links?domain={LOOPBACK}", headers=headers).get_json()
    assert len(listed["links"]) == 2


def test_configured_domains_stay_apart(make_app, api_key):
    client = make_app(domains=(LOCAL, LOOPBACK), default_domain=LOCAL).test_client()
    headers = {"Authorization": f"Bearer {api_key}", "Host": LOCAL}
    link = client.post(
        "/api/v1/links", json={"url": "https://example.com/a"}, headers=headers
    ).get_json()
    assert visit(client, link["code"], host=LOCAL).status_code == 302
    assert visit(client, link["code"], host=LOOPBACK).status_code == 404
