"""Which story an article belongs to (pure).

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

What one article contributes (alias-folded tokens, entities, figures, MinHash signature)
is computed once by `Prepared.of` in the parse stage (`_features`) and stored beside the
article, so rebuilding the index from stored articles recomputes none of it.

A story's id is set when the story is created (`story_id_for` of its first article) and
never changes; later articles only join.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple

from feeds.types import Article

from ._bands import Bands
from ._features import (
    LEAD_CHARS,
    LINK_BARE,
    LINK_ENTITY,
    LINK_FIGURES,
    LINK_OTHER_SUBJECT,
    NUM_PERM,
    SHINGLE,
    Prepared,
    _Features,
    _score,
    entities,
    figures,
)

__all__ = [
    "LEAD_CHARS",
    "LINK_BARE",
    "LINK_ENTITY",
    "LINK_FIGURES",
    "LINK_OTHER_SUBJECT",
    "NUM_PERM",
    "SHINGLE",
    "Candidate",
    "Member",
    "Prepared",
    "StoryIndex",
    "assign_all",
    "assign_pending",
    "entities",
    "figures",
    "representative",
    "story_id_for",
]

WINDOW = timedelta(hours=72)
WIRE_JACCARD = 0.5
# The LSH only has to find wire copies; rewrites share too few 5-grams (0.05-0.25 on the
# labelled set) and come from the rare-token postings instead.
LSH_THRESHOLD = 0.4
RARE_CAP = 64  # a title token posted more often than this in one day is not "rare"
MAX_CANDIDATES = 64

Cohesion = Literal["first", "majority", "none"]
Decision = tuple[str, str, bool]  # (article id, story id, created a new story)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Member:
    """What the index keeps per stored article.

    `prepared` saves recomputing the article's features and signature; without it they
    are computed from the keys. A Member with an empty `story_id` is an article not yet
    filed, which `StoryIndex.assign` and `assign_all` accept beside Articles.
    """

    article_id: str
    story_id: str
    source_url: str
    canonical_url: str
    guid: str | None
    title_key: str
    text_key: str
    published: datetime
    prepared: Prepared | None = None

    @classmethod
    def of(cls, article: Article, story_id: str, prepared: Prepared | None = None) -> Member:
        return cls(
            article_id=article.id,
            story_id=story_id,
            source_url=article.source_url,
            canonical_url=article.canonical_url,
            guid=article.guid,
            title_key=article.title_key,
            text_key=article.text_key,
            published=article.published,
            prepared=prepared,
        )


def story_id_for(article: Article | Member) -> str:
    """A new story's id, from its first article's canonical URL (else the article's id).

    Stable, so re-running a pass on the same articles gives the same ids; and from the
    URL rather than the article, so copies of one URL arriving in any order (a pass
    killed between two sources, workers racing) still found the same story id.
    """
    url = article.canonical_url
    if url:
        return "s" + hashlib.sha1(("url:" + url).encode()).hexdigest()[:20]
    ident = article.id if isinstance(article, Article) else article.article_id
    return "s" + hashlib.sha1(ident.encode()).hexdigest()[:20]


def _absolute(guid: str | None) -> bool:
    return guid is not None and guid.lower().startswith(("http://", "https://"))


class _Doc(NamedTuple):
    """An article being filed: its member record (no story yet) and what matching uses."""

    member: Member
    feats: _Features
    signature: bytes
    lanes: int  # the signature as one integer (`_lanes`)
    day: int  # `_day` of its date
    micros: int  # `_micros` of its date


class _Kept(NamedTuple):
    """What the index keeps of each member: the four fields it reads (a tuple is quicker
    to make than a Member, and smaller)."""

    article_id: str
    story_id: str
    source_url: str
    published: datetime


def _doc(member: Member) -> _Doc:
    prep = member.prepared or Prepared.of(member.title_key, member.text_key)
    when = member.published
    return _Doc(
        member, prep.features(), prep.signature, _lanes(prep.signature), _day(when), _micros(when)
    )


# --------------------------------------------------------------------------- index


class StoryIndex:
    """In-memory index over recent members; `assign` files new articles into stories.

    A stored member costs its exact-tier keys, its rare-token postings and its LSH bands;
    what scoring compares (`_Features`) is made from its preparation only once it is
    a candidate, which most members of a large index never are.
    """

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
        # Members posted this many days or fewer from an article's day are within the
        # window of it whatever the hours; only the days beyond need the exact test.
        self._sure_days = max(0, window // timedelta(days=1) - 1)
        self._span = window // _MICROSECOND  # the window in microseconds
        self._members: dict[str, _Kept] = {}
        self._feats: dict[str, _Features] = {}
        self._prepared: dict[str, Prepared] = {}  # until the member is first scored
        self._stories: dict[str, list[str]] = defaultdict(list)
        self._by_source: dict[str, set[str]] = defaultdict(set)
        # Members by figure, and those with any: what `_links` drops clashing ones with.
        self._by_figure: dict[str, set[str]] = defaultdict(set)
        self._with_figures: set[str] = set()
        self._by_url: dict[str, str] = {}
        self._by_guid: dict[str, str] = {}
        self._by_title: dict[str, list[str]] = defaultdict(list)
        self._postings: dict[str, dict[int, list[str]]] = defaultdict(dict)  # token, day
        self._bands = Bands()
        # Every member's signature as one integer: a similarity is a few integer operations.
        self._lanes: dict[str, int] = {}
        # Each member's source and date (integer microseconds, so the window test is
        # exact): what `_candidates` filters thousands of candidates on, without
        # building a timedelta per candidate.
        self._where: dict[str, tuple[str, int]] = {}
        with _collector_paused():
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
            prep = member.prepared or Prepared.of(member.title_key, member.text_key)
            self._prepared[member.article_id] = prep
            sig, when = prep.signature, member.published
            self._add(
                member, member.story_id, sig, _lanes(sig), prep.signals(), prep.figures,
                _day(when), _micros(when),
            )  # fmt: skip

    def _add(
        self,
        member: Member,
        story_id: str,
        signature: bytes,
        lanes: int,
        signals: Iterable[str],
        figures: frozenset[str],
        day: int,
        micros: int,
    ) -> None:
        aid = member.article_id
        source = sys.intern(member.source_url)  # one copy per source, not one per row
        self._members[aid] = _Kept(aid, story_id, source, member.published)
        self._stories[story_id].append(aid)
        self._by_source[source].add(aid)
        if figures:
            self._with_figures.add(aid)
            for figure in figures:
                self._by_figure[figure].add(aid)
        self._where[aid] = (source, micros)
        if member.canonical_url:
            self._by_url.setdefault(member.canonical_url, story_id)
        if member.guid is not None and _absolute(member.guid):
            self._by_guid.setdefault(member.guid, story_id)
        self._by_title[member.title_key].append(aid)
        for token in signals:
            by_day = self._postings[token]
            posting = by_day.get(day)
            if posting is None:
                by_day[day] = [aid]
            else:
                posting.append(aid)
        self._lanes[aid] = lanes
        self._bands.insert(aid, signature)

    def _features(self, aid: str) -> _Features:
        """A member's features, made from its preparation the first time it is scored."""
        feats = self._feats.get(aid)
        if feats is None:
            feats = self._feats[aid] = self._prepared.pop(aid).features()
        return feats

    def assign_each(
        self, members: Iterable[Member], each: Callable[[Decision], None] | None = None
    ) -> list[Decision]:
        """`assign` each member in the order given: (article id, story id, created new).

        `members` may be a generator, so a caller holding thousands of stored rows
        decodes each just before it is filed; and the collector pauses, as in `__init__`.
        `each` is called with every decision as it is made, so a writer can start on the
        first ones while the rest are filed.
        """
        with _collector_paused():
            out: list[Decision] = []
            for m in members:
                decision = (m.article_id, *self.assign(m))
                out.append(decision)
                if each is not None:
                    each(decision)
            return out

    def assign(
        self, article: Article | Member, prepared: Prepared | None = None
    ) -> tuple[str, bool]:
        """(story id, created new) for `article`, which is then added to the index."""
        member = article if isinstance(article, Member) else Member.of(article, "", prepared)
        if member.article_id in self._members:
            return self._members[member.article_id].story_id, False
        doc = _doc(member)
        story = self._exact(member) or self._fuzzy(doc)
        created = story is None
        story_id = story_id_for(member) if story is None else story
        feats = doc.feats
        self._add(
            member, story_id, doc.signature, doc.lanes, feats.signals, feats.figures, doc.day,
            doc.micros,
        )  # fmt: skip
        self._feats[member.article_id] = doc.feats
        return story_id, created

    # -- exact tier

    def _exact(self, article: Member) -> str | None:
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

    def _similarities(self, lanes: int, aids: Sequence[str]) -> list[float]:
        """Estimated Jaccard against each member (MinHash.jaccard): equal values / NUM_PERM."""
        known = self._lanes
        return [_equal_lanes(lanes, known[a]) / NUM_PERM for a in aids]

    def _candidates(self, doc: _Doc) -> set[str]:
        """The members `doc` is compared with: its closest LSH neighbours, and those that
        share the most rare title tokens with it; at most MAX_CANDIDATES of each."""
        where, source = self._where, doc.member.source_url
        when, span = doc.micros, self._span
        first, last = when - span, when + span
        # LSH neighbours from another source within the window
        wire = [
            a
            for a in self._bands.query(doc.signature)
            if (w := where[a])[0] != source and first <= w[1] <= last
        ]
        if len(wire) > MAX_CANDIDATES:  # boilerplate-heavy feeds: keep the closest copies
            sims = dict(zip(wire, self._similarities(doc.lanes, wire), strict=True))
            wire.sort(key=lambda a: (-sims[a], a))
        found = set(wire[:MAX_CANDIDATES])
        # Those sharing a rare title token (one is enough), from another source and
        # within the window, as set operations: only members of the window's edge days
        # need the exact time test.
        counts, edge = self._shared_rare_tokens(doc)
        kept = counts.keys() - self._by_source.get(source, set())
        if edge:
            kept.difference_update([a for a in edge if not first <= where[a][1] <= last])
        # The most shared first (ties by id). With many, only the first 4 * MAX_CANDIDATES
        # of all are looked at; otherwise all are, and only the ones kept need ranking.
        # (Sorts, not heapq.nsmallest: a few hundred ids sort faster in C than a heap is
        # kept in Python.)
        if len(counts) > 4 * MAX_CANDIDATES:
            ranked = _most_shared(list(counts), counts)[: 4 * MAX_CANDIDATES]
            close = [a for a in ranked if a in kept]
        elif len(kept) > MAX_CANDIDATES:
            close = _most_shared(list(kept), counts)
        else:
            close = list(kept)  # in any order: `found` is a set
        found.update(close[:MAX_CANDIDATES])
        return found

    def _shared_rare_tokens(self, doc: _Doc) -> tuple[Counter[str], list[str]]:
        """How many of `doc`'s title tokens each member shares, counting only the tokens
        rare on the member's day (posted at most RARE_CAP times) within the window; and
        the members counted from days far enough that they may lie outside the window."""
        day = doc.day
        first, last = day - self._days, day + self._days
        sure = self._sure_days
        window = range(first, last + 1)
        width = len(window)
        shared: list[str] = []
        edge: list[str] = []
        for token in doc.feats.signals:
            by_day = self._postings.get(token)
            if by_day is None:
                continue
            # The days posted, or the days of the window, whichever are fewer.
            days = ((d, by_day.get(d)) for d in window) if len(by_day) > width else by_day.items()
            for d, posting in days:
                if posting is not None and first <= d <= last and len(posting) <= RARE_CAP:
                    shared += posting
                    if abs(d - day) > sure:
                        edge += posting
        return Counter(shared), edge

    def _fuzzy(self, doc: _Doc) -> str | None:
        aids = list(self._candidates(doc))  # any order: only each story's best link counts
        links = self._links(doc, aids)
        best: dict[str, float] = {}
        for aid, score in links.items():
            story = self._members[aid].story_id
            if score > best.get(story, 0.0):
                best[story] = score
        for story, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0])):
            if self._coheres(doc, story, links):
                return story
        return None

    def _links(self, doc: _Doc, aids: Sequence[str]) -> dict[str, float]:
        """How well `doc` matches each member: > 1 for a wire copy, 0 for no link.

        Members whose figures clash with `doc`'s are left out: they link 0 whatever
        their text (`_score`'s first guard, and no wire bonus either), and on a busy day
        they are most candidates ("17" against "15", "ps5" against "499").
        """
        mine, known = doc.feats, self._feats
        links: dict[str, float] = {}
        if mine.figures:  # as set operations: those without figures, or sharing one
            given = set(aids)
            kept = given - self._with_figures
            for figure in mine.figures:
                kept |= given & self._by_figure.get(figure, _NONE)
            aids = list(kept)  # in any order: each member's link is its own
        for aid, similarity in zip(aids, self._similarities(doc.lanes, aids), strict=True):
            theirs = known.get(aid) or self._features(aid)
            score = _score(mine, theirs)
            if similarity >= WIRE_JACCARD and not (
                mine.figures and theirs.figures and mine.figures.isdisjoint(theirs.figures)
            ):
                score += 1.0  # a wire copy, unless their figures clash
            links[aid] = score
        return links

    def _coheres(self, doc: _Doc, story: str, links: dict[str, float]) -> bool:
        """Whether `doc` may join `story`; `links` are its links to members already known."""
        members = sorted(
            (self._members[a] for a in self._stories[story]),
            key=lambda m: (m.published, m.article_id),
        )
        if any(m.source_url == doc.member.source_url for m in members):
            return False  # a source does not publish one story twice
        if self.cohesion == "none":
            return True
        if self.cohesion == "first":  # the story's first member must link too
            members = members[:1]
        aids = [m.article_id for m in members]
        links = {**self._links(doc, [a for a in aids if a not in links]), **links}
        linked = sum(1 for a in aids if links.get(a, 0.0) > 0)  # absent: no link
        return 2 * linked >= len(members)


