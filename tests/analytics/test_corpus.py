"""Every entry of the labelled corpus (../shared/corpus/hits.jsonl beside the repository).

Humans must match kind, source and channel; previews kind and channel; bots kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shortener.analytics.attribution import classify_hit

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "hits.jsonl"


def _entries() -> list:
    if not CORPUS.is_file():
        reason = f"labelled corpus not found at {CORPUS} (shared/ is copied beside the clone)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="corpus-missing")]
    entries = []
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            entry = json.loads(line)
            expect = entry["expect"]
            entries.append(
                pytest.param(entry, id=f"line{number}-{expect['kind']}-{expect['channel']}")
            )
    return entries


@pytest.mark.parametrize("entry", _entries())
def test_corpus_entry(entry: dict) -> None:
    expect = entry["expect"]
    hit = classify_hit(entry["ua"], entry["referrer"])
    if expect["kind"] == "human":
        got, want = (
            (hit.kind, hit.source, hit.channel),
            (expect["kind"], expect["source"], expect["channel"]),
        )
    elif expect["kind"] == "preview":
        got, want = (hit.kind, hit.channel), (expect["kind"], expect["channel"])
    else:
        got, want = hit.kind, expect["kind"]
    assert got == want, entry["note"]
