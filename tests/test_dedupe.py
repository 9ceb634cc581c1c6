"""Story clustering: table-driven pairs (tests/data/dedupe/pairs.json), exact tier, ids."""

from __future__ import annotations

import gc
import json
import math
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from feeds import dedupe
from feeds.arabic.matching import match_key
from feeds.dedupe import (
    LSH_THRESHOLD,
    NUM_PERM,
    Candidate,
    Member,
    Prepared,
    _pairs,
    entities,
    figures,
    representative,
    story_id_for,
)
from feeds.dedupe._bands import BANDS, ROWS, Bands
from feeds.dedupe._features import _STOP, _score
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


Decisions = list[tuple[str, str, bool]]


def file(*articles: Article, stored: Iterable[tuple[Article, str]] = ()) -> Decisions:
    """What a pass does: the stored articles indexed in their stories, then `articles`
    filed in the order given: (article id, story id, created new) each."""
    members = [Member.of(a, story) for a, story in stored]
    return dedupe.assign_pending(members, [Member.of(a, "") for a in articles])


def oldest_first(articles: Sequence[Article]) -> list[Article]:
    """The order the store lists unfiled articles in, and a pass files them."""
    return sorted(articles, key=lambda a: (a.published, a.id))


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
    (_, first, created_first), (_, second, created_second) = file(*oldest_first([b, a]))
    assert created_first
    assert (first == second) is case["merge"]
    assert created_second is not case["merge"]


def test_same_canonical_url_from_two_sources_is_one_story() -> None:
    a = make("a", "خبر أول", url="https://news.example/x")
    b = make("b", "عنوان مختلف تماما", source="other", hours=200, url="https://news.example/x")
    (_, first, _), second = file(a, b)
    assert second == ("b", first, False)


def test_same_absolute_guid_is_one_story() -> None:
    guid = "https://wire.example/story/42"
    a, b = make("a", "خبر أول", guid=guid), make("b", "خبر ثان", source="other", guid=guid)
    (_, first, _), second = file(a, b)
    assert second == ("b", first, False)


def test_relative_guid_is_only_unique_within_its_source() -> None:
    a = make("a", "سوني تكشف عن سماعات جديدة", guid="?p=123")
    b = make("b", "ناسا تطلق مسبارا إلى المريخ", source="other", guid="?p=123")
    (_, first, _), (_, second, created) = file(a, b)
    assert created and second != first


def test_an_article_joins_the_story_whose_figures_agree() -> None:
    old = make("old", "سامسونج تطلق هاتف جالاكسي S25 بسعر 799 دولار")
    twin = make("twin", "سامسونج تطلق هاتف جالاكسي S26 بسعر 899 دولار")
    new = make("new", "هاتف جالاكسي S25 من سامسونج متاح بسعر 799 دولار", source="other", hours=1)
    assert file(new, stored=[(old, "s1"), (twin, "s2")]) == [("new", "s1", False)]


LEAD = (
    "كشفت سامسونج اليوم عن هاتفها الجديد في حدث أقامته في سيول، وقالت إنه يصل إلى "
    "الأسواق الشهر المقبل بشاشة أكبر وبطارية تدوم يومين وكاميرا محسنة للتصوير الليلي."
)


@pytest.mark.parametrize(("model", "merge"), [("S25", True), ("S26", False)])
def test_a_wire_copy_with_another_model_number_is_another_story(model: str, merge: bool) -> None:
    # The same words (an estimated Jaccard of 0.98), so the copy is a wire copy of the
    # first; only the model number can keep them apart, and it does.
    first = make("a", "سامسونج تطلق هاتف جالاكسي S25 رسميا", LEAD)
    copy = make("b", f"سامسونج تطلق هاتف جالاكسي {model} رسميا", LEAD, source="other", hours=1)
    (_, story, _), (_, other, created) = file(first, copy)
    assert (other == story) is merge and created is not merge


