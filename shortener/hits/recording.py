"""Hits: one GET of a short code, made anonymous, attributed and recorded in Redis."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from shortener.analytics.attribution import Attribution
from shortener.store import NO_VALUE, Keys, run_script

MAX_USER_AGENT = 512
MAX_REFERRER = 1024
MAX_LANGUAGE = 16
# Day aggregates are kept this long; raw hits are trimmed much sooner (LUMEN_HIT_RETENTION_DAYS).
AGGREGATE_DAYS = 800
# A hit recorded within this many ms of its own time is live: its stream id is the server's.
LIVE_MS = 2000


@dataclass(frozen=True, slots=True)
class Hit:
    """A request for a short code, reduced to what Lumen keeps (no IP address)."""

    time_ms: int
    domain: str
    code: str
    referrer: str
    user_agent: str
    language: str
    visitor: str
    ip_hash: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What recording a hit decided: where to send the visitor and how the hit was attributed."""

    status: int
    url: str
    channel: str | None = None
    evidence: str | None = None
    sender_test: bool = False
    gone_reason: str = ""


def day_of(time_ms: int) -> str:
    """The UTC day of an epoch-millisecond time, as YYYYMMDD."""
    return _day_name(time_ms // 86_400_000)


@functools.lru_cache(maxsize=512)
def _day_name(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86_400, tz=UTC).strftime("%Y%m%d")


@functools.lru_cache(maxsize=16)
def daily_key(secret_key: str, day: str) -> bytes:
    """The key of one UTC day's visitor hashes: it changes daily, so visitors cannot be followed."""
    return hmac.new(secret_key.encode(), f"visitor-key:{day}".encode(), hashlib.sha256).digest()


def visitor_hash(key: bytes, ip: str, user_agent: str) -> str:
    """Anonymous visitor id for one day: HMAC-SHA256 of IP and user-agent, shortened."""
    return hmac.new(key, f"{ip}\n{user_agent}".encode(), hashlib.sha256).hexdigest()[:12]


def network_hash(key: bytes, ip: str) -> str:
    """Anonymous id of the IP alone for one day, to tell a sender testing a link after its preview."""
    return hmac.new(key, f"ip\n{ip}".encode(), hashlib.sha256).hexdigest()[:12]


def primary_language(accept_language: str) -> str:
    """The first language tag of an Accept-Language header, lower-cased ('-' when none).

    >>> primary_language("fr-CH, fr;q=0.9, en;q=0.8")
    'fr-ch'
    """
    first = accept_language.split(",")[0].split(";")[0].strip().lower()
    if not first or first == "*" or not all(ch.isalnum() or ch == "-" for ch in first):
        return NO_VALUE
    return first[:MAX_LANGUAGE]


def _text(value: object) -> str:
    return NO_VALUE if value is None or value == "" else str(value)


def record_hit(
    r: redis.Redis,
    keys: Keys,
    link_id: int,
    hit: Hit,
    attribution: Attribution,
    *,
    variant_channel: str,
    count: bool,
    retention_count: int,
    retention_days: int,
    preview_window_ms: int,
) -> Outcome | None:
    """Resolve and (when `count`) record a hit of one link in one round trip; None if it is gone."""
    day = day_of(hit.time_ms)
    min_id = max(0, hit.time_ms - retention_days * 86_400_000)
    link_keys = [
        keys.link(link_id),
        keys.link_hits(link_id),
        keys.link_day(link_id, day),
        keys.link_visitors(link_id, day),
        keys.link_previews(link_id),
        keys.all_hits(),
        keys.global_day(day),
        keys.global_visitors(day),
        keys.global_top_links(day),
    ]
    reply = run_script(
        r,
        "record_hit",
        link_keys,
        [
            hit.time_ms,
            1 if count else 0,
            attribution.kind,
            _text(attribution.source),
            _text(attribution.channel),
            attribution.evidence,
            1 if attribution.dark else 0,
            attribution.device,
            attribution.os,
            attribution.browser,
            _text(attribution.app),
            hit.language,
            hit.visitor,
            hit.ip_hash,
            hit.referrer,
            hit.user_agent,
            _text(variant_channel),
            retention_count,
            min_id,
            preview_window_ms,
            link_id,
            AGGREGATE_DAYS * 86_400,
            1 if abs(time.time_ns() // 1_000_000 - hit.time_ms) < LIVE_MS else 0,
        ],
    )
    status = int(reply[0])
    if status == 0:
        return None
    if status == 410:
        return Outcome(status=410, url=reply[1], gone_reason=reply[2])
    channel = None if reply[2] == NO_VALUE else reply[2]
    return Outcome(
        status=status, url=reply[1], channel=channel, evidence=reply[3], sender_test=reply[6] == "1"
    )


def record_orphan(r: redis.Redis, keys: Keys, hit: Hit) -> None:
    """Count a hit on an unknown code in the instance's day aggregates."""
    run_script(
        r, "record_orphan", [keys.global_day(day_of(hit.time_ms))], [AGGREGATE_DAYS * 86_400]
    )
