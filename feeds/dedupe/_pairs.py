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
from feeds.arabic.numbers import Value, comparable, same_value
from feeds.classify import read_table

if TYPE_CHECKING:
    from ._features import Tokens, _Features

__all__ = [
    "CHEAP", "FEATURES", "TEXT", "PairModel", "guarded", "model", "pair_features",
    "probability",
]  # fmt: skip

#: The features that need no text overlap, then those that do (`_cheap`, `_text`).
CHEAP = (
    "shared_title_ids",  # both titles name one entity
    "two_title_ids",  # both titles name the same two companies or more
    "ids_jaccard",  # Jaccard of the entities of title + lead
    "no_entities",  # neither names a known entity
    "models_agree",  # the titles share a model token
    "lead_models_agree",  # title + lead share one
    "figures_agree",  # a title's amount is in the other's title or lead
    "lead_figures_agree",  # the leads share an amount past a dozen ("CVE-2026-13370")
    "figures_clash",  # both titles give amounts of one kind, and neither's is in the other
    "other_subject",  # the titles lead with different companies, not both named
    "leak_mismatch",  # one title is a leak or rumour, the other is not
    "speculation_mismatch",  # one title says "may"/"report", the other does not
    "both_hedged",  # two leaks or reports: about one product, often two stories
)
TEXT = (
    "title_grams",  # Jaccard of the titles' character 4-grams (aliases folded)
    "words",  # Dice of the content words of title + lead
    "title_words",  # Dice of the titles' content words
    "residual",  # Dice of title + lead words without entity tokens
    "latin_unshared",  # a title's Latin word (a name) the other never uses, in any script
)
FEATURES = CHEAP + TEXT


