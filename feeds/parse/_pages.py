"""Sources that publish no feed: an HTML listing read with the source's CSS selectors
(`sources[].scrape`), the JSON-LD a page embeds (`NewsArticle`, `ItemList`), or a
Google News sitemap (`<news:news>`). Each gives the same `ParsedEntry` records as a
feed, so normalize, clustering and publishing treat its items alike; dates stay raw
strings for normalize's Arabic date parser, unless a `<time datetime>` or an ISO date
gives them exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urljoin

from feeds.errors import ParseError
from feeds.types import FetchResult, ParsedEntry, ParsedFeed, Scrape

_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "BlogPosting", "ReportageNews", "AnalysisNewsArticle", "TechArticle"}
)
_JSON_LD = re.compile(
    r"<script\b[^>]*\btype\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.IGNORECASE | re.DOTALL,
)
#: Items one listing page may give; more are markup gone wrong.
MAX_ITEMS = 500


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None  # a naive time is left to the source's zone


def _entry(
    base: str, title: str | None, link: str | None, date: str | None, summary: str | None
) -> ParsedEntry | None:
    title = (title or "").strip()
    href = urljoin(base, link.strip()) if link and link.strip() else None
    if not title or not href or not href.startswith(("http://", "https://")):
        return None
    return ParsedEntry(
        # A plain title is escaped: titles are HTML fragments between stages (`_records`).
        guid=href, title=escape(title, quote=False), link=href, summary=summary or None,
        published=_iso(date), published_raw=(date or "").strip() or None,
    )  # fmt: skip


# --------------------------------------------------------------------------- selectors


def listing(result: FetchResult, body: bytes, rules: Scrape) -> ParsedFeed:
    """The items of an HTML listing page, by the source's selectors. A page where the
    item selector finds nothing is a `ParseError`: the site's markup has changed, and
    that must show as a failing source, not as "0 new items" forever."""
    import lxml.html  # here: only scraped sources need lxml's HTML parser
    from lxml.cssselect import CSSSelector

    try:
        root = lxml.html.document_fromstring(_page_text(result, body))
    except ValueError:  # a str with an XML encoding declaration: lxml wants the bytes
        root = None
    except lxml.etree.ParserError as e:
        raise ParseError(result.source_url, f"not an HTML page: {e}") from e
    if root is None:
        try:
            root = lxml.html.document_fromstring(body)
        except (ValueError, lxml.etree.ParserError) as e:
            raise ParseError(result.source_url, f"not an HTML page: {e}") from e
    base = urljoin(result.url, root.base or "") if root.base else result.url
    base = base if base.startswith(("http://", "https://")) else result.url
    # Text no reader sees, which an item's title would otherwise take in ("var x=1خبر").
    lxml.etree.strip_elements(root, "script", "style", "noscript", "template", with_tail=False)
    pick = {name: CSSSelector(css) for name, css in rules.selectors() if css}
    found = pick["item"](root)
    if not found:
        raise ParseError(
            result.source_url, f"scrape.item {rules.item!r} matches nothing on the page"
        )
    entries = []
    for item in found[:MAX_ITEMS]:
        title = _first_text(pick["title"], item) if "title" in pick else _text_of(item)
        link = _first_link(pick["link"], item) if "link" in pick else _own_link(item)
        date = _first_date(pick["date"], item) if "date" in pick else None
        summary = _first_html(pick["summary"], item) if "summary" in pick else None
        if (entry := _entry(base, title, link, date, summary)) is not None:
            entries.append(entry)
    if not entries:
        raise ParseError(
            result.source_url,
            f"scrape: {len(found)} items matched, none with both a title and a link",
        )
    title = root.findtext(".//title")
    return ParsedFeed(
        url=result.url, title=(title or "").strip() or None, link=result.url, version="scrape",
        entries=tuple(entries),
    )  # fmt: skip


def _page_text(result: FetchResult, body: bytes) -> str | bytes:
    """The page for lxml's parser: as UTF-8 when its bytes are that (they are rarely so
    by chance), else in the charset its Content-Type names, else the bytes, for lxml to
    read a `<meta charset>` or guess. Given bytes, lxml reads only the page itself: a
    UTF-8 page that said its charset in the HTTP header alone came out as mojibake."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset = _CHARSET.search(result.header("content-type") or "")
    if charset:
        try:
            return body.decode(charset[1].strip("\"' "))
        except (LookupError, UnicodeDecodeError):
            pass
    return body


_CHARSET = re.compile(r"charset\s*=\s*([^;]+)", re.IGNORECASE)


def _first(select: Any, item: Any) -> Any:
    found = select(item)
    return found[0] if found else None


def _first_text(select: Any, item: Any) -> str | None:
    element = _first(select, item)
    return _text_of(element) if element is not None else None


