"""The rewrite tier's pair scorer: a logistic model over a handful of pair features.

Two articles that tell one story in other words share little text (rewritten Arabic
headlines score 0.1-0.4 on any overlap), so no one threshold on overlap separates them
from two stories about one product. Each pair is described by a few features (text
overlap, shared entities and figures, which company the titles lead with, a leak
against an announcement) and the link's probability is a logistic function of them,
with weights fitted offline on the labelled tuning sets (`benchmarks/fit_pairs.py`)
and shipped in feeds/data/pair_weights.tsv. Nothing is fitted at run time.

Hard guards come first and end most comparisons: two titles whose model numbers clash
("S25" against "S24"), or whose entities are disjoint, never link.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from feeds.arabic.modality import Modality
from feeds.arabic.numbers import same_value
from feeds.classify import read_table

if TYPE_CHECKING:
    from ._features import _Features

__all__ = ["FEATURES", "PairModel", "guarded", "model", "pair_features", "probability"]

#: The pair features, in the order of the weight table.
FEATURES = (
    "title_grams",  # Jaccard of the titles' character 4-grams (aliases folded)
    "words",  # Dice of the content words of title + lead
    "residual",  # the same without entity tokens: what they say about the entity
    "shared_title_ids",  # both titles name one entity
    "ids_jaccard",  # Jaccard of the entities of title + lead
    "no_entities",  # neither names a known entity
    "two_title_ids",  # both titles name the same two entities or more
    "models_agree",  # the titles share a model token
    "lead_models_agree",  # title + lead share one
    "figures_agree",  # a title's figure is in the other's title or lead
    "figures_clash",  # both titles give figures and neither's is in the other's text
    "other_subject",  # the titles lead with different companies, not both named
    "leak_mismatch",  # one title is a leak or rumour, the other is not
    "speculation_mismatch",  # one title says "may"/"report", the other does not
    "latin_unshared",  # a title's Latin word (a name) the other article never uses
    "both_hedged",  # two leaks or reports: about one product, often two stories
)
# The features whose weight is positive and that cost set intersections: the scorer
# bounds them first and skips the intersections when even the bound falls short.
_TEXT = ("title_grams", "words", "residual", "latin_unshared")


class PairModel(NamedTuple):
    """Weights (in `FEATURES` order), intercept, and the probability that links."""

    weights: tuple[float, ...]
    bias: float
    threshold: float


@functools.cache
def model() -> PairModel:
    """The shipped weights (feeds/data/pair_weights.tsv: name, weight)."""
    rows = {row[0]: float(row[1]) for row in read_table("pair_weights.tsv")}
    missing = [f for f in (*FEATURES, "bias", "threshold") if f not in rows]
    if missing:
        raise ValueError(f"pair_weights.tsv lacks {', '.join(missing)}")
    return PairModel(tuple(rows[f] for f in FEATURES), rows["bias"], rows["threshold"])


def guarded(a: _Features, b: _Features) -> bool:
    """Whether a hard guard keeps the pair apart (isdisjoint: no set is built)."""
    if a.figures and b.figures and a.figures.isdisjoint(b.figures):
        return True
    if a.title_ids and b.title_ids and a.title_ids.isdisjoint(b.title_ids):
        return True
    if a.ids and b.ids and a.ids.isdisjoint(b.ids):
        return True
    # a leak and the announcement it anticipated are two stories (issue 19)
    return {a.modality, b.modality} == _LEAK_AND_LAUNCH


_LEAK_AND_LAUNCH = {Modality.LEAK, Modality.OFFICIAL}
_HEDGED = (Modality.LEAK, Modality.SPECULATIVE)


def _jaccard(x: frozenset[str], y: frozenset[str]) -> float:
    shared = len(x & y)
    return shared / ((len(x) + len(y) - shared) or 1)


def _dice(x: frozenset[str], y: frozenset[str]) -> float:
    return 2 * len(x & y) / ((len(x) + len(y)) or 1)


def _values_in(values: Sequence[float], others: Sequence[float]) -> bool:
    return any(same_value(v, w) for v in values for w in others)


def _figures_in(a: _Features, b: _Features) -> bool:
    """Whether a figure of `a`'s title is in `b`'s title or lead, a model number
    matching an amount ("برو 3" is an amount, "Pro 3" a model)."""
    if not a.figures.isdisjoint(b.lead_figures):
        return True
    values = (*a.values, *a.model_numbers)
    return _values_in(values, b.lead_values) or _values_in(a.values, b.lead_model_numbers)


def _other_subject(a: _Features, b: _Features) -> bool:
    """The titles lead with different companies, and neither title names the other's:
    "هيوماين تتعاقد مع إنفيديا" and "Nvidia تزود HUMAIN" name the same two."""
    if not (a.subject and b.subject) or a.subject == b.subject:
        return False
    return a.subject not in b.title_roots or b.subject not in a.title_roots


def cheap_features(a: _Features, b: _Features) -> dict[str, float]:
    """The features that need no text overlap."""
    agree = _figures_in(a, b) or _figures_in(b, a)
    both = bool(a.values or a.figures) and bool(b.values or b.figures)
    return {
        "shared_title_ids": float(not a.title_ids.isdisjoint(b.title_ids)),
        "two_title_ids": float(len(a.title_roots & b.title_roots) > 1),
        "ids_jaccard": _jaccard(a.ids, b.ids),
        "no_entities": float(not a.ids and not b.ids),
        "models_agree": float(not a.figures.isdisjoint(b.figures)),
        "lead_models_agree": float(not a.lead_figures.isdisjoint(b.lead_figures)),
        "figures_agree": float(agree),
        "figures_clash": float(both and not agree),
        "other_subject": float(_other_subject(a, b)),
        "leak_mismatch": float((a.modality is Modality.LEAK) != (b.modality is Modality.LEAK)),
        "speculation_mismatch": float((a.modality in _HEDGED) != (b.modality in _HEDGED)),
        "both_hedged": float(a.modality in _HEDGED and b.modality in _HEDGED),
    }


def text_features(a: _Features, b: _Features) -> dict[str, float]:
    return {
        "title_grams": _jaccard(a.grams, b.grams),
        "words": _dice(a.words, b.words),
        "residual": _dice(a.residual, b.residual),
        "latin_unshared": float(not b.names(a.latin) or not a.names(b.latin)),
    }


def pair_features(a: _Features, b: _Features) -> tuple[float, ...] | None:
    """The pair's features in `FEATURES` order, or None when a hard guard fails."""
    if guarded(a, b):
        return None
    found = {**cheap_features(a, b), **text_features(a, b)}
    return tuple(found[f] for f in FEATURES)


def probability(a: _Features, b: _Features) -> float:
    """The link's probability, or 0.0 when a guard fails or it falls below threshold."""
    if guarded(a, b):
        return 0.0
    m = model()
    weights = dict(zip(FEATURES, m.weights, strict=True))
    z = m.bias + sum(weights[k] * v for k, v in cheap_features(a, b).items())
    need = math.log(m.threshold / (1 - m.threshold))
    # Each overlap is at most the smaller set over the larger (Dice: 2 min / sum).
    bound = z + sum(max(0.0, weights[k]) for k in _TEXT)
    if bound < need:
        return 0.0
    z += sum(weights[k] * v for k, v in text_features(a, b).items())
    return 1 / (1 + math.exp(-z)) if z >= need else 0.0
