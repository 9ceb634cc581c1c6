"""The normalize stage: `ParsedEntry` → `Article`. Pure: values in (including the clock),
values out.

HTML is sanitized with nh3 (ammonia) against an allow-list; everything a feed reader
cannot use or should not run is dropped. Titles become plain text. URLs get two forms:
`clean_url` (what we publish: the publisher's URL minus tracking) and `canonical_url`
(an identity form for de-duplication only, never published).
"""

from __future__ import annotations

import functools
import hashlib
import html
import itertools
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import (
    parse_qs,
    parse_qsl,
    quote,
    unquote,
    urlencode,
    urljoin,
    urlsplit,
    urlunsplit,
)

import nh3

from feeds.arabic import dates, script
from feeds.arabic.matching import match_key
from feeds.arabic.visible import display_text, drop_direction_controls, fold_presentation
from feeds.markup import (
    XML_FORBIDDEN,
    bound_markup,
    bound_raw,
    drop_related,
    strip_footers,
    whole_elements,
)
from feeds.types import (
    Article,
    DateSource,
    FullText,
    Media,
    ParsedEntry,
    ParsedFeed,
    SourceConfig,
    plausible_date,
)

__all__ = [
    "article",
    "canonical_url",
    "clean_text",
    "clean_title",
    "clean_url",
    "newest",
    "plain_text",
    "sanitize_html",
]

log = logging.getLogger("feeds.normalize")

# --------------------------------------------------------------------------- text

# XML 1.0 section 2.2 `Char`: C0 controls other than tab/LF/CR, surrogates, U+FFFE/FFFF.


def clean_text(s: str) -> str:
    """Drop characters XML forbids and collapse white space. Idempotent.

    str.split() splits at exactly what the regex \\s matches (Py_UNICODE_ISSPACE), so
    this is `re.sub(r"\\s+", " ", s).strip()` at half the cost.
    """
    return " ".join(XML_FORBIDDEN.sub("", s).split())


# A tag or comment as HTML tokenizes one: "<" then a letter, "/", "!" or "?" (so that
# "x < y > z" is text). Inline tags and comments vanish; the others separate words.
_TAG_LIKE = re.compile(r"<!--.*?-->|<[!?/]?[A-Za-z][^<>]*>", re.DOTALL)
_INLINE = re.compile(
    r"<!--|</?(?:a|abbr|b|bdi|bdo|big|cite|code|em|font|i|mark|q|s|small|span|strong|sub|sup|u)\b",
    re.IGNORECASE,
)
_OPENING = re.compile(r"<(?=[A-Za-z/!?])")
_SEPARATOR = re.compile(r"\s+[|\-–—]\s+")
_TITLE_LIMIT = 200
_OUTLET_LIMIT = 100  # characters of an outlet's name (`<source>`): a name, not a text


def clean_title(raw: str, *site_names: str | None) -> str:
    """Plain-text title, without a trailing " | Site" that repeats one of `site_names`:
    the source's own name, or the outlet an aggregator's item names ("… - سكاي نيوز
    عربية" from Google News, whose `<source>` says "سكاي نيوز عربية").

    `raw` is an HTML fragment (parse escapes a plain-text title): its tags go, its
    entities are decoded exactly once, and markup the decoding revealed goes too, since
    it was text to the source but would be a live tag to a reader that renders titles
    as HTML (`&amp;lt;img onerror=…&amp;gt;`, issue 20). Bidi controls and invisible
    characters go as `arabic.visible.display_text` says.
    """
    s = _strip_tags(html.unescape(_strip_tags(raw)))
    s = display_text(clean_text(_OPENING.sub("< ", s)))
    sites = {_site_key(name) for name in site_names if name} - {""}
    if sites:
        for sep in _SEPARATOR.finditer(s):
            if sep.start() > 0 and match_key(s[sep.end() :]) in sites:
                s = s[: sep.start()].rstrip()
                break
    return _bound(s, _TITLE_LIMIT)


@functools.lru_cache(maxsize=1024)
def _site_key(site_name: str) -> str:
    """A source's name as a matching key: the same few names, for every article."""
    return match_key(site_name)


def _strip_tags(s: str) -> str:
    """`s` without tags, until none is left (removing `<b>` from `<<b>img>` makes one)."""
    while True:
        stripped = _TAG_LIKE.sub(lambda m: "" if _INLINE.match(m[0]) else " ", s)
        if stripped == s:
            return s
        s = stripped


