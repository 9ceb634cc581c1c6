"""JSON Feed 1.0/1.1, which feedparser 6.0 does not read, parsed with `json`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any

from feeds.errors import ParseError
from feeds.types import ParsedEntry, ParsedFeed

from ._records import _names, _text

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
    except UnicodeDecodeError as e:
        raise ParseError(source_url, f"not a feed: JSON that is not UTF-8 ({e})") from e
    except ValueError as e:  # json.JSONDecodeError, or a number of thousands of digits
        why = str(e) if isinstance(e, json.JSONDecodeError) else "a number too long to read"
        raise ParseError(source_url, f"not a feed: invalid JSON ({why})") from e
    except RecursionError as e:  # "[[[[…" a hundred thousand deep
        raise ParseError(source_url, "not a feed: JSON nested too deep") from e
    version = (
        _JSON_VERSIONS.get(str(doc.get("version", "")).rstrip("/"))
        if isinstance(doc, dict)
        else None
    )
    if version is None:
        raise ParseError(source_url, "not a feed: JSON without a jsonfeed.org version")
    if not isinstance(doc.get("items", []), list):
        raise ParseError(source_url, 'not a feed: a JSON Feed whose "items" is not a list')
    items = [i for i in doc.get("items", []) if isinstance(i, dict)]
    return ParsedFeed(
        url=url,
        title=_scalar(doc.get("title")),
        link=_scalar(doc.get("home_page_url")),
        language=_scalar(doc.get("language")),
        version=version,
        encoding="utf-8",
        entries=tuple(_json_entry(i, url) for i in items),
    )


def _json_entry(item: Mapping[str, Any], url: str) -> ParsedEntry:
    content = _scalar(item.get("content_html"))
    plain = _scalar(item.get("content_text"))
    if not content and plain:
        content = escape(plain).replace("\n", "<br>")
    summary = _scalar(item.get("summary"))
    tags = item.get("tags")
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    attachments = [a for a in item.get("attachments") or [] if isinstance(a, dict)]
    image = (
        _scalar(item.get("image"))
        or _scalar(item.get("banner_image"))
        or next(
            (a.get("url") for a in attachments if str(a.get("mime_type", "")).startswith("image/")),
            None,
        )
    )
    return ParsedEntry(
        guid=_scalar(item.get("id")),
        title=_scalar(item.get("title")),
        link=_scalar(item.get("url")) or _scalar(item.get("external_url")),
        summary=escape(summary) if summary else None,
        content=content,
        published=_iso(item.get("date_published")),
        published_raw=_scalar(item.get("date_published")),
        updated=_iso(item.get("date_modified")),
        updated_raw=_scalar(item.get("date_modified")),
        authors=_names((a for a in authors if isinstance(a, dict)), None),
        categories=tuple(
            dict.fromkeys(t for t in map(_scalar, tags if isinstance(tags, list) else ()) if t)
        ),
        base=url,
        language=_scalar(item.get("language")),
        image=_scalar(image),
    )


def _scalar(value: object) -> str | None:
    """A JSON value as text when it is a string or a number (JSON Feed 1.0 allowed
    numeric ids); None for a list, an object or a boolean: `["a", "b"]` is no title, and
    a string of tags is no list of them."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return _text(value)


def _iso(value: object) -> datetime | None:
    """RFC 3339, as JSON Feed requires; anything else is left to the Arabic fallback."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None
