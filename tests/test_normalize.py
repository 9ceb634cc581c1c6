"""The normalize stage: tables under tests/data/normalize/, property tests, and Article
building (dates, identity, links)."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds import markup as bounds
from feeds import normalize
from feeds.normalize import (
    article,
    canonical_url,
    clean_text,
    clean_title,
    clean_url,
    sanitize_html,
)
from feeds.types import DateSource, ParsedEntry, ParsedFeed, SourceConfig

DATA = Path(__file__).parent / "data" / "normalize"
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def table(name: str) -> list[Any]:
    rows: list[Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return rows


def ids(rows: list[Any]) -> list[str]:
    return [r["id"] if isinstance(r, dict) else r[0] for r in rows]


# --------------------------------------------------------------------------- sanitize


class _Audit(HTMLParser):
    """Collects what a browser would see: tags, attributes and URL values."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]

    handle_startendtag = handle_starttag


def audit(markup: str) -> _Audit:
    a = _Audit()
    a.feed(markup)
    a.close()
    return a


def assert_safe(markup: str) -> None:
    a = audit(markup)
    assert not set(a.tags) & {"script", "style", "iframe", "object", "embed", "form", "input"}
    assert not [k for k, _ in a.attrs if k.startswith("on") or k == "style"]
    for key, value in a.attrs:
        if key in ("href", "src"):
            assert value.startswith(("https://", "http://", "mailto:")), value
        if key == "rel":
            assert value == "noopener noreferrer"


SANITIZE = table("sanitize")


@pytest.mark.parametrize("case", SANITIZE, ids=ids(SANITIZE))
def test_sanitize(case: dict[str, Any]) -> None:
    out = sanitize_html(case["html"], case["base"])
    assert_safe(out)
    if "equals" in case:
        assert out == case["equals"]
    for needle in case.get("contains", []):
        assert needle in out
    for needle in case.get("absent", []):
        assert needle not in out.lower()


FOOTER = '<p>The post <a href="https://s.example/p">t</a> appeared first on x.</p>'


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (f"<p>a</p>{FOOTER}", "<p>a</p>"),
        (f"<div><p>a</p>{FOOTER}</div>", "<div><p>a</p></div>"),
    ],
    ids=["footer-at-top-level", "footer-inside-a-block"],
)
def test_a_footer_cut_leaves_well_formed_markup(html: str, expected: str) -> None:
    assert sanitize_html(html, None) == expected
    assert sanitize_html(expected, None) == expected  # nothing left open to close


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<p>أعلنت آبل.</p><p>اقرأ أيضًا: <a href="https://x.example/2">سامسونج تطلق'
            " جالاكسي</a></p><p>وقالت الشركة.</p>",
            "<p>أعلنت آبل.</p><p>وقالت الشركة.</p>",
        ),
        (
            "<p>أعلنت آبل.</p><p><strong>شاهد أيضا:</strong></p><ul><li>"
            '<a href="https://x.example/3">خبر</a></li><li><a href="https://x.example/4">آخر'
            "</a></li></ul><p>وقالت الشركة.</p>",
            "<p>أعلنت آبل.</p><p>وقالت الشركة.</p>",
        ),
        (  # prose that starts with the phrase stays, links and all
            '<p>اقرأ أيضا ما قاله الوزير عن <a href="https://x.example/5">الخطة</a> في'
            " المؤتمر الصحفي أمس</p>",
            '<p>اقرأ أيضا ما قاله الوزير عن <a href="https://x.example/5">الخطة</a> في'
            " المؤتمر الصحفي أمس</p>",
        ),
        (  # an item holding a list is left whole, never cut at its inner </li>
            '<ul><li>اقرأ أيضا:<ul><li><a href="https://x.example/6">خبر</a></li></ul></li>'
            "<li>نص المقال يمضي بعد القائمة بما يكفي</li></ul>",
            '<ul><li>اقرأ أيضا:<ul><li><a href="https://x.example/6">خبر</a></li></ul></li>'
            "<li>نص المقال يمضي بعد القائمة بما يكفي</li></ul>",
        ),
    ],
    ids=["one-link", "heading-and-list", "prose", "nested-list"],
)
def test_related_links_inside_an_article_go(html: str, expected: str) -> None:
    out = sanitize_html(html, None).replace(' rel="noopener noreferrer"', "")
    assert out == expected


