"""The Arabic date fallback: read the `pubDate` strings feedparser gives up on or misreads.

feedparser returns None, silently, for Arabic month names, Arabic-Indic digits and
"GMT+3", and reads "AST" as Atlantic time (UTC-4) where Arab sites mean Arabia time
(UTC+3). dateparser 1.5 reads Egyptian/MSA month names but not the Levantine (آب, كانون
الثاني) or Maghreb (جانفي, أوت) ones unless a regional locale is given, and regional
locales cannot be mixed in one call; it also fails on month pairs, Hijri parts, bare
singular units (منذ ساعة) and most plural units. So we rewrite the string into the one
form dateparser reads well, then check its answer (research/arabic.md section 3).

dateparser is imported lazily: importing it takes about a second.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["has_zone_quirk", "parse_date"]

log = logging.getLogger("feeds.arabic.dates")

_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
_CONTROLS = [0x00AD, 0x061C, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F)]
_CONTROLS += [*range(0x2066, 0x206A), 0x0640, *range(0x064B, 0x0660), 0x0670]
_TABLE: dict[int, str | None] = {cp: None for cp in _CONTROLS} | _DIGITS
_TABLE[ord("،")] = ","


def _fuzzy(word: str) -> str:
    """A regex for `word` that tolerates the usual spelling variants (أ/ا, ى/ي, ة/ه)."""
    classes = {"ا": "[اأإآ]", "أ": "[اأإآ]", "إ": "[اأإآ]", "آ": "[اأإآ]"}
    classes |= {"ي": "[يى]", "ى": "[يى]", "ة": "[ةه]", "ه": "[ةه]", " ": r"\s*"}
    return "".join(classes.get(c, re.escape(c)) for c in word)


def _alternation(words: list[str]) -> str:
    # Longest first, so "كانون الثاني" wins over "كانون" and "تشرين 2" over "تشرين".
    return "|".join(_fuzzy(w) for w in sorted(words, key=len, reverse=True))


#: Levantine/Iraqi (Syriac) and Maghreb (French-derived) month names -> the MSA names
#: dateparser's plain `ar` locale knows. (dateparser issue #1038, PR #803.)
_MONTH_ALIASES: dict[str, list[str]] = {
    "يناير": ["كانون الثاني", "كانون ثاني", "كانون 2", "جانفي"],
    "فبراير": ["شباط", "فيفري"],
    "مارس": ["آذار"],
    "أبريل": ["نيسان", "أفريل"],
    "مايو": ["أيار", "ماي"],
    "يونيو": ["حزيران", "جوان", "يونيه"],
    "يوليو": ["تموز", "جويلية", "جويلة", "يوليوز", "يوليه"],
    "أغسطس": ["آب", "أوت", "غشت"],
    "سبتمبر": ["أيلول", "شتنبر"],
    "أكتوبر": ["تشرين الأول", "تشرين أول", "تشرين 1"],
    "نوفمبر": ["تشرين الثاني", "تشرين ثاني", "تشرين 2", "نونبر"],
    "ديسمبر": ["كانون الأول", "كانون أول", "كانون 1", "دجنبر"],
}
_ALIAS_TO_MONTH = {alias: month for month, aliases in _MONTH_ALIASES.items() for alias in aliases}
_ALIAS_RE = re.compile(rf"(?<!\w)({_alternation(list(_ALIAS_TO_MONTH))})(?!\w)")
_MONTHS = _alternation(list(_MONTH_ALIASES))
_MONTH_PAIR = re.compile(rf"({_MONTHS})\s*(?:/\s*(?:{_MONTHS})|\(\s*(?:{_MONTHS})\s*\))")

_HIJRI_MONTHS = [
    ("محرم",),
    ("صفر",),
    ("ربيع الأول", "ربيع أول"),
    ("ربيع الآخر", "ربيع الثاني", "ربيع ثاني", "ربيع آخر"),
    ("جمادى الأولى", "جمادى الأول", "جمادى أولى"),
    ("جمادى الآخرة", "جمادى الثانية", "جمادى الثاني", "جمادى الآخر", "جمادى آخرة"),
    ("رجب",),
    ("شعبان",),
    ("رمضان",),
    ("شوال",),
    ("ذو القعدة", "ذي القعدة"),
    ("ذو الحجة", "ذي الحجة"),
]
_HIJRI_NAMES = _alternation([n for names in _HIJRI_MONTHS for n in names])
_HIJRI_SUFFIX = r"(?:هـ|ه)(?!\w)\.?"
_HIJRI_DATE = re.compile(
    rf"(\d{{1,2}})\s*(?:من\s+)?({_HIJRI_NAMES})\s*,?\s*(\d{{3,4}})\s*(?:{_HIJRI_SUFFIX})?"
)
_HIJRI_ANY = re.compile(rf"(?<!\w)(?:{_HIJRI_NAMES})(?!\w)|\d\s*{_HIJRI_SUFFIX}")
_HIJRI_YEAR = re.compile(rf"\d{{3,4}}\s*{_HIJRI_SUFFIX}")
_HIJRI_LEFTOVER = re.compile(rf"(?<!\w)(?:{_HIJRI_NAMES})(?!\w)\s*(?:\d{{3,4}})?")
_GREGORIAN = re.compile(
    rf"(?<!\w)(?:{_MONTHS})(?!\w)|\d{{1,4}}[/.-]\d{{1,2}}[/.-]\d{{1,4}}"
    r"|(?i:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)"
)

#: Zone abbreviations of the region that feedparser reads as UTC without a word (its
#: table knows only North America's, GMT and MET): each one means a single offset.
#: Egyptian and Levantine sites write EET, Maghreb sites CET and WET.
_NAMED_ZONES = {
    "WET": "+00:00", "WEST": "+01:00", "CET": "+01:00", "CEST": "+02:00",
    "WAT": "+01:00", "EET": "+02:00", "EEST": "+03:00", "CAT": "+02:00",
    "EAT": "+03:00", "MSK": "+03:00", "TRT": "+03:00", "IRST": "+03:30",
    "PKT": "+05:00",
}  # fmt: skip
_NAMED_ZONE = re.compile(rf"\b(?:{'|'.join(_NAMED_ZONES)})\b")

#: Zone names that parsers misread or ignore; Arab sites mean Arabia and Gulf time.
_ZONES = [
    (re.compile(r"\b(?:AST|KSA)\b"), "+03:00"),
    (re.compile(r"\bGST\b"), "+04:00"),
    (re.compile(r"ب?توقيت\s*(?:مكة المكرمة|مكة|السعودية|الرياض)"), "+03:00"),
    (re.compile(rf"ب?توقيت\s*(?:{_alternation(['الإمارات', 'أبوظبي', 'دبي'])})"), "+04:00"),
    (re.compile(r"ب?توقيت\s*(?:غرينتش|جرينتش)(?!\s*[+-]\s*\d)"), "+00:00"),
]
_GMT_OFFSET = re.compile(r"(?:\bGMT|\bUTC|غرينتش|جرينتش)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b")
_ZONE_QUIRK = re.compile(
    rf"{_NAMED_ZONE.pattern}|\b(?:AST|KSA|GST)\b|توقيت|(?:GMT|UTC)\s*[+-]\s*\d|[\u0600-\u06ff\u0750-\u077f\u200b-\u200f"
    r"\u202a-\u202e\u2066-\u2069]|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
)

_UNITS = {
    "ثانية": ["ثانية", "ثوان", "ثواني", "ثانيتين", "ثانيتان"],
    "دقيقة": ["دقيقة", "دقائق", "دقيقتين", "دقيقتان"],
    "ساعة": ["ساعة", "ساعات", "ساعتين", "ساعتان"],
    "يوم": ["يوم", "أيام", "يومين", "يومان"],
    "أسبوع": ["أسبوع", "أسابيع", "أسبوعين", "أسبوعان"],
    "شهر": ["شهر", "أشهر", "شهور", "شهرين", "شهران"],
    "سنة": ["سنة", "سنوات", "سنين", "عام", "أعوام", "سنتين", "سنتان", "عامين", "عامان"],
}
_UNIT_OF = {form: unit for unit, forms in _UNITS.items() for form in forms}
_DUALS = {f for forms in _UNITS.values() for f in forms if f.endswith(("ين", "ان"))}
_UNIT_RE = re.compile(rf"(?<!\w)(\d+\s*)?({_alternation(list(_UNIT_OF))})(?!\w)")
_APPROX = re.compile(r"(?<=منذ)\s+(?:حوالي|حوالى|نحو|قرابة|تقريبا)(?!\w)")
_RELATIVE = re.compile(
    rf"(?<!\w)(?:منذ|قبل|{_fuzzy('أمس')}|البارحة|اليوم|{_fuzzy('الآن')})(?!\w)"
    r"|(?i:\b(?:ago|yesterday|today|now)\b)"
)
_DAY_BEFORE_YESTERDAY = re.compile(rf"{_fuzzy('أول')}\s+(?:من\s+)?{_fuzzy('أمس')}|البارحة")
_NOISE = re.compile(r"(?<!\w)(?:الموافق|الساعة|في)(?!\w)")
_AR_WEEKDAYS = ["الأحد", "الاثنين", "الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت"]
_WEEKDAYS = re.compile(
    rf"(?<!\w)(?:{_alternation(_AR_WEEKDAYS)})(?!\w)"
    r"|(?i:\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b\.?)"
)
_EDGES = re.compile(r"^[\s,\-–—|/]+|[\s,\-–—|/]+$")


def has_zone_quirk(raw: str) -> bool:
    """True when feedparser's reading of `raw` must not be trusted.

    That is: a zone it misreads (AST as Atlantic, GST, KSA, توقيت مكة) or ignores
    ("GMT+3"), Arabic month or weekday names or Arabic-Indic digits (it returns None or,
    worse, a partial reading), bidi controls, or a d/m/y numeric date (ambiguous order).
    """
    return bool(_ZONE_QUIRK.search(raw))


def parse_date(raw: str, *, now: datetime, default_tz: str | None = None) -> datetime | None:
    """Read an Arabic or English date string; an aware UTC datetime, or None.

    Relative phrases (منذ 3 ساعات, أمس) resolve against `now`. Naive times are read in
    `default_tz` (an IANA name; UTC when None). A string with only a Hijri date is
    converted with the tabular (arithmetical) Islamic calendar, which can differ from
    the Umm al-Qura calendar Saudi sites use by a day or two; when a Gregorian date is
    also present the Hijri part is dropped. None means "not a date": the caller then
    falls back to the first-seen time, so a wrong answer is worse than None.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone: tzinfo = ZoneInfo(default_tz) if default_tz else UTC
    text = _prepare(raw)
    if not text:
        return None
    if _HIJRI_ANY.search(text):
        if not _GREGORIAN.search(text):
            return _parse_hijri(text, zone)
        text = _HIJRI_LEFTOVER.sub(" ", _HIJRI_YEAR.sub(" ", _HIJRI_DATE.sub(" ", text)))
        text = _EDGES.sub("", re.sub(r"\s+", " ", text))
    relative = bool(_RELATIVE.search(text))
    if relative:
        text = _relative(text)
    elif not re.search(r"\d", text):
        return None  # a bare month or weekday name: dateparser would answer with `now`
    local_now = now.astimezone(zone).replace(tzinfo=None)
    result = _dateparser(text, local_now, default_tz or "UTC")
    if result is None or (not relative and not _plausible(text, result)):
        log.debug("unreadable date %r (rewritten %r)", raw, text)
        return None
    return result.astimezone(UTC)


