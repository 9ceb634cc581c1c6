"""The parse stage: one fetched body → `ParsedFeed`, feedparser-free on the way out.

feedparser only ever sees bytes in a `BytesIO` plus the response headers: given a str
it may open a URL or a local path (its `_open_resource`). Before it sees them, a DOCTYPE
that declares entities loses its internal subset, so no external entity can read a local
file and no nested entity can expand without bound (billion laughs). We neutralise
instead of refusing, so a feed whose CMS emits a harmless `<!ENTITY nbsp …>` still
parses (feedparser's loose parser knows the HTML entities anyway). expat already skips
external entities (feature_external_ges is off), but that is one setting away from
reading /etc/passwd, so the guard does not rely on it.

feedparser 6.0 does not read JSON Feed, so JSON Feed 1.0/1.1 is parsed here with `json`.
`bozo` is a warning, never a failure: `text/xml` without charset and UTF-8 bodies that
declare another charset set it on perfectly usable feeds (research/arabic.md 4b).
"""

from __future__ import annotations

import calendar
import copy
import functools
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser

from feeds.arabic import mojibake
from feeds.errors import ParseError
from feeds.types import FetchResult, ParsedEntry, ParsedFeed

__all__ = ["parse"]


def _memoize_uri_joins() -> None:
    """Make feedparser's URI joins cached: the same few pairs, thousands of times.

    Given a base URI (we pass the feed's URL as Content-Location), feedparser joins it
    with each element's xml:base on every start tag (`mixin.unknown_starttag`), ten times
    per RSS item, almost always with the same two strings; and each `<link>` and `<guid>`
    is joined with it too. Those joins were 15% of parsing. Both functions are pure (of
    their arguments and a constant scheme list), so a cache changes no result; a test
    parses both corpora with and without it and compares. Long arguments bypass the
    cache, so a daemon's cache stays small whatever the feeds hold.
    """
    mixin = feedparser.mixin
    for name in ("make_safe_absolute_uri", "_urljoin"):
        original = getattr(mixin, name)
        if not hasattr(original, "cache_info"):
            setattr(mixin, name, _memoized(original))


_MEMO_CHARS = 2048  # longer arguments (a hostile feed's) are joined, never kept


def _memoized(join: Callable[..., Any]) -> Callable[..., Any]:
    cached = functools.lru_cache(maxsize=4096)(join)

    @functools.wraps(join)
    def memoized(*args: Any, **kwargs: Any) -> Any:
        if kwargs or sum(len(a) for a in args if isinstance(a, str)) > _MEMO_CHARS:
            return join(*args, **kwargs)
        return cached(*args)

    memoized.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return memoized


_memoize_uri_joins()


# Keys a FeedParserDict resolves with more than a plain lookup: the aliases of its
# keymap ("guid" is "id") and the keys it computes ("category", "enclosures", ...).
_COMPUTED_KEYS = ("category", "enclosures", "license", "updated", "updated_parsed")
_ATOMS = (str, int, float, bool, type(None))


