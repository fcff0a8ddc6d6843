"""Webhooks: signed HTTP deliveries of link events and clicks, outside the redirect path.

1. Link events (`link.created`, `link.updated`, `link.deleted`) are appended to the stream
   `lumen:events` by `LinkStore`; clicks are the entries of the instance-wide hit streams (one
   per shard, and the late hits') the recording script already writes. Nothing on the redirect
   path waits on this.
2. A consumer (`WebhookConsumer`, run by each gunicorn worker or by `python -m shortener worker`)
   reads them through the Redis consumer group `webhooks`, so each event is taken by one consumer
   only, and queues one delivery per subscribed webhook in the sorted set
   `lumen:webhooks:queue` (scored by when it is due). The event stream is read on every loop; the
   hit streams only while some webhook subscribes to `click` (as the consumer's last listing of
   the webhooks showed): otherwise every redirect would cost the consumers a read and an XACK of
   a hit nobody is sent.
3. A click webhook gets the clicks appended after its creation, not the backlog: it keeps where
   each hit stream ended when it was created (`clicks_after`), and when it is the first to
   subscribe to clicks, `create_webhook` moves the group of each hit stream forward to there, so
   the consumers do not wade through hits recorded while nobody subscribed.
4. A due delivery is claimed with ZREM (whoever removes it sends it), POSTed with the body signed
   (`X-Lumen-Signature: sha256=<HMAC-SHA256 of the raw body under the webhook's secret>`), and
   logged (the last LOG_LENGTH deliveries per webhook). A failure is queued again after
   base x 2^(attempt-1) until the attempts run out; then it is logged as given up.

Targets are refused when their host resolves to any loopback, private, link-local or otherwise
non-public address (request forgery into the operator's network), checked at creation and again
before every delivery, unless LUMEN_WEBHOOK_ALLOW_PRIVATE=1. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import redis

from shortener.errors import InvalidInput, NotFound
from shortener.store import SHARDS, Keys, LuaScript, run_script
from shortener.validation import iso_from_ms, reject_unknown_fields, validate_target_url

EVENTS = ("click", "link.created", "link.updated", "link.deleted")
LINK_EVENTS = frozenset(EVENTS[1:])
GROUP = "webhooks"
SIGNATURE_HEADER = "X-Lumen-Signature"
MAX_WEBHOOKS = 100
LOG_LENGTH = 50
EVENT_STREAM_LENGTH = 10_000
SECRET_BYTES = 32
MIN_SECRET_LENGTH, MAX_SECRET_LENGTH = 16, 200
DELIVERY_TIMEOUT_SECONDS = 5
# Entries a consumer read but never acknowledged (it died) are taken over after this long.
STALE_ENTRY_MS = 60_000
READ_BATCH = 100
CREATE_FIELDS = frozenset({"url", "events", "secret"})

log = logging.getLogger(__name__)

# Moves the consumer group ARGV[1] of the hit stream KEYS[1] forward to the id ARGV[2], creating
# it there (and the stream) when it is missing; never back: a group already past ARGV[2] is left
# alone, so what consumers have read is neither read again nor skipped (see `_start_clicks`).
# Stream ids are compared as (milliseconds, sequence), exact in Lua's doubles.
_MOVE_GROUP_FORWARD = LuaScript(
    "move_group_forward",
    """
local function position(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local info = {}
    for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
    if info['name'] == ARGV[1] then
      local ms, seq = position(info['last-delivered-id'])
      local to_ms, to_seq = position(ARGV[2])
      if ms < to_ms or (ms == to_ms and seq < to_seq) then
        redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], ARGV[2])
        return 1
      end
      return 0
    end
  end
