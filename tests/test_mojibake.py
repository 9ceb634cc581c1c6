"""feeds.arabic.mojibake: each repair undoes the wrong decoding that made the text.

Broken samples are made here from clean Arabic by the wrong encode/decode (research
section 4a), so every case states exactly how the mojibake arose.
"""

from __future__ import annotations

from collections.abc import Callable

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.arabic.mojibake import REPAIRS, detect, repair

# cp1256 has no Arabic-Indic digits, so samples for the cp1256 cases use ASCII digits.
CLEAN = (
    "أعلنت شركة آبل عن هاتف iPhone 17 الجديد، بسعر 999 دولاراً «رسمياً»؛ هل يستحق؟",
    "سامسونج تكشف عن Galaxy S25 Ultra بمعالج جديد وبطارية أكبر",
    "ثغرة أمنية خطيرة في متصفح كروم… حدّث الآن",
)
CLEAN_INDIC = ("ارتفعت الإيرادات ٣٫٥ مليار دولار في الربع الثالث", *CLEAN[1:])


def _sloppy_cp1252(data: bytes) -> str:
    # What feedparser and browsers do: cp1252, with latin-1 for its five holes.
    return "".join(
        chr(b) if b in b"\x81\x8d\x8f\x90\x9d" else bytes([b]).decode("cp1252") for b in data
    )


BREAKERS: dict[str, Callable[[str], str]] = {
    "utf8-read-as-cp1256": lambda t: t.encode("utf-8").decode("cp1256"),
    "cp1256-read-as-latin1": lambda t: t.encode("cp1256").decode("latin-1"),
    "cp1256-read-as-cp1252": lambda t: _sloppy_cp1252(t.encode("cp1256")),
    "utf8-read-as-latin1": lambda t: t.encode("utf-8").decode("latin-1"),
    "utf8-read-as-cp1252": lambda t: _sloppy_cp1252(t.encode("utf-8")),
    "utf8-read-as-latin1-twice": lambda t: (
        t.encode("utf-8").decode("latin-1").encode("utf-8").decode("latin-1")
    ),
}


@pytest.mark.parametrize(
    ("breaker", "expected", "clean"),
    [
        ("utf8-read-as-cp1256", "cp1256-as-utf8", CLEAN_INDIC),
        ("cp1256-read-as-latin1", "cp1256-as-latin1", CLEAN),
        ("cp1256-read-as-cp1252", "cp1256-as-latin1", CLEAN),
        ("utf8-read-as-latin1", "utf8-as-latin1", CLEAN_INDIC),
        ("utf8-read-as-cp1252", "utf8-as-latin1", CLEAN_INDIC),
        ("utf8-read-as-latin1-twice", "double-utf8", CLEAN_INDIC),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_detect_and_repair(breaker: str, expected: str, clean: tuple[str, ...]) -> None:
    broken = [BREAKERS[breaker](t) for t in clean]
    assert broken != list(clean)
    assert detect(broken) == expected
    assert [repair(b, expected) for b in broken] == list(clean)


def test_cp1256_mojibake_is_not_handed_to_ftfy() -> None:
    # ftfy "uncurls" the „ that is half of ل, so the text could never be repaired.
    broken = CLEAN[0].encode("utf-8").decode("cp1256")
    assert "„" in broken
    assert repair(broken, "utf8-as-latin1") == broken
    assert repair(broken, "double-utf8") == broken


@pytest.mark.parametrize(
    "texts",
    [
        CLEAN,
        CLEAN_INDIC,
        ("أعلنت «آبل» ‏اليوم؛ هل يستحق؟ … ٣٫٥ ‏نعم",),
        ("Apple launches the iPhone 17", "Café résumé naïve — “quoted”"),
        ("iPhone 17", "GPT-5"),
        (),
    ],
    ids=["arabic", "arabic-indic-digits", "arabic-bidi-marks", "english", "ascii", "empty"],
)
def test_clean_text_needs_no_repair(texts: tuple[str, ...]) -> None:
    assert detect(texts) is None


@pytest.mark.parametrize("name", REPAIRS)
@pytest.mark.parametrize("text", [*CLEAN_INDIC, "Café résumé naïve", "iPhone 17"])
def test_repair_leaves_clean_text_alone(name: str, text: str) -> None:
    assert repair(text, name) == text


def test_ftfy_leaves_clean_arabic_alone() -> None:
    text = "أعلنت «آبل» ‏اليوم؛ هل يستحق؟ … ٣٫٥ ‏نعم"
    assert ftfy.fix_text(text) == text


def test_unrecoverable_text_is_returned_unchanged() -> None:
    lost = "أعلنت".encode("cp1256").decode("utf-8", errors="replace")  # �����
    for name in REPAIRS:
        assert repair(lost, name) == lost
    assert repair("ÃÚáäÊ", None) == "ÃÚáäÊ"
    assert repair("ÃÚáäÊ", "no-such-repair") == "ÃÚáäÊ"


def test_repairs_are_named() -> None:
    assert REPAIRS == ("cp1256-as-utf8", "cp1256-as-latin1", "utf8-as-latin1", "double-utf8")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_repair_of_detect_never_raises(text: str) -> None:
    repair(text, detect([text]))


# Real words, not random letters: a random "ط«" is byte-for-byte the mojibake of "ث",
# so only text a person would write can be required to stay untouched.
_WORDS = [
    "أعلنت",
    "شركة",
    "آبل",
    "عن",
    "هاتف",
    "جديد",
    "بسعر",
    "٣٠٠",
    "دولار",
    "في",
    "السعودية",
    "ومصر",
    "الذكاء",
    "الاصطناعي",
    "التوليدي",
    "يغير",
    "طريقة",
    "البحث",
    "على",
    "الإنترنت",
    "ثغرة",
    "أمنية",
    "خطيرة",
    "في",
    "متصفح",
    "كروم",
    "تستدعي",
    "التحديث",
    "فورا",
    "«عاجل»",
    "؛",
    "؟",
    "،",
    "2026",
    "ثلاثة",
    "طائرة",
    "ظهر",
]
ARABIC_TEXT = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=30).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(ARABIC_TEXT)
def test_clean_arabic_is_a_fixed_point(text: str) -> None:
    assert repair(text, detect([text])) == text
