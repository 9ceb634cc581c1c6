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
import sys
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np

from feeds.arabic.matching import strip_clitics
from feeds.arabic.modality import modality
from feeds.arabic.numbers import Value, quantities, split_scripts
from feeds.arabic.skeleton import skeleton
from feeds.classify import PhraseTable, read_table

from ._pairs import _distinctive, _facts, _places, _sums, probability

LEAD_CHARS = 300  # the lead: enough for the first sentence or two of a summary
NUM_PERM = 64
SHINGLE = 5  # characters; n = 5 keeps precision on long near-verbatim text (5c)


# Latin words of product lines and headlines that name no one ("Galaxy S25 Ultra").
_LATIN_COMMON = frozenset(
    """pro max ultra plus mini air lite edge new the and for with from series beta app
    update official leak ai""".split()  # noqa: SIM905
)
# Regulators and governments: named first in a headline about the company they act on.
_REGULATORS = frozenset(["eu"])
_STOP = frozenset(
    """في من على الى إلى عن مع بعد قبل هذا هذه ذلك تلك التي الذي الذين ان او أو ما لا لم لن
    قد كما حيث خلال عبر حول بين ضمن عند منذ حتى ثم كل اي وفي ومن وعلى وهو وهي هو هي بها به لها
    له فيها منها عليها انها انه كان كانت يكون تكون اكثر اقل جديد جديده جدد رسميا رسمي رسميه
    تعلن اعلن اعلنت يعلن تطلق اطلق اطلقت تكشف كشف كشفت عن تقدم قدمت تبدا بدات تعتزم شركه
    شركات عملاق اليوم امس الان وفق بحسب حسب نحو يوم اسبوع عام العام مع الى دولار دولارا
    يورو مليون مليار ملايين مليارات الف الاف""".split()  # noqa: SIM905
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


class _Canon(NamedTuple):
    """What `_canon` reads of a matching key."""

    tokens: tuple[str, ...]  # aliases folded to "@id", clitics stripped
    ids: frozenset[str]  # entity ids, parents included
    models: frozenset[str]  # model tokens ("s25", "9a", "17" of "iPhone 17")
    values: tuple[Value, ...]  # amounts and shares (("", 6000.0), ("$", 5e11), ("%", 20.0))


def _words(key: str) -> tuple[str, ...]:
    """The key's words, cut where Arabic meets Latin or digits ("ب10", "وamd")."""
    parts = [split_scripts(w) for w in key.split()]
    return tuple(part for split in parts for part in split)


def _canon(key: str) -> _Canon:
    table, parents = _aliases()
    words = _words(key)
    hits = table.find(words)
    out: list[str] = []
    marked: list[str] = []  # the words, each hit one "@id" token, for `quantities`
    products: list[bool] = []
    ids = {h.value for h in hits}
    i = 0
    for hit in hits:
        out.extend(map(_strip, words[i : hit.start]))
        marked.extend(words[i : hit.start])
        products.extend([False] * (hit.start - i))
        out.append("@" + hit.value)
        marked.append("@" + hit.value)
        products.append(True)
        i = hit.end
    out.extend(map(_strip, words[i:]))
    marked.extend(words[i:])
    found = quantities(marked, products)
    ids.update([parents[x] for x in ids if x in parents])
    return _Canon(tuple(out), frozenset(ids), frozenset(found.models), found.values)


def entities(key: str) -> frozenset[str]:
    """Canonical brand/product ids named in a matching key (parents included)."""
    return _canon(key).ids


def figures(key: str) -> frozenset[str]:
    """Model tokens in a matching key ("17" of "آيفون 17", "s25", "9a"); no amounts."""
    return _canon(key).models


def values(key: str) -> tuple[Value, ...]:
    """Amounts and shares in a matching key, as (kind, number): "6 آلاف" is ("", 6000.0)."""
    return _canon(key).values


#: A token set as `_Features` keeps it: a frozenset, or a tuple of distinct tokens once
#: its member is indexed (`_Features.compact`).
Tokens = frozenset[str] | tuple[str, ...]


class _Features:
    """What `_score` compares of one article, made from its `Prepared` when first scored.

    The word sets and the title's character 4-grams are built on first use: most pairs
    fail a guard (figures, entities) before the overlaps count, so most members of an
    index never need them. A cache, hence not a frozen record.

    Once compact (its member is in an index, and is only ever the second article of a
    pair) it keeps those sets as tuples: a frozenset of 40 words takes a table of 128
    slots, 2 KB, where the tuple takes 360 bytes, and every comparison of a pair iterates
    one side and probes the other (`_pairs._shared`), which the tuple serves as well.
    Its words then put the entity tokens first, so that `residual` is a slice of them,
    not a third tuple; and once they are made it lets the lead go (about 600 bytes),
    keeping only the words with a digit that `numbers` reads.
    """

    __slots__ = (
        "_compact", "_grams", "_lead", "_named", "_numbers", "_residual", "_signals",
        "_skeletons", "_title", "_words", "distinctive", "facts", "figures", "ids",
        "lead_distinctive", "lead_figures", "lead_model_numbers", "lead_values", "modality",
        "model_numbers", "places", "subject", "sums", "title_ids", "title_roots", "values",
    )  # fmt: skip

    def __init__(self, prepared: Prepared) -> None:
        self._title = prepared.title
        self._lead: str | None = prepared.lead  # None once compact and its words made
        self._compact = False
        self._named = 0  # how many of the compact words are entity tokens (the first)
        self._numbers: tuple[str, ...] | None = None  # `numbers`, kept when the lead goes
        self._signals: Tokens | None = None
        self._grams: Tokens | None = None
        self._words: Tokens | None = None
        self._residual: Tokens | None = None
        self._skeletons: Tokens | None = None
        self.title_ids = prepared.title_ids
        self.ids = prepared.ids
        self.figures = prepared.figures
        self.values = prepared.values
        # what the specificity guard asks of every pair (`_pairs._unsupported`), once
        self.facts = _facts(prepared.values)
        self.sums = _sums(prepared.values)
        self.distinctive = _distinctive(prepared.values)
        self.lead_distinctive = _distinctive(prepared.lead_values)
        self.lead_figures = prepared.lead_figures
        self.lead_values = prepared.lead_values
        # the model tokens that are bare numbers, as amounts ("17" of "آيفون 17")
        self.model_numbers = _as_numbers(prepared.figures)
        self.lead_model_numbers = _as_numbers(prepared.lead_figures)
        # the company the title leads with (root of its first entity), and every root
        self.subject = _subject(prepared.title)
        self.title_roots = _roots(prepared.title_ids)
        self.modality = modality(prepared.title)
        # the region's places the title names, once: `places_differ` asks of every pair
        self.places = _places(prepared.title)

    def compact(self) -> None:
        """Keep the token sets as tuples from now on, and what the lead gives rather
        than the lead (the class docstring says why)."""
        self._compact = True
        self._signals, self._grams, self._skeletons = (
            None if t is None else tuple(t) for t in (self._signals, self._grams, self._skeletons)
        )
        self._residual = None
        if self._words is not None:
            self._pack(self._words)

    def _keep(self, tokens: frozenset[str]) -> Tokens:
        return tuple(tokens) if self._compact else tokens

    def _pack(self, words: Tokens) -> None:
        """Keep `words` compact: a tuple, entity tokens first; the lead is let go."""
        named = [w for w in words if w[0] == "@"]
        self._named = len(named)
        self._words = (*named, *(w for w in words if w[0] != "@"))
        self._numbers = tuple(map(_intern, self.numbers()))  # a tuple: a set takes 200 bytes
        self._lead = None

    @property
    def title_tokens(self) -> tuple[str, ...]:
        """The title's tokens, in order (aliases folded, clitics stripped)."""
        return self._title

    @property
    def signals(self) -> Tokens:
        """Rare-token candidates: the title's content words."""
        if self._signals is None:
            self._signals = self._keep(_signals(self._title))
        return self._signals

    @property
    def grams(self) -> Tokens:
        """Title character 4-grams, aliases folded."""
        if self._grams is None:
            # Interned: an index holds thousands of these sets, made of the same few
            # thousand grams and words; one copy of each string instead of one per article.
            joined = " ".join(self._title)
            self._grams = self._keep(
                frozenset([_intern(joined[i : i + 4]) for i in range(max(1, len(joined) - 3))])
            )
        return self._grams

    @property
    def words(self) -> Tokens:
        """Content words of title + lead."""
        if self._words is None:
            assert self._lead is not None  # let go only once the words are made
            # Interned: the split tokens are otherwise kept by nothing but this set, and
            # the same few thousand words recur across an index's articles.
            lead = map(_intern, _lead_words(self._lead))
            words = frozenset([*self.signals, *lead])
            if self._compact:
                self._pack(words)
            else:
                self._words = words
        return self._words  # type: ignore[return-value]  # made above

    def numbers(self) -> frozenset[str]:
        """The words of title and lead that hold a digit ("1750", "2017", "22"): what a
        source's repost of one article repeats exactly."""
        if self._lead is None:
            assert self._numbers is not None  # kept when the lead was let go
            return frozenset(self._numbers)
        # A word of letters alone (most of them) holds no digit; both tests run in C.
        found = [
            w
            for w in (*self._title, *self._lead.split())
            if not w.isalpha() and any(map(str.isdigit, w))
        ]
        return frozenset(found) if found else _NO_NUMBERS

    @property
    def latin(self) -> frozenset[str]:
        """The title's Latin words that name something (not a model token or "pro")."""
        return frozenset(
            [t for t in self._title if t.isascii() and t.isalpha() and len(t) > 2
             and t not in _LATIN_COMMON]
        )  # fmt: skip

    @property
    def skeletons(self) -> Tokens:
        """Consonant skeletons of the Arabic words of title + lead (`arabic.skeleton`)."""
        if self._skeletons is None:
            self._skeletons = self._keep(
                frozenset([skeleton(w) for w in self.words if w[0] != "@" and not w.isascii()])
            )
        return self._skeletons

    def names(self, latin: frozenset[str]) -> bool:
        """Whether this article uses every one of the Latin names, in either script."""
        words = self.words
        for name in latin:
            if name in words:
                continue
            form = skeleton(name)
            if len(form) < 2 or form not in self.skeletons:
                return False
        return True

    @property
    def residual(self) -> Tokens:
        """`words` without entity tokens: what the two say about the entity."""
        if self._compact:
            words = self.words  # packed: the entity tokens first
            return words[self._named :]  # type: ignore[index]  # a tuple once compact
        if self._residual is None:
            self._residual = frozenset([w for w in self.words if w[0] != "@"])
        return self._residual


@functools.lru_cache(maxsize=1 << 12)
def _roots(title_ids: frozenset[str]) -> frozenset[str]:
    """The root of each entity of a title: one set for each set of ids, not one per article."""
    return frozenset([_root(i) for i in title_ids])


def _as_numbers(models: frozenset[str]) -> tuple[Value, ...]:
    return tuple(sorted(("", float(m)) for m in models if m.replace(".", "", 1).isdigit()))


def _values(stored: list[list[object]]) -> tuple[Value, ...]:
    if not stored:  # most titles and many leads: no tuple to build
        return ()
    return tuple((str(kind), float(amount)) for kind, amount in stored)  # type: ignore[arg-type]


def _content_words(prepared: Prepared) -> frozenset[str]:
    """`_Features.words` of a prepared article, without making its features."""
    return _signals(prepared.title).union(_lead_words(prepared.lead))


_NO_NUMBERS: frozenset[str] = frozenset()


def _lead_words(lead: str) -> list[str]:
    return [t for t in lead.split() if len(t) > 1 and t not in _STOP]


def _signals(title: tuple[str, ...]) -> frozenset[str]:
    """The title's content words (not interned: the title tuple keeps them anyway)."""
    return frozenset([t for t in title if len(t) > 1 and t not in _STOP])


def _root(ident: str) -> str:
    parents = _aliases()[1]
    while ident in parents:
        ident = parents[ident]
    return ident


def _subject(title: tuple[str, ...]) -> str | None:
    """Root company of the first entity in a title's first three words, if any.

    Arabic headlines open with their subject ("شاومي تطلق ..."). Two titles that lead
    with different companies are usually different events even when they mention each
    other ("Xiaomi 17 ships with Snapdragon 8" vs "Qualcomm announces Snapdragon 8").
    A regulator is not a subject: "المفوضية الأوروبية تغرم آبل" is about Apple.
    """
    for token in title[:3]:
        if token.startswith("@") and token[1:] not in _REGULATORS:
            return _intern(_root(token[1:]))
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
_H = TypeVar("_H", bound=Hashable)


def _one(shared: dict[Hashable, Hashable], value: _H) -> _H:
    """The value in `shared` equal to `value`, `value` itself if there is none yet."""
    return shared.setdefault(value, value)  # type: ignore[return-value]  # equal, same type


@functools.cache
def _tag() -> str:
    """What every stored preparation starts with, and is valid only with: a digest of
    the alias table and of the format's version ("prep5") and parameters. Bump the
    version whenever `Prepared.of` would make something else from the same keys."""
    table = "\n".join("\t".join(r) for r in read_table("aliases.tsv"))
    spec = f"prep5 {NUM_PERM} {SHINGLE} {LEAD_CHARS} {_SCHEME}\n{table}"
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
    figures: frozenset[str]  # the title's model tokens: two titles' must not clash
    values: tuple[Value, ...]  # the title's amounts and shares
    lead_figures: frozenset[str]  # model tokens of the lead (which starts with the title)
    lead_values: tuple[Value, ...]
    signature: bytes  # NUM_PERM MinHash values, little-endian uint32

    @classmethod
    def of(cls, title_key: str, text_key: str) -> Prepared:
        title = _canon(title_key)
        lead = _canon(_lead(text_key))
        return cls(
            title.tokens, " ".join(lead.tokens), title.ids, title.ids | lead.ids,
            title.models, title.values, lead.models, lead.values,
            _signature(title_key, text_key),
        )  # fmt: skip

    def dumps(self) -> str:
        """A JSON text for the store; `loads` refuses it once the alias table changes."""
        sig = base64.b64encode(self.signature).decode("ascii")
        parts = [
            list(self.title), self.lead, sorted(self.title_ids), sorted(self.ids),
            sorted(self.figures), list(self.values), sorted(self.lead_figures),
            list(self.lead_values),
        ]  # fmt: skip
        return json.dumps([_tag(), *parts, sig], ensure_ascii=False)

    @staticmethod
    def current(text: str | None) -> bool:
        """Whether a stored text was made by this alias table (cheap: no decoding)."""
        return bool(text) and text.startswith(f'["{_tag()}"')  # type: ignore[union-attr]

    @classmethod
    def loads(
        cls, text: str | None, shared: dict[Hashable, Hashable] | None = None
    ) -> Prepared | None:
        """The stored preparation, or None when absent or made by another alias table.

        Its title tokens are interned, and its sets and amounts are the equal ones in
        `shared` when it holds one: an index of thousands of articles holds a few dozen
        distinct entity sets and mostly empty figure sets, each 200 bytes as a copy.
        """
        if not text:
            return None
        data = json.loads(text)
        if not isinstance(data, list) or len(data) != 10 or data[0] != _tag():
            return None
        _, title, lead, title_ids, ids, figs, vals, lead_figs, lead_vals, sig = data
        seen = {} if shared is None else shared
        return cls(
            tuple(map(_intern, title)), lead, _one(seen, frozenset(title_ids)),
            _one(seen, frozenset(ids)), _one(seen, frozenset(figs)), _one(seen, _values(vals)),
            _one(seen, frozenset(lead_figs)), _one(seen, _values(lead_vals)),
            binascii.a2b_base64(sig),
        )  # fmt: skip

    def signals(self) -> frozenset[str]:
        """The title's content words: what the index posts for rare-token candidates."""
        return _signals(self.title)

    def features(self) -> _Features:
        return _Features(self)


def _score(a: _Features, b: _Features, common: frozenset[str] = frozenset()) -> float:
    """Rewrite-tier score of two articles: the link's probability (`_pairs`), or 0.0
    when a guard fails or it falls below the model's threshold."""
    return probability(a, b, common)
