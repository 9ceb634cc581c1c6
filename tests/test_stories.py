"""Per-feed selection: topics, languages, include and exclude regexes, then the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.stories import for_feed
from feeds.types import FeedConfig, SourceRef, Story

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