@pytest.mark.parametrize(
    "html",
    ['<img alt="صورة">', '<img src="">', '<img src="javascript:alert(1)">', '<img src="data:,x">'],
)
def test_a_picture_without_a_usable_source_goes(html: str) -> None:
    # It became <img src="https://tech.example/post/">, the article page as a picture
    # (an empty src resolved against the base), or a bare <img>, a broken icon.
    assert sanitize_html(f"<p>نص{html}</p>", "https://tech.example/post/") == "<p>نص</p>"


def test_links_get_rel_noopener() -> None:
    out = sanitize_html('<a href="https://x.example/">x</a>', None)
    assert ("rel", "noopener noreferrer") in audit(out).attrs


@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcijmprstvx:;&#()")), max_size=80))
@settings(max_examples=200, deadline=None)
def test_sanitize_never_emits_script_or_javascript(noise: str) -> None:
    for markup in (noise, f"<scr{noise}ipt>", f"<a href='java{noise}script:x'>{noise}</a>"):
        out = sanitize_html(markup + "<script>x</script><a href='javascript:x'>y</a>", None)
        assert "<script" not in out.lower()
        assert "javascript:" not in out.lower()


# --------------------------------------------------------------------------- URLs

CANONICAL = table("canonical_url")
CLEAN = table("clean_url")


@pytest.mark.parametrize(("name", "url", "expected"), CANONICAL, ids=ids(CANONICAL))
def test_canonical_url(name: str, url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected


def test_canonical_url_http_and_https_are_one() -> None:
    assert canonical_url("http://example.com/a") == canonical_url("https://www.example.com/a/")


@pytest.mark.parametrize(("name", "url", "expected"), CLEAN, ids=ids(CLEAN))
def test_clean_url(name: str, url: str, expected: str) -> None:
    assert clean_url(url) == expected


URL_CHARS = st.sampled_from([*"aZ09/-._~%?&=#+:@!$'()*,; ", "%d8", "%2F", "آ", "é", "e\u0301"])


@given(
    st.sampled_from(["http://", "https://", "HTTP://www."]),
    st.sampled_from(["example.com", "EXAMPLE.com:80", "ex.com:8443", "xn--mgbh0fb.example"]),
    st.lists(URL_CHARS, max_size=30).map("".join),
)
@settings(max_examples=300, deadline=None)
def test_canonical_url_is_idempotent(scheme: str, host: str, rest: str) -> None:
    once = canonical_url(f"{scheme}{host}/{rest}")
    assert canonical_url(once) == once
    assert once.startswith("https://")


# --------------------------------------------------------------------------- text

TITLES = table("clean_title")


@pytest.mark.parametrize(("name", "raw", "site", "expected"), TITLES, ids=ids(TITLES))
def test_clean_title(name: str, raw: str, site: str | None, expected: str) -> None:
    assert clean_title(raw, site) == expected


def test_clean_title_is_bounded_at_a_word() -> None:
    raw = " ".join(["كلمة"] * 100)  # 499 characters
    out = clean_title(raw, None)
    assert len(out) <= 200
    assert out.endswith("…")
    assert out.removesuffix("…").split(" ")[-1] == "كلمة"  # no word cut in half


@given(st.text())
def test_clean_text_is_idempotent_and_xml_safe(s: str) -> None:
    once = clean_text(s)
    assert clean_text(once) == once
    assert not FORBIDDEN.search(once)
    assert once == once.strip()


# --------------------------------------------------------------------------- Article

NOW = datetime(2025, 9, 15, 12, 0, tzinfo=UTC)
FEED = ParsedFeed(url="https://tech.example/feed/", title="أخبار التقنية")
SOURCE = SourceConfig(url="https://tech.example/feed/", name="أخبار التقنية")


def entry(**fields: Any) -> ParsedEntry:
    base: dict[str, Any] = {
        "title": "آبل تطلق هاتفا جديدا | أخبار التقنية",
        "link": "https://tech.example/2025/09/apple/?utm_source=rss#more",
        "summary": "<p>ملخص الخبر</p>",
    }
    return ParsedEntry(**{**base, **fields})


def build(e: ParsedEntry, **kwargs: Any) -> Any:
    art = article(e, FEED, SOURCE, fetched_at=NOW, **kwargs)
    assert art is not None
    return art


def test_article_fields() -> None:
    art = build(entry(guid="https://tech.example/?p=1", categories=(" هواتف ", "هواتف")))
    assert art.title == "آبل تطلق هاتفا جديدا"
    assert art.url == "https://tech.example/2025/09/apple/"
    assert art.canonical_url == "https://tech.example/2025/09/apple"
    assert art.language == "ar"
    assert art.summary_html == "<p>ملخص الخبر</p>"
    assert art.content_html == art.summary_html  # no content: the summary stands in
    assert art.categories == ("هواتف",)
    assert art.title_key and art.text_key.startswith(art.title_key)
    assert re.fullmatch(r"a[0-9a-f]{24}", art.id)
    assert art.first_seen == NOW


def test_an_aggregators_item_loses_its_outlets_name_and_its_link_only_excerpt() -> None:
    # Google News: each title ends with its outlet's name, which `<source>` gives, and
    # the description is the headline linked, then the name again.
    gn = ParsedFeed(url="https://news.google.com/rss/search?q=x", title="x - أخبار Google")
    source = SourceConfig(url=gn.url, name="جوجل نيوز")
    headline = "سامسونج تكشف عن جالاكسي S27 ألترا"
    linked = (
        f'<a href="https://news.google.com/rss/articles/CBMi1">{headline}</a>&nbsp;&nbsp;'
        '<font color="#6f6f6f">سكاي نيوز عربية</font>'
    )
    item = entry(title=f"{headline} - سكاي نيوز عربية", outlet="سكاي نيوز عربية", summary=linked)
    art = article(item, gn, source, fetched_at=NOW)
    assert art is not None
    assert (art.title, art.summary_html, art.content_html) == (headline, "", "")
    said = replace(item, summary="<p>كشفت سامسونج اليوم عن هاتفها الجديد.</p>")
    told = article(said, gn, source, fetched_at=NOW)
    assert told is not None
    assert (told.title, told.summary_html) == (
        headline,
        "<p>كشفت سامسونج اليوم عن هاتفها الجديد.</p>",
    )


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        pytest.param(
            "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=68F1&url=https%3a%2f%2f"
            "www.skynewsarabia.com%2ftechnology%2f1780000-%d8%a3%d8%a8%d9%84&c=1234&mkt=ar-xa",
            "https://www.skynewsarabia.com/technology/1780000-أبل",
            id="bing-news",
        ),
        pytest.param(
            "https://www.google.com/url?rct=j&sa=t&url=https://aitnews.com/2026/12/07/x/&ct=ga",
            "https://aitnews.com/2026/12/07/x/",
            id="google-alerts",
        ),
        pytest.param(
            "https://www.google.com/url?q=javascript:alert(1)",
            "https://www.google.com/url?q=javascript:alert(1)",
            id="no-http-target-stays",
        ),
        pytest.param(
            "https://a.example/go?url=https://b.example/",
            "https://a.example/go?url=https://b.example/",
            id="not-a-known-redirector",
        ),
    ],
)
def test_a_click_trackers_link_is_its_articles_own(link: str, expected: str) -> None:
    # Bing News and Google Alerts feeds link every item through a redirector: readers
    # were sent through the tracker, and another source's copy of the article had
    # another link, so the exact tier could not join them.
    art = build(entry(link=link))
    assert art.url == expected
    assert art.canonical_url == canonical_url(expected)