def _prepare(raw: str) -> str:
    text = raw.translate(_TABLE)
    text = _GMT_OFFSET.sub(_gmt_offset, text)
    for pattern, offset in _ZONES:
        text = pattern.sub(f" {offset}", text)
    text = _NAMED_ZONE.sub(lambda m: f" {_NAMED_ZONES[m[0]]}", text)
    text = _ALIAS_RE.sub(_month_alias, text)
    text = _MONTH_PAIR.sub(r"\1", text)
    if re.search(r"\d{3,4}", text):  # a full date: weekday names only confuse dateparser
        text = _WEEKDAYS.sub(" ", text)
    text = _NOISE.sub(" ", text)
    return _EDGES.sub("", re.sub(r"\s+", " ", text))


def _gmt_offset(m: re.Match[str]) -> str:
    return f" {m[1]}{int(m[2]):02d}:{m[3] or '00'}"


# One pattern per month alias and per unit form, to tell which one a match spelled:
# compiled on the first date that needs them, not at import (each process of the parse
# pool imports this module, and 70 compilations were most of its import time).
@functools.cache
def _alias_lookup() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(_fuzzy(a)), m) for a, m in _ALIAS_TO_MONTH.items()]


@functools.cache
def _unit_lookup() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(_fuzzy(f)), u) for f, u in _UNIT_OF.items()]


