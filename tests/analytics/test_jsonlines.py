"""`classify_lines`: one output line per input line, in order; garbage gives an error line."""

from __future__ import annotations

import json

import pytest

from shortener.analytics.jsonlines import classify_lines

FIELDS = ["kind", "source", "channel", "dark", "evidence", "device", "os", "browser", "app"]


def test_one_line_out_per_line_in_in_order() -> None:
    lines = [
        '{"ua": "WhatsApp/2.19.308 A", "referrer": ""}\n',
        '{"ua": "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0", '
        '"referrer": "https://mail.google.com/"}\n',
        "not json\n",
        '{"referrer": "https://t.co/"}\n',
    ]
    out = [json.loads(line) for line in classify_lines(lines)]
    assert [o.get("channel", o.get("error")) for o in out][:2] == ["whatsapp", "gmail"]
    assert out[2]["line"] == 3 and "error" in out[2]
    assert list(out[0]) == FIELDS
    assert out[3]["kind"] == "bot"  # no user-agent at all: a script


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "blank line"),
        ("   \n", "blank line"),
        ("{", "invalid JSON"),
        ("{'ua': 'x'}", "invalid JSON"),
        ("[" * 100_000, "invalid JSON"),
        ("[1, 2]", "got an array"),
        ('"ua"', "got a string"),
        ("null", "got null"),
        ("3", "got a number"),
        ('{"ua": 7}', '"ua" must be a string or null, got a number'),
        ('{"referrer": ["https://t.co/"]}', '"referrer" must be a string or null, got an array'),
        ('{"ua": {"x": 1}}', "got an object"),
        ('{"ua": true}', "got a boolean"),
        ('{"ua": NaN}', "got a number"),
        (None, "expected a line of text"),
        (b'{"ua": ""}', "expected a line of text"),
    ],
    ids=[
        "empty",
        "whitespace",
        "truncated",
        "single-quotes",
        "nested-too-deep",
        "array",
        "string",
        "null",
        "number",
        "ua-number",
        "referrer-array",
        "ua-object",
        "ua-boolean",
        "ua-nan",
        "none",
        "bytes",
    ],
)
def test_garbage_line_gives_an_error_line(line: object, message: str) -> None:
    [out] = classify_lines(
        [
            line,
        ]
    )  # type: ignore[list-item]
    assert message in json.loads(out)["error"]
    assert json.loads(out)["line"] == 1


@pytest.mark.parametrize(
    "line",
    [
        "{}",
        '{"ua": null, "referrer": null}',
        '{"ua": "", "extra": [1]}',
        '\ufeff{"ua": "curl/8"}',
        '{"ua": "\\ud800", "referrer": "https://\\ud800.com/"}',
    ],
    ids=["empty-object", "nulls", "extra-fields", "byte-order-mark", "lone-surrogates"],
)
def test_odd_but_valid_lines_are_classified(line: str) -> None:
    [out] = classify_lines([line])
    assert list(json.loads(out)) == FIELDS


def test_errors_do_not_stop_the_stream() -> None:
    out = list(classify_lines(["oops", '{"ua": "curl/8"}'] * 3))
    assert len(out) == 6
    assert [("error" in json.loads(line)) for line in out] == [True, False] * 3
    assert [json.loads(line).get("line") for line in out[::2]] == [1, 3, 5]