def _most_shared(aids: list[str], counts: Mapping[str, int]) -> list[str]:
    """`aids` sorted by shared tokens, most first, ties by id (in place, and returned).

    Two sorts in C rather than one over built (count, id) tuples: the second is stable,
    so the ids' order survives among equal counts (`reverse` keeps stability too).
    """
    aids.sort()
    aids.sort(key=counts.__getitem__, reverse=True)
    return aids


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while an index is filled.

    An index is hundreds of thousands of small objects and a few dicts of one entry per
    member, and none of them is ever part of a cycle; yet every full collection while
    they are made walks all of them again, a third of the time building 100,000 members
    took. Only objects in reference cycles wait; anything else is freed as usual.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_NONE: frozenset[str] = frozenset()

# A signature is NUM_PERM little-endian uint32 values; read as one little-endian integer,
# value k is bits 32k to 32k+31. These masks hold, in every 32-bit lane, its low 31 bits
# and its top bit.
_LOW = int.from_bytes(b"\xff\xff\xff\x7f" * NUM_PERM, "little")
_TOP = int.from_bytes(b"\x00\x00\x00\x80" * NUM_PERM, "little")


def _lanes(signature: bytes) -> int:
    return int.from_bytes(signature, "little")


def _equal_lanes(a: int, b: int) -> int:
    """How many of the NUM_PERM values two signatures (`_lanes`) share, position by position.

    A lane of a ^ b is zero where they agree. Adding 0x7fffffff to a lane's low 31 bits
    sets its top bit when any of them is set, and never carries into the next lane; or-ing
    the lane itself in adds its own top bit. So one top bit is left per differing lane.
    (A numpy compare per article cost 15-20 µs of call overhead for the 2 or 3
    members a filed article is usually compared with.)
    """
    diff = a ^ b
    return NUM_PERM - ((((diff & _LOW) + _LOW) | diff) & _TOP).bit_count()


