"""The redirect, in one place and free of any web framework: GET or HEAD /<code>.

`follow_code(ctx, environ, code)` is every step of a redirect, in order:

1. the request's facts become a `Hit` (`hit_from_environ`: untrusted strings decoded and cut to
   their limits, the IP reduced to daily hashes);
2. a request for a host that is not a Lumen domain is refused;
3. the code is resolved through the per-process cache (or one HGET of the code index);
4. the hit is attributed by the pure rules of `shortener.analytics`;
5. one script call reads the link's state and records the hit; a cached code whose link went
   away is dropped from the cache and looked up afresh, once. HEAD is answered like GET and
   recorded as a non-human probe (reading targets with HEAD leaves a trace), never as a click;
6. the answer is a `Result`: redirect, gone, unknown or unavailable. When Redis fails, a link
   this worker has redirected recently still redirects from memory and its hit waits in the
   worker's `HitBuffer` (written back, in order, once Redis answers); any other code is
   unavailable (503). Failures are counted and logged once per kind per interval. A person sent
   to a share-button page gets the share cascade in the `Location` fragment
   (`#lumen=<generation>_<channel>[_<parent>]`, `shortener.analytics.cascade`), unless the
   request says Do Not Track or Global Privacy Control.

The WSGI fast path and the Flask view in `shortener.routes.redirect` only render a `Result`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

import redis

from shortener import metrics
from shortener.analytics.attribution import Attribution, classify_hit
from shortener.analytics.cascade import arrival_for, label_of, with_fragment
from shortener.analytics.vocabulary import Evidence, Kind
from shortener.context import AppContext
from shortener.hits.buffer import PendingHit
from shortener.hits.recording import (
    MAX_REFERRER,
    MAX_USER_AGENT,
    Hit,
    Outcome,
    daily_key,
    day_of,
    network_hash,
    primary_language,
    record_hit,
    record_orphan,
    visitor_hash,
)
from shortener.link_cache import LinkTarget
from shortener.links import LinkRef, now_ms

# Every redirect answer says this: a visitor's browser may not keep it, nor may a shared cache.
NO_STORE = "private, max-age=0"


class Answer(StrEnum):
    """What a request for a code comes to."""

    REDIRECT = "redirect"
    GONE = "gone"  # the link expired or spent its click budget
    UNKNOWN = "unknown"  # no link has this code on this domain
    FOREIGN_HOST = "foreign-host"  # the Host is not a Lumen domain
    UNAVAILABLE = "unavailable"  # Redis did not answer


@dataclass(frozen=True, slots=True)
class Result:
    """The answer to a request for a code, ready to render."""

    answer: Answer
    status: int
    location: str = ""
    gone_reason: str = ""

    def redirect_headers(self) -> list[tuple[str, str]]:
        """The headers of a redirect answer (its body is empty)."""
        return [("Location", self.location), ("Cache-Control", NO_STORE), ("Content-Length", "0")]


REFUSED_HOST = Result(Answer.FOREIGN_HOST, 404)
UNKNOWN = Result(Answer.UNKNOWN, 404)
UNAVAILABLE = Result(Answer.UNAVAILABLE, 503)


def request_domain(host: str) -> str:
    """A Host header as a Lumen domain: lower-cased, a default port dropped.

    >>> request_domain("Go.Brand.COM:443")
    'go.brand.com'
    """
    host = host.lower()
    for default_port in (":80", ":443"):
        if host.endswith(default_port):
            return host[: -len(default_port)]
    return host


def header_text(raw: object) -> str:
    """A header value as the client sent it: WSGI hands headers over as Latin-1, and browsers and
    apps send UTF-8, so the bytes are read again as UTF-8 (undecodable bytes become U+FFFD).

    >>> header_text("\\xef\\xbc\\x9d")
    '＝'
    """
    text = str(raw or "")
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # already decoded by whoever built the environ
        return text


def hit_from_environ(environ: Mapping[str, object], code: str, secret_key: str) -> Hit:
    """A WSGI request as a Hit: untrusted strings cut to their limits, the IP reduced to hashes."""
    time_ms = now_ms()
    user_agent = header_text(environ.get("HTTP_USER_AGENT"))[:MAX_USER_AGENT]
    key = daily_key(secret_key, day_of(time_ms))
    ip = str(environ.get("REMOTE_ADDR") or "")
    return Hit(
        time_ms=time_ms,
        domain=request_domain(_host(environ)),
        code=code,
        referrer=header_text(environ.get("HTTP_REFERER"))[:MAX_REFERRER],
        user_agent=user_agent,
        language=primary_language(header_text(environ.get("HTTP_ACCEPT_LANGUAGE"))),
        visitor=visitor_hash(key, ip, user_agent),
        ip_hash=network_hash(key, ip),
        hit_id=os.urandom(8).hex(),
    )


def _host(environ: Mapping[str, object]) -> str:
    """The request's host as PEP 3333 reconstructs it (Host header, else server name and port)."""
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name, port = str(environ.get("SERVER_NAME", "")), str(environ.get("SERVER_PORT", ""))
    scheme = environ.get("wsgi.url_scheme")
    default = (scheme == "https" and port == "443") or (scheme == "http" and port == "80")
    return name if default or not port else f"{name}:{port}"


