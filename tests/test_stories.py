"""Per-feed selection: topics, languages, include and exclude regexes, then the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.store import open_store
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


def test_select_reads_the_bodies_of_the_stories_it_shows(tmp_path: Path) -> None:
    src = SourceConfig(url="https://a.example/feed", name="أ")
    store = open_store(str(tmp_path / "feeds.db"))
    store.sync_sources([src])
    arts = [
        Article(
            id=f"a{n}",
            source_url=src.url,
            guid=None,
            url=f"https://a.example/{n}",
            canonical_url=f"https://a.example/{n}",
            title=f"خبر {n}",
            summary_html="<p>ملخص</p>",
            content_html=f"<p>نص الخبر {n}</p>",
            published=NOW - timedelta(hours=n),
            date_source=DateSource.FEED,
            first_seen=NOW,
            language="ar",
            title_key=f"خبر {n}",
            text_key=f"خبر {n}",
            content_hash=f"h{n}",
        )
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
