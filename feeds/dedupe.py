"""Which story an article belongs to (pure; datasketch is imported here only).

Tiers, cheapest first (research/arabic.md 5c):

1. Exact: the same canonical URL, the same guid when it is an absolute URL (a WordPress
   "?p=123" guid is only unique within its site), or the same title key from another
   source within the window.
2. Wire copies: MinHash LSH over character 5-grams of the title key plus lead; an
   estimated Jaccard >= `WIRE_JACCARD` links two articles.
3. Rewrites: candidates from the LSH and from shared rare title tokens (day-bucketed
   postings, so "rare" means rare around that date) are scored on title character
   4-grams and title+lead words, after brand aliases (aliases.tsv) are folded to one id.
   Guards: numbers and model numbers in the titles must agree when both titles have
   some, and brand/product entities must overlap when both sides have some.

The fuzzy tiers never link two articles of the same source, or two articles further
apart than the window. An article joins the story whose member it matches best, and
only if it also matches the story's first member (`cohesion="first"`); this stops a
chain A~B~C from pulling C into A's story when C and A are different events.

A story's id is set when the story is created (`story_id_for` of its first article) and
never changes; later articles only join.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from datasketch import LeanMinHash, MinHash, MinHashLSH

from feeds.arabic.matching import strip_clitics
from feeds.classify import PhraseTable, read_table
from feeds.types import Article

__all__ = [
    "Candidate",
    "Member",
    "StoryIndex",
    "assign_all",
    "entities",
    "figures",
    "representative",
    "story_id_for",
]

WINDOW = timedelta(hours=72)
LEAD_CHARS = 300  # the lead: enough for the first sentence or two of a summary
NUM_PERM = 64
SHINGLE = 5  # characters; n = 5 keeps precision on long near-verbatim text (5c)
WIRE_JACCARD = 0.5
# The LSH only has to find wire copies; rewrites share too few 5-grams (0.05-0.25 on the
# labelled set) and come from the rare-token postings instead.
LSH_THRESHOLD = 0.4
# Rewrite-tier thresholds on (title 4-gram Jaccard + title/lead word Dice) / 2. Rewritten
# Arabic headlines of one story score only 0.1-0.4 (research/arabic.md 5b), so the
# thresholds are low and the guards do the separating; the more the two articles agree
# on specifics, the less text overlap is needed.
LINK_FIGURES = 0.12  # they share an entity and a number or model number
LINK_ENTITY = 0.15  # they share an entity
LINK_BARE = 0.30  # neither names a known entity
LINK_OTHER_SUBJECT = 0.35  # the titles lead with different companies
RARE_CAP = 64  # a title token posted more often than this in one day is not "rare"
MIN_SHARED = 1  # rare tokens two titles must share to be compared
MAX_CANDIDATES = 64

Cohesion = Literal["first", "majority", "none"]

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
        out.append(strip_clitics(words[i]))
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


# Bounded: an index over months of articles must not hold every feature set in memory.
@functools.lru_cache(maxsize=1 << 15)
def _features(title_key: str, text_key: str) -> _Features:
    title, title_ids, figs = _canon(title_key)
    lead, lead_ids, _ = _canon(_lead(text_key))
    joined = " ".join(title)
    grams = frozenset(joined[i : i + 4] for i in range(max(1, len(joined) - 3)))
    content = [t for t in title if len(t) > 1 and t not in _STOP]
    return _Features(
        grams=grams,
        words=frozenset(content + [t for t in lead if len(t) > 1 and t not in _STOP]),
        signals=frozenset(content),
        title_ids=title_ids,
        ids=title_ids | lead_ids,
        figures=figs,
        subject=_subject(title),
    )


def _shingles(title_key: str, text_key: str) -> list[bytes]:
    text = f"{title_key} {_lead(text_key)}"
    return list({text[i : i + SHINGLE].encode() for i in range(max(1, len(text) - SHINGLE + 1))})


_PERMUTATIONS = MinHash(num_perm=NUM_PERM)


def _minhash(title_key: str, text_key: str) -> LeanMinHash:
    m = MinHash(
        num_perm=NUM_PERM,
        permutations=_PERMUTATIONS.permutations,
        scheme=_PERMUTATIONS.scheme,
    )
    m.update_batch(_shingles(title_key, text_key))
    return LeanMinHash(m)


def _score(a: _Features, b: _Features) -> float:
    """Rewrite-tier score of two articles, 0.0 when a guard fails or it is too low."""
    if a.figures and b.figures and not a.figures & b.figures:
        return 0.0
    if a.title_ids and b.title_ids and not a.title_ids & b.title_ids:
        return 0.0
    if a.ids and b.ids and not a.ids & b.ids:
        return 0.0
    title = len(a.grams & b.grams) / (len(a.grams | b.grams) or 1)
    words = 2 * len(a.words & b.words) / ((len(a.words) + len(b.words)) or 1)
    score = (title + words) / 2
    if a.subject and b.subject and a.subject != b.subject:
        need = LINK_OTHER_SUBJECT
    elif a.ids & b.ids:
        need = LINK_FIGURES if a.figures & b.figures else LINK_ENTITY
    else:
        need = LINK_BARE
    return score if score >= need else 0.0


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Member:
    """What the index keeps per stored article."""

    article_id: str
    story_id: str
    source_url: str
    canonical_url: str
    guid: str | None
    title_key: str
    text_key: str
    published: datetime

    @classmethod
    def of(cls, article: Article, story_id: str) -> Member:
        return cls(
            article_id=article.id,
            story_id=story_id,
            source_url=article.source_url,
            canonical_url=article.canonical_url,
            guid=article.guid,
            title_key=article.title_key,
            text_key=article.text_key,
            published=article.published,
        )


def story_id_for(article: Article) -> str:
    """A new story's id: stable, so re-running a pass on the same articles gives the same ids."""
    return "s" + hashlib.sha1(article.id.encode()).hexdigest()[:20]


