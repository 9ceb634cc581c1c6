"""feeds.arabic.visible: display text, display hosts and the filters' folded form, case by
case (tests/data/arabic/visible.json, escaped so that every invisible character shows)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.arabic.visible import (
    CONFUSABLES,
    display_host,
    display_text,
    filter_pattern,
    filter_text,
)

CASES: dict[str, list[list[str]]] = json.loads(
    (Path(__file__).parent / "data" / "arabic" / "visible.json").read_text(encoding="utf-8")
)


def _params(name: str) -> list[Any]:
    return [pytest.param(raw, expected, id=case_id) for case_id, raw, expected in CASES[name]]


@pytest.mark.parametrize(("raw", "expected"), _params("display_text"))
def test_display_text(raw: str, expected: str) -> None:
    assert display_text(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), _params("display_host"))
def test_display_host(raw: str, expected: str) -> None:
    assert display_host(raw) == expected


TRICKY = st.sampled_from(
    [
        *"ab .1!ابتی",
        *"\u200f\u200e\u061c\u200c\u200d\u202e\u2067\u200b\u00ad\U0001f468\u064e\ufe0f",
        *"\ufe8d\ufefb\ufc5e\ufdfd",  # presentation forms: an alef, lam-alef, a mark pair
    ]
)


@given(st.lists(TRICKY, max_size=16).map("".join))
@settings(max_examples=2000, deadline=None)
def test_display_text_is_idempotent_and_drops_every_control(text: str) -> None:
    once = display_text(text)
    assert display_text(once) == once
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b\u00ad]", once)


@given(st.text())
def test_filter_text_is_idempotent(text: str) -> None:
    assert filter_text(filter_text(text)) == filter_text(text)


def test_look_alikes_are_letters_mapped_to_ascii_letters() -> None:
    assert len(CONFUSABLES) > 50
    for look_alike, latin in CONFUSABLES.items():
        assert chr(look_alike).isalpha() and not chr(look_alike).isascii()
        assert isinstance(latin, int) and chr(latin).isascii() and chr(latin).isalpha()


@pytest.mark.parametrize(
    ("pattern", "folded"),
    [
        ("(?i)casino", "(?i)casino"),
        ("c\u0430sino", "casino"),
        ("ca\u200bsino", "casino"),
        ("\uff08ad\uff09", "\\(ad\\)"),
        ("[аб]", "[aб]"),
        ("e\u0301", "é"),  # composed first, as the text is by NFKC
        ("إِعْلان|محتوى مموَّل", "اعلان|محتوي ممول"),  # Arabic letters as keys fold them
    ],
)
def test_filter_pattern(pattern: str, folded: str) -> None:
    assert filter_pattern(pattern) == folded


@pytest.mark.parametrize("text", ["إعلان", "اعلان", "إِعْلَان", "إعـــلان", "إعلان\u200b"])
def test_an_arabic_pattern_matches_however_the_word_is_spelt(text: str) -> None:
    # Diacritics and tatweel, like zero-width characters, let "sponsored" slip a filter.
    pattern = re.compile(filter_pattern("إعلان"))
    assert pattern.search(filter_text(f"{text} مدفوع"))
    assert not pattern.search(filter_text("أعلن"))
