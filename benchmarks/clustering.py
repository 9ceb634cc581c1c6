"""Story clustering benchmark: quality on a labelled set, and incremental speed.

Run from the repository root::

    python benchmarks/clustering.py            # quality + speed (about a minute)
    python benchmarks/clustering.py --quick    # quality only

Quality: benchmarks/data/clustering.jsonl holds hand-written Arabic tech-news articles
(title, 1-3 sentence summary, source, published time, canonical URL, gold `story`
label), from sources with different spelling habits (Egyptian ج, Levantine غ, Gulf),
with many hard negatives (same company, same week, another event). Every article is
fed to a fresh `StoryIndex` with `assign_all`, and the predicted partition is scored
pairwise: a pair of articles is a true positive when both the prediction and the gold
labels put them in one story. Printed beside an exact-title-only baseline and each
anti-chaining rule. Targets: precision >= 0.95, recall >= 0.90.

Speed: an index of 100,000 synthetic stored articles (templates over brands, products,
numbers and verbs, spread over 60 days) is built, then 1,000 new ones are assigned;
the assignment time is the figure (target < 2 s). Building the index is reported too.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feeds.arabic.matching import match_key
from feeds.dedupe import Member, Prepared, StoryIndex, assign_all
from feeds.types import Article, DateSource

DATA = Path(__file__).parent / "data" / "clustering.jsonl"


def article(
    ident: str,
    source_url: str,
    url: str,
    title: str,
    summary: str,
    published: datetime,
    guid: str | None = None,
) -> Article:
    return Article(
        id=ident,
        source_url=source_url,
        guid=guid,
        url=url,
        canonical_url=url,
        title=title,
        summary_html=summary,
        content_html="",
        published=published,
        date_source=DateSource.FEED,
        first_seen=published,
        language="ar",
        title_key=match_key(title),
        text_key=match_key(summary),
        content_hash=ident,
    )


def load(path: Path = DATA) -> tuple[list[Article], dict[str, str]]:
    articles, gold = [], {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        when = datetime.fromisoformat(row["published"].replace("Z", "+00:00")).astimezone(UTC)
        articles.append(
            article(
                row["id"],
                row["source_url"],
                row["canonical_url"],
                row["title"],
                row["summary"],
                when,
            )
        )
        gold[row["id"]] = row["story"]
    return articles, gold


def pairs(labels: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for ident, label in labels.items():
        groups[label].append(ident)
    return {
        (a, b) for members in groups.values() for a, b in itertools.combinations(sorted(members), 2)
    }


def prf(predicted: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    p, g = pairs(predicted), pairs(gold)
    tp = len(p & g)
    precision = tp / len(p) if p else 1.0
    recall = tp / len(g) if g else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def exact_title(articles: Iterable[Article]) -> dict[str, str]:
    return {a.id: a.title_key for a in articles}


def clustered(articles: Sequence[Article], **options: object) -> dict[str, str]:
    index = StoryIndex(**options)  # type: ignore[arg-type]
    return {aid: story for aid, story, _ in assign_all(index, articles)}


def report_errors(predicted: dict[str, str], gold: dict[str, str], titles: dict[str, str]) -> None:
    p, g = pairs(predicted), pairs(gold)
    for kind, wrong in (("false merge", p - g), ("missed", g - p)):
        for a, b in sorted(wrong):
            print(f"  {kind}: {titles[a]}  <>  {titles[b]}")


def quality(verbose: bool) -> None:
    articles, gold = load()
    sources = {a.source_url for a in articles}
    multi = sum(
        1
        for label in set(gold.values())
        if len({a.source_url for a in articles if gold[a.id] == label}) > 1
    )
    print(
        f"labelled set: {len(articles)} articles, {len(sources)} sources, "
        f"{len(set(gold.values()))} stories ({multi} multi-source), {len(pairs(gold))} gold pairs"
    )
    print(f"{'method':<34}{'precision':>10}{'recall':>10}{'F1':>10}")
    rows = [("exact title only (baseline)", exact_title(articles))]
    for cohesion in ("first", "majority", "none"):
        rows.append((f"StoryIndex cohesion={cohesion}", clustered(articles, cohesion=cohesion)))
    shuffled = list(reversed(articles))
    rows.append(("StoryIndex, input reversed", clustered(shuffled)))
    for name, predicted in rows:
        precision, recall, f1 = prf(predicted, gold)
        print(f"{name:<34}{precision:>10.3f}{recall:>10.3f}{f1:>10.3f}")
    if verbose:
        report_errors(rows[1][1], gold, {a.id: a.title for a in articles})


# --------------------------------------------------------------------------- speed

_BRANDS = [
    "آبل",
    "سامسونج",
    "غوغل",
    "مايكروسوفت",
    "شاومي",
    "هواوي",
    "إنفيديا",
    "ميتا",
    "أمازون",
    "سوني",
    "تسلا",
    "أوبو",
    "لينوفو",
    "إنتل",
    "كوالكوم",
    "أوبن إيه آي",
]
_PRODUCTS = [
    "هاتف",
    "حاسوب",
    "ساعة ذكية",
    "نظارة",
    "معالج",
    "تطبيق",
    "نموذج ذكاء اصطناعي",
    "خدمة سحابية",
    "سماعات",
    "جهاز لوحي",
    "شاشة",
    "متصفح",
]
_VERBS = ["تطلق", "تكشف عن", "تختبر", "تؤجل", "تحدث", "تسرب", "تعلن", "تخفض سعر"]
_PLACES = ["في السعودية", "في مصر", "في الإمارات", "عالميا", "في أوروبا", "في الهند", "في الصين"]
_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    """Pseudo-words: news text has a large vocabulary, and leads repeat only a few words."""
    return ["".join(rng.choices(_LETTERS, k=rng.randint(3, 7))) for _ in range(size)]


def synthetic(n: int, start: datetime, span: timedelta, seed: int) -> list[Article]:
    rng = random.Random(seed)
    vocab = _vocabulary(random.Random(0))
    weights = [1 / (rank + 1) for rank in range(len(vocab))]  # Zipf-like word frequencies
    out = []
    for i in range(n):
        brand, product = rng.choice(_BRANDS), rng.choice(_PRODUCTS)
        model = f"{rng.choice('ABMSXZ')}{rng.randint(1, 99)}"
        extra = " ".join(rng.choices(vocab, weights, k=3))
        title = f"{brand} {rng.choice(_VERBS)} {product} {model} {rng.choice(_PLACES)} {extra}"
        lead = " ".join(rng.choices(vocab, weights, k=25)) + f" بسعر {rng.randint(100, 2000)} دولار"
        when = start + span * rng.random()
        src = f"https://source{rng.randint(1, 40)}.example/feed"
        out.append(article(f"syn{seed}-{i}", src, f"{src}/p/{seed}/{i}", title, lead, when))
    return sorted(out, key=lambda a: (a.published, a.id))


def speed(stored: int = 100_000, new: int = 1_000) -> None:
    start = datetime(2025, 7, 1, tzinfo=UTC)
    old = synthetic(stored, start, timedelta(days=60), seed=1)
    members = [Member.of(a, "s" + a.id) for a in old]
    t0 = time.perf_counter()
    StoryIndex(members)
    from_keys = time.perf_counter() - t0
    # As the pass rebuilds it: from each article's preparation stored by the parse stage
    # (decoding the stored text is part of the cost).
    stored_texts = [Prepared.of(a.title_key, a.text_key).dumps() for a in old]
    t0 = time.perf_counter()
    index = StoryIndex(
        replace(m, text_key="", prepared=Prepared.loads(text))
        for m, text in zip(members, stored_texts, strict=True)
    )
    built = time.perf_counter() - t0
    fresh = synthetic(new, start + timedelta(days=58), timedelta(days=2), seed=2)
    t0 = time.perf_counter()
    result = assign_all(index, fresh)
    took = time.perf_counter() - t0
    joined = sum(1 for _, _, created in result if not created)
    print(f"index of {stored:,} stored articles built in {from_keys:.1f} s from their keys, "
          f"{built:.1f} s from stored preparations")  # fmt: skip
    print(
        f"incremental run: {new:,} new articles assigned in {took:.2f} s "
        f"({joined} joined existing stories); target < 2 s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quality only, no speed run")
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrong pairs")
    args = parser.parse_args()
    quality(args.verbose)
    if not args.quick:
        speed()


if __name__ == "__main__":
    main()
