"""What a reader sees: text without invisible tricks, hosts that cannot pass for others,
and the folded form that `include`/`exclude` filters match (issue 20, section 5).

Pure, like the rest of `arabic/`. Four functions:

`display_text` is applied to titles, author names and source names. It folds Arabic
presentation forms into the letters they draw (`fold_presentation`, which the sanitized
summaries and texts get too), and removes

* the bidi embeddings and overrides U+202A–U+202E and the isolates U+2066–U+2069: an
  override turned `bbc.example` into `elpmaxe.cbb` on screen, and no headline needs
  them (the published HTML sets `dir` itself);
* characters that show nothing and only hide or split words: U+200B zero width space,
  U+2060 word joiner and U+2061–U+2064, U+FEFF, U+00AD soft hyphen, U+034F, U+180E,
  U+115F/U+1160/U+3164/U+FFA0 (Hangul fillers, used for "blank" names), the
  deprecated format characters U+206A–U+206F, U+FFF9–U+FFFB and the tag characters.

It keeps, where Arabic typography needs them and only there:

* U+200C ZWNJ and U+200D ZWJ between two letters or combining marks of a script that
  joins or forms conjuncts (Arabic, Persian, Urdu, Indic...), that is not Latin, Greek
  or Cyrillic, where they only hide text; and ZWJ between two emoji (👨‍💻);
* U+200F RLM, U+061C ALM and U+200E LRM in text that holds right-to-left letters, when
  the mark touches a neutral or weak character or an end of the text: that is where a
  mark changes the display (a Latin word ending an Arabic sentence before its full stop,
  a title starting with a Latin name). Between two strong letters, or in text without
  right-to-left letters, a mark changes nothing visible or serves only to mislead.

`drop_direction_controls` removes the embeddings, overrides and isolates alone: what the
sanitized summaries and texts get (with `fold_presentation`). An override there reversed
the rest of an item's summary in a reader's list, and a link's text in its page; the
other invisible characters stay, since a body may use them for line breaking.

`filter_text` (and `filter_pattern`, for the patterns) is the form filters match: every
format character and soft hyphen removed, NFKC (full-width and mathematical letters
become plain ones), the Arabic letters folded as matching keys fold them
(`matching.fold_letters`: no tatweel or diacritics, one alef, ى as ي, ة as ه), then
`CONFUSABLES` maps the Cyrillic and Greek letters that look like Latin ones to those, so
`ca\u200bsino`, `ca\u00adsino` and Cyrillic `cаsino` all read `casino`, and "إعلان",
"اعلان", "إِعْلان" and "إعـــلان" all read "اعلان". It is never displayed.

`display_host` shows a host as written unless one of its labels mixes scripts or holds
anything but letters, digits and hyphens: that label is shown as IDNA punycode
(`xn--...`), so `аpple.com` with a Cyrillic а cannot pass for apple.com.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from feeds.arabic.matching import fold_letters

__all__ = [
    "CONFUSABLES", "display_host", "display_text", "drop_direction_controls", "filter_pattern",
    "filter_text", "fold_presentation",
]  # fmt: skip

_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_INVISIBLE = (
    "\u200b\u2060-\u2064\ufeff\u00ad\u034f\u180e\u115f\u1160\u3164\uffa0"
    "\u206a-\u206f\ufff9-\ufffb\U000e0000-\U000e007f"
)
_DROP = re.compile(f"[{_CONTROLS}{_INVISIBLE}]+")
_DIRECTION = re.compile(f"[{_CONTROLS}]+")
_JOINERS = "\u200c\u200d"
_MARKS = "\u200e\u200f\u061c"
_KEPT = re.compile(f"[{_JOINERS}{_MARKS}]")
# Right-to-left letters: Hebrew, Arabic, Syriac, Thaana, N'Ko... and their presentation
# forms (ALM, U+061C, is not one).
_RTL = re.compile(
    "[\u0590-\u061b\u061d-\u08ff\ufb1d-\ufdff\ufe70-\ufefe"
    "\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
#: Scripts where a joiner between letters has no typographic job.
_NO_JOINING = ("LATIN", "GREEK", "CYRILLIC")
_STRONG = frozenset({"L", "R", "AL"})


def fold_presentation(text: str) -> str:
    """`text` with Arabic presentation forms (U+FB50–U+FDFF, U+FE70–U+FEFE) as the
    letters they draw (their NFKC form: "ﺍﻟﻌﺮﺑﻴﺔ" is "العربية", "ﻻ" is "لا"), and
    nothing else changed.

    Old publishing systems, and text pasted from PDFs, store the glyph each letter
    takes in its place rather than the letter: it looks the same, but a reader's
    search, copy and line breaking see other characters. "﷽" has no other form and
    stays.
    """
    if not _PRESENTATION.search(text):
        return text
    return _PRESENTATION.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufefe]+")


def drop_direction_controls(text: str) -> str:
    """`text` without the bidi embeddings, overrides and isolates (U+202A–U+202E,
    U+2066–U+2069), and nothing else changed. For sanitized HTML: no tag or character
    reference holds one."""
    return _DIRECTION.sub("", text)


def display_text(text: str) -> str:
    """`text` without bidi controls and invisible characters, by the rule above, and
    with presentation forms folded (`fold_presentation`).

    Idempotent: dropping one mark can leave its neighbour without a reason to stay, so
    the rule runs again until nothing changes; text still changing after a few rounds
    (only a contrived chain of marks does) loses all its marks and joiners.
    """
    text = fold_presentation(_DROP.sub("", text))
    for _ in range(_ROUNDS):
        if not _KEPT.search(text):
            return text
        kept = _keep_where_needed(text)
        if kept == text:
            return text
        text = kept
    return _KEPT.sub("", text)


_ROUNDS = 4


def _keep_where_needed(text: str) -> str:
    rtl = bool(_RTL.search(text))
    out = []
    for i, c in enumerate(text):
        if c not in _JOINERS and c not in _MARKS:
            out.append(c)
            continue
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if c in _JOINERS:
            keep = _joiner_kept(c, before, after)
        else:
            keep = rtl and _mark_kept(before, after)
        if keep:
            out.append(c)
    return "".join(out)


def _joiner_kept(joiner: str, before: str, after: str) -> bool:
    if joiner == "\u200d" and _emoji(before) and _emoji(after):
        return True
    return _joining_letter(before) and _joining_letter(after)


@functools.lru_cache(maxsize=4096)
def _joining_letter(c: str) -> bool:
    if not c or unicodedata.category(c)[0] not in "LM":
        return False
    return not unicodedata.name(c, "").startswith(_NO_JOINING)


def _emoji(c: str) -> bool:
    # An emoji, its variation selector (U+FE0F) or a skin-tone modifier ends the part
    # before a ZWJ; the part after it starts with an emoji.
    return bool(c) and (
        unicodedata.category(c) == "So" or c == "\ufe0f" or "\U0001f3fb" <= c <= "\U0001f3ff"
    )


def _mark_kept(before: str, after: str) -> bool:
    return not before or not after or not (_strong(before) and _strong(after))


def _strong(c: str) -> bool:
    return unicodedata.bidirectional(c) in _STRONG


# --------------------------------------------------------------------------- filters

#: Letters that look like Latin ones in common fonts, mapped to them for matching only:
#: (look-alikes, the Latin letters they pass for), one pair per script.
_LOOK_ALIKES = (
    ("АВЕКМНОРСТХУЅІЈҮԚԜаеорсухѕіјԁԛԝһӏѵү", "ABEKMHOPCTXYSIJYQWaeopcyxsijdqwhlvy"),  # Cyrillic
    ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαικνορυχ", "ABEZHIKMNOPTYXaikvopux"),  # Greek
    ("ıօսհ", "iouh"),  # dotless i; Armenian o, u, h
)
CONFUSABLES = str.maketrans(
    "".join(a for a, _ in _LOOK_ALIKES), "".join(b for _, b in _LOOK_ALIKES)
)
_HIDDEN = re.compile(f"[{_CONTROLS}{_INVISIBLE}{_JOINERS}{_MARKS}\ufe00-\ufe0f]+")


def filter_text(text: str) -> str:
    """The form `include`/`exclude` regexes are matched against (never displayed)."""
    text = unicodedata.normalize("NFKC", _HIDDEN.sub("", text))
    return fold_letters(_HIDDEN.sub("", text)).translate(CONFUSABLES)


@functools.lru_cache(maxsize=256)
def filter_pattern(pattern: str) -> str:
    """`pattern` folded as `filter_text` folds text, so it still matches what it named.

    Regex syntax is ASCII, so only the other characters are folded, each on its own;
    one that NFKC turns into ASCII punctuation (a full-width parenthesis) is escaped,
    because it was a literal character in the pattern and must stay one.
    """
    pattern = unicodedata.normalize("NFC", pattern)
    return "".join(c if c.isascii() else re.escape(filter_text(c)) for c in pattern)


# --------------------------------------------------------------------------- hosts


def display_host(host: str) -> str:
    """`host` for display: each label as written, or as punycode when it could deceive."""
    return ".".join(_label(label) for label in host.split("."))


def _label(label: str) -> str:
    if label.isascii():
        return label
    scripts = set()
    for c in label:
        if c.isdigit() or c == "-":
            continue
        name = unicodedata.name(c, "")
        if unicodedata.category(c)[0] not in "LM" or not name:
            return _punycode(label)  # a control, a symbol, an invisible character
        if unicodedata.category(c)[0] == "L":
            scripts.add(name.split()[0])
    return label if len(scripts) <= 1 else _punycode(label)


def _punycode(label: str) -> str:
    return "xn--" + label.encode("punycode").decode("ascii")
