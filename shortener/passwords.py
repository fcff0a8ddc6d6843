"""Link passwords, kept only as salted scrypt hashes (hashlib: no web framework below the routes).

A stored hash reads `scrypt$<n>$<r>$<p>$<salt hex>$<digest hex>`, so the cost can be raised later
and old hashes still check.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import gevent
from gevent import monkey

# scrypt's cost: 2**14 x 8 x 128 bytes = 16 MiB of memory per hash (OWASP's minimum for scrypt,
# Password Storage Cheat Sheet); 0.28-0.36 s of CPU measured on the shared 2-core test machine,
# which is why a gevent worker runs it in its native thread pool (see `_scrypt`).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
DIGEST_BYTES = 32


def hash_password(password: str) -> str:
    """A new salted scrypt hash of `password`."""
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(stored: str, password: str) -> bool:
    """True when `password` hashes to `stored` (False for anything that is not such a hash).

    >>> password_matches(hash_password("open sesame"), "open sesame")
    True
    >>> password_matches("not a hash", "x")
    False
    """
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:4]):
        return False
    n, r, p = (int(value) for value in parts[1:4])
    try:
        salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
        digest = _scrypt(password, salt, n, r, p)
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """scrypt of `password`; in a gevent worker on a native thread (hashlib releases the GIL),
    so the worker's other requests (redirects) go on meanwhile."""

    def run() -> bytes:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, dklen=DIGEST_BYTES, maxmem=64 << 20
        )

    if monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool.apply(run)  # type: ignore[no-any-return]
    return run()