def follow_code(ctx: AppContext, environ: Mapping[str, object], code: str) -> Result:
    """Every step of GET or HEAD /<code> (see the module docstring); HEAD records nothing."""
    hit = hit_from_environ(environ, code, ctx.secret_key)
    if hit.domain not in ctx.settings.all_domains:
        return REFUSED_HOST
    probe = environ.get("REQUEST_METHOD") != "GET"
    handover = None if _asks_privacy(environ) else str(environ.get("QUERY_STRING") or "")
    try:
        outcome = _resolve_and_record(ctx, hit, probe, handover)
    except redis.RedisError as error:
        metrics.REDIS_ERRORS.labels(type(error).__name__).inc()
        ctx.failures.note("recording a hit", error)
        timed_out = isinstance(error, redis.TimeoutError)
        return _answer_from_memory(ctx, hit, probe=probe, timed_out=timed_out)
    if outcome is None:
        try:
            record_orphan(ctx.redis, ctx.keys, hit)
        except redis.RedisError as error:
            metrics.REDIS_ERRORS.labels(type(error).__name__).inc()
            ctx.failures.note("recording an orphan hit", error)
        return UNKNOWN
    if outcome.status == 410:
        return Result(Answer.GONE, 410, gone_reason=outcome.gone_reason)
    return Result(Answer.REDIRECT, outcome.status, location=outcome.url)


def _answer_from_memory(ctx: AppContext, hit: Hit, *, probe: bool, timed_out: bool) -> Result:
    """While Redis fails, a link this worker redirected recently still redirects (not past its
    expiry) and its hit waits in the buffer; any other code is unavailable."""
    entry = ctx.link_cache.fallback(hit.domain, hit.code)
    if entry is None or entry.target is None:
        return UNAVAILABLE
    if not entry.target.is_live(hit.time_ms):
        return Result(Answer.GONE, 410, gone_reason="expired")
    if ctx.buffer.add(PendingHit(entry.ref, hit, replay=timed_out, probe=probe)):
        metrics.HITS_BUFFERED.inc()
    else:
        metrics.HITS_DROPPED.inc()
        ctx.failures.note("buffering a hit (the buffer is full)", BufferError(len(ctx.buffer)))
    metrics.HITS_WAITING.set(len(ctx.buffer))
    _start_writing_back(ctx)
    return Result(Answer.REDIRECT, entry.target.status, location=entry.target.url)


def write_back(ctx: AppContext) -> int:
    """Write the worker's buffered hits to Redis, oldest first; the number written."""
    written = ctx.buffer.flush(lambda pending: _write_pending(ctx, pending))
    metrics.HITS_WAITING.set(len(ctx.buffer))
    return written


def _write_pending(ctx: AppContext, pending: PendingHit) -> None:
    _record(ctx, pending.hit, pending.ref, pending.replay, pending.probe)


def resume_buffered_hits(ctx: AppContext) -> None:
    """At a worker's start: take over the hits left by workers that are gone, and write them."""
    if ctx.buffer.adopt_orphaned_spools():
        _start_writing_back(ctx)


