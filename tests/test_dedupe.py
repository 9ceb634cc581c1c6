"""Story clustering: table-driven pairs (tests/data/dedupe/pairs.json), exact tier, ids."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.arabic.matching import match_key
from feeds.dedupe import (
    NUM_PERM,
    Candidate,
    Member,
    Prepared,
    StoryIndex,
    assign_all,
    entities,
    figures,
    representative,
    story_id_for,
)
from feeds.types import Article, DateSource

DATA = Path(__file__).parent / "data" / "dedupe"
BASE = datetime(2025, 9, 9, 12, tzinfo=UTC)
CASES = json.loads((DATA / "pairs.json").read_text(encoding="utf-8"))["cases"]


def make(
    ident: str,
    title: str,
    summary: str = "",
    *,
    source: str = "aitnews",
    hours: float = 0,
    url: str | None = None,
    guid: str | None = None,
) -> Article:
    src = f"https://{source}.example/feed"
    link = url or f"https://{source}.example/{ident}"
    when = BASE + timedelta(hours=hours)
    return Article(
        id=ident,
        source_url=src,
        guid=guid,
        url=link,
        canonical_url=link,
        title=title,
        summary_html=summary,
        content_html="",
        published=when,
        date_source=DateSource.FEED,
        first_seen=when,
        language="ar",
        title_key=match_key(title),
        text_key=match_key(summary),
        content_hash=ident,
    )


def from_case(ident: str, side: dict[str, object]) -> Article:
    return make(
        ident,
        str(side["title"]),
        str(side["summary"]),
        source=str(side["source"]),
        hours=float(side["hours"]),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_pair(case: dict[str, object]) -> None:
    a = from_case("a", case["a"])  # type: ignore[arg-type]
    b = from_case("b", case["b"])  # type: ignore[arg-type]
    index = StoryIndex()
    (_, story_a, created_a), (_, story_b, created_b) = assign_all(index, [b, a])
    assert created_a
    assert (story_a == story_b) is case["merge"]
    assert created_b is not case["merge"]


def test_same_canonical_url_from_two_sources_is_one_story() -> None:
    index = StoryIndex()
    first, _ = index.assign(make("a", "خبر أول", url="https://news.example/x"))
    second, created = index.assign(
        make("b", "عنوان مختلف تماما", source="other", hours=200, url="https://news.example/x")
    )
    assert (second, created) == (first, False)


def test_same_absolute_guid_is_one_story() -> None:
    index = StoryIndex()
    guid = "https://wire.example/story/42"
    first, _ = index.assign(make("a", "خبر أول", guid=guid))
    second, created = index.assign(make("b", "خبر ثان", source="other", guid=guid))
    assert (second, created) == (first, False)


def test_relative_guid_is_only_unique_within_its_source() -> None:
    index = StoryIndex()
    first, _ = index.assign(make("a", "سوني تكشف عن سماعات جديدة", guid="?p=123"))
    second, created = index.assign(
        make("b", "ناسا تطلق مسبارا إلى المريخ", source="other", guid="?p=123")
    )
    assert created and second != first


def test_known_article_returns_its_story() -> None:
    article = make("a", "جوجل تطلق نموذج جيميني 3")
    index = StoryIndex()
    story, created = index.assign(article)
    assert created and story == story_id_for(article)
    assert index.assign(article) == (story, False)
    assert len(index) == 1


GEMINI = [
    (
        "a1",
        "aitnews",
        0,
        "جوجل تطلق نموذج جيميني 3 للذكاء الاصطناعي",
        "أعلنت جوجل عن نموذج Gemini 3 الأقوى في الاستدلال.",
    ),
    (
        "a2",
        "skynews",
        2,
        "غوغل تكشف عن Gemini 3 أحدث نماذجها",
        "كشفت غوغل عن نموذج جيميني 3 الذي يصل إلى البحث.",
    ),
    (
        "a3",
        "techwd",
        5,
        "رسميا: جيميني 3 من جوجل متاح الآن",
        "نموذج Gemini 3 من جوجل يصل إلى تطبيق جيميني ونتائج البحث.",
    ),
]


def gemini() -> list[Article]:
    return [make(i, t, s, source=src, hours=h) for i, src, h, t, s in GEMINI]


def test_story_id_is_kept_when_a_third_article_joins() -> None:
    a1, a2, a3 = gemini()
    index = StoryIndex()
    story, _ = index.assign(a1)
    assert index.assign(a2) == (story, False)
    assert index.assign(a3) == (story, False)
    assert story == story_id_for(a1)


def test_story_id_survives_a_rebuilt_index() -> None:
    a1, a2, a3 = gemini()
    first = StoryIndex()
    story, _ = first.assign(a1)
    first.assign(a2)
    rebuilt = StoryIndex([Member.of(a1, story), Member.of(a2, story)])
    assert rebuilt.assign(a3) == (story, False)


def partition(result: tuple[tuple[str, str, bool], ...]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for article_id, story, _ in result:
        groups.setdefault(story, set()).add(article_id)
    return {frozenset(g) for g in groups.values()}


def test_partition_does_not_depend_on_input_order() -> None:
    gpt5 = make(
        "b1", "أوبن إيه آي تطلق نموذج GPT-5", "أعلنت أوبن إيه آي عن GPT-5.", source="skynews"
    )
    articles = [*gemini(), gpt5]
    expected = partition(assign_all(StoryIndex(), articles))
    assert expected == {frozenset({"a1", "a2", "a3"}), frozenset({"b1"})}
    for seed in range(3):
        shuffled = articles[:]
        random.Random(seed).shuffle(shuffled)
        assert partition(assign_all(StoryIndex(), shuffled)) == expected


def test_assign_order_changes_ids_not_partition() -> None:
    articles = gemini()
    index = StoryIndex()
    result = tuple((a.id, *index.assign(a)) for a in reversed(articles))
    assert partition(result) == {frozenset({"a1", "a2", "a3"})}
    assert {story for _, story, _ in result} == {story_id_for(articles[-1])}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("سامسونغ", {"samsung"}),
        ("وسامسونج", {"samsung"}),
        ("samsung", {"samsung"}),
        ("غوغل وجوجل وقوقل", {"google"}),
        ("البنتاجون", {"pentagon"}),
        ("بالبنتاغون", {"pentagon"}),
        ("آيفون", {"iphone", "apple"}),
        ("لأبل", {"apple"}),
        ("ميكروسوفت", {"microsoft"}),
        ("تشات جي بي تي", {"chatgpt", "openai"}),
        ("مباراة كرة قدم", set()),
    ],
)
def test_entities(text: str, expected: set[str]) -> None:
    assert entities(match_key(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("آيفون 17 برو", {"17"}),
        ("Galaxy S25", {"s25"}),
        ("GPT-5", {"5"}),
        ("استثمار ١٠ مليارات دولار في 2025", {"10"}),
        ("نسخة ٣٫٥", {"3.5"}),
        ("بدون أرقام", set()),
    ],
)
def test_figures(text: str, expected: set[str]) -> None:
    assert figures(match_key(text)) == expected


T0 = datetime(2025, 9, 9, 12, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("members", "priorities", "expected"),
    [
        pytest.param(
            [("a", "s1", T0, "خبر"), ("b", "s2", T1, "خبر")], {"s2": 5}, 1, id="priority-wins"
        ),
        pytest.param([("a", "s1", T1, "خبر"), ("b", "s2", T0, "خبر")], {}, 1, id="earliest"),
        pytest.param(
            [("a", "s1", T0, "iPhone 17 رسميا"), ("b", "s2", T0, "آيفون 17 رسميا")],
            {},
            1,
            id="arabic-first-title",
        ),
        pytest.param([("b", "s1", T0, "خبر"), ("a", "s2", T0, "خبر")], {}, 1, id="smallest-id"),
    ],
)
def test_representative(
    members: list[tuple[str, str, datetime, str]], priorities: dict[str, int], expected: int
) -> None:
    assert representative(members, priorities) == expected
    flipped = list(reversed(members))
    assert flipped[representative(flipped, priorities)] == members[expected]


def test_representative_accepts_candidates_and_rejects_empty() -> None:
    assert representative([Candidate("a", "s", T0, "خبر")], {}) == 0
    with pytest.raises(ValueError):
        representative([], {})


# --------------------------------------------------------------------------- prepared


def test_prepared_survives_the_store_round_trip() -> None:
    a1, _, _ = gemini()
    prepared = Prepared.of(a1.title_key, a1.text_key)
    text = prepared.dumps()
    assert Prepared.current(text)
    assert Prepared.loads(text) == prepared
    assert len(prepared.signature) == 4 * NUM_PERM


@pytest.mark.parametrize(
    "text", [None, "", '["another-table", [], [], [], [], [], ""]', "[1, 2]"], ids=repr
)
def test_stale_or_missing_preparation_is_recomputed(text: str | None) -> None:
    assert Prepared.loads(text) is None
    assert not Prepared.current(text)


def test_index_from_stored_preparations_files_like_one_from_keys() -> None:
    a1, a2, a3 = gemini()
    story = story_id_for(a1)
    from_keys = StoryIndex([Member.of(a1, story), Member.of(a2, story)])
    stored = [
        Member.of(a, story, Prepared.loads(Prepared.of(a.title_key, a.text_key).dumps()))
        for a in (a1, a2)
    ]
    from_store = StoryIndex(stored)
    pending = Member.of(a3, "", Prepared.of(a3.title_key, a3.text_key))
    assert from_keys.assign(a3) == from_store.assign(pending) == (story, False)


def test_unfiled_members_are_assigned_like_articles() -> None:
    articles = gemini()
    members = [Member.of(a, "", Prepared.of(a.title_key, a.text_key)) for a in articles]
    assert assign_all(StoryIndex(), members) == assign_all(StoryIndex(), articles)