def test_a_title_loses_its_feeds_name_when_the_source_is_named_otherwise() -> None:
    named = SourceConfig(url=FEED.url, name="موقعي المفضل")
    art = article(entry(), FEED, named, fetched_at=NOW)
    assert art is not None and art.title == "آبل تطلق هاتفا جديدا"


def test_feed_date_is_used() -> None:
    when = datetime(2025, 9, 15, 7, 30, tzinfo=UTC)
    art = build(entry(published=when, published_raw="Mon, 15 Sep 2025 10:30:00 +0300"))
    assert (art.published, art.date_source) == (when, DateSource.FEED)


def test_ast_quirk_uses_the_arabic_parser() -> None:
    # feedparser reads AST as Atlantic time (UTC-4): 14:30 UTC, 7 hours late.
    wrong = datetime(2025, 9, 15, 14, 30, tzinfo=UTC)
    art = build(entry(published=wrong, published_raw="Mon, 15 Sep 2025 10:30:00 AST"))
    assert art.published == datetime(2025, 9, 15, 7, 30, tzinfo=UTC)
    assert art.date_source is DateSource.FALLBACK


@pytest.mark.parametrize(("zone", "hours"), [("EET", 2), ("EEST", 3), ("CET", 1), ("MSK", 3)])
def test_a_zone_feedparser_reads_as_utc_is_read_with_its_offset(zone: str, hours: int) -> None:
    # feedparser's table has no EET (Egypt, the Levant) or CET (the Maghreb): it gave
    # 10:30 UTC, two hours late for Cairo, and a fresh article looked to be in the future.
    raw = f"Mon, 15 Sep 2025 10:30:00 {zone}"
    parsed = feedparser.parse(
        f"<rss><channel><item><pubDate>{raw}</pubDate></item></channel></rss>"
    )
    wrong = datetime(*parsed.entries[0].published_parsed[:6], tzinfo=UTC)
    assert wrong == datetime(2025, 9, 15, 10, 30, tzinfo=UTC)
    art = build(entry(published=wrong, published_raw=raw))
    assert art.published == datetime(2025, 9, 15, 10 - hours, 30, tzinfo=UTC)


