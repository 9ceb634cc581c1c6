"""feeds.arabic.matching: every step of research/arabic.md section 2b, table-driven,
plus the pyarabic/camel-tools traps of section 2a and properties checked by hypothesis."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.arabic.matching import match_key, strip_clitics, tokens

STEPS = [
    # step 1: HTML unescaped, tags stripped
    ("html-tags", "<p>آبل <b>تطلق</b></p>", "ابل تطلق"),
    ("html-entities", "آبل &amp; جوجل &#1548; &#8230;", "ابل جوجل"),
    # step 2: NFKC
    ("nfkc-presentation-forms", "ﺍﻟﺘﻘﻨﻴﺔ", "التقنيه"),
    ("nfkc-lam-alef", "ﻷن", "لان"),
    ("nfkc-allah-ligature", "ﷲ", "الله"),
    ("nfkc-full-width", "ＧＰＴ－５", "gpt 5"),
    ("nfkc-decomposed-hamza", "ا\u0654علنت", "اعلنت"),
    ("nfkc-rial-sign", "﷼", "ريال"),
    # step 3: invisible controls deleted, never turned into spaces
    ("zwnj-inside-word", "تك\u200cنولوجيا", "تكنولوجيا"),
    ("rlm-inside-word", "تك\u200fنولوجيا", "تكنولوجيا"),
    ("lro-pdf", "\u202dآبل\u202c", "ابل"),
    ("isolates", "\u2067آبل\u2069", "ابل"),
    ("alm-bom-shy", "\ufeffآ\u061cب\u00adل", "ابل"),
    ("word-joiner", "تك\u2060نولوجيا", "تكنولوجيا"),
    # step 4: tatweel
    ("tatweel", "تـــقـنـيـة", "تقنيه"),
    # step 5: diacritics
    ("tashkeel", "أَعْلَنَتِ الشَّرِكَةُ", "اعلنت الشركه"),
    ("superscript-alef", "هٰذا", "هذا"),
    ("stray-hamza-above", "سا\u0654ل", "سال"),
    ("quranic-marks", "الله\u06d6", "الله"),
    ("honorific-mark", "مح\u0610مد", "محمد"),
    # step 6: Persian and Urdu look-alikes
    ("farsi-yeh", "ریال", "ريال"),
    ("keheh", "کمبیوتر", "كمبيوتر"),
    ("veh-nvidia", "إنڤيديا", "انفيديا"),
    ("peh-apple", "أپل", "ابل"),
    ("gaf-google", "گوگل", "كوكل"),
    ("tcheh", "چيب", "جيب"),
    ("heh-doachashmee", "ھاتف", "هاتف"),
    ("heh-goal-hamza", "ۀ", "ه"),
    ("ae", "ە", "ه"),
    # step 7: alef family
    ("alef-hamza-above", "أبل", "ابل"),
    ("alef-hamza-below", "إنتل", "انتل"),
    ("alef-madda", "آبل", "ابل"),
    ("alef-wasla", "ٱلله", "الله"),
    ("waw-yeh-hamza-kept", "مسؤول رئيس", "مسؤول رئيس"),
    # step 8 and 9
    ("alef-maqsura", "مستوى على", "مستوي علي"),
    ("teh-marbuta", "شركة", "شركه"),
    # step 10: digits and separators
    ("arabic-indic-digits", "آيفون ١٧", "ايفون 17"),
    ("persian-digits", "آيفون ۱۷", "ايفون 17"),
    ("arabic-decimal", "٣٫٥ مليار", "3.5 مليار"),
    ("arabic-thousands", "١٬٠٠٠ دولار", "1000 دولار"),
    ("decimal-comma", "6,5 مليار و1,25 مليون", "6.5 مليار و1.25 مليون"),
    ("comma-groups-and-lists", "18,000 وظيفة, 5 شركات", "18 000 وظيفه 5 شركات"),
    # step 11: case fold
    ("casefold", "iPhone GPT-5 STRASSE ß", "iphone gpt 5 strasse ss"),
    # step 12: punctuation to spaces, + # . kept inside tokens
    ("arabic-punctuation", "آبل، جوجل؛ لماذا؟ «نعم»", "ابل جوجل لماذا نعم"),
    ("ascii-punctuation", "a-b_c/d|e \"f\" 'g' (h) …", "a b c d e f g h"),
    ("keep-plus-hash-dot", "C++ و C# و 5.5 و Node.js", "c++ و c# و 5.5 و node.js"),
    ("loose-dots", "... نهاية. بداية .", "نهايه بدايه"),
    # step 13: whitespace
    ("whitespace", "  آبل \t\n تطلق  ", "ابل تطلق"),
]


@pytest.mark.parametrize(("text", "expected"), [s[1:] for s in STEPS], ids=[s[0] for s in STEPS])
def test_match_key_steps(text: str, expected: str) -> None:
    assert match_key(text) == expected


# Section 2a: what pyarabic and camel-tools get wrong, and the key must not.
TRAPS = [
    ("pyarabic-normalize-hamza-madda", "آبل", "ابل"),  # pyarabic: ءءبل
    ("pyarabic-normalize-hamza-waw", "مسؤول", "مسؤول"),  # pyarabic: مسءول
    ("pyarabic-normalize-alef-maqsura", "مستوى", "مستوي"),  # pyarabic: مستوا
    ("pyarabic-superscript-alef", "هٰذا", "هذا"),  # pyarabic normalize_alef: هاذا
    ("pyarabic-lamalef-hamza", "ﻷ", "لا"),  # hamza dropped by pyarabic; NFKC gives لأ -> لا
    ("camel-zwnj-splits-word", "مي\u200cخواهم", "ميخواهم"),  # arclean: a space
    ("camel-decimal-comma", "٣٫٥", "3.5"),  # arclean: 3,5
    ("camel-farsi-yeh-to-maqsura", "ی", "ي"),  # arclean: ى
    ("camel-deletes-ae", "ە", "ه"),  # arclean deletes U+06D5
]


@pytest.mark.parametrize(("text", "expected"), [t[1:] for t in TRAPS], ids=[t[0] for t in TRAPS])
def test_library_traps(text: str, expected: str) -> None:
    assert match_key(text) == expected


def test_spelling_variants_share_a_key() -> None:
    assert match_key("آبل") == match_key("أبل") == match_key("ابل") == match_key("أپل")
    assert match_key("إنڤيديا") == match_key("انفيديا")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("والمستخدمين", "مستخدمين"),
        ("بالذكاء", "ذكاء"),
        ("للشركات", "شركات"),
        ("وسامسونج", "سامسونج"),
        ("بنك", "بنك"),  # 4 letters or fewer: the first letter is part of the word
        ("وزن", "وزن"),
        ("iphone", "iphone"),
        ("والا", "والا"),
    ],
)
def test_strip_clitics(token: str, expected: str) -> None:
    assert strip_clitics(token) == expected


def test_tokens() -> None:
    assert tokens(match_key("وأعلنت سامسونج بالأمس")) == ("اعلنت", "سامسونج", "امس")


_MARKS = {"Mn", "Me", "Cf"}


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_match_key_properties(text: str) -> None:
    key = match_key(text)
    assert match_key(key) == key
    assert "\u0640" not in key
    assert not any(unicodedata.category(c) in _MARKS for c in key), key
    assert key == key.strip() and "  " not in key


ARABIC_WORDS = st.text(
    alphabet=st.sampled_from(
        "ابتثجحخدسشعقلمنهوي" + "\u064b\u064e\u0650\u0651\u0652\u0640\u200c\u200f\u2060"
    ),
    min_size=1,
)


@settings(max_examples=300, deadline=None)
@given(ARABIC_WORDS)
def test_invisible_and_marks_never_split_a_word(word: str) -> None:
    key = match_key(word)
    assert " " not in key
