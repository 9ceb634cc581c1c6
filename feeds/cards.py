"""Pure helpers for a story's card: the lead picture found in an article's markup.

The parse stage keeps a picture only when the feed names one (`media:content`,
`media:thumbnail`, an image enclosure); most WordPress feeds put theirs only in the
content, as its first `<img>`. That one becomes the lead image when it is large enough
to be a picture rather than an icon, a smiley or a share button.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from . import normalize

__all__ = ["MIN_SIDE", "first_image", "lead_image"]

#: Pixels: an image declared smaller than this on either side is decoration.
MIN_SIDE = 120

# Sanitized markup (nh3) writes tags lower-case with quoted attribute values.
_IMG = re.compile(r"<img\s[^>]*>")
_ATTR = re.compile(r'\b(src|width|height)="([^"]*)"')
# WordPress emoji and avatar images are tiny whatever their declared size.
_DECORATION = re.compile(r"/(emoji|smilies|avatar)s?/|gravatar\.com/", re.IGNORECASE)


def _large_enough(attrs: dict[str, str]) -> bool:
    for side in ("width", "height"):
        value = attrs.get(side, "")
        if value.isdigit() and int(value) < MIN_SIDE:
            return False
    return True


def first_image(markup: str) -> str | None:
    """The `src` of the first http(s) `<img>` in `markup` that is not decoration."""
    for tag in _IMG.finditer(markup):
        attrs: dict[str, str] = dict(_ATTR.findall(tag[0]))
        # An attribute's text, entities decoded; escaped as a feed's own picture is.
        src = normalize.escape_url(html.unescape(attrs.get("src", "")))
        if urlsplit(src).scheme.lower() not in {"http", "https"}:
            continue
        if _large_enough(attrs) and not _DECORATION.search(src):
            return src
    return None


def lead_image(declared: Iterable[str | None], markups: Iterable[str]) -> str | None:
    """The first picture a feed declared, else the first one found in these markups."""
    for image in declared:
        if image:
            return image
    for markup in markups:
        found = first_image(markup)
        if found:
            return found
    return None
