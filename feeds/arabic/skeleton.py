"""Consonant skeletons: one spelling of a name whatever its script ("Sora" and "سورا").

Arabic tech copy writes unaliased names in Latin letters or transliterated ("Stargate" /
"ستارغيت", "Perplexity" / "بيربليكسيتي"). A skeleton keeps a word's consonants as
classes of sounds that the two scripts share and drops the vowels (Arabic writes long
vowels only, and not always): both spellings above come to one string. Used to tell
whether a name in one headline appears in another article, not to transliterate.
Works on matching-key words (`feeds.arabic.matching.match_key`: أ/إ/آ are ا, ة is ه).
Pure.
"""

from __future__ import annotations

import functools

__all__ = ["skeleton"]

# Sound classes: G for ج غ (Egyptian and Levantine /g/), K for ك ق, S for س ص ث ز ظ
# (a Latin plural's s is often ز: "AirPods" / "إيربودز"), T for ت ط, D for د ض ذ, H for
# ه ح خ. Vowels, ع and hamzas are dropped.
_ARABIC = str.maketrans(
    {
        "ب": "B", "ت": "T", "ط": "T", "ث": "S", "س": "S", "ص": "S", "ج": "G", "غ": "G",
        "ح": "H", "خ": "H", "ه": "H", "د": "D", "ذ": "D", "ض": "D", "ر": "R", "ز": "S",
        "ظ": "S", "ش": "X", "ف": "F", "ق": "K", "ك": "K", "ل": "L", "م": "M", "ن": "N",
        "ا": None, "و": None, "ي": None, "ى": None, "ع": None, "ء": None, "ئ": None,
        "ؤ": None, "ة": None,
    }
)  # fmt: skip
# Latin digraphs first, then letters. "c" is S before e, i, y and K elsewhere.
_DIGRAPHS = (("sh", "X"), ("ch", "X"), ("th", "S"), ("ph", "F"), ("ck", "K"), ("kh", "H"))
_LATIN = str.maketrans(
    {
        "b": "B", "p": "B", "t": "T", "s": "S", "j": "G", "g": "G", "h": "H", "d": "D",
        "r": "R", "z": "Z", "f": "F", "v": "F", "k": "K", "q": "K", "l": "L", "m": "M",
        "n": "N", "x": "KS", "a": None, "e": None, "i": None, "o": None, "u": None,
        "y": None, "w": None,
    }
)  # fmt: skip


@functools.lru_cache(maxsize=1 << 15)
def skeleton(word: str) -> str:
    """The consonant classes of `word`, doubled ones once; "" for a word with none."""
    if word.isascii():
        for digraph, sound in _DIGRAPHS:
            word = word.replace(digraph, sound)
        out = []
        for i, c in enumerate(word):
            if c == "c":
                out.append("S" if word[i + 1 : i + 2] in ("e", "i", "y") else "K")
            else:
                out.append(c)
        text = "".join(out).translate(_LATIN)
    else:
        text = word.translate(_ARABIC)
    text = "".join(c for c in text if "A" <= c <= "Z")
    return "".join(c for i, c in enumerate(text) if i == 0 or c != text[i - 1])
