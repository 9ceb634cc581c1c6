"""Script detection: is a title Arabic, English (any Latin script) or mixed?

Arabic tech headlines embed Latin product names ("آبل تطلق iPhone 17 Pro"), so a plain
letter share would call many of them mixed. The rule, precisely:

* letters are counted per script (Arabic or Latin); digits, marks, tatweel and other
  scripts are ignored; text with no Arabic or Latin letter is "ar" (the project's
  language);
* "ar" when Arabic letters are at least 75 % of those letters, "en" when Latin letters
  are at least 75 %;
* in between, "ar" when there are at least twice as many Arabic words as Latin runs
  (a run is a stretch of consecutive Latin words, such as "iPhone 17 Pro Max", which
  an Arabic sentence uses as one name); otherwise "mixed";
* but Latin letters past 75 % make "ar" too when the Latin words are only names, none
  of them an English function word ("the", "of", "with": `_ENGLISH`), and an Arabic
  word of two letters or more holds them together: "OpenAI تطلق ChatGPT Atlas" is an
  Arabic sentence about two products, and was laid out left to right as English.
"""

from __future__ import annotations

import re

__all__ = ["arabic_ratio", "language"]

THRESHOLD = 0.75

_ARABIC_BLOCKS = (
    (0x0600, 0x06FF),
    (0x0750, 0x077F),
    (0x08A0, 0x08FF),
    (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFF),
)
_ARABIC = "".join(f"{chr(a)}-{chr(b)}" for a, b in _ARABIC_BLOCKS)
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
_LATIN_LETTER = re.compile(rf"[{_LATIN}]")
_ARABIC_WORD = re.compile(rf"[{_ARABIC}]+")
# Latin words joined by spaces, digits and the punctuation of product names.
_LATIN_RUN = re.compile(rf"[{_LATIN}][{_LATIN}0-9+#.\-'’ ]*")


# Arabic letters (alphabetic code points of the blocks, tatweel excepted) as one regex
# class, built once: a per-character Python loop cost a sixth of the parse stage.
_ARABIC_LETTER = re.compile(
    "["
    + "".join(
        re.escape(chr(cp))
        for a, b in _ARABIC_BLOCKS
        for cp in range(a, b + 1)
        if chr(cp).isalpha() and cp != 0x0640
    )
    + "]"
)


def _counts(text: str) -> tuple[int, int]:
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = sum(1 for c in _LATIN_LETTER.findall(text) if c.isalpha())
    return arabic, latin


def arabic_ratio(text: str) -> float:
    """The share of Arabic letters among all letters (any script); 0.0 without letters."""
    letters = sum(map(str.isalpha, text)) - text.count("\u0640")
    if letters <= 0:
        return 0.0
    return len(_ARABIC_LETTER.findall(text)) / letters


def language(text: str) -> str:
    """ "ar", "en" or "mixed", by the rule in the module docstring."""
    arabic, latin = _counts(text)
    if arabic + latin == 0 or arabic >= THRESHOLD * (arabic + latin):
        return "ar"
    if latin >= THRESHOLD * (arabic + latin):
        return "ar" if _names_in_arabic(text) else "en"
    words = sum(1 for w in _ARABIC_WORD.findall(text) if _ARABIC_LETTER.search(w))
    runs = len(_LATIN_RUN.findall(text))
    return "ar" if words >= 2 * runs else "mixed"


#: Words an English sentence cannot do without and a product name never holds.
_ENGLISH = frozenset(
    """a an the of to in on at by for from with without and or but is are was were be
    been has have had will can could would should not no vs as about into over after
    before how what why when who which that this these those it its you your we our
    they their he she his her than more most""".split()  # noqa: SIM905
)
_LATIN_WORD = re.compile(rf"[{_LATIN}]+")


def _names_in_arabic(text: str) -> bool:
    """Whether `text` is Arabic words around Latin names: an Arabic word of two letters
    or more, and no Latin word that is one of `_ENGLISH`."""
    if not any(len(_ARABIC_LETTER.findall(w)) >= 2 for w in _ARABIC_WORD.findall(text)):
        return False
    return not any(w.lower() in _ENGLISH for w in _LATIN_WORD.findall(text))
