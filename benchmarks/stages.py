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
from typing import TypeVar

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import feedparser

    bodies = list(corpus.generate(args.sources, args.items, seed=args.seed).values())
    now = datetime.now(UTC)
    rows: list[tuple[str, float, float]] = []
    # feedparser as installed, before anything of feeds is imported: `feeds.parse` gives
    # feedparser's dict faster paths (same results), which would flatter the floor.
    feedparser.parse(bodies[0])
    timed("feedparser alone (default options)", rows,
          lambda: [feedparser.parse(b) for b in bodies])  # fmt: skip

    from feeds import config, normalize, parse, pipeline
    from feeds.types import Article, FetchResult, Validators

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

        feeds_ = timed("parse (feedparser as feeds calls it)", rows,
                       lambda: [parse.parse(r) for r in results])  # fmt: skip

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
            timed("cluster and classify", rows, lambda: pipeline.cluster(store, now, since=now))
            timed("publish (select, render, write)", rows, lambda: pipeline.publish_all(cfg, store))

    (_, _, floor), *stages = rows
    total_cpu = sum(cpu for _, _, cpu in stages)
    print(f"{args.sources} sources x {args.items} items: {articles:,} articles, one process")
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
