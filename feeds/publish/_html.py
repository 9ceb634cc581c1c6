"""The reading pages: `index.html` (the front page) and one `<slug>.html` per feed.

Self-contained on purpose (inline CSS, no script, no asset of its own) so that they work
from any static host, and every link between them is relative, so that they work from
wherever `output_dir` is served (`feeds serve`, a file manager, a CDN). The one thing
they load from elsewhere is the articles' pictures, proxied by nothing: each is
lazy-loaded and asked for without a referrer (the page's `<meta name="referrer">` and
the image's own `referrerpolicy`), so a publisher learns neither who reads nor from
where. Nothing on a page depends on the moment of rendering: the "last updated" line
is the newest story's own date, and times are shown in `display_timezone`.

The pages' one script, `SCRIPT`, turns a card's times of the last week into relative
Arabic ("منذ ساعتين", with the absolute date kept as the element's title) from the
reader's own clock, and refreshes them every minute. Without it the pages show the
absolute dates and lose nothing else. `feeds serve` allows exactly this script in its
Content-Security-Policy, by its hash (`SCRIPT_HASH`); no other script can run.
"""

from __future__ import annotations

import base64
import hashlib
import zoneinfo
from collections.abc import Sequence
from datetime import tzinfo
from html import escape

from ..types import Config, FeedConfig, Story
from . import _card
from . import _common as c

#: Stories of the front page's "top stories", then of its "latest" and of each feed.
TOP_LIMIT = 6
LATEST_LIMIT = 20
SECTION_LIMIT = 6
#: The zone of the reading page's times unless `display_timezone` names one: Saudi
#: Arabia's, UTC+3 all year (no summer time), which is also the time of most of the
#: Gulf and of Iraq, and of Egypt and the Levant in summer: the region most Arabic tech
#: sites write from. A source's `default_tz` says how to read its dates, not where its
#: readers are, so it is not used.
DEFAULT_TIMEZONE = "Asia/Riyadh"

FORMATS = (
    (".rss", "application/rss+xml", "RSS"),
    (".atom", "application/atom+xml", "Atom"),
    (".json", "application/feed+json", "JSON"),
)

Feeds = Sequence[tuple[FeedConfig, Sequence[Story]]]

_CSS = """
:root{color-scheme:light dark;--fg:#1b1b1b;--muted:#4f4f4f;--bg:#fcfcfa;--card:#fff;
--line:#e2e2dc;--link:#0b4f8c}
@media (prefers-color-scheme:dark){:root{--fg:#ececec;--muted:#b4b4b4;--bg:#141414;
--card:#1e1e1e;--line:#333;--link:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:60rem;padding:0 1rem 2rem;color:var(--fg);background:var(--bg);
font:1.05rem/1.75 "Noto Naskh Arabic","Noto Sans Arabic","IBM Plex Sans Arabic","Segoe UI",
"Geeza Pro","Arabic UI Text",Tahoma,system-ui,sans-serif}
bdi{unicode-bidi:isolate}
a{color:var(--link);text-decoration:none}
a:hover,a:focus-visible,p a,li li a,.formats a{text-decoration:underline;
text-decoration-thickness:1px;text-underline-offset:.45em}
header{border-bottom:2px solid var(--line);padding:.5rem 0}
h1{font-size:1.6rem;margin:.3rem 0}h1 a{color:inherit}
nav ul,ol.stories,ul.topics{list-style:none;margin:0;padding:0}
nav li{display:inline-block;margin-inline-end:1rem}
h2{font-size:1.3rem;border-bottom:1px solid var(--line);margin:1.5rem 0 .8rem}
.updated,.meta,.also,.formats{font-size:.85rem;color:var(--muted)}
ol.stories>li{margin:0 0 1rem}
.card{display:flex;gap:1rem;align-items:flex-start;background:var(--card);
border:1px solid var(--line);border-radius:.5rem;padding:.8rem}
.card .body{flex:1;min-width:0}
.thumb{flex:none;width:160px;height:90px;object-fit:cover;border-radius:.3rem;
background:var(--line)}
h3{font-size:1.1rem;line-height:1.6;margin:0 0 .2rem;overflow-wrap:anywhere}
.meta,.also,.excerpt{margin:.2rem 0;overflow-wrap:anywhere}
h1,h2,nav li,.formats li{overflow-wrap:anywhere}
ul.topics li{display:inline-block;font-size:.8rem;border:1px solid var(--line);
border-radius:1rem;padding:0 .6rem;margin:.2rem 0 0;margin-inline-end:.3rem}
@media (max-width:34rem){.card{flex-direction:column}.thumb{width:100%;height:auto;
aspect-ratio:16/9}}
""".strip()


