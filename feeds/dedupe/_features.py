"""Per-article matching features and MinHash signatures (`Prepared`), and pair scoring.

Everything here depends on one article alone, so the parse stage computes it (in the
pool's processes on a large pass) and the store keeps it beside the article; see the
package docstring for how the index uses it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from feeds.arabic.matching import strip_clitics
from feeds.classify import PhraseTable, read_table

LEAD_CHARS = 300  # the lead: enough for the first sentence or two of a summary
NUM_PERM = 64
SHINGLE = 5  # characters; n = 5 keeps precision on long near-verbatim text (5c)
# Rewrite-tier thresholds on (title 4-gram Jaccard + title/lead word Dice) / 2. Rewritten
# Arabic headlines of one story score only 0.1-0.4 (research/arabic.md 5b), so the
# thresholds are low and the guards do the separating; the more the two articles agree
# on specifics, the less text overlap is needed.
LINK_FIGURES = 0.12  # they share an entity and a number or model number
LINK_ENTITY = 0.15  # they share an entity
LINK_BARE = 0.30  # neither names a known entity
LINK_OTHER_SUBJECT = 0.35  # the titles lead with different companies


_FIGURE = re.compile(r"[a-z]*\d+(?:\.\d+)?[a-z]*")
_YEAR = re.compile(r"(?:19|20)\d\d")
# A whole whitespace-separated word holding a digit; the look-behind starts a match only
# at a word's start, so a long word without digits costs one scan, not one per character.
_NUMERIC = re.compile(r"(?<!\S)\S*\d\S*")
_STOP = frozenset(
    """في من على الى إلى عن مع بعد قبل هذا هذه ذلك تلك التي الذي الذين ان او أو ما لا لم لن
    قد كما حيث خلال عبر حول بين ضمن عند منذ حتى ثم كل اي وفي ومن وعلى وهو وهي هو هي بها به لها
    له فيها منها عليها انها انه كان كانت يكون تكون اكثر اقل جديد جديده جدد رسميا رسمي رسميه
    تعلن اعلن اعلنت يعلن تطلق اطلق اطلقت تكشف كشف كشفت عن تقدم قدمت تبدا بدات تعتزم شركه
    شركات عملاق اليوم امس الان وفق بحسب حسب نحو يوم اسبوع عام العام مع الى""".split()  # noqa: SIM905
)


# --------------------------------------------------------------------------- features


@functools.cache
def _aliases() -> tuple[PhraseTable, Mapping[str, str]]:
    rows: list[tuple[str, str, float]] = []
    parents: dict[str, str] = {}
    for row in read_table("aliases.tsv"):
        ident, parent, variants = row[0], row[1], row[2]
        if parent:
            parents[ident] = parent
        rows.extend((ident, v, 1.0) for v in variants.split("|") if v.strip())
    return PhraseTable(rows), parents


_strip = functools.lru_cache(maxsize=1 << 16)(strip_clitics)


def _canon(key: str) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """(tokens with aliases folded to "@id", entity ids with parents, figures)."""
    table, parents = _aliases()
    words = tuple(key.split())
    hits = table.find(words)
    out: list[str] = []
    ids = {h.value for h in hits}
    i = 0
    for hit in hits:
        out.extend(map(_strip, words[i : hit.start]))
        out.append("@" + hit.value)
        i = hit.end
    out.extend(map(_strip, words[i:]))
    figs: set[str] = set()
    # Figures come from the words outside the hits that hold a digit: few words do, so
    # those are found in one pass over the key instead of one search per word.
    numeric = set(_NUMERIC.findall(key))
    if numeric:
        inside = {j for h in hits for j in range(h.start, h.end)}
        for j, word in enumerate(words):
            if word in numeric and j not in inside:
                figs.update(f for f in _FIGURE.findall(word) if not _YEAR.fullmatch(f))
    ids.update([parents[x] for x in ids if x in parents])
    return tuple(out), frozenset(ids), frozenset(figs)


def entities(key: str) -> frozenset[str]:
    """Canonical brand/product ids named in a matching key (parents included)."""
    return _canon(key)[1]


def figures(key: str) -> frozenset[str]:
    """Numbers, amounts and model numbers in a matching key ("17", "s25", "10.5"), no years."""
    return _canon(key)[2]


class _Features:
    """What `_score` compares of one article, made from its `Prepared` when first scored.

    The word sets and the title's character 4-grams are built on first use: most pairs
    fail a guard (figures, entities) before the overlaps count, so most members of an
    index never need them. A cache, hence not a frozen record.
    """

    __slots__ = (
        "_grams", "_lead", "_signals", "_title", "_words", "figures", "ids", "subject",
        "title_ids",
    )  # fmt: skip

    def __init__(self, prepared: Prepared) -> None:
        self._title = prepared.title
        self._lead = prepared.lead
        self._signals: frozenset[str] | None = None
        self._grams: frozenset[str] | None = None
        self._words: frozenset[str] | None = None
        self.title_ids = prepared.title_ids
        self.ids = prepared.ids
        self.figures = prepared.figures
        # the company the title leads with (root of its first entity)
        self.subject = _subject(prepared.title)

    @property
    def signals(self) -> frozenset[str]:
        """Rare-token candidates: the title's content words."""
        if self._signals is None:
            self._signals = _signals(self._title)
        return self._signals

    @property
    def grams(self) -> frozenset[str]:
        """Title character 4-grams, aliases folded."""
        if self._grams is None:
            # Interned: an index holds thousands of these sets, made of the same few
            # thousand grams and words; one copy of each string instead of one per article.
            joined = " ".join(self._title)
            self._grams = frozenset(
                [_intern(joined[i : i + 4]) for i in range(max(1, len(joined) - 3))]
            )
        return self._grams

    @property
    def words(self) -> frozenset[str]:
        """Content words of title + lead."""
        if self._words is None:
            lead = self._lead.split()
            # Interned: the split tokens are otherwise kept by nothing but this set, and
            # the same few thousand words recur across an index's articles.
            words = [_intern(t) for t in lead if len(t) > 1 and t not in _STOP]
            self._words = self.signals.union(words)
        return self._words


