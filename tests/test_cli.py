"""`python -m shortener` as a user runs it: keys, links and classify, in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, process_environ


def test_keys_create_prints_the_key_alone_on_its_last_line(run_cli, redis_client, keys):
    from shortener.apikeys import verify_api_key

    result = run_cli("keys", "create", "ci-bot")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("lum_") and " " not in key
    stored = verify_api_key(redis_client, keys, key)
    assert stored is not None and stored.name == "ci-bot" and stored.scopes == ("admin",)


def test_keys_create_with_scopes(run_cli, redis_client, keys):
    from shortener.apikeys import verify_api_key

    result = run_cli("keys", "create", "reader", "--scope", "stats:read", "--scope", "links:read")
    assert result.returncode == 0, result.stderr
    stored = verify_api_key(redis_client, keys, result.stdout.strip().splitlines()[-1])
    assert stored is not None and stored.scopes == ("stats:read", "links:read")
    assert "reader\tstats:read links:read\t" in run_cli("keys", "list").stdout
    refused = run_cli("keys", "create", "bad", "--scope", "everything")
    assert refused.returncode == 2 and "unknown scope 'everything'" in refused.stderr


def test_keys_list_and_revoke(run_cli):
    run_cli("keys", "create", "first")
    run_cli("keys", "create", "second")
    listed = run_cli("keys", "list").stdout
    assert "first" in listed and "second" in listed and "lum_" not in listed
    assert run_cli("keys", "revoke", "first").returncode == 0
    assert "first" not in run_cli("keys", "list").stdout
    missing = run_cli("keys", "revoke", "first")
    assert missing.returncode == 2
    assert "no key named" in missing.stderr


def test_duplicate_key_name_is_refused(run_cli):
    run_cli("keys", "create", "dup")
    result = run_cli("keys", "create", "dup")
    assert result.returncode == 2
    assert "exists" in result.stderr


def test_links_create_prints_the_short_url(run_cli, redis_client, keys):
    result = run_cli(
        "links", "create", "https://example.com/cli", "--slug", "from-cli", "--tag", "cli"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "https://go.test/from-cli"
    assert redis_client.hget(keys.codes("go.test"), "from-cli")


def test_links_create_refuses_a_bad_url_with_a_message(run_cli):
    result = run_cli("links", "create", "not-a-url")
    assert result.returncode == 2
    assert "url" in result.stderr


def test_classify_writes_one_line_per_input_even_for_garbage():
    lines = [
        json.dumps({"ua": "WhatsApp/2.23.20.0 A", "referrer": ""}),
        "not json",
        json.dumps(
            {
                "ua": (
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 "
                    "Safari/604.1"
                ),
                "referrer": "https://t.co/",
            }
        ),
        "[1, 2]",
        "",
    ]
    env = process_environ(LUMEN_DATA_DIR="/nonexistent/never-created")
    result = subprocess.run(
        [sys.executable, "-m", "shortener", "classify"],
        cwd=ROOT,
        env=env,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["kind"] == "preview" and out[0]["channel"] == "whatsapp"
    assert "error" in out[1]
    assert (
        out[2]["kind"] == "human"
        and out[2]["channel"] == "twitter"
        and out[2]["source"] == "social"
    )
    for field in (
        "kind",
        "source",
        "channel",
        "dark",
        "evidence",
        "device",
        "os",
        "browser",
        "app",
    ):
        assert field in out[2]
    assert "error" in out[3] and "error" in out[4]
    assert not Path("/nonexistent/never-created").exists()


def test_classify_survives_bytes_that_are_not_utf8():
    env = process_environ()
    stdin = b'{"ua": "curl/8.0", "referrer": ""}\n\xff\xfe{"ua": 1}\n{"ua": "caf\xe9"}\n'
    result = subprocess.run(
        [sys.executable, "-m", "shortener", "classify"],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(out) == 3
    assert out[0]["kind"] == "bot"
    assert "error" in out[1]
    assert "kind" in out[2] or "error" in out[2]
