"""XML feeds through feedparser: the DOCTYPE guard, the cp1256 retry, and the records."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping
from typing import Any

import feedparser

from feeds.errors import ParseError
from feeds.types import FetchResult, ParsedFeed

from ..markup import XML_FORBIDDEN
from . import _fast, _pages
from ._html import _html_alternates
from ._records import _entry, _feed, dicts

log = logging.getLogger("feeds.parse")

_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06fc]")
_SAMPLE_ENTRIES = 30  # entries whose text decides a feed-wide repair


# --------------------------------------------------------------------------- XML


def _parse_xml(result: FetchResult, body: bytes) -> ParsedFeed:
    _refuse_quadratic(result.source_url, body)
    body, warnings = _neutralise_doctype(body)
    body = _CHARREF.sub(_safe_charref, body)
    headers = _response_headers(result)
    d = _fast.read(body, headers)
    if d is None:
        try:
            d = _feedparse(body, headers)
        except (UnicodeError, LookupError) as e:  # feedparser on a garbled encoding label
            raise ParseError(result.source_url, f"not a feed: cannot decode it ({e})") from e
        except ValueError as e:
            # feedparser's strict parser unpacks each namespaced name in two, which a
            # namespace URI holding a space (expat's separator) makes three (a fuzz case)
            why = f"not a feed: the XML parser failed ({type(e).__name__}: {e})"
            raise ParseError(result.source_url, why) from e
        warnings.extend(_bozo_warnings(d))
        if isinstance(d.get("bozo_exception"), feedparser.CharacterEncodingOverride):
            d, retried = _retry_as_cp1256(body, headers, d)
            if retried:
                warnings.append("bytes labelled as another charset were decoded as windows-1256")
    _restore_bare_ampersands(d, body)
    entries = tuple(_entry(e) for e in d["entries"])
    version = str(d.get("version") or "")
    if not entries and not version:
        if (sitemap := _pages.news_sitemap(result, body)) is not None:
            return sitemap
        alternates = _html_alternates(body, result.url, result.header("content-type"))
        if alternates:
            return ParsedFeed(url=result.url, alternates=alternates, warnings=tuple(warnings))
        if (embedded := _pages.json_ld(result, body)) is not None:
            return embedded  # a page without a feed that names its articles in JSON-LD
        why = _why_not(d, body, result.header("content-type"))
        raise ParseError(result.source_url, f"not a feed: {why}")
    return _feed(d, result.url, entries, warnings)


#: More than these on one element, or in one item, is no feed anyone writes, and
#: feedparser compares each with every one before it: 50,000 attributes on one element
#: took it 30 s, and 100,000 categories in one item 146 s (feeds' fast path reads those
#: in linear time, but falls back to feedparser on shapes it does not know).
MOST_ATTRIBUTES = 1_000
MOST_CATEGORIES = 1_000
# A tag long enough to hold that many attributes ("a=''" and a space each).
_LONG_TAG = re.compile(rb"<[A-Za-z][^<>]{%d,}>" % (5 * MOST_ATTRIBUTES))
_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
# Elements feedparser reads as an item's tags (category, dc:subject, itunes:category...).
_TAG_NAMES = (b"category", b"subject", b"keywords")


def _refuse_quadratic(source: str, body: bytes) -> None:
    """ParseError for a body with an element of more than `MOST_ATTRIBUTES` attributes
    or an item of more than `MOST_CATEGORIES` categories; two scans in C otherwise."""
    for tag in _LONG_TAG.finditer(body):
        if (count := tag.group().count(b"=")) > MOST_ATTRIBUTES:
            raise ParseError(
                source, f"refused: an element with {count} attributes (at most {MOST_ATTRIBUTES})"
            )
    # Each such element names itself twice, in its start and end tags.
    if sum(body.count(name) for name in _TAG_NAMES) <= 2 * MOST_CATEGORIES:
        return
    for item in _ITEM_START.split(body):
        if (count := sum(item.count(name) for name in _TAG_NAMES) // 2) > MOST_CATEGORIES:
            raise ParseError(
                source, f"refused: an item with {count} categories (at most {MOST_CATEGORIES})"
            )


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


# A bare `&` before a name (`AT&T`) is not XML, so feedparser reparses the feed with its
# loose parser, which writes each reference it does not know as `&NAME;`: "AT&T" came
# out as "AT&T;", in titles, summaries and names alike. In its output, `&NAME;` is one
# it added when the body writes `&NAME` bare and never `&NAME;`, as a reference or as
# escaped text (`&amp;NAME;`). The names are ASCII, so this reads any ASCII-compatible
# encoding; a UTF-16 body keeps feedparser's text.
_BARE_NAME = re.compile(rb"&([A-Za-z][A-Za-z0-9]*)(?![A-Za-z0-9;])")
_WRITTEN_NAME = re.compile(rb"&(?:amp;|#38;|#[xX]26;)?([A-Za-z][A-Za-z0-9]*);")
_NAME_REF = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _restore_bare_ampersands(d: Any, body: bytes) -> None:
    """Take the `;` feedparser added after a bare `&NAME` out of every text we read."""
    names = {m.group(1) for m in _BARE_NAME.finditer(body)}
    names -= {m.group(1) for m in _WRITTEN_NAME.finditer(body)} if names else set()
    if not names:
        return
    added = frozenset(n.decode("ascii") for n in names)

    def restore(holder: Any, key: str) -> None:
        value = dict.get(holder, key)
        if isinstance(value, str) and "&" in value:
            fixed = _NAME_REF.sub(lambda m: m[0][:-1] if m[1] in added else m[0], value)
            dict.__setitem__(holder, key, fixed)

    restore(d["feed"], "title")
    for e in d["entries"]:
        for key in ("title", "summary", "author"):
            restore(e, key)
        for block in dicts(dict.get(e, "content")):
            restore(block, "value")
        for person in dicts(dict.get(e, "authors")):
            restore(person, "name")
        for tag in dicts(dict.get(e, "tags")):
            restore(tag, "term")
            restore(tag, "label")


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
    return [XML_FORBIDDEN.sub("", f"{type(exc).__name__}: {exc}")]


def _why_not(d: Any, body: bytes, content_type: str | None) -> str:
    """Why a body that gave no entries is no feed, in the words a user looks for: a
    site's home page or a file is the usual mistake, not an XML error."""
    if not body.strip():
        return "empty body"
    kind = (content_type or "").partition(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or _HTML_START.match(body):
        return "an HTML page that links no feed and lists no articles (JSON-LD)"
    looks_like_markup = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"
    if (kind.partition("/")[0] in _FILES or kind in _FILE_TYPES) and not looks_like_markup:
        return f"the server sent {kind}"  # a file; a mislabelled XML body keeps its error
    if not looks_like_markup:
        return _not_markup(body)
    if (root := _SITEMAP_ROOT.search(body[:4096])) is not None:
        if root[1].lower() == b"sitemapindex":
            return "a sitemap index: give one of the news sitemaps it lists as the source"
        return "a sitemap without news entries (<news:news>): only news sitemaps are read"
    exc = d.get("bozo_exception")
    if exc is not None:
        return f"{type(exc).__name__}: {exc}"
    return "no RSS, Atom or RDF root element"


def _not_markup(body: bytes) -> str:
    """What a body that does not start with a tag is: a known file's signature, else
    its first words, which say more than XML's error about its first byte (a server's
    plain-text notice, a PHP warning, an empty JSON answer)."""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, what in _MAGIC:
        if start.startswith(magic):
            return f"the body is {what}, not XML"
    words = " ".join(start[:80].decode("utf-8", "replace").split())
    return f"the body is not XML: it starts {words[:48]!r}"


_MAGIC = (
    (b"%PDF-", "a PDF document"), (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"), (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "gzip data"),
)  # fmt: skip

_HTML_START = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.I | re.S
)
_SITEMAP_ROOT = re.compile(rb"<(?:\w+:)?(sitemapindex|urlset)[\s>]", re.I)
_FILES = ("image", "audio", "video", "font", "model")
_FILE_TYPES = frozenset(
    ["application/pdf", "application/zip", "application/gzip", "application/octet-stream"]
)


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
