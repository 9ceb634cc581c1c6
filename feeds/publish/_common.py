"""What every output format shares: clean stories, stable ids, URLs, dates and HTML wrapping.

Every renderer first passes its stories through `prepare()`, so the formats cannot drift
apart: the same cleaned title, the same id string, the same UTC second-precision dates.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

from .. import dedupe
from ..arabic.matching import match_key
from ..arabic.visible import display_host, display_text
from ..types import TOPIC_LABELS, Config, FeedConfig, SourceRef, Story

#: The feed date of an empty feed: a fixed instant, so an empty feed renders identically
#: on every pass instead of carrying "now".
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Heading of the block listing the other sources of a merged story ("other coverage").
ALSO_COVERED = "تغطيات أخرى"

#: Languages written right to left, for the `dir` of the index page.
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "yi"})

# XML 1.0 §2.2 forbids C0 controls other than tab/LF/CR, lone surrogates and U+FFFE/U+FFFF;
# lxml refuses them outright. C1 controls are allowed but "discouraged" and only ever come
# from mojibake, so they go too.
_FORBIDDEN = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Vertical tab and form feed separate words, so they become a space rather than vanish.
_SPACE_LIKE = re.compile("[\x0b\x0c]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def clean(text: str) -> str:
    """`text` minus the characters an XML document cannot hold."""
    return _FORBIDDEN.sub("", _SPACE_LIKE.sub(" ", text))


def utc(when: datetime) -> datetime:
    """UTC to the second: RFC 822 dates cannot carry fractions, so no format may either."""
    if when.tzinfo is None:  # the records promise aware datetimes; be lenient, not wrong
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0)


def rfc3339(when: datetime) -> str:
    # Not strftime("%Y"): glibc writes year 1 as "1", and RFC 3339 wants four digits.
    u = utc(when)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def _clean_source(ref: SourceRef) -> SourceRef:
    # Source names come from the config, and `opml import` writes them from other
    # people's OPML: the same display rule as titles (issue 20); so do their headlines.
    return SourceRef(
        url=clean(ref.url),
        name=display_text(clean(ref.name)),
        source_url=clean(ref.source_url),
        title=display_text(clean(ref.title)).strip(),
        published=utc(ref.published) if ref.published else None,
        outlet=display_text(clean(ref.outlet)),
    )


def _fallback_title(story: Story) -> str:
    """Atom requires a title (RFC 4287 §4.1.2) and feedgen refuses an entry without one."""
    text = plain_text(clean(story.summary_html or story.content_html))
    return text[:80].rstrip() + "…" if len(text) > 80 else text or clean(story.url) or "…"


def clean_story(story: Story) -> Story:
    """The story with every text field XML-safe and every date UTC to the second.

    Titles and author names also lose bidi controls and invisible characters here, as
    normalize already strips them, for articles stored before it did.
    """
    return dataclasses.replace(
        story,
        id=clean(story.id),
        title=display_text(clean(story.title)).strip() or _fallback_title(story),
        url=clean(story.url),
        summary_html=clean(story.summary_html),
        content_html=clean(story.content_html),
        published=utc(story.published),
        updated=utc(story.updated),
        language=clean(story.language),
        sources=tuple(_clean_source(s) for s in story.sources),
        topics=tuple(clean(t) for t in story.topics),
        authors=tuple(a for a in (display_text(clean(a)).strip() for a in story.authors) if a),
        categories=tuple(clean(c) for c in story.categories),
        image=clean(story.image) if story.image else None,
        first_seen=utc(story.first_seen or story.published),
        media=story.media._replace(url=clean(story.media.url)) if story.media else None,
    )


def prepare(stories: Iterable[Story]) -> tuple[Story, ...]:
    """Cleaned stories, newest first by (published desc, id), each id once.

    The pipeline already sorts; sorting again here is what makes the output independent
    of the order a database happened to return rows in.
    """
    cleaned = sorted(
        (clean_story(s) for s in stories),
        key=lambda s: (-s.published.timestamp(), s.id),
    )
    seen: set[str] = set()
    unique = []
    for story in cleaned:
        if story.id not in seen:
            seen.add(story.id)
            unique.append(story)
    return tuple(unique)


def feed_updated(stories: Sequence[Story]) -> datetime:
    """The feed's own date: the newest story change, never the time of rendering."""
    return max((s.updated for s in stories), default=EPOCH)


