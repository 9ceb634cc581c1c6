"""The publish stage: stories → RSS 2.0, Atom 1.0, JSON Feed 1.1, reading pages, OPML.

Renderers are pure and deterministic: the same stories give the same bytes, because
the only dates written are the stories' own (an empty feed is dated 1970-01-01).
That is what lets `publish` leave files untouched when a pass finds nothing new.
feedgen is imported here (in `_xml`) and nowhere else in `feeds`.
"""

from __future__ import annotations

from ._common import item_id
from ._files import publish, render_all, write_atomic
from ._html import SCRIPT_HASH, render_feed_page, render_index, render_pages
from ._json import render_json
from ._opml import render_opml
from ._xml import render_atom, render_rss

__all__ = [
    "SCRIPT_HASH",
    "item_id",
    "publish",
    "render_all",
    "render_atom",
    "render_feed_page",
    "render_index",
    "render_json",
    "render_opml",
    "render_pages",
    "render_rss",
    "write_atomic",
]
