"""Fit the rewrite tier's pair weights (feeds/data/pair_weights.tsv) on labelled sets.

Run from the repository root::

    python benchmarks/fit_pairs.py              # fit on tune + clustering, print, write
    python benchmarks/fit_pairs.py --dry-run    # print only
    python benchmarks/fit_pairs.py --cv         # leave-one-story-out check first

Every pair of articles from two sources within the window (`dedupe.WINDOW`) that no
hard guard keeps apart (`_pairs.guarded`) is one example: positive when the two share
a story label. The model is a logistic regression with an L2 penalty (`--l2`), fitted
by Newton's method on the features of `feeds.dedupe._pairs.FEATURES`, computed by the
code a pass runs (`normalize.article`, `Prepared.of`). Never fit on a held-out set
(heldout, fresh): its figures would stop saying how the method does on unseen stories.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import storyset

from feeds import dedupe
from feeds.dedupe import _pairs

OUT = Path(__file__).resolve().parent.parent / "feeds" / "data" / "pair_weights.tsv"
SETS = ("tune", "clustering")


def examples(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features, labels, story group of each pair) over every unguarded pair."""
    xs: list[tuple[float, ...]] = []
    ys: list[float] = []
    groups: list[str] = []
    for name in names:
        _, path = storyset.resolve(name)
        rows = storyset.load(path)
        made, row_of = storyset.make_articles(rows)
        story = {r.id: r.story for r in rows}
        feats = [(a, dedupe.Prepared.of(a.title_key, a.text_key).features()) for a in made]
        for (a, fa), (b, fb) in itertools.combinations(feats, 2):
            if a.source_url == b.source_url or abs(a.published - b.published) > dedupe.WINDOW:
                continue
            x = _pairs.pair_features(fa, fb)
            if x is None:
                continue
            sa, sb = story[row_of[a.id]], story[row_of[b.id]]
            xs.append(x)
            ys.append(float(sa == sb))
            groups.append(f"{name}:{min(sa, sb)}")
    return np.array(xs), np.array(ys), groups


def fit(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression (the intercept unpenalised), by Newton's method."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ w))
        grad = design.T @ (p - y) + penalty * w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def cross_validate(x: np.ndarray, y: np.ndarray, groups: list[str], l2: float) -> np.ndarray:
    """Each pair's probability from a model fitted without its story's pairs."""
    out = np.zeros(len(y))
    labels = np.array(groups)
    for group in sorted(set(groups)):
        held = labels == group
        w, b = fit(x[~held], y[~held], l2)
        out[held] = 1 / (1 + np.exp(-(x[held] @ w + b)))
    return out


def report(p: np.ndarray, y: np.ndarray) -> None:
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        link = p >= threshold
        tp = int((link & (y == 1)).sum())
        print(
            f"  threshold {threshold:.1f}: {tp}/{int(y.sum())} positive pairs linked, "
            f"{int((link & (y == 0)).sum())} negative pairs linked"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", dest="sets", help="default: tune, clustering")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty (default 1.0)")
    parser.add_argument(
        "--threshold", type=float, default=0.42, help="link probability (default 0.42)"
    )
    parser.add_argument("--cv", action="store_true", help="leave-one-story-out report")
    parser.add_argument("--dry-run", action="store_true", help="do not write the table")
    args = parser.parse_args(argv)
    names = args.sets or SETS
    x, y, groups = examples(names)
    print(f"{len(y)} unguarded pairs ({int(y.sum())} positive) from {', '.join(names)}")
    if args.cv:
        print("leave-one-story-out:")
        report(cross_validate(x, y, groups, args.l2), y)
    w, b = fit(x, y, args.l2)
    print("fitted on all:")
    report(1 / (1 + np.exp(-(x @ w + b))), y)
    lines = [
        "# Pair scorer weights (feeds/dedupe/_pairs.py), written by benchmarks/fit_pairs.py",
        f"# fitted on {', '.join(names)}: {len(y)} pairs, {int(y.sum())} positive, l2 {args.l2}",
        *(f"{name}\t{weight:.4f}" for name, weight in zip(_pairs.FEATURES, w, strict=True)),
        f"bias\t{b:.4f}",
        f"threshold\t{args.threshold}",
    ]
    print("\n".join(lines))
    if not args.dry_run:
        OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
