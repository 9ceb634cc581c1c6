"""Encoding repair for Arabic feeds decoded with the wrong charset.

Four wrong decodings are common (research/arabic.md section 4a), each undone by
re-encoding with the wrong codec and decoding with the right one:

* "cp1256-as-utf8": UTF-8 bytes read as windows-1256 (ط£ط¹ظ„ظ†طھ). ftfy does not fix
  it and makes it worse (its quote uncurling eats the „ of ل), so it runs first and ftfy
  never sees text that still looks like it.
* "cp1256-as-latin1": windows-1256 bytes read as latin-1/windows-1252 (ÃÚáäÊ), what
  feedparser produces when a cp1256 body is declared UTF-8. ftfy does not fix it.
* "utf8-as-latin1": UTF-8 read as windows-1252/latin-1 (Ø£Ø¹Ù„Ù†Øª).
* "double-utf8": that twice (Ã˜Â§).

A feed is decoded one way for all its entries, so `detect` picks one repair from a
sample and the caller applies it to every text field of that feed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from feeds.arabic.script import arabic_ratio

__all__ = ["REPAIRS", "detect", "repair"]

log = logging.getLogger("feeds.arabic.mojibake")

REPAIRS: tuple[str, ...] = ("cp1256-as-utf8", "cp1256-as-latin1", "utf8-as-latin1", "double-utf8")

SAMPLE = 40  # texts looked at by detect()
MIN_SCORE = 0.5  # a repaired sample must be at least this Arabic...
MIN_GAIN = 0.25  # ...and this much more Arabic than before

# Python's cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; decoders that fall back to
# latin-1 for them (as feedparser and browsers do) produce the C1 control instead.
_LATIN_BYTE: dict[str, int] = {chr(b): b for b in range(256)}
_LATIN_BYTE.update(
    {bytes([b]).decode("cp1252"): b for b in range(0x80, 0xA0) if b not in b"\x81\x8d\x8f\x90\x9d"}
)
# In UTF-8 every Arabic letter is 0xD8 or 0xD9 then a continuation byte 0x80-0xBF;
# read as cp1256 that is ط or ظ followed by one of these characters, a pair clean
# Arabic practically never has.
_CONTINUATION = bytes(range(0x80, 0xC0)).decode("cp1256")
_CP1256_PAIR = re.compile(f"[طظ][{re.escape(_CONTINUATION)}]")
# Letters a correct repair does not leave behind: Latin-1 accented letters (the Ø Ù Ã
# of UTF-8 mojibake) and the Persian/Urdu letters of cp1256's upper half.
_SUSPECT = re.compile("[\u00c0-\u00ff\u0679-\u06d3]")


def _latin_bytes(text: str) -> bytes:
    return bytes(_LATIN_BYTE[c] for c in text)  # KeyError: not a latin-1/cp1252 text


def _utf8_from_latin(text: str) -> str:
    return _latin_bytes(text).decode("utf-8")


def _looks_cp1256(text: str) -> bool:
    return _CP1256_PAIR.search(text) is not None


def _ftfy(text: str) -> str:
    if _looks_cp1256(text):
        return text
    # Imported on first use: most feeds need no repair, and the import (about 50 ms)
    # would otherwise be paid by every parse worker before its first feed.
    import ftfy

    return str(ftfy.fix_encoding(text))


def _cp1256_as_utf8(text: str) -> str:
    return text.encode("cp1256").decode("utf-8")


def _cp1256_as_latin1(text: str) -> str:
    return _latin_bytes(text).decode("cp1256")


def _utf8_as_latin1(text: str) -> str:
    try:
        return _utf8_from_latin(text)
    except (KeyError, UnicodeError):
        return _ftfy(text)  # partly broken text: ftfy repairs the broken pieces


def _double_utf8(text: str) -> str:
    try:
        return _utf8_from_latin(_utf8_from_latin(text))
    except (KeyError, UnicodeError):
        return _ftfy(_ftfy(text))


_FIXERS: dict[str, Callable[[str], str]] = {
    "cp1256-as-utf8": _cp1256_as_utf8,
    "cp1256-as-latin1": _cp1256_as_latin1,
    "utf8-as-latin1": _utf8_as_latin1,
    "double-utf8": _double_utf8,
}


def repair(text: str, name: str | None) -> str:
    """Apply the named repair to one string; text it cannot repair comes back unchanged."""
    if name is None or text.isascii():
        return text
    try:
        fixed = _FIXERS[name](text)
    except (KeyError, UnicodeError):
        return text
    if "\ufffd" in fixed and "\ufffd" not in text:
        return text
    return fixed


def score(text: str) -> float:
    """How much `text` reads as clean Arabic: the Arabic-letter ratio minus the share
    of letters typical of mojibake; 0 for text that still looks like cp1256 mojibake."""
    if _looks_cp1256(text) or "\ufffd" in text:
        return 0.0
    letters = sum(1 for c in text if c.isalpha())
    suspect = len(_SUSPECT.findall(text))
    return arabic_ratio(text) - (suspect / letters if letters else 0.0)


# Every repair undoes text that shows one of these: Latin-1 letters (Ø Ù Ã Ú ...), U+FFFD,
# or ط/ظ followed by what cp1256 makes of a UTF-8 continuation byte (0x80-0xBF).
_SIGN = re.compile(
    "[\u00c0-\u00ff\ufffd]|[طظ][" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1256")) + "]"
)


def detect(texts: Sequence[str]) -> str | None:
    """The repair that turns a feed's titles and summaries into Arabic, or None.

    A repair is accepted only when the sample's score (Arabic-letter ratio, discounting
    mojibake letters) rises by MIN_GAIN to at least MIN_SCORE and no U+FFFD appears.
    Among accepted repairs the best score wins; ties go to the first in REPAIRS, so the
    cp1256 repairs are preferred over the ftfy-based ones.
    """
    sample = [t for t in texts if not t.isascii()][:SAMPLE]
    if not any(_SIGN.search(t) for t in sample):
        return None  # the common case, cheaply: scoring five repairs cost a third of a parse
    before = score("\n".join(sample))
    threshold = max(before + MIN_GAIN, MIN_SCORE)
    best: str | None = None
    best_score = threshold
    for name in REPAIRS:
        after = score("\n".join(repair(t, name) for t in sample))
        if after > best_score or (best is None and after >= threshold):
            best, best_score = name, after
    if best:
        log.info("mojibake detected: %s (score %.2f -> %.2f)", best, before, best_score)
    return best
