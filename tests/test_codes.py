"""Codes: hashids without look-alikes, canonicality, and the slug rules."""

from __future__ import annotations

import pytest

from shortener.codes import ALPHABET, RESERVED_WORDS, CodeFactory, validate_slug
from shortener.errors import InvalidInput


def test_alphabet_has_no_look_alikes():
    assert not set(ALPHABET) & set("0O1lIo")


def test_codes_have_the_minimum_length_and_round_trip():
    codes = CodeFactory("salt", 5)
    for number in (1, 2, 99, 123_456, 10**9):
        code = codes.encode(number)
        assert len(code) >= 5
        assert codes.is_canonical(code)


def test_salt_changes_the_codes():
    assert CodeFactory("a", 5).encode(42) != CodeFactory("b", 5).encode(42)


@pytest.mark.parametrize("code", ["", "abc", "zzzzzzzz", "a b", "Ab3-x", "0000"], ids=str)
def test_strings_that_do_not_re_encode_to_themselves_are_not_canonical(code):
    assert not CodeFactory("salt", 5).is_canonical(code)


def test_a_mutated_code_is_not_canonical():
    codes = CodeFactory("salt", 5)
    code = codes.encode(777)
    assert not codes.is_canonical(code[:-1])
    assert not codes.is_canonical(code + code[-1])


@pytest.mark.parametrize(
    "word",
    sorted(
        RESERVED_WORDS & {"api", "dashboard", "embed", "static", "healthz", "readyz", "metrics"}
    ),
)
def test_reserved_words_are_refused_as_slugs(word):
    with pytest.raises(InvalidInput, match="reserved"):
        validate_slug(word)


@pytest.mark.parametrize("slug", ["a", "A-b_9", "x" * 64])
def test_valid_slugs(slug):
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    ["", "x" * 65, "a.b", "a/b", "ä", None],
    ids=["empty", "65", "dot", "slash", "umlaut", "none"],
)
def test_invalid_slugs(slug):
    with pytest.raises(InvalidInput):
        validate_slug(slug)


def test_without_a_salt_setting_a_random_one_is_kept_beside_the_secret_key(tmp_path):
    from config import Settings
    from shortener.context import load_hashids_salt

    settings = Settings(data_dir=str(tmp_path / "a"))
    salt = load_hashids_salt(settings)
    assert len(salt) == 64 and salt != "lumen"
    assert load_hashids_salt(settings) == salt  # kept: the next start makes the same codes
    assert (tmp_path / "a" / "hashids_salt").stat().st_mode & 0o777 == 0o600
    assert load_hashids_salt(Settings(data_dir=str(tmp_path / "b"))) != salt
    assert load_hashids_salt(settings.replace(hashids_salt="mine")) == "mine"
