"""The Arabic matching key: one spelling per word, for de-duplication and classification.

Never displayed. The steps follow research/arabic.md section 2b, in order. Steps 3 to 10
are single code-point deletions or replacements, so they are one `str.translate` table.
We do not use pyarabic or camel-tools: pyarabic's `normalize_hamza` turns آ into ءء and
its `normalize_alef` maps ى to ا; camel's arclean turns ZWNJ into a space (splitting
words) and maps ٫ to a comma (breaking 3٫5).
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["fold_letters", "match_key", "strip_clitics", "tokens"]

_DELETE = (
    # step 3: invisible format and bidi controls (deleted, not spaced: a ZWNJ inside a
    # word must not split it)
    0x00AD,
    0x061C,
    0xFEFF,
    *range(0x200B, 0x2010),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    # the rest of category Cf in the BMP (2b says "in general, Unicode category Cf"):
    # Arabic number signs, end of ayah, word joiner, invisible operators, deprecated
    # format controls, interlinear annotation. Left in, step 12 would split words there.
    *range(0x0600, 0x0606),
    0x06DD,
    0x070F,
    0x0890,
    0x0891,
    0x08E2,
    0x180E,
    *range(0x2060, 0x2065),
    *range(0x206A, 0x2070),
    *range(0xFFF9, 0xFFFC),
    # step 4: tatweel
    0x0640,
    # step 5: diacritics, superscript alef, Quranic marks
    *range(0x064B, 0x0660),
    0x0670,
    *range(0x06D6, 0x06EE),
    # the other Arabic marks: honorific signs and Arabic Extended-A Quranic marks
    *range(0x0610, 0x061B),
    *range(0x08CA, 0x08E2),
    *range(0x08E3, 0x0900),
)

_REPLACE = {
    # step 6: Persian and Urdu look-alikes
    "\u06cc": "ي",  # ی farsi yeh
    "\u06d0": "ي",  # ې
    "\u06a9": "ك",  # ک keheh
    "\u06a4": "ف",  # ڤ
    "\u067e": "ب",  # پ
    "\u06af": "ك",  # گ
    "\u0686": "ج",  # چ
    "\u06be": "ه",  # ھ
    "\u06c0": "ه",  # ۀ
    "\u06d5": "ه",  # ە
    # step 7: alef family
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "\u0671": "ا",  # ٱ wasla
    "\u0672": "ا",
    "\u0673": "ا",
    # step 8 and 9
    "ى": "ي",
    "ة": "ه",
}
# step 10: Arabic-Indic and Persian digits to ASCII
_REPLACE.update({chr(0x0660 + i): str(i) for i in range(10)})
_REPLACE.update({chr(0x06F0 + i): str(i) for i in range(10)})

_TABLE: dict[int, int | str | None] = {cp: None for cp in _DELETE}
_TABLE.update({ord(k): v for k, v in _REPLACE.items()})
# The same table as a dict and as regexes: str.translate looks every character of Arabic
# text up in the table, a regex only the few it matches (4x faster on a news lead).
_MAPPING = {
    chr(cp): "" if v is None else v if isinstance(v, str) else chr(v) for cp, v in _TABLE.items()
}
# The letters most Arabic words hold one of (ة, ى, the hamza alefs) are replaced first
# with str.replace, a scan in C each (40% less time per key); the regex then calls back
# only for the rarer ones. The order does not matter: no replacement is in the table.
_COMMON = tuple((k, _MAPPING[k]) for k in ("ة", "ى", "أ", "إ", "آ"))
_MAPPED_RARE = re.compile(
    "[" + "".join(re.escape(c) for c in sorted(_MAPPING) if c not in dict(_COMMON)) + "]"
)


def _mapped(m: re.Match[str]) -> str:
    return _MAPPING[m.group()]


_DECIMAL_SEP = re.compile(r"(?<=\d)\u066b(?=\d)")  # ٫ between digits is a decimal point
_THOUSANDS_SEP = re.compile(r"(?<=\d)\u066c(?=\d)")  # ٬ between digits is dropped
# A comma before one or two digits, after a digit, is a decimal comma ("6,5 مليار" is
# 6.5 billion, as Maghreb and French-trained desks write it); before three it groups
# thousands ("18,000"), as step 12 leaves it. The comma comes first in the pattern, so
# the search skips to commas in C; the digit before it is checked in the callback.
_DECIMAL_COMMA = re.compile(r",(?=\d{1,2}(?!\d))")
_TAG = re.compile(r"<[^>]*>")
# step 12: everything that is not a letter, digit, or a token-internal + # . is a space
# ("_" is a \w character: it is made a space first, with str.replace, which leaves the
# regex one character class instead of two alternatives at every character.)
_PUNCT = re.compile(r"[^\w+#.%]")
# A percent sign (ASCII or Arabic ٪) is a token of its own: "17%" is "17 %", so that
# figures know a share from a head count ("5%" against "3600 موظف").
_PERCENT = re.compile(r"\s*[%\u066a]+\s*")
# A run of dots not inside a token. The look-ahead only lets the search skip, in C, to
# the next dot: without it the look-behind was tried at every character (5x slower).
_LOOSE_DOTS = re.compile(r"(?=\.)(?:(?<!\w)\.+|\.+(?!\w))")


def _decimal_comma(m: re.Match[str], text: str) -> str:
    start = m.start()
    return "." if start and text[start - 1].isdigit() else ","


def fold_letters(text: str) -> str:
    """`text` with the letter steps of the matching key alone (tatweel and diacritics
    dropped; the alef family, ى, ة, Persian look-alikes and Eastern digits folded), and
    nothing else changed: no case, spacing or punctuation."""
    for letter, replacement in _COMMON:
        text = text.replace(letter, replacement)
    return _MAPPED_RARE.sub(_mapped, text)


def match_key(text: str) -> str:
    """Return the matching key of `text` (plain text or HTML)."""
    text = html.unescape(_TAG.sub(" ", text))
    text = fold_letters(unicodedata.normalize("NFKC", text))
    if "\u066b" in text or "\u066c" in text:  # the look-behinds are slow to fail
        text = _DECIMAL_SEP.sub(".", text)
        text = _THOUSANDS_SEP.sub("", text)
    if "," in text:
        text = _DECIMAL_COMMA.sub(lambda m: _decimal_comma(m, text), text)
    text = text.casefold()
    if "%" in text or "\u066a" in text:
        text = _PERCENT.sub(" % ", text)
    text = _PUNCT.sub(" ", text.replace("_", " "))
    text = _LOOSE_DOTS.sub(" ", text)
    return " ".join(text.split())  # only " " is left of white space


_PROCLITICS = ("وال", "فال", "بال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")


def strip_clitics(token: str) -> str:
    """Drop one leading proclitic group (و ف ب ل ك, ال) from a token longer than 4 letters.

    Short tokens are left alone: in وزن or بنك the first letter is part of the word.
    """
    if len(token) <= 4 or not ("\u0600" <= token[0] <= "\u06ff"):
        return token
    for prefix in _PROCLITICS:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix) :]
    return token


def tokens(key: str) -> tuple[str, ...]:
    """Split a matching key into tokens with proclitics stripped."""
    return tuple(strip_clitics(t) for t in key.split())