def _signals(title: tuple[str, ...]) -> frozenset[str]:
    """The title's content words (not interned: the title tuple keeps them anyway)."""
    return frozenset([t for t in title if len(t) > 1 and t not in _STOP])


def _subject(title: tuple[str, ...]) -> str | None:
    """Root company of the first entity in a title's first three words, if any.

    Arabic headlines open with their subject ("شاومي تطلق ..."). Two titles that lead
    with different companies are usually different events even when they mention each
    other ("Xiaomi 17 ships with Snapdragon 8" vs "Qualcomm announces Snapdragon 8").
    """
    parents = _aliases()[1]
    for token in title[:3]:
        if token.startswith("@"):
            ident = token[1:]
            while ident in parents:
                ident = parents[ident]
            return ident
    return None


def _lead(text_key: str) -> str:
    return text_key if len(text_key) <= LEAD_CHARS else text_key[:LEAD_CHARS].rsplit(" ", 1)[0]


# A 5-gram's 32-bit hash is a polynomial over its code points, folded from 64 bits.
# numpy hashes every shingle of an article at once, where hashing each with sha1 in a
# Python loop cost 0.6 ms per article.
_POLY = np.uint64(0x100000001B3)
# The MinHash is datasketch's "affine32" scheme (MinHash(num_perm=64, seed=1,
# scheme="affine32")), computed here in a few numpy operations: datasketch calls a
# Python hash function per shingle and imports scipy (0.3 s) to do the same. A test
# checks the signatures against datasketch's, value for value.
_SCHEME = "affine32"
_SEED = 1
# MurmurHash3's 32-bit finalizer: datasketch avalanches every input hash with it first.
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of h -> a*h + b mod 2^32, drawn as datasketch draws them for the seed."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _shingle_hashes(text: str) -> np.ndarray:
    """One 32-bit hash per 5-character shingle (one for a shorter text), as uint32."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(1, len(codes) - SHINGLE + 1)
    h = np.zeros(n, dtype=np.uint64)
    for k in range(min(SHINGLE, len(codes))):
        h = h * _POLY + codes[k : k + n]
    return ((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _signature(title_key: str, text_key: str) -> bytes:
    hv = _shingle_hashes(f"{title_key} {_lead(text_key)}")
    s1, m1, s2, m2 = _FMIX
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    hv = hv ^ (hv >> s1)
    a, b = _permutations()
    # Every permutation of every shingle, wrapping mod 2^32, then the least per column.
    values = (hv[:, None] * a + b).min(axis=0)
    return values.astype("<u4").tobytes()  # type: ignore[no-any-return]


_intern = sys.intern


@functools.cache
def _tag() -> str:
    """What every stored preparation starts with, and is valid only with: a digest of
    the alias table and of the format's version ("prep2") and parameters. Bump the
    version whenever `Prepared.of` would make something else from the same keys."""
    table = "\n".join("\t".join(r) for r in read_table("aliases.tsv"))
    spec = f"prep2 {NUM_PERM} {SHINGLE} {LEAD_CHARS} {_SCHEME}\n{table}"
    return hashlib.sha1(spec.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What matching needs of one article, computed once (in the parse stage) and stored.

    The expensive part of indexing an article is folding aliases over its title and lead
    and hashing its shingles; with these kept beside the article, rebuilding the index
    from stored articles costs only decoding, the postings and the LSH bands. A cache of
    what the keys give, invalidated by `_tag` (the package docstring says how).
    """

    title: tuple[str, ...]  # title tokens, aliases folded to "@id", clitics stripped
    # The same for the lead, joined by spaces (tokens hold none): one string to decode
    # instead of dozens, split only for the members that get as far as the word overlap.
    lead: str
    title_ids: frozenset[str]
    ids: frozenset[str]
    figures: frozenset[str]
    signature: bytes  # NUM_PERM MinHash values, little-endian uint32

    @classmethod
    def of(cls, title_key: str, text_key: str) -> Prepared:
        title, title_ids, figs = _canon(title_key)
        lead, lead_ids, _ = _canon(_lead(text_key))
        return cls(
            title, " ".join(lead), title_ids, title_ids | lead_ids, figs,
            _signature(title_key, text_key),
        )  # fmt: skip

    def dumps(self) -> str:
        """A JSON text for the store; `loads` refuses it once the alias table changes."""
        sig = base64.b64encode(self.signature).decode("ascii")
        parts = [list(self.title), self.lead, sorted(self.title_ids), sorted(self.ids)]
        return json.dumps([_tag(), *parts, sorted(self.figures), sig], ensure_ascii=False)

    @staticmethod
    def current(text: str | None) -> bool:
        """Whether a stored text was made by this alias table (cheap: no decoding)."""
        return bool(text) and text.startswith(f'["{_tag()}"')  # type: ignore[union-attr]

    @classmethod
    def loads(cls, text: str | None) -> Prepared | None:
        """The stored preparation, or None when absent or made by another alias table."""
        if not text:
            return None
        data = json.loads(text)
        if not isinstance(data, list) or len(data) != 7 or data[0] != _tag():
            return None
        _, title, lead, title_ids, ids, figs, sig = data
        return cls(
            tuple(title), lead, frozenset(title_ids), frozenset(ids), frozenset(figs),
            binascii.a2b_base64(sig),
        )  # fmt: skip

    def signals(self) -> frozenset[str]:
        """The title's content words: what the index posts for rare-token candidates."""
        return _signals(self.title)

    def features(self) -> _Features:
        return _Features(self)