def item_id(story: Story) -> str:
    """The id of the story's item, identical in RSS (guid), Atom (id) and JSON Feed (id).

    Atom requires an IRI (RFC 4287 §4.2.6), so a bare hash becomes a URN; an id that
    already has a scheme is kept as it is.
    """
    if _SCHEME.match(story.id):
        return story.id
    return "urn:feeds:story:" + quote(story.id, safe="-._~!$&'()*+,;=:@/")


def base(config: Config) -> str:
    return config.base_url if config.base_url.endswith("/") else config.base_url + "/"


def feed_url(config: Config, feed: FeedConfig, extension: str) -> str:
    """Absolute URL of one published file, e.g. extension ".rss"."""
    return base(config) + feed.slug + extension


def index_url(config: Config) -> str:
    return base(config) + "index.html"


def safe_href(url: str) -> str:
    """Only http(s) links go into generated HTML: a `javascript:` link would run script."""
    return url if urlsplit(url).scheme.lower() in {"http", "https"} else "#"


def linked(url: str, inner: str, attrs: str = "") -> str:
    """`inner` (markup) as a link to `url`, or as it is when `url` is no http(s) link:
    an item without one showed as `<a href="#">`, a link that goes nowhere."""
    href = safe_href(url)
    return inner if href == "#" else f'<a href="{html.escape(href)}"{attrs}>{inner}</a>'


def topic_label(topic: str) -> str:
    """The Arabic name of a topic slug; an unknown slug is shown as it is."""
    return TOPIC_LABELS.get(topic, topic)


def topic_scheme(topic: str) -> str:
    """The category scheme (Atom) or domain (RSS) that carries a topic's slug."""
    return "urn:feeds:topic:" + quote(topic, safe="")


_IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
                "gif": "image/gif", "webp": "image/webp", "avif": "image/avif",
                "svg": "image/svg+xml"}  # fmt: skip


def image_type(url: str) -> str:
    """The media type an image URL's extension names; "image/jpeg" when it names none,
    the usual format of a news picture."""
    suffix = urlsplit(url).path.rsplit(".", 1)[-1].lower()
    return _IMAGE_TYPES.get(suffix, "image/jpeg")


def first_seen(story: Story) -> datetime:
    return story.first_seen or story.published


def source_label(ref: SourceRef) -> str:
    """The source's name, else its article's host, in punycode where a label could
    pass for another (a Cyrillic а in `аpple.com`)."""
    try:  # an item without a link is named by its feed's host
        host = urlsplit(ref.url or ref.source_url).hostname
    except ValueError:  # an unbalanced IPv6 bracket
        host = None
    return ref.name.strip() or (display_host(host) if host else ref.url)


def other_sources(story: Story) -> tuple[SourceRef, ...]:
    """The other outlets of the story: for each source but the lead's, its first article
    (a source that posted the story again under a new link is one outlet, and the
    lead's own repost is no other coverage), never the article the story links to."""
    seen = {outlet(story.sources[0])} if story.sources else set()
    # An aggregator's copy of an outlet the story has from that outlet's own feed: its
    # name is the one the operator gave that feed (Google News's "البوابة العربية
    # للأخبار التقنية" beside the site's own feed of that name). One outlet, not two.
    # Names are keyed only for a story that holds an aggregator's item: every card,
    # count and related link asks, for each of thousands of stories.
    aggregated = any(r.outlet for r in story.sources)
    own = (
        {match_key(r.name) for r in story.sources if not r.outlet and r.name.strip()}
        if aggregated
        else set()
    )
    lead = story.sources[0] if story.sources else None
    # And the other way round: the aggregator's copy leads, the site's own feed follows.
    lead_name = match_key(lead.name) if lead is not None and lead.outlet else None
    found = []
    for ref in story.sources:
        if ref.url == story.url or outlet(ref) in seen:
            continue
        if ref.outlet and match_key(ref.name) in own:
            continue
        if not ref.outlet and lead_name is not None and match_key(ref.name) == lead_name:
            continue
        seen.add(outlet(ref))
        found.append(ref)
    return tuple(found)


