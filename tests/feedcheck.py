"""A strict checker of published feeds: the rules of RSS 2.0 (RSS Advisory Board), Atom
1.0 (RFC 4287) and JSON Feed 1.1 that the W3C feed validator enforces as errors, plus
the ones it warns about that readers trip on (unparseable or two-digit-year dates,
relative links, repeated ids). Each check returns a list of problems: empty is valid.

Written for tests/test_feed_validity.py, which also feeds it broken documents so that
every rule is seen to fail.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
JSON_FEED = "https://jsonfeed.org/version/1.1"
# RFC 822 as RSS uses it (4-digit years required here, as readers need).
_RFC822 = re.compile(
    r"(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d(?::\d\d)? "
    r"(?:[+-]\d{4}|GMT|UT|[ECMP][SD]T)"
)
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_JSON_TOP = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment",
    "next_url", "icon", "favicon", "authors", "author", "language", "expired", "hubs",
    "items",
}  # fmt: skip
_JSON_ITEM = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary",
    "image", "banner_image", "date_published", "date_modified", "authors", "author",
    "tags", "language", "attachments",
}  # fmt: skip


def _absolute(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _rfc822(text: str | None) -> str | None:
    """None when `text` is a valid RSS date; else what is wrong with it."""
    if not text or not _RFC822.fullmatch(text.strip()):
        return f"not an RFC 822 date with a 4-digit year: {text!r}"
    when = parsedate_to_datetime(text)
    day = text.strip()[:3]
    if day in _DAYS and _DAYS[when.weekday()] != day:
        return f"wrong weekday: {text!r}"
    return None


def _rfc3339(text: str | None) -> str | None:
    if not text or not _RFC3339.fullmatch(text.strip()):
        return f"not an RFC 3339 date-time: {text!r}"
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return f"impossible date: {text!r}"
    return None


def _once(parent: ET.Element, tag: str, where: str, problems: list[str]) -> ET.Element | None:
    found = parent.findall(tag)
    if len(found) != 1:
        problems.append(f"{where}: {len(found)} <{tag}>, need exactly one")
    return found[0] if found else None


def check_rss(data: bytes) -> list[str]:
    problems: list[str] = []
    root = ET.fromstring(data)
    if root.tag != "rss" or root.get("version") != "2.0":
        return [f"root is <{root.tag} version={root.get('version')!r}>, not RSS 2.0"]
    channels = root.findall("channel")
    if len(channels) != 1:
        return [f"{len(channels)} <channel>, need one"]
    channel = channels[0]
    for tag in ("title", "link", "description"):
        _once(channel, tag, "channel", problems)
    if not _absolute(channel.findtext("link")):
        problems.append(f"channel link is not absolute: {channel.findtext('link')!r}")
    for tag in ("pubDate", "lastBuildDate"):
        if channel.find(tag) is not None and (bad := _rfc822(channel.findtext(tag))):
            problems.append(f"channel {tag}: {bad}")
    language = channel.findtext("language")
    if language is not None and not _LANGUAGE.fullmatch(language):
        problems.append(f"channel language is not a language code: {language!r}")
    selves = [a for a in channel.findall(f"{ATOM}link") if a.get("rel") == "self"]
    if len(selves) != 1 or not _absolute(selves[0].get("href")):
        problems.append("channel needs one atom:link rel=self with an absolute href")
    image = channel.find("image")
    if image is not None:
        for tag in ("url", "title", "link"):
            _once(image, tag, "image", problems)
        if image.findtext("title") != channel.findtext("title"):
            problems.append("image title differs from the channel's")
        if image.findtext("link") != channel.findtext("link"):
            problems.append("image link differs from the channel's")
    guids: set[str] = set()
    for n, item in enumerate(channel.findall("item"), 1):
        where = f"item {n}"
        if item.find("title") is None and item.find("description") is None:
            problems.append(f"{where}: neither title nor description")
        for tag in ("title", "link", "description", "guid", "pubDate", "author"):
            if len(item.findall(tag)) > 1:
                problems.append(f"{where}: more than one <{tag}>")
        link = item.findtext("link")
        if link is not None and not _absolute(link):
            problems.append(f"{where}: link is not absolute: {link!r}")
        guid = item.find("guid")
        if guid is None or not (guid.text or "").strip():
            problems.append(f"{where}: no guid")
        else:
            if guid.get("isPermaLink", "true") == "true" and not _absolute(guid.text):
                problems.append(f"{where}: permalink guid is not a URL: {guid.text!r}")
            if guid.text in guids:
                problems.append(f"{where}: guid {guid.text!r} repeated")
            guids.add(guid.text or "")
        if item.find("pubDate") is not None and (bad := _rfc822(item.findtext("pubDate"))):
            problems.append(f"{where}: pubDate {bad}")
        author = item.findtext("author")
        if author is not None and "@" not in author:
            problems.append(f"{where}: author must be an e-mail address: {author!r}")
        for enclosure in item.findall("enclosure"):
            if not all(enclosure.get(a) for a in ("url", "length", "type")):
                problems.append(f"{where}: enclosure needs url, length and type")
        for tag in ("content", "thumbnail"):
            for media in item.findall(f"{MEDIA}{tag}"):
                if not _absolute(media.get("url")):
                    problems.append(f"{where}: media:{tag} url is not absolute")
    return problems


def check_atom(data: bytes) -> list[str]:
    problems: list[str] = []
    feed = ET.fromstring(data)
    if feed.tag != f"{ATOM}feed":
        return [f"root is <{feed.tag}>, not an Atom feed"]
    for tag in ("id", "title", "updated"):
        _once(feed, f"{ATOM}{tag}", "feed", problems)
    for tag in ("icon", "logo", "subtitle", "generator", "rights"):
        if len(feed.findall(f"{ATOM}{tag}")) > 1:
            problems.append(f"feed: more than one <{tag}>")
    problems += _atom_common(feed, "feed")
    entries = feed.findall(f"{ATOM}entry")
    if feed.find(f"{ATOM}author") is None:
        problems += [
            f"entry {n}: no author, and the feed has none"
            for n, e in enumerate(entries, 1)
            if e.find(f"{ATOM}author") is None
        ]
    ids: set[str] = set()
    for n, entry in enumerate(entries, 1):
        where = f"entry {n}"
        for tag in ("id", "title", "updated"):
            _once(entry, f"{ATOM}{tag}", where, problems)
        for tag in ("content", "summary", "published", "rights", "source"):
            if len(entry.findall(f"{ATOM}{tag}")) > 1:
                problems.append(f"{where}: more than one <{tag}>")
        entry_id = entry.findtext(f"{ATOM}id") or ""
        if entry_id in ids:
            problems.append(f"{where}: id {entry_id!r} repeated")
        ids.add(entry_id)
        alternates = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        if entry.find(f"{ATOM}content") is None and not alternates:
            problems.append(f"{where}: no content and no alternate link")
        published = entry.find(f"{ATOM}published")
        if published is not None and (bad := _rfc3339(published.text)):
            problems.append(f"{where}: published {bad}")
        for tag in ("content", "summary", "title"):
            element = entry.find(f"{ATOM}{tag}")
            kind = element.get("type", "text") if element is not None else "text"
            if kind not in ("text", "html", "xhtml") and not (tag == "content" and "/" in kind):
                problems.append(f"{where}: {tag} type {kind!r}")
        problems += _atom_common(entry, where)
    return problems


def _atom_common(element: ET.Element, where: str) -> list[str]:
    """Rules shared by <feed> and <entry>: ids, dates, links, people, categories."""
    problems = []
    ident = element.findtext(f"{ATOM}id") or ""
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:\S+$", ident):
        problems.append(f"{where}: id is not an absolute IRI: {ident!r}")
    if bad := _rfc3339(element.findtext(f"{ATOM}updated")):
        problems.append(f"{where}: updated {bad}")
    seen: set[tuple[str | None, str | None]] = set()
    for link in element.findall(f"{ATOM}link"):
        if not link.get("href"):
            problems.append(f"{where}: link without href")
        elif not _absolute(link.get("href")):
            problems.append(f"{where}: link href is not absolute: {link.get('href')!r}")
        if link.get("rel", "alternate") == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            if key in seen:
                problems.append(f"{where}: two alternate links of one type and language")
            seen.add(key)
    for person in element.findall(f"{ATOM}author") + element.findall(f"{ATOM}contributor"):
        if not (person.findtext(f"{ATOM}name") or "").strip():
            problems.append(f"{where}: a person without a name")
    for category in element.findall(f"{ATOM}category"):
        if not category.get("term"):
            problems.append(f"{where}: category without term")
    return problems


def check_json(data: bytes) -> list[str]:
    problems: list[str] = []
    try:
        feed: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return [f"not UTF-8 JSON: {e}"]
    if not isinstance(feed, dict):
        return ["top level is not an object"]
    if feed.get("version") != JSON_FEED:
        problems.append(f"version is {feed.get('version')!r}")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("no title")
    problems += [f"unknown top-level key {k!r}" for k in feed if k not in _JSON_TOP and k[0] != "_"]
    for key in ("home_page_url", "feed_url", "icon", "favicon", "next_url"):
        if key in feed and not _absolute(feed[key]):
            problems.append(f"{key} is not an absolute URL: {feed[key]!r}")
    items = feed.get("items")
    if not isinstance(items, list):
        return [*problems, "items is not a list"]
    ids: set[str] = set()
    for n, item in enumerate(items, 1):
        where = f"item {n}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            continue
        problems += [
            f"{where}: unknown key {k!r}" for k in item if k not in _JSON_ITEM and k[0] != "_"
        ]
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{where}: id must be a non-empty string")
        elif item["id"] in ids:
            problems.append(f"{where}: id {item['id']!r} repeated")
        else:
            ids.add(item["id"])
        if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
            problems.append(f"{where}: neither content_html nor content_text")
        for key in ("url", "external_url", "image", "banner_image"):
            if key in item and not _absolute(item[key]):
                problems.append(f"{where}: {key} is not an absolute URL: {item[key]!r}")
        for key in ("date_published", "date_modified"):
            if key in item and (bad := _rfc3339(item[key])):
                problems.append(f"{where}: {key} {bad}")
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.append(f"{where}: tags must be a list of strings")
        for author in item.get("authors", []):
            if not isinstance(author, dict) or not any(k in author for k in ("name", "url")):
                problems.append(f"{where}: an author without name or url")
    return problems


def check(name: str, data: bytes) -> list[str]:
    """The problems of one published file, by its extension."""
    checker = {".rss": check_rss, ".atom": check_atom, ".json": check_json}
    return checker[name[name.rindex(".") :]](data)
