"""The per-worker link cache: fresh entries, remembered targets, the fallback while Redis fails."""

from __future__ import annotations

import time

from shortener.link_cache import LinkCache, LinkTarget
from shortener.links import LinkRef

REF = LinkRef(7, "", "example.com")
TARGET = LinkTarget("https://example.com/a", 302, None)


def test_a_fresh_entry_gives_its_ref_and_a_stale_one_only_the_fallback() -> None:
    cache = LinkCache(ttl=0.05, stale_ttl=60)
    cache.put("go.test", "abc", REF)
    cache.remember_target("go.test", "abc", TARGET)
    assert cache.get("go.test", "abc") == REF
    time.sleep(0.06)
    assert cache.get("go.test", "abc") is None
    entry = cache.fallback("go.test", "abc")
    assert entry is not None and entry.target == TARGET


def test_looking_a_code_up_again_keeps_the_target_it_is_known_to_send_to() -> None:
    cache = LinkCache(ttl=30, stale_ttl=60)
    cache.put("go.test", "abc", REF)
    cache.remember_target("go.test", "abc", TARGET)
    cache.put("go.test", "abc", REF)  # the fresh period ended and Redis was asked again
    entry = cache.fallback("go.test", "abc")
    assert entry is not None and entry.target == TARGET


def test_a_code_that_now_names_another_link_forgets_the_old_target() -> None:
    cache = LinkCache(ttl=30, stale_ttl=60)
    cache.put("go.test", "abc", REF)
    cache.remember_target("go.test", "abc", TARGET)
    cache.put("go.test", "abc", LinkRef(8, "", "example.org"))
    entry = cache.fallback("go.test", "abc")
    assert entry is not None and entry.target is None


def test_the_cache_keeps_at_most_max_entries_dropping_the_least_recently_put() -> None:
    cache = LinkCache(ttl=30, stale_ttl=60, max_entries=3)
    for code in ("a", "b", "c", "d"):
        cache.put("go.test", code, REF)
    assert cache.get("go.test", "a") is None
    assert all(cache.get("go.test", code) == REF for code in ("b", "c", "d"))


def test_a_target_past_its_expiry_is_not_live() -> None:
    assert not LinkTarget("https://example.com", 302, expires_at_ms=1_000).is_live(1_000)
    assert LinkTarget("https://example.com", 302, expires_at_ms=1_001).is_live(1_000)
    assert LinkTarget("https://example.com", 302).is_live(10**15)