def test_arabic_date_fallback() -> None:
    art = build(entry(published_raw="الإثنين، 15 سبتمبر 2025 10:30:00 +0300"))
    assert art.published == datetime(2025, 9, 15, 7, 30, tzinfo=UTC)
    assert art.date_source is DateSource.FALLBACK


def test_updated_is_used_when_published_is_missing() -> None:
    when = datetime(2025, 9, 14, tzinfo=UTC)
    art = build(entry(updated=when, updated_raw="2025-09-14T00:00:00Z"))
    assert (art.published, art.date_source) == (when, DateSource.FEED)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, DateSource.FIRST_SEEN),
        ({"published_raw": "not a date at all"}, DateSource.FIRST_SEEN),
        (
            {"published": NOW + timedelta(days=3), "published_raw": "far future"},
            DateSource.REJECTED,
        ),
    ],
    ids=["missing", "unreadable", "future"],
)
def test_missing_bad_or_future_date_becomes_first_seen(
    fields: dict[str, Any], expected: DateSource
) -> None:
    seen = NOW - timedelta(hours=5)
    art = build(entry(**fields), first_seen=seen)
    assert (art.published, art.date_source, art.first_seen) == (seen, expected, seen)
    assert build(entry(**fields)).published == NOW  # never seen before: the fetch time


@given(
    st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    ),
    st.booleans(),
)
@settings(max_examples=100, deadline=None)
def test_published_is_never_later_than_a_day_after_the_fetch(when: datetime, seen: bool) -> None:
    first_seen = NOW - timedelta(hours=1) if seen else None
    art = build(
        entry(published=when, published_raw="Mon, 1 Jan 2001 00:00:00 GMT"), first_seen=first_seen
    )
    if datetime(1995, 1, 1, tzinfo=UTC) <= when <= NOW + timedelta(days=1):
        assert (art.published, art.date_source) == (when, DateSource.FEED)
    else:
        assert (art.published, art.date_source) == (first_seen or NOW, DateSource.REJECTED)
    assert art.published.tzinfo is UTC


def test_slightly_future_date_is_kept() -> None:
    when = NOW + timedelta(hours=3)  # clock skew, not a bogus date
    assert build(entry(published=when, published_raw="x")).published == when


def test_id_is_stable_and_follows_identity() -> None:
    with_guid = build(entry(guid="g-1"))
    assert with_guid.id == build(entry(guid="g-1", title="edited", summary="<p>x</p>")).id
    # without a guid the canonical link is the identity: tracking and www do not matter
    by_link = build(entry(link="https://www.tech.example/2025/09/apple?utm_medium=x"))
    assert by_link.id == build(entry(link="http://tech.example/2025/09/apple/")).id
    assert by_link.id != with_guid.id
    # neither guid nor link: the content hash, so an edit makes a new article
    by_hash = build(entry(link=None, summary="<p>one</p>"))
    assert by_hash.id != build(entry(link=None, summary="<p>two</p>")).id
    other_source = article(
        entry(guid="g-1"), FEED, SourceConfig(url="https://b.example/"), fetched_at=NOW
    )
    assert other_source is not None and other_source.id != with_guid.id


def test_threads_sanitizing_at_once_each_resolve_against_their_own_base() -> None:
    markup = '<p><a href="x/y">l</a><img src="i.png"></p>'
    bases = [f"https://site{i}.example/d/" for i in range(8)] + [None]

    def clean(base: str | None) -> list[str]:
        return [sanitize_html(markup, base) for _ in range(300)]

    with ThreadPoolExecutor(len(bases)) as pool:
        results = dict(zip(bases, pool.map(clean, bases), strict=True))
    for base, outs in results.items():
        want = (
            f'<p><a href="{base}x/y" rel="noopener noreferrer">l</a><img src="{base}i.png"></p>'
            if base
            else '<p><a rel="noopener noreferrer">l</a></p>'  # no base: dropped, src and all
        )
        assert set(outs) == {want}


