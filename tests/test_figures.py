"""Figures as values (feeds.arabic.numbers through feeds.dedupe's `_canon`): number
words, multipliers, fractions, thousands separators, percent and currency, and model
tokens split by script or digits.

The cases live in tests/data/arabic/figures.tsv: id, text, model tokens, values. Each
text is made a matching key first, as an article's title is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feeds.arabic.matching import match_key
from feeds.arabic.numbers import Value, comparable, same_value, split_scripts
from feeds.dedupe import figures
from feeds.dedupe._features import values

DATA = Path(__file__).parent / "data" / "arabic" / "figures.tsv"


def _cases() -> list[Any]:
    cases = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        case_id, text, models, amounts = line.split("\t")
        want_models = set() if models == "-" else set(models.split())
        want_values = [] if amounts == "-" else [
            (kind, float(amount)) for kind, amount in (v.split(":") for v in amounts.split())
        ]  # fmt: skip
        cases.append(pytest.param(text, want_models, want_values, id=case_id))
    return cases


@pytest.mark.parametrize(("text", "models", "amounts"), _cases())
def test_figures(text: str, models: set[str], amounts: list[tuple[str, float]]) -> None:
    key = match_key(text)
    assert figures(key) == models
    assert list(values(key)) == amounts


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("مايكروسوفت تسرح 6 آلاف موظف", "مايكروسوفت تستغني عن 6000 موظف"),
        ("هيوماين تحصل على ١٨ ألف شريحة", "Nvidia تزود HUMAIN بأكثر من 18,000 شريحة"),
        ("ستارغيت.. نصف تريليون دولار", "مشروع Stargate: استثمار 500 مليار دولار"),
        ("جولة بربع مليار دولار", "نينجا تجمع 250 مليون دولار"),
        ("خسارة 589 مليار دولار", "يمحو نحو 600 مليار دولار"),  # within 3%
    ],
)
def test_one_figure_written_two_ways_is_one_value(a: str, b: str) -> None:
    (va,), (vb,) = values(match_key(a)), values(match_key(b))
    assert same_value(va, vb)


def test_a_share_and_a_head_count_are_not_comparable() -> None:
    (share,) = values(match_key("ميتا تسرح 5% من موظفيها"))
    (count,) = values(match_key("ميتا تستغني عن 3600 موظف"))
    (money,) = values(match_key("خسارة 600 مليار دولار"))
    assert not comparable(share, count) and not comparable(share, money)
    assert comparable(count, ("", 1.0)) and comparable(money, ("$", 1.0))
    assert not same_value(("$", 10e9), ("$", 5e9))


@pytest.mark.parametrize(
    ("word", "parts"),
    [("ب10", ["ب", "10"]), ("وamd", ["و", "amd"]), ("وa36", ["و", "a36"]),
     ("سامسونج", ["سامسونج"]), ("s25", ["s25"])],
)  # fmt: skip
def test_split_scripts(word: str, parts: list[str]) -> None:
    assert split_scripts(word) == parts


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("$", 600e9), ("$", 589e9), True),  # "نحو 600 مليار" is a round figure
        (("$", 1300.0), ("$", 1299.0), True),
        (("", 6000.0), ("", 5900.0), True),
        (("", 927.0), ("", 909.0), False),  # two exact figures that differ: two facts
        (("$", 589e9), ("$", 577e9), False),
        (("", 17.0), ("", 17.0), True),
    ],
)
def test_only_a_round_figure_is_read_loosely(a: Value, b: Value, same: bool) -> None:
    assert same_value(a, b) is same
