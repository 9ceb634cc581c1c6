"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) with the `_feeds` extension.

Keys are written in a fixed order (dicts keep insertion order; sort_keys stays off so
`version` comes first, as the spec's examples do and humans expect).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..types import Config, FeedConfig, SourceRef, Story
from . import _common as c

VERSION = "https://jsonfeed.org/version/1.1"


def _item(story: Story) -> dict[str, Any]:
    item: dict[str, Any] = {"id": c.item_id(story)}
    if story.url:  # an item without a link has no url (JSON Feed 1.1: a URL, if any)
        item["url"] = story.url
    item |= {
        "title": story.title,
        "content_html": c.content_html(story),
        "summary": c.plain_text(story.summary_html or story.content_html),
    }
    if story.image:
        item["image"] = story.image
    if story.media:  # a podcast's episode (JSON Feed 1.1 "attachments")
        attachment: dict[str, Any] = {"url": story.media.url}
        attachment["mime_type"] = story.media.type or "application/octet-stream"
        if story.media.length:
            attachment["size_in_bytes"] = story.media.length
        item["attachments"] = [attachment]
    item["date_published"] = c.rfc3339(story.published)
    item["date_modified"] = c.rfc3339(story.updated)
    if story.authors:
        item["authors"] = [{"name": name} for name in story.authors]
    if story.topics:
        item["tags"] = list(story.topics)
    if story.language in {"ar", "en"}:  # "mixed" is not a language tag (RFC 5646)
        item["language"] = story.language
    # Extension keys start with "_" (JSON Feed 1.1 "Extensions"); readers ignore them.
    item["_feeds"] = _card(story)
    return item


def _source(ref: SourceRef) -> dict[str, Any]:
    out: dict[str, Any] = {"url": ref.url, "name": ref.name, "title": ref.title}
    if ref.published:
        out["date_published"] = c.rfc3339(ref.published)
    return out


def _card(story: Story) -> dict[str, Any]:
    """The story card: every source article (the lead first), its times and topics."""
    return {
        "sources": [_source(s) for s in story.sources],
        "source_count": len(story.sources),
        "lead": c.source_label(story.sources[0]) if story.sources else "",
        "first_seen": c.rfc3339(c.first_seen(story)),
        "last_updated": c.rfc3339(story.updated),
        "topics": [{"slug": t, "label": c.topic_label(t)} for t in story.topics],
        # Where the lead's text comes from: "feed", or "page" (full text extracted from
        # the article's page); "pending" while that page waits; "failed" if it gave none.
        "content_from": story.content_from,
    }


def render_json(config: Config, feed: FeedConfig, stories: Sequence[Story]) -> bytes:
    """JSON Feed 1.1 of `stories` (any order; sorted newest first here)."""
    document: dict[str, Any] = {
        "version": VERSION,
        "title": c.clean(feed.title),
        "home_page_url": c.base(config),
        "feed_url": c.feed_url(config, feed, ".json"),
    }
    if feed.description:
        document["description"] = c.clean(feed.description)
    if config.icon:
        document["icon"] = config.logo or config.icon  # JSON Feed's icon is the large one
        document["favicon"] = config.icon
    document["language"] = config.language
    if config.websub_hub:
        document["hubs"] = [{"type": "WebSub", "url": config.websub_hub}]
    document["items"] = [_item(s) for s in c.prepare(stories)]
    text = json.dumps(document, ensure_ascii=False, sort_keys=False, indent=2)
    return (text + "\n").encode("utf-8")