end
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM')
return 1
""",
)


def _position(entry_id: str) -> tuple[int, int]:
    """A stream id as (milliseconds, sequence), the order Redis gives entries.

    >>> _position("1733212800000-12") > _position("1733212800000-9")
    True
    """
    ms, _, sequence = entry_id.partition("-")
    return int(ms), int(sequence or 0)


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered receiver: where to POST, which events, and the secret that signs them."""

    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: int
    # For a click webhook: the id each hit stream ended at when it was created (it is sent only
    # the clicks after). Empty for the others, and for click webhooks stored before this existed.
    clicks_after: dict[str, str] = field(default_factory=dict)

    def is_sent(self, event: str, stream: str, entry_id: str) -> bool:
        """Whether this webhook is sent the `event` of entry `entry_id` of `stream`: one it
        subscribes to and, for a click, appended after the webhook was created."""
        if event not in self.events:
            return False
        start = self.clicks_after.get(stream)
        return start is None or _position(entry_id) > _position(start)

    def as_json(self, *, with_secret: bool = False) -> dict[str, object]:
        """The webhook as the API shows it; the secret only once, when it is created."""
        shown: dict[str, object] = {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "created_at": iso_from_ms(self.created_at),
        }
        if with_secret:
            shown["secret"] = self.secret
        return shown


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body` (checked against `openssl dgst -sha256 -hmac`).

    >>> sign("s3cret", b'{"event":"click"}')[:20]
    'sha256=6cd35109e04e5'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_target(url: str, allow_private: bool) -> None:
    """Refuse a target whose host resolves to any non-public address (unless allowed)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InvalidInput(
            f"the host of url, {parts.hostname!r}, does not resolve", field="url"
        ) from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise InvalidInput(
                f"url resolves to {address}, a loopback, private or link-local address; "
                "Lumen does not send webhooks into its own network unless "
                "LUMEN_WEBHOOK_ALLOW_PRIVATE=1",
                field="url",
            )


def validate_events(events: object) -> tuple[str, ...]:
    """A non-empty list of known event names, without repeats."""
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise InvalidInput(
            f"events must be a non-empty list of: {', '.join(EVENTS)}", field="events"
        )
    for event in events:
        if event not in EVENTS:
            raise InvalidInput(
                f"unknown event {event!r}; events are {', '.join(EVENTS)}", field="events"
            )
    return tuple(dict.fromkeys(events))


def validate_secret(secret: object) -> str:
    """The caller's secret, or a new random one."""
    if secret is None:
        return secrets.token_hex(SECRET_BYTES)
    if not isinstance(secret, str) or not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise InvalidInput(
            f"secret must be a string of {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters "
            "(leave it out and Lumen makes one)",
            field="secret",
        )
    return secret


def _webhook_from_json(raw: str) -> Webhook:
    data = json.loads(raw)
    return Webhook(
        data["id"],
        data["url"],
        tuple(data["events"]),
        data["secret"],
        data["created_at"],
        data.get("clicks_after", {}),
    )


def hit_streams(keys: Keys) -> dict[str, str]:
    """The instance-wide hit streams clicks are read from (each shard's, then the late hits'),
    each with the name its clicks' event ids start with: two streams may hold the same entry id.

    >>> list(hit_streams(Keys("lumen")).items())[-2:]
    [('lumen:{g13}:hits', 'shard7'), ('lumen:{g}:hits', 'late')]
    """
    shards: tuple[int | None, ...] = (*range(SHARDS), None)
    return {keys.all_hits(n): ("late" if n is None else f"shard{n}") for n in shards}


def _start_clicks(r: redis.Redis, keys: Keys) -> dict[str, str]:
    """Where each hit stream ends now, for a new click webhook; when no webhook subscribes to
    clicks yet, the group of each hit stream is moved forward to there.

    While nobody subscribes to clicks the consumers do not read the hit streams, so their group
    may sit far behind (or not exist): the new webhook would wait while the consumers read, and
    drop, every hit recorded meanwhile. Why moving the groups skips no click owed to a webhook
    (one appended after that webhook's own ends), with concurrent creations and a consumer in
    every worker:
    - the ends are read before the check: a click webhook the check did not see was stored after
      it, so every click appended after that creation answered lies past our ends; only clicks
      appended while both creations ran may be skipped;
    - `_MOVE_GROUP_FORWARD` moves a group forward only, atomically on the stream's own slot: a
      creation that stalled while another's webhook had clicks read for it moves nothing back
      (nothing is read twice), where `XGROUP SETID $` would skip the clicks not read yet;
    - a consumer reading a stream while its group moves reads on from the new place.
    """
    streams = list(hit_streams(keys))
    pipe = r.pipeline(transaction=False)  # one command per stream: each is in its own slot
    for stream in streams:
        pipe.xrevrange(stream, count=1)
    tops = pipe.execute()
    ends = {
        stream: (top[0][0] if top else "0-0") for stream, top in zip(streams, tops, strict=True)
    }
    if not any("click" in webhook.events for webhook in list_webhooks(r, keys)):
        for stream, end in ends.items():
            run_script(r, _MOVE_GROUP_FORWARD, [stream], [GROUP, end])
    return ends


def create_webhook(
    r: redis.Redis, keys: Keys, payload: Mapping[str, object], created_at: int, allow_private: bool
) -> Webhook:
    """Validate `payload` and register the webhook."""
    reject_unknown_fields(payload, CREATE_FIELDS)
    url = validate_target_url(payload.get("url"), ())
    events = validate_events(payload.get("events"))
    secret = validate_secret(payload.get("secret"))
    check_target(url, allow_private)
    if r.hlen(keys.webhooks()) >= MAX_WEBHOOKS:
        raise InvalidInput(f"at most {MAX_WEBHOOKS} webhooks; delete one first")
    clicks_after = _start_clicks(r, keys) if "click" in events else {}
    webhook = Webhook("wh_" + secrets.token_hex(8), url, events, secret, created_at, clicks_after)
    record = {
        "id": webhook.id,
        "url": url,
        "events": list(events),
        "secret": secret,
        "created_at": created_at,
        "clicks_after": clicks_after,
    }
    r.hset(keys.webhooks(), webhook.id, json.dumps(record))
    return webhook


def list_webhooks(r: redis.Redis, keys: Keys) -> list[Webhook]:
    """Every webhook, oldest first."""
    found = [_webhook_from_json(raw) for raw in r.hgetall(keys.webhooks()).values()]
    return sorted(found, key=lambda webhook: (webhook.created_at, webhook.id))


def get_webhook(r: redis.Redis, keys: Keys, webhook_id: str) -> Webhook:
    """The webhook with this id, or NotFound."""
    raw = r.hget(keys.webhooks(), webhook_id)
    if not raw:
        raise NotFound(f"there is no webhook with id {webhook_id!r}")
    return _webhook_from_json(raw)


def delete_webhook(r: redis.Redis, keys: Keys, webhook_id: str) -> None:
    """Delete a webhook and its log; its queued deliveries are dropped when they fall due."""
    get_webhook(r, keys, webhook_id)
    pipe = r.pipeline(transaction=False)
    pipe.hdel(keys.webhooks(), webhook_id)
    pipe.delete(keys.webhook_deliveries(webhook_id))
    pipe.execute()


def list_deliveries(r: redis.Redis, keys: Keys, webhook_id: str) -> list[dict[str, object]]:
    """The webhook's last LOG_LENGTH delivery attempts, newest first."""
    get_webhook(r, keys, webhook_id)
    return [json.loads(raw) for raw in r.lrange(keys.webhook_deliveries(webhook_id), 0, -1)]


def announce_link_event(
    pipe: redis.client.Pipeline, keys: Keys, event: str, data: Mapping[str, object]
) -> None:
    """Queue on `pipe` the append of a link event to the event stream (capped)."""
    pipe.xadd(
        keys.link_events(),
        {"event": event, "data": json.dumps(data)},
        maxlen=EVENT_STREAM_LENGTH,
        approximate=True,
    )


def event_body(event: str, event_id: str, time_ms: int, data: Mapping[str, object]) -> bytes:
    """The JSON body POSTed for one event (the bytes that are signed)."""
    body = {"id": event_id, "event": event, "created_at": iso_from_ms(time_ms), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _entry_event(
    hit_stream: str | None, entry_id: str, fields: Mapping[str, str]
) -> tuple[str, str, bytes]:
    """The event of a stream entry, its id and its body; `hit_stream` names the hit stream of a
    click (None: an entry of the event stream)."""
    time_ms = int(entry_id.split("-")[0])
    if hit_stream is not None:
        data = {
            "link_id": int(fields.get("link", "0") or 0),
            **{name: fields.get(name) for name in ("kind", "source", "channel", "evidence")},
        }
        data = {k: (None if v == "-" else v) for k, v in data.items()}
        click_id = f"{hit_stream}:{entry_id}"
        return "click", click_id, event_body("click", click_id, time_ms, data)
    event = fields.get("event", "")
    data = json.loads(fields.get("data", "{}"))
    return event, entry_id, event_body(event, entry_id, time_ms, data)


class WebhookConsumer:
    """Reads events through the consumer group and sends the deliveries that are due."""

    def __init__(
        self,
        r: redis.Redis,
        keys: Keys,
        *,
        allow_private: bool,
        retry_base_ms: int,
        max_attempts: int,
        name: str | None = None,
        stale_ms: int = STALE_ENTRY_MS,
    ) -> None:
        self.r = r
        self.keys = keys
        self.allow_private = allow_private
        self.retry_base_ms = retry_base_ms
        self.max_attempts = max_attempts
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.stale_ms = stale_ms
        self.hit_streams = hit_streams(keys)
        self.streams = (keys.link_events(), *self.hit_streams)
        # Whether the last listing of the webhooks had one subscribing to clicks: only then does
        # the next loop read the hit streams.
        self.reads_clicks = False
        self._ready = False

    def _ensure_group(self) -> None:
        """Create the consumer group on every stream (from now on) if it is not there."""
        if self._ready:
            return
        for stream in self.streams:
            try:
                self.r.xgroup_create(stream, GROUP, id="$", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
        self._ready = True

    def run_once(self, block_ms: int = 0) -> int:
        """Take new events (waiting up to `block_ms`), queue their deliveries, send those due.

        Returns the number of delivery attempts made.
        """
        self._ensure_group()
        # Reading and acknowledging every hit when nobody is sent clicks was most of what the
        # consumers cost under redirect load: without a click subscriber, only the event stream.
        entries = self._take(self.streams if self.reads_clicks else self.streams[:1])
        # Listed after the reads, so every webhook created before an entry was appended is seen.
        webhooks = list_webhooks(self.r, self.keys)
        self.reads_clicks = any("click" in webhook.events for webhook in webhooks)
        if entries:
            self._queue(entries, webhooks)
        elif block_ms:
            time.sleep(block_ms / 1000)  # nothing new anywhere: wait before looking again
        return self.deliver_due()

    def _take(self, streams: tuple[str, ...]) -> list[tuple[str, str, dict[str, str]]]:
        """The entries of `streams` left by a dead consumer, then the new ones (a batch each)."""
        entries: list[tuple[str, str, dict[str, str]]] = []
        for stream in streams:
            claimed = self.r.xautoclaim(
                stream, GROUP, self.name, self.stale_ms, "0-0", count=READ_BATCH
            )
            for entry_id, fields in claimed[1]:
                if fields:
                    entries.append((stream, entry_id, fields))
                else:  # trimmed away before anyone delivered it (Redis 6.2 still lists it)
                    self.r.xack(stream, GROUP, entry_id)
        # One stream per read: the streams are in different slots of a Redis Cluster.
        for stream in streams:
            replies = self.r.xreadgroup(GROUP, self.name, {stream: ">"}, count=READ_BATCH)
            for _, stream_entries in replies or ():
                entries += [(stream, entry_id, fields) for entry_id, fields in stream_entries]
        return entries

    def _queue(
        self, entries: list[tuple[str, str, dict[str, str]]], webhooks: list[Webhook]
    ) -> None:
        """One job per (event, webhook sent it), queued with the entries' acknowledgement."""
        now = int(time.time() * 1000)
        pipe = self.r.pipeline(transaction=False)
        for stream, entry_id, fields in entries:
            event, event_id, body = _entry_event(self.hit_streams.get(stream), entry_id, fields)
            for webhook in webhooks:
                if webhook.is_sent(event, stream, entry_id):
                    job = {
                        "delivery": f"{webhook.id}:{event_id}:{event}",
                        "webhook": webhook.id,
                        "event": event,
                        "body": body.decode(),
                        "attempt": 1,
                    }
                    pipe.zadd(self.keys.webhook_queue(), {json.dumps(job): now})
            pipe.xack(stream, GROUP, entry_id)
        pipe.execute()

    def deliver_due(self) -> int:
        """Send every delivery that is due and that this consumer claims first."""
        attempts = 0
        now = int(time.time() * 1000)
        for member in self.r.zrangebyscore(
            self.keys.webhook_queue(), "-inf", now, start=0, num=READ_BATCH
        ):
            if self.r.zrem(self.keys.webhook_queue(), member):
                self._deliver(json.loads(member))
                attempts += 1
        return attempts

    def _deliver(self, job: dict[str, object]) -> None:
        try:
            webhook = get_webhook(self.r, self.keys, str(job["webhook"]))
        except NotFound:
            return  # deleted since: its deliveries go with it
        attempt = int(str(job["attempt"]))
        body = str(job["body"]).encode()
        status, error = self._post(webhook, str(job["event"]), str(job["delivery"]), body)
        delivered = status is not None and 200 <= status < 300
        retry = not delivered and attempt < self.max_attempts
        outcome = "delivered" if delivered else ("retrying" if retry else "failed")
        entry = {
            "delivery": job["delivery"],
            "event": job["event"],
            "attempt": attempt,
            "status": status,
            "error": error,
            "outcome": outcome,
            "at": iso_from_ms(int(time.time() * 1000)),
        }
        pipe = self.r.pipeline(transaction=False)
        pipe.lpush(self.keys.webhook_deliveries(webhook.id), json.dumps(entry))
        pipe.ltrim(self.keys.webhook_deliveries(webhook.id), 0, LOG_LENGTH - 1)
        if retry:
            due = int(time.time() * 1000) + self.retry_base_ms * 2 ** (attempt - 1)
            pipe.zadd(self.keys.webhook_queue(), {json.dumps({**job, "attempt": attempt + 1}): due})
        pipe.execute()
        if outcome == "failed":
            log.warning(
                "webhook %s gave up on %s after %d attempts", webhook.id, job["delivery"], attempt
            )

    def _post(
        self, webhook: Webhook, event: str, delivery: str, body: bytes
    ) -> tuple[int | None, str | None]:
        """POST `body` to the webhook: (HTTP status or None, error or None)."""
        try:
            check_target(webhook.url, self.allow_private)
        except InvalidInput as refused:
            return None, refused.detail
        request = urllib.request.Request(
            webhook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Lumen-Webhooks/1",
                SIGNATURE_HEADER: sign(webhook.secret, body),
                "X-Lumen-Event": event,
                "X-Lumen-Delivery": delivery,
            },
        )
        try:
            with _OPENER.open(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:
                return int(response.status), None
        except urllib.error.HTTPError as answer:
            return int(answer.code), f"HTTP {answer.code}"
        except (OSError, ValueError) as failure:
            return None, str(failure)[:200] or type(failure).__name__

    def run_forever(self, stop: threading.Event) -> None:
        """Consume until `stop` is set; a Redis failure is logged and retried a second later."""
        while not stop.is_set():
            try:
                self.run_once(block_ms=500)
            except redis.RedisError as error:
                # Redis being away is expected now and then (a restart): one line, no traceback.
                log.warning("the webhook consumer could not reach Redis (%s); retrying", error)
                stop.wait(1)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver's redirect is an answer, not an invitation (it could point anywhere)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)