def _bound(s: str, limit: int) -> str:
    """Cut at a word boundary so the result, with "…", is at most `limit` characters."""
    if len(s) <= limit:
        return s
    cut = s[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-–—|،؛") + "…"


def plain_text(markup: str) -> str:
    """Plain text of sanitized HTML (its tags are well-formed, so a regex is enough)."""
    return clean_text(html.unescape(re.sub(r"<[^>]*>", " ", markup)))


# --------------------------------------------------------------------------- HTML

_TAGS = {
    "p", "br", "a", "img", "figure", "figcaption", "ul", "ol", "li", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "th",
    "td", "caption", "pre", "code", "em", "strong", "b", "i", "u", "s", "sub", "sup",
    "hr", "span", "div", "bdi",
}  # fmt: skip
_ATTRIBUTES = {
    "*": {"title", "dir", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Removed with everything inside them (nh3 keeps the text of other unknown tags).
_DROP_WITH_CONTENT = {
    "script", "style", "iframe", "object", "embed", "applet", "form", "textarea",
    "select", "button", "noscript", "template", "svg", "math", "frame", "frameset",
}  # fmt: skip
_SCHEMES = {"http", "https", "mailto"}
_LAZY_SRC = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-original-src")
_PIXEL_HOSTS = (
    "feeds.feedburner.com/~r",
    "feeds.feedburner.com/~ff",
    "pixel.wp.com",
    "stats.wp.com",
    "google-analytics.com",
    "doubleclick.net",
    "pixel.quantserve.com",
)


def sanitize_html(html_text: str, base_url: str | None) -> str:
    """Allow-list sanitize `html_text`; resolve relative URLs against `base_url`.

    Lazy-load images are turned into plain `src` images and tracking pixels dropped
    first, because the sanitizer would otherwise strip `data-src` and keep the pixel.
    """
    return _sanitize(html_text, base_url)[0]


def _sanitize(html_text: str, base_url: str | None) -> tuple[str, bool]:
    """`sanitize_html`, and whether `bound_markup` had to cut the result."""
    # Bounded first: the sanitizer's time grows with depth times tags (`bound_raw`).
    raw = fold_presentation(XML_FORBIDDEN.sub("", bound_raw(html_text)))
    prepared = _media_to_links(_embeds_to_links(_rewrite_images(raw)), base_url)
    clean = drop_related(_nh3(prepared, base_url), plain_text)  # whole elements only
    trimmed = strip_footers(clean, plain_text)
    if trimmed != clean and not whole_elements(clean[len(trimmed) :]):
        clean = _nh3(trimmed, base_url)  # the cut left a block open: this closes it
    else:
        clean = trimmed
    clean = _untrack_links(_CUT_ELLIPSIS.sub("…", _drop_debris(clean).strip()))
    bounded = bound_markup(clean)
    return bounded, bounded != clean


def _nh3(markup: str, base_url: str | None) -> str:
    base = base_url if base_url and urlsplit(base_url).scheme in ("http", "https") else None
    # After the sanitizer, which writes out a character reference as the character.
    return drop_direction_controls(_sanitizer.clean(markup, base))


class _Sanitizer(threading.local):
    """An nh3.Cleaner made once per thread, with the base URL of the markup at hand.

    `nh3.clean` converts the allow-lists to the sanitizer's own on every call, half the
    time it took per summary (measured in docs/performance.md); a Cleaner keeps them.
    Relative URLs are resolved against `base` by the callback, and dropped without a
    base, as nh3's "deny" does. Per thread, since `base` changes with every call.
    """

    def __init__(self) -> None:
        self.base: str | None = None
        self.cleaner = nh3.Cleaner(
            tags=_TAGS,
            clean_content_tags=_DROP_WITH_CONTENT,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="noopener noreferrer",
            strip_comments=True,
            url_relative=self._relative,
        )

    def _relative(self, url: str) -> str | None:
        return _join(self.base, url) if self.base else None

    def clean(self, markup: str, base: str | None) -> str:
        self.base = base
        return str(self.cleaner.clean(markup))


_sanitizer = _Sanitizer()


def _join(base: str, url: str) -> str | None:
    try:
        return urljoin(base, url)
    except ValueError:
        return None


# A YouTube or Vimeo player, which the sanitizer drops with every other iframe: the video
# stays reachable as a link of its own (the watch page, not the embed).
_IFRAME = re.compile(
    r"""<iframe\b((?:[^>"']|"[^"]*"|'[^']*')*)>(?:.*?</iframe\s*>)?""", re.IGNORECASE | re.DOTALL
)
_IFRAME_SRC = re.compile(r"""\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_VIDEO = (
    (
        re.compile(r"(?:https?:)?//(?:www\.)?youtube(?:-nocookie)?\.com/embed/([\w-]{6,})", re.I),
        "https://www.youtube.com/watch?v={}",
    ),
    (re.compile(r"(?:https?:)?//player\.vimeo\.com/video/(\d+)", re.I), "https://vimeo.com/{}"),
)


def _embeds_to_links(markup: str) -> str:
    if "<iframe" not in markup.lower():
        return markup
    return _IFRAME.sub(_embed_link, markup)


def _embed_link(tag: re.Match[str]) -> str:
    src = _IFRAME_SRC.search(tag[1])
    url = html.unescape(next((g for g in src.groups() if g), "")) if src else ""
    for pattern, watch in _VIDEO:
        if found := pattern.match(url.strip()):
            link = html.escape(watch.format(found[1]))
            return f'<a href="{link}">▶ {link}</a>'
    return ""  # any other frame goes, with the empty paragraph it may leave


# A <video> or <audio> player, which the sanitizer drops while it keeps the fallback text
# inside ("متصفحك لا يدعم تشغيل الفيديو"): the file stays reachable as a link instead.
_MEDIA = re.compile(
    r"""<(video|audio)\b((?:[^>"']|"[^"]*"|'[^']*')*)>(.*?)</\1\s*>""", re.IGNORECASE | re.DOTALL
)
_SOURCE_TAG = re.compile(r"""<source\b((?:[^>"']|"[^"]*"|'[^']*')*)>""", re.IGNORECASE)


def _media_to_links(markup: str, base: str | None) -> str:
    lower = markup.lower()
    if "<video" not in lower and "<audio" not in lower:
        return markup
    return _MEDIA.sub(lambda m: _media_link(m, base), markup)


def _media_link(tag: re.Match[str], base: str | None) -> str:
    """A link to the player's file (its `src`, else its first `<source>`'s), or nothing."""
    for attrs in (tag[2], *(s[1] for s in _SOURCE_TAG.finditer(tag[3]))):
        src = _IFRAME_SRC.search(attrs)
        raw = html.unescape(next((g for g in src.groups() if g), "")) if src else ""
        url = _http_url(raw, base or "") if raw.strip() else None
        if url:
            link = html.escape(escape_url(url))
            return f'<a href="{link}">▶ {link}</a>'
    return ""


# Debris of a page's chrome in sanitized markup: comment-count links ("3 تعليقات",
# "#comments"), share buttons that were scripts (no href left, or none ever), and the
# blocks they leave empty. Sanitized markup is well-formed, so regexes are enough.
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S)
_COMMENTS = re.compile(
    r"(?:\d+|لا)?\s*(?:تعليقات?|تعليقان|التعليقات|تعليق واحد|أضف تعليقا?|comments?|"
    r"leave a (?:comment|reply)|no comments)",
    re.I,
)
_COMMENT_FRAGMENTS = ("#comments", "#respond", "#disqus_thread", "#comment")
_SHARE = re.compile(
    r"(?:شارك|مشاركة|انشر|share|tweet|facebook|فيسبوك|فيس بوك|twitter|تويتر|whatsapp|"
    r"واتساب|واتس اب|telegram|تيليجرام|تلغرام|linkedin|لينكد إن|email|البريد|print|طباعة|"
    r"pinterest|reddit|\bx\b)",
    re.I,
)
_BARE_IMG = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_EMPTY_BLOCK = re.compile(
    r"<(p|div|span|li|ul|ol|figure|strong|em|b|i)(?:\s[^>]*)?>(?:\s|&nbsp;|\xa0|<br>)*</\1>"
)


def _drop_debris(clean: str) -> str:
    if "<a" in clean:
        clean = _ANCHOR.sub(_debris_anchor, clean)
    if "<img" in clean:  # a picture whose source the sanitizer refused shows a broken icon
        clean = _BARE_IMG.sub("", clean)
    while (emptied := _EMPTY_BLOCK.sub("", clean)) != clean:
        clean = emptied
    return clean


def _debris_anchor(anchor: re.Match[str]) -> str:
    href = re.search(r'\shref="([^"]*)"', anchor[1])
    text = plain_text(anchor[2])
    if href is None:
        if "<img" in anchor[2]:
            return anchor[0]
        share = len(text) <= 40 and _SHARE.search(text)
        return "" if not text or share else anchor[0]
    target = html.unescape(href[1]).lower()
    if target.endswith(_COMMENT_FRAGMENTS) or (len(text) <= 30 and _COMMENTS.fullmatch(text)):
        return ""
    return anchor[0]


# An <img> start tag, whose quoted attribute values may hold ">", and its attributes
# (names lower-cased and values unescaped, as html.parser reports them). Only these tags
# are rewritten; the rest of the markup is left to nh3, which parses it once. A tag
# inside a comment or an attribute value is rewritten too: harmless, since nh3 then
# drops comments and re-escapes attribute text.
_IMG_TAG = re.compile(r"""<img(?=[\s/>])(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_IMG_ATTR = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")


def _rewrite_images(markup: str) -> str:
    if "<img" not in markup.lower():
        return markup
    return _IMG_TAG.sub(_rewrite_image, markup)


def _rewrite_image(tag: re.Match[str]) -> str:
    attrs = {}
    for m in _IMG_ATTR.finditer(tag.group(), 4):
        name, double, single, bare = m.groups()
        value = double if double is not None else single if single is not None else bare
        attrs[name.lower()] = html.unescape(value or "")
    fixed = _fix_image(attrs)
    if fixed is None:
        return ""
    return "<img" + "".join(f' {k}="{html.escape(v)}"' for k, v in fixed.items()) + ">"


def _fix_image(attrs: dict[str, str]) -> dict[str, str] | None:
    lazy = next((attrs[k].strip() for k in _LAZY_SRC if attrs.get(k, "").strip()), "")
    src = lazy or attrs.get("src", "").strip()
    if not src or src.startswith("data:"):
        src = _best_candidate(attrs.get("srcset") or attrs.get("data-srcset") or "") or src
    if not src or _is_pixel(src, attrs.get("width"), attrs.get("height")):
        return None  # without a source, the sanitizer would resolve "" to the page itself
    kept = {k: v for k, v in attrs.items() if k in ("alt", "width", "height", "title")}
    return {"src": src, **kept}


def _best_candidate(srcset: str) -> str:
    """The widest candidate of a srcset (HTML: "url 640w, url 2x")."""
    best, best_size = "", -1.0
    for candidate in re.split(r",\s+", srcset.strip()):
        parts = candidate.split()
        if not parts:
            continue
        size = 0.0
        if len(parts) > 1 and re.fullmatch(r"\d+(\.\d+)?[wx]", parts[1]):
            size = float(parts[1][:-1])
        if size > best_size:
            best, best_size = parts[0], size
    return best


def _is_pixel(src: str, width: str | None, height: str | None) -> bool:
    def tiny(v: str | None) -> bool:
        return v is not None and v.strip().lower().removesuffix("px") in ("0", "1")

    if tiny(width) and tiny(height):
        return True
    try:
        parts = urlsplit(src)
    except ValueError:
        return False
    where = (parts.netloc + parts.path).lower()
    return any(host in where for host in _PIXEL_HOSTS)


# WordPress/Yoast: "The post X appeared first on Y." and its Arabic localisation.
# (?:(?!<p[\s>]).) keeps a match inside the last paragraph.
_TRACKING_KEYS = frozenset(
    {"fbclid", "gclid", "mc_cid", "mc_eid", "igshid", "ref_src", "_ga", "yclid", "amp", "msclkid"}
)
_PCT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# Reserved characters (RFC 3986 section 2.2) and "%" stay encoded: decoding them would
# change what the URL means ("a%2Fb" is one segment).
_KEEP_ENCODED = frozenset(":/?#[]@!$&'()*+,;=%")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "-._~!$'()*,;:@/?"


def _is_tracking(key: str, value: str) -> bool:
    k = key.lower()
    return k.startswith("utm_") or k in _TRACKING_KEYS or (k == "outputtype" and value == "amp")


# WordPress ends an excerpt with " [&hellip;]" (" [...]" in older themes): an ellipsis,
# as a reader writes it, when it is the markup's last text.
_CUT_ELLIPSIS = re.compile(r"\s*\[(?:…|\.\.\.)\](?=\s*(?:</p>\s*)?\Z)")
_HREF = re.compile(r'(<a\b[^>]*?\shref=")([^"]*)(")')
_TRACKING_HINT = re.compile(
    r"[?&](?:amp;)?(?:utm_[^=&\"]*|" + "|".join(sorted(_TRACKING_KEYS)) + ")=", re.I
)


def _untrack_links(clean: str) -> str:
    """Sanitized markup whose links carry no tracking parameters (`utm_*`, `fbclid`...);
    a link's fragment stays. Only markup that holds one is rewritten."""
    if not _TRACKING_HINT.search(clean):
        return clean
    return _HREF.sub(_untrack_href, clean)


def _untrack_href(m: re.Match[str]) -> str:
    url = html.unescape(m[2])
    try:
        parts = urlsplit(url)
    except ValueError:
        return m[0]
    plain = urlunsplit(parts._replace(query=_untracked_query(parts.query)))
    return m[1] + html.escape(plain, quote=False).replace('"', "&quot;") + m[3]


def clean_url(url: str) -> str:
    """The publisher's URL minus tracking parameters and fragment, with the ASCII
    characters no URL may hold escaped (a space, `"<>^`{|}`, a `%` that starts no
    escape: a reader's parser or a validator refuses them, where a browser escapes
    them); nothing else changes, so a non-ASCII path stays as written."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return escape_url(url.strip())
    kept = urlunsplit(parts._replace(query=_untracked_query(parts.query), fragment=""))
    return escape_url(kept)


# Not the backslash: browsers read it as "/" in an http(s) URL, and so may a reader.
_UNSAFE = re.compile(r'[\x00-\x20"<>^`{|}\x7f]|%(?![0-9A-Fa-f]{2})')


def escape_url(url: str) -> str:
    """`url` with the ASCII characters no URL may hold escaped (`clean_url`)."""
    return _UNSAFE.sub(_escaped, url)


def _escaped(m: re.Match[str]) -> str:
    return f"%{ord(m.group()):02X}"


def _untracked_query(query: str) -> str:
    """A URL's query string without its tracking parameters, the rest as written."""
    return "&".join(p for p in query.split("&") if p and not _is_tracking(*_raw_pair(p)))


def _raw_pair(piece: str) -> tuple[str, str]:
    key, _, value = piece.partition("=")
    return key, value.lower()


def canonical_url(url: str) -> str:
    """Identity form for de-duplication: https, bare lower-case host, one path encoding,
    sorted query without tracking, no fragment, no trailing slash. Idempotent."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return clean_url(url)
    if parts.scheme.lower() not in ("http", "https"):
        return clean_url(url)
    host = (parts.hostname or "").rstrip(".").removeprefix("www.")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = _canonical_path(parts.path)
    return urlunsplit(("https", netloc, path, _canonical_query(parts.query), ""))


def _canonical_path(path: str) -> str:
    decoded = _PCT_RUN.sub(_decode_run, path)
    encoded = quote(unicodedata.normalize("NFC", decoded), safe=_PATH_SAFE)
    encoded = re.sub(r"/amp/?$", "", encoded)  # the WordPress AMP plugin's twin page
    return encoded.rstrip("/") or "/"


def _decode_run(m: re.Match[str]) -> str:
    raw = bytes.fromhex(m.group().replace("%", ""))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return m.group().upper()
    return "".join(quote(c, safe="") if c in _KEEP_ENCODED else c for c in text)


def _canonical_query(query: str) -> str:
    pairs = [
        (unicodedata.normalize("NFC", k), unicodedata.normalize("NFC", v))
        for k, v in parse_qsl(query, keep_blank_values=True)
        if not _is_tracking(k, v.lower())
    ]
    return urlencode(sorted(pairs), quote_via=quote, safe=_QUERY_SAFE)


#: The longest link an item keeps (RFC 9110 §4.1 asks for 8,000 octets at least): a
#: longer one is junk, or a feed padding every link, which the store and every
#: published file would carry whole.
MAX_URL = 8192


def _http_url(url: str | None, base: str) -> str:
    """`url` made absolute against `base`; "" unless it is an http(s) URL of at most
    `MAX_URL` characters."""
    if not url or not url.strip() or len(url) > MAX_URL:
        return ""
    try:
        absolute = urljoin(base, url.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return ""
    return absolute if parts.scheme in ("http", "https") and parts.netloc else ""


#: Click-tracking redirectors that carry the article's own URL in a parameter: Bing News's
#: feeds link every item through the first, and pasted links come through the others.
_REDIRECTORS = {
    ("bing.com", "/news/apiclick.aspx"): "url",
    ("google.com", "/url"): "url q",
    ("news.google.com", "/news/url"): "url",
    ("l.facebook.com", "/l.php"): "u",
    ("lm.facebook.com", "/l.php"): "u",
}


def _unwrapped(link: str) -> str:
    """The article's own URL when `link` is a known redirector's (`_REDIRECTORS`): it is
    what readers should open, untracked, and the identity another source's copy has."""
    if not link or "?" not in link:
        return link
    parts = urlsplit(link)
    host = (parts.hostname or "").removeprefix("www.")
    names = _REDIRECTORS.get((host, parts.path.rstrip("/") or "/"))
    if names is None:
        return link
    query = parse_qs(parts.query)
    for name in names.split():
        for target in query.get(name, ()):
            if found := _http_url(target, ""):
                return found
    return link


# --------------------------------------------------------------------------- Article

_FUTURE_SLACK = timedelta(days=1)
_EXCERPT = 300
_KEY_TEXT = 1000


def articles(
    entries: Sequence[ParsedEntry],
    feed: ParsedFeed,
    source: SourceConfig,
    *,
    fetched_at: datetime,
    first_seen: datetime | None = None,
) -> list[Article]:
    """The Articles of `entries` (`article`), with the guids and links that several of
    them share for different items (`shared_identities`) counting as no identity, and
    the text they share under different titles as no evidence (`_unshared`)."""
    shared = shared_identities(entries)
    made = (
        article(e, feed, source, fetched_at=fetched_at, first_seen=first_seen, shared=shared)
        for e in entries
    )
    return _unshared(_unlabelled([a for a in made if a is not None]))


#: How alike (Jaccard of their text words) two items of one feed under one title must
#: be for the title to be one article's, posted again, rather than a label.
LABEL_JACCARD = 0.5


def _unlabelled(made: list[Article]) -> list[Article]:
    """`made`, with a title that the feed gives to different items (other links, texts
    alike by less than `LABEL_JACCARD`) taken out of their `title_key`s and
    `text_key`s: "منشور جديد", "الحلقة", "Untitled" are a label, not a headline. Two
    feeds that title every item so paired their items across sources by the exact
    title tier, whatever they said. Those items then match on their texts alone, as
    an item without a title of its own; what is shown is unchanged."""
    groups: dict[str, list[int]] = {}
    for i, a in enumerate(made):
        if a.title_key:
            # By outlet too: an aggregator's outlets that carry one agency headline
            # ("- سكاي نيوز" and "- العربية" gone) are that story told twice, not a label.
            groups.setdefault(f"{a.outlet}\0{a.title_key}", []).append(i)
    labels = set()
    for key, group in groups.items():
        if len(group) > 1:
            head, *rest = (made[i] for i in group)
            mine = _text_words(head)
            if any(_other_item(head, mine, a) for a in rest):
                labels.add(key)
    if not labels:
        return made
    return [
        replace(a, title_key="", text_key=" ".join(_text_words(a)))
        if f"{a.outlet}\0{a.title_key}" in labels
        else a
        for a in made
    ]


def _text_words(a: Article) -> list[str]:
    """The words of `a.text_key` after its title's."""
    words, head = a.text_key.split(), a.title_key.split()
    return words[len(head) :] if words[: len(head)] == head else words


def _other_item(first: Article, words: list[str], a: Article) -> bool:
    """Whether `a`, under `first`'s title, is another item: another link (or neither
    has one), and texts alike by less than `LABEL_JACCARD`."""
    if first.canonical_url and first.canonical_url == a.canonical_url:
        return False
    mine, theirs = set(words), set(_text_words(a))
    union = mine | theirs
    return not union or len(mine & theirs) < LABEL_JACCARD * len(union)


#: Words in a row that, found in two items of one feed under different titles, are the
#: feed's boilerplate, not the item's text (`_unshared`).
SHARED_RUN = 8


def _unshared(made: list[Article]) -> list[Article]:
    """`made`, with what two of them share under different titles taken out of their
    `text_key`s: runs of `SHARED_RUN` words, and whole texts shorter than that. That is
    a feed's boilerplate ("تابعوا آخر الأخبار على موقعنا… اقرأ المزيد" after each
    headline, or as the whole text), which made every item of two feeds alike whatever
    their titles: 8,000 items of 200 such feeds were 161 stories. What is shown is
    unchanged."""
    if len(made) < 2:
        return made
    texts: list[list[str]] = []
    first: dict[tuple[str, ...], str] = {}
    shared: set[tuple[str, ...]] = set()
    for a in made:
        words, head = a.text_key.split(), a.title_key.split()
        words = words[len(head) :] if words[: len(head)] == head else []
        texts.append(words)
        title = a.title_key or a.id  # an item without a title (`_unlabelled`) has its own
        for run in _runs(words):
            if first.setdefault(run, title) != title:
                shared.add(run)
    if not shared:
        return made
    out = []
    for a, words in zip(made, texts, strict=True):
        drop = [False] * len(words)
        for i, run in enumerate(_runs(words)):
            if run in shared:
                drop[i : i + len(run)] = [True] * len(run)
        if any(drop):
            kept = [w for w, gone in zip(words, drop, strict=True) if not gone]
            a = replace(a, text_key=" ".join([a.title_key, *kept]).strip())
        out.append(a)
    return out


def _runs(words: list[str]) -> Iterator[tuple[str, ...]]:
    """Each run of `SHARED_RUN` words in a row, in order (tuples made in C); a shorter
    text whole."""
    if len(words) < SHARED_RUN:
        return iter([tuple(words)] if words else [])
    return zip(*(words[k:] for k in range(SHARED_RUN)), strict=False)


def shared_identities(entries: Sequence[ParsedEntry]) -> frozenset[str]:
    """The guids and links, as the feed gives them, that several of `entries` carry for
    different items (with another guid, link or title).

    Some feeds give every item one guid (the site's homepage, "1"), or one link and no
    guid (a podcast that links every episode to its homepage). Read as identities, all
    those items were one article: each overwrote the one before, and one was kept.
    """
    first: dict[tuple[bool, str], tuple[str, str, str]] = {}
    shared: set[str] = set()
    for e in entries:
        item = ((e.guid or "").strip(), (e.link or "").strip(), (e.title or "").strip())
        for is_guid, value in ((True, item[0]), (False, item[1])):
            if value and first.setdefault((is_guid, value), item) != item:
                shared.add(value)
    return frozenset(shared)


def article(
    entry: ParsedEntry,
    feed: ParsedFeed,
    source: SourceConfig,
    *,
    fetched_at: datetime,
    first_seen: datetime | None = None,
    shared: frozenset[str] = frozenset(),
) -> Article | None:
    """Build the Article of one entry; None when it has no title, link or content.

    Its id is made of its source and its guid, else its canonical link, else its
    content; a guid or link in `shared` (`shared_identities`) is passed over, and a
    shared guid is not kept.
    """
    link = _unwrapped(_http_url(entry.link, feed.url))
    base = _http_url(entry.base, feed.url) or link or feed.url
    summary, cut_summary = _sanitize(entry.summary or "", base)
    content, cut_content = _sanitize(entry.content or "", base)
    text = plain_text(content or summary)
    named = clean_title(entry.title or "", entry.outlet, source.name, feed.title)
    title = named or _bound(text, 100)
    if entry.outlet and summary and not content and _names_only(text, title, entry.outlet):
        summary, text = "", ""  # Google News: "<a>the headline</a>  <font>the outlet</font>"
    media = _media(entry.media, base)
    if not (title or link or text or media):  # an episode may be its file alone
        return None
    if not title and media:  # named by its file ("ep12.mp3"), not by "…"
        title = _bound(clean_text(unquote(media.url.rsplit("/", 1)[-1].split("?")[0])), 100)
    summary_html = summary or html.escape(_bound(text, _EXCERPT), quote=False)
    content_html = content or summary
    # The episode's file is part of what is published: a new URL is an edit. (Only when
    # there is one, so that no stored article without one reads as changed.)
    shown = (title, summary_html, content_html, *((media.url,) if media else ()))
    content_hash = _sha256("\0".join(shown))
    seen = first_seen or fetched_at
    published, date_source = _published(entry, source.default_tz, fetched_at, seen)
    guid = clean_text(entry.guid) if entry.guid and entry.guid.strip() not in shared else None
    if guid and len(guid) > MAX_URL:  # kept as its digest: as unique, a thousandth the size
        guid = "sha256:" + _sha256(guid)
    canonical = canonical_url(link) if link else ""
    by_link = canonical if (entry.link or "").strip() not in shared else ""
    identity = guid or by_link or content_hash
    return Article(
        id="a" + hashlib.sha1(f"{source.url}\0{identity}".encode()).hexdigest()[:24],
        source_url=source.url,
        guid=guid or None,
        url=clean_url(link) if link else "",
        canonical_url=canonical,
        title=title,
        summary_html=summary_html,
        content_html=content_html,
        published=published,
        date_source=date_source,
        first_seen=seen,
        language=script.language(f"{title} {plain_text(summary_html)}"),
        title_key=match_key(title),
        text_key=match_key(f"{title} {text[:_KEY_TEXT]}"),
        content_hash=content_hash,
        authors=_texts(entry.authors),
        categories=_texts(entry.categories),
        image=_image(entry.image, base),
        content_from="pending" if link and wants_page(source.full_text, text) else "feed",
        outlet=_bound(clean_text(entry.outlet), _OUTLET_LIMIT) if entry.outlet else "",
        media=media,
        trimmed=cut_summary or cut_content,
    )


def _names_only(text: str, title: str, outlet: str) -> bool:
    """Whether an aggregator's excerpt `text` says only the headline and the outlet."""
    said = match_key(text).split()
    head, name = match_key(title).split(), match_key(outlet).split()
    if said[len(said) - len(name) :] == name:
        said = said[: len(said) - len(name)]
    return said == head


#: Characters of feed text under which `full_text: auto` fetches the article's page.
SHORT_TEXT = 600
# How a cut excerpt ends: a "read more" link, WordPress's "[…]" (made "…" above), or an
# ellipsis.
_CUT_END = re.compile(
    r"(?:(?:اقرأ|إقرأ|اقرا|تابع|طالع)\s+(?:المزيد|القراءة|الخبر|التفاصيل|المقال)|"
    r"read more|continue reading|…|\.\.\.)\W*$",
    re.IGNORECASE,
)


def wants_page(mode: FullText, text: str) -> bool:
    """Whether an article's page is worth fetching for its full text, given the plain
    `text` its feed gave: always (`true`), never (`false`), or (`auto`) when that text is
    short or ends the way a cut excerpt does."""
    if mode != "auto":
        return mode == "true"
    return len(text) < SHORT_TEXT or _CUT_END.search(text[-40:]) is not None


def newest(
    entries: Sequence[ParsedEntry], limit: int, default_tz: str | None, fetched_at: datetime
) -> list[ParsedEntry]:
    """The `limit` newest of `entries` by the date `article` would give them, in the
    feed's order; an entry without a usable date counts as new (it is first seen now)."""
    if len(entries) <= limit:
        return list(entries)
    when = [_published(e, default_tz, fetched_at, fetched_at)[0] for e in entries]
    ranked = sorted(range(len(entries)), key=lambda i: (-when[i].timestamp(), i))
    return [entries[i] for i in sorted(ranked[:limit])]


def _published(
    entry: ParsedEntry, default_tz: str | None, fetched_at: datetime, seen: datetime
) -> tuple[datetime, DateSource]:
    """feedparser's date unless its string names a zone it misreads (AST is UTC+3 to Arab
    sites, Atlantic time to feedparser: 7 hours off); then our Arabic parser. A missing
    date is never silently "now" but the first-seen time, marked as such; so is a date
    that cannot be right (in the future, or a placeholder such as Hugo's year 1), marked
    `REJECTED`, after the entry's other date was tried."""
    rejected = False
    for parsed, raw in ((entry.published, entry.published_raw), (entry.updated, entry.updated_raw)):
        when, how = None, DateSource.FEED
        if parsed is not None and not (raw and dates.has_zone_quirk(raw)):
            when = parsed
        elif raw:
            when = dates.parse_date(raw, now=fetched_at, default_tz=default_tz)
            how = DateSource.FALLBACK
        if when is None:
            continue
        if plausible_date(when) and when <= fetched_at + _FUTURE_SLACK:
            return when, how
        log.debug("date %s cannot be right; using first-seen time", raw or when)
        rejected = True
    return seen, DateSource.REJECTED if rejected else DateSource.FIRST_SEEN


def _media(media: Media | None, base: str) -> Media | None:
    """An enclosure's file as an absolute, escaped http(s) URL, with a MIME type that
    is one ("audio/mpeg"), or None."""
    if media is None:
        return None
    url = escape_url(_http_url(media.url, base))
    kind = media.type if _MIME_TYPE.fullmatch(media.type) else ""
    return Media(url, kind, media.length) if url else None


_MIME_TYPE = re.compile(r"(?:audio|video)/[a-z0-9][a-z0-9.+-]{0,60}")


def _image(url: str | None, base: str) -> str | None:
    absolute = escape_url(_http_url(url, base))  # as `clean_url` escapes
    return absolute if absolute and not _is_pixel(absolute, None, None) else None


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    """Author names and categories: plain text, shown as written but for bidi controls
    and invisible characters; the first `_TEXTS_LIMIT`, each as long as a title may be
    (a feed can give an item any number of any length, and the store keeps them)."""
    taken = itertools.islice(values, 4 * _TEXTS_LIMIT)  # room for repeats and blanks
    found = (_bound(display_text(clean_text(v)), _TITLE_LIMIT) for v in taken)
    return tuple(itertools.islice(dict.fromkeys(t for t in found if t), _TEXTS_LIMIT))


_TEXTS_LIMIT = 100


def _sha256(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8", errors="surrogatepass")).hexdigest()