@pytest.mark.parametrize(
    ("start", "apart", "merge"),
    [
        (11, 71, True),  # 23:00 to 22:00 three days on: a day at the window's edge
        (11, 73, False),  # the same days, two hours further apart
        (-12, 71.9, True),  # 00:00 to 23:54 two days on: a day well inside
        (-12, 72.5, False),
        (0, -71, True),  # the stored member is the later one
        (0, -73, False),
    ],
)
def test_rewrites_link_within_the_window_only(start: float, apart: float, merge: bool) -> None:
    first = make(
        "a", "جوجل تطلق نموذج جيميني 3 للذكاء الاصطناعي",
        "أعلنت جوجل عن نموذج Gemini 3 وتقول إنه الأقوى في الاستدلال والبرمجة.",
        hours=start,
    )  # fmt: skip
    rewrite = make(
        "b", "غوغل تكشف عن Gemini 3 أحدث نماذجها",
        "كشفت غوغل عن نموذج جيميني 3 الذي يصل إلى محرك البحث منذ اليوم الأول.",
        source="skynews", hours=start + apart,
    )  # fmt: skip
    (_, story, _), (_, other, _) = file(first, rewrite)
    assert (other == story) is merge


def test_known_article_keeps_its_story() -> None:
    article = make("a", "جوجل تطلق نموذج جيميني 3")
    story = story_id_for(article)
    assert file(article, article) == [("a", story, True), ("a", story, False)]
    assert file(article, stored=[(article, "s1")]) == [("a", "s1", False)]


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
    story = story_id_for(a1)
    assert file(a1, a2, a3) == [("a1", story, True), ("a2", story, False), ("a3", story, False)]


def test_story_id_survives_a_rebuilt_index() -> None:
    a1, a2, a3 = gemini()
    (_, story, _), _ = file(a1, a2)
    assert file(a3, stored=[(a1, story), (a2, story)]) == [("a3", story, False)]


def partition(result: Decisions) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for article_id, story, _ in result:
        groups.setdefault(story, set()).add(article_id)
    return {frozenset(g) for g in groups.values()}


def test_partition_does_not_depend_on_input_order() -> None:
    gpt5 = make(
        "b1", "أوبن إيه آي تطلق نموذج GPT-5", "أعلنت أوبن إيه آي عن GPT-5.", source="skynews"
    )
    articles = [*gemini(), gpt5]
    expected = partition(file(*articles))
    assert expected == {frozenset({"a1", "a2", "a3"}), frozenset({"b1"})}
    for seed in range(3):
        shuffled = articles[:]
        random.Random(seed).shuffle(shuffled)
        assert partition(file(*shuffled)) == expected


def test_assign_order_changes_ids_not_partition() -> None:
    articles = gemini()
    result = file(*reversed(articles))
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
        ("نموذج جيميناي الجديد", {"gemini", "google"}),
        ("سعر البيتكوين وBitcoin", {"bitcoin"}),
        ("منصة باينانس", {"binance"}),
        ("نتفلكس", {"netflix"}),
        ("مباراة كرة قدم", set()),
    ],
)
def test_entities(text: str, expected: set[str]) -> None:
    assert entities(match_key(text)) == expected


def test_figures_are_model_tokens_only() -> None:
    # amounts are values (tests/test_figures.py), and a brand's digits are the brand's
    assert figures(match_key("سوني تطلق ps5 برو بسعر 499 دولار")) == set()
    assert figures(match_key("Galaxy S25 و A56")) == {"s25", "a56"}
    assert figures(match_key("x" * 5000 + " 7")) == {"7"}