class PairModel(NamedTuple):
    """Weights (in `FEATURES` order), intercept, and the probability that links."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @property
    def logit(self) -> float:
        """The threshold as a log-odds: the weighted sum that links."""
        return math.log(self.threshold / (1 - self.threshold))


@functools.cache
def model() -> PairModel:
    """The shipped weights (feeds/data/pair_weights.tsv: name, weight)."""
    rows = {row[0]: float(row[1]) for row in read_table("pair_weights.tsv")}
    missing = [f for f in (*FEATURES, "bias", "threshold") if f not in rows]
    if missing:
        raise ValueError(f"pair_weights.tsv lacks {', '.join(missing)}")
    return PairModel(tuple(rows[f] for f in FEATURES), rows["bias"], rows["threshold"])


def guarded(a: _Features, b: _Features) -> bool:
    """Whether a hard guard keeps the pair apart (the common ones first, with isdisjoint:
    no set is built for them)."""
    if a.figures and b.figures and a.figures.isdisjoint(b.figures):
        return True
    if a.title_ids and b.title_ids and a.title_ids.isdisjoint(b.title_ids):
        return True
    if a.ids and b.ids and a.ids.isdisjoint(b.ids):
        return True
    if a.ids.isdisjoint(b.ids) and _bare(a, b):
        # No entity in common, and the titles say too little to link: a title of one
        # or two content words names a topic, not an event (a Hugo tag page's "البحر
        # الميت" against a post about the Dead Sea), and one shared title word over a
        # lead of boilerplate is not a story unless title and lead share several words
        # (on the tuning sets such pairs of one story share 6 or more, others 3 or fewer).
        return True
    if places_differ(a, b):
        return True  # one kind of item for two places: "مواقيت الصلاة في الرياض" / "في جدة"
    # a leak and the announcement it anticipated are two stories (issue 19)
    return {a.modality, b.modality} == _LEAK_AND_LAUNCH


def _unsupported(a: _Features, b: _Features, common: frozenset[str]) -> bool:
    """Whether all the pair shares is one entity and the everyday words of its field.

    On a busy day many stories name one company, and a bare number recurs by chance
    ("Apple … 909" twice); over leads full of the same words ("كاميرا", "نظام") the
    model would link them. A pair must share something specific: two companies in the
    titles, a model token, a fact-like amount (money, a share, thousands), or a word
    of its own that is not one of `common` (nor, when they share no entity, one of the
    topic lexicon's words, `field_words`); and two titles that each state a sum of
    money must state the same one (within `SUM_TOLERANCE`), and two that state amounts
    of one kind, money included, must share one of them exactly (`_figures_differ`).
    On 8,000 generated articles that are all different stories this guard took wrong
    merges from 1,117 stories to 101 (docs/clustering.md); no labelled pair lost its
    link.

    Not a guard of `pair_features`, so not applied when the model is fitted: the pairs
    it removes are nearly all negatives, and without them the fit learns from the
    labelled sets that a pair past the guards is most likely one story (three in four),
    far more often than in a real stream, and links on one shared word.
    """
    if len(a.title_roots & b.title_roots) > 1 or not a.figures.isdisjoint(b.figures):
        return False
    if _values_in(a.facts, b.lead_values) or _values_in(b.facts, a.lead_values):
        return False
    if _sums_differ(a.sums, b.sums):
        return True  # each title states a sum, and not near the other's: two deals
    if _figures_differ(a, b):
        return True
    if a.ids.isdisjoint(b.ids):
        # With no company or product in common, the field's words are all two stories of
        # one field share ("الذكاء الاصطناعي" twice), and one everyday word more ("أداة")
        # is chance: it takes two words of their own. Beside a shared entity, one will do.
        field = field_words()
        own = [
            w
            for w in _shared(a.residual, b.residual)
            if not (w in common or w in field or _numeric(w))
        ]
        return len(own) < 2
    return all(w in common or _numeric(w) for w in _shared(a.residual, b.residual))


#: How far apart two sums may be and still be one told two ways ("نحو 600 مليار" and
#: "589 مليار دولار").
SUM_TOLERANCE = 0.1


def _figures_differ(a: _Features, b: _Features) -> bool:
    """Whether each title states an amount past a dozen, two of them of one kind, and no
    amount of either title is in the other article: "الجمعة 21 نوفمبر" against "السبت
    22 نوفمبر" (a daily series), 961 against 980. Two tellings of one story quote its
    figure alike, or figures of other kinds (a budget and a head count: "11 مليار درهم"
    and "240 ألف وظيفة", a share and a count, "200 ميغاواط" and "2500 وظيفة")."""
    mine, theirs = a.distinctive, b.distinctive
    if not mine or not theirs or not any(v[0] == w[0] for v in mine for w in theirs):
        return False
    return not (_values_in(a.values, b.lead_values) or _values_in(b.values, a.lead_values))


def _sums(values: Sequence[Value]) -> tuple[float, ...]:
    """The sums of money among a title's amounts."""
    return tuple(v[1] for v in values if v[0] == "$")


def _sums_differ(sums_a: Sequence[float], sums_b: Sequence[float]) -> bool:
    """Whether both titles state sums of money (`_sums`) and no sum of one is near one of
    the other's (within `SUM_TOLERANCE`): "تجمع 12 مليون دولار" and "تجمع 10 ملايين"."""
    if not sums_a or not sums_b:
        return False
    return not any(
        abs(x - y) <= SUM_TOLERANCE * max(abs(x), abs(y)) for x in sums_a for y in sums_b
    )


#: The region and its places, as matching tokens: two stories of one country or city are
#: not one story for it ("المغرب" in a match report and in a broadband plan).
_REGION = frozenset(
    """عرب عربي عربيه عربيا مصر مصري مصريه سعودي سعوديه مملكه امارات اماراتي اماراتيه
    اردن اردني اردنيه مغرب مغربي مغربيه عراق عراقي عراقيه كويت كويتي كويتيه قطر قطري
    قطريه بحرين بحريني عمان عماني عمانيه لبنان لبناني لبنانيه سوريا سوري سوريه تونس
    تونسي تونسيه جزائر جزائري جزائريه ليبيا ليبي ليبيه سودان سوداني يمن يمني يمنيه
    فلسطين فلسطيني فلسطينيه خليج خليجي خليجيه رياض جده دبي ابوظبي قاهره اسكندريه بيروت
    دوحه منامه مسقط كازابلانكا رباط شرق اوسط منطقه
    علي الي حتي لدي عليه اليه""".split()  # noqa: SIM905 - last: prepositions, ى folded
)


#: The region's places by the matching tokens that name them: (country, city), the city
#: None for the country itself. Two titles that each name a place, and no two of them
#: that can be one (one country, and one city or the country itself), are two stories:
#: "مواقيت الصلاة في الرياض" and "… في جدة", "افتتاح متجر لأبل في دبي" and "… في
#: القاهرة". "stc تطلق الجيل الخامس في الرياض" and "… في السعودية" can be one.
_PLACE_NAMES = (  # country: its names and adjectives, then its cities, as written
    ("eg", "مصر مصري مصرية", "القاهرة الإسكندرية"),
    ("sa", "السعودية سعودي المملكة", "الرياض جدة مكة الدمام"),
    ("ae", "الإمارات إماراتي إماراتية", "دبي أبوظبي الشارقة"),
    ("qa", "قطر قطري قطرية", "الدوحة"),
    ("kw", "الكويت كويتي كويتية", ""),
    ("bh", "البحرين بحريني بحرينية", "المنامة"),
    ("om", "عمان عماني عمانية", "مسقط"),
    ("jo", "الأردن أردني أردنية", "عمان"),  # "عمان" is Oman, and Amman
    ("lb", "لبنان لبناني لبنانية", "بيروت"),
    ("iq", "العراق عراقي عراقية", "بغداد"),
    ("ma", "المغرب مغربي مغربية", "الرباط كازابلانكا"),
    ("tn", "تونس تونسي تونسية", ""),
    ("dz", "الجزائر جزائري جزائرية", ""),
    ("ly", "ليبيا ليبي ليبية", ""),
    ("sd", "السودان سوداني سودانية", "الخرطوم"),
    ("ye", "اليمن يمني يمنية", "صنعاء"),
    ("sy", "سوريا سوري سورية", "دمشق"),
    ("ps", "فلسطين فلسطيني فلسطينية", "غزة"),
)


@functools.cache
def _place_table() -> dict[str, tuple[tuple[str, str | None], ...]]:
    """Matching token -> the places it names: (country, None) or (country, city)."""
    from feeds.arabic.matching import match_key, strip_clitics

    table: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for country, names, cities in _PLACE_NAMES:
        for name, city in [(n, False) for n in names.split()] + [(c, True) for c in cities.split()]:
            token = strip_clitics(match_key(name))
            table[token] = (*table.get(token, ()), (country, token if city else None))
    return table


def _places(title: Sequence[str]) -> tuple[tuple[str, str | None], ...]:
    table = _place_table()
    return tuple(p for t in title for p in table.get(t, ()))


def places_differ(a: _Features, b: _Features) -> bool:
    """Whether the titles are one template for two places: each names a place of the
    region, none can be one of the other's, and the rest of the titles is mostly the
    same words. Only then: two titles of one story often name two countries ("Zar3ty
    تستهدف السوق السعودية" and "«زرعتي» المصرية تجمع 7 ملايين دولار")."""
    mine, theirs = a.places, b.places
    if not mine or not theirs:
        return False
    if any(
        p[0] == q[0] and (p[1] is None or q[1] is None or p[1] == q[1])
        for p in mine
        for q in theirs
    ):
        return False
    table = _place_table()
    rest_a = {t for t in a.title_tokens if t not in table}
    rest_b = {t for t in b.title_tokens if t not in table}
    return len(rest_a & rest_b) >= TEMPLATE_SHARE * len(rest_a | rest_b)


#: The share of their other title words two titles of one template have in common.
TEMPLATE_SHARE = 0.6


@functools.cache
def field_words() -> frozenset[str]:
    """The words of the topic lexicon's phrases and generic terms (`classify`,
    lexicon.tsv), as matching tokens: the field's own vocabulary ("ذكاء", "اصطناعي",
    "ناشئه") and the region's places (`_REGION`), no evidence of one story. The
    index's frequency count (`common`) learns the same words, but only once it holds
    thousands of articles; a new store, or a quiet week, starts with none."""
    from feeds.arabic.matching import match_key, strip_clitics
    from feeds.classify import read_table

    words: set[str] = set()
    for row in read_table("lexicon.tsv"):
        term = match_key(row[1]).split()
        generic = len(row) > 2 and row[2] and float(row[2]) < 1
        if len(term) > 1 or generic:  # one-word terms are mostly names: ستارشيب, نتفليكس
            words.update(strip_clitics(w) for w in term)
    return frozenset(w for w in words if w) | _REGION


_FACT_KINDS = frozenset({"$", "%"})


def _facts(values: Sequence[Value]) -> tuple[Value, ...]:
    """The amounts that state a fact: money, a share, or an amount in the thousands (a
    head count of 24 is as likely chance as a bare 24)."""
    return tuple(v for v in values if v[0] in _FACT_KINDS or v[1] >= 1000)


def _numeric(word: str) -> bool:
    return word.replace(".", "", 1).isdigit()


_BARE_WORDS = 5


def _bare(a: _Features, b: _Features) -> bool:
    if min(len(a.signals), len(b.signals)) < 3:
        return True
    return len(_shared(a.signals, b.signals)) < 2 and len(_shared(a.words, b.words)) < _BARE_WORDS


_LEAK_AND_LAUNCH = {Modality.LEAK, Modality.OFFICIAL}
_HEDGED = (Modality.LEAK, Modality.SPECULATIVE)


def _shared(x: Tokens, y: Tokens) -> frozenset[str]:
    """The tokens in both: `x` is the article being filed's, a frozenset; `y` may be an
    indexed member's tuple (`_Features.compact`), which `intersection` iterates."""
    return (x if isinstance(x, frozenset) else frozenset(x)).intersection(y)


def _jaccard(x: Tokens, y: Tokens) -> float:
    shared = len(_shared(x, y))
    return shared / ((len(x) + len(y) - shared) or 1)


def _dice(x: Tokens, y: Tokens) -> float:
    return 2 * len(_shared(x, y)) / ((len(x) + len(y)) or 1)


def _values_in(values: Sequence[Value], others: Sequence[Value]) -> bool:
    if not values or not others:  # most titles state none: no generator to start
        return False
    return any(same_value(v, w) for v in values for w in others)


def _figures_in(a: _Features, b: _Features) -> bool:
    """Whether an amount in `a`'s title is in `b`'s title or lead, a bare model number
    matching an amount ("برو 3" is an amount, "Pro 3" a model). Two model tokens that
    agree are `models_agree`: they name the product, not a fact about it."""
    if _values_in(a.values, b.lead_values) or _values_in(a.values, b.lead_model_numbers):
        return True
    return _values_in(a.model_numbers, b.lead_values)


def _distinctive(values: tuple[Value, ...]) -> tuple[Value, ...]:
    """The amounts too large to recur by chance (leads are full of "3", "5", "12"):
    `values` itself when all of them are, as for most titles (one tuple, not two)."""
    found = tuple(v for v in values if v[1] > 12)
    return values if len(found) == len(values) else found


def _other_subject(a: _Features, b: _Features) -> bool:
    """The titles lead with different companies, and neither title names the other's:
    "هيوماين تتعاقد مع إنفيديا" and "Nvidia تزود HUMAIN" name the same two."""
    if not (a.subject and b.subject) or a.subject == b.subject:
        return False
    return a.subject not in b.title_roots or b.subject not in a.title_roots


def _cheap(a: _Features, b: _Features) -> list[float]:
    """The `CHEAP` features, in order."""
    agree = _figures_in(a, b) or _figures_in(b, a)
    # Titles that quote figures of different kinds (a share, a head count) do not clash.
    both = any(comparable(v, w) for v in a.values for w in b.values)
    leak_a, leak_b = a.modality is Modality.LEAK, b.modality is Modality.LEAK
    hedged_a, hedged_b = a.modality in _HEDGED, b.modality in _HEDGED
    return [
        float(not a.title_ids.isdisjoint(b.title_ids)),
        float(len(a.title_roots & b.title_roots) > 1),
        _jaccard(a.ids, b.ids),
        float(not a.ids and not b.ids),
        float(not a.figures.isdisjoint(b.figures)),
        float(not a.lead_figures.isdisjoint(b.lead_figures)),
        float(agree),
        float(_values_in(a.lead_distinctive, b.lead_values)),
        float(both and not agree),
        float(_other_subject(a, b)),
        float(leak_a != leak_b),
        float(hedged_a != hedged_b),
        float(hedged_a and hedged_b),
    ]


def _text(a: _Features, b: _Features) -> list[float]:
    """The `TEXT` features, in order."""
    return [
        _jaccard(a.grams, b.grams),
        _dice(a.words, b.words),
        _dice(a.signals, b.signals),
        _dice(a.residual, b.residual),
        float(not b.names(a.latin) or not a.names(b.latin)),
    ]


def _bounds(a: _Features, b: _Features) -> list[float]:
    """An upper bound of each `TEXT` feature from set sizes alone: an overlap is at most
    the smaller set (a Jaccard at most min / max, a Dice at most 2 min / sum)."""
    ga, gb = len(a.grams), len(b.grams)
    return [
        min(ga, gb) / (max(ga, gb) or 1),
        _dice_bound(len(a.words), len(b.words)),
        _dice_bound(len(a.signals), len(b.signals)),
        _dice_bound(len(a.residual), len(b.residual)),
        1.0,
    ]


def _dice_bound(x: int, y: int) -> float:
    return 2 * min(x, y) / ((x + y) or 1)


def pair_features(a: _Features, b: _Features) -> tuple[float, ...] | None:
    """The pair's features in `FEATURES` order, or None when a hard guard fails."""
    if guarded(a, b):
        return None
    return (*_cheap(a, b), *_text(a, b))


def probability(a: _Features, b: _Features, common: frozenset[str] = frozenset()) -> float:
    """The link's probability, or 0.0 when a guard fails, the pair shares nothing
    specific (`_unsupported`; `common` are words too frequent around the pair to be
    evidence) or it falls below threshold."""
    if guarded(a, b) or _unsupported(a, b, common):
        return 0.0
    m = model()
    cheap, text = m.weights[: len(CHEAP)], m.weights[len(CHEAP) :]
    z = m.bias + sum(w * v for w, v in zip(cheap, _cheap(a, b), strict=True))
    # Most candidates fall short even with every overlap at its bound: their set
    # intersections are never computed.
    bound = sum(max(0.0, w) * v for w, v in zip(text, _bounds(a, b), strict=True))
    if z + bound < m.logit:
        return 0.0
    z += sum(w * v for w, v in zip(text, _text(a, b), strict=True))
    return 1 / (1 + math.exp(-z)) if z >= m.logit else 0.0