def outlet(ref: SourceRef) -> str:
    """What tells one outlet from another: its source feed (and within an aggregator's,
    the outlet its item names), else its article's link."""
    return dedupe.origin(ref.source_url, ref.outlet) if ref.source_url else ref.url


def outlets(story: Story) -> int:
    """How many outlets told the story: the lead's and the others listed (a source's
    reposts are one, and so are two configured feeds of one site giving one link)."""
    return (1 if story.sources else 0) + len(other_sources(story))


def says_more(text: str, title: str) -> bool:
    """Whether an excerpt `text` says more than the headline: feeds often give the title
    again as the description, whole or cut ("سامسونج تكشف عن ..."), which a card or a
    message would show twice."""
    bare, head = _bare(text), _bare(title)
    return bool(bare) and not head.startswith(bare)


def _bare(text: str) -> str:
    """`text` without its spacing, punctuation and a closing ellipsis, to compare."""
    return "".join(ch for ch in text.removesuffix("…").removesuffix("...") if ch.isalnum())


def direction_attrs(language: str) -> str:
    """`dir`/`lang` attributes for a block in `language` (research/arabic.md §7)."""
    if language == "en":
        return 'dir="ltr" lang="en"'
    if language == "ar":
        return 'dir="rtl" lang="ar"'
    return 'dir="auto"'  # "mixed" or unknown: let the reader decide per paragraph


def wrap(fragment: str, language: str) -> str:
    """Sanitized HTML in a block that carries its direction, for readers that ignore the
    feed's language and guess direction from the first strong character. Nothing, for
    an item that is a title alone: an empty block is no text to readers."""
    return f"<div {direction_attrs(language)}>{fragment}</div>" if fragment else ""


def also_covered_html(story: Story) -> str:
    """The "also covered by" block: a link to every other source of the story."""
    others = other_sources(story)
    if not others:
        return ""
    items = "".join(f"<li>{linked(s.url, html.escape(source_label(s)))}</li>" for s in others)
    return f'<div dir="rtl" lang="ar"><h4>{ALSO_COVERED}</h4><ul>{items}</ul></div>'


def summary_html(story: Story) -> str:
    """The wrapped summary; a story without one falls back to its content."""
    return wrap(story.summary_html or story.content_html, story.language)


def content_html(story: Story) -> str:
    """The wrapped content followed by the other sources, the same in every format."""
    body = story.content_html or story.summary_html
    return wrap(body, story.language) + also_covered_html(story)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:  # "<td>الشاشة</td><td>6.1</td>", "</p>نص": two words, not one
            self.parts.append(" ")


#: Tags that end a run of text: blocks, table cells, line breaks (the sanitizer's).
_BREAKS = frozenset(
    {"br", "hr", "p", "div", "li", "ul", "ol", "blockquote", "pre", "figure", "figcaption",
     "h1", "h2", "h3", "h4", "h5", "h6", "table", "caption", "thead", "tbody", "tfoot",
     "tr", "th", "td"}
)  # fmt: skip


def plain_text(fragment: str) -> str:
    """Readable text of an HTML fragment, whitespace collapsed (JSON Feed `summary`)."""
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return " ".join("".join(collector.parts).split())