def _text_of(element: Any) -> str:
    """An element's text with a space where its child elements meet: lxml's
    `text_content` runs "<h2>خبر عن آبل</h2><time>7 ديسمبر</time>" together as
    "خبر عن آبل7 ديسمبر"."""
    return " ".join(" ".join(element.itertext()).split())


def _first_link(select: Any, item: Any) -> str | None:
    element = _first(select, item)
    if element is None:
        return None
    return element.get("href") or _own_link(element)


def _own_link(element: Any) -> str | None:
    if element.get("href"):
        return str(element.get("href"))
    inner = element.find(".//a[@href]")
    return inner.get("href") if inner is not None else None


def _first_date(select: Any, item: Any) -> str | None:
    element = _first(select, item)
    if element is None:
        return None
    return element.get("datetime") or " ".join(element.text_content().split()) or None


def _first_html(select: Any, item: Any) -> str | None:
    import lxml.html

    element = _first(select, item)
    if element is None:
        return None
    return str(lxml.html.tostring(element, encoding="unicode"))


# --------------------------------------------------------------------------- JSON-LD


def json_ld(result: FetchResult, body: bytes) -> ParsedFeed | None:
    """The articles a page's JSON-LD names (`NewsArticle`s, an `ItemList`), or None."""
    entries: dict[str, ParsedEntry] = {}
    page = _page_text(result, body)  # in its HTTP charset, as a listing page is read
    text = page if isinstance(page, str) else page.decode("utf-8", errors="replace")
    for block in _JSON_LD.findall(text):
        try:
            data = json.loads(block)
        except (ValueError, RecursionError):  # broken, or nested too deep to read
            continue
        for thing in _things(data):
            entry = _ld_entry(result.url, thing)
            if entry is not None and entry.link:
                entries.setdefault(entry.link, entry)
    if not entries:
        return None
    return ParsedFeed(
        url=result.url, link=result.url, version="json-ld",
        entries=tuple(list(entries.values())[:MAX_ITEMS]),
    )  # fmt: skip


def _things(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every article-like object in a JSON-LD document: top level, `@graph`, lists,
    an ItemList's elements (each a ListItem whose `item` may be the article)."""
    if depth > 6:
        return
    if isinstance(data, list):
        for value in data:
            yield from _things(value, depth + 1)
        return
    if not isinstance(data, dict):
        return
    kinds = data.get("@type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if kinds & _ARTICLE_TYPES:
        yield data
    if "ListItem" in kinds:
        item = data.get("item")
        if isinstance(item, dict):
            yield from _things(item, depth + 1)
            yield {**item, "url": item.get("url") or item.get("@id"), "@type": "Article"}
        elif data.get("url") and data.get("name"):
            yield {"@type": "Article", "headline": data["name"], "url": data["url"]}
    for key in ("@graph", "itemListElement", "mainEntity"):
        if key in data:
            yield from _things(data[key], depth + 1)


def _ld_entry(base: str, thing: dict[str, Any]) -> ParsedEntry | None:
    def text(key: str) -> str | None:
        value = thing.get(key)
        return value if isinstance(value, str) else None

    entity = thing.get("mainEntityOfPage")
    page = entity.get("@id") if isinstance(entity, dict) else entity
    link = text("url") or (page if isinstance(page, str) else None)
    summary = text("description")
    return _entry(
        base, text("headline") or text("name"), link, text("datePublished"),
        escape(summary, quote=False) if summary else None,
    )  # fmt: skip


# --------------------------------------------------------------------------- news sitemap


def news_sitemap(result: FetchResult, body: bytes) -> ParsedFeed | None:
    """The articles of a Google News sitemap (`<urlset>` with `<news:news>`), or None."""
    if b"<urlset" not in body[:4096] or _NEWS_NS.encode() not in body[:4096]:
        return None
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(body)
    except Exception as e:  # defusedxml's refusals and expat's errors alike
        raise ParseError(result.source_url, f"not a news sitemap: {e}") from e
    entries = []
    for url in root.iter(f"{{{_SITEMAP_NS}}}url"):
        news = url.find(f"{{{_NEWS_NS}}}news")
        if news is None:
            continue
        entry = _entry(
            result.url, news.findtext(f"{{{_NEWS_NS}}}title"),
            url.findtext(f"{{{_SITEMAP_NS}}}loc"),
            news.findtext(f"{{{_NEWS_NS}}}publication_date"), None,
        )  # fmt: skip
        if entry is not None:
            entries.append(entry)
    if not entries:
        return None
    return ParsedFeed(
        url=result.url, link=result.url, version="news-sitemap",
        entries=tuple(entries[:MAX_ITEMS]),
    )  # fmt: skip
