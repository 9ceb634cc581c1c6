"""Story clustering benchmark: quality on a labelled set, and incremental speed.

Run from the repository root::

    python benchmarks/clustering.py            # quality + speed (about a minute)
    python benchmarks/clustering.py --quick    # quality only

Quality: benchmarks/data/clustering.jsonl holds hand-written Arabic tech-news articles
(title, 1-3 sentence summary, source, published time, canonical URL, gold `story`
label), from sources with different spelling habits (Egyptian ج, Levantine غ, Gulf),
with many hard negatives (same company, same week, another event). Every article is
filed by `assign_pending` into an empty index, oldest first as a pass files them, and
the predicted partition is scored pairwise: a pair of articles is a true positive when
both the prediction and the gold labels put them in one story. Printed beside an
exact-title-only baseline and the same articles filed newest first. Targets: precision
>= 0.95, recall >= 0.90.

Speed, on synthetic articles (templates over brands, products, numbers and verbs, with
WordPress-style guids, from 40 sources); each pass figure is the best of three runs:

- incremental pass (the target, < 2 s): a real SQLite store holding 100,000 articles
  spread over 60 days, each already in a story and with the texts the parse stage
  stores (`pipeline.derive`), plus 1,000 new unassigned ones from the last two days.
  The time is all of `pipeline.cluster` on a fresh copy of the file: the SQL reads,
  building the index over the window, filing, the writes and classifying the touched
  stories. "result" is a digest of every (article, story) pair written, to check that
  a change to the code left the clustering as it was.
- worst case: the index built in memory from all 100,000 stored texts (what a pass
  does when the window covers the whole store), then the same 1,000 assigned.
- cold pass: 8,000 new articles from one day (a first pass over 200 sources) clustered
  into an empty store by `pipeline.cluster`.
- recovery (`--recovery`, alone in its process so its peak memory is its own): 30,000
  pending articles over ten days, the backlog of killed passes, clustered into an empty
  store; CPU seconds and the growth of peak RSS during `pipeline.cluster`.

The store files are written once into the temp folder (a few minutes: every article's
`pipeline.derive` runs, in a process pool) and reused while the articles, the stored
format and the schema stay the same.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feeds import pipeline
from feeds.arabic.matching import match_key
from feeds.dedupe import Member, Prepared, assign_pending
from feeds.store import SCHEMA_VERSION, MatchRow, open_store
from feeds.types import Article, DateSource, SourceConfig

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


def clustered(articles: Sequence[Article]) -> dict[str, str]:
    """Each article's story, the articles filed in the order given."""
    pending = [Member.of(a, "") for a in articles]
    return {aid: story for aid, story, _ in assign_pending((), pending)}


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
    oldest_first = sorted(articles, key=lambda a: (a.published, a.id))
    rows = [
        ("exact title only (baseline)", exact_title(articles)),
        ("filed oldest first", clustered(oldest_first)),
        ("filed newest first", clustered(oldest_first[::-1])),
    ]
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
    # Zipf-like word frequencies, accumulated once: `choices` would redo it on every call.
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocab))))
    out = []
    for i in range(n):
        brand, product = rng.choice(_BRANDS), rng.choice(_PRODUCTS)
        model = f"{rng.choice('ABMSXZ')}{rng.randint(1, 99)}"
        extra = " ".join(rng.choices(vocab, cum_weights=weights, k=3))
        title = f"{brand} {rng.choice(_VERBS)} {product} {model} {rng.choice(_PLACES)} {extra}"
        lead = " ".join(rng.choices(vocab, cum_weights=weights, k=25))
        lead += f" بسعر {rng.randint(100, 2000)} دولار"
        when = start + span * rng.random()
        src = f"https://source{rng.randint(1, 40)}.example/feed"
        guid = f"{src.removesuffix('/feed')}/?p={seed}{i:06d}"  # WordPress-style, absolute
        out.append(article(f"syn{seed}-{i}", src, f"{src}/p/{seed}/{i}", title, lead, when, guid))
    return sorted(out, key=lambda a: (a.published, a.id))


def _sources(articles: Sequence[Article]) -> list[SourceConfig]:
    return [SourceConfig(url=u, name=u) for u in sorted({a.source_url for a in articles})]


def _store_file(name: str, stored: Sequence[Article], pending: Sequence[Article]) -> Path:
    """A store file holding `stored` (each in a story of its own) and `pending` (in none).

    Setup, not timed: made once into the temp folder and reused while the articles, the
    stored texts' format (a sample of `pipeline.derive`) and the schema stay the same.
    """
    sample = pipeline.derive((stored or pending)[0])
    spec = hashlib.sha1(f"{name} {sample} {SCHEMA_VERSION} {_FILL_VERSION}".encode())
    for a in (*stored, None, *pending):
        spec.update(repr(a).encode())
    digest = spec.hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"feeds-bench-clustering-{name}-{digest}.db"
    if path.exists():
        return path
    print(f"(setup: writing {path.name}, once)", file=sys.stderr)
    everything = [*stored, *pending]
    with ProcessPoolExecutor() as pool:
        texts = pool.map(pipeline.derive, everything, chunksize=500)
        derived = dict(zip((a.id for a in everything), texts, strict=True))
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = open_store(str(partial))
    try:
        store.sync_sources(_sources(everything))
        if stored:
            store.save_articles(stored, stored[-1].published, derived)
            store.assign([(a.id, "s" + a.id, True) for a in stored], stored[-1].published)
            # Classified, as every story a pass files is; an unclassified story would be
            # classified again by the timed pass (`Store.unclassified_stories`).
            pipeline.classify_stories(store, ["s" + a.id for a in stored])
        store.save_articles(pending, pending[-1].published, derived)
    finally:
        store.close()
    partial.rename(path)
    return path


