"""The redirect, in one place and free of any web framework: GET or HEAD /<code>.

`follow_code(ctx, environ, code)` is every step of a redirect, in order:

1. the request's facts become a `Hit` (`hit_from_environ`: untrusted strings decoded and cut to
   their limits, the IP reduced to daily hashes);
2. a request for a host that is not a Lumen domain is refused;
3. the code is resolved through the per-process cache (or one HGET of the code index);
4. the hit is attributed by the pure rules of `shortener.analytics`, and a destination chosen from
   the link's device targets or split (`shortener.destinations`; the code index carries them);
5. one script call reads the link's state and records the hit; a cached code whose link went
   away is dropped from the cache and looked up afresh, once, and a choice made from
   destinations edited since is made again, once. HEAD is answered like GET and recorded as a
   non-human probe (reading targets with HEAD leaves a trace), never as a click; a human hit of
   a password-protected link is recorded only once the password is given;
6. the answer is a `Result`: redirect (to the chosen target with the link's UTM, the forwarded
   query and the attribution's UTM merged in), preview (a preview robot, when the link has its
   own preview), password (a protected link's form), gone, unknown (the domain's not-found URL
   when set) or unavailable. When Redis fails, a link
   this worker has redirected recently still redirects from memory and its hit waits in the
   worker's `HitBuffer` (written back, in order, once Redis answers); any other code is
   unavailable (503). Failures are counted and logged once per kind per interval. A person sent
   to a share-button page gets the share cascade in the `Location` fragment
   (`#lumen=<generation>_<channel>[_<parent>]`, `shortener.analytics.cascade`), unless the
   request says Do Not Track or Global Privacy Control.

The WSGI fast path and the Flask view in `shortener.routes.redirect` only render a `Result`.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode

import redis

from shortener import metrics
from shortener.analytics.attribution import Attribution, classify_hit
from shortener.analytics.cascade import QUERY_NAME as CASCADE_QUERY_NAME
from shortener.analytics.cascade import arrival_for, label_of, with_fragment
from shortener.analytics.vocabulary import Evidence, Kind
from shortener.context import AppContext
from shortener.destinations import (
    Choice,
    Destinations,
    LinkOptions,
    Preview,
    attribution_utm,
    choose_target,
    final_url,
)
from shortener.domain_pages import load_domain_pages
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
from shortener.links import LinkRef, now_ms, short_url
from shortener.store import NO_VALUE

# The short link's own query string forwarded to the target is cut to this many characters.
MAX_FORWARDED_QUERY = 2048
# Every redirect answer says this: a visitor's browser may not keep it, nor may a shared cache.
NO_STORE = "private, max-age=0"


class Answer(StrEnum):
    """What a request for a code comes to."""

    REDIRECT = "redirect"
    GONE = "gone"  # the link expired or spent its click budget
    UNKNOWN = "unknown"  # no link has this code on this domain
    FOREIGN_HOST = "foreign-host"  # the Host is not a Lumen domain
    UNAVAILABLE = "unavailable"  # Redis did not answer
    PREVIEW = "preview"  # a preview robot, shown the link's own preview page
    PASSWORD = "password"  # a protected link: the password form


@dataclass(frozen=True, slots=True)
class Result:
    """The answer to a request for a code, ready to render."""

    answer: Answer
    status: int
    location: str = ""
    gone_reason: str = ""
    preview: Preview | None = None
    short_url: str = ""

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


def follow_code(
    ctx: AppContext, environ: Mapping[str, object], code: str, *, unlocked: bool = False
) -> Result:
    """Every step of GET or HEAD /<code> (see the module docstring); HEAD is recorded as a probe.

    `unlocked`: the visitor gave the link's password (the form's POST, recorded like a GET).
    """
    hit = hit_from_environ(environ, code, ctx.secret_key)
    if hit.domain not in ctx.settings.all_domains:
        return REFUSED_HOST
    probe = environ.get("REQUEST_METHOD") == "HEAD"
    query = header_text(environ.get("QUERY_STRING"))[:MAX_FORWARDED_QUERY]
    handover = None if _asks_privacy(environ) else str(environ.get("QUERY_STRING") or "")
    try:
        step = _resolve_and_record(ctx, hit, probe, unlocked)
    except redis.RedisError as error:
        metrics.REDIS_ERRORS.labels(type(error).__name__).inc()
        ctx.failures.note("recording a hit", error)
        timed_out = isinstance(error, redis.TimeoutError)
        return _answer_from_memory(ctx, hit, query, probe=probe, timed_out=timed_out)
    if step is None:
        return _unknown_code(ctx, hit)
    outcome, attribution, choice, ref = step
    if outcome.status == 410:
        return Result(Answer.GONE, 410, gone_reason=outcome.gone_reason)
    target = LinkTarget(outcome.url, outcome.status, outcome.expires_at_ms, outcome.options)
    # The cascade's hand-over (`lc=`) is Lumen's own: consumed here, never forwarded; a share
    # page's query is only that.
    forwarded = "" if ref.cascade else _without_handover(query)
    result = _answer(ctx, hit, forwarded, target, attribution, choice, outcome, unlocked)
    human = attribution.kind is Kind.HUMAN and not probe
    if result.answer is Answer.REDIRECT and ref.cascade and handover is not None and human:
        channel = label_of(outcome.channel or attribution.channel, attribution.source)
        result = replace(
            result, location=with_fragment(result.location, arrival_for(channel, handover))
        )
    return result


def _without_handover(query: str) -> str:
    """The short link's query without the cascade's own parameter.

    >>> _without_handover("ref=ad&lc=2_sms")
    'ref=ad'
    """
    if CASCADE_QUERY_NAME not in query:
        return query
    kept = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, value) for name, value in kept if name != CASCADE_QUERY_NAME])


def _asks_privacy(environ: Mapping[str, object]) -> bool:
    """Do Not Track (`DNT: 1`) or Global Privacy Control (`Sec-GPC: 1`): no cascade hand-over."""
    return environ.get("HTTP_DNT") == "1" or environ.get("HTTP_SEC_GPC") == "1"


def _unknown_code(ctx: AppContext, hit: Hit) -> Result:
    """An unknown code: counted as an orphan hit, sent to its domain's not-found URL if set."""
    try:
        record_orphan(ctx.tally, ctx.keys, hit)
        pages = load_domain_pages(ctx.redis, ctx.keys, hit.domain)
    except redis.RedisError as error:
        metrics.REDIS_ERRORS.labels(type(error).__name__).inc()
        ctx.failures.note("recording an orphan hit", error)
        return UNKNOWN
    if pages.not_found_url:
        return Result(Answer.UNKNOWN, 302, location=pages.not_found_url)
    return UNKNOWN