def test_relative_link_resolved_and_non_http_dropped() -> None:
    assert build(entry(link="/2025/09/x")).url == "https://tech.example/2025/09/x"
    art = build(entry(link="javascript:alert(1)", guid=None))
    assert art.url == "" and art.canonical_url == ""


def test_content_urls_resolve_against_xml_base_then_link() -> None:
    html = '<p><img src="img/a.jpg"></p>'
    with_base = build(entry(content=html, base="https://cdn.example/posts/"))
    assert 'src="https://cdn.example/posts/img/a.jpg"' in with_base.content_html
    from_link = build(entry(content=html, link="https://tech.example/2025/09/x/"))
    assert 'src="https://tech.example/2025/09/x/img/a.jpg"' in from_link.content_html


def test_summary_excerpt_from_content() -> None:
    words = " ".join(["كلمة"] * 200)
    art = build(entry(summary=None, content=f"<p>{words}</p><script>x</script>"))
    assert art.content_html.startswith("<p>كلمة")
    assert "<" not in art.summary_html and len(art.summary_html) <= 300
    assert art.summary_html.endswith("…")


def test_title_from_text_when_missing() -> None:
    art = build(entry(title=None, summary="<p>نص بلا عنوان</p>"))
    assert art.title == "نص بلا عنوان"


def test_nothing_to_show_is_none() -> None:
    empty = ParsedEntry(title="  ", summary="<script>x</script>", link="ftp://x.example/")
    assert article(empty, FEED, SOURCE, fetched_at=NOW) is None


def test_english_item_language() -> None:
    art = build(entry(title="Apple launches a new phone", summary="<p>Details inside</p>"))
    assert art.language == "en"


# Display text keeps its spelling: diacritics, hamza forms, ة and ى, tatweel, Arabic-Indic
# digits and Arabic punctuation belong to the matching key's folding, never to titles.
_DISPLAY_WORDS = [
    "أعلنت",
    "إنفيديا",
    "آبل",
    "مُحدَّثة",
    "الذكاءُ",
    "مستوى",
    "على",
    "المكتبة",
    "ـــ",
    "٣٫٥",
    "١٥",
    "«عاجل»",
    "،",
    "؟",
    "؛",
    "iPhone",
    "17",
    "هٰذا",
    "ٱلتقنية",
    "شركة",
]


@given(st.lists(st.sampled_from(_DISPLAY_WORDS), min_size=1, max_size=20).map(" ".join))
def test_normalizing_never_alters_clean_display_text(text: str) -> None:
    assert clean_text(text) == text
    assert clean_title(text, None) == text
    assert clean_title(text, "موقع آخر") == text


# --------------------------------------------------------------------------- bounds


def _balanced(markup: str) -> bool:
    """Every element of `markup` closed, in order (void elements aside)."""
    stack: list[str] = []
    for closing, name in re.findall(r"<(/?)([a-z][a-z0-9]*)[^>]*>", markup):
        if name in ("br", "hr", "img", "wbr"):
            continue
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def _depth(markup: str) -> int:
    depth = deepest = 0
    for closing, name in re.findall(r"<(/?)([a-z][a-z0-9]*)[^>]*>", markup):
        if name not in ("br", "hr", "img", "wbr"):
            depth += -1 if closing else 1
            deepest = max(deepest, depth)
    return deepest


@pytest.mark.parametrize(
    ("markup", "max_chars"),
    [
        ("<div>" * 10_000 + "نص عميق" + "</div>" * 10_000, bounds.MAX_HTML),
        ("<p>" + "كلمة " * 200 + "</p>" * 1 + ("<p>" + "كلمة " * 200 + "</p>") * 5_000, 200_000),
        ("<div><p>" + "كلمة " * 100_000 + "</p></div>", 50_000),
        ("<ul>" + "<li><b>بند</b> <i>مهم</i><br>سطر</li>" * 20_000 + "</ul>", 100_000),
    ],
    ids=["nested-10000", "description-5MB", "one-huge-paragraph", "huge-list"],
)
def test_sanitized_markup_is_bounded_in_depth_and_size(markup: str, max_chars: int) -> None:
    out = bounds.bound_markup(normalize.sanitize_html(markup, "https://a.example/"), max_chars)
    assert len(out) <= max_chars + 2_000
    assert _depth(out) <= bounds.MAX_DEPTH
    assert _balanced(out)
    assert "كلمة" in out or "نص عميق" in out or "بند" in out  # the text is kept
    if len(markup) > max_chars:
        assert out.endswith("<p>…</p>")  # a reader sees that the rest was cut


