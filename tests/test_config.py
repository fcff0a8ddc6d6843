"""Settings come from the environment only through config.from_env."""

from __future__ import annotations

import pytest

import config


def test_defaults_serve_localhost_on_port_8000():
    settings = config.from_env({})
    assert settings.port == 8000
    assert settings.data_dir == "./var"
    assert settings.redis_url == ""
    assert settings.all_domains == ("localhost:8000", "127.0.0.1:8000")
    assert settings.primary_domain == "localhost:8000"
    assert settings.hashids_min_length == 5
    assert settings.trusted_proxies == 0
    assert settings.hit_retention_days == 90
    assert settings.preview_window_seconds == 6 * 3600


def test_port_changes_the_default_domains():
    assert config.from_env({"PORT": "9000"}).all_domains == ("localhost:9000", "127.0.0.1:9000")


def test_domains_and_default_domain():
    settings = config.from_env(
        {
            "LUMEN_DOMAINS": "Go.Brand.com, links.brand.com",
            "LUMEN_DEFAULT_DOMAIN": "links.brand.com",
        }
    )
    assert settings.all_domains == ("go.brand.com", "links.brand.com")
    assert settings.primary_domain == "links.brand.com"


@pytest.mark.parametrize(
    "environ",
    [
        {"PORT": "eighty"},
        {"PORT": "0"},
        {"PORT": "70000"},
        {"LUMEN_DOMAINS": "not a host"},
        {"LUMEN_DOMAINS": "a.com", "LUMEN_DEFAULT_DOMAIN": "b.com"},
        {"LUMEN_TRUSTED_PROXIES": "-1"},
        {"HASHIDS_MIN_LENGTH": "x"},
        {"LUMEN_HIT_RETENTION_DAYS": "0"},
    ],
    ids=[
        "port-text",
        "port-zero",
        "port-too-big",
        "bad-domain",
        "default-not-configured",
        "negative-proxies",
        "bad-min-length",
        "zero-retention",
    ],
)
def test_bad_settings_are_refused_with_the_variable_named(environ):
    with pytest.raises(config.SettingsError, match=next(iter(environ))):
        config.from_env(environ)


def test_importing_lumen_reads_no_environment_and_opens_nothing():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in [root / "config.py", *sorted((root / "shortener").rglob("*.py"))]:
        if path.name == "__main__.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(
                node,
                (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom),
            ):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # a docstring
            text = ast.unparse(node)
            assert "environ" not in text, f"{path} reads the environment at import: {text}"
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    name = ast.unparse(call.func)
                    assert not name.startswith(
                        ("redis", "connect", "open", "create_app", "EmbeddedRedis")
                    ), f"{path}: {text}"


def test_webhook_settings():
    defaults = config.from_env({})
    assert (defaults.webhook_allow_private, defaults.webhooks_in_workers) == (False, True)
    assert (defaults.webhook_retry_ms, defaults.webhook_max_attempts) == (10_000, 6)
    chosen = config.from_env(
        {
            "LUMEN_WEBHOOK_ALLOW_PRIVATE": "1",
            "LUMEN_WEBHOOKS_IN_WORKERS": "0",
            "LUMEN_WEBHOOK_RETRY_MS": "250",
            "LUMEN_WEBHOOK_MAX_ATTEMPTS": "3",
        }
    )
    assert (chosen.webhook_allow_private, chosen.webhooks_in_workers) == (True, False)
    assert (chosen.webhook_retry_ms, chosen.webhook_max_attempts) == (250, 3)
    with pytest.raises(config.SettingsError, match="LUMEN_WEBHOOK_ALLOW_PRIVATE"):
        config.from_env({"LUMEN_WEBHOOK_ALLOW_PRIVATE": "maybe"})
    with pytest.raises(config.SettingsError, match="LUMEN_WEBHOOK_MAX_ATTEMPTS"):
        config.from_env({"LUMEN_WEBHOOK_MAX_ATTEMPTS": "0"})