def _answer(
    ctx: AppContext,
    hit: Hit,
    query: str,
    target: LinkTarget,
    attribution: Attribution,
    choice: Choice | None,
    outcome: Outcome | None,
    unlocked: bool,
) -> Result:
    """The answer for a live link: its preview page, its password form, or the redirect to the
    chosen target's final address (`outcome` is None when answering from memory)."""
    options = _options(target.options)
    if attribution.kind is Kind.PREVIEW and options.preview is not None:
        own_url = short_url(hit.domain, hit.code)
        return Result(Answer.PREVIEW, 200, preview=options.preview, short_url=own_url)
    if outcome is not None and outcome.locked:
        return Result(Answer.PASSWORD, 200, short_url=short_url(hit.domain, hit.code))
    with_attribution = options.utm_from_attribution
    if with_attribution is None:
        with_attribution = ctx.settings.utm_from_attribution
    channel = attribution.channel if outcome is None else outcome.channel
    location = final_url(
        choice.url if choice is not None and choice.url else target.url,
        dict(options.utm),
        query if options.forward_query else "",
        attribution_utm(channel, attribution.source) if with_attribution else {},
    )
    # After the password form's POST, 303: the browser GETs the target (a 307 would re-POST).
    return Result(Answer.REDIRECT, 303 if unlocked else target.status, location=location)


def _answer_from_memory(
    ctx: AppContext, hit: Hit, query: str, *, probe: bool, timed_out: bool
) -> Result:
    """While Redis fails, a link this worker redirected recently still redirects (not past its
    expiry, never a protected one) and its hit waits in the buffer; any other code is
    unavailable."""
    entry = ctx.link_cache.fallback(hit.domain, hit.code)
    if entry is None or entry.target is None or entry.target.protected:
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
    attribution = _attribute(ctx, hit, entry.ref)
    choice = _choose(hit, entry.ref, attribution)
    return _answer(ctx, hit, query, entry.target, attribution, choice, None, unlocked=False)


def write_back(ctx: AppContext) -> int:
    """Write the worker's buffered hits to Redis, oldest first; the number written."""
    written = ctx.buffer.flush(lambda pending: _write_pending(ctx, pending))
    metrics.HITS_WAITING.set(len(ctx.buffer))
    return written


def _write_pending(ctx: AppContext, pending: PendingHit) -> None:
    _record(ctx, pending.hit, pending.ref, pending.replay, pending.probe)


def write_back_at_exit(ctx: AppContext) -> None:
    """At a worker's exit: write its buffered hits, then its tallied instance-wide counts; what
    Redis does not take stays in the spool files, for the next worker to adopt."""
    if len(ctx.buffer):
        write_back(ctx)
    ctx.tally.stop()
    ctx.tally.write()


def resume_buffered_hits(ctx: AppContext) -> None:
    """At a worker's start: take over the hits and instance-wide counts left by workers that are
    gone, and write them (in the background)."""
    if ctx.buffer.adopt_orphaned_spools():
        _start_writing_back(ctx)
    ctx.tally.adopt_orphaned_spools()


def _start_writing_back(ctx: AppContext) -> None:
    """Start the worker's write-back loop unless it runs (a greenlet under gevent workers)."""
    ctx.buffer.write_back_in_background(lambda pending: _write_pending(ctx, pending))


def _attribute(ctx: AppContext, hit: Hit, ref: LinkRef) -> Attribution:
    """The hit's attribution by the pure rules of `shortener.analytics`."""
    return classify_hit(
        hit.user_agent,
        hit.referrer,
        own_hosts=ctx.settings.all_domains,
        target_site=ref.site or None,
        tag_channel=ref.channel or None,
    )


