"""Per-feed selection: topics, languages, include and exclude regexes, then the limit."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.store import Store, open_store
from feeds.stories import for_feed, select
from feeds.types import (
    Article,
    Config,
    DateSource,
    FeedConfig,
    SourceConfig,
    SourceRef,
    Story,
)

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def story(n: int, title: str, summary: str, topics: tuple[str, ...], lang: str = "ar") -> Story:
    when = NOW - timedelta(hours=n)
    return Story(
        id=f"s{n}", title=title, url=f"https://a.example/{n}", summary_html=summary,
        content_html="", published=when, updated=when, language=lang,
        sources=(SourceRef(f"https://a.example/{n}", "أ"),), topics=topics,
    )  # fmt: skip


STORIES = [
    story(1, "جوجل تطلق Gemini 4", "<p>نموذج &amp; ذكاء اصطناعي</p>", ("ai",)),
    story(2, "سامسونج تكشف Galaxy S27", "<p>هاتف <b>جديد</b></p>", ("mobile",)),
    story(3, "عرض خاص", "<p>محتوى Sponsored</p>", ("mobile",)),
    story(4, "Apple ships iOS 26.2", "<p>update</p>", ("apps", "mobile"), lang="en"),
    story(5, "إعلان: تخفيضات", "<p>متجر</p>", ("ai",)),
]


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        pytest.param(FeedConfig("all", "t"), ["s1", "s2", "s3", "s4", "s5"], id="everything"),
        pytest.param(FeedConfig("ai", "t", topics=("ai",)), ["s1", "s5"], id="topics"),
        pytest.param(FeedConfig("ar", "t", languages=("ar",)), ["s1", "s2", "s3", "s5"], id="lang"),
        pytest.param(
            FeedConfig("x", "t", exclude=("(?i)sponsored", "إعلان")),
            ["s1", "s2", "s4"],
            id="exclude-matches-the-plain-summary-too",
        ),
        pytest.param(FeedConfig("x", "t", include=("جديد",)), ["s2"], id="include-tags-stripped"),
        pytest.param(FeedConfig("x", "t", include=("& ذكاء",)), ["s1"], id="entities-decoded"),
        pytest.param(FeedConfig("x", "t", topics=("mobile",), limit=2), ["s2", "s3"], id="limit"),
    ],
)
def test_for_feed(feed: FeedConfig, expected: list[str]) -> None:
    assert [s.id for s in for_feed(feed, STORIES)] == expected


DODGES = [
    ("zero-width-space", "ca\u200bsino"),
    ("soft-hyphen", "ca\u00adsino"),
    ("cyrillic-a", "c\u0430sino"),
    ("cyrillic-and-greek", "\u0441\u0430\u0455\u03b9n\u03bf"),
    ("zwnj-and-word-joiner", "cas\u200ci\u2060no"),
    ("full-width", "\uff43\uff41\uff53\uff49\uff4e\uff4f"),
    ("mathematical-bold", "\U0001d41c\U0001d41a\U0001d42c\U0001d422\U0001d427\U0001d428"),
    ("bidi-isolated", "\u2066casino\u2069"),
]


@pytest.mark.parametrize("word", [w for _, w in DODGES], ids=[i for i, _ in DODGES])
@pytest.mark.parametrize("where", ["title", "summary"])
def test_filters_see_through_invisible_and_look_alike_letters(word: str, where: str) -> None:
    dodge = story(6, f"أفضل {word} اليوم", "<p>عرض</p>", ("ai",))
    if where == "summary":
        dodge = dataclasses.replace(dodge, title="عرض", summary_html=f"<p>أفضل {word}</p>")
    assert for_feed(FeedConfig("x", "t", exclude=("casino",)), [*STORIES, dodge])[-1].id == "s5"
    assert [s.id for s in for_feed(FeedConfig("x", "t", include=("(?i)CASINO",)), [dodge])] == [
        "s6"
    ]


@pytest.mark.parametrize(
    ("pattern", "title"),
    [
        ("казино", "казино онлайн"),  # a Cyrillic pattern still names Cyrillic text
        ("إعلان", "إعلان: تخفيضات"),
        ("\uff08ad\uff09", "(ad) عرض"),  # a full-width parenthesis stays a literal
        ("ﬁnance", "finance news"),
    ],
)
def test_patterns_are_folded_like_the_text(pattern: str, title: str) -> None:
    matched = story(7, title, "<p>x</p>", ("ai",))
    assert for_feed(FeedConfig("x", "t", include=(pattern,)), [matched]) == [matched]


def article(aid: str, src: SourceConfig, n: int, when: datetime, title: str, body: str) -> Article:
    return Article(
        id=aid, source_url=src.url, guid=None, url=f"{src.url}/{n}",
        canonical_url=f"{src.url}/{n}", title=title, summary_html="<p>ملخص</p>",
        content_html=body, published=when, date_source=DateSource.FEED, first_seen=NOW,
        language="ar", title_key=f"خبر {n}", text_key=f"خبر {n}", content_hash=aid,
    )  # fmt: skip


def test_select_reads_the_bodies_of_the_stories_it_shows(tmp_path: Path) -> None:
    src = SourceConfig(url="https://a.example/feed", name="أ")
    store = open_store(str(tmp_path / "feeds.db"))
    store.sync_sources([src])
    arts = [
        article(f"a{n}", src, n, NOW - timedelta(hours=n), f"خبر {n}", f"<p>نص الخبر {n}</p>")
        for n in range(1, 4)
    ]
    store.save_articles(arts, NOW)
    store.assign([(a.id, "s" + a.id, True) for a in arts], NOW)
    feeds = (FeedConfig("all", "t"), FeedConfig("one", "t", limit=1))
    config = Config(
        path="", title="t", base_url="https://x.example/", output_dir=str(tmp_path),
        database=str(tmp_path / "feeds.db"), sources=(src,), feeds=feeds,
    )  # fmt: skip
    shown = {feed.slug: stories for feed, stories in select(config, store)}
    assert [s.id for s in shown["all"]] == ["sa1", "sa2", "sa3"]
    assert [s.id for s in shown["one"]] == ["sa1"]
    for story in shown["all"]:
        assert story.content_html == f"<p>نص الخبر {story.id[2:]}</p>"
        assert story.article_id == story.id[1:]


def _many(tmp_path: Path) -> tuple[Store, tuple[SourceConfig, SourceConfig]]:
    """A store of 700 stories: most from two sources (the later copy from the other),
    several sharing one time, and a rare topic only among the oldest."""
    one = SourceConfig(url="https://a.example/feed", name="أ")
    two = SourceConfig(url="https://b.example/feed", name="ب")
    store = open_store(str(tmp_path / "many.db"))
    store.sync_sources([one, two])
    arts, assigned, topics = [], [], {}
    for n in range(700):
        when = NOW - timedelta(minutes=10 * (n // 3))  # three stories share each time
        for k, (src, late) in enumerate(((one, 0), (two, 7))):
            if k and n % 2:
                continue
            aid = f"a{n}-{k}"
            when_k = when + timedelta(minutes=late)
            arts.append(article(aid, src, n, when_k, f"خبر {n} {k}", f"<p>{n}</p>"))
            assigned.append((aid, f"s{n:04d}", k == 0))
        topics[f"s{n:04d}"] = (("space",) if n > 650 else ("ai",), True)
    store.save_articles(arts, NOW)
    store.assign(assigned, NOW)
    store.set_topics(topics)
    return store, (one, two)


def _newest(numbers: range, limit: int, priority: int) -> list[str]:
    """The stories of `_many` numbered `numbers` that a feed of `limit` shows: newest
    representative first, ties to the larger id. The later copy (even numbers, from the
    second source) represents its story only when that source has a priority."""

    def published(n: int) -> datetime:
        late = 7 if priority and n % 2 == 0 else 0
        return NOW - timedelta(minutes=10 * (n // 3) - late)

    return [f"s{n:04d}" for n in sorted(numbers, key=lambda n: (published(n), n), reverse=True)][
        :limit
    ]


@pytest.mark.parametrize("priority", [0, 5])
def test_select_picks_each_feeds_newest_from_the_whole_pool(tmp_path: Path, priority: int) -> None:
    store, (one, two) = _many(tmp_path)
    feeds = {
        "all": (FeedConfig("all", "t", limit=30), range(700)),
        "ai": (FeedConfig("ai", "t", topics=("ai",), limit=49), range(651)),
        "space": (FeedConfig("space", "t", topics=("space",), limit=10), range(651, 700)),
        "none": (FeedConfig("none", "t", include=("لا يوجد",), limit=5), range(0)),
        # 51 stories for 50 places, the last three sharing one time
        "edge": (FeedConfig("edge", "t", include=("^خبر (1[5-9][0-9]|200) ",), limit=50),
                 range(150, 201)),
    }  # fmt: skip
    config = Config(
        path="", title="t", base_url="https://x.example/", output_dir=str(tmp_path),
        database="", sources=(one, dataclasses.replace(two, priority=priority)),
        feeds=tuple(feed for feed, _ in feeds.values()),
    )  # fmt: skip
    shown = {f.slug: got for f, got in select(config, store)}
    for slug, (feed, numbers) in feeds.items():
        assert [s.id for s in shown[slug]] == _newest(numbers, feed.limit, priority), slug
    # Of the three sharing the oldest time, the smallest id is left out; with the
    # priority, 198's later copy represents it and the odd 199 is the oldest alone.
    left_out = {f"s{n:04d}" for n in range(150, 201)} - {s.id for s in shown["edge"]}
    assert left_out == {"s0199" if priority else "s0198"}
    for story in shown["all"]:
        n = int(story.id[1:])
        late = int(bool(priority and n % 2 == 0))
        assert (story.article_id, story.content_html) == (f"a{n}-{late}", f"<p>{n}</p>")
