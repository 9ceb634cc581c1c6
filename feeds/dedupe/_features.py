"""Per-article matching features and MinHash signatures (`Prepared`), and pair scoring.

Everything here depends on one article alone, so the parse stage computes it (in the
pool's processes on a large pass) and the store keeps it beside the article; see the
package docstring for how the index uses it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from feeds.arabic.matching import strip_clitics
from feeds.classify import PhraseTable, read_table

if TYPE_CHECKING:
    from datasketch import LeanMinHash, MinHash

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
    hits = {h.start: h for h in table.find(words)}
    out: list[str] = []
    ids: set[str] = set()
    figs: set[str] = set()
    i = 0
    while i < len(words):
        hit = hits.get(i)
        if hit is not None:
            out.append("@" + hit.value)
            ids.add(hit.value)
            i = hit.end
            continue
        out.append(_strip(words[i]))
        figs.update(f for f in _FIGURE.findall(words[i]) if not _YEAR.fullmatch(f))
        i += 1
    ids.update([parents[x] for x in ids if x in parents])
    return tuple(out), frozenset(ids), frozenset(figs)


def entities(key: str) -> frozenset[str]:
    """Canonical brand/product ids named in a matching key (parents included)."""
    return _canon(key)[1]


def figures(key: str) -> frozenset[str]:
    """Numbers, amounts and model numbers in a matching key ("17", "s25", "10.5"), no years."""
    return _canon(key)[2]


@dataclass(frozen=True, slots=True)
class _Features:
    grams: frozenset[str]  # title character 4-grams, aliases folded
    words: frozenset[str]  # content words of title + lead
    signals: frozenset[str]  # rare-token candidates: title content words
    title_ids: frozenset[str]
    ids: frozenset[str]
    figures: frozenset[str]
    subject: str | None  # the company the title leads with (root of its first entity)


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


# A 5-gram's 32-bit hash is a polynomial over its code points, folded from 64 bits, then
# avalanched by the affine32 scheme's own mixer: numpy hashes every shingle of an article
# at once, where hashing each with sha1 in a Python loop cost 0.6 ms per article.
_POLY = np.uint64(0x100000001B3)


@functools.cache
def _permutations() -> MinHash:
    # datasketch (and the scipy it imports) costs ~0.3 s to import: a pass that finds
    # nothing new never needs it, so it is imported on first use, not with the module.
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM)


def _shingle_hashes(text: str) -> list[int]:
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(1, len(codes) - SHINGLE + 1)
    h = np.zeros(n, dtype=np.uint64)
    for k in range(min(SHINGLE, len(codes))):
        h = h * _POLY + codes[k : k + n]
    return ((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).tolist()  # type: ignore[no-any-return]


def _signature(title_key: str, text_key: str) -> bytes:
    from datasketch import MinHash

    perms = _permutations()
    m = MinHash(
        num_perm=NUM_PERM, permutations=perms.permutations, scheme=perms.scheme, hashfunc=int
    )
    m.update_batch(_shingle_hashes(f"{title_key} {_lead(text_key)}"))
    return m.hashvalues.astype("<u4").tobytes()  # type: ignore[no-any-return]


def _lean(values: np.ndarray) -> LeanMinHash:
    from datasketch import LeanMinHash

    perms = _permutations()
    return LeanMinHash(seed=perms.seed, hashvalues=values, scheme=perms.scheme)


_intern = sys.intern


@functools.cache
def _tag() -> str:
    """Stored preparations are valid only for the alias table and the code that made them."""
    table = "\n".join("\t".join(r) for r in read_table("aliases.tsv"))
    spec = f"prep1 {NUM_PERM} {SHINGLE} {LEAD_CHARS} {_permutations().scheme}\n{table}"
    return hashlib.sha1(spec.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What matching needs of one article, computed once (in the parse stage) and stored.

    The expensive part of indexing an article is folding aliases over its title and lead
    and hashing its shingles; with these kept beside the article, rebuilding the index
    from stored articles costs only set building and the LSH insert.
    """

    title: tuple[str, ...]  # title tokens, aliases folded to "@id", clitics stripped
    lead: tuple[str, ...]  # the same for the lead
    title_ids: frozenset[str]
    ids: frozenset[str]
    figures: frozenset[str]
    signature: bytes  # NUM_PERM MinHash values, little-endian uint32

    @classmethod
    def of(cls, title_key: str, text_key: str) -> Prepared:
        title, title_ids, figs = _canon(title_key)
        lead, lead_ids, _ = _canon(_lead(text_key))
        return cls(
            title, lead, title_ids, title_ids | lead_ids, figs, _signature(title_key, text_key)
        )

    def dumps(self) -> str:
        """A JSON text for the store; `loads` refuses it once the alias table changes."""
        sig = base64.b64encode(self.signature).decode("ascii")
        parts = [list(self.title), list(self.lead), sorted(self.title_ids), sorted(self.ids)]
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
            tuple(title), tuple(lead), frozenset(title_ids), frozenset(ids), frozenset(figs),
            base64.b64decode(sig),
        )  # fmt: skip

    def features(self) -> _Features:
        # Interned: an index holds thousands of these sets, made of the same few
        # thousand grams and words; one copy of each string instead of one per article.
        joined = " ".join(self.title)
        grams = frozenset(_intern(joined[i : i + 4]) for i in range(max(1, len(joined) - 3)))
        content = [_intern(t) for t in self.title if len(t) > 1 and t not in _STOP]
        lead = [_intern(t) for t in self.lead if len(t) > 1 and t not in _STOP]
        return _Features(
            grams=grams,
            words=frozenset(content + lead),
            signals=frozenset(content),
            title_ids=self.title_ids,
            ids=self.ids,
            figures=self.figures,
            subject=_subject(self.title),
        )

    def values(self) -> np.ndarray:
        return np.frombuffer(self.signature, dtype="<u4").astype(np.uint32)


def _score(a: _Features, b: _Features) -> float:
    """Rewrite-tier score of two articles, 0.0 when a guard fails or it is too low."""
    if a.figures and b.figures and not a.figures & b.figures:
        return 0.0
    if a.title_ids and b.title_ids and not a.title_ids & b.title_ids:
        return 0.0
    if a.ids and b.ids and not a.ids & b.ids:
        return 0.0
    if a.subject and b.subject and a.subject != b.subject:
        need = LINK_OTHER_SUBJECT
    elif a.ids & b.ids:
        need = LINK_FIGURES if a.figures & b.figures else LINK_ENTITY
    elif len(a.signals & b.signals) < 2:
        # No entity in common: one shared title word (often a generic one, "خوارزمية")
        # plus a boilerplate lead is not a story; rewrites share several title words.
        return 0.0
    else:
        need = LINK_BARE
    # The overlaps can be no larger than the smaller set: when even that bound falls
    # short, skip the set intersections (most candidates from the postings end here).
    ga, gb, wa, wb = len(a.grams), len(b.grams), len(a.words), len(b.words)
    bound = (min(ga, gb) / (max(ga, gb) or 1) + 2 * min(wa, wb) / ((wa + wb) or 1)) / 2
    if bound < need:
        return 0.0
    title = len(a.grams & b.grams) / (len(a.grams | b.grams) or 1)
    words = 2 * len(a.words & b.words) / ((len(a.words) + len(b.words)) or 1)
    score = (title + words) / 2
    return score if score >= need else 0.0
