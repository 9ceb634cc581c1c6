"""OPML 2.0 (http://opml.org/spec2.opml) listing the published merged feeds.

No dateCreated/dateModified: both are optional, and a date would rewrite the file on
every pass.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..types import Config
from . import _common as c


def render_opml(config: Config) -> bytes:
    """One `<outline type="rss">` per entry of `feeds:` in config order."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = c.clean(config.title)
    body = ET.SubElement(root, "body")
    for feed in config.feeds:
        title = c.clean(feed.title)
        ET.SubElement(
            body,
            "outline",
            text=title,
            title=title,
            type="rss",
            xmlUrl=c.feed_url(config, feed, ".rss"),
            htmlUrl=c.index_url(config),
        )
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
