"""Conditional GET and HEAD, case by case (tests/data/conditional/cases.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feeds.conditional import not_modified

CASES = json.loads((Path(__file__).parent / "data/conditional/cases.json").read_text("utf-8"))
ETAGS = ('"abc"', '"abc-gz"')
LAST_MODIFIED = datetime(2026, 11, 24, 8, 30, 15, 750_000, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["id"] for c in CASES["cases"]])
def test_not_modified(case: dict[str, Any]) -> None:
    got = not_modified(
        case["method"],
        case.get("if_none_match"),
        case.get("if_modified_since"),
        etags=ETAGS,
        last_modified=LAST_MODIFIED,
        now=NOW,
    )
    assert got is case["304"]


def test_the_cases_cover_both_headers_and_every_outcome() -> None:
    cases = CASES["cases"]
    assert len({c["id"] for c in cases}) == len(cases)
    for header in ("if_none_match", "if_modified_since"):
        assert {c["304"] for c in cases if header in c} == {True, False}