def _score(a: _Features, b: _Features) -> float:
    """Rewrite-tier score of two articles, 0.0 when a guard fails or it is too low."""
    # isdisjoint, not `&`: no set is built for the guards, which end most comparisons.
    if a.figures and b.figures and a.figures.isdisjoint(b.figures):
        return 0.0
    if a.title_ids and b.title_ids and a.title_ids.isdisjoint(b.title_ids):
        return 0.0
    if a.ids and b.ids and a.ids.isdisjoint(b.ids):
        return 0.0
    if a.subject and b.subject and a.subject != b.subject:
        need = LINK_OTHER_SUBJECT
    elif not a.ids.isdisjoint(b.ids):
        need = LINK_ENTITY if a.figures.isdisjoint(b.figures) else LINK_FIGURES
    elif len(a.signals & b.signals) < 2:
        # No entity in common: one shared title word (often a generic one, "خوارزمية")
        # plus a boilerplate lead is not a story; rewrites share several title words.
        return 0.0
    else:
        need = LINK_BARE
    # The overlaps can be no larger than the smaller set: when even that bound falls
    # short, skip the set intersections (most candidates from the postings end here).
    a_grams, b_grams, a_words, b_words = a.grams, b.grams, a.words, b.words
    ga, gb, wa, wb = len(a_grams), len(b_grams), len(a_words), len(b_words)
    bound = (min(ga, gb) / (max(ga, gb) or 1) + 2 * min(wa, wb) / ((wa + wb) or 1)) / 2
    if bound < need:
        return 0.0
    shared = len(a_grams & b_grams)
    title = shared / ((ga + gb - shared) or 1)  # the union's size, without building it
    words = 2 * len(a_words & b_words) / ((wa + wb) or 1)
    score = (title + words) / 2
    return score if score >= need else 0.0