def _month_alias(m: re.Match[str]) -> str:
    found = m[0]
    return next(month for pattern, month in _alias_lookup() if pattern.fullmatch(found))


def _relative(text: str) -> str:
    """Rewrite into the forms dateparser 1.5 reads: "منذ <n> <singular unit>"."""
    text = re.sub(r"(?<!\w)قبل(?!\w)", "منذ", text)
    text = _DAY_BEFORE_YESTERDAY.sub("منذ 2 يوم", text)
    text = _APPROX.sub("", text)
    return _UNIT_RE.sub(_unit, text)


def _unit(m: re.Match[str]) -> str:
    form = m[2]
    unit = next(u for pattern, u in _unit_lookup() if pattern.fullmatch(form))
    if m[1]:
        return f"{m[1].strip()} {unit}"
    dual = any(re.fullmatch(_fuzzy(d), form) for d in _DUALS)
    return f"{2 if dual else 1} {unit}"


def _dateparser(text: str, base: datetime, tz: str) -> datetime | None:
    import dateparser  # slow to import: only the fallback path needs it

    settings = {
        "DATE_ORDER": "DMY",  # Arab sites write 09/10/2025 for 9 October
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": tz,
        "RELATIVE_BASE": base,
        "TO_TIMEZONE": "UTC",
    }
    return dateparser.parse(text, languages=["ar", "en"], settings=settings)  # type: ignore[arg-type]


