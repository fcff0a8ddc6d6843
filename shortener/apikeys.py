"""API keys: random bearer tokens of which Lumen stores only the SHA-256; dashboard sign-ins.

A dashboard sign-in is a random id kept in the session cookie; Redis holds its SHA-256 -> the
key's digest, with the session's lifetime. Signing out deletes it, so a copied cookie stops
working at once, and revoking the key ends every sign-in made with it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import redis

from shortener.errors import Conflict, InvalidInput, NotFound
from shortener.store import Keys

KEY_PREFIX = "lum_"
# Patterns are checked with fullmatch (a `$` alone also matches before a trailing newline);
# their anchors make each string the JSON Schema pattern of openapi.py as well.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def key_digest(key: str) -> str:
    """The SHA-256 of a key: all Lumen stores (and all a dashboard session holds)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(r: redis.Redis, keys: Keys, name: str, created_at: int) -> str:
    """Create a key named `name` and return it; it is shown once and never stored."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            "a key name is 1 to 64 letters, digits, '.', '_', '@' or '-'", field="name"
        )
    if any(entry["name"] == name for entry in list_api_keys(r, keys)):
        raise Conflict(f"a key named {name!r} exists; revoke it first or choose another name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    r.hset(keys.api_keys(), key_digest(key), json.dumps({"name": name, "created_at": created_at}))
    return key


def list_api_keys(r: redis.Redis, keys: Keys) -> list[dict[str, object]]:
    """Every key's name and creation time (never the key), oldest first."""
    entries = [json.loads(raw) for raw in r.hgetall(keys.api_keys()).values()]
    return sorted(entries, key=lambda entry: (entry["created_at"], entry["name"]))


def revoke_api_key(r: redis.Redis, keys: Keys, name: str) -> None:
    """Delete the key named `name`; NotFound when there is none."""
    for digest, raw in r.hgetall(keys.api_keys()).items():
        if json.loads(raw)["name"] == name:
            r.hdel(keys.api_keys(), digest)
            return
    raise NotFound(f"there is no key named {name!r}")


def verify_api_key(r: redis.Redis, keys: Keys, key: str) -> str | None:
    """The name of the key `key`, or None when it is not a live key."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return key_name(r, keys, key_digest(key))


def key_name(r: redis.Redis, keys: Keys, digest: str) -> str | None:
    """The name of the live key with this digest, or None (a revoked key ends its sessions)."""
    raw = r.hget(keys.api_keys(), digest)
    return json.loads(raw)["name"] if raw else None


def open_sign_in(r: redis.Redis, keys: Keys, digest: str, lifetime_seconds: int) -> str:
    """Start a dashboard sign-in for the key with `digest`; returns its id (for the cookie)."""
    sign_in = secrets.token_urlsafe(32)
    r.set(keys.sign_in(key_digest(sign_in)), digest, ex=lifetime_seconds)
    return sign_in


def signed_in_name(r: redis.Redis, keys: Keys, sign_in: str, digest: str) -> str | None:
    """The key's name when `sign_in` is live and was made with the key of `digest`, else None."""
    if len(sign_in) > 100:
        return None
    pipe = r.pipeline(transaction=False)
    pipe.get(keys.sign_in(key_digest(sign_in)))
    pipe.hget(keys.api_keys(), digest)
    stored_digest, raw = pipe.execute()
    if stored_digest != digest or not raw:
        return None
    return str(json.loads(raw)["name"])


def close_sign_in(r: redis.Redis, keys: Keys, sign_in: str) -> None:
    """End a dashboard sign-in: its cookie no longer opens anything."""
    r.delete(keys.sign_in(key_digest(sign_in)))