def _absolute(guid: str | None) -> bool:
    return guid is not None and guid.lower().startswith(("http://", "https://"))


# --------------------------------------------------------------------------- index


class StoryIndex:
    """In-memory index over recent members; `assign` files new articles into stories."""

    def __init__(
        self,
        members: Iterable[Member] = (),
        *,
        window: timedelta = WINDOW,
        cohesion: Cohesion = "first",
    ) -> None:
        self.window = window
        self.cohesion = cohesion
        self._days = math.ceil(window / timedelta(days=1))
        self._members: dict[str, Member] = {}
        self._stories: dict[str, list[str]] = defaultdict(list)
        self._by_url: dict[str, str] = {}
        self._by_guid: dict[str, str] = {}
        self._by_title: dict[str, list[str]] = defaultdict(list)
        self._postings: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._hashes: dict[str, LeanMinHash] = {}
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        for member in members:
            self.add(member)

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._members

    def story_of(self, article_id: str) -> str:
        return self._members[article_id].story_id

    def add(self, member: Member) -> None:
        """Index a stored member; adding the same article twice does nothing."""
        if member.article_id not in self._members:
            self._add(member, _minhash(member.title_key, member.text_key))

    def _add(self, member: Member, mh: LeanMinHash) -> None:
        aid = member.article_id
        self._members[aid] = member
        self._stories[member.story_id].append(aid)
        if member.canonical_url:
            self._by_url.setdefault(member.canonical_url, member.story_id)
        if _absolute(member.guid):
            assert member.guid is not None
            self._by_guid.setdefault(member.guid, member.story_id)
        self._by_title[member.title_key].append(aid)
        day = _day(member.published)
        for token in _features(member.title_key, member.text_key).signals:
            self._postings[token, day].append(aid)
        self._hashes[aid] = mh
        self._lsh.insert(aid, mh, check_duplication=False)

    def assign(self, article: Article) -> tuple[str, bool]:
        """(story id, created new) for `article`, which is then added to the index."""
        if article.id in self._members:
            return self._members[article.id].story_id, False
        mh = _minhash(article.title_key, article.text_key)
        story = self._exact(article) or self._fuzzy(article, mh)
        created = story is None
        story_id = story_id_for(article) if story is None else story
        self._add(Member.of(article, story_id), mh)
        return story_id, created

    # -- exact tier

    def _exact(self, article: Article) -> str | None:
        if article.canonical_url in self._by_url:
            return self._by_url[article.canonical_url]
        if _absolute(article.guid) and article.guid in self._by_guid:
            return self._by_guid[article.guid]
        if len(article.title_key.split()) < 3:  # "تحديث" alone says nothing
            return None
        same = [
            self._members[a]
            for a in self._by_title.get(article.title_key, ())
            if self._members[a].source_url != article.source_url
            and abs(self._members[a].published - article.published) <= self.window
        ]
        return min(same, key=lambda m: (m.published, m.article_id)).story_id if same else None

    # -- fuzzy tiers

    def _near(self, article: Article, aid: str) -> bool:
        other = self._members[aid]
        return (
            other.source_url != article.source_url
            and abs(other.published - article.published) <= self.window
        )

    def _candidates(self, article: Article, feats: _Features, mh: LeanMinHash) -> list[str]:
        wire = [str(k) for k in self._lsh.query(mh) if self._near(article, str(k))]
        if len(wire) > MAX_CANDIDATES:  # boilerplate-heavy feeds: keep the closest copies
            wire.sort(key=lambda a: (-mh.jaccard(self._hashes[a]), a))
        found = set(wire[:MAX_CANDIDATES])
        counts: Counter[str] = Counter()
        day = _day(article.published)
        for token in feats.signals:
            for d in range(day - self._days, day + self._days + 1):
                posting = self._postings.get((token, d))
                if posting is not None and len(posting) <= RARE_CAP:
                    counts.update(posting)
        ranked = heapq.nsmallest(4 * MAX_CANDIDATES, ((-c, a) for a, c in counts.items()))
        near = [a for c, a in ranked if -c >= MIN_SHARED and self._near(article, a)]
        found.update(near[:MAX_CANDIDATES])
        return sorted(found)

    def _link(self, article: Article, feats: _Features, mh: LeanMinHash, other: Member) -> float:
        """How well `article` matches one member: > 1 for a wire copy, 0 for no link."""
        score = _score(feats, _features(other.title_key, other.text_key))
        if mh.jaccard(self._hashes[other.article_id]) >= WIRE_JACCARD:
            theirs = _features(other.title_key, other.text_key).figures
            if not (feats.figures and theirs and not feats.figures & theirs):
                return 1.0 + score
        return score

    def _fuzzy(self, article: Article, mh: LeanMinHash) -> str | None:
        feats = _features(article.title_key, article.text_key)
        best: dict[str, float] = {}
        for aid in self._candidates(article, feats, mh):
            other = self._members[aid]
            score = self._link(article, feats, mh, other)
            if score > best.get(other.story_id, 0.0):
                best[other.story_id] = score
        for story, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0])):
            if self._coheres(article, feats, mh, story):
                return story
        return None

    def _coheres(self, article: Article, feats: _Features, mh: LeanMinHash, story: str) -> bool:
        members = sorted(
            (self._members[a] for a in self._stories[story]),
            key=lambda m: (m.published, m.article_id),
        )
        if any(m.source_url == article.source_url for m in members):
            return False  # a source does not publish one story twice
        if self.cohesion == "none":
            return True
        if self.cohesion == "first":
            return self._link(article, feats, mh, members[0]) > 0.0
        linked = sum(1 for m in members if self._link(article, feats, mh, m) > 0.0)
        return 2 * linked >= len(members)


