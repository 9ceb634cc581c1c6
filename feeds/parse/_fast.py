"""A fast path for well-formed RSS 2.0 and Atom 1.0: lxml reads what feedparser would.

feedparser walks a document through about forty Python calls per element; most feeds
are plain RSS 2.0 or Atom whose every item is a flat list of a dozen known elements. For
those, `read` builds the part of feedparser's result that `_records` reads (the same
keys, the same strings) from an lxml tree, several times faster. The rules are
feedparser's own, for the elements this module knows: its charset detection
(`convert_to_utf8`, called as is), its text steps (strip, URI joins against the same
base, its HTML guess for RSS titles, the Latin-1 round trip, the win-1252 table), its
date parser, its author bookkeeping, and which of two elements wins.

Anything else is not guessed at: `read` returns None and feedparser parses the body.
That covers bodies feedparser flags (bozo), a DOCTYPE, xml:base and xml:lang below
the root, markup where text belongs (XHTML content), base64 content, an element
feedparser has a handler for that is not modelled here, a second title or date in one
item, RSS 0.9x and 1.0, and Atom 0.3. tests/test_parse_fast.py parses both corpora and
edited documents both ways and compares the records; so does the byte fuzzer. The rules
mirror one feedparser version's code, so the fast path is off for any version
`_patches` was not tested with.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

import feedparser
from feedparser import html as _html
from feedparser import mixin as _mixin
from feedparser.datetimes import _parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.urls import make_safe_absolute_uri
from lxml import etree

from . import _patches

#: Off for a feedparser this module was not checked against, or with FEEDS_FAST_PARSE=0
#: in the environment (to rule it out when a feed reads oddly); tests switch it too.
ENABLED = feedparser.__version__ in _patches.TESTED and os.environ.get("FEEDS_FAST_PARSE") != "0"


class _Fallback(Exception):
    """The document is outside what this module models: feedparser reads it."""


def read(body: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
    """feedparser's result for `body` as far as `_records` reads it, or None when the
    body is not plain well-formed RSS 2.0 (then feedparser must parse it)."""
    if not ENABLED:
        return None
    try:
        return _Reader(body, headers).read()
    except _Fallback:
        return None
    except Exception:  # any surprise here is feedparser's to handle
        return None


_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    remove_comments=True,
    remove_pis=True,
    huge_tree=False,
)

_KNOWN = {uri.lower(): prefix for uri, prefix in _mixin._FeedParserMixin.namespaces.items()}
_STD_PREFIXES = frozenset(p for p in _KNOWN.values() if p)
_DECLARATION = re.compile(rb"""xmlns(?::([^\s=/>]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_VERSION_NAMESPACES = frozenset(
    {"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"}
)
_FIRST_ELEMENT = re.compile(rb"<\w")
_REF_FIX = re.compile("&([A-Za-z0-9_]+);")  # feedparser's repair of `?a=1&b;=2` links
_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)
_HTML_TYPES = frozenset({"application/xhtml+xml", "text/html"})
_RELATIVE = frozenset(_mixin._FeedParserMixin.can_be_relative_uri)

#: Keys of feedparser's entry that `_records._entry` reads: an element this module does
#: not model may write any other key, never one of these.
_READ_KEYS = frozenset(
    {
        "id", "guidislink", "title", "title_detail", "link", "links", "summary",
        "summary_detail", "content", "published", "published_parsed", "updated",
        "updated_parsed", "author", "authors", "author_detail", "tags",
        "media_thumbnail", "media_content", "href", "language", "ttl", "news_source",
    }
)  # fmt: skip


def _recode(text: str) -> str:
    """The last two steps of feedparser's `pop` for a UTF-8 document: UTF-8 read as
    Latin-1 is read again, and win-1252's C1 code points are mapped. Both leave ASCII
    as it is, and the table changes nothing but C1 characters."""
    if text.isascii():
        return text
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        text = text.encode("iso-8859-1").decode("utf-8")
    if _C1_ONLY and _C1.search(text) is None:
        return text
    return text.translate(_mixin._cp1252)


_C1 = re.compile("[\x80-\x9f]")
_C1_ONLY = all(0x80 <= cp <= 0x9F for cp in _html._cp1252)


def _leaf_text(el: Any) -> str:
    if len(el):
        raise _Fallback  # markup where feedparser expects text: its XHTML rules apply
    return el.text or ""


def _enforce_href(attrs: dict[str, str]) -> None:
    """feedparser's `_enforce_href`: `url`, else `uri`, else `href` becomes `href`."""
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href:
        attrs.pop("url", None)
        attrs.pop("uri", None)
        attrs["href"] = href


@functools.cache
def _harmless(name: str) -> bool:
    """Whether feedparser has no handler for an element of this name, and the key it
    stores it under is none that `_records` reads (asked once per name)."""
    key = name.replace(":", "_")
    cls = _mixin._FeedParserMixin
    if hasattr(cls, "_start_" + key) or hasattr(cls, "_end_" + key):
        return False
    alias = feedparser.FeedParserDict.keymap.get(key, key)
    aliases = alias if isinstance(alias, list) else [alias]
    return key not in _READ_KEYS and _READ_KEYS.isdisjoint(aliases)


def _map_content_type(kind: str) -> str:
    return _mixin._FeedParserMixin.map_content_type(kind)  # type: ignore[no-any-return]


class _Reader:
    def __init__(self, body: bytes, headers: Mapping[str, str]) -> None:
        self.headers = dict(headers)
        self.body = body
        self.base = ""
        self.lang: str | None = None
        self.prefixes: dict[str, set[str]] = {}
        self.names: dict[str, str] = {}
        self.remapped: set[str] = set()  # prefixes declared for a namespace feedparser knows
        self.title_depth = -1
        # The current entry's tags, as (term, scheme, label), counted: feedparser keeps
        # a tag only if an equal one is not in the list yet, a look through the list per
        # tag; 100,000 <category> elements took 146 s that way.
        self.tag_keys: Counter[tuple[str | None, ...]] = Counter()

    # ------------------------------------------------------------------ document

    def read(self) -> dict[str, Any]:
        result: dict[str, Any] = {"bozo": False}
        data = convert_to_utf8(self.headers, self.body, result)
        if result.get("bozo") or not result.get("encoding"):
            raise _Fallback  # feedparser warns, or reads it with its loose parser
        first = _FIRST_ELEMENT.search(data)
        if first is None or b"<!" in data[: first.start()].replace(b"<!--", b""):
            raise _Fallback  # a DOCTYPE or entity declarations: feedparser rewrites them
        self._declarations(data)
        root = etree.fromstring(data, _PARSER)
        attrs = dict(root.attrib)
        feed: dict[str, Any] = {}
        self._root_language(attrs.pop(_XML_LANG, None), feed)
        self._base(result, attrs.pop(_XML_BASE, None))
        entries: list[dict[str, Any]] = []
        if root.tag == "rss" and attrs.keys() == {"version"}:
            if not attrs["version"].startswith("2."):
                raise _Fallback  # RSS 0.9x: feedparser's own version names
            channels = list(root)
            if len(channels) != 1 or self._name(channels[0]) != "channel" or channels[0].attrib:
                raise _Fallback
            self._channel(channels[0], feed, entries)
            version = "rss20"
        elif root.tag == _ATOM_FEED and not attrs:
            self._atom_feed(root, feed, entries)
            version = "atom10"
        else:
            raise _Fallback
        return {
            "bozo": False,
            "feed": feed,
            "entries": entries,
            "version": version,
            "encoding": result["encoding"],
        }

    def _root_language(self, xml_lang: str | None, feed: dict[str, Any]) -> None:
        """The language every element inherits: the root's xml:lang ("" is none at all),
        else Content-Language; the feed's own is either, unless `<language>` says."""
        header = self.headers.get("content-language")
        if header:
            feed["language"] = header.replace("_", "-")
        lang = header if xml_lang is None else (xml_lang or None)
        if lang:
            feed["language"] = lang.replace("_", "-")
        self.lang = lang.replace("_", "-") if lang else lang

    def _declarations(self, data: bytes) -> None:
        """Every prefix each namespace is declared with (read off the bytes, so a
        declaration quoted in text counts too: that only sends more to feedparser)."""
        for m in _DECLARATION.finditer(data):
            value = m.group(2) if m.group(2) is not None else m.group(3)
            if b"&" in value:
                raise _Fallback
            uri = value.decode("utf-8").lower()
            if "backend.userland.com/rss" in uri or uri in _VERSION_NAMESPACES:
                raise _Fallback  # feedparser renames these, or takes its version from them
            prefix = (m.group(1) or b"").decode("utf-8")
            std = _KNOWN.get(uri)
            if std is not None and prefix:
                if prefix != std and prefix in _STD_PREFIXES:
                    raise _Fallback  # feedparser would remap that prefix's elements
                self.remapped.add(prefix)
            self.prefixes.setdefault(uri, set()).add(prefix)

    def _base(self, result: Mapping[str, Any], root_base: str | None) -> None:
        """feedparser's base URI: Content-Location made safe, then the root's xml:base
        joined to it, then each later start tag's step (which must change nothing: an
        xml:base below the root goes to feedparser)."""
        contentloc = self.headers.get("content-location", "")
        href = result.get("href", "")
        base = (
            make_safe_absolute_uri(href, contentloc) or make_safe_absolute_uri(contentloc) or href
        ) or ""

        def step(current: str, given: str | None = None) -> str:
            given = given or current
            if current:
                return _mixin.make_safe_absolute_uri(current, given) or current  # type: ignore[no-any-return]
            return _mixin._urljoin(current, given)  # type: ignore[no-any-return]

        once = step(base, root_base)
        if step(once) != once:
            raise _Fallback
        self.base = once

    # ------------------------------------------------------------------ names and attributes

    def _name(self, el: Any) -> str:
        """The element's name as feedparser dispatches on it ("dc:creator", "pubdate")."""
        tag = el.tag
        name = self.names.get(tag)
        if name is None:
            name = self.names[tag] = self._dispatch_name(el)
        return name

    def _dispatch_name(self, el: Any) -> str:
        tag = el.tag
        if not isinstance(tag, str):
            raise _Fallback
        if tag[0] != "{":
            return tag.lower()
        uri, local = tag[1:].split("}", 1)
        low = uri.lower()
        std = _KNOWN.get(low)
        if std is not None:
            return f"{std}:{local}".lower() if std else local.lower()
        prefixes = self.prefixes.get(low, set()) - {""}
        if not prefixes:
            return local.lower()
        if len(prefixes) > 1 or prefixes & self.remapped:
            raise _Fallback  # which prefix feedparser picks depends on declaration order
        return f"{next(iter(prefixes))}:{local}".lower()

    @staticmethod
    def _attrs(el: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        if not len(el.attrib):
            return out
        for key, value in el.attrib.items():
            if key[0] == "{":
                raise _Fallback  # xml:base, xml:lang and foreign attributes
            key = key.lower()
            if key in ("base", "lang"):
                raise _Fallback
            out[key] = value.lower() if key in ("rel", "type") else value
        return out

    def _unknown(self, name: str, el: Any) -> None:
        """An element this module does not model: harmless if it is a leaf that
        feedparser only stores under a key `_records` does not read."""
        if not _harmless(name):
            raise _Fallback
        self._attrs(el)
        _leaf_text(el)

    # ------------------------------------------------------------------ text

    def _text(self, el: Any, *, uri: bool = False) -> str:
        out = _leaf_text(el).strip()
        if uri and out:
            out = _mixin._urljoin(self.base or "", out)
        return _recode(out)

    def _params(self, kind: str) -> dict[str, Any]:
        return {"type": kind, "language": self.lang, "base": self.base}

    # ------------------------------------------------------------------ channel

    def _channel(self, channel: Any, feed: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        for el in channel:
            name = self._name(el)
            if name == "item":
                if el.attrib:
                    raise _Fallback
                entries.append(self._entry(el, depth=4, atom=False))
                continue
            attrs = self._attrs(el)
            if name == "title":
                self._feed_title(el, attrs, feed, depth=3)
            elif name == "link":
                self._link(el, attrs, feed, feed_level=True)
            elif name in ("language", "dc:language"):
                feed["language"] = self._text(el)
            elif name == "image":
                self._image(el)
            elif name == "ttl":
                if attrs:
                    raise _Fallback  # feedparser keeps the attributes instead of the text
                feed["ttl"] = self._text(el)
            elif name in _CHANNEL_IGNORED:
                _leaf_text(el)
            else:
                self._unknown(name, el)

    def _feed_title(
        self, el: Any, attrs: dict[str, str], feed: dict[str, Any], *, depth: int
    ) -> None:
        """The feed's title, at `depth` (3 in RSS, 2 in Atom): a second one at that depth
        is ignored once one was not empty, as feedparser's `title_depth` has it."""
        self._text_type(attrs, "text/plain")
        value = self._text(el)
        if not -1 < self.title_depth <= depth:
            feed["title"] = value
        if value:
            self.title_depth = depth

    def _image(self, image: Any) -> None:
        """A channel's `<image>`: its title and link are the image's, not the feed's."""
        self.title_depth = -1
        for el in image:
            name = self._name(el)
            if name not in ("title", "url", "link", "width", "height", "description"):
                raise _Fallback
            if self._attrs(el):
                raise _Fallback
            text = _leaf_text(el)
            if name == "title" and text.strip():
                self.title_depth = 4

    def _link(
        self, el: Any, attrs: dict[str, str], context: dict[str, Any], *, feed_level: bool
    ) -> None:
        """feedparser's `_start_link`/`pop` for a `<link>` or an `<atom:link>` of the feed
        (`feed_level`) or of an entry; only an entry's link text loses `&amp;`."""
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        _enforce_href(attrs)
        if "href" in attrs:
            attrs["href"] = _mixin._urljoin(self.base or "", attrs["href"])
        links = context.setdefault("links", [])
        links.append(attrs)
        if "href" in attrs:
            _leaf_text(el)
            kind = _map_content_type(attrs.get("type", ""))
            if attrs.get("rel") == "alternate" and kind in _HTML_TYPES:
                context["link"] = attrs["href"]
            return
        value = self._text(el, uri=True)
        if feed_level:
            value = _REF_FIX.sub(r"&\g<1>", value)
        else:
            value = _REF_FIX.sub(r"&\g<1>", value.replace("&amp;", "&"))
        context["link"] = value
        if value:
            links[-1]["href"] = value

    # ------------------------------------------------------------------ Atom

    def _atom_feed(self, root: Any, feed: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        for el in root:
            name = self._name(el)
            if name == "entry":
                if el.attrib:
                    raise _Fallback
                entries.append(self._entry(el, depth=3, atom=True))
                continue
            attrs = self._attrs(el)
            if name == "title":
                self._feed_title(el, attrs, feed, depth=2)
            elif name == "link":
                self._link(el, attrs, feed, feed_level=True)
            elif name == "id":
                if attrs:
                    raise _Fallback
                value = self._text(el, uri=True)
                feed["id"] = value
                feed.setdefault("link", value)  # `_end_guid`: an id is a permalink
            elif name == "author":
                self._author(el, attrs, feed)
            elif name in _FEED_IGNORED:
                _leaf_text(el)
            else:
                self._unknown(name, el)

    @staticmethod
    def _text_type(attrs: dict[str, str], default: str) -> str:
        """A text construct's type as `push_content` maps it; only plain text and
        escaped HTML are modelled (XHTML and base64 content are feedparser's)."""
        if set(attrs) - {"type"}:
            raise _Fallback
        kind = _map_content_type(attrs.get("type", default))
        if kind not in ("text/plain", "text/html"):
            raise _Fallback
        return kind

    # ------------------------------------------------------------------ entries

    def _entry(self, item: Any, *, depth: int, atom: bool) -> dict[str, Any]:
        """An RSS `<item>` (its children at `depth` 4) or an Atom `<entry>` (3)."""
        entry: dict[str, Any] = {}
        self.title_depth = -1
        self.tag_keys = Counter()
        has_content = False
        seen: set[str] = set()

        def once(key: str) -> None:
            if key in seen:
                raise _Fallback  # which one wins depends on depth bookkeeping
            seen.add(key)

        for el in item:
            name = self._name(el)
            kind = _ENTRY.get(name)
            attrs = self._attrs(el)
            if kind is None:
                self._unknown(name, el)
            elif kind == "title":
                once("title")
                self._title(el, self._text_type(attrs, "text/plain"), entry, depth, atom)
            elif kind == "link":
                self._link(el, attrs, entry, feed_level=False)
            elif kind in ("description", "summary"):
                once("summary")
                if "summary" in entry and not has_content:
                    raise _Fallback  # feedparser reads a second one as content
                text_type = self._text_type(
                    attrs, "text/html" if kind == "description" else "text/plain"
                )
                value = self._text(el)
                entry["summary"] = value
                entry["summary_detail"] = {**self._params(text_type), "value": value}
            elif kind in ("content", "content:encoded"):
                once("content")
                text_type = self._text_type(
                    attrs, "text/html" if kind == "content:encoded" else "text/plain"
                )
                has_content = True
                value = self._text(el)
                block = {**self._params(text_type), "value": value}
                entry.setdefault("content", []).append(block)
                entry.setdefault("summary", value)
            elif kind == "id":
                once("id")
                if set(attrs) - {"ispermalink"}:
                    raise _Fallback
                permalink = attrs.get("ispermalink", "true") == "true"
                value = self._text(el, uri=permalink)
                entry["id"] = value
                entry.setdefault("guidislink", permalink and "link" not in entry)
                if permalink:
                    entry.setdefault("link", value)
            elif kind in ("published", "updated"):
                once(kind)
                if attrs:
                    raise _Fallback
                value = self._text(el)
                entry[kind] = value
                entry[kind + "_parsed"] = _parse_date(value)
            elif kind == "category":
                if set(attrs) - {"domain", "term", "scheme", "label"}:
                    raise _Fallback
                self._category(el, attrs, entry)
            elif kind == "author":
                self._author(el, attrs, entry)
            elif kind == "enclosure":
                _leaf_text(el)
                _enforce_href(attrs)
                attrs["rel"] = "enclosure"
                entry.setdefault("links", []).append(attrs)
            elif kind == "media_content":
                _leaf_text(el)
                entry.setdefault("media_content", []).append(attrs)
            elif kind == "media_thumbnail":
                thumbs = entry.setdefault("media_thumbnail", [])
                thumbs.append(attrs)
                url = self._text(el, uri=True)
                if url.strip() and "url" not in attrs:
                    attrs["url"] = url
            elif kind == "source":  # an aggregator's item: the outlet it came from
                self.title_depth = -1  # as feedparser's `_start_source`
                value = self._text(el)
                source = {"href": attrs["url"]} if "url" in attrs else {}
                if value:
                    source["title"] = value
                entry["source"] = source
            else:  # "ignored": a handler that writes nothing `_records` reads
                _leaf_text(el)
        return entry

    def _title(self, el: Any, kind: str, entry: dict[str, Any], depth: int, atom: bool) -> None:
        out = _leaf_text(el).strip()
        if not atom and kind == "text/plain" and _mixin._FeedParserMixin.looks_like_html(out):
            kind = "text/html"  # RSS titles: feedparser guesses
        value = _recode(out)
        entry["title"] = value
        entry["title_detail"] = {**self._params(kind), "value": value}
        if value:
            self.title_depth = depth

    def _category(self, el: Any, attrs: dict[str, str], entry: dict[str, Any]) -> None:
        tags: list[dict[str, Any]] = entry.setdefault("tags", [])
        keys = self.tag_keys

        def add(term: str | None, scheme: str | None, label: str | None = None) -> None:
            if not term and not scheme and not label:
                return
            if not keys[term, scheme, label]:  # as `tag not in tags`, without the look
                keys[term, scheme, label] += 1
                tags.append({"term": term, "scheme": scheme, "label": label})

        add(attrs.get("term"), attrs.get("scheme", attrs.get("domain")), attrs.get("label"))
        value = self._text(el)
        if not value:
            return
        if tags and not tags[-1]["term"]:
            last = tags[-1]
            keys[last["term"], last["scheme"], last["label"]] -= 1
            last["term"] = value
            keys[value, last["scheme"], last["label"]] += 1
        else:
            add(value, None)

    def _author(self, el: Any, attrs: dict[str, str], context: dict[str, Any]) -> None:
        """`_start_author` to `_end_author`: an RSS author's text, or an Atom author's
        name, email and uri, into `authors`, `author_detail` and `author`."""
        if attrs:
            raise _Fallback
        context.setdefault("authors", []).append({})
        own = [el.text or ""]
        for child in el:
            own.append(child.tail or "")
            name = self._name(child)
            if name in ("name", "email"):
                if self._attrs(child):
                    raise _Fallback
                _save_author(context, name, _leaf_text(child).strip())  # pushed without text
            elif name in ("uri", "url", "homepage"):
                if self._attrs(child):
                    raise _Fallback
                value = self._text(child, uri=True)
                context["href"] = value
                _save_author(context, "href", value)
            else:
                self._unknown(name, child)
        context["author"] = _recode("".join(own).strip())
        _sync_author_detail(context)


def _save_author(context: dict[str, Any], key: str, value: str) -> None:
    context.setdefault("author_detail", {})[key] = value
    _sync_author_detail(context)
    context.setdefault("authors", [{}])[-1][key] = value


def _sync_author_detail(context: dict[str, Any]) -> None:
    """feedparser's `_sync_author_detail`: `author` from the last author's name and
    email, or that author's name and email from an `author` string."""
    detail = context.get("authors", [{}])[-1]
    if detail:
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            context["author"] = f"{name} ({email})"
        elif name:
            context["author"] = name
        elif email:
            context["author"] = email
        return
    author, email = context.get("author"), None
    if not author:
        return
    match = _EMAIL.search(author)
    if match:
        email = match.group(0)
        author = author.replace(email, "").replace("()", "").replace("<>", "")
        author = author.replace("&lt;&gt;", "").strip()
        if author and author[0] == "(":
            author = author[1:]
        if author and author[-1] == ")":
            author = author[:-1]
        author = author.strip()
    if author or email:
        context.setdefault("author_detail", detail)
    if author:
        detail["name"] = author
    if email:
        detail["email"] = email


#: What a child of an RSS item or an Atom entry does, by feedparser's name for it.
_ENTRY = {
    "title": "title",
    "link": "link",
    "description": "description",
    "summary": "summary",
    "content:encoded": "content:encoded",
    "content": "content",
    "guid": "id",
    "id": "id",
    "pubdate": "published",
    "published": "published",
    "updated": "updated",
    "dc:date": "updated",
    "category": "category",
    "dc:subject": "category",
    "author": "author",
    "dc:creator": "author",
    "itunes:author": "author",
    "enclosure": "enclosure",
    "media:content": "media_content",
    "media:thumbnail": "media_thumbnail",
    "source": "source",
    "subtitle": "ignored",
    "itunes:subtitle": "ignored",
    "itunes:image": "ignored",
    "itunes:explicit": "ignored",
}

#: Atom feed children with a feedparser handler that writes only keys we do not read.
_FEED_IGNORED = frozenset(
    {"subtitle", "rights", "updated", "published", "generator", "category", "icon", "logo"}
)

_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

#: Channel children with a feedparser handler that writes only feed-level keys we do
#: not read (the feed's own subtitle, dates, rights, tags, publisher, generator).
_CHANNEL_IGNORED = frozenset(
    {
        "description", "generator", "lastbuilddate", "pubdate", "copyright", "category",
        "webmaster", "managingeditor", "cloud", "itunes:summary", "itunes:subtitle",
        "itunes:explicit", "itunes:image", "itunes:author", "itunes:keywords", "author",
        "dc:creator", "dc:date", "dc:rights", "dc:publisher", "updated",
    }
)  # fmt: skip