def _raw_depth(markup: str) -> int:
    """How deep `markup`'s elements nest, counting the end tags that close the element on
    top (others are ignored, as an HTML parser ignores them)."""
    stack: list[str] = []
    deepest = 0
    for closing, name in re.findall(r"<(/?)([a-z][a-z0-9]*)[^>]*>", markup):
        if name in ("br", "hr", "img", "wbr"):
            continue
        if not closing:
            stack.append(name)
            deepest = max(deepest, len(stack))
        elif stack and stack[-1] == name:
            stack.pop()
    return deepest


@pytest.mark.parametrize(
    "markup",
    [
        "<div>" * 500_000 + "نص عميق" + "</div>" * 500_000,
        "<span>" * 100_000 + "<div>نص عميق" * 100_000,
        "<ul><li>" * 50_000 + "نص عميق",
        "<div></zz>" * 100_000 + "نص عميق",  # stray end tags do not count it shallower
    ],
    ids=["nested-div-500000", "spans-then-divs", "nested-lists", "stray-end-tags"],
)
def test_raw_markup_nests_no_deeper_than_the_sanitizer_takes_in_time(markup: str) -> None:
    # html5ever, under nh3, looks through its open elements at every block's start: a
    # 10 MB description of nested <div>s kept a parse worker for more than ten minutes.
    out = bounds.bound_raw(markup)
    assert _raw_depth(out) <= bounds.RAW_DEPTH
    assert "نص عميق" in out  # the text is kept
    assert out.startswith(markup[:40])  # and the shallow elements


def test_a_tag_keeps_only_its_first_attributes() -> None:
    # html5ever compares each attribute with those before it: a <p> of 500,000
    # attributes took a minute.
    markup = "<p " + " ".join(f"a{i}='v'" for i in range(100_000)) + ">نص</p><p id='x'>ب</p>"
    out = bounds.bound_raw(markup)
    first = out[: out.index(">") + 1]
    assert first.count("=") == bounds.RAW_ATTRIBUTES
    assert first.startswith("<p a0='v' a1='v'") and first.endswith(
        f"a{bounds.RAW_ATTRIBUTES - 1}='v'>"
    )
    assert out.endswith(">نص</p><p id='x'>ب</p>")


def test_ordinary_long_markup_is_not_rewritten_before_sanitizing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    article = "<p>فقرة <a href='https://a.example/?id=1&amp;x=2'>رابط</a> <b>مهم</b></p>"
    long = "<div>" + article * 1_000 + "</div>"  # 3,000 start tags: past the quick count
    unclosed = "<p>فقرة" * 3_000  # implied ends keep a run of <p> shallow
    assert bounds.bound_raw(article) is article
    assert bounds.bound_raw(long) == long
    assert bounds.bound_raw(unclosed) == unclosed
    given: list[str] = []
    real = normalize._nh3

    def nh3(markup: str, base: str | None) -> str:
        given.append(markup)
        return real(markup, base)

    monkeypatch.setattr(normalize, "_nh3", nh3)
    normalize.sanitize_html("<div>" * 5_000 + "نص" + "</div>" * 5_000, None)
    assert _raw_depth(given[0]) <= bounds.RAW_DEPTH  # what the sanitizer was given


def test_an_ordinary_article_is_left_as_it_is() -> None:
    markup = "<div><p>نص <a href='https://a.example/x'>رابط</a></p><ul><li>بند</li></ul></div>"
    clean = normalize.sanitize_html(markup, "https://a.example/")
    assert bounds.bound_markup(clean) == clean
    assert "<p>…</p>" not in clean


def test_a_five_megabyte_description_is_not_published_whole() -> None:
    body = "<p>" + "كلمة " * 200 + "</p>"
    art = build(entry(summary=body * 5_000, content=body * 5_000))
    assert len(art.content_html) <= bounds.MAX_HTML + 2_000
    assert len(art.summary_html) <= bounds.MAX_HTML + 2_000


