"""The tests see the settings they write, never the developer's shell."""

from __future__ import annotations

import pytest

from shortener.app import create_app
from shortener.codes import CodeFactory
from tests.conftest import DOMAINS, SETTING_NAMES, process_environ, tracked

SHELL_EXPORTS = {
    "LUMEN_KEY_PREFIX": "from-the-shell",
    "HASHIDS_SALT": "the shell's salt",
    "LUMEN_TRUSTED_PROXIES": "1",
}


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shell that exports Lumen settings."""
    for name, value in SHELL_EXPORTS.items():
        monkeypatch.setenv(name, value)


def test_exported_settings_do_not_change_the_test_app(exported, make_app, keys, auth):
    app = make_app()
    settings = app.extensions["lumen"].settings
    # The salt is the default (empty: generated once and kept in the data dir), not the shell's.
    assert (settings.key_prefix, settings.hashids_salt, settings.trusted_proxies) == (
        "lumen",
        "",
        0,
    )
    client = app.test_client()
    created = client.post("/api/v1/links", json={"url": "https://example.com/"}, headers=auth)
    assert created.status_code == 201  # the key made under the test prefix is found
    link = created.get_json()
    assert link["code"] != CodeFactory(SHELL_EXPORTS["HASHIDS_SALT"]).encode(link["id"])
    assert app.extensions["lumen"].redis.exists(keys.link(link["id"]))
    # No proxy is trusted, so X-Forwarded-Host does not replace the configured Host.
    headers = {"Host": DOMAINS[0], "X-Forwarded-Host": "elsewhere.test"}
    assert client.get(f"/{link['code']}", headers=headers).status_code == 302


def test_the_environ_given_is_the_one_read(redis_server, tmp_path):
    app = tracked(
        create_app(
            {"redis_url": redis_server.url, "data_dir": str(tmp_path), "secret_key": "s"},
            environ=SHELL_EXPORTS,
        )
    )
    settings = app.extensions["lumen"].settings
    assert (settings.key_prefix, settings.hashids_salt, settings.trusted_proxies) == (
        "from-the-shell",
        "the shell's salt",
        1,
    )


def test_processes_started_by_tests_get_no_lumen_setting_from_the_shell(exported):
    env = process_environ(LUMEN_DATA_DIR="/tmp/x")
    assert not set(SHELL_EXPORTS) & set(env)
    assert env["LUMEN_DATA_DIR"] == "/tmp/x"
    assert {"LUMEN_KEY_PREFIX", "HASHIDS_SALT", "LUMEN_TRUSTED_PROXIES", "REDIS_URL"} <= (
        SETTING_NAMES
    )
