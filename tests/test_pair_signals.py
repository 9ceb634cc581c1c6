"""The signals the pair scorer reads besides overlap: what a headline claims
(feeds.arabic.modality), consonant skeletons of names across scripts
(feeds.arabic.skeleton), and the shipped pair model (feeds.dedupe._pairs)."""

from __future__ import annotations

import pytest

from feeds.arabic.matching import match_key, tokens
from feeds.arabic.modality import Modality, modality
from feeds.arabic.skeleton import skeleton
from feeds.dedupe import Prepared, _pairs
from feeds.dedupe._features import _Features


@pytest.mark.parametrize(
    ("title", "claim"),
    [
        ("تسريب: مواصفات Pixel 9a قبل الإعلان", Modality.LEAK),
        ("صور مسربة لهاتف بكسل 9a", Modality.LEAK),
        ("Pixel 9a leaked in full", Modality.LEAK),
        ("تسريب بيانات مليوني مستخدم", Modality.PLAIN),  # a data breach, not a leak
        ("سامسونج تكشف رسميا عن S25 بعد تسريبات", Modality.OFFICIAL),
        ("تقرير: آبل تنقل تجميع آيفون إلى الهند", Modality.SPECULATIVE),
        ("بكسل 10 قد يأتي بكاميرا ثلاثية", Modality.SPECULATIVE),
        ("جوجل تعلن عن هاتف Pixel 9a", Modality.OFFICIAL),
        ("وسامسونج تطلق هاتفها", Modality.OFFICIAL),
        ("تيك توك يتوقف عن العمل في أمريكا", Modality.PLAIN),
    ],
)
def test_modality(title: str, claim: Modality) -> None:
    assert modality(tokens(match_key(title))) is claim


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [("sora", "سورا"), ("stargate", "ستارغيت"), ("perplexity", "بيربليكسيتي"),
     ("operator", "أوبريتور"), ("glenn", "غلين"), ("glenn", "جلين"), ("airpods", "إيربودز"),
     ("blackwell", "بلاكويل"), ("chat", "شات")],
)  # fmt: skip
def test_a_name_has_one_skeleton_in_both_scripts(latin: str, arabic: str) -> None:
    assert skeleton(latin) == skeleton(match_key(arabic))


def test_different_names_have_different_skeletons() -> None:
    assert skeleton("perplexity") != skeleton(match_key("تيك توك"))
    assert skeleton("") == skeleton("aeiou") == ""


def _features(title: str, lead: str = "") -> _Features:
    return Prepared.of(match_key(title), match_key(f"{title} {lead}")).features()


def test_a_leak_never_links_with_the_announcement() -> None:
    leak = _features("تسريب كامل لمواصفات Pixel 9a قبل الإعلان", "بسعر 499 دولارا")
    launch = _features("جوجل تعلن عن هاتف Pixel 9a بسعر 499 دولارا", "بسعر 499 دولارا")
    assert _pairs.guarded(leak, launch)
    assert _pairs.probability(leak, launch) == 0.0


def test_titles_naming_the_same_two_companies_in_either_order_do_not_lead_apart() -> None:
    a = _features("هيوماين تتعاقد مع إنفيديا لتوريد 18 ألف شريحة")
    b = _features("Nvidia تزود HUMAIN بأكثر من 18,000 شريحة")
    x = dict(zip(_pairs.FEATURES, _pairs.pair_features(a, b) or (), strict=True))
    assert x["other_subject"] == 0.0 and x["two_title_ids"] == 1.0
    assert x["figures_agree"] == 1.0 and x["figures_clash"] == 0.0
    assert _pairs.probability(a, b) > 0.5


def test_a_regulator_is_not_the_subject() -> None:
    a = _features("المفوضية الأوروبية تغرم آبل 500 مليون يورو")
    assert a.subject == "apple"


def test_a_short_title_links_only_through_an_entity() -> None:
    tag = _features("البتراء")
    post = _features("عظمة البتراء", "زيارة البتراء في الأردن")
    assert _pairs.guarded(tag, post)


def test_the_shipped_model_names_every_feature() -> None:
    m = _pairs.model()
    assert len(m.weights) == len(_pairs.FEATURES)
    assert 0.0 < m.threshold < 1.0


def test_titles_stating_other_amounts_of_one_kind_are_two_stories() -> None:
    """A daily series: each day's title gives its own date and price."""
    friday = _features(
        "سعر البيتكوين اليوم الجمعة 21 نوفمبر: هبوط حاد",
        "تراجع سعر البيتكوين اليوم الجمعة 21 نوفمبر وسط موجة بيع في أسواق العملات الرقمية",
    )
    saturday = _features(
        "سعر البيتكوين اليوم السبت 22 نوفمبر: ارتداد",
        "ارتد سعر البيتكوين اليوم السبت 22 نوفمبر بعد موجة بيع في أسواق العملات الرقمية",
    )
    assert _pairs._figures_differ(friday, saturday)
    assert _pairs.probability(friday, saturday) == 0.0
    # The same day told twice shares its figure.
    again = _features("البيتكوين يهبط الجمعة 21 نوفمبر", "تراجع سعر البيتكوين في 21 نوفمبر")
    assert not _pairs._figures_differ(friday, again)


def test_a_budget_and_a_head_count_are_other_facts_of_one_story() -> None:
    budget = _features("الحكومة ترصد 11 مليار درهم لخطة المغرب الرقمي")
    jobs = _features("المغرب يطلق خطة رقمية لخلق 240 ألف وظيفة")
    assert [v[0] for v in budget.values + jobs.values] == ["$", "#"]
    assert not _pairs._figures_differ(budget, jobs)
    cheap = dict(zip(_pairs.CHEAP, _pairs._cheap(budget, jobs), strict=True))
    assert cheap["figures_clash"] == 0.0