def _plausible(text: str, result: datetime) -> bool:
    """Reject dateparser's silent fallback to the relative base ("1 آب 2025" -> today).

    An absolute date string must spell out the day and year dateparser found. The
    result is in UTC and the string in its own zone, so the day may be one off.
    """
    numbers = {int(n) for n in re.findall(r"\d+", text)}
    years = {n for n in numbers if n >= 1000}
    if result.year < 1900:  # "1447/03/22" is a Hijri date written numerically
        return False
    if years and not years & {result.year - 1, result.year, result.year + 1}:
        return False
    days = {(result + timedelta(days=d)).day for d in (-1, 0, 1)}
    return bool(days & numbers)


def _parse_hijri(text: str, zone: tzinfo) -> datetime | None:
    m = _HIJRI_DATE.search(text)
    if not m or not 1 <= int(m[1]) <= 30:
        return None
    month = next(
        i
        for i, names in enumerate(_HIJRI_MONTHS, 1)
        if any(re.fullmatch(_fuzzy(n), m[2]) for n in names)
    )
    date = hijri_to_gregorian(int(m[3]), month, int(m[1]))
    hour, minute = _clock(text[: m.start()] + " " + text[m.end() :])
    if hour > 23 or minute > 59:
        return None
    return date.replace(hour=hour, minute=minute, tzinfo=zone).astimezone(UTC)


def _clock(text: str) -> tuple[int, int]:
    """The time of day in `text` ("10:30", "10:30 م"); midnight when there is none."""
    m = re.search(r"(\d{1,2}):(\d{2})(?:\s*(ص|م)(?!\w))?", text)
    if not m:
        return 0, 0
    hour = int(m[1])
    if m[3]:
        hour = hour % 12 + (12 if m[3] == "م" else 0)
    return hour, int(m[2])


def hijri_to_gregorian(year: int, month: int, day: int) -> datetime:
    """The tabular Islamic calendar (type II leap years, civil epoch 16 July 622 Julian).

    Months alternate 30 and 29 days; 11 leap years in each 30-year cycle add a day to
    Dhu al-Hijjah. Returns midnight of the Gregorian day, naive.
    """
    days = day + (59 * (month - 1) + 1) // 2 + (year - 1) * 354 + (3 + 11 * year) // 30
    julian_day = days + 1948440 - 1
    return datetime(1, 1, 1) + timedelta(days=julian_day - 1721426)
