"""Publishers: public keys bound to origins, through the domain functions and the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from shortener.errors import Conflict, InvalidInput, NotFound
from shortener.publishers import (
    create_publisher,
    find_publisher,
    is_publisher_origin,
    list_publishers,
    revoke_publisher,
    validate_origin,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://site.example", "https://site.example"),
        ("https://Site.Example/", "https://site.example"),
        ("https://site.example:443", "https://site.example"),
        ("http://site.example:80", "http://site.example"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
    ids=[
        "plain",
        "case-and-slash",
        "default-https-port",
        "default-http-port",
        "port-kept",
        "idn-as-punycode",
    ],
)
def test_origins_are_normalised_as_browsers_send_them(given, origin):
    assert validate_origin(given) == origin


@pytest.mark.parametrize(
    "given",
    [
        "site.example",
        "ftp://site.example",
        "https://site.example/news",
        "https://site.example/?a=1",
        "https://user@site.example",
        "https://",
        "*",
        "",
        None,
        42,
    ],
    ids=[
        "no-scheme",
        "ftp",
        "path",
        "query",
        "credentials",
        "no-host",
        "wildcard",
        "empty",
        "none",
        "number",
    ],
)
def test_what_is_not_an_origin_is_refused(given):
    with pytest.raises(InvalidInput):
        validate_origin(given)


def test_create_find_list_and_revoke(redis_client, keys):
    news = create_publisher(
        redis_client,
        keys,
        "news",
        ["https://news.example", "https://NEWS.example/", "https://amp.news.example"],
        5,
    )
    assert news.key.startswith("lpk_") and len(news.key) > 20
    assert news.origins == ("https://news.example", "https://amp.news.example")
    assert find_publisher(redis_client, keys, news.key) == news
    blog = create_publisher(redis_client, keys, "blog", ["http://localhost:4000"], 6)
    assert [p.name for p in list_publishers(redis_client, keys)] == ["news", "blog"]
    assert news.allows("https://amp.news.example") and not news.allows("https://evil.example")
    assert not news.allows(None) and not news.allows("null")
    assert is_publisher_origin(redis_client, keys, "http://localhost:4000")
    assert not is_publisher_origin(redis_client, keys, "http://localhost:4001")
    revoke_publisher(redis_client, keys, "news")
    assert find_publisher(redis_client, keys, news.key) is None
    assert [p.name for p in list_publishers(redis_client, keys)] == ["blog"]
    assert find_publisher(redis_client, keys, blog.key) == blog


@pytest.mark.parametrize(
    "key",
    [None, 42, "", "lpk_", "lum_" + "a" * 30, "lpk_" + "a" * 30, "lpk_" + "é" * 20],
    ids=["none", "number", "empty", "bare-prefix", "api-key", "unknown", "non-ascii"],
)
def test_anything_but_a_live_key_finds_no_publisher(redis_client, keys, key):
    create_publisher(redis_client, keys, "news", ["https://news.example"], 1)
    assert find_publisher(redis_client, keys, key) is None


def test_bad_names_duplicates_and_missing_origins_are_refused(redis_client, keys):
    with pytest.raises(InvalidInput):
        create_publisher(redis_client, keys, "has space", ["https://a.example"], 1)
    with pytest.raises(InvalidInput):
        create_publisher(redis_client, keys, "x" * 41, ["https://a.example"], 1)
    with pytest.raises(InvalidInput):
        create_publisher(redis_client, keys, "none", [], 1)
    create_publisher(redis_client, keys, "news", ["https://a.example"], 1)
    with pytest.raises(Conflict):
        create_publisher(redis_client, keys, "news", ["https://b.example"], 2)
    with pytest.raises(NotFound):
        revoke_publisher(redis_client, keys, "nobody")


def test_rate_limit_setting():
    assert config.from_env({}).embed_rate_limit == "120 per minute"
    assert (
        config.from_env({"LUMEN_EMBED_RATE_LIMIT": "10/second; 1000 per hour"}).embed_rate_limit
        == "10/second; 1000 per hour"
    )
    with pytest.raises(config.SettingsError, match="LUMEN_EMBED_RATE_LIMIT"):
        config.from_env({"LUMEN_EMBED_RATE_LIMIT": "lots"})


def test_cli_create_prints_the_key_alone_on_its_last_line(run_cli, redis_client, keys):
    result = run_cli(
        "publishers",
        "create",
        "news",
        "--origin",
        "https://news.example",
        "--origin",
        "https://amp.news.example",
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("lpk_") and " " not in key
    publisher = find_publisher(redis_client, keys, key)
    assert publisher is not None and publisher.name == "news"
    assert publisher.origins == ("https://news.example", "https://amp.news.example")


def test_cli_list_and_revoke(run_cli):
    key = (
        run_cli("publishers", "create", "news", "--origin", "https://news.example")
        .stdout.strip()
        .splitlines()[-1]
    )
    listed = run_cli("publishers", "list").stdout
    assert "news" in listed and key in listed and "https://news.example" in listed
    assert run_cli("publishers", "revoke", "news").returncode == 0
    assert "news" not in run_cli("publishers", "list").stdout
    missing = run_cli("publishers", "revoke", "news")
    assert missing.returncode == 2 and "no publisher named" in missing.stderr


def test_cli_refuses_a_bad_origin_and_a_missing_one(run_cli):
    bad = run_cli("publishers", "create", "news", "--origin", "news.example")
    assert bad.returncode == 2 and "not an origin" in bad.stderr
    missing = run_cli("publishers", "create", "news")
    assert missing.returncode == 2 and "--origin" in missing.stderr
