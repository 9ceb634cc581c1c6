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

import logging
from collections.abc import Sequence
from dataclasses import replace

from feeds.arabic import mojibake
from feeds.errors import ParseError
from feeds.types import FetchResult, ParsedFeed, Scrape

from . import _pages, _patches
from ._json import _looks_like_json, _parse_json_feed
from ._records import _text
from ._xml import _SAMPLE_ENTRIES, _parse_xml

__all__ = ["parse"]

_patches.apply()


log = logging.getLogger("feeds.parse")


def parse(result: FetchResult, scrape: Scrape | None = None) -> ParsedFeed:
    """Parse one fetched body; with `scrape`, read it as an HTML listing page by those
    selectors. Raises `ParseError` when it is not a feed at all (nor a page with items
    in JSON-LD, nor a news sitemap)."""
    if result.content is None:
        raise ParseError(result.source_url, "not a feed: no body (304 Not Modified)")
    body = result.content
    if scrape is not None:
        feed = _pages.listing(result, body, scrape)
    elif _looks_like_json(body, result.header("content-type")):
        feed = _parse_json_feed(result.source_url, result.url, body)
    else:
        feed = _parse_xml(result, body)
    if feed.entries:
        feed = _repair_text(feed)
    log.debug("%s: %s, %d entries, %s", result.url, feed.version, len(feed.entries), feed.encoding)
    return feed


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