def _fast_feedparser_dicts() -> None:
    """Give feedparser's dict and its win-1252 table fast paths that return the same.

    feedparser calls `FeedParserDict.get` and `in` about 70 times per RSS item, mostly
    on its content parameters (`type`, `base64`, `mode`); each goes through the alias
    lookup of `__getitem__` and, for a missing key, a raised and caught KeyError. For a
    key with no alias and no computed value that is exactly `dict.get`/`dict.__contains__`,
    so those keys take the plain path. feedparser also deep-copies its content
    parameters for every content element (`copy.deepcopy` of a FeedParserDict, which
    goes through `__getattr__`'s KeyError and the pickle protocol); when they hold only
    strings and numbers a dict copy is the same, so `__deepcopy__` makes one. And it maps
    every text through its win-1252 table with `str.translate`, which raises and clears
    a KeyError for each character outside the table's 27 entries: the same table as a
    list indexed by code point (`_translate_table`) gives the same text in 40 % of the
    time on Arabic text.

    Together they take parsing from about 0.38 to 0.28 ms per item (docs/performance.md);
    a test parses both corpora with and without them and compares feedparser's results.
    """
    cls = feedparser.FeedParserDict
    if getattr(cls, "_feeds_fast", False):
        return
    special = frozenset((*_COMPUTED_KEYS, *cls.keymap))
    slow_get, slow_contains = cls.get, cls.__contains__
    plain_get, plain_contains = dict.get, dict.__contains__

    @functools.wraps(slow_get)
    def get(self: Any, key: Any, default: Any = None) -> Any:
        if key in special:
            return slow_get(self, key, default)
        return plain_get(self, key, default)

    @functools.wraps(slow_contains)
    def contains(self: Any, key: Any) -> bool:
        if key in special:
            return slow_contains(self, key)  # type: ignore[no-any-return]
        return plain_contains(self, key)

    def deepcopy(self: Any, memo: dict[int, Any]) -> Any:
        if (
            not self.__dict__
            and special.isdisjoint(self)
            and all(type(v) in _ATOMS for v in self.values())
        ):
            return cls(self)  # what the generic copy builds, without its detours
        out = cls()
        memo[id(self)] = out
        out.__dict__.update(copy.deepcopy(self.__dict__, memo))
        for key, value in self.items():
            out[copy.deepcopy(key, memo)] = copy.deepcopy(value, memo)
        return out

    cls.get, cls.__contains__, cls.__deepcopy__ = get, contains, deepcopy  # type: ignore[method-assign]
    cls._feeds_fast = True
    mixin = feedparser.mixin
    table = getattr(mixin, "_cp1252", None)
    if isinstance(table, dict) and all(
        type(k) is int and k < _TABLE_SIZE and len(v) == 1 for k, v in table.items()
    ):
        mixin._cp1252 = _translate_table(table)


#: Code points below this map through a list in feedparser's win-1252 step; the rest
#: (rare in news text) through the lookup that fails and leaves them as they are.
_TABLE_SIZE = 0x3000


def _translate_table(table: Mapping[int, str]) -> list[int]:
    """`table` (code point -> replacement) as a list indexed by code point, identity
    elsewhere: `str.translate` gives the same text, and looks each character up by index
    where a dict lookup of a character the table lacks raised and cleared a KeyError."""
    out = list(range(_TABLE_SIZE))
    for cp, replacement in table.items():
        out[cp] = ord(replacement)
    return out


_fast_feedparser_dicts()

log = logging.getLogger("feeds.parse")

# XML 1.0 section 2.2 `Char`: everything else makes lxml and feedgen refuse the document.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06fc]")
_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)
_SAMPLE_ENTRIES = 30


def parse(result: FetchResult) -> ParsedFeed:
    """Parse one fetched body. Raises `ParseError` when it is not a feed at all."""
    if result.content is None:
        raise ParseError(result.source_url, "not a feed: no body (304 Not Modified)")
    body = result.content
    if _looks_like_json(body, result.header("content-type")):
        feed = _parse_json_feed(result.source_url, result.url, body)
    else:
        feed = _parse_xml(result, body)
    if feed.entries:
        feed = _repair_text(feed)
    log.debug("%s: %s, %d entries, %s", result.url, feed.version, len(feed.entries), feed.encoding)
    return feed


# --------------------------------------------------------------------------- XML


