"""Topic classification from the lexicon tables in feeds/data/."""

from __future__ import annotations

import pytest

from feeds import classify
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


def test_lexicon_topics_are_known_and_tables_load_once() -> None:
    assert {row[0] for row in read_table("lexicon.tsv")} <= set(TOPICS)
    assert classify._lexicon() is classify._lexicon()