def _choose(hit: Hit, ref: LinkRef, attribution: Attribution) -> Choice | None:
    """This visitor's destination among the link's targets and split, if it has any."""
    if not ref.destinations:
        return None
    return choose_target(
        _destinations(ref.destinations),
        attribution.os,
        attribution.device,
        hit.visitor,
        day_of(hit.time_ms),
        ref.link_id,
    )


# Stored options and destinations repeat from hit to hit: each is parsed once per process.
_options = functools.lru_cache(maxsize=4096)(LinkOptions.decode)
_destinations = functools.lru_cache(maxsize=4096)(Destinations.decode)

# What `_resolve_and_record` hands on: the script's outcome, the attribution, the choice made,
# and the code's ref as the script confirmed it.
Step = tuple[Outcome, Attribution, Choice | None, LinkRef]


def _resolve_and_record(ctx: AppContext, hit: Hit, probe: bool, unlocked: bool) -> Step | None:
    """The recording script's outcome for the code's link, or None for a code no link owns.

    A cached code whose link the script no longer finds (deleted, or deleted and made again
    elsewhere) is dropped from the cache and resolved afresh once: two script runs at most.
    """
    ref = ctx.link_cache.get(hit.domain, hit.code)
    if ref is not None:
        step = _attribute_and_record(ctx, hit, ref, probe, unlocked)
        if step is not None:
            return step
        ctx.link_cache.forget(hit.domain, hit.code)
    ref = ctx.links.resolve(hit.domain, hit.code)
    if ref is None:
        return None
    ctx.link_cache.put(hit.domain, hit.code, ref)
    return _attribute_and_record(ctx, hit, ref, probe, unlocked)


def _attribute_and_record(
    ctx: AppContext, hit: Hit, ref: LinkRef, probe: bool, unlocked: bool
) -> Step | None:
    """Classify the hit for the link `ref` names, choose its destination, record it, and
    remember where the link sends visitors for when Redis fails.

    When the link's destinations were edited since `ref` was read, the script records nothing
    and answers with the stored ones: the choice is made again from them, once. The answer
    follows what the request is (a HEAD from a preview robot gets its page); the record, for
    HEAD, is a probe's.
    """
    attribution = _attribute(ctx, hit, ref)
    recorded_as = _as_probe(attribution) if probe else attribution
    for _ in range(2):
        choice = _choose(hit, ref, attribution)
        outcome = _run_script(
            ctx, hit, ref, recorded_as, choice, replay=False, unlocked=unlocked, confirm=True
        )
        if outcome is None:
            return None
        if outcome.stored_destinations is None:
            break
        ref = replace(ref, destinations=outcome.stored_destinations)
        ctx.link_cache.put(hit.domain, hit.code, ref)
    else:
        return None  # edited again between the two runs: resolved afresh by the caller
    if outcome.status != 410:
        target = LinkTarget(
            outcome.url,
            outcome.status,
            outcome.expires_at_ms,
            outcome.options,
            protected=outcome.locked or unlocked,
        )
        ctx.link_cache.remember_target(hit.domain, hit.code, target)
    return outcome, attribution, choice, ref


def _record(
    ctx: AppContext, hit: Hit, ref: LinkRef, replay: bool, probe: bool = False
) -> Outcome | None:
    """Attribute a buffered hit of the link `ref` names and record it: one script call. The
    visitor was sent from memory by the choice made from `ref`, so it is counted there as is."""
    attribution = _attribute(ctx, hit, ref)
    choice = _choose(hit, ref, attribution)
    recorded_as = _as_probe(attribution) if probe else attribution
    return _run_script(
        ctx, hit, ref, recorded_as, choice, replay=replay, unlocked=False, confirm=False
    )


def _run_script(
    ctx: AppContext,
    hit: Hit,
    ref: LinkRef,
    attribution: Attribution,
    choice: Choice | None,
    *,
    replay: bool,
    unlocked: bool,
    confirm: bool,
) -> Outcome | None:
    """One run of the recording script; `confirm`: the script must find the destinations the
    choice was made from (else it records nothing and returns the stored ones)."""
    started = time.perf_counter()
    outcome = record_hit(
        ctx.redis,
        ctx.keys,
        ref.link_id,
        hit,
        attribution,
        tally=ctx.tally,
        policy=ctx.recording,
        replay=replay,
        destinations=ref.destinations if confirm else None,
        destination=NO_VALUE if choice is None else choice.label,
        unlocked=unlocked,
    )
    metrics.REDIS_SECONDS.observe(time.perf_counter() - started)
    if outcome is not None and outcome.status not in (-1, 410) and not outcome.locked:
        metrics.HITS_RECORDED.inc()
    return outcome


def _as_probe(attribution: Attribution) -> Attribution:
    """A HEAD request's attribution: a non-human probe, whatever its user-agent claims."""
    return replace(
        attribution, kind=Kind.BOT, source=None, channel=None, dark=False, evidence=Evidence.NONE
    )