#: Arabic number agreement for "N units ago": one, two (dual), 3-10 (plural), 11 and up
#: (singular). A week is the longest span shown relatively, so days never reach 11.
SCRIPT = """
(function () {
  var units = [[86400, "يوم", "يومين", "أيام"], [3600, "ساعة", "ساعتين", "ساعات"],
               [60, "دقيقة", "دقيقتين", "دقائق"]];
  function ago(seconds) {
    for (var i = 0; i < units.length; i++) {
      var u = units[i], n = Math.floor(seconds / u[0]);
      if (n >= 1) {
        return "منذ " + (n === 1 ? u[1] : n === 2 ? u[2] : n + " " + (n <= 10 ? u[3] : u[1]));
      }
    }
    return "الآن";
  }
  function update() {
    var now = Date.now();
    document.querySelectorAll(".meta time[datetime]").forEach(function (t) {
      if (!t.title) { t.title = t.textContent; }
      var seconds = (now - Date.parse(t.getAttribute("datetime"))) / 1000;
      t.textContent = seconds < 7 * 86400 ? ago(Math.max(seconds, 0)) : t.title;
    });
  }
  update();
  setInterval(update, 60000);
})();
""".strip()
#: The CSP source that allows `SCRIPT` and nothing else (`feeds serve` sends it).
SCRIPT_HASH = "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()


def display_zone(config: Config) -> tzinfo:
    return zoneinfo.ZoneInfo(config.display_timezone or DEFAULT_TIMEZONE)


def _icon(config: Config) -> str:
    href = c.safe_href(config.icon or "")
    return href if href != "#" else "data:,"


def _head(config: Config, title: str, feeds: Sequence[FeedConfig]) -> list[str]:
    lines = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{escape(title)}</title>",
        # The config's icon, or an empty one: a browser would otherwise ask for
        # /favicon.ico, which nothing publishes.
        f'<link rel="icon" href="{escape(_icon(config))}">',
    ]
    for feed in feeds:
        for ext, mime, label in FORMATS:
            name = escape(f"{c.clean(feed.title)} ({label})")
            href = escape(feed.slug + ext)
            lines.append(f'<link rel="alternate" type="{mime}" title="{name}" href="{href}">')
    lines.append(f"<style>{_CSS}</style>")
    return lines


def _nav(config: Config, feeds: Sequence[FeedConfig]) -> list[str]:
    items = ['<li><a href="index.html">الرئيسية</a></li>']
    items += [
        f'<li><a href="{escape(f.slug)}.html">{escape(c.clean(f.title))}</a></li>' for f in feeds
    ]
    return ['<nav aria-label="الأقسام"><ul>', *items, "</ul></nav>"]


def _formats(feed: FeedConfig) -> str:
    links = " · ".join(
        f'<a href="{escape(feed.slug + ext)}" type="{mime}">{label}</a>'
        for ext, mime, label in FORMATS
    )
    return f"<li>{escape(c.clean(feed.title))}: <bdi>{links}</bdi></li>"


def _updated(stories: Sequence[Story], zone: tzinfo) -> str:
    if not stories:
        return ""
    when = _card.time_html(c.feed_updated(stories), zone)
    return f'<p class="updated">آخر تحديث: {when} (بتوقيت <bdi>{escape(str(zone))}</bdi>)</p>'


def _section(anchor: str, title: str, stories: Sequence[Story], zone: tzinfo) -> list[str]:
    # Slugs start with a letter or digit: "_"-prefixed ids cannot collide with them.
    lines = [f'<section id="{escape(anchor)}" aria-labelledby="_h-{escape(anchor)}">']
    lines.append(f'<h2 id="_h-{escape(anchor)}">{escape(title)}</h2>')
    if stories:
        lines += ['<ol class="stories">', *(_card.card(s, zone) for s in stories), "</ol>"]
    else:
        lines.append("<p>لا أخبار بعد.</p>")  # "no news yet"
    lines.append("</section>")
    return lines


