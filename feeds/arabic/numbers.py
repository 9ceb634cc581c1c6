"""Figures in a matching key, as values: amounts and model numbers compared by meaning.

Headlines of one story write the same figure many ways: "6 آلاف", "ستة آلاف" and "6000";
"18 ألف", "18,000" (the key has "18 000") and "ثمانية عشر ألف"; "نصف تريليون" and "500
مليار"; "خُمس" and "20%"; "إس ٢٥" and "S25"; "9 إيه" and "9a". `quantities` reads the
tokens of a matching key (`feeds.arabic.matching.match_key`) into two kinds:

- model tokens (strings): a number that names a product ("s25", "9a", "gb300", "17" of
  "iPhone 17"), which must agree between two articles about one product;
- values: an amount with its multiplier applied (6000.0, 5e11), a bare fraction as a
  percentage (خمس = 20.0), each with its kind: "%" for a share, "$" for money (any
  currency), "#" for a head count ("240 ألف وظيفة"), "" otherwise; two articles may or
  may not both quote one. A share and a head count are not comparable ("5%" and "3600
  موظف" can be one story), nor a budget and a head count ("11 مليار درهم" and "240 ألف
  وظيفة").

Pure: no I/O; the word tables are small and live here.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from typing import NamedTuple

from feeds.arabic.matching import strip_clitics

__all__ = [
    "NUMBER_WORDS", "Quantities", "Value", "comparable", "quantities", "same_value",
    "split_scripts",
]  # fmt: skip

# Number words after match_key's folding (ة -> ه, ى -> ي, أ/إ/آ -> ا).
_UNITS = {
    "اثنان": 2, "اثنين": 2, "اثنتين": 2, "اثنتان": 2, "ثلاث": 3,
    "ثلاثه": 3, "اربع": 4, "اربعه": 4, "خمسه": 5, "ست": 6, "سته": 6, "سبع": 7, "سبعه": 7,
    "ثمان": 8, "ثماني": 8, "ثمانيه": 8, "تسع": 9, "تسعه": 9, "عشر": 10, "عشره": 10,
    "اثنا": 2, "اثني": 2,
}  # fmt: skip
_TENS = {
    "عشرون": 20, "عشرين": 20, "ثلاثون": 30, "ثلاثين": 30, "اربعون": 40, "اربعين": 40,
    "خمسون": 50, "خمسين": 50, "ستون": 60, "ستين": 60, "سبعون": 70, "سبعين": 70,
    "ثمانون": 80, "ثمانين": 80, "تسعون": 90, "تسعين": 90,
}  # fmt: skip
_HUNDREDS = {
    "مئه": 100, "مائه": 100, "مئتي": 200, "مائتي": 200, "مئتين": 200, "مائتين": 200,
    "مئتا": 200, "مائتا": 200,
}  # fmt: skip
_HUNDRED_UNITS = {"ثلاث": 3, "اربع": 4, "خمس": 5, "ست": 6, "سبع": 7, "ثمان": 8, "تسع": 9}
_HUNDREDS.update({f"{u}{h}": n * 100 for u, n in _HUNDRED_UNITS.items() for h in ("مئه", "مائه")})
# Multipliers; a dual ("مليوني", "ألفين") stands alone for two of them.
_MULTIPLIERS = {
    "الف": 1e3, "الاف": 1e3, "الفا": 1e3, "مليون": 1e6, "ملايين": 1e6, "مليونا": 1e6,
    "مليار": 1e9, "مليارات": 1e9, "مليارا": 1e9, "بليون": 1e9, "تريليون": 1e12,
    "تريليونات": 1e12, "million": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9,
    "trillion": 1e12, "thousand": 1e3,
}  # fmt: skip
_DUALS = {
    "الفين": 2e3, "الفان": 2e3, "مليوني": 2e6, "مليونين": 2e6, "مليونان": 2e6,
    "ملياري": 2e9, "مليارين": 2e9, "ملياران": 2e9, "تريليوني": 2e12, "تريليونين": 2e12,
}  # fmt: skip
# A plural multiplier alone ("آلاف الموظفين", "ملايين المغاربة") is no figure.
_VAGUE = frozenset({"الاف", "ملايين", "مليارات", "تريليونات", "millions", "billions"})
# Fractions: of a multiplier ("ربع مليار") they scale it; alone they are a share, as a
# percentage ("خمس الوظائف" = 20%).
_FRACTIONS = {"نصف": 0.5, "ثلث": 1 / 3, "ربع": 0.25, "خمس": 0.2}
# خمس is also "five" (خمس سنوات); it is the fraction before a definite or possessed noun.
_FIVE_OR_FIFTH = "خمس"
_POSSESSED = ("ها", "هم", "هن", "ه", "نا", "كم")
# Latin letters as Arabic spells them beside a model number ("إس 25", "9 إيه", "5 جي");
# Arabic has no p, and writes it بي as it writes b.
# Words that are also common Arabic words (في "in", ان "that", او "or") are left out.
_LETTER_NAMES: dict[str, tuple[str, ...]] = {
    "اس": ("s",), "ايه": ("a",), "اي": ("e", "a"), "بي": ("b", "p"), "جي": ("g",),
    "اكس": ("x",), "زد": ("z",), "ام": ("m",), "تي": ("t",), "دي": ("d",), "سي": ("c",),
    "كيو": ("q",), "ار": ("r",), "اتش": ("h",), "يو": ("u",), "كي": ("k",),
}  # fmt: skip
# Letter names that are also words after a number (Egyptian إيه "what", أي "any").
_ALSO_WORDS = frozenset({"ايه", "اي"})
# Latin suffixes: a multiplier (10bn) or a unit (3nm, 5000mah) make a value, not a model.
_SUFFIX_MULTIPLIERS = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_UNIT_SUFFIXES = frozenset(
    "nm mm cm km mah gb tb mb mp hz khz mhz ghz w kw mw gw kwh mwh fps ms".split()  # noqa: SIM905
)
# Not ال: "الربع الثاني" is a quarter of the year, "بالمئة" a percent sign.
# Series names spelt in Arabic before a model number: "زد فولد 7" is "Z Fold7".
_SERIES = frozenset(
    "فولد فليب نوت تاب ووتش واتش رايزن اكسينوس تينسور هيليو ديمنسيتي".split()  # noqa: SIM905
)
_PERCENT_WORDS = frozenset({"المئه", "المائه", "بالمئه", "بالمائه", "percent"})
_CURRENCIES = frozenset(
    """دولار دولارا دولارات يورو ريال ريالا ريالات درهم دراهم جنيه جنيها جنيهات دينار
    دينارا ين يوان روبيه ليره dollars dollar euros euro usd""".split()  # noqa: SIM905
)
_PROCLITICS = ("وب", "و", "ف", "ب", "ل", "ك")
# What a head count counts: "240 ألف وظيفة", "24 طالبا" are counts ("#"), never money.
_COUNTED = frozenset(
    """وظيفه وظائف فرصه فرص موظف موظفا موظفين موظفي عامل عاملا عمال طالب طالبا طلاب
    شاب شابا شباب متدرب متدربا متدربين شخص اشخاص مستخدم مستخدما مستخدمين مشترك مشتركا
    مشتركين عميل عملاء جهاز اجهزه وحده وحدات نسخه نسخ هاتف هواتف سياره سيارات شريحه
    شرائح رقاقه رقائق موقع مواقع شركه شركات تطبيق تطبيقات مبادره مدرسه مدارس طائره
    طائرات مسيره مسيرات users jobs employees workers staff devices units""".split()  # noqa: SIM905
)
# After a product's name a number is its model ("آيفون 17 برو") unless a unit follows.
_UNIT_WORDS = frozenset(
    """نانومتر ملم مم سم ميجابكسل ميغابكسل ميجا ميغا هرتز واط وات بوصه انش جيجابايت
    جيجا غيغابايت تيرابايت ميجاواط ميغاواط مللي ملي امبير ساعه ساعات دقيقه دقائق يوم
    يوما ايام سنه سنوات عاما شهر اشهر دولار دولارا يورو ريال درهم جنيه""".split()  # noqa: SIM905
)

_MIXED = re.compile(r"[a-z0-9.+#]+|[^\sa-z0-9.+#]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")  # 18.000 and 1.234.567: thousands groups
_MODEL = re.compile(r"([a-z]*)(\d+(?:\.\d+)?)([a-z]*)")
_YEAR = re.compile(r"(?:19|20)\d\d")
_ARABIC = re.compile(r"[\u0600-\u06ff]")


#: (kind, amount): ("%", 17.0), ("$", 5e11), ("", 6000.0)
Value = tuple[str, float]


class Quantities(NamedTuple):
    """What `quantities` reads of a key: model tokens and values, each in text order."""

    models: tuple[str, ...]
    values: tuple[Value, ...]


def split_scripts(word: str) -> list[str]:
    """A token cut where Arabic letters meet Latin letters or digits ("ب10", "وamd")."""
    # Letters alone, none below the Arabic block (`min` in C): most words of a key.
    if (word.isalpha() and min(word) >= "\u0600") or not _ARABIC.search(word):
        return [word]
    return _MIXED.findall(word)


@functools.lru_cache(maxsize=1 << 14)
def _bare(word: str) -> str:
    """`word` without a proclitic when that leaves a number word ("بنصف", "وستة")."""
    if word in _NUMBER_WORDS:
        return word
    for prefix in _PROCLITICS:
        if word.startswith(prefix) and word[len(prefix) :] in _NUMBER_WORDS:
            return word[len(prefix) :]
    return word


_NUMBER_WORDS = frozenset(
    [*_UNITS, *_TENS, *_HUNDREDS, *_MULTIPLIERS, *_DUALS, *_FRACTIONS, *_LETTER_NAMES]
)
#: The words `quantities` may read a figure from, bare (a key without a digit and
#: without any of these, clitics aside, has no figure).
NUMBER_WORDS = _NUMBER_WORDS


def quantities(words: Sequence[str], products: Sequence[bool] = ()) -> Quantities:
    """Model tokens and values of the tokens of a matching key.

    `products[i]` says that token i ends a product's name (an alias hit such as
    "iPhone"): a bare number after it is the product's model number ("آيفون 17"), as is
    a number after a Latin word ("RTX 5090"). Years (1900-2099) are neither.
    """
    models: list[str] = []
    values: list[Value] = []
    i, n = 0, len(words)
    while i < n:
        i = _read(words, products, i, models, values)
    return Quantities(tuple(dict.fromkeys(models)), tuple(dict.fromkeys(values)))


def _read(
    words: Sequence[str], products: Sequence[bool], i: int, models: list[str], values: list[Value]
) -> int:
    """Read the figure starting at token i, if any; the index of the next token."""
    word = words[i]
    if word[0] == "@":  # a brand or product (its name may hold digits: "جي 42")
        return i + 1
    if word[0].isdigit():
        return _read_digits(words, products, i, models, values)
    if word.isascii():
        if any(c.isdigit() for c in word):
            _latin_model(word, models, values)
        return i + 1
    bare = _bare(word)
    if bare not in _NUMBER_WORDS:  # every test below asks for one of them
        return i + 1
    if bare in _LETTER_NAMES and i + 1 < len(words) and _NUMBER.fullmatch(words[i + 1]):
        models.extend(_spelt_model(words, i, words[i + 1]))
        return i + 2
    if bare in _DUALS:
        values.append((_kind(words, i, i + 1), _DUALS[bare]))
        return i + 1
    if bare in _FRACTIONS:
        return _read_fraction(words, i, bare, values)
    number, j = _number_words(words, i)
    if number is not None:
        return _scaled(words, i, j, number, values)
    if bare in _MULTIPLIERS and bare not in _VAGUE:
        return _scaled(words, i, i, 1.0, values)  # "مليار دولار" is one billion
    return i + 1


def _spelt_model(words: Sequence[str], i: int, number: str) -> list[str]:
    """The model tokens of a number after the letter name at token i, read with the
    letter names just before it as one acronym, as Latin writes them: one or two
    letters join the number ("إس 25" = S25, "بي إس 6" = PS6; two are also written
    apart, "SE 3", so the bare number is kept too), a longer run is a series name and
    is dropped as "RTX 5090" drops it ("آر تي إكس 50" = 50)."""
    start = i
    while start > 0 and i - start < 2 and _bare(words[start - 1]) in _LETTER_NAMES:
        start -= 1
    if i - start >= 2:
        return [number]
    prefixes = [""]
    for word in words[start : i + 1]:
        prefixes = [p + letter for p in prefixes for letter in _LETTER_NAMES[_bare(word)]]
    return [p + number for p in prefixes] + ([number] if start < i else [])


def _read_digits(
    words: Sequence[str], products: Sequence[bool], i: int, models: list[str], values: list[Value]
) -> int:
    word = words[i]
    if not _NUMBER.fullmatch(word) and not _GROUPED.fullmatch(word):
        _latin_model(word, models, values)  # "9a", "16e"
        return i + 1
    j = i + 1
    following = _bare(words[j]) if j < len(words) else ""
    if _GROUPED.fullmatch(word) and following not in _MULTIPLIERS:
        word = word.replace(".", "")  # 18.000 شريحة is 18000; 1.500 مليار is 1.5e9
    # "18,000" is "18 000" in the key: three-digit groups after a short number join it
    while word.isdigit() and len(word) <= 3 and j < len(words) and _is_group(words[j]):
        word, j = word + words[j], j + 1
    following = _bare(words[j]) if j < len(words) else ""
    if following in _LETTER_NAMES and following not in _MULTIPLIERS:
        models.extend(word + s for s in _LETTER_NAMES[following])  # 9 إيه -> 9a
        if following in _ALSO_WORDS:
            models.append(word)  # "ويندوز 10.. إيه المطلوب": "what", not a letter
        return j + 1
    if _YEAR.fullmatch(word) and following not in _MULTIPLIERS:
        return j
    named = i > 0 and (_get(products, i - 1) or _latin_word(words[i - 1]))
    if j == i + 1 and named and following not in _MULTIPLIERS and following not in _UNIT_WORDS:
        letters = words[i - 1]
        if len(letters) <= 2 and letters.isascii() and not _get(products, i - 1):
            models.extend(_lettered(letters, word))  # "S 25" as "إس 25", "SE 3"
        else:
            models.append(word)  # آيفون 17, RTX 5090
        return j
    return _scaled(words, i, j, float(word.replace(".", "", word.count(".") - 1)), values)


def _is_group(word: str) -> bool:
    return len(word) == 3 and word.isdigit()


def _get(flags: Sequence[bool], i: int) -> bool:
    return i < len(flags) and flags[i]


def _latin_word(word: str) -> bool:
    return (word.isascii() and word.isalpha()) or word in _SERIES


def _latin_model(word: str, models: list[str], values: list[Value]) -> None:
    """A Latin token holding digits: a model ("s25", "gb300", "fold7" -> "7") or, with a
    multiplier or unit suffix, a value ("10bn", "3nm")."""
    for m in _MODEL.finditer(word):
        prefix, digits, suffix = m.groups()
        if not prefix and suffix in _SUFFIX_MULTIPLIERS:
            values.append(("", float(digits) * _SUFFIX_MULTIPLIERS[suffix]))
        elif not prefix and suffix in _UNIT_SUFFIXES:
            values.append(("", float(digits)))
        elif not (prefix or suffix) and _YEAR.fullmatch(digits):
            continue
        else:
            # A series name before the number is dropped ("fold7", "rtx5090" name the
            # model as "Fold 7" and "RTX 5090" do); one or two letters are the model's.
            if 1 <= len(prefix) <= 2:
                models.extend(_lettered(prefix, digits + suffix))  # "s25", "ps6"
            else:
                models.append(digits + suffix)


def _lettered(letters: str, number: str) -> list[str]:
    """The model tokens of one or two Latin letters and a number, joined or apart, as
    `_spelt_model` reads their Arabic letter names: one joins the number ("S25",
    "S 25", "إس 25" = s25); two join it and keep the bare number too, since two are
    also written apart ("PS6" = "بي إس 6" = ps6 or 6 = "بلايستيشن 6", "SE 3")."""
    return [letters + number, number] if len(letters) == 2 else [letters + number]


def _read_fraction(words: Sequence[str], i: int, fraction: str, values: list[Value]) -> int:
    share = _FRACTIONS[fraction]
    nxt = _bare(words[i + 1]) if i + 1 < len(words) else ""
    if nxt in _MULTIPLIERS and nxt not in _VAGUE:
        amount = _round(share * _MULTIPLIERS[nxt])  # نصف تريليون, ربع مليار
        values.append((_kind(words, i, i + 2), amount))
        return i + 2
    if fraction == _FIVE_OR_FIFTH and not _definite(words[i + 1] if i + 1 < len(words) else ""):
        return _scaled(words, i, i + 1, 5.0, values)  # خمس سنوات
    values.append(("%", _round(share * 100)))
    return i + 1


def _definite(word: str) -> bool:
    return word.startswith(("ال", "لل")) or (len(word) > 3 and word.endswith(_POSSESSED))


def _number_words(words: Sequence[str], i: int) -> tuple[float | None, int]:
    """A number written in words from token i ("ستة", "ثمانيه عشر", "ثلاثمئه")."""
    bare = _bare(words[i])
    if bare in _HUNDREDS:
        return float(_HUNDREDS[bare]), i + 1
    if bare in _TENS:
        return float(_TENS[bare]), i + 1
    if bare not in _UNITS or bare in _LETTER_NAMES:
        return None, i
    number = _UNITS[bare]
    nxt = _bare(words[i + 1]) if i + 1 < len(words) else ""
    if number < 10 and nxt in ("عشر", "عشره"):
        return float(number + 10), i + 2  # ثمانية عشر
    if nxt == "و" and i + 2 < len(words) and _bare(words[i + 2]) in _TENS:
        return float(number + _TENS[_bare(words[i + 2])]), i + 3
    if nxt in _TENS:  # "خمسه وعشرين": the و is a clitic of the tens
        return float(number + _TENS[nxt]), i + 2
    return float(number), i + 1


def _scaled(words: Sequence[str], i: int, j: int, number: float, values: list[Value]) -> int:
    """Append the number read from tokens i to j, times the multiplier at token j if
    there is one, with its kind."""
    nxt = _bare(words[j]) if j < len(words) else ""
    if nxt in _MULTIPLIERS:
        scale = _MULTIPLIERS[nxt]
        number, j = number * scale, j + 1
        after = words[j] if j < len(words) else ""
        if after[:1] == "و" and _bare(after) in _FRACTIONS:
            number, j = number + _FRACTIONS[_bare(after)] * scale, j + 1  # ملايين ونصف
        else:
            added, j = _and_smaller(words, j, scale)
            number += added
        number = _round(number)
    values.append((_kind(words, i, j), number))
    return j


def _and_smaller(words: Sequence[str], j: int, scale: float) -> tuple[float, int]:
    """A smaller amount after "و" that adds to the `scale` before it, and the index past
    it: "مليار و200 مليون", "ألف و500", "ألف وخمسمائة", "مليار ومئتا مليون". The و is a
    token of its own or a clitic of the amount ("و500", as keys write it); a year is
    not an amount ("ألف و2026")."""
    after = words[j] if j < len(words) else ""
    if after == "و":
        tail, skip = list(words[j + 1 : j + 4]), 1
    elif after[:1] == "و" and len(after) > 1:
        tail, skip = [after[1:], *words[j + 1 : j + 3]], 0
    else:
        return 0.0, j
    if not tail:
        return 0.0, j
    if _NUMBER.fullmatch(tail[0]) and not _YEAR.fullmatch(tail[0]):
        part, end = float(tail[0]), 1
    elif _bare(tail[0]) in _NUMBER_WORDS and _bare(tail[0]) not in _MULTIPLIERS:
        found, end = _number_words([_bare(tail[0]), *tail[1:]], 0)
        if found is None:
            return 0.0, j
        part = found
    else:
        return 0.0, j
    unit = _bare(tail[end]) if end < len(tail) else ""
    smaller = _MULTIPLIERS.get(unit, 1.0)
    if not (smaller < scale and part * smaller < scale):
        return 0.0, j
    return part * smaller, j + skip + end + (1 if unit in _MULTIPLIERS else 0)


def _kind(words: Sequence[str], i: int, j: int) -> str:
    """The kind of the value read from tokens i to j: "%" when a percent sign or word
    follows, or "نسبة" or a sign no number owns comes before; "$" when a currency
    follows; "#" when a counted noun does ("وظيفة"); "" otherwise."""
    nxt = words[j] if j < len(words) else ""
    if (
        nxt == "%"
        or _bare(nxt) in _PERCENT_WORDS
        or (nxt == "في" and j + 1 < len(words) and words[j + 1] in _PERCENT_WORDS)
    ):
        return "%"
    if _bare(nxt) in _CURRENCIES:
        return "$"
    if nxt in _COUNTED or strip_clitics(nxt) in _COUNTED:
        return "#"
    if i > 0 and words[i - 1] == "%" and (i < 2 or not _NUMBER.fullmatch(words[i - 2])):
        return "%"  # "٪15": the sign typed before the number, as right-to-left shows it
    return "%" if i > 0 and _bare(words[i - 1]) in ("نسبه", "بنسبه") else ""


def _round(value: float) -> float:
    """Six significant digits: 1/3 of 100 and 0.25e9 compare equal however computed."""
    return float(f"{value:.6g}")


def comparable(a: Value, b: Value) -> bool:
    """Whether two values are of one kind. A share is always marked (%, في المئة,
    نسبة), so it compares only with a share; an amount of no known kind may be money."""
    if a[0] == b[0]:
        return True
    return "%" not in (a[0], b[0]) and not (a[0] and b[0])


def same_value(a: Value, b: Value) -> bool:
    """Whether two values are one figure: comparable, and equal, or within 3% when one
    of them is a round figure ("نحو 600 مليار" and 589 مليار); two exact figures that
    differ (927 and 909) are two facts."""
    if not comparable(a, b):
        return False
    x, y = a[1], b[1]
    if x == y:
        return True
    # The distance first: most pairs of figures are far apart, and it is the cheaper test.
    return abs(x - y) <= 0.03 * max(abs(x), abs(y)) and (_round_figure(x) or _round_figure(y))


def _round_figure(x: float) -> bool:
    """Whether `x` has at most two significant digits (600e9, 6000, 1300; not 589e9)."""
    if x == 0 or not math.isfinite(x):
        return False
    scale = 10.0 ** (math.floor(math.log10(abs(x))) - 1)
    return abs(x / scale - round(x / scale)) < 1e-6