_FILL_VERSION = 3  # bump when _store_file writes something different


def timed_pass(template: Path, now: datetime, repeat: int) -> tuple[float, int, int, str]:
    """Best of `repeat` `pipeline.cluster` runs, each on a fresh copy of `template`.

    Returns (seconds, articles filed, articles that did not start a story, a digest of
    every (article, story) pair written), the digest to check results across versions.
    """
    best = math.inf
    digest = ""
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeat):
            path = Path(folder) / "feeds.db"
            shutil.copyfile(template, path)
            store = open_store(str(path))
            try:
                filed = store.unassigned_match_rows()
                before = set(store.stories_touched_since(datetime(1970, 1, 1, tzinfo=UTC)))
                t0 = time.perf_counter()
                pipeline.cluster(store, now, since=now)
                best = min(best, time.perf_counter() - t0)
                stories = {r.id: r.story_id for r in store.match_rows_since(filed[0].published)}
                created = set(stories.values()) - before
            finally:
                store.close()
            pairs = sorted((r.id, stories[r.id]) for r in filed)
            digest = hashlib.sha1(repr(pairs).encode()).hexdigest()[:12]
    return best, len(filed), len(filed) - len(created), digest


def in_memory(rows: Sequence[MatchRow], new: Sequence[MatchRow]) -> tuple[float, float, int]:
    """(index build seconds, assignment seconds, articles that did not start a story) with every
    stored row indexed, through `assign_pending` as a pass calls it."""

    def members(some: Sequence[MatchRow]) -> Iterator[Member]:
        for r in some:
            prepared = Prepared.loads(r.match_features)
            assert prepared is not None  # the file was written by this code
            yield Member(
                r.id, r.story_id or "", r.source_url, r.canonical_url, r.guid, r.title_key,
                r.published, prepared,
            )  # fmt: skip
        built.append(time.perf_counter())  # the index has taken the last stored row

    built: list[float] = []
    t0 = time.perf_counter()
    result = assign_pending(members(rows), members(new))
    took = time.perf_counter() - t0
    joined = sum(1 for _, _, created in result if not created)
    return built[0] - t0, took - (built[0] - t0), joined


def speed(stored: int = 100_000, new: int = 1_000, cold: int = 8_000, repeat: int = 3) -> None:
    start = datetime(2025, 7, 1, tzinfo=UTC)
    end = start + timedelta(days=60)
    old = synthetic(stored, start, timedelta(days=60), seed=1)
    fresh = synthetic(new, end - timedelta(days=2), timedelta(days=2), seed=2)
    template = _store_file("incremental", old, fresh)
    took, filed, joined, digest = timed_pass(template, end + timedelta(hours=1), repeat)
    print(
        f"incremental pass: {filed:,} new articles against {stored:,} stored (SQLite file), "
        f"pipeline.cluster in {took:.2f} s ({joined} joined existing stories; "
        f"result {digest}); target < 2 s"
    )
    store = open_store(str(template))
    try:
        rows = store.match_rows_since(start - timedelta(days=1))
        pending = store.unassigned_match_rows()
    finally:
        store.close()
    built, assigned, joined = in_memory(rows, pending)
    print(
        f"worst case: index of all {len(rows):,} stored built in memory in {built:.1f} s "
        f"from their stored texts; {len(pending):,} new assigned into it in {assigned:.2f} s "
        f"({joined} joined existing stories)"
    )
    day = synthetic(cold, end, timedelta(days=1), seed=3)
    template = _store_file("cold", [], day)
    took, filed, joined, digest = timed_pass(template, end + timedelta(days=1), repeat)
    print(
        f"cold pass: {filed:,} new articles (one day) into an empty store, "
        f"pipeline.cluster in {took:.2f} s (result {digest})"
    )


def recovery(pending: int = 30_000, days: int = 10) -> None:
    """The backlog killed passes leave, filed by one `pipeline.cluster` (in batches), in
    a process of its own: the setup's memory is not counted."""
    import subprocess

    start = datetime(2025, 7, 1, tzinfo=UTC)
    template = _store_file("recovery", [], synthetic(pending, start, timedelta(days=days), 11))
    now = (start + timedelta(days=days + 1)).isoformat()
    measured = subprocess.run(
        [sys.executable, __file__, "--recovery-file", str(template), now],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    cpu, grew = measured.stdout.split()
    print(
        f"recovery: {pending:,} pending articles over {days} days, pipeline.cluster in "
        f"{float(cpu):.1f} s CPU, peak RSS up {int(grew) / 1024:.0f} MB "
        f"(batches of {pipeline.BATCH:,})"
    )


def _recovery_run(template: str, now: str) -> None:
    import resource

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feeds.db"
        shutil.copyfile(template, path)
        store = open_store(str(path))
        try:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            cpu = time.process_time()
            when = datetime.fromisoformat(now)
            pipeline.cluster(store, when, since=when - timedelta(days=30))
            cpu = time.process_time() - cpu
            grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        finally:
            store.close()
    print(f"{cpu:.2f} {grew}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quality only, no speed run")
    parser.add_argument("--recovery", action="store_true", help="only the backlog run")
    parser.add_argument("--recovery-file", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrong pairs")
    args = parser.parse_args()
    if args.recovery_file:
        _recovery_run(*args.recovery_file)
        return
    if args.recovery:
        recovery()
        return
    quality(args.verbose)
    if not args.quick:
        speed()


if __name__ == "__main__":
    main()
