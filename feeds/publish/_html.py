"""index.html: a static Arabic reading page over the merged feeds.

Self-contained on purpose (inline CSS, no script, no asset of its own) so that it works
from any static host. The one thing it loads from elsewhere is the articles' pictures,
proxied by nothing: each is lazy-loaded and asked for without a referrer (the page's
`<meta name="referrer">` and the image's own `referrerpolicy`), so a publisher learns
neither who reads nor from where. Titles and names are plain text and are escaped;
summaries are HTML already sanitized by the normalize stage and are placed in a
`dir="auto"` block because an Arabic page can hold an English story.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import escape

from ..types import Config, FeedConfig, Story
from . import _common as c

#: How many stories the main section and each topic section show.
MAIN_LIMIT = 30
SECTION_LIMIT = 10

FORMATS = (
    (".rss", "application/rss+xml", "RSS"),
    (".atom", "application/atom+xml", "Atom"),
    (".json", "application/feed+json", "JSON"),
)

_MONTHS = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
)

_CSS = """
body{margin:0 auto;max-width:46rem;padding:1rem;font:1.05rem/1.7 system-ui,"Noto Naskh Arabic",
"Segoe UI",Tahoma,sans-serif;color:#1b1b1b;background:#fcfcfa}
header{border-bottom:2px solid #ddd;margin-bottom:1rem}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.3rem;border-bottom:1px solid #eee}
h3{font-size:1.1rem;margin:.2rem 0}a{color:#0b5394}
ul.feeds,ol.stories{list-style:none;padding:0}ol.stories>li{margin:0 0 1.2rem}
.meta,.also{font-size:.85rem;color:#555}.summary{margin:.3rem 0}
.summary img{max-width:100%;height:auto}
@media (prefers-color-scheme:dark){body{background:#161616;color:#e8e8e8}
a{color:#8ab4f8}.meta,.also{color:#aaa}header,h2{border-color:#333}}
""".strip()


# Sanitized markup writes every image as "<img " (nh3 serializes tags lower-case).
_IMG = re.compile(r"<img\s")
_QUIET_IMG = '<img loading="lazy" referrerpolicy="no-referrer" '


def _date(when: datetime) -> str:
    """A date an Arabic reader reads at a glance; the machine-readable one is in <time>."""
    when = c.utc(when)
    label = f"{when.day} {_MONTHS[when.month - 1]} {when.year}، {when:%H:%M} UTC"
    return f'<time datetime="{c.rfc3339(when)}">{escape(label)}</time>'


def _head(config: Config, feeds: Sequence[FeedConfig]) -> list[str]:
    lines = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{escape(c.clean(config.title))}</title>",
    ]
    for feed in feeds:
        for ext, mime, label in FORMATS:
            title = escape(f"{c.clean(feed.title)} ({label})")
            href = escape(c.feed_url(config, feed, ext))
            lines.append(f'<link rel="alternate" type="{mime}" title="{title}" href="{href}">')
    lines.append(f"<style>{_CSS}</style>")
    return lines


def _subscribe(config: Config, feeds: Sequence[FeedConfig]) -> list[str]:
    lines = ['<ul class="feeds">']
    for feed in feeds:
        links = " · ".join(
            f'<a href="{escape(c.feed_url(config, feed, ext))}" type="{mime}">{label}</a>'
            for ext, mime, label in FORMATS
        )
        lines.append(f"<li>{escape(c.clean(feed.title))}: {links}</li>")
    lines.append("</ul>")
    return lines


def _story(story: Story) -> str:
    href = escape(c.safe_href(story.url))
    own = [s for s in story.sources if s.url == story.url]
    by = f" · {escape(c.source_label(own[0]))}" if own else ""
    parts = [
        f'<li><article><h3 dir="auto"><a href="{href}">{escape(story.title)}</a></h3>',
        f'<p class="meta">{_date(story.published)}{by}</p>',
    ]
    if story.summary_html:
        summary = _IMG.sub(_QUIET_IMG, story.summary_html)
        parts.append(f'<div class="summary" dir="auto">{summary}</div>')
    others = c.other_sources(story)
    if others:
        links = "، ".join(
            f'<a href="{escape(c.safe_href(s.url))}">{escape(c.source_label(s))}</a>'
            for s in others
        )
        parts.append(f'<p class="also">{c.ALSO_COVERED}: {links}</p>')
    parts.append("</article></li>")
    return "".join(parts)


def _section(feed: FeedConfig, stories: Sequence[Story], limit: int) -> list[str]:
    lines = [f'<section id="{escape(feed.slug)}">', f"<h2>{escape(c.clean(feed.title))}</h2>"]
    chosen = c.prepare(stories)[:limit]
    if chosen:
        lines.append('<ol class="stories">')
        lines.extend(_story(s) for s in chosen)
        lines.append("</ol>")
    else:
        lines.append("<p>لا أخبار بعد.</p>")  # "no news yet"
    lines.append("</section>")
    return lines


def _main_first(
    feeds: Sequence[tuple[FeedConfig, Sequence[Story]]],
) -> list[tuple[FeedConfig, Sequence[Story]]]:
    """The feed slugged "all" first (the reading page's main section), others in order."""
    ordered = sorted(feeds, key=lambda pair: pair[0].slug != "all")  # stable sort
    return list(ordered)


def render_index(config: Config, feeds: Sequence[tuple[FeedConfig, Sequence[Story]]]) -> bytes:
    """The reading page: subscribe links for every feed, then the newest stories."""
    ordered = _main_first(feeds)
    language = c.clean(config.language) or "ar"
    direction = "rtl" if language.split("-")[0].lower() in c.RTL_LANGUAGES else "ltr"
    lines = ["<!DOCTYPE html>", f'<html lang="{escape(language)}" dir="{direction}">', "<head>"]
    lines += _head(config, [feed for feed, _ in ordered])
    lines += ["</head>", "<body>", "<header>", f"<h1>{escape(c.clean(config.title))}</h1>"]
    lines += _subscribe(config, [feed for feed, _ in ordered])
    lines += ["</header>", "<main>"]
    for position, (feed, stories) in enumerate(ordered):
        lines += _section(feed, stories, MAIN_LIMIT if position == 0 else SECTION_LIMIT)
    lines += ["</main>", '<footer><p><a href="feeds.opml">OPML</a></p></footer>']
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")