T0 = datetime(2025, 9, 9, 12, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def _c(aid: str, src: str, when: datetime, title: str, lang: str = "ar", n: int = 0) -> Candidate:
    return Candidate(aid, src, when, title, lang, n)


@pytest.mark.parametrize(
    ("members", "priorities", "expected"),
    [
        pytest.param(
            [_c("a", "s1", T0, "خبر", n=5000), _c("b", "s2", T1, "iPhone", "en")],
            {"s2": 5},
            1,
            id="priority-wins-over-everything",
        ),
        pytest.param([_c("a", "s1", T1, "خبر"), _c("b", "s2", T0, "خبر")], {}, 1, id="earliest"),
        pytest.param(
            [
                Candidate("a", "s1", T0, "منشور جديد", "ar", 5000, headline=False),
                _c("b", "s2", T1, "iPhone 17 رسميا"),
            ],
            {},
            1,
            id="a-label-never-leads-a-headline",
        ),
        pytest.param(
            [_c("a", "s1", T0, "iPhone 17 رسميا"), _c("b", "s2", T1, "آيفون 17 رسميا")],
            {},
            1,
            id="arabic-first-title-before-earliest",
        ),
        pytest.param(
            [_c("a", "s1", T0, "عاجل: ناسا تؤجل المهمة"), _c("b", "s2", T1, "ناسا تؤجل المهمة")],
            {},
            1,
            id="an-untagged-headline-before-an-earlier-breaking-tag",
        ),
        pytest.param(
            [_c("a", "s1", T0, "آبل تطلق آيفون 18 (فيديو)"), _c("b", "s2", T1, "iPhone 18 يصل")],
            {},
            1,
            id="a-media-tag-loses-to-a-latin-first-word",
        ),
        pytest.param(
            [_c("a", "s1", T0, "تحديث جديد لنظام iOS"), _c("b", "s2", T1, "نظام iOS يتحدث")],
            {},
            0,
            id="a-headline-that-starts-with-the-word-is-no-tag",
        ),
        pytest.param(
            [_c("a", "s1", T0, "Apple ships", "en", 9000), _c("b", "s2", T1, "أبل تشحن")],
            {},
            1,
            id="arabic-article-before-a-longer-english-one",
        ),
        pytest.param(
            [_c("a", "s1", T0, "خبر", n=300), _c("b", "s2", T1, "خبر", n=2500)],
            {},
            1,
            id="whole-article-before-an-earlier-excerpt",
        ),
        pytest.param(
            [_c("a", "s1", T0, "خبر", n=700), _c("b", "s2", T1, "خبر", n=1900)],
            {},
            0,
            id="same-tier-so-earliest",
        ),
        pytest.param(
            [_c("a", "s1", T0, "خبر", n=0), _c("b", "s2", T1, "خبر", n=120)],
            {},
            1,
            id="an-excerpt-before-an-earlier-title-alone",  # Google News links, says nothing
        ),
        pytest.param([_c("b", "s1", T0, "خبر"), _c("a", "s2", T0, "خبر")], {}, 1, id="smallest-id"),
    ],
)
def test_representative(
    members: list[Candidate], priorities: dict[str, int], expected: int
) -> None:
    assert representative(members, priorities) == expected
    flipped = list(reversed(members))
    assert flipped[representative(flipped, priorities)] == members[expected]


def test_representative_of_one_member_and_of_none() -> None:
    assert representative([_c("a", "s", T0, "خبر")], {}) == 0
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


def test_stored_preparations_file_as_ones_made_from_the_keys() -> None:
    a1, a2, a3 = gemini()
    story = story_id_for(a1)

    def stored(a: Article, story: str) -> Member:
        prepared = Prepared.loads(Prepared.of(a.title_key, a.text_key).dumps())
        assert prepared is not None
        return Member.of(a, story, prepared)

    from_store = dedupe.assign_pending([stored(a1, story), stored(a2, story)], [stored(a3, "")])
    assert from_store == file(a3, stored=[(a1, story), (a2, story)]) == [("a3", story, False)]


# --------------------------------------------------------------------------- banding


def test_bands_use_the_parameters_datasketch_picks() -> None:
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    assert (lsh.b, lsh.r) == (BANDS, ROWS)


def signatures(rng: random.Random, count: int) -> list[np.ndarray]:
    """Signatures over few values, and near-copies of earlier ones: many shared bands."""
    out: list[np.ndarray] = []
    for _ in range(count):
        if out and rng.random() < 0.5:
            values = rng.choice(out).copy()
            for i in rng.sample(range(NUM_PERM), rng.randint(1, 40)):
                values[i] = rng.randrange(4)
        else:
            values = np.array([rng.randrange(4) for _ in range(NUM_PERM)], dtype=np.uint32)
        out.append(values)
    return out


def test_bands_count_the_values_two_signatures_share() -> None:
    from datasketch import LeanMinHash

    rng = random.Random(11)
    # Values at the lane edges (a top bit alone, low bits alone, all ones) next to random
    # ones, and pairs that share some values by position.
    edges = [0, 1, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF]
    pool = signatures(rng, 200)
    for _ in range(300):
        a = np.array([rng.choice(edges) for _ in range(NUM_PERM)], dtype=np.uint32)
        b = a.copy()
        for i in rng.sample(range(NUM_PERM), rng.randint(0, NUM_PERM)):
            b[i] = rng.choice(edges)
        pool += [a, b]
    bands = Bands()
    numbers = [bands.insert(f"k{i}", x.astype("<u4").tobytes()) for i, x in enumerate(pool)]
    assert numbers == list(range(len(pool)))
    for i, x in enumerate(pool):
        others = [*rng.sample(range(len(pool)), 5), (i + 1) % len(pool)]
        equal = bands.equal_values(x.astype("<u4").tobytes(), others)
        for n, o in zip(equal, others, strict=True):
            assert n == int((x == pool[o]).sum())
            jaccard = LeanMinHash(seed=1, hashvalues=x, scheme="affine32").jaccard(
                LeanMinHash(seed=1, hashvalues=pool[o], scheme="affine32")
            )
            assert n / NUM_PERM == jaccard
        if i == 100:
            bands.query(x.astype("<u4").tobytes())  # later ones go into the dicts too


def test_bands_find_exactly_the_candidates_datasketch_finds() -> None:
    from datasketch import LeanMinHash, MinHashLSH

    rng = random.Random(7)
    indexed, queries = signatures(rng, 300), signatures(rng, 100)
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    bands = Bands()
    for i, values in enumerate(indexed):
        lsh.insert(
            f"k{i}",
            LeanMinHash(seed=1, hashvalues=values, scheme="affine32"),
            check_duplication=False,
        )
        bands.insert(f"k{i}", values.astype("<u4").tobytes())
    found = 0
    for values in indexed + queries:
        expected = set(lsh.query(LeanMinHash(seed=1, hashvalues=values, scheme="affine32")))
        assert bands.query(values.astype("<u4").tobytes()) == expected
        found += len(expected) > 1
    assert found > 100  # the comparison saw buckets holding several keys


def test_bands_find_what_was_inserted_before_and_after_the_first_query() -> None:
    # Before the first query into sorted arrays of band hashes, after it into dicts; a
    # band's hash may collide with another's, so the hits are checked against the bytes.
    rng = random.Random(8)
    early, late = signatures(rng, 200), signatures(rng, 100)
    sigs = [v.astype("<u4").tobytes() for v in early + late]
    bands = Bands()
    for i, sig in enumerate(sigs[:200]):
        bands.insert(f"k{i}", sig)
    for i, sig in enumerate(sigs[200:], 200):
        bands.query(sig)
        bands.insert(f"k{i}", sig)
    width = 4 * ROWS
    for sig in sigs:
        expected = {
            f"k{i}"
            for i, other in enumerate(sigs)
            if any(sig[b * width : (b + 1) * width] == other[b * width : (b + 1) * width]
                   for b in range(BANDS))
        }  # fmt: skip
        assert bands.query(sig) == expected
    # An index kept for the next batch compacts what filing added: the same answers,
    # and nothing left in the dicts.
    before = [bands.query(sig) for sig in sigs]
    bands.compact()
    assert not any(bands._tables) and bands._frozen == len(sigs)
    assert [bands.query(sig) for sig in sigs] == before
    # Each signature is compared by its number, however it went in.
    assert bands.equal_values(sigs[0], list(range(len(sigs)))) == [
        sum(sigs[0][i : i + 4] == s[i : i + 4] for i in range(0, len(s), 4)) for s in sigs
    ]
    bands.insert("k-after", sigs[0])  # and inserts after it go on working
    assert bands.query(sigs[0]) == before[0] | {"k-after"}


def test_signatures_are_datasketchs_affine32_minhash_value_for_value() -> None:
    from datasketch import MinHash

    from feeds.dedupe import _features

    reference = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")
    texts = [(r.title_key, r.text_key) for r in gemini()] + [("", ""), ("ab", "")]
    rng = random.Random(11)
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي abc0123456789"
    for _ in range(300):
        title = "".join(rng.choice(letters) for _ in range(rng.randint(0, 80)))
        texts.append((title, "".join(rng.choice(letters) for _ in range(rng.randint(0, 1200)))))
    for title_key, text_key in texts:
        m = MinHash(
            num_perm=NUM_PERM, permutations=reference.permutations, scheme="affine32",
            hashfunc=int,
        )  # fmt: skip
        lead = _features._lead(text_key)
        m.update_batch(_features._shingle_hashes(f"{title_key} {lead}").tolist())
        expected = m.hashvalues.astype("<u4").tobytes()
        assert Prepared.of(title_key, text_key).signature == expected


# --------------------------------------------------------------------------- lazy features


def reference_score(a: Prepared, b: Prepared) -> float:
    """`_score` over sets built up front and every feature computed, without the
    bound that lets `_pairs.probability` skip the set intersections."""

    def sets(p: Prepared) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        joined = " ".join(p.title)
        grams = frozenset(joined[i : i + 4] for i in range(max(1, len(joined) - 3)))
        content = [t for t in p.title if len(t) > 1 and t not in _STOP]
        lead = [t for t in p.lead.split() if len(t) > 1 and t not in _STOP]
        return grams, frozenset(content + lead), frozenset(content)

    fa, fb = a.features(), b.features()
    (ga, wa, sa), (gb, wb, sb) = sets(a), sets(b)
    assert (fa.grams, fa.words, fa.signals) == (ga, wa, sa)
    assert (fb.grams, fb.words, fb.signals) == (gb, wb, sb)
    x = _pairs.pair_features(fa, fb)
    if x is None or _pairs._unsupported(fa, fb, frozenset()):
        return 0.0
    m = _pairs.model()
    z = m.bias + sum(w * v for w, v in zip(m.weights, x, strict=True))
    p = 1 / (1 + math.exp(-z))
    return p if z >= m.logit else 0.0


def labelled_preparations() -> list[Prepared]:
    rows = [
        json.loads(line)
        for line in (Path(__file__).parent.parent / "benchmarks" / "data" / "clustering.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    return [Prepared.of(match_key(r["title"]), match_key(r["summary"])) for r in rows]


def test_lazy_features_score_every_pair_as_eager_sets_do() -> None:
    preps = labelled_preparations()
    for case in CASES:
        a, b = (from_case(k, case[k]) for k in ("a", "b"))
        preps += [Prepared.of(a.title_key, a.text_key), Prepared.of(b.title_key, b.text_key)]
    linked = 0
    for i, a in enumerate(preps):
        for b in preps[i + 1 :]:
            expected = reference_score(a, b)
            assert _score(a.features(), b.features()) == pytest.approx(expected, abs=1e-12)
            linked += expected > 0
    assert linked > 100


def test_compact_features_score_every_pair_as_frozensets_do() -> None:
    # An indexed member keeps its token sets as tuples (`_Features.compact`), those made
    # before it was compacted and those made after; it is only ever a pair's second.
    preps = labelled_preparations()
    fresh = [p.features() for p in preps]
    compact = [p.features() for p in preps]
    for n, feats in enumerate(compact):
        if n % 2:  # these made as frozensets first
            made = (feats.grams, feats.words, feats.residual)
            assert all(isinstance(t, frozenset) for t in made)
        feats.compact()
    linked = 0
    for a in fresh:
        for b, small in zip(fresh, compact, strict=True):
            if b is not a:
                score = _score(a, b)
                assert _score(a, small) == score
                linked += score > 0
    assert linked > 100
    assert all(isinstance(f.words, tuple) and isinstance(f.grams, tuple) for f in compact)


def test_lazy_features_are_the_same_whenever_they_are_built() -> None:
    prep = Prepared.of(
        match_key("سامسونج تطلق هاتف Galaxy S25 في مصر"), match_key("بسعر 900 دولار")
    )
    late, early = prep.features(), prep.features()
    assert (early.grams, early.words, early.signals) == (late.grams, late.words, late.signals)
    assert prep.signals() == late.signals == {"@samsung", "هاتف", "@galaxy", "s25", "مصر"}


@pytest.mark.parametrize("title", ["رئيسة سيغنال: التطبيق لن يبيع بياناتكم", "سيجنال يضيف ميزة"])
def test_the_signal_app_is_named_by_its_arabic_name_alone(title: str) -> None:
    # "«لن نبيع بياناتكم».. رئيس سيغنال يرد" and this title were one story kept apart:
    # only "تطبيق سيغنال" named the app, so neither title named an entity.
    assert "signal" in Prepared.of(match_key(title), match_key(title)).title_ids
    assert "signal" not in Prepared.of(match_key("signal"), "").title_ids  # a Latin word


def test_alias_ids_hold_no_whitespace() -> None:
    # A stored lead is its tokens joined by spaces: an "@id" token must not split apart.
    from feeds.classify import read_table

    ids = [row[0] for row in read_table("aliases.tsv")]
    assert ids and all(ident == "".join(ident.split()) for ident in ids)


# --------------------------------------------------------------------------- pass entry


def test_assign_pending_takes_generators() -> None:
    a1, a2, a3 = gemini()
    gpt5 = make("b1", "أوبن إيه آي تطلق نموذج GPT-5", "GPT-5 متاح.", source="x", hours=6)
    story = story_id_for(a1)
    stored = (Member.of(a, story) for a in (a1, a2))
    pending = (Member.of(a, "") for a in (a3, gpt5))
    expected = [("a3", story, False), ("b1", story_id_for(gpt5), True)]
    assert dedupe.assign_pending(stored, pending) == expected


@pytest.mark.parametrize("enabled", [True, False])
def test_assign_pending_leaves_the_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        dedupe.assign_pending([], [Member.of(gemini()[0], "")])
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


# --------------------------------------------------------------------------- everyday words

# Two stories about one company that share a bare number and the everyday words of the
# field, nothing else: on a busy day that is chance, not one story.
_APPLE_A = (
    "آبل تختبر نظام تبريد جديد للحواسيب 909",
    "قالت آبل إن النظام 909 الجديد يخفض حرارة الكاميرا والشاشة في الحواسيب",
)
_APPLE_B = (
    "آبل تغرم في فرنسا بسبب إعلانات الحواسيب 909",
    "فرضت هيئة فرنسية غرامة 909 على آبل بسبب الشاشة والكاميرا في الإعلانات",
)
_FILLER = "الشاشة والكاميرا والحواسيب"


def _busy_day(n: int) -> list[tuple[Article, str]]:
    """`n` stored articles of other stories whose leads use the everyday words."""
    out = []
    for i in range(n):
        a = make(
            f"f{i}",
            f"خبر رقم {i} عن موضوع {i}",
            f"{_FILLER} موضوع {i}",
            source=f"s{i % 9}",
            hours=1,
        )
        out.append((a, f"story-{i}"))
    return out


def test_a_shared_entity_and_bare_number_over_everyday_words_do_not_link() -> None:
    a = make("a", *_APPLE_A, source="aitnews", hours=2)
    b = make("b", *_APPLE_B, source="skynews", hours=3)
    (_, first, _), (_, second, _) = file(a, b, stored=_busy_day(200))
    assert first != second


def test_the_same_words_are_evidence_where_few_articles_use_them() -> None:
    # The control: in a quiet index the same pair is one story to the model, so it was
    # the busy day's everyday words that kept them apart above.
    a = make("a", *_APPLE_A, source="aitnews", hours=2)
    b = make("b", *_APPLE_B, source="skynews", hours=3)
    (_, first, _), (_, second, _) = file(a, b, stored=_busy_day(5))
    assert first == second


def _pair(a: tuple[str, str], b: tuple[str, str]) -> float:
    """The rewrite tier's probability for two (title, lead) articles on an empty index,
    where no word is common yet: a new store, or a quiet week."""
    fa, fb = (Prepared.of(match_key(t), match_key(f"{t} {lead}")).features() for t, lead in (a, b))
    return _score(fa, fb)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            ("تطبيق أردني يستخدم الذكاء الاصطناعي لتشخيص أمراض النخيل من الصور",
             "طور مهندسون أردنيون تطبيقا يشخص أمراض النخيل من صور الأوراق."),
            ("افتتاح مركز أبحاث للذكاء الاصطناعي التطبيقي في الرياض",
             "افتتح في الرياض مركز أبحاث جديد للذكاء الاصطناعي يركز على الصحة."),
            id="only-the-field-in-common",
        ),
        pytest.param(
            ("منتخب المغرب يتأهل إلى نهائي كأس العرب", "فاز المنتخب بركلات الترجيح."),
            ("مشروع لإيصال الألياف الضوئية إلى ألفي قرية في المغرب",
             "أعلنت الحكومة مشروعا للإنترنت في القرى."),
            id="only-a-country-in-common",
        ),
        pytest.param(
            ("شركة ناشئة مصرية تجمع 12 مليون دولار لتطوير منصة للدفع بالتقسيط",
             "جمعت شركة ناشئة مصرية متخصصة 12 مليون دولار في جولة تمويل."),
            ("شركات ألعاب ناشئة أردنية تجمع 10 ملايين دولار",
             "جمعت ثلاث شركات ناشئة أردنية متخصصة تمويلا بقيمة 10 ملايين دولار."),
            id="two-rounds-of-different-sums",
        ),
    ],
)  # fmt: skip
def test_stories_that_share_only_the_field_stay_apart(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    assert _pair(a, b) == 0.0


def test_one_sum_told_roughly_is_not_two_sums() -> None:
    a = ("ديب سيك تمحو نحو 600 مليار دولار من قيمة إنفيديا", "تراجع سهم إنفيديا بشدة.")
    b = ("خسارة تاريخية لإنفيديا بقيمة 589 مليار دولار بسبب ديب سيك", "هبط سهم إنفيديا.")
    fa, fb = (Prepared.of(match_key(t), match_key(f"{t} {lead}")).features() for t, lead in (a, b))
    assert not _pairs._sums_differ(fa.sums, fb.sums)
    twelve = Prepared.of(match_key("تجمع 12 مليون دولار"), "").features()
    ten = Prepared.of(match_key("تجمع 10 ملايين دولار"), "").features()
    assert _pairs._sums_differ(twelve.sums, ten.sums)


_CUSTOMS = (
    "تبدأ منظومة حوكمة أجهزة المحمول في مصر اليوم وتفرض رسوما بنسبة 38.5% على الهواتف"
    " الواردة من الخارج"
)


@pytest.mark.parametrize(
    ("first", "second", "summary", "merge"),
    [
        # a site posts its story again under a new link, one word added to the title
        (
            "منظومة حوكمة المحمول.. كل ما تريد معرفته عن الرسوم الجديدة",
            "منظومة حوكمة المحمول تبدأ.. كل ما تريد معرفته عن الرسوم الجديدة",
            _CUSTOMS,
            True,
        ),
        # ... or the same title again
        (
            "منظومة حوكمة المحمول.. كل ما تريد معرفته عن الرسوم الجديدة",
            "منظومة حوكمة المحمول.. كل ما تريد معرفته عن الرسوم الجديدة",
            _CUSTOMS,
            True,
        ),
        # the added word is a figure: another episode, another day's figures
        (
            "منظومة حوكمة المحمول.. كل ما تريد معرفته عن الرسوم الجديدة",
            "منظومة حوكمة المحمول 2.. كل ما تريد معرفته عن الرسوم الجديدة",
            _CUSTOMS,
            False,
        ),
        # one word replaced by another is a new post of a series
        (
            "منظومة حوكمة المحمول.. كل ما تريد معرفته عن الرسوم الجديدة",
            "منظومة حوكمة الحواسيب.. كل ما تريد معرفته عن الرسوم الجديدة",
            _CUSTOMS,
            False,
        ),
        # a short title over a common lead: a daily series ("أسعار الذهب اليوم الأحد")
        ("أسعار الهواتف اليوم", "أسعار الهواتف اليوم الأحد", _CUSTOMS, False),
    ],
    ids=["one-word-added", "same-title", "figure-added", "word-replaced", "daily-series"],
)
def test_a_source_posting_its_article_again_joins_its_story(
    first: str, second: str, summary: str, merge: bool
) -> None:
    a = make("a", first, summary, hours=0)
    b = make("b", second, summary, hours=15)
    result = file(a, b)
    assert (result[0][1] == result[1][1]) is merge


def test_a_source_posting_two_listings_alike_but_for_a_number_keeps_both() -> None:
    # craigslist: one title for two flats, "available June 14" and "June 22"
    lead = "Studio apartment 418 41st Street Oakland available June {} 2017 terms 1750 rent"
    title = "Studio upper floor in 1940s 6-plex hardwood backyard gas stove cat ok"
    a = make("a", title, lead.format(14))
    b = make("b", title, lead.format(22), hours=1)
    result = file(a, b)
    assert result[0][1] != result[1][1]


def test_a_story_takes_a_source_posting_its_article_again_at_most_twice() -> None:
    title = "منظومة حوكمة المحمول.. كل ما تريد معرفته عن الرسوم الجديدة"
    copies = [make(f"c{n}", title, _CUSTOMS, hours=n) for n in range(6)]
    stories = [story for _, story, _ in file(*copies)]
    assert stories.count(stories[0]) == 1 + dedupe._index.REPOSTS


def test_links_to_three_members_join_a_story_without_its_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A chain (C links to B, B to A) never pulls C into A's story; links to three of a
    story's members do (`CORROBORATION`), two do not."""
    from feeds.dedupe import _index

    links = {frozenset(p) for p in ("ab", "ac", "ad", "eb", "ec", "ed", "fb", "fc")}

    def score(x: object, y: object, common: object = frozenset()) -> float:
        pair = frozenset(ident[x] + ident[y])  # type: ignore[index]
        return 0.9 if pair in links else 0.0

    monkeypatch.setattr(_index, "_score", score)
    words = [
        "مدينة ساحلية تستضيف معرضا", "حكومة اقليمية تعلن برنامجا", "جامعة ناشئة تفتتح مختبرا",
        "شبكة محلية تطلق خدمة", "مؤسسة خيرية تدعم مبادرة", "بلدية صغيرة تختبر نظاما",
    ]  # fmt: skip
    arts = [  # one rare word in common, too little text for a wire copy
        make(k, f"زيلونكس {w}", source=f"s{k}", hours=n)
        for n, (k, w) in enumerate(zip("abcdef", words, strict=True))
    ]
    ident: dict[object, str] = {}
    real = _index.Member.features

    def features(self: Member) -> object:
        feats = real(self)
        ident[feats] = self.article_id
        return feats

    monkeypatch.setattr(_index.Member, "features", features)
    decided = {aid: story for aid, story, _ in file(*arts)}
    assert decided["b"] == decided["c"] == decided["d"] == decided["a"]
    assert decided["e"] == decided["a"]  # three links, none to the first
    assert decided["f"] != decided["a"]  # two: a chain, not corroboration


CITIES = ["الرياض", "جدة", "القاهرة", "الإسكندرية", "دبي", "بيروت", "بغداد", "الكويت"]


@pytest.mark.parametrize(
    "template",
    [
        "مواقيت الصلاة في {} اليوم الاثنين",
        "حالة الطقس في {} اليوم: أجواء معتدلة",
        "افتتاح متجر جديد لأبل في {}",
    ],
)
def test_one_template_for_several_places_is_several_stories(template: str) -> None:
    # Sixteen sources, one city each, made one story of each template: the titles and
    # leads are the same words but the place, which is no evidence of one story.
    lead = "تعرف على التفاصيل في {} اليوم حسب المصادر الرسمية."
    arts = [
        make(f"c{n}", template.format(city), lead.format(city), source=f"s{n}", hours=n / 10)
        for n, city in enumerate(CITIES)
    ]
    filed = dedupe.assign_pending([], (Member.of(a, "") for a in arts))
    assert len({f.story_id for f in filed}) == len(CITIES)


def test_a_city_and_its_country_and_two_countries_of_one_story_still_join() -> None:
    from feeds.dedupe._pairs import places_differ

    city = make("a", "stc تطلق الجيل الخامس المتقدم في الرياض", "بسرعات تصل إلى 10 جيجابت.")
    land = make(
        "b", "stc تطلق الجيل الخامس المتقدم في السعودية", "بسرعات 10 جيجابت.", source="b", hours=1
    )
    filed = dedupe.assign_pending([], (Member.of(a, "") for a in (city, land)))
    assert len({f.story_id for f in filed}) == 1
    # A company of one country and a market of another, in titles unlike each other:
    # fresh's "Zar3ty تستهدف السوق السعودية …" and "«زرعتي» المصرية تجمع …" are one story.
    titles = ("Zar3ty تستهدف السوق السعودية بعد جولة تمويل", "«زرعتي» المصرية تجمع 7 ملايين دولار")
    a, b = (Prepared.of(match_key(t), match_key(t)).features() for t in titles)
    assert not places_differ(a, b)
    c, d = (
        Prepared.of(match_key(t), "").features()
        for t in ("مواقيت الصلاة في القاهرة اليوم", "مواقيت الصلاة في الإسكندرية اليوم")
    )
    assert places_differ(c, d)
