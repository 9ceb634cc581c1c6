"""The single-core tail of a pass (save, cluster, classify, publish) on corpora of
different shapes, beside the stages before it, each corpus in a process of its own.

The default benchmark corpus flatters the tail (issue 24): every item is its own story,
of one length, in one format, from a 6,000-word vocabulary. These corpora vary one thing
at a time: the vocabulary, the item length, the share of near-duplicates (rewrites of
another source's story), the feed format, and the saved real feeds repeated.

    .venv/bin/python benchmarks/shapes.py [--sources 200] [--items 40] [--real DIR]

`--real` defaults to ../shared/corpus/real beside the checkout, when it is there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: name, stages.py options, items per feed (None: --items). Long items come 10 a feed so
#: that the corpus stays under 100 MB.
SHAPES: tuple[tuple[str, list[str], int | None], ...] = (
    ("default (6,000 words, full, 0 %, RSS)", [], None),
    ("vocabulary 1,500", ["--vocabulary", "1500"], None),
    ("vocabulary 20,000", ["--vocabulary", "20000"], None),
    ("titles only", ["--length", "title"], None),
    ("excerpts (160 characters)", ["--length", "excerpt"], None),
    ("10 KB full text", ["--length", "long"], 10),
    ("near-duplicates 10 %", ["--near-dup", "0.1"], None),
    ("near-duplicates 40 %", ["--near-dup", "0.4"], None),
    ("Atom", ["--format", "atom"], None),
    ("JSON Feed", ["--format", "json"], None),
    ("RSS, Atom and JSON mixed", ["--format", "mixed"], None),
)
TAIL = ("save (SQLite file)", "cluster", "classify", "publish (select, render, write)")
BEFORE = (
    "parse (feedparser as feeds calls it)",
    "normalize",
    "derive (matching features, topic scores)",
)


def run(options: list[str], sources: int, items: int) -> dict[str, object]:
    cmd = [sys.executable, str(HERE / "stages.py"), "--sources", str(sources),
           "--items", str(items), "--json", *options]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--real", default=str(HERE.parent.parent / "shared" / "corpus" / "real"))
    args = parser.parse_args()
    shapes = list(SHAPES)
    if Path(args.real).is_dir():
        shapes.append(
            (f"real feeds repeated ({args.real.rsplit('/', 1)[-1]})", ["--real", args.real], None)
        )
    head = (
        f"{'corpus':40} {'articles':>8} {'stories':>7} {'before':>7} {'save':>6} {'cluster':>7} "
        f"{'classify':>8} {'publish':>7} {'tail s':>7} {'ms/art':>7}"
    )
    print(
        f"{args.sources} sources; CPU seconds per stage (before = parse + normalize + derive); "
        "tail s = wall seconds of the single-core tail"
    )
    print(head)
    for name, options, items in shapes:
        got = run(options, args.sources, items or args.items)
        stages = got["stages"]
        assert isinstance(stages, dict)
        before = sum(stages[s]["cpu"] for s in BEFORE)
        cells = [stages[s]["cpu"] for s in TAIL]
        tail = float(got["tail_wall"])  # type: ignore[arg-type]
        articles = int(got["articles"])  # type: ignore[call-overload]
        print(
            f"{name:40} {articles:8,} {int(got['stories']):7,} {before:7.2f} "  # type: ignore[call-overload]
            f"{cells[0]:6.2f} {cells[1]:7.2f} {cells[2]:8.2f} {cells[3]:7.2f} {tail:7.2f} "
            f"{tail / articles * 1e3:7.3f}"
        )


if __name__ == "__main__":
    main()
