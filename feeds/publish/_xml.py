"""RSS 2.0 and Atom 1.0 through feedgen, with everything that varies by clock pinned down.

feedgen stamps "now" into lastBuildDate/updated and its own version into <generator>;
both are overridden so an unchanged feed renders to the same bytes on every pass.
Entries are added with order="append" because feedgen prepends by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from ..types import Config, FeedConfig, Media, Story
from . import _common as c

_ATOM_NS = "http://www.w3.org/2005/Atom"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_MEDIA_NS = "http://search.yahoo.com/mrss/"
_MIME = {".rss": "application/rss+xml", ".atom": "application/atom+xml"}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class _FeedExtension:
    """Feed-level additions feedgen cannot express: the WebSub hub link in RSS."""

    hub: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"dc": _DC_NS, "media": _MEDIA_NS}

    def extend_rss(self, rss: Any) -> Any:
        if self.hub:  # feedgen writes only rel="self" into an RSS channel
            xml_elem(f"{{{_ATOM_NS}}}link", rss[0], href=self.hub, rel="hub")
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _EntryExtension:
    """Per-item additions: dc:creator/dc:language in RSS (RSS <author> must be an e-mail
    address), xml:lang on English Atom entries, media:content for the image."""

    language: str = ""
    authors: tuple[str, ...] = ()
    image: str | None = None
    media: Media | None = None  # the episode's file: RSS's one <enclosure>, an Atom link
    related: tuple[tuple[str, str], ...] = ()  # (href, title) of the other sources

    def extend_ns(self) -> dict[str, str]:
        return {}

    def _media(self, item: Any) -> None:
        if self.image:
            xml_elem(f"{{{_MEDIA_NS}}}content", item, url=self.image, medium="image")
            # Some readers show only media:thumbnail, others only media:content.
            xml_elem(f"{{{_MEDIA_NS}}}thumbnail", item, url=self.image)

    def extend_rss(self, item: Any) -> Any:
        for name in self.authors:
            xml_elem(f"{{{_DC_NS}}}creator", item).text = name
        if self.language == "en":  # research/arabic.md §7: mark English items in RSS
            xml_elem(f"{{{_DC_NS}}}language", item).text = "en"
        self._media(item)
        if self.media:  # RSS 2.0: url, length and type are all required (0: not known)
            kind = self.media.type or "application/octet-stream"
            xml_elem(
                "enclosure", item, url=self.media.url, length=str(self.media.length), type=kind
            )
        return item

    def extend_atom(self, entry: Any) -> Any:
        if self.language == "en":
            entry.set(_XML_LANG, "en")
        # feedgen 1.0 drops rel/title of entry links (its loop variable shadows the
        # dict), so the related links are written here.
        for href, title in self.related:
            xml_elem("link", entry, href=href, rel="related", title=title)
        if self.image:  # the picture as an enclosure (RFC 4287 §4.2.7.2)
            xml_elem("link", entry, href=self.image, rel="enclosure", type=c.image_type(self.image))
        if self.media:
            file = {"type": self.media.type} if self.media.type else {}
            if self.media.length:
                file["length"] = str(self.media.length)
            xml_elem("link", entry, href=self.media.url, rel="enclosure", **file)
        self._media(entry)
        return entry


def _generator(config: Config, feed: FeedConfig, stories: Sequence[Story], ext: str) -> Any:
    fg = FeedGenerator()
    fg.register_extension("feeds", _FeedExtension, _EntryExtension)
    fg.id(c.feed_url(config, feed, ""))
    # feedgen refuses an empty title or description (ValueError), and a title made only
    # of control characters is empty once cleaned: fall back to the slug.
    title = c.clean(feed.title).strip() or feed.slug
    fg.title(title)
    fg.description(c.clean(feed.description).strip() or title)
    fg.language(config.language)
    fg.author(name=c.clean(config.title).strip() or title)
    fg.generator("feeds")
    fg.updated(c.feed_updated(stories))
    fg.link(href=c.feed_url(config, feed, ext), rel="self", type=_MIME[ext])
    if config.websub_hub:
        fg.link(href=config.websub_hub, rel="hub")
        fg.feeds.hub = config.websub_hub
    fg.link(href=c.base(config), rel="alternate")  # last: feedgen's RSS <link> is the last one
    if config.icon:
        fg.icon(config.icon)
    if config.logo or config.icon:  # feedgen also writes it as the RSS <image>
        fg.logo(config.logo or config.icon)
    for story in stories:
        _add_entry(fg, story)
    return fg


def _add_entry(fg: Any, story: Story) -> None:
    fe = fg.add_entry(order="append")
    fe.id(c.item_id(story))  # also the RSS guid, isPermaLink="false"
    fe.title(story.title)
    if story.url:  # an empty href would resolve to the feed itself (RFC 4287 §4.2.7.1)
        fe.link(href=story.url, rel="alternate")  # written without rel: that means alternate
    fe.content(c.content_html(story), type="html")
    fe.summary(c.summary_html(story), type="html")  # also the RSS <description>
    fe.published(story.published)
    fe.updated(story.updated)
    for topic in story.topics:  # RSS: the label, with the topic's scheme as its domain
        fe.category(term=topic, scheme=c.topic_scheme(topic), label=c.topic_label(topic))
    if story.authors:
        fe.author([{"name": name} for name in story.authors])
    fe.feeds.language = story.language
    fe.feeds.authors = story.authors
    fe.feeds.image = story.image
    fe.feeds.media = story.media
    fe.feeds.related = tuple((r.url, c.source_label(r)) for r in c.other_sources(story) if r.url)


def render_rss(config: Config, feed: FeedConfig, stories: Sequence[Story]) -> bytes:
    """RSS 2.0 of `stories` (any order; sorted newest first here)."""
    fg = _generator(config, feed, c.prepare(stories), ".rss")
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def render_atom(config: Config, feed: FeedConfig, stories: Sequence[Story]) -> bytes:
    """Atom 1.0 (RFC 4287) of `stories` (any order; sorted newest first here)."""
    fg = _generator(config, feed, c.prepare(stories), ".atom")
    data: bytes = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data
