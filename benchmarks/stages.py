"""What each stage of a cold pass costs per article, in one process, beside feedparser alone.

The benchmark corpus (benchmarks/corpus.py) goes through every stage in turn, with no
HTTP and no pool, so each stage's time is its own: feedparser as `feeds.parse` calls it,
normalizing, `pipeline.derive` (matching features and topic scores), saving into an
SQLite file, clustering (with classifying) and publishing. The sum is the CPU a pass
needs whatever it runs on; on two cores a pass can take no less than half of it, which
is what to hold against "feedparser alone" (default options, every body, one process).

    .venv/bin/python benchmarks/stages.py [--sources 200] [--items 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (a sibling script, not a package)
import run as bench  # noqa: E402

T = TypeVar("T")


def timed(label: str, rows: list[tuple[str, float, float]], fn: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    rows.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    return out


def _timing_classify() -> list[float]:
    """Time `classify_stories` apart from the clustering that calls it: [wall, CPU]."""
    from feeds.pipeline import _cluster

    spent = [0.0, 0.0]
    inner = _cluster.classify_stories

    def classify(*args: object, **kwargs: object) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return inner(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    _cluster.classify_stories = classify  # type: ignore[assignment]
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vocabulary", type=int, default=6000, help="derived words (6000)")
    parser.add_argument(
        "--length",
        choices=sorted(corpus.LENGTHS),
        default="full",
        help="item text: title, excerpt, full (about 600 characters), long (10 KB)",
    )
    parser.add_argument(
        "--near-dup",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of items that retell another source's story (0)",
    )
    parser.add_argument("--format", choices=("rss", "atom", "json", "mixed"), default="rss")
    parser.add_argument(
        "--real", metavar="DIR", help="instead: the saved real feeds in DIR, repeated to --sources"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    import feedparser

    if args.real:
        saved = sorted(p.read_bytes() for p in Path(args.real).iterdir() if p.suffix != ".tsv")
        bodies = [saved[n % len(saved)] for n in range(args.sources)]
    else:
        shape = corpus.Shape(args.vocabulary, args.length, args.near_dup, args.format)
        bodies = list(
            corpus.generate(args.sources, args.items, seed=args.seed, shape=shape).values()
        )
    now = datetime.now(UTC)
    rows: list[tuple[str, float, float]] = []
    # feedparser as installed, before anything of feeds is imported: `feeds.parse` gives
    # feedparser's dict faster paths (same results), which would flatter the floor.
    feedparser.parse(bodies[0])
    timed("feedparser alone (default options)", rows,
          lambda: [feedparser.parse(b) for b in bodies])  # fmt: skip

    from feeds import config, normalize, parse, pipeline
    from feeds.errors import ParseError
    from feeds.types import Article, FetchResult, ParsedFeed, Validators

    with tempfile.TemporaryDirectory(prefix="feeds-stages-") as tmp:
        urls = [f"http://127.0.0.1:9/feed/{n}.xml" for n in range(len(bodies))]
        cfg = config.load(str(bench.write_config(Path(tmp), urls)))
        rss = (("content-type", "application/rss+xml"),)
        results = [
            FetchResult(src.url, src.url, 200, body, rss, Validators(), now)
            for src, body in zip(cfg.sources, bodies, strict=True)
        ]
        # Imports and first-use tables out of the per-article stages' timings, as pool
        # workers have them (preloaded by the forkserver). The end of the pass keeps
        # its imports (feedgen...): a pass pays them once, in its own process.
        warm = parse.parse(results[0])
        one = normalize.article(warm.entries[0], warm, cfg.sources[0], fetched_at=now,
                                first_seen=now)  # fmt: skip
        assert one is not None
        pipeline.derive(one)

        def parse_all() -> list[Any]:
            out = []
            for r in results:
                try:
                    out.append(parse.parse(r))
                except ParseError:  # a saved real file that is no feed: a pass skips it too
                    out.append(ParsedFeed(url=r.url))
            return out

        feeds_ = timed("parse (feedparser as feeds calls it)", rows, parse_all)

        def normalize_all() -> list[list[Article]]:
            return [
                [a for e in feed.entries
                 if (a := normalize.article(e, feed, src, fetched_at=now, first_seen=now))]
                for feed, src in zip(feeds_, cfg.sources, strict=True)
            ]  # fmt: skip

        per_source = timed("normalize", rows, normalize_all)
        derived = timed(
            "derive (matching features, topic scores)", rows,
            lambda: [{a.id: pipeline.derive(a) for a in arts} for arts in per_source],
        )  # fmt: skip
        articles = sum(len(arts) for arts in per_source)
        with pipeline.open_for(cfg) as store:
            store.sync_sources(cfg.sources)

            def save() -> None:
                for arts, by_id in zip(per_source, derived, strict=True):
                    store.save_articles(arts, now, by_id)

            timed("save (SQLite file)", rows, save)
            classified = _timing_classify()
            timed("cluster (with classify)", rows, lambda: pipeline.cluster(store, now, since=now))
            label, wall, cpu = rows.pop()
            rows.append(("cluster", wall - classified[0], cpu - classified[1]))
            rows.append(("classify", *classified))
            timed("publish (select, render, write)", rows, lambda: pipeline.publish_all(cfg, store))
            stories = len(store.recent_stories(10**9))

    (_, _, floor), *stages = rows
    total_cpu = sum(cpu for _, _, cpu in stages)
    if args.json:
        import json

        tail = ("save (SQLite file)", "cluster", "classify", "publish (select, render, write)")
        print(json.dumps({
            "articles": articles, "stories": stories, "feedparser_cpu": floor,
            "stages": {label: {"wall": wall, "cpu": cpu} for label, wall, cpu in rows},
            "tail_wall": sum(wall for label, wall, _ in rows if label in tail),
            "total_cpu": total_cpu,
        }))  # fmt: skip
        return
    print(f"{args.sources} sources x {args.items} items: {articles:,} articles, "
          f"{stories:,} stories, one process")  # fmt: skip
    print(f"{'stage':44} {'wall s':>7} {'CPU s':>7} {'ms/article':>11}")
    for label, wall, cpu in rows:
        print(f"{label:44} {wall:7.2f} {cpu:7.2f} {cpu / articles * 1e3:11.3f}")
    print(f"{'all stages of feeds':44} {'':7} {total_cpu:7.2f} {total_cpu / articles * 1e3:11.3f}")
    print(
        f"a pass on 2 cores needs at least {total_cpu / 2:.2f} s "
        f"({total_cpu / 2 / floor:.2f}x feedparser alone, {floor:.2f} s of CPU)"
    )


if __name__ == "__main__":
    main()
