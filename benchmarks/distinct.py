"""Wrong merges on generated articles that are all different stories.

Run from the repository root::

    .venv/bin/python benchmarks/distinct.py                 # the three corpora below
    .venv/bin/python benchmarks/distinct.py --sources 100   # smaller, faster

Every article of `benchmarks/corpus.py` is its own story: a brand, words drawn Zipf-like
from a derived vocabulary, a bare number, and leads full of the field's everyday words.
On a busy day many of them name one company and a number, which is what makes them
hard. Each corpus is served on 127.0.0.1 and read by one `feeds run --all`, the path a
user's pass takes; the figure is how many stories hold more than one article (every
one of them is a wrong merge) and how many articles those hold. Corpora: seeds 7 and
3 with the default vocabulary (6,000 words), and seed 5 with 20,000 words. Takes about
a minute.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
import run

CORPORA = ((7, 6000), (3, 6000), (5, 20000))


def wrong_merges(sources: int, items: int, seed: int, vocabulary: int) -> tuple[int, int, int]:
    """(articles, stories with more than one article, articles in them)."""
    bodies = corpus.generate(sources, items, seed=seed, vocabulary=vocabulary)
    with (
        tempfile.TemporaryDirectory(prefix="feeds-distinct-") as tmp,
        corpus.CorpusServer(bodies, hosts=min(sources, 32)) as server,
    ):
        cfg = run.write_config(Path(tmp), list(server.urls()))
        subprocess.run(
            [*run.FEEDS, "run", "--all", "-c", str(cfg)], check=True, capture_output=True
        )
        with sqlite3.connect(Path(tmp) / "feeds.db") as db:
            (articles,) = db.execute("SELECT count(*) FROM articles").fetchone()
            merged, members = db.execute(
                "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n "
                "FROM articles GROUP BY story_id HAVING count(*) > 1)"
            ).fetchone()
    return articles, merged, members


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--items", type=int, default=40)
    args = parser.parse_args(argv)
    print(f"{'seed':>4} {'vocabulary':>10} {'articles':>8} {'merged stories':>14} {'in them':>8}")
    for seed, vocabulary in CORPORA:
        articles, merged, members = wrong_merges(args.sources, args.items, seed, vocabulary)
        print(f"{seed:>4} {vocabulary:>10,} {articles:>8,} {merged:>14,} {members:>8,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
