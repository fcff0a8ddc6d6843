"""JSON lines in, attributions out: the engine behind `python -m shortener classify`.

Each input line is an object `{"ua": "...", "referrer": "..."}`; both fields are optional and may
be null, other fields are ignored. Each output line holds the attribution's fields (`kind`,
`source`, `channel`, `dark`, `evidence`, `device`, `os`, `browser`, `app`), or
`{"error": "<what is wrong>", "line": N}` for a line that cannot be read: exactly one output line
per input line, in order, and nothing raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping

from shortener.analytics.attribution import classify_hit

_FIELDS = ("ua", "referrer")
_EXPECTED = 'expected a JSON object such as {"ua": "Mozilla/5.0 ...", "referrer": "https://..."}'
_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def classify_lines(lines: Iterable[str]) -> Iterator[str]:
    r"""Classify JSON lines of hits; one JSON line out for every line in.

    >>> lines = ['{"ua": "WhatsApp/2.19.308 A", "referrer": null}', '{"ua": 7}']
    >>> first, second = classify_lines(lines)
    >>> print(first)  # doctest: +NORMALIZE_WHITESPACE
    {"kind": "preview", "source": "messaging", "channel": "whatsapp", "dark": false,
     "evidence": "none", "device": "bot", "os": "Other", "browser": "WhatsApp", "app": "WhatsApp"}
    >>> print(second)
    {"error": "\"ua\" must be a string or null, got a number", "line": 2}
    """
    for number, line in enumerate(lines, start=1):
        yield json.dumps(_classify_line(line, number))


def _classify_line(line: object, number: int) -> Mapping[str, object]:
    if not isinstance(line, str):
        return _error(f"expected a line of text, got {type(line).__name__}", number)
    text = line.strip().lstrip("\ufeff")
    if not text:
        return _error(f"blank line: {_EXPECTED}", number)
    try:
        hit = json.loads(text)
    except json.JSONDecodeError as exc:
        return _error(f"invalid JSON: {exc.msg} at column {exc.colno}", number)
    except RecursionError:
        return _error("invalid JSON: nested too deeply", number)
    if not isinstance(hit, dict):
        return _error(f"{_EXPECTED}, got {_json_type(hit)}", number)
    for field in _FIELDS:
        if not isinstance(hit.get(field), str | None):
            return _error(
                f'"{field}" must be a string or null, got {_json_type(hit[field])}', number
            )
    return classify_hit(hit.get("ua") or "", hit.get("referrer") or "").as_dict()


def _error(message: str, number: int) -> Mapping[str, object]:
    return {"error": message, "line": number}


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)
