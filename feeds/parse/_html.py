"""HTML pages: the feeds they name in `<link rel="alternate">` (autodiscovery)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)


# --------------------------------------------------------------------------- HTML pages


class _AlternateFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        kind = a.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in _FEED_TYPES and a.get("href", "").strip():
            self.hrefs.append(a["href"].strip())


def _html_alternates(body: bytes, url: str, content_type: str | None) -> tuple[str, ...]:
    head = body[:2048].lower()
    if "html" not in (content_type or "").lower() and b"<html" not in head:
        return ()
    finder = _AlternateFinder()
    finder.feed(body.decode("utf-8", errors="replace"))
    finder.close()
    found = (urljoin(url, h) for h in finder.hrefs)
    return tuple(dict.fromkeys(h for h in found if h.startswith(("http://", "https://"))))
