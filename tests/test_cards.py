"""The story card: lead picture, sources with titles and dates, topics, feed icon."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from feeds import cards, config
from feeds import publish as pub
from feeds.types import Config, FeedConfig, SourceRef, Story

WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
PIC = "https://a.example/wp-content/uploads/gemini.jpg"


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        pytest.param(f'<p><img src="{PIC}" width="1024" height="576"></p>', PIC, id="sized"),
        pytest.param(f'<img src="{PIC}">', PIC, id="no-size-given"),
        pytest.param(
            f'<img src="https://a.example/x.png" width="16"><img src="{PIC}">',
            PIC,
            id="icon-skipped",
        ),
        pytest.param(
            '<img src="https://s.w.org/images/core/emoji/15/72x72/1f600.png">', None, id="emoji"
        ),
        pytest.param('<img src="data:image/png;base64,AAAA">', None, id="data-uri"),
        pytest.param("<p>لا صور</p>", None, id="none"),
        pytest.param(
            '<img src="https://a.example/p.jpg?a=1&amp;b=2">',
            "https://a.example/p.jpg?a=1&b=2",
            id="entity-decoded",
        ),
        pytest.param(
            '<img src="https://a.example/my photo&quot;1&quot;.jpg">',
            "https://a.example/my%20photo%221%22.jpg",
            id="escaped-as-a-feeds-own-picture",  # an Atom href, a JSON Feed image
        ),
    ],
)
def test_first_image(markup: str, expected: str | None) -> None:
    assert cards.first_image(markup) == expected


def test_a_declared_image_wins_over_one_in_the_markup() -> None:
    assert cards.lead_image([None, "https://b.example/m.jpg"], [f'<img src="{PIC}">']) == (
        "https://b.example/m.jpg"
    )
    assert cards.lead_image([None], ["<p>x</p>", f'<img src="{PIC}">']) == PIC


STORY = Story(
    id="s1",
    title="جوجل تطلق Gemini 4",
    url="https://a.example/1",
    summary_html="<p>ملخص</p>",
    content_html="",
    published=WHEN,
    updated=WHEN.replace(hour=11),
    language="ar",
    sources=(
        SourceRef("https://a.example/1", "البوابة", title="جوجل تطلق Gemini 4", published=WHEN),
        SourceRef(
            "https://b.example/2",
            "عالم رقمي",
            title="Gemini 4 من جوجل",
            published=WHEN.replace(hour=11),
        ),
    ),
    topics=("ai",),
    image=PIC,
    first_seen=WHEN,
)
FEED = FeedConfig("all", "كل الأخبار")


def _config(tmp_path: Path, **extra: object) -> Config:
    return Config(
        path=str(tmp_path / "c.yaml"),
        title="أخبار",
        base_url="https://example.org/f/",
        output_dir=str(tmp_path),
        database=str(tmp_path / "db"),
        feeds=(FEED,),
        **extra,  # type: ignore[arg-type]
    )


def test_rss_carries_the_picture_twice_and_the_icon(tmp_path: Path) -> None:
    data = pub.render_rss(_config(tmp_path, icon="https://example.org/i.png"), FEED, [STORY])
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    entry = parsed.entries[0]
    assert entry.media_content[0]["url"] == PIC and entry.media_thumbnail[0]["url"] == PIC
    assert parsed.feed.image["href"] == "https://example.org/i.png"
    assert entry.tags[0].term == "الذكاء الاصطناعي" and entry.tags[0].scheme.endswith(":ai")


def test_atom_has_an_enclosure_icon_and_logo(tmp_path: Path) -> None:
    cfg = _config(tmp_path, icon="https://example.org/i.png", logo="https://example.org/l.png")
    parsed = feedparser.parse(pub.render_atom(cfg, FEED, [STORY]))
    assert not parsed.bozo
    enclosures = [link for link in parsed.entries[0].links if link.rel == "enclosure"]
    assert [(e.href, e.type) for e in enclosures] == [(PIC, "image/jpeg")]
    assert parsed.feed.icon == "https://example.org/i.png"
    assert parsed.feed.logo == "https://example.org/l.png"
    tag = parsed.entries[0].tags[0]
    assert (tag.term, tag.label) == ("ai", "الذكاء الاصطناعي")


def test_json_card_lists_every_source_with_title_and_date(tmp_path: Path) -> None:
    document = json.loads(
        pub.render_json(_config(tmp_path, icon="https://e.org/i.png"), FEED, [STORY])
    )
    assert document["favicon"] == document["icon"] == "https://e.org/i.png"
    item = document["items"][0]
    assert item["image"] == PIC
    card = item["_feeds"]
    assert card["sources"][1] == {
        "url": "https://b.example/2",
        "name": "عالم رقمي",
        "title": "Gemini 4 من جوجل",
        "date_published": "2026-11-24T11:30:00Z",
    }
    assert (card["source_count"], card["lead"]) == (2, "البوابة")
    assert (card["first_seen"], card["last_updated"]) == (
        "2026-11-24T09:30:00Z",
        "2026-11-24T11:30:00Z",
    )


def test_no_icon_configured_means_none_published(tmp_path: Path) -> None:
    document = json.loads(pub.render_json(_config(tmp_path), FEED, [STORY]))
    assert "icon" not in document and "favicon" not in document
    assert "<image>" not in pub.render_rss(_config(tmp_path), FEED, [STORY]).decode()


def test_top_level_exclude_applies_to_every_feed(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "title: t\nbase_url: https://e.org/\nexclude: ['محتوى مدعوم']\n"
        "sources: [{url: 'https://a.example/feed'}]\n"
        "feeds:\n  - {slug: all, title: a}\n  - {slug: m, title: m, exclude: [x]}\n",
        encoding="utf-8",
    )
    cfg = config.load(tmp_path / "config.yaml")
    assert [f.exclude for f in cfg.feeds] == [("محتوى مدعوم",), ("محتوى مدعوم", "x")]
