"""feeds.arabic.dates: one case per date form of research/arabic.md sections 3b and 3c.

The cases live in tests/data/arabic/dates.tsv: id, raw string, expected UTC time (or
None), optional default_tz. Every case is read against the same fixed `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feeds.arabic.dates import has_zone_quirk, hijri_to_gregorian, parse_date

NOW = datetime(2025, 9, 15, 12, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data" / "arabic" / "dates.tsv"


def _cases() -> list[Any]:
    cases = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        case_id, raw, expected, *tz = line.split("\t")
        want = None if expected == "None" else datetime.fromisoformat(expected)
        cases.append(pytest.param(raw, want, tz[0] if tz else None, id=case_id))
    return cases


@pytest.mark.parametrize(("raw", "expected", "default_tz"), _cases())
def test_parse_date(raw: str, expected: datetime | None, default_tz: str | None) -> None:
    got = parse_date(raw, now=NOW, default_tz=default_tz)
    assert got == expected
    if got is not None:
        assert got.tzinfo is UTC


def test_levantine_aab_is_not_the_relative_base() -> None:
    # dateparser's auto-detection answers "1 آب 2025" with the relative base date.
    got = parse_date("1 آب 2025", now=NOW)
    assert got is not None and got.date() != NOW.date()


@pytest.mark.parametrize("raw", ["سبتمبر", "الخميس", "آب", "خبر عاجل", "Monday"])
def test_no_digit_and_no_relative_word_never_gives_now(raw: str) -> None:
    assert parse_date(raw, now=NOW) is None


def test_relative_dates_follow_now() -> None:
    later = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    assert parse_date("منذ 3 ساعات", now=later) == datetime(2030, 1, 2, 0, 4, tzinfo=UTC)


def test_naive_now_is_a_bug() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_date("منذ ساعة", now=datetime(2025, 9, 15, 12, 0))


@pytest.mark.parametrize(
    ("hijri", "gregorian"),
    [
        ((1, 1, 1), (622, 7, 19)),  # the civil epoch, 16 July 622 Julian
        ((1446, 9, 1), (2025, 3, 1)),  # Ramadan 1446 began on 1 March 2025
        ((1447, 1, 1), (2025, 6, 27)),
        ((1447, 3, 22), (2025, 9, 15)),  # Umm al-Qura says 14 September: documented drift
    ],
    ids=["epoch", "ramadan-1446", "new-year-1447", "rabi-1-1447"],
)
def test_tabular_hijri(hijri: tuple[int, int, int], gregorian: tuple[int, int, int]) -> None:
    assert hijri_to_gregorian(*hijri) == datetime(*gregorian)


@pytest.mark.parametrize(
    ("raw", "quirk"),
    [
        ("Mon, 15 Sep 2025 10:30:00 +0000", False),
        ("2025-09-15T10:30:00Z", False),
        ("Mon, 15 Sep 2025 10:30:00 GMT", False),
        ("Mon, 15 Sep 2025 10:30:00 AST", True),
        ("Mon, 15 Sep 2025 10:30:00 KSA", True),
        ("Mon, 15 Sep 2025 10:30:00 GST", True),
        ("Mon, 15 Sep 2025 10:30:00 EET", True),  # feedparser: UTC
        ("Mon, 15 Sep 2025 10:30:00 EST", False),
        ("Mon, 15 Sep 2025 10:30:00 GMT+3", True),
        ("Mon, 15 Sep 2025 10:30:00 UTC +03:00", True),
        ("15 سبتمبر 2025 10:30 بتوقيت مكة", True),
        ("الإثنين, 15 Sep 2025 10:30:00 +0300", True),
        ("Mon, ١٥ Sep ٢٠٢٥", True),
        ("15/09/2025 10:30", True),
        ("‏Mon, 15 Sep 2025 10:30:00 +0000", True),
    ],
    ids=lambda v: v if isinstance(v, bool) else None,
)
def test_has_zone_quirk(raw: str, quirk: bool) -> None:
    assert has_zone_quirk(raw) is quirk