def _parse_xml(result: FetchResult, body: bytes) -> ParsedFeed:
    body, warnings = _neutralise_doctype(body)
    body = _CHARREF.sub(_safe_charref, body)
    headers = _response_headers(result)
    d = _feedparse(body, headers)
    warnings.extend(_bozo_warnings(d))
    if isinstance(d.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        d, retried = _retry_as_cp1256(body, headers, d)
        if retried:
            warnings.append("bytes labelled as another charset were decoded as windows-1256")
    entries = tuple(_entry(e) for e in d["entries"])
    version = str(d.get("version") or "")
    if not entries and not version:
        alternates = _html_alternates(body, result.url, result.header("content-type"))
        if alternates:
            return ParsedFeed(url=result.url, alternates=alternates, warnings=tuple(warnings))
        raise ParseError(result.source_url, f"not a feed: {_why_not(d, body)}")
    return _feed(d, result.url, entries, warnings)


# A numeric character reference to a surrogate or past U+10FFFF (&#xD800;, &#1114112;)
# is not XML (XML 1.0 §4.1, "Char"); feedparser's loose parser turns it into a lone
# surrogate and then crashes encoding it (UnicodeEncodeError), losing the whole feed.
_CHARREF = re.compile(rb"&#([xX][0-9a-fA-F]+|[0-9]+);")


def _safe_charref(m: re.Match[bytes]) -> bytes:
    ref = m.group(1)
    digits = ref[1:] if ref[:1] in b"xX" else ref
    if len(digits.lstrip(b"0")) > 8:
        return b"&#xFFFD;"
    cp = int(digits, 16) if ref[:1] in b"xX" else int(digits)
    return b"&#xFFFD;" if 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF else m.group(0)


def _feedparse(body: bytes, headers: Mapping[str, str]) -> Any:
    # We sanitize with nh3 in normalize, which also needs the lazy-load attributes that
    # feedparser's own sanitizer would strip; relative URLs are resolved there too.
    return feedparser.parse(
        io.BytesIO(body),
        response_headers=dict(headers),
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _response_headers(result: FetchResult) -> dict[str, str]:
    headers = {"content-location": result.url}
    for name in ("content-type", "content-language"):
        value = result.header(name)
        if value:
            headers[name] = value
    return headers


def _bozo_warnings(d: Any) -> list[str]:
    exc = d.get("bozo_exception")
    if not d.get("bozo") or exc is None:
        return []
    return [_FORBIDDEN.sub("", f"{type(exc).__name__}: {exc}")]


def _why_not(d: Any, body: bytes) -> str:
    exc = d.get("bozo_exception")
    if not body.strip():
        return "empty body"
    if exc is not None:
        return f"{type(exc).__name__}: {exc}"
    return "no RSS, Atom or RDF root element"


def _retry_as_cp1256(body: bytes, headers: Mapping[str, str], d: Any) -> tuple[Any, bool]:
    """windows-1256 bytes labelled UTF-8: feedparser falls back to a Latin charset.

    The result is ÃÚáäÊ-style text, with letters dropped or turned into U+FFFD when the
    fallback charset lacks a byte (research/arabic.md 4a, 4b). Reparse as windows-1256
    and keep it only when that reads as Arabic and the first attempt did not; a
    Portuguese feed in Latin-1 stays as it was because its cp1256 reading is still
    mostly Latin letters.
    """
    retry = _feedparse(body, {**headers, "content-type": "application/xml; charset=windows-1256"})
    before, after = _sample_text(d), _sample_text(retry)
    gained = _arabic_ratio(after) - _arabic_ratio(before)
    if (
        _arabic_ratio(after) >= 0.5
        and gained >= 0.3
        and after.count("\ufffd") <= before.count("\ufffd")
    ):
        return retry, True
    return d, False


def _sample_text(d: Any) -> str:
    parts = [str(dict.get(d["feed"], "title") or "")]
    for e in d["entries"][:_SAMPLE_ENTRIES]:
        parts += [str(dict.get(e, "title") or ""), str(dict.get(e, "summary") or "")]
    return " ".join(parts)


def _arabic_ratio(text: str) -> float:
    letters = sum(1 for c in text if c.isalpha())
    return len(_ARABIC_LETTER.findall(text)) / letters if letters else 0.0


# --------------------------------------------------------------------------- DOCTYPE guard

_DOCTYPE = re.compile(rb"<!DOCTYPE\b")
_QUOTED_OR_BRACKET = re.compile(rb"\"[^\"]*\"|'[^']*'|\[|\]|>")
_WIDE = {
    b"\xff\xfe\x00\x00": "utf-32-le",
    b"\x00\x00\xfe\xff": "utf-32-be",
    b"\xff\xfe": "utf-16-le",
    b"\xfe\xff": "utf-16-be",
    b"<\x00\x00\x00": "utf-32-le",
    b"\x00\x00\x00<": "utf-32-be",
    b"<\x00?\x00": "utf-16-le",
    b"\x00<\x00?": "utf-16-be",
}


def _neutralise_doctype(body: bytes) -> tuple[bytes, list[str]]:
    """Drop a DOCTYPE's internal subset when it declares entities (XXE, billion laughs).

    UTF-16/32 bodies are transcoded for the check and encoded back only if changed, so
    the guard cannot be bypassed by a wide encoding expat would accept.
    """
    codec = next((c for bom, c in _WIDE.items() if body.startswith(bom)), None)
    if codec is None:
        return _guard_ascii_compatible(body)
    text = body.decode(codec, errors="replace")
    guarded, warnings = _guard_ascii_compatible(text.encode("utf-8"))
    if not warnings:
        return body, []
    return guarded.decode("utf-8", errors="replace").encode(codec, errors="replace"), warnings


def _guard_ascii_compatible(body: bytes) -> tuple[bytes, list[str]]:
    match = _DOCTYPE.search(body, 0, 4096)
    if match is None:
        return body, []
    subset_start = subset_end = end = -1
    depth = 0
    for token in _QUOTED_OR_BRACKET.finditer(body, match.end()):
        t = token.group()
        if t == b"[":
            depth += 1
            subset_start = token.start() if subset_start < 0 else subset_start
        elif t == b"]":
            depth -= 1
            subset_end = token.end()
        elif t == b">" and depth <= 0:
            end = token.end()
            break
    if end < 0:  # an unterminated DOCTYPE: nothing after it can be trusted
        return body[: match.start()], ["unterminated DOCTYPE removed"]
    head = body[match.start() : subset_start if subset_start >= 0 else end - 1].rstrip()
    subset = body[subset_start:subset_end] if subset_start >= 0 else b""
    local_dtd = _external_id_is_local(head)
    if b"<!ENTITY" not in subset and not local_dtd:
        return body, []
    if local_dtd:
        name = re.match(rb"<!DOCTYPE\s+([^\s\[>]*)", head)
        head = b"<!DOCTYPE " + (name.group(1) if name else b"feed")
    warning = "DOCTYPE declaring entities or a local DTD was neutralised"
    log.warning("%s", warning)
    return body[: match.start()] + head + b">" + body[end:], [warning]


def _external_id_is_local(head: bytes) -> bool:
    """A SYSTEM identifier that is not http(s) (file:, a bare path) would read a local file."""
    m = re.search(rb"(?:SYSTEM|PUBLIC\s+(?:\"[^\"]*\"|'[^']*'))\s+[\"']([^\"']*)", head)
    return m is not None and not m.group(1).lower().startswith((b"http://", b"https://"))


# --------------------------------------------------------------------------- records


def _text(value: object) -> str | None:
    if value is None:
        return None
    s = _FORBIDDEN.sub("", str(value))
    return s if s.strip() else None


def _utc(value: object) -> datetime | None:
    """feedparser's `*_parsed` values are UTC `struct_time`s."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _entry(e: Any) -> ParsedEntry:
    # dict.get, never e.get: FeedParserDict maps a missing `updated` to `published`.
    content, base, language = _content(e)
    summary_detail = dict.get(e, "summary_detail") or {}
    return ParsedEntry(
        guid=_text(dict.get(e, "id")),
        title=_text(dict.get(e, "title")),
        link=_text(_link(e)),
        summary=_text(dict.get(e, "summary")),
        content=_text(content),
        published=_utc(dict.get(e, "published_parsed")),
        published_raw=_text(dict.get(e, "published")),
        updated=_utc(dict.get(e, "updated_parsed")),
        updated_raw=_text(dict.get(e, "updated")),
        authors=_names(dict.get(e, "authors") or [], dict.get(e, "author")),
        categories=_terms(dict.get(e, "tags") or []),
        base=_text(base or dict.get(summary_detail, "base")),
        language=_text(language or dict.get(summary_detail, "language")),
        image=_text(_image(e)),
    )


def _content(e: Any) -> tuple[str | None, str | None, str | None]:
    """The richest content block: HTML first (`content:encoded`, Atom type="html")."""
    blocks = [c for c in dict.get(e, "content") or [] if dict.get(c, "value")]
    if not blocks:
        return None, None, None
    html_blocks = [c for c in blocks if "html" in str(dict.get(c, "type") or "")]
    best = (html_blocks or blocks)[0]
    value = str(best["value"])
    if "html" not in str(dict.get(best, "type") or ""):
        value = escape(value)
    return value, dict.get(best, "base"), dict.get(best, "language")


def _link(e: Any) -> str | None:
    link = dict.get(e, "link")
    if link:
        return str(link)
    for candidate in dict.get(e, "links") or []:
        if dict.get(candidate, "rel", "alternate") == "alternate" and dict.get(candidate, "href"):
            return str(candidate["href"])
    return None


def _names(authors: Iterable[Any], author: object) -> tuple[str, ...]:
    names = [_text(dict.get(a, "name")) for a in authors if isinstance(a, dict)]
    if not any(names) and author:
        names = [_text(author)]
    return tuple(dict.fromkeys(n.strip() for n in names if n))


def _terms(tags: Iterable[Any]) -> tuple[str, ...]:
    terms = [
        _text(dict.get(t, "label") or dict.get(t, "term")) for t in tags if isinstance(t, dict)
    ]
    return tuple(dict.fromkeys(t.strip() for t in terms if t))


def _image(e: Any) -> str | None:
    for link in dict.get(e, "links") or []:
        if dict.get(link, "rel") == "enclosure" and str(dict.get(link, "type", "")).startswith(
            "image/"
        ):
            return str(dict.get(link, "href") or "") or None
    for key in ("media_thumbnail", "media_content"):
        for media in dict.get(e, key) or []:
            url = dict.get(media, "url")
            kind = str(dict.get(media, "medium") or dict.get(media, "type") or "image")
            if url and (key == "media_thumbnail" or kind.startswith("image")):
                return str(url)
    return None


def _feed(d: Any, url: str, entries: tuple[ParsedEntry, ...], warnings: list[str]) -> ParsedFeed:
    f = d["feed"]
    return ParsedFeed(
        url=url,
        title=_text(dict.get(f, "title")),
        link=_text(dict.get(f, "link")),
        language=_text(dict.get(f, "language")),
        ttl_minutes=_ttl(dict.get(f, "ttl")),
        version=str(d.get("version") or ""),
        encoding=_text(d.get("encoding")),
        entries=entries,
        warnings=tuple(warnings),
    )


def _ttl(value: object) -> int | None:
    try:
        minutes = int(str(value).strip())
    except ValueError:
        return None
    return minutes if minutes > 0 else None


# --------------------------------------------------------------------------- JSON Feed

_JSON_VERSIONS = {
    "https://jsonfeed.org/version/1": "json1",
    "https://jsonfeed.org/version/1.1": "json11",
}


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    """By the body first: servers label feeds with whatever content type they like."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return True
    return "json" in (content_type or "").lower() and not head.startswith(b"<")


def _parse_json_feed(source_url: str, url: str, body: bytes) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1): always UTF-8."""
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ParseError(source_url, f"not a feed: invalid JSON ({e})") from e
    version = (
        _JSON_VERSIONS.get(str(doc.get("version", "")).rstrip("/"))
        if isinstance(doc, dict)
        else None
    )
    if version is None or not isinstance(doc.get("items", []), list):
        raise ParseError(source_url, "not a feed: JSON without a jsonfeed.org version")
    items = [i for i in doc.get("items", []) if isinstance(i, dict)]
    return ParsedFeed(
        url=url,
        title=_text(doc.get("title")),
        link=_text(doc.get("home_page_url")),
        language=_text(doc.get("language")),
        version=version,
        encoding="utf-8",
        entries=tuple(_json_entry(i, url) for i in items),
    )


def _json_entry(item: Mapping[str, Any], url: str) -> ParsedEntry:
    content = item.get("content_html")
    if not content and item.get("content_text"):
        content = escape(str(item["content_text"])).replace("\n", "<br>")
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    attachments = [a for a in item.get("attachments") or [] if isinstance(a, dict)]
    image = (
        item.get("image")
        or item.get("banner_image")
        or next(
            (a.get("url") for a in attachments if str(a.get("mime_type", "")).startswith("image/")),
            None,
        )
    )
    return ParsedEntry(
        guid=_text(item.get("id")),
        title=_text(item.get("title")),
        link=_text(item.get("url") or item.get("external_url")),
        summary=_text(escape(str(item["summary"])) if item.get("summary") else None),
        content=_text(content),
        published=_iso(item.get("date_published")),
        published_raw=_text(item.get("date_published")),
        updated=_iso(item.get("date_modified")),
        updated_raw=_text(item.get("date_modified")),
        authors=_names((a for a in authors if isinstance(a, dict)), None),
        categories=tuple(dict.fromkeys(t for t in (_text(x) for x in item.get("tags") or []) if t)),
        base=url,
        language=_text(item.get("language")),
        image=_text(image),
    )


def _iso(value: object) -> datetime | None:
    """RFC 3339, as JSON Feed requires; anything else is left to the Arabic fallback."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


# --------------------------------------------------------------------------- HTML pages


class _AlternateFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        kind = a.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in _FEED_TYPES and a.get("href", "").strip():
            self.hrefs.append(a["href"].strip())


def _html_alternates(body: bytes, url: str, content_type: str | None) -> tuple[str, ...]:
    head = body[:2048].lower()
    if "html" not in (content_type or "").lower() and b"<html" not in head:
        return ()
    finder = _AlternateFinder()
    finder.feed(body.decode("utf-8", errors="replace"))
    finder.close()
    found = (urljoin(url, h) for h in finder.hrefs)
    return tuple(dict.fromkeys(h for h in found if h.startswith(("http://", "https://"))))


# --------------------------------------------------------------------------- mojibake


def _repair_text(feed: ParsedFeed) -> ParsedFeed:
    """Apply one feed-wide mojibake repair, chosen on a sample of titles and summaries."""
    sample: list[str] = [feed.title or ""]
    for e in feed.entries[:_SAMPLE_ENTRIES]:
        sample += [e.title or "", e.summary or ""]
    name = mojibake.detect(tuple(s for s in sample if s))
    if name is None:
        return feed
    log.info("%s: repairing text with %s", feed.url, name)

    def fix(s: str | None) -> str | None:
        return _text(mojibake.repair(s, name)) if s is not None else None

    def fix_all(values: Sequence[str]) -> tuple[str, ...]:
        return tuple(r for r in (fix(v) for v in values) if r)

    entries = tuple(
        replace(
            e,
            title=fix(e.title),
            summary=fix(e.summary),
            content=fix(e.content),
            authors=fix_all(e.authors),
            categories=fix_all(e.categories),
        )
        for e in feed.entries
    )
    return replace(feed, title=fix(feed.title), entries=entries, repair=name)
