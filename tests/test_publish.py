"""The publish stage, checked by reading its output back with real parsers.

Stories and what a parser must read back from them live in tests/data/publish/stories.json.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feeds import publish as pub
from feeds.errors import PublishError
from feeds.publish import _common as common
from feeds.publish import _html as html_page
from feeds.types import TOPIC_LABELS, Config, FeedConfig, SourceRef, Story

DATA = Path(__file__).parent / "data" / "publish"
CASES = json.loads((DATA / "stories.json").read_text(encoding="utf-8"))["stories"]
BASE = "https://example.org/feeds/"
HUB = "https://hub.example.org/"
ALL = FeedConfig(slug="all", title="كل أخبار التقنية", description="أخبار التقنية بالعربية")
AI = FeedConfig(slug="ai", title="الذكاء الاصطناعي", topics=("ai",))
SECURITY = FeedConfig(slug="security", title="الأمن الرقمي", topics=("security",))
FEEDS = (ALL, AI, SECURITY)
CONTROL = "".join(chr(i) for i in range(32) if chr(i) not in "\t\n\r")


def _story(raw: dict[str, Any]) -> Story:
    fields = dict(raw)
    for key in ("published", "updated"):
        fields[key] = datetime.fromisoformat(fields[key])
    fields["sources"] = tuple(SourceRef(**s) for s in fields["sources"])
    for key in ("topics", "authors", "categories"):
        fields[key] = tuple(fields.get(key, ()))
    return Story(**fields)


STORIES = tuple(_story(case["story"]) for case in CASES)
BY_CASE = {case["case"]: (_story(case["story"]), case["expect"]) for case in CASES}


def _config(tmp_path: Path, hub: str | None = HUB) -> Config:
    return Config(
        path=str(tmp_path / "config.yaml"),
        title="أخبار التقنية العربية",
        base_url=BASE,
        output_dir=str(tmp_path / "public"),
        database=str(tmp_path / "feeds.db"),
        feeds=FEEDS,
        websub_hub=hub,
    )


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return _config(tmp_path)


def _for(feed: FeedConfig, stories: Sequence[Story]) -> tuple[Story, ...]:
    if not feed.topics:
        return tuple(stories)
    return tuple(s for s in stories if set(s.topics) & set(feed.topics))


def _all_feeds(stories: Sequence[Story]) -> tuple[tuple[FeedConfig, tuple[Story, ...]], ...]:
    return tuple((feed, _for(feed, stories)) for feed in FEEDS)


def _newest_first(stories: Sequence[Story]) -> list[Story]:
    return sorted(stories, key=lambda s: (-s.published.timestamp(), s.id))


# --------------------------------------------------------------------------- RSS and Atom


@pytest.mark.parametrize("render", [pub.render_rss, pub.render_atom], ids=["rss", "atom"])
def test_feed_level_fields_read_back(config: Config, render: Any) -> None:
    parsed = feedparser.parse(render(config, ALL, STORIES))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "ar"
    assert parsed.feed.title == ALL.title
    rels = {link["rel"]: link["href"] for link in parsed.feed.links}
    ext = ".rss" if render is pub.render_rss else ".atom"
    assert rels["self"] == BASE + "all" + ext
    assert rels["hub"] == HUB
    assert rels["alternate"] == BASE
    newest_change = max(s.updated for s in STORIES)
    assert parsed.feed.updated_parsed[:6] == newest_change.timetuple()[:6]


@pytest.mark.parametrize("render", [pub.render_rss, pub.render_atom], ids=["rss", "atom"])
def test_no_hub_link_without_websub_hub(tmp_path: Path, render: Any) -> None:
    parsed = feedparser.parse(render(_config(tmp_path, hub=None), ALL, STORIES))
    assert "hub" not in {link["rel"] for link in parsed.feed.links}


@pytest.mark.parametrize("render", [pub.render_rss, pub.render_atom], ids=["rss", "atom"])
def test_items_newest_first_whatever_the_input_order(config: Config, render: Any) -> None:
    parsed = feedparser.parse(render(config, ALL, tuple(reversed(STORIES))))
    expected = [pub.item_id(s) for s in _newest_first(STORIES)]
    assert [e.id for e in parsed.entries] == expected


@pytest.mark.parametrize("case", list(BY_CASE))
@pytest.mark.parametrize("render", [pub.render_rss, pub.render_atom], ids=["rss", "atom"])
def test_item_read_back(config: Config, render: Any, case: str) -> None:
    story, expect = BY_CASE[case]
    parsed = feedparser.parse(render(config, ALL, STORIES))
    entry = next(e for e in parsed.entries if e.id == pub.item_id(story))
    assert entry.title == expect["title"]
    assert entry.link == story.url
    assert entry.published_parsed[:6] == story.published.timetuple()[:6]
    tags = entry.get("tags", [])
    # Shown with its Arabic label (RSS text, Atom label); the slug stays the scheme.
    assert [t.scheme for t in tags] == [f"urn:feeds:topic:{t}" for t in story.topics]
    assert [t.get("label") or t.term for t in tags] == [TOPIC_LABELS[t] for t in story.topics]
    content = entry.content[0].value
    assert content.startswith(f'<div dir="{expect["dir"]}"')
    if expect["lang"]:
        assert f'lang="{expect["lang"]}"' in content.split(">")[0]
    for name in expect["others"]:
        assert name in content
    if expect["others"]:
        assert "تغطيات أخرى" in content
    else:
        assert "تغطيات أخرى" not in content
    assert entry.summary.startswith(f'<div dir="{expect["dir"]}"')


def test_rss_guid_is_not_a_permalink_and_english_is_marked(config: Config) -> None:
    parsed = feedparser.parse(pub.render_rss(config, ALL, STORIES))
    assert all(e.guidislink is False for e in parsed.entries)
    english = BY_CASE["english"][0]
    entry = next(e for e in parsed.entries if e.id == pub.item_id(english))
    assert entry.language == "en"


def test_atom_entry_dates_lang_and_related_links(config: Config) -> None:
    parsed = feedparser.parse(pub.render_atom(config, ALL, STORIES))
    story = BY_CASE["arabic-three-sources"][0]
    entry = next(e for e in parsed.entries if e.id == pub.item_id(story))
    assert entry.updated_parsed[:6] == story.updated.timetuple()[:6]
    related = [(ln.href, ln.title) for ln in entry.links if ln.rel == "related"]
    assert related == [(s.url, s.name) for s in story.sources[1:]]
    assert [ln.href for ln in entry.links if ln.rel == "alternate"] == [story.url]
    assert [a.name for a in entry.authors] == list(story.authors)
    assert entry.media_content[0]["url"] == story.image
    english = next(e for e in parsed.entries if e.id == pub.item_id(BY_CASE["english"][0]))
    assert english.content[0].language == "en"


def test_atom_feed_id_is_stable(config: Config) -> None:
    one = feedparser.parse(pub.render_atom(config, ALL, STORIES))
    other = feedparser.parse(pub.render_atom(config, ALL, STORIES[:1]))
    assert one.feed.id == other.feed.id == BASE + "all"


def test_no_control_characters_anywhere(config: Config) -> None:
    for render in (pub.render_rss, pub.render_atom, pub.render_json):
        text = render(config, ALL, STORIES).decode("utf-8")
        assert not set(text) & set(CONTROL), render.__name__
    assert not set(pub.render_index(config, _all_feeds(STORIES)).decode()) & set(CONTROL)


# --------------------------------------------------------------------------- JSON Feed


def test_json_feed_top_level(config: Config) -> None:
    document = json.loads(pub.render_json(config, ALL, STORIES))
    assert list(document)[:4] == ["version", "title", "home_page_url", "feed_url"]
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == ALL.title
    assert document["home_page_url"] == BASE
    assert document["feed_url"] == BASE + "all.json"
    assert document["language"] == "ar"
    assert document["hubs"] == [{"type": "WebSub", "url": HUB}]
    assert len(document["items"]) == len(STORIES)


@pytest.mark.parametrize("case", list(BY_CASE))
def test_json_feed_item(config: Config, case: str) -> None:
    story, expect = BY_CASE[case]
    items = json.loads(pub.render_json(config, ALL, STORIES))["items"]
    item = next(i for i in items if i["id"] == pub.item_id(story))
    assert item["url"] == story.url
    assert item["title"] == expect["title"]
    assert item["content_html"].startswith(f'<div dir="{expect["dir"]}"')
    assert "<" not in item["summary"] and item["summary"]
    assert datetime.fromisoformat(item["date_published"]) == story.published
    assert datetime.fromisoformat(item["date_modified"]) == story.updated
    assert item.get("tags", []) == list(story.topics)
    assert item.get("authors", []) == [{"name": a} for a in story.authors]
    assert item.get("image") == story.image
    sources = item["_feeds"]["sources"]
    assert [s["url"] for s in sources] == [s.url for s in story.sources]
    assert all(list(s)[:3] == ["url", "name", "title"] for s in sources)
    card = item["_feeds"]
    assert card["source_count"] == len(story.sources)
    assert card["last_updated"] == item["date_modified"]
    assert [t["label"] for t in card["topics"]] == [TOPIC_LABELS[t] for t in story.topics]
    assert [s["name"] for s in sources] == [s.name.replace("\b", "") for s in story.sources]


def test_a_json_feed_item_without_a_link_has_no_url(config: Config) -> None:
    # JSON Feed 1.1's `url` is a URL if there is one: "" is none, and validators refuse it.
    story = dataclasses.replace(STORIES[0], url="")
    (item,) = json.loads(pub.render_json(config, ALL, [story]))["items"]
    assert "url" not in item
    assert list(item)[:2] == ["id", "title"]


def test_plain_text_parts_words_at_cells_and_blocks() -> None:
    markup = (
        "<table><tr><th>الشاشة</th><td>6.1 بوصة</td></tr><tr><td>المعالج</td></tr></table>"
        "<h3>السعر</h3>يبدأ من 999 دولارا<p>نص</p>بعده"
    )
    assert common.plain_text(markup) == "الشاشة 6.1 بوصة المعالج السعر يبدأ من 999 دولارا نص بعده"
    assert common.plain_text("<b>سام</b>سونج <a href='x'>تطلق</a>") == "سامسونج تطلق"


def test_an_aggregators_copy_of_a_configured_outlet_is_no_other_coverage() -> None:
    # Google News lists the article of a site that is configured too, under the name the
    # operator gave that site's feed: one outlet, not "مصدران" and a link to itself.
    name, gn = "البوابة العربية للأخبار التقنية", "https://news.google.com/rss"
    refs = (
        SourceRef("https://aitnews.com/x", name, "https://aitnews.com/feed/"),
        SourceRef("https://news.google.com/a", name, gn, outlet=name),
        SourceRef("https://news.google.com/b", "سكاي نيوز عربية", gn, outlet="سكاي نيوز عربية"),
    )
    story = dataclasses.replace(STORIES[0], url=refs[0].url, sources=refs)
    assert [r.name for r in common.other_sources(story)] == ["سكاي نيوز عربية"]
    assert common.outlets(story) == 2
    # and when the aggregator's copy leads (it came first, the site's gave a title alone)
    first = dataclasses.replace(story, url=refs[1].url, sources=(refs[1], refs[0], refs[2]))
    assert [r.name for r in common.other_sources(first)] == ["سكاي نيوز عربية"]


def test_an_item_without_a_link_is_labelled_by_its_feeds_host() -> None:
    ref = SourceRef(url="", name="", source_url="https://feeds.tech.example/rss")
    assert common.source_label(ref) == "feeds.tech.example"
    assert common.source_label(dataclasses.replace(ref, name="تقنية")) == "تقنية"


def test_json_feed_ends_with_newline_and_keeps_arabic_readable(config: Config) -> None:
    data = pub.render_json(config, ALL, STORIES)
    assert data.endswith(b"}\n")
    assert "آبل".encode() in data  # ensure_ascii=False: no \\u escapes for Arabic


def test_same_id_in_every_format(config: Config) -> None:
    rss = [e.id for e in feedparser.parse(pub.render_rss(config, ALL, STORIES)).entries]
    atom = [e.id for e in feedparser.parse(pub.render_atom(config, ALL, STORIES)).entries]
    items = json.loads(pub.render_json(config, ALL, STORIES))["items"]
    assert rss == atom == [i["id"] for i in items]
    assert "urn:uuid:8b1f4c9e-2d3a-4e5f-9a0b-1c2d3e4f5a6b" in rss  # an IRI id is kept as is
    assert "urn:feeds:story:3f2a9c0d1e" in rss  # a bare id becomes one


# --------------------------------------------------------------------------- OPML


def test_opml_lists_every_published_feed(config: Config) -> None:
    root = ET.fromstring(pub.render_opml(config))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == config.title
    outlines = root.findall("body/outline")
    assert [(o.get("text"), o.get("title")) for o in outlines] == [
        (f.title, f.title) for f in FEEDS
    ]
    assert [o.get("xmlUrl") for o in outlines] == [BASE + f.slug + ".rss" for f in FEEDS]
    assert {o.get("type") for o in outlines} == {"rss"}
    assert {o.get("htmlUrl") for o in outlines} == {BASE + "index.html"}


# --------------------------------------------------------------------------- index.html


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.starts if tag == name]


def _page(data: bytes) -> _Page:
    page = _Page()
    page.feed(data.decode("utf-8"))
    page.close()
    return page


def test_index_is_an_arabic_page_with_discovery_links(config: Config) -> None:
    page = _page(pub.render_index(config, _all_feeds(STORIES)))
    assert page.tags("html") == [{"lang": "ar", "dir": "rtl"}]
    assert {"charset": "utf-8"} in page.tags("meta")
    assert any(m.get("name") == "viewport" for m in page.tags("meta"))
    alternates = {(ln["type"], ln["href"]) for ln in page.tags("link") if ln["rel"] == "alternate"}
    types = {".rss": "application/rss+xml", ".atom": "application/atom+xml"}
    types[".json"] = "application/feed+json"
    # Relative: the page works wherever output_dir is served from.
    expected = {(mime, f.slug + ext) for f in FEEDS for ext, mime in types.items()}
    assert alternates == expected
    assert all(ln.get("title") for ln in page.tags("link") if ln["rel"] == "alternate")
    # No icon configured: an empty one, so that browsers ask for no /favicon.ico.
    assert [ln["href"] for ln in page.tags("link") if ln["rel"] == "icon"] == ["data:,"]
    subscribe = {a["href"] for a in page.tags("a")}
    assert {href for _, href in expected} <= subscribe


def test_index_escapes_titles_and_runs_only_its_own_script(config: Config) -> None:
    data = pub.render_index(config, _all_feeds(STORIES))
    page = _page(data)
    assert page.tags("script") == [{}]  # inline, no src
    # Exactly the script whose hash `feeds serve` allows, once; no story's text made one.
    assert data.lower().count(b"<script") == 1
    assert f"<script>{html_page.SCRIPT}</script>".encode() in data
    digest = base64.b64encode(hashlib.sha256(html_page.SCRIPT.encode()).digest()).decode()
    assert f"sha256-{digest}" == pub.SCRIPT_HASH
    title = BY_CASE["script-in-title"][1]["title"]
    assert title in "".join(page.text)  # shown as text, not parsed as markup


def test_index_shows_stories_with_dates_and_other_sources(config: Config) -> None:
    page = _page(pub.render_index(config, _all_feeds(STORIES)))
    text = "".join(page.text)
    sections = [s["id"] for s in page.tags("section")]
    assert sections == ["_top", "all", "ai", "security"]
    story = BY_CASE["arabic-three-sources"][0]
    assert "تغطيات أخرى" in text
    hrefs = [a["href"] for a in page.tags("a")]
    for ref in story.sources[1:]:
        assert ref.url in hrefs
    times = {t["datetime"] for t in page.tags("time")}
    assert "2024-05-03T08:30:00Z" in times
    assert "3 مايو 2024" in text
    excerpts = [p for p in page.tags("p") if p.get("class") == "excerpt"]
    assert excerpts and all(p.get("dir") in {"rtl", "ltr"} for p in excerpts)


def test_a_source_that_posted_the_story_twice_is_one_outlet(config: Config) -> None:
    from feeds import telegram

    story = BY_CASE["arabic-three-sources"][0]
    lead, other, _ = story.sources
    lead = dataclasses.replace(lead, source_url="https://aitnews.example/feed/")
    other = dataclasses.replace(other, source_url="https://tech-wd.example/feed/")
    again = dataclasses.replace(lead, url="https://aitnews.example/2024/05/iphone-17-updated")
    twice = dataclasses.replace(other, url="https://tech-wd.example/iphone17-again")
    # the lead's site configured twice (its main feed and a category's): one link
    feed_too = dataclasses.replace(lead, source_url="https://aitnews.example/mobile/feed/")
    told = dataclasses.replace(story, sources=(lead, other, again, twice, feed_too))
    # Two outlets: the card counts two, and each lists the other outlet once.
    page = pub.render_index(config, ((FEEDS[0], (told,)),)).decode()
    assert "مصدران" in page and "4 مصادر" not in page
    rss = pub.render_rss(config, FEEDS[0], (told,)).decode()
    for text in (page, rss, telegram.message(told)):
        assert text.count("https://tech-wd.example/iphone17") == 1
        assert "iphone17-again" not in text and "iphone-17-updated" not in text


def test_a_description_that_repeats_the_headline_is_no_excerpt(config: Config) -> None:
    from feeds import telegram

    story = BY_CASE["arabic-three-sources"][0]
    for summary in (story.title, f"{story.title[:20]} ...", f"<p>{story.title}…</p>"):
        again = dataclasses.replace(story, summary_html=summary, content_html="")
        page = _page(pub.render_index(config, ((FEEDS[0], (again,)),)))
        assert not [p for p in page.tags("p") if p.get("class") == "excerpt"], summary
        assert telegram.message(again).count(story.title[:20]) == 1, summary
    page = _page(pub.render_index(config, ((FEEDS[0], (story,)),)))
    assert [p for p in page.tags("p") if p.get("class") == "excerpt"]


def test_the_top_stories_rank_by_outlets_not_by_reposts(config: Config) -> None:
    base = BY_CASE["arabic-three-sources"][0]
    one = SourceRef("https://one.example/a", "واحد", "https://one.example/feed")
    again = tuple(dataclasses.replace(one, url=f"{one.url}/{n}") for n in (2, 3))
    reposted = dataclasses.replace(
        base, id="s-reposted", url=one.url, title="خبر أعاده مصدر واحد", sources=(one, *again)
    )

    def two_outlets(n: int) -> Story:
        refs = tuple(
            SourceRef(f"https://x{n}{k}.example/a", f"م{k}", f"https://x{n}{k}.example/f")
            for k in (1, 2)
        )
        title = f"خبر رقم {n} من مصدرين"
        return dataclasses.replace(base, id=f"s{n}", url=refs[0].url, title=title, sources=refs)

    stories = (reposted, *(two_outlets(n) for n in range(html_page.TOP_LIMIT)))
    page = pub.render_index(config, ((FEEDS[0], stories),)).decode()
    top = page.split('id="_top"')[1].split("</section>")[0]
    assert "خبر أعاده مصدر واحد" not in top and "خبر رقم 0 من مصدرين" in top


def test_a_cut_excerpt_ends_in_an_ellipsis_not_in_punctuation(config: Config) -> None:
    story = BY_CASE["arabic-three-sources"][0]
    words = " ".join(["كلمة"] * 40)  # 199 characters, then a comma where the cut falls
    long = dataclasses.replace(story, summary_html=f"<p>{words}، {'ا' * 60} {words}</p>")
    page = _page(pub.render_index(config, ((FEEDS[0], (long,)),)))
    excerpt = next(p for p in page.tags("p") if p.get("class") == "excerpt")
    text = "".join(page.text)
    assert excerpt and "كلمة…" in text and "،…" not in text


def test_index_main_section_is_the_all_feed_even_when_listed_last(config: Config) -> None:
    feeds = tuple(reversed(_all_feeds(STORIES)))
    page = _page(pub.render_index(config, feeds))
    assert page.tags("section")[1]["id"] == "all"


def test_index_never_links_a_script_url(config: Config) -> None:
    story = dataclasses.replace(
        BY_CASE["english"][0],
        url="javascript:alert(1)",
        sources=(SourceRef(url="javascript:alert(1)", name="x"), SourceRef("data:,x", "y")),
    )
    data = pub.render_index(config, [(ALL, [story])])
    hrefs = [a["href"] or "" for a in _page(data).tags("a")]
    assert not [h for h in hrefs if h.startswith(("javascript:", "data:"))]
    # Nor a link that goes nowhere: the headline and the outlets are plain text.
    assert "#" not in hrefs and story.title in data.decode()
    content = json.loads(pub.render_json(config, ALL, [story]))["items"][0]["content_html"]
    assert "data:" not in content and 'href="#"' not in content


def test_index_shows_remote_pictures_lazily_and_without_a_referrer(config: Config) -> None:
    picture = '<p>نص</p><img src="https://cdn.example/b.jpg" alt="صورة"><p>نص</p>'
    story = dataclasses.replace(
        BY_CASE["english"][0], summary_html=picture, image="https://cdn.example/a.jpg"
    )
    data = pub.render_index(config, [(ALL, [story])])
    page = data.decode()
    assert '<meta name="referrer" content="no-referrer">' in page
    images = _page(data).tags("img")
    assert [i["src"] for i in images] == ["https://cdn.example/a.jpg"]  # the card's only
    assert images[0]["loading"] == "lazy" and images[0]["referrerpolicy"] == "no-referrer"
    assert images[0]["width"] and images[0]["height"]


# --------------------------------------------------------------------------- determinism


def test_rendering_is_deterministic(config: Config) -> None:
    shuffled = (STORIES[2], STORIES[0], STORIES[3], STORIES[1])
    for render in (pub.render_rss, pub.render_atom, pub.render_json):
        assert render(config, ALL, STORIES) == render(config, ALL, shuffled), render.__name__
    feeds = _all_feeds(STORIES)
    assert pub.render_index(config, feeds) == pub.render_index(config, _all_feeds(shuffled))


_OPML_CHILD = """
import sys
from feeds import publish
from feeds.types import Config, FeedConfig
feeds = (FeedConfig(slug="all", title="الكل"), FeedConfig(slug="ai", title="ذكاء", topics=("ai",)))
config = Config(path="c.yaml", title="أخبار", base_url="https://e.example/f/", output_dir="o",
                database="d.db", feeds=feeds)