def test_links_in_content_lose_their_tracking_parameters_and_keep_the_rest() -> None:
    """Issue 21, item cleaning: utm_* and click ids go from content links, as from the
    item's own link; other parameters, their order and the fragment stay."""
    clean = normalize.sanitize_html(
        '<p><a href="https://a.example/p?id=3&amp;utm_source=rss&amp;UTM_Medium=feed#sec">'
        'y</a> <a href="https://b.example/?fbclid=1">z</a> '
        '<a href="https://c.example/?q=1&amp;x=2">w</a></p>',
        None,
    )
    hrefs = re.findall(r'href="([^"]*)"', clean)
    assert hrefs == [
        "https://a.example/p?id=3#sec",
        "https://b.example/",
        "https://c.example/?q=1&amp;x=2",
    ]
    untouched = '<p><a href="https://c.example/?q=1&amp;campaign=2">w</a></p>'
    assert "q=1&amp;campaign=2" in normalize.sanitize_html(untouched, None)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            "<p>أعلنت الشركة عن هاتفها الجديد [&hellip;]</p>",
            "<p>أعلنت الشركة عن هاتفها الجديد…</p>",
        ),
        ("نص المقتطف [...]", "نص المقتطف…"),
        ("<p>قائمة [...] في الوسط.</p>", "<p>قائمة [...] في الوسط.</p>"),  # only at the end
    ],
)
def test_a_wordpress_cut_mark_becomes_an_ellipsis(raw: str, clean: str) -> None:
    assert normalize.sanitize_html(raw, None) == clean


# --------------------------------------------------------------------------- one feed's items

_BOILER = (
    "تابعوا آخر أخبار التقنية والهواتف الذكية والتطبيقات على موقعنا واشتركوا في نشرتنا "
    "البريدية لتصلكم أحدث المراجعات أولا بأول"
)
_OWN = (
    ("سامسونج تطلق هاتفا قابلا للطي", "يأتي الهاتف بشاشة أكبر وبطارية تدوم يومين"),
    ("إنفيديا تكشف عن شريحة جديدة للذكاء الاصطناعي", "تعد الشريحة بأداء أعلى بنسبة كبيرة"),
    ("ناسا تؤجل إطلاق مهمتها إلى القمر", "أرجعت الوكالة التأجيل إلى عطل في الصمام"),
)


def _items(texts: list[str], **fields: Any) -> list[ParsedEntry]:
    return [
        entry(guid=f"g{n}", link=f"https://tech.example/{n}", title=title,
              summary=f"<p>{text}</p>", **fields)
        for n, (title, text) in enumerate(zip([t for t, _ in _OWN], texts, strict=True))
    ]  # fmt: skip


def test_a_run_of_words_a_feed_repeats_under_each_title_is_not_matched_on() -> None:
    entries = _items([f"{own} {_BOILER}" for _, own in _OWN])
    made = normalize.articles(entries, FEED, SOURCE, fetched_at=NOW)
    for art, (title, own) in zip(made, _OWN, strict=True):
        # the item's own words, without the boilerplate's
        assert art.text_key == f"{normalize.match_key(title)} {normalize.match_key(own)}"
        assert _BOILER.split()[0] in art.summary_html  # and still shown


def test_a_text_a_feed_gives_every_item_leaves_the_title_to_match_on() -> None:
    entries = _items(["اقرأ المزيد"] * len(_OWN))  # too short to be a run: the whole text
    made = normalize.articles(entries, FEED, SOURCE, fetched_at=NOW)
    assert [a.text_key for a in made] == [normalize.match_key(t) for t, _ in _OWN]


def test_items_that_share_no_run_are_made_as_one_at_a_time() -> None:
    entries = _items([own for _, own in _OWN])
    made = normalize.articles(entries, FEED, SOURCE, fetched_at=NOW)
    one = [normalize.article(e, FEED, SOURCE, fetched_at=NOW) for e in entries]
    assert made == one


def test_items_sharing_a_guid_or_a_link_get_ids_of_their_own() -> None:
    by_guid = [replace(e, guid="https://tech.example/") for e in _items(["نص"] * 3)]
    by_link = [replace(e, guid=None, link="https://tech.example/") for e in _items(["نص"] * 3)]
    for entries in (by_guid, by_link):
        made = normalize.articles(entries, FEED, SOURCE, fetched_at=NOW)
        assert len({a.id for a in made}) == 3
    assert all(a.guid is None for a in normalize.articles(by_guid, FEED, SOURCE, fetched_at=NOW))
    twice = _items(["نص"] * 3)[:1] * 2  # one item listed twice is one article
    assert len({a.id for a in normalize.articles(twice, FEED, SOURCE, fetched_at=NOW)}) == 1