def _day(when: datetime) -> int:
    return math.floor(when.timestamp() / 86400)


def assign_all(index: StoryIndex, articles: Sequence[Article]) -> tuple[tuple[str, str, bool], ...]:
    """Assign `articles` oldest first (ties by id): (article id, story id, created new)."""
    ordered = sorted(articles, key=lambda a: (a.published, a.id))
    return tuple((a.id, *index.assign(a)) for a in ordered)


# --------------------------------------------------------------------------- representative


class Candidate(NamedTuple):
    """One story member as `representative` sees it; any 4-tuple in this order works."""

    article_id: str
    source_url: str
    published: datetime
    title: str


_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")


def _latin_first(title: str) -> bool:
    first = _LETTER.search(title)
    return first is not None and _LATIN.match(first.group()) is not None


def representative(
    members: Sequence[tuple[str, str, datetime, str]], priorities: Mapping[str, int]
) -> int:
    """Index in `members` of the article that represents the story.

    `members` are (article_id, source_url, published, title) tuples (`Candidate`);
    `priorities` maps a source URL to `SourceConfig.priority` (missing means 0). The rule
    is stable whatever the order of `members`: highest priority, then earliest published,
    then a title that starts with an Arabic word (a Latin first word loses ties), then
    the smallest article id.
    """
    if not members:
        raise ValueError("representative() of no members")

    def rank(i: int) -> tuple[int, datetime, bool, str]:
        article_id, source_url, published, title = members[i]
        return (-priorities.get(source_url, 0), published, _latin_first(title), article_id)

    return min(range(len(members)), key=rank)