def _start_writing_back(ctx: AppContext) -> None:
    """Start the worker's write-back loop unless it runs (a greenlet under gevent workers)."""
    ctx.buffer.write_back_in_background(lambda pending: _write_pending(ctx, pending))


def _asks_privacy(environ: Mapping[str, object]) -> bool:
    """Do Not Track (`DNT: 1`) or Global Privacy Control (`Sec-GPC: 1`): no cascade hand-over."""
    return environ.get("HTTP_DNT") == "1" or environ.get("HTTP_SEC_GPC") == "1"


def _resolve_and_record(
    ctx: AppContext, hit: Hit, probe: bool, handover: str | None = None
) -> Outcome | None:
    """The recording script's outcome for the code's link, or None for a code no link owns.

    A cached code whose link the script no longer finds (deleted, or deleted and made again
    elsewhere) is dropped from the cache and resolved afresh once: two script runs at most.
    """
    ref = ctx.link_cache.get(hit.domain, hit.code)
    if ref is not None:
        outcome = _attribute_and_record(ctx, hit, ref, probe, handover)
        if outcome is not None:
            return outcome
        ctx.link_cache.forget(hit.domain, hit.code)
    ref = ctx.links.resolve(hit.domain, hit.code)
    if ref is None:
        return None
    ctx.link_cache.put(hit.domain, hit.code, ref)
    return _attribute_and_record(ctx, hit, ref, probe, handover)


def _attribute_and_record(
    ctx: AppContext, hit: Hit, ref: LinkRef, probe: bool, handover: str | None = None
) -> Outcome | None:
    """Record the hit for the link `ref` names, and remember where the link sends visitors for
    when Redis fails; a person sent to a share page gets the cascade hand-over (`handover`: the
    request's query, None under DNT/GPC)."""
    attribution = _attribute(ctx, hit, ref)
    outcome = _record(ctx, hit, ref, replay=False, probe=probe, attribution=attribution)
    if outcome is not None and outcome.status != 410:
        target = LinkTarget(outcome.url, outcome.status, outcome.expires_at_ms)
        ctx.link_cache.remember_target(hit.domain, hit.code, target)
        if ref.cascade and handover is not None and not probe and attribution.kind is Kind.HUMAN:
            outcome = replace(outcome, url=_handed_over(outcome, attribution, handover))
    return outcome


def _handed_over(outcome: Outcome, attribution: Attribution, query: str) -> str:
    """The target URL with the visitor's arrival (channel, generation, parent) in its fragment."""
    channel = label_of(outcome.channel or attribution.channel, attribution.source)
    return with_fragment(outcome.url, arrival_for(channel, query))


def _attribute(ctx: AppContext, hit: Hit, ref: LinkRef) -> Attribution:
    """The pure rules' attribution of a hit of the link `ref` names."""
    return classify_hit(
        hit.user_agent,
        hit.referrer,
        own_hosts=ctx.settings.all_domains,
        target_site=ref.site or None,
        tag_channel=ref.channel or None,
    )


def _record(
    ctx: AppContext,
    hit: Hit,
    ref: LinkRef,
    replay: bool,
    probe: bool = False,
    attribution: Attribution | None = None,
) -> Outcome | None:
    """Attribute a hit of the link `ref` names (unless given) and record it: one script call."""
    if attribution is None:
        attribution = _attribute(ctx, hit, ref)
    started = time.perf_counter()
    outcome = record_hit(
        ctx.redis,
        ctx.keys,
        ref.link_id,
        hit,
        _as_probe(attribution) if probe else attribution,
        variant_channel=ref.channel,
        count=True,
        policy=ctx.recording,
        replay=replay,
    )
    metrics.REDIS_SECONDS.observe(time.perf_counter() - started)
    if outcome is not None and outcome.status != 410:
        metrics.HITS_RECORDED.inc()
    return outcome


def _as_probe(attribution: Attribution) -> Attribution:
    """A HEAD request's attribution: a non-human probe, whatever its user-agent claims."""
    return replace(
        attribution, kind=Kind.BOT, source=None, channel=None, dark=False, evidence=Evidence.NONE
    )
