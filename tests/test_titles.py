"""Titles and names through the real path: feed bytes → parse → normalize → published
files, read back by feedparser (RSS, Atom) and json (issue 20, section 5).

Each case states a title as the source writes it, in RSS or Atom, in a document that is
well-formed or not (a bare `&` elsewhere makes feedparser use its loose parser), and
the text a reader must see.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
import pytest

from feeds import publish
from feeds.normalize import article
from feeds.parse import parse
from feeds.types import (
    Article,
    Config,
    FeedConfig,
    FetchResult,
    SourceConfig,
    SourceRef,
    Story,
    Validators,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://news.example/feed"
SOURCE = SourceConfig(url=URL, name="أخبار")
CONFIG = Config(
    path="config.yaml", title="تجربة", base_url="https://example.org/", output_dir="out",
    database="feeds.db",
)  # fmt: skip
FEED = FeedConfig(slug="all", title="الكل")
BROKEN = "<category>R&D</category>"  # a bare & elsewhere: not well-formed XML


def rss(title: str, *, broken: bool = False, author: str = "محرر") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>أخبار</title>'
        f"<link>https://news.example/</link><item><title>{title}</title>"
        "<link>https://news.example/1</link><description>&lt;p&gt;نص الخبر&lt;/p&gt;"
        f"</description><dc:creator>{author}</dc:creator>{BROKEN if broken else ''}"
        "<pubDate>Sun, 01 Mar 2026 08:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()


def atom(title: str, kind: str = "text", *, broken: bool = False) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>أخبار</title><id>urn:feed</id><updated>2026-03-01T08:00:00Z</updated>"
        f'<entry><id>urn:1</id><title type="{kind}">{title}</title>'
        '<link href="https://news.example/1"/><updated>2026-03-01T08:00:00Z</updated>'
        f"<summary>{'Q&A' if broken else 'نص الخبر'}</summary></entry></feed>"
    ).encode()


XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>'
CASES = [
    ("rss-escaped-amp", rss("AT&amp;T تطلق"), "AT&T تطلق"),
    ("rss-bare-amp", rss("AT&T تطلق"), "AT&T تطلق"),
    ("rss-bare-amp-broken", rss("AT&T و Q&A", broken=True), "AT&T و Q&A"),
    ("rss-bare-and-escaped", rss("R&D &amp;X; AT&T", broken=True), "R&D &X; AT&T"),
    ("rss-cdata", rss("<![CDATA[AT&T <b>تطلق</b>]]>"), "AT&T تطلق"),
    ("rss-less-than-text", rss("x &lt; y &gt; z"), "x < y > z"),
    ("rss-cms-escaped-twice", rss("AT&amp;amp;T &amp;quot;5G&amp;quot;"), 'AT&T "5G"'),
    ("rss-escaped-markup", rss("&lt;img src=x onerror=alert(1)&gt;ثغرة"), "ثغرة"),
    ("rss-escaped-twice-markup", rss("&amp;lt;img src=x onerror=alert(1)&amp;gt;ثغرة"), "ثغرة"),
    (
        "rss-escaped-thrice-markup",
        rss("&amp;amp;lt;img src=x onerror=alert(1)&amp;amp;gt; ثغرة"),
        "&lt;img src=x onerror=alert(1)&gt; ثغرة",
    ),
    ("rss-bidi-override", rss("\u202eelpmaxe.cbb\u202c يكشف"), "elpmaxe.cbb يكشف"),
    ("rss-zero-width", rss("آي\u200bفون \u2066جديد\u2069"), "آيفون جديد"),
    ("atom-text-escaped-amp", atom("AT&amp;T تطلق"), "AT&T تطلق"),
    ("atom-text-bare-amp", atom("AT&T تطلق"), "AT&T تطلق"),
    ("atom-text-bare-amp-broken", atom("AT&T تطلق", broken=True), "AT&T تطلق"),
    ("atom-text-markup-is-text", atom("a &lt;b&gt; c"), "a c"),
    ("atom-html", atom("AT&amp;amp;T &lt;b&gt;تطلق&lt;/b&gt;", "html"), "AT&T تطلق"),
    ("atom-html-bare-amp", atom("AT&T &lt;b&gt;تطلق&lt;/b&gt;", "html"), "AT&T تطلق"),
    (
        "atom-xhtml",
        atom(XHTML.format("<b>عاجل</b> <img src='x'/>AT&amp;T &lt;script&gt;"), "xhtml"),
        "عاجل AT&T",
    ),
    ("atom-xhtml-bare-amp", atom(XHTML.format("<h1>عاجل</h1> AT&T"), "xhtml"), "عاجل AT&T"),
]


def _published(body: bytes, name: str = SOURCE.name) -> dict[str, bytes]:
    fetched = FetchResult(
        source_url=URL, url=URL, status=200, content=body,
        headers=(("content-type", "application/xml"),), validators=Validators(), fetched_at=NOW,
    )  # fmt: skip
    feed = parse(fetched)
    arts = [a for e in feed.entries if (a := article(e, feed, SOURCE, fetched_at=NOW))]
    stories = [_story(a, name) for a in arts]
    return {
        "rss": publish.render_rss(CONFIG, FEED, stories),
        "atom": publish.render_atom(CONFIG, FEED, stories),
        "json": publish.render_json(CONFIG, FEED, stories),
        "html": publish.render_index(CONFIG, [(FEED, stories)]),
    }


def _story(a: Article, name: str) -> Story:
    return Story(
        id=a.id, title=a.title, url=a.url, summary_html=a.summary_html,
        content_html=a.content_html, published=a.published, updated=a.published,
        language=a.language, sources=(SourceRef(a.url, name, URL),), authors=a.authors,
    )  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_title_reads_as_the_source_wrote_it(body: bytes, expected: str) -> None:
    files = _published(body)
    for kind in ("rss", "atom"):
        read = feedparser.parse(files[kind])
        assert not read.bozo, read.bozo_exception
        assert read.entries[0].title == expected, kind
        # The title elements' text, as a reader that renders titles as HTML gets it.
        titles = [
            e.text or "" for e in ET.fromstring(files[kind]).iter() if e.tag.endswith("title")
        ]
        assert not any(re.search(r"<[A-Za-z/!?]", t) for t in titles), kind
    assert json.loads(files["json"])["items"][0]["title"] == expected
    html = files["html"].decode()
    assert not re.search(r"<img|<script|<h1|<b>", html.split("<main>")[1].split("</main>")[0])


def test_names_lose_their_bidi_controls_in_every_file() -> None:
    files = _published(rss("خبر", author="\u202eردحم\u202c Q&A", broken=True), "\u2067bbc\u2069")
    entry = feedparser.parse(files["atom"]).entries[0]
    assert entry.author == "ردحم Q&A"
    assert feedparser.parse(files["rss"]).entries[0].author == "ردحم Q&A"
    sources = json.loads(files["json"])["items"][0]["_feeds"]["sources"]
    assert [s["name"] for s in sources] == ["bbc"]
    for data in files.values():
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", data.decode())


def test_a_nameless_source_shows_its_host_in_punycode_when_it_deceives() -> None:
    story = Story(
        id="s1", title="خبر", url="https://bbc.example/1", summary_html="<p>نص</p>",
        content_html="", published=NOW, updated=NOW, language="ar",
        sources=(  # three outlets, none named: each shown by its host
            SourceRef("https://bbc.example/1", "", "https://bbc.example/feed"),
            SourceRef("https://\u0430pple.example/2", "", "https://\u0430pple.example/feed"),
            SourceRef("https://\u202ebbc.example/3", "", "https://\u202ebbc.example/feed"),
        ),
    )  # fmt: skip
    page = publish.render_index(CONFIG, [(FEED, [story])]).decode()
    assert '<span class="lead"><a href="https://bbc.example/1"><bdi>bbc.example</bdi>' in page
    assert "><bdi>xn--pple-43d.example</bdi></a>" in page
    assert "><bdi>xn--bbc-4q0a.example</bdi></a>" in page
    assert "\u0430pple" not in page.split("<main>")[1].replace('href="https://\u0430pple', "")
    atom_links = ET.fromstring(publish.render_atom(CONFIG, FEED, [story])).iter(
        "{http://www.w3.org/2005/Atom}link"
    )
    titles = {link.get("title") for link in atom_links if link.get("rel") == "related"}
    assert titles == {"xn--pple-43d.example", "xn--bbc-4q0a.example"}