def _day(when: datetime) -> int:
    return math.floor(when.timestamp() / 86400)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(when: datetime) -> int:
    """`when` in whole microseconds since 1970: exact, unlike a float timestamp."""
    return (when - _EPOCH) // _MICROSECOND


def assign_all(
    index: StoryIndex, articles: Sequence[Article | Member]
) -> tuple[tuple[str, str, bool], ...]:
    """Assign `articles` oldest first (ties by id): (article id, story id, created new).

    Unfiled Members (empty story id, `prepared` set) may stand for Articles: the pass
    files stored articles that way, without loading their bodies.
    """
    members = [a if isinstance(a, Member) else Member.of(a, "") for a in articles]
    members.sort(key=lambda m: (m.published, m.article_id))
    return tuple(index.assign_each(members))


def assign_pending(
    stored: Iterable[Member],
    pending: Iterable[Member],
    *,
    window: timedelta = WINDOW,
    each: Callable[[Decision], None] | None = None,
) -> list[Decision]:
    """Index `stored`, then assign each of `pending` in the order given (oldest first,
    ties by id, as `assign_all` orders them): (article id, story id, created new).

    What a pass does. Both may be generators, so each stored row is decoded just before
    it is indexed and each pending one just before it is filed. The collector stays
    paused until the index has been freed, so it never walks the index at all. `each`
    sees every decision as it is made (`StoryIndex.assign_each`).
    """
    with _collector_paused():
        index = StoryIndex(stored, window=window)
        assigned = index.assign_each(pending, each)
        del index
    return assigned


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