sys.stdout.buffer.write(publish.render_opml(config))
"""


def test_opml_is_the_same_bytes_in_every_process() -> None:
    """Nothing in the OPML may depend on set or dict order under a process's hash seed."""
    outs = {
        subprocess.run(
            [sys.executable, "-c", _OPML_CHILD], capture_output=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("0", "1", "12345")
    }  # fmt: skip
    assert len(outs) == 1
    body = ET.fromstring(outs.pop()).find("body")
    assert body is not None
    assert [o.get("text") for o in body] == ["الكل", "ذكاء"]


@pytest.mark.parametrize("render", [pub.render_rss, pub.render_atom], ids=["rss", "atom"])
def test_empty_feed_is_dated_at_the_epoch(config: Config, render: Any) -> None:
    parsed = feedparser.parse(render(config, AI, ()))
    assert parsed.entries == []
    assert parsed.feed.updated_parsed[:3] == (1970, 1, 1)


def test_duplicate_story_ids_publish_once(config: Config) -> None:
    parsed = feedparser.parse(pub.render_rss(config, ALL, STORIES + STORIES[:1]))
    assert len(parsed.entries) == len(STORIES)


# --------------------------------------------------------------------------- publish


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_publish_writes_every_file_then_nothing(config: Config) -> None:
    written = pub.publish(config, _all_feeds(STORIES))
    out = Path(config.output_dir)
    names = {f.slug + ext for f in FEEDS for ext in (".rss", ".atom", ".json", ".html")}
    assert {Path(p).name for p in written} == names | {"index.html", "feeds.opml"}
    assert {p.name for p in out.iterdir()} == names | {"index.html", "feeds.opml"}
    before = _snapshot(out)
    assert pub.publish(config, _all_feeds(STORIES)) == ()
    assert _snapshot(out) == before


def test_publish_rewrites_only_what_a_new_story_changes(config: Config) -> None:
    pub.publish(config, _all_feeds(STORIES))
    newer = dataclasses.replace(
        BY_CASE["english"][0],
        id="new-one",
        title="ميتا تطلق نموذجاً جديداً",
        language="ar",
        published=datetime(2024, 5, 4, tzinfo=UTC),
        updated=datetime(2024, 5, 4, tzinfo=UTC) + timedelta(minutes=5),
        topics=("ai",),
    )
    written = {Path(p).name for p in pub.publish(config, _all_feeds((*STORIES, newer)))}
    assert written == {
        *(slug + ext for slug in ("all", "ai") for ext in (".rss", ".atom", ".json", ".html")),
        "index.html",
    }
    parsed = feedparser.parse(Path(config.output_dir, "ai.rss").read_bytes())
    assert parsed.entries[0].id == pub.item_id(newer)


def test_publish_refuses_a_slug_that_escapes_the_output_folder(config: Config) -> None:
    evil = FeedConfig(slug="../evil", title="x")
    with pytest.raises(PublishError):
        pub.publish(config, [(evil, STORIES)])
    assert not Path(config.output_dir).exists()  # nothing written: rendering comes first


def test_publish_reports_an_unusable_output_folder(tmp_path: Path) -> None:
    (tmp_path / "public").write_text("a file, not a folder")
    with pytest.raises(PublishError) as caught:
        pub.publish(_config(tmp_path), _all_feeds(STORIES))
    assert caught.value.subject is not None and "public" in caught.value.subject


# --------------------------------------------------------------------------- write_atomic


def test_write_atomic_skips_identical_bytes(tmp_path: Path) -> None:
    target = tmp_path / "f.rss"
    assert pub.write_atomic(target, b"one") is True
    mtime = target.stat().st_mtime_ns
    assert pub.write_atomic(target, b"one") is False
    assert target.stat().st_mtime_ns == mtime
    assert pub.write_atomic(str(target), b"two") is True
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["f.rss"]
    assert target.stat().st_mode & 0o444 == 0o444  # readable by the web server


def test_write_atomic_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_bytes(b"")
    target = tmp_path / "blocker" / "f.rss"
    with pytest.raises(PublishError) as caught:
        pub.write_atomic(target, b"data")
    assert caught.value.subject == str(target)
    assert isinstance(caught.value.__cause__, OSError)


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_write_atomic_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "all.json"
    target.write_bytes(b"old content")

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(PublishError, match="No space left"):
        pub.write_atomic(target, b"new content that never lands")
    monkeypatch.undo()
    assert target.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["all.json"]  # no temporary file left behind


def test_write_atomic_directory_in_the_way(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    target.mkdir()
    (target / "keep").write_bytes(b"kept")
    with pytest.raises(PublishError):
        pub.write_atomic(target, b"<html></html>")
    assert (target / "keep").read_bytes() == b"kept"
    assert sorted(os.listdir(tmp_path)) == ["index.html"]


def test_a_write_failing_part_way_leaves_every_old_file(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    pub.publish(config, _all_feeds(STORIES[:2]))
    out = Path(config.output_dir)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_fsync, synced = os.fsync, []

    def third_fails(fd: int) -> None:
        synced.append(fd)
        if len(synced) == 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", third_fails)
    with pytest.raises(PublishError, match="No space left") as raised:
        pub.publish(config, _all_feeds(STORIES))
    assert raised.value.subject == str(out / "all.json")  # the third file of the pass
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temp file either
    monkeypatch.undo()
    assert len(pub.publish(config, _all_feeds(STORIES))) > 3


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("<p>نص الملخص</p>", "نص الملخص"),
        ("<p>" + "كلمة " * 40 + "</p>", ("كلمة " * 16).strip() + "…"),
        ("", "https://news.example.com/openai-model"),
    ],
    ids=["summary", "long-summary", "url"],
)
def test_a_story_without_title_still_renders(config: Config, summary: str, expected: str) -> None:
    story = dataclasses.replace(
        BY_CASE["english"][0], title=" \x0b ", summary_html=summary, content_html=""
    )
    for render in (pub.render_rss, pub.render_atom):
        assert feedparser.parse(render(config, ALL, [story])).entries[0].title == expected
    assert json.loads(pub.render_json(config, ALL, [story]))["items"][0]["title"] == expected


def test_a_story_without_link_has_no_empty_link(config: Config) -> None:
    story = BY_CASE["english"][0]
    other = dataclasses.replace(story.sources[0], url="", name="بلا رابط")
    story = dataclasses.replace(story, url="", sources=(other,))
    atom = pub.render_atom(config, ALL, [story])
    entry = ET.fromstring(atom).find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    assert entry.findall("{http://www.w3.org/2005/Atom}link") == []
    assert b'href=""' not in atom
    assert feedparser.parse(atom).entries[0].get("links", []) == []
    rss = pub.render_rss(config, ALL, [story])
    assert b"<link></link>" not in rss and b"<link/>" not in rss.split(b"<item>")[1]


def test_publish_sweeps_stale_temp_files_of_killed_passes(config: Config) -> None:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    stale = out / ".feeds-tmp-all.rss.abc123.tmp"
    fresh = out / ".feeds-tmp-all.atom.def456.tmp"
    others = [out / ".keep", out / ".notes.txt.tmp", out / ".all.rss.abc123.tmp"]
    for path in (stale, fresh, *others):
        path.write_text("partial")
    old = time.time() - 2 * 3600
    for path in (stale, *others):
        os.utime(path, (old, old))
    pub.publish(config, [])
    assert not stale.exists()
    assert fresh.exists()  # might belong to a pass still writing
    assert all(path.read_text() == "partial" for path in others)  # not ours: an editor's
