"""feeds.arabic.script: the language rule of the module docstring, case by case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feeds.arabic.script import arabic_ratio, language

DATA = Path(__file__).parent / "data" / "arabic" / "script.tsv"


def _cases() -> list[Any]:
    rows = [line.split("\t") for line in DATA.read_text(encoding="utf-8").splitlines()]
    return [
        pytest.param(text, lang, id=case_id)
        for case_id, text, lang in rows
        if not case_id.startswith("#")
    ]


@pytest.mark.parametrize(("text", "expected"), _cases())
def test_language(text: str, expected: str) -> None:
    assert language(text) == expected


@pytest.mark.parametrize(
    ("text", "ratio"),
    [
        ("أعلنت", 1.0),
        ("آبل iPhone", 3 / 9),
        ("iPhone 17", 0.0),
        ("١٢٣", 0.0),  # digits are not letters
        ("", 0.0),
        ("أعـــلنت", 1.0),  # tatweel is not a letter
        ("أَعْلَنَ", 1.0),  # neither are the diacritics
        ("ﻻ ﷲ", 1.0),  # presentation forms are
        ("ÃÚáäÊ", 0.0),  # Latin-1 mojibake is Latin
    ],
)
def test_arabic_ratio(text: str, ratio: float) -> None:
    assert arabic_ratio(text) == pytest.approx(ratio)


def test_threshold_boundary() -> None:
    # 3 Arabic letters against 1 Latin: exactly 75 % is enough.
    assert language("ابت x") == "ar"
    # 1 Arabic word in a Latin text of two runs: mixed.
    assert language("abc ابتث def") == "mixed"


def test_an_arabic_headline_of_latin_names_is_laid_out_right_to_left() -> None:
    from feeds.publish import _card

    # Latin letters are 18 of 22: the card laid it out left to right, as English,
    # reversing the sentence's order for a reader of Arabic.
    assert _card.attrs("OpenAI تطلق ChatGPT Atlas") == 'dir="rtl" lang="ar"'
    assert _card.attrs("OpenAI launches the ChatGPT Atlas browser") == 'dir="ltr" lang="en"'
