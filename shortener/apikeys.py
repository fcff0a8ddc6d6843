"""API keys: random bearer tokens of which Lumen stores only the SHA-256, each with its
scopes; dashboard sign-ins.

A dashboard sign-in is a random id kept in the session cookie; Redis holds its SHA-256 -> the
key's digest, with the session's lifetime. Signing out deletes it, so a copied cookie stops
working at once, and revoking the key ends every sign-in made with it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from shortener.errors import Conflict, InvalidInput, NotFound
from shortener.store import Keys

KEY_PREFIX = "lum_"
# Patterns are checked with fullmatch (a `$` alone also matches before a trailing newline);
# their anchors make each string the JSON Schema pattern of openapi.py as well.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
ADMIN = "admin"
# Every scope, and the scopes each one grants besides itself: `admin` grants everything (the
# keys made before scopes existed are `admin`), and a key that may write links may read them.
SCOPE_GRANTS: dict[str, frozenset[str]] = {
    "links:read": frozenset(),
    "links:write": frozenset({"links:read"}),
    "stats:read": frozenset(),
    ADMIN: frozenset({"links:read", "links:write", "stats:read"}),
}
SCOPES = tuple(SCOPE_GRANTS)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A live key as Lumen knows it: its name and scopes (never the key itself)."""

    name: str
    scopes: tuple[str, ...]
    created_at: int

    def allows(self, scope: str) -> bool:
        """Whether this key holds `scope`, itself or through a broader scope.

        >>> ApiKey("ci", ("links:write",), 0).allows("links:read")
        True
        >>> ApiKey("ci", ("stats:read",), 0).allows("links:write")
        False
        """
        return any(scope == held or scope in SCOPE_GRANTS.get(held, ()) for held in self.scopes)


def key_digest(key: str) -> str:
    """The SHA-256 of a key: all Lumen stores (and all a dashboard session holds)."""
    return hashlib.sha256(key.encode()).hexdigest()


def validate_scopes(scopes: Iterable[str] | None) -> tuple[str, ...]:
    """Distinct known scopes in the order given; none given means `admin`."""
    chosen = tuple(dict.fromkeys(scopes or ()))
    for scope in chosen:
        if scope not in SCOPE_GRANTS:
            raise InvalidInput(
                f"unknown scope {scope!r}; scopes are {', '.join(SCOPES)}", field="scopes"
            )
    return chosen or (ADMIN,)


def create_api_key(
    r: redis.Redis,
    keys: Keys,
    name: str,
    created_at: int,
    scopes: Iterable[str] | None = None,
) -> str:
    """Create a key named `name` with `scopes` (default `admin`) and return it; shown once."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            "a key name is 1 to 64 letters, digits, '.', '_', '@' or '-'", field="name"
        )
    chosen = validate_scopes(scopes)
    if any(entry.name == name for entry in list_api_keys(r, keys)):
        raise Conflict(f"a key named {name!r} exists; revoke it first or choose another name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = {"name": name, "created_at": created_at, "scopes": list(chosen)}
    r.hset(keys.api_keys(), key_digest(key), json.dumps(record))
    return key


def _api_key_from_json(raw: str) -> ApiKey:
    record = json.loads(raw)
    # Keys stored before scopes existed could do everything: they stay `admin`.
    return ApiKey(record["name"], tuple(record.get("scopes") or (ADMIN,)), record["created_at"])


def list_api_keys(r: redis.Redis, keys: Keys) -> list[ApiKey]:
    """Every key's name, scopes and creation time (never the key), oldest first."""
    entries = [_api_key_from_json(raw) for raw in r.hgetall(keys.api_keys()).values()]
    return sorted(entries, key=lambda entry: (entry.created_at, entry.name))


def revoke_api_key(r: redis.Redis, keys: Keys, name: str) -> None:
    """Delete the key named `name`; NotFound when there is none."""
    for digest, raw in r.hgetall(keys.api_keys()).items():
        if json.loads(raw)["name"] == name:
            r.hdel(keys.api_keys(), digest)
            return
    raise NotFound(f"there is no key named {name!r}")


def verify_api_key(r: redis.Redis, keys: Keys, key: str) -> ApiKey | None:
    """The live key `key`, or None when it is not one."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return find_api_key(r, keys, key_digest(key))


def find_api_key(r: redis.Redis, keys: Keys, digest: str) -> ApiKey | None:
    """The live key with this digest, or None (a revoked key ends its sessions)."""
    raw = r.hget(keys.api_keys(), digest)
    return _api_key_from_json(raw) if raw else None


def open_sign_in(r: redis.Redis, keys: Keys, digest: str, lifetime_seconds: int) -> str:
    """Start a dashboard sign-in for the key with `digest`; returns its id (for the cookie)."""
    sign_in = secrets.token_urlsafe(32)
    r.set(keys.sign_in(key_digest(sign_in)), digest, ex=lifetime_seconds)
    return sign_in


def signed_in_key(r: redis.Redis, keys: Keys, sign_in: str, digest: str) -> ApiKey | None:
    """The key when `sign_in` is live and was made with the key of `digest`, else None."""
    if len(sign_in) > 100:
        return None
    pipe = r.pipeline(transaction=False)
    pipe.get(keys.sign_in(key_digest(sign_in)))
    pipe.hget(keys.api_keys(), digest)
    stored_digest, raw = pipe.execute()
    if stored_digest != digest or not raw:
        return None
    return _api_key_from_json(raw)


def close_sign_in(r: redis.Redis, keys: Keys, sign_in: str) -> None:
    """End a dashboard sign-in: its cookie no longer opens anything."""
    r.delete(keys.sign_in(key_digest(sign_in)))
