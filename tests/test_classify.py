"""Topic classification from the lexicon tables in feeds/data/."""

from __future__ import annotations

import pytest

from feeds import classify
from feeds.arabic.matching import match_key
from feeds.classify import PhraseTable, accepts, is_tech, read_table, scores, topics, word_forms
from feeds.types import TOPICS, SourceConfig

# (id, title, body, expected topics in order)
CASES = [
    ("clitics-wa-bi-al", "شراكة جديدة وبالذكاء الاصطناعي", "", ("ai",)),
    ("clitic-lil", "دعم للهواتف الذكية في المدارس", "", ("mobile",)),
    ("multiword-longest", "ثورة الذكاء الاصطناعي التوليدي", "", ("ai",)),
    ("hamza-and-taa", "إطلاق سيارة كهربائيه جديدة", "", ("cars",)),
    ("latin-brand", "PlayStation 5 Pro review", "", ("gaming",)),
    ("brand-nasa", "ناسا تنشر صورا جديدة", "", ("space",)),
    ("body-once-is-not-enough", "خبر اليوم", "تحدث الوزير عن الذكاء الاصطناعي", ()),
    (
        "body-three-times",
        "خبر اليوم",
        "الذكاء الاصطناعي ثم الذكاء الاصطناعي ثم الذكاء الاصطناعي",
        ("ai",),
    ),
    ("two-topics", "ثغرة أمنية في متصفح كروم", "تطبيق جديد", ("apps", "security")),
    ("no-match", "الطقس غدا معتدل", "أمطار خفيفة على السواحل", ()),
]


@pytest.mark.parametrize(
    ("title", "body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_topics(title: str, body: str, expected: tuple[str, ...]) -> None:
    assert topics(title, body) == expected


def test_title_counts_three_times_body() -> None:
    assert scores("الذكاء الاصطناعي", "")["ai"] == 3 * scores("", "الذكاء الاصطناعي")["ai"]


def test_topics_sorted_by_score_then_name() -> None:
    got = topics("هاتف ذكي جديد", "ثغرة ثغرة ثغرة ثغرة تطبيق")
    assert got == ("security", "mobile")
    tie = topics("ناسا وإنفيديا", "")
    assert tie == ("hardware", "space")


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        pytest.param("آبل تطلق آيفون 17", "", True, id="tech-title"),
        pytest.param(
            "ريال مدريد يفوز في الدوري", "المباراة متاحة عبر تطبيق البث", False, id="football"
        ),
        pytest.param("حظك اليوم وتوقعات الأبراج", "", False, id="horoscope"),
        pytest.param(
            "منتخب السعودية للرياضات الإلكترونية يفوز ببطولة ألعاب الفيديو",
            "",
            True,
            id="esports-outweighs-football",
        ),
        pytest.param("الطقس غدا", "", False, id="nothing"),
    ],
)
def test_is_tech(title: str, body: str, expected: bool) -> None:
    assert is_tech(title, body) is expected


def test_general_news_source_only_gives_tech() -> None:
    general = SourceConfig(url="https://news.example/feed", filter_topics=True)
    dedicated = SourceConfig(url="https://tech.example/feed")
    football = ("برشلونة يفوز على ريال مدريد", "مباراة مثيرة في الدوري")
    assert not accepts(general, *football)
    assert accepts(dedicated, *football)
    assert accepts(general, "غوغل تطلق جيميني 3", "نموذج ذكاء اصطناعي جديد")


def test_word_forms_strip_proclitic_groups() -> None:
    assert set(word_forms("وبالذكاء")) >= {"وبالذكاء", "بالذكاء", "الذكاء", "ذكاء"}
    assert word_forms("iphone") == ("iphone",)


def test_phrase_table_prefers_longest_and_does_not_overlap() -> None:
    table = PhraseTable(
        [("a", "ذكاء اصطناعي", 1.0), ("b", "ذكاء اصطناعي توليدي", 1.0), ("c", "توليدي", 1.0)]
    )
    hits = table.find(("الذكاء", "الاصطناعي", "التوليدي"))
    assert [h.value for h in hits] == ["b"]


def test_phrase_table_finds_the_same_after_its_word_cache_starts_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = PhraseTable([("a", "ذكاء اصطناعي", 1.0), ("b", "آيفون 17", 1.0), ("c", "آيفون", 1.0)])
    texts = [
        tuple(match_key(t).split())
        for t in ("الذكاء الاصطناعي في آيفون 17", "هاتف آيفون جديد وآيفون 17 الذكاء", "لا شيء هنا")
    ]
    expected = [[(h.start, h.end, h.value) for h in table.find(t)] for t in texts]
    assert expected[0] == [(0, 2, "a"), (3, 5, "b")]
    assert expected[1] == [(1, 2, "c"), (3, 5, "b")]
    assert expected[2] == []
    monkeypatch.setattr(classify, "_STARTS_MAX", 4)  # every text overflows the cache
    small = PhraseTable([("a", "ذكاء اصطناعي", 1.0), ("b", "آيفون 17", 1.0), ("c", "آيفون", 1.0)])
    for _ in range(2):
        assert [[(h.start, h.end, h.value) for h in small.find(t)] for t in texts] == expected
    assert len(small._starts) <= max(4, max(len(set(t)) for t in texts))


def test_lexicon_topics_are_known() -> None:
    assert {row[0] for row in read_table("lexicon.tsv")} <= set(TOPICS)


# --------------------------------------------------------------------------- per article


STORY = [
    ("آبل تطلق آيفون 17 بمعالج جديد", "كشفت آبل عن هاتف آيفون 17 وتطبيق جديد"),
    ("هاتف آيفون 17 متاح للطلب", "يبدأ بيع الهاتف الذكي الأسبوع المقبل"),
    ("ريال مدريد يفوز في الدوري", "مباراة كرة القدم شاهدها الملايين عبر تطبيق البث"),
]


@pytest.mark.parametrize(("title", "body"), STORY)
def test_one_article_story_classifies_as_before(title: str, body: str) -> None:
    assert classify.combine([classify.article_scores(title, body)]) == (
        topics(title, body),
        is_tech(title, body),
    )


def test_story_scores_are_the_sum_of_its_articles() -> None:
    per_article = [classify.article_scores(t, b) for t, b in STORY[:2]]
    keys = (set(per_article[0]) | set(per_article[1])) - {classify.NEGATIVE}
    summed = {k: per_article[0].get(k, 0) + per_article[1].get(k, 0) for k in keys}
    kept, tech = classify.combine(per_article)
    assert tech
    assert kept == tuple(t for _, t in sorted((-s, t) for t, s in summed.items() if s >= 3))
    joined = classify.classify(" ".join(t for t, _ in STORY[:2]), " ".join(b for _, b in STORY[:2]))
    assert (kept, tech) == joined


def test_negative_list_is_summed_across_a_story() -> None:
    football = classify.article_scores(*STORY[2])
    assert football[classify.NEGATIVE] > 0
    assert classify.combine([football]) == classify.classify(*STORY[2])


def test_key_scores_match_scores_of_raw_text() -> None:
    from feeds.arabic.matching import match_key

    for title, body in STORY:
        key = classify.key_scores(match_key(title), match_key(body))
        assert key == classify.article_scores(title, body)


def test_stored_scores_round_trip_and_go_stale() -> None:
    values = classify.article_scores(*STORY[0])
    assert classify.loads_scores(classify.dumps_scores(values)) == values
    assert classify.loads_scores('["old-tables", {"ai": 3.0}]') is None
    assert classify.loads_scores(None) is None