def test_a_title_a_feed_gives_different_items_is_a_label_not_matched_on() -> None:
    labelled = [replace(e, title="منشور جديد على القناة") for e in _items([o for _, o in _OWN])]
    made = normalize.articles(labelled, FEED, SOURCE, fetched_at=NOW)
    for art, (_, own) in zip(made, _OWN, strict=True):
        assert art.title_key == ""
        assert art.text_key == normalize.match_key(own)  # the text alone, no label
        assert art.title == "منشور جديد على القناة"  # what is shown is the feed's
    # One article posted twice under its title, its text edited a little, is no label;
    # nor is one title at one link.
    text = "يأتي الهاتف بشاشة أكبر وبطارية تدوم يومين وسعر أقل من الجيل السابق"
    reposted = _items([text, f"{text} بحسب الشركة", "نص"])[:2]
    reposted = [replace(e, title=_OWN[0][0]) for e in reposted]
    same_link = [replace(e, link="https://tech.example/1") for e in labelled]
    for entries in (reposted, same_link):
        made = normalize.articles(entries, FEED, SOURCE, fetched_at=NOW)
        assert all(a.title_key for a in made)


def test_presentation_forms_are_shown_as_the_letters_they_draw() -> None:
    glyphs = "\ufe8d\ufedf\ufecc\ufeae\ufe91\ufef4\ufe94"  # العربية, one glyph per letter
    item = entry(title=f"{glyphs} \ufef7\ufee5", summary=f"<p>{glyphs} أولا</p>")
    art = normalize.article(item, FEED, SOURCE, fetched_at=NOW)
    assert art is not None
    assert art.title == "العربية لأن"
    assert art.summary_html == "<p>العربية أولا</p>"


def test_sanitized_text_holds_no_direction_override() -> None:
    # An override reverses the rest of a summary in a reader's list ("moc.knab" on
    # screen for "bank.com"), whether written as the character or as a reference.
    summary = "<p>\u202eزوروا bank.com الآن</p>"
    link = '<a href="https://tech.example/a" title="&#x202E;تنبيه">&#8238;رابط</a>'
    content = f"<p>{link} \u2067S25\u2069</p>"
    art = build(entry(summary=summary, content=content))
    for markup in (art.summary_html, art.content_html):
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", markup)
    assert "زوروا bank.com الآن" in art.summary_html
    assert ">رابط</a> S25</p>" in art.content_html
    assert 'title="تنبيه"' in art.content_html
    # Marks that a mixed title or text needs stay.
    kept = build(entry(summary="<p>نظارات\u200f Ray-Ban\u200e الجديدة</p>"))
    assert "\u200f" in kept.summary_html and "\u200e" in kept.summary_html


def test_a_link_or_picture_with_a_space_is_published_escaped() -> None:
    art = build(entry(link="https://tech.example/news/a b.html", image="/img/a b.jpg"))
    assert art.url == "https://tech.example/news/a%20b.html"
    assert art.image == "https://tech.example/img/a%20b.jpg"
    assert art.canonical_url == "https://tech.example/news/a%20b.html"


def test_a_link_or_guid_of_megabytes_is_not_carried_whole() -> None:
    long_link = "https://tech.example/" + "a" * normalize.MAX_URL
    made = [
        normalize.article(
            entry(title=f"عنوان {n}", link=f"{long_link}{n}", guid=f"{'g' * 10**6}{n}"),
            FEED, SOURCE, fetched_at=NOW,
        )
        for n in range(2)
    ]  # fmt: skip
    assert all(a is not None and a.url == "" and a.canonical_url == "" for a in made)
    guids = [a.guid for a in made if a is not None]
    assert all(g is not None and g.startswith("sha256:") and len(g) < 80 for g in guids)
    assert len(set(guids)) == len({a.id for a in made if a is not None}) == 2
    fits = "https://tech.example/" + "a" * (normalize.MAX_URL - 30)
    kept = normalize.article(entry(title="عنوان", link=fits), FEED, SOURCE, fetched_at=NOW)
    assert kept is not None and kept.url == fits


def test_an_item_keeps_a_bounded_list_of_bounded_tags_and_authors() -> None:
    tags = [f"وسم {n} " + "ب" * 1000 for n in range(5000)]
    item = entry(title="عنوان", categories=tags, authors=["كاتب " * 500])
    made = normalize.article(item, FEED, SOURCE, fetched_at=NOW)
    assert made is not None
    assert len(made.categories) == 100
    assert made.categories[0].startswith("وسم 0")
    assert all(len(t) <= 200 for t in (*made.categories, *made.authors))