def _page(config: Config, title: str, feeds: Feeds, shown: Sequence[Story]) -> list[str]:
    """The document up to `<main>`; the caller adds the sections and `_end`."""
    language = c.clean(config.language) or "ar"
    direction = "rtl" if language.split("-")[0].lower() in c.RTL_LANGUAGES else "ltr"
    configs = [feed for feed, _ in feeds]
    site = escape(c.clean(config.title))
    lines = ["<!DOCTYPE html>", f'<html lang="{escape(language)}" dir="{direction}">', "<head>"]
    lines += _head(config, title, configs)
    lines += ["</head>", "<body>", "<header>", f'<h1><a href="index.html">{site}</a></h1>']
    lines += _nav(config, configs)
    lines += [_updated(shown, display_zone(config)), "</header>", "<main>"]
    return lines


def _end(feeds: Feeds) -> list[str]:
    lines = ["</main>", "<footer>", '<h2 id="subscribe">اشترك</h2>', '<ul class="formats">']
    lines += [_formats(feed) for feed, _ in feeds]
    lines += ['<li><a href="feeds.opml">OPML</a></li>', "</ul>", "</footer>"]
    return [*lines, f"<script>{SCRIPT}</script>", "</body>", "</html>", ""]


def _main_first(feeds: Feeds) -> list[tuple[FeedConfig, Sequence[Story]]]:
    """The feed slugged "all" first (the front page's main feed), others in order."""
    return sorted(feeds, key=lambda pair: pair[0].slug != "all")  # stable sort


def _top(stories: Sequence[Story]) -> list[Story]:
    """The front page's top stories: the most covered of the newest, newest first on ties."""
    recent = list(stories[:LATEST_LIMIT])
    # By outlets, not articles: one site's reposts are no wider coverage. Stable: newest
    # first on ties.
    ranked = sorted(recent, key=lambda s: -c.outlets(s))
    return ranked[:TOP_LIMIT]


def _fresh(stories: Sequence[Story], seen: set[str], limit: int) -> list[Story]:
    """Up to `limit` of these not shown yet on the page; marks them shown."""
    out = [s for s in stories if s.id not in seen][:limit]
    seen.update(s.id for s in out)
    return out


def render_index(config: Config, feeds: Feeds) -> bytes:
    """The front page: top stories, the latest, then each other feed; no story twice."""
    ordered = [(feed, c.prepare(stories)) for feed, stories in _main_first(feeds)]
    zone = display_zone(config)
    main = ordered[0][1] if ordered else ()
    seen: set[str] = set()
    sections = [("_top", "أهم الأخبار", _fresh(_top(main), seen, TOP_LIMIT))]
    if ordered:
        sections.append((ordered[0][0].slug, "الأحدث", _fresh(main, seen, LATEST_LIMIT)))
    for feed, stories in ordered[1:]:
        sections.append((feed.slug, c.clean(feed.title), _fresh(stories, seen, SECTION_LIMIT)))
    shown = [s for _, _, chosen in sections for s in chosen]
    lines = _page(config, c.clean(config.title), ordered, shown)
    for anchor, title, chosen in sections:
        lines += _section(anchor, title, chosen, zone)
    return "\n".join([*lines, *_end(ordered)]).encode("utf-8")


def render_feed_page(config: Config, feed: FeedConfig, feeds: Feeds) -> bytes:
    """`<slug>.html`: every story of one feed, up to its limit."""
    ordered = _main_first(feeds)
    stories = c.prepare(next((s for f, s in ordered if f.slug == feed.slug), ()))
    title = f"{c.clean(feed.title)} · {c.clean(config.title)}"
    lines = _page(config, title, ordered, stories)
    lines += _section(feed.slug, c.clean(feed.title), stories, display_zone(config))
    return "\n".join([*lines, *_end(ordered)]).encode("utf-8")


def render_pages(config: Config, feeds: Feeds) -> tuple[tuple[str, bytes], ...]:
    """Every reading page as (file name, bytes): the front page, then one per feed."""
    pages = [("index.html", render_index(config, feeds))]
    pages += [(f"{feed.slug}.html", render_feed_page(config, feed, feeds)) for feed, _ in feeds]
    return tuple(pages)
