"""Topics from editable lexicon tables (pure; reads feeds/data/*.tsv once).

A term matches on the Arabic matching key (research/arabic.md 2b), so أ/إ/آ, ة/ه and
ى/ي never matter, and every word of a term may carry the proclitics و ف ب ل ك and the
article ال (وبالذكاء الاصطناعي matches the term "ذكاء اصطناعي"). Terms are therefore
written bare in lexicon.tsv, without ال. Multi-word terms match consecutive words; the
longest term starting at a word wins, and its words are not counted again.

Scoring (research/arabic.md 6): a title hit counts `TITLE_WEIGHT` (3) times the term's
weight, a body hit once. A topic is kept when its score reaches `THRESHOLD` (3): one
title hit, or three body hits. So a single passing body mention ("...عبر تطبيق واتساب")
does not make a football report tech, while any tech word in the title does.

`PhraseTable` is shared with `feeds.dedupe`, which uses it for brand aliases.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from feeds.arabic.matching import match_key
from feeds.types import TOPICS, SourceConfig, Topics

__all__ = [
    "NEGATIVE",
    "THRESHOLD",
    "TITLE_WEIGHT",
    "PhraseTable",
    "accepts",
    "article_scores",
    "classify",
    "combine",
    "dumps_scores",
    "is_tech",
    "key_scores",
    "loads_scores",
    "read_table",
    "scores",
    "topics",
    "word_forms",
]

log = logging.getLogger("feeds.classify")

TITLE_WEIGHT = 3.0
THRESHOLD = 3.0

# Proclitic groups an Arabic word may carry: conjunction, then preposition, then the
# article; لل is ل + ال with the alef dropped.
_PREFIXES = tuple(
    sorted(
        {c + p + a for c in ("", "و", "ف") for p in ("", "ب", "ل", "ك") for a in ("", "ال")}
        | {"لل", "ولل", "فلل"},
        key=len,
        reverse=True,
    )[:-1]  # drop the empty prefix (the shortest)
)


@functools.lru_cache(maxsize=65536)  # the same words recur in every story: 42% of a pass
def word_forms(token: str) -> tuple[str, ...]:
    """The token and every reading of it with a proclitic group removed.

    Over-generating is safe: a form only counts when a table holds it exactly. Latin
    tokens have no proclitics.
    """
    if not token or not "\u0600" <= token[0] <= "\u06ff":
        return (token,)
    forms = [token]
    forms.extend(
        token[len(p) :] for p in _PREFIXES if token.startswith(p) and len(token) - len(p) >= 2
    )
    return tuple(forms)


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    value: str
    weight: float


Entry = tuple[tuple[str, ...], str, float]  # (term words, value, weight)

#: Distinct words whose candidate terms a table remembers before it starts over.
_STARTS_MAX = 1 << 17


class PhraseTable:
    """Whole-word phrase look-up over match-key tokens, clitics allowed on every word."""

    def __init__(self, rows: Iterable[tuple[str, str, float]]) -> None:
        by_first: dict[str, list[Entry]] = defaultdict(list)
        for value, term, weight in rows:
            words = tuple(match_key(term).split())
            if words:
                by_first[words[0]].append((words, value, weight))
        for entries in by_first.values():
            entries.sort(key=lambda e: -len(e[0]))
        self._by_first = dict(by_first)
        # word -> the terms that may start at it: most words start none, and a pass sees
        # the same words over and over, so each is looked up through its forms once.
        self._starts: dict[str, tuple[Entry, ...]] = {}
        self._live: set[str] = set()  # the words of `_starts` that start some term

    def find(self, words: tuple[str, ...]) -> tuple[Hit, ...]:
        """Non-overlapping hits, left to right, longest term first at each word.

        Between terms of the same length starting at one word, the one reached through
        the word's earlier form (`word_forms` order) wins, so ties never depend on set
        order or on the process.
        """
        starts, live = self._starts, self._live
        new = set(words).difference(starts)
        if new:
            if len(starts) + len(new) > _STARTS_MAX:
                starts.clear()
                live.clear()
                new = set(words)
            for word in new:
                self._learn(word)
        # Most texts hold no term of most tables: the words that may start one are found
        # with set operations, and only those are walked in Python.
        if live.isdisjoint(words):
            return ()
        hits: list[Hit] = []
        end = 0
        for i in [i for i, word in enumerate(words) if word in live]:
            if i < end:
                continue  # inside the previous hit
            hit = self._longest_at(words, i, starts[words[i]])
            if hit is not None:
                hits.append(hit)
                end = hit.end
        return tuple(hits)

    def _learn(self, word: str) -> None:
        found: list[Entry] = []
        for form in word_forms(word):
            found.extend(self._by_first.get(form, ()))
        self._starts[word] = tuple(found)
        if found:
            self._live.add(word)

    @staticmethod
    def _longest_at(words: tuple[str, ...], i: int, entries: Sequence[Entry]) -> Hit | None:
        best: Hit | None = None
        for term, value, weight in entries:
            end = i + len(term)
            if end > len(words) or (best is not None and end <= best.end):
                continue
            if all(term[k] in word_forms(words[i + k]) for k in range(1, len(term))):
                best = Hit(i, end, value, weight)
        return best


def read_table(name: str) -> tuple[tuple[str, ...], ...]:
    """Rows of a tab-separated file in feeds/data/, skipping blanks and # comments."""
    text = resources.files("feeds").joinpath("data", name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append(tuple(cell.strip() for cell in line.split("\t")))
    return tuple(rows)


@functools.cache
def _lexicon() -> PhraseTable:
    rows = []
    for row in read_table("lexicon.tsv"):
        topic, term = row[0], row[1]
        if topic not in TOPICS:
            raise ValueError(f"lexicon.tsv: unknown topic {topic!r} for {term!r}")
        rows.append((topic, term, float(row[2]) if len(row) > 2 and row[2] else 1.0))
    return PhraseTable(rows)


@functools.cache
def _negative() -> PhraseTable:
    return PhraseTable((row[0], row[1], 1.0) for row in read_table("negative.tsv"))


_Words = tuple[tuple[str, ...], tuple[str, ...]]


def _words(title: str, text: str) -> _Words:
    return tuple(match_key(title).split()), tuple(match_key(text).split())


def _score(table: PhraseTable, words: _Words) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for tokens, factor in zip(words, (TITLE_WEIGHT, 1.0), strict=True):
        for hit in table.find(tokens):
            totals[hit.value] += hit.weight * factor
    return totals


def scores(title: str, text: str) -> Mapping[str, float]:
    """Score per topic (title hits x3, body hits x1); topics without hits are absent."""
    return _score(_lexicon(), _words(title, text))


#: The key of `article_scores` holding the negative list's score.
NEGATIVE = "-"


def article_scores(title: str, text: str) -> dict[str, float]:
    """One article's topic scores, and the negative list's under `NEGATIVE` (when > 0).

    A story's scores are the sums of its articles' (`combine`): each article is scored
    once, in the parse stage, and never again when its story grows.
    """
    return key_scores(match_key(title), match_key(text))


def key_scores(title_key: str, text_key: str) -> dict[str, float]:
    """`article_scores` of texts already in matching-key form (`Article.title_key`...)."""
    words = (tuple(title_key.split()), tuple(text_key.split()))
    out = dict(_score(_lexicon(), words))
    negative = sum(_score(_negative(), words).values())
    if negative:
        out[NEGATIVE] = negative
    return out


def combine(per_article: Iterable[Mapping[str, float]]) -> Topics:
    """A story's topics from its articles' `article_scores`, summed in order."""
    tech: dict[str, float] = defaultdict(float)
    negative = 0.0
    for one in per_article:
        for key, value in one.items():
            if key == NEGATIVE:
                negative += value
            else:
                tech[key] += value
    kept = tuple(t for _, t in sorted((-s, t) for t, s in tech.items() if s >= THRESHOLD))
    if not kept:
        return Topics(kept, False)
    return Topics(kept, negative < sum(tech.values()))


@functools.cache
def _tag() -> str:
    """Stored scores are valid only for the tables and rules that made them."""
    tables = [read_table(name) for name in ("lexicon.tsv", "negative.tsv")]
    spec = f"scores1 {TITLE_WEIGHT} {sorted(TOPICS)} {tables}"
    return hashlib.sha1(spec.encode()).hexdigest()[:12]


def dumps_scores(values: Mapping[str, float]) -> str:
    """JSON text of `article_scores` for the store; stale once a table is edited."""
    return json.dumps([_tag(), dict(sorted(values.items()))], ensure_ascii=False)


def loads_scores(text: str | None) -> dict[str, float] | None:
    """Stored `article_scores`, or None when absent, made with other tables or not
    readable (a damaged row is scored again, like a stale one)."""
    if not text:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, list) or len(data) != 2 or data[0] != _tag():
            return None
        return {str(k): float(v) for k, v in data[1].items()}
    except (ValueError, TypeError, AttributeError):
        return None


def classify(title: str, text: str) -> tuple[tuple[str, ...], bool]:
    """(topics, is_tech) from one scoring of the text; see `topics` and `is_tech`."""
    return combine([article_scores(title, text)])


def topics(title: str, text: str) -> tuple[str, ...]:
    """Topics scoring at least `THRESHOLD`, best first, ties by name."""
    return classify(title, text)[0]


def is_tech(title: str, text: str) -> bool:
    """True when some topic reaches the threshold and outweighs the non-tech list.

    The negative list (football, celebrities, horoscopes) is scored the same way, so a
    match report mentioning a streaming app stays out while a story about an esports
    league sponsored by a football club stays in when its tech words weigh more.
    """
    return classify(title, text)[1]


def accepts(source: SourceConfig, title: str, text: str) -> bool:
    """Whether a story from `source` may be published: general-news sources only give tech."""
    return not source.filter_topics or is_tech(title, text)
