"""What the parse stage keeps of a feedparser result or a JSON Feed: plain records."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape
from typing import Any

from feedparser import mixin as _mixin

from feeds.markup import XML_FORBIDDEN
from feeds.types import Media, ParsedEntry, ParsedFeed

# XML 1.0 section 2.2 `Char`: everything else makes lxml and feedgen refuse the document.


# --------------------------------------------------------------------------- records


def mapping(value: object) -> dict[str, Any]:
    """A feedparser value read as a mapping: an element the source named like one of
    feedparser's own keys (`<title_detail>`, `<links>` in an item) stores text there."""
    return value if isinstance(value, dict) else {}


def dicts(value: object) -> list[dict[str, Any]]:
    """A feedparser value read as a list of mappings (`links`, `content`, `tags`), for
    the same reason as `mapping`: what is not one is passed over."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    if value is None:
        return None
    s = XML_FORBIDDEN.sub("", str(value))
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
    summary_detail = mapping(dict.get(e, "summary_detail"))
    return ParsedEntry(
        guid=_text(dict.get(e, "id")),
        title=_title(e),
        link=_text(_link(e)),
        summary=_text(_markup(dict.get(e, "summary"), dict.get(summary_detail, "type"))),
        content=_text(content),
        published=_utc(dict.get(e, "published_parsed")),
        published_raw=_text(dict.get(e, "published")),
        updated=_utc(dict.get(e, "updated_parsed")),
        updated_raw=_text(dict.get(e, "updated")),
        authors=_names(dicts(dict.get(e, "authors")), dict.get(e, "author")),
        categories=_terms(dicts(dict.get(e, "tags"))),
        base=_text(base or dict.get(summary_detail, "base")),
        language=_text(language or dict.get(summary_detail, "language")),
        image=_text(_image(e)),
        outlet=_outlet(e),
        media=_media(e),
    )


#: The MIME type of an enclosure that names none, by its file's ending: a table of our
#: own, not `mimetypes` (which reads the machine's /etc/mime.types: other bytes elsewhere).
MEDIA_TYPES = {
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg",
    ".oga": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav", ".mp4": "video/mp4",
    ".m4v": "video/mp4", ".webm": "video/webm",
}  # fmt: skip


def _media(e: Any) -> Media | None:
    """The item's first audio or video enclosure (a podcast's episode), as given."""
    for link in dicts(dict.get(e, "links")):
        href, kind = str(dict.get(link, "href") or ""), str(dict.get(link, "type") or "")
        if dict.get(link, "rel") != "enclosure" or not href.strip():
            continue
        path = href.split("?", 1)[0].lower()
        if kind.strip().lower() in ("", "application/octet-stream", "binary/octet-stream"):
            # none, or a host's "any bytes" for an MP3: the file's ending says what it is
            kind = next((t for end, t in MEDIA_TYPES.items() if path.endswith(end)), "")
        if kind.strip().lower().startswith(("audio/", "video/")):
            length = str(dict.get(link, "length") or "").strip()
            size = int(length) if length.isdigit() and len(length) < 16 else 0
            return Media(href.strip(), kind.strip().lower(), size)
    return None


def _outlet(e: Any) -> str | None:
    """The outlet an aggregator's item names: RSS's `<source>`, or Bing News's own
    `<News:Source>` (which feedparser keeps as `news_source`)."""
    named = dict.get(mapping(dict.get(e, "source")), "title") or dict.get(e, "news_source")
    return _text(named if isinstance(named, str) else None)


def _title(e: Any) -> str | None:
    """The title as an HTML fragment, as `summary` is: a title feedparser reports as
    plain text (Atom type="text", an RSS title without markup) is escaped, so that
    normalize decodes every title exactly once (issue 20: decoding twice turned
    `&amp;lt;img&amp;gt;` into a live tag)."""
    title = _text(dict.get(e, "title"))
    kind = str(dict.get(mapping(dict.get(e, "title_detail")), "type") or "text/plain")
    return escape(title, quote=False) if title and "html" not in kind else title


def _content(e: Any) -> tuple[str | None, str | None, str | None]:
    """The richest content block: HTML first (`content:encoded`, Atom type="html")."""
    blocks = [c for c in dicts(dict.get(e, "content")) if dict.get(c, "value")]
    if not blocks:
        return None, None, None
    html_blocks = [c for c in blocks if "html" in str(dict.get(c, "type") or "")]
    best = (html_blocks or blocks)[0]
    value = _markup(best["value"], dict.get(best, "type"))
    return value, dict.get(best, "base"), dict.get(best, "language")


def _markup(value: object, kind: object) -> str | None:
    """A summary or content block as an HTML fragment, as normalize reads it.

    Plain text (Atom's type="text", its default, or an `itunes:summary`) is escaped, its
    line breaks kept as `<br>`: read as markup, "استخدم الوسم <script> في صفحتك" lost
    the rest of the summary to the sanitizer. Text that looks like markup anyway (a
    closing tag or an entity, and only known tags: feedparser's own test, which it
    applies to RSS but not Atom) stays markup: feeds that label escaped HTML as text
    are common. No type at all is markup, as RSS's description is.
    """
    if value is None:
        return None
    text = str(value)
    if kind is None or "html" in str(kind) or _mixin._FeedParserMixin.looks_like_html(text):
        return text
    return escape(text).replace("\n", "<br>")


def _link(e: Any) -> str | None:
    link = dict.get(e, "link")
    if isinstance(link, str) and link:  # after a `<links>` element, a stray mapping
        return link
    for candidate in dicts(dict.get(e, "links")):
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
    for link in dicts(dict.get(e, "links")):
        if dict.get(link, "rel") == "enclosure" and str(dict.get(link, "type", "")).startswith(
            "image/"
        ):
            return str(dict.get(link, "href") or "") or None
    for key in ("media_thumbnail", "media_content"):
        for media in dicts(dict.get(e, key)):
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
