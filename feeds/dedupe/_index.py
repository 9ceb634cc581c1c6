"""`StoryIndex`: the members of recent stories, and the tiers that file an article."""

from __future__ import annotations

import gc
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from feeds.types import Filed

from ._bands import Bands, put
from ._features import NUM_PERM, Prepared, _content_words, _Features, _score
from ._member import _MICROSECOND, Member, micros, story_id_for
from ._pairs import _figures_differ, _shared, places_differ

WINDOW = timedelta(hours=72)
WIRE_JACCARD = 0.5
# The LSH only has to find wire copies; rewrites share too few 5-grams (0.05-0.25 on the
# labelled set) and come from the rare-token postings instead.
LSH_THRESHOLD = 0.4
RARE_CAP = 64  # a title token posted more often than this in one day is not "rare"
MAX_CANDIDATES = 64
#: A word used by more than this share of the index's articles is common (`_common`).
COMMON_SHARE = 0.02
#: Copies of one article a source may post again under new guids (same link and
#: title, within the window) that still join its story.
REPOSTS = 2
#: How alike a source's two postings must be (estimated Jaccard of title and lead) for
#: the second, under a new link, to be the first posted again (`_repost`).
REPOST_JACCARD = 0.8
#: The fewest words the shorter of the two titles of a repost holds: "أسعار الذهب
#: اليوم" and "أسعار الذهب اليوم الأحد" are a daily series, not one article twice.
REPOST_WORDS = 4
#: The fewest words of a title that the exact title tier matches on.
TITLE_WORDS = 3
#: Links to this many of a story's members join it even without a link to its first:
#: a story told four times is often told by its first teller with other facts.
CORROBORATION = 3


class StoryIndex:
    """In-memory index over recent members; `assign` files new articles into stories.

    What holds for every member m in `_members` (by article id), from the moment it is
    added (`add`, or `assign` once its story is decided) on:

    - `_stories[m.story_id]` holds it, in the order added; its story never changes.
    - Exact tier: `_by_url` and `_by_guid` map its canonical URL and its absolute guid
      to the story of the first member that had them; `_by_title[m.title_key]` holds it.
    - Candidates: `_postings[token][m.day]` lists its id for each content word of its
      title, and `_bands` holds its id under its signature's bands.
    - Filters: `_by_source[m.source_url]` holds its id, as does `_by_figure[f]` for each
      of its figures, and `_with_figures` when it has any.
    - Evidence: `_df` counts it once for each of its content words (title and lead), so
      that words most of the index uses are no evidence (`_common`).

    The maps hold ids where `_candidates` and `_links` combine them as sets (in C), and
    members where the index reads their fields; `_stories` and `_by_title` hold one
    member as itself, more as a list (`put`, `_held`): most stories and titles have
    one, and a list each would cost a large index 120 bytes a member. A member's
    features (`Member.features`) are made when the fuzzy tiers match it as it is filed,
    or the first time it is a candidate that gets as far as scoring, which most members
    of a large index never are; until then it keeps only its preparation.
    """

    def __init__(self, members: Iterable[Member] = (), *, window: timedelta = WINDOW) -> None:
        self.window = window
        self._days = math.ceil(window / timedelta(days=1))
        # Members posted this many days or fewer from an article's day are within the
        # window of it whatever the hours; only the days beyond need the exact test.
        self._sure_days = max(0, window // timedelta(days=1) - 1)
        self._span = window // _MICROSECOND  # the window in microseconds
        self._members: dict[str, Member] = {}
        self._stories: dict[str, Member | list[Member]] = {}
        self._by_url: dict[str, str] = {}
        self._by_guid: dict[str, str] = {}
        self._by_title: dict[str, Member | list[Member]] = {}
        self._postings: dict[str, dict[int, list[str]]] = defaultdict(dict)  # token, day
        self._bands = Bands()
        self._by_source: dict[str, set[str]] = defaultdict(set)
        self._by_figure: dict[str, set[str]] = defaultdict(set)
        self._with_figures: set[str] = set()
        self._df: Counter[str] = Counter()
        # Whether every member came in oldest first (ties by id), and the last of them:
        # what `continues` reads.
        self._ordered = True
        self._last: tuple[int, str] | None = None
        with collector_paused():
            for member in members:
                self.add(member)

    def add(self, member: Member) -> None:
        """Index a stored member (its story set); adding the same article twice does
        nothing."""
        if member.article_id not in self._members:
            assert member.prepared is not None  # not yet scored: it is in no index
            self._add(member, member.prepared)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._members

    def continues(self, members: Collection[str], published: datetime, article_id: str) -> bool:
        """Whether this index holds what one built afresh from `members` (ids of stored
        articles) would, in the same order, for the article `article_id` published at
        `published` and later ones to be filed into it next: it holds exactly those
        members, and all came in oldest first (ties by id), before that article.

        A pass files a large backlog in batches (`pipeline`) and keeps one index for all
        of them while this holds: the same stories, without indexing the stored articles
        again for each batch.
        """
        held, first = self._members, (micros(published), article_id)
        return (
            self._ordered
            and (self._last is None or first > self._last)
            and len(members) == len(held)
            and all(aid in held for aid in members)
        )

    def file(self, pending: Iterable[Member]) -> list[Filed]:
        """File each of `pending` in the order given (`assign`). What an earlier call filed
        is first compacted, as the stored members are."""
        self._bands.compact()
        with collector_paused():
            return [Filed(m.article_id, *self.assign(m)) for m in pending]

    def assign(self, member: Member) -> tuple[str, bool]:
        """(story id, created new) for an unfiled `member`, which then joins the index
        in that story. An article already in the index keeps its story."""
        known = self._members.get(member.article_id)
        if known is not None:
            return known.story_id, False
        prepared = member.prepared  # what indexing reads, before `features` lets it go
        assert prepared is not None  # not yet scored: it is in no index
        # The members under its title, for a title long enough for the title tier
        # ("تحديث" alone says nothing; an empty one, a label's or an empty item's, is
        # held by thousands).
        titled = len(member.title_key.split()) >= TITLE_WORDS
        held = _held(self._by_title, member.title_key) if titled else ()
        labels = _labelling(held, member) if held else _NONE
        found = self._exact(member, held, labels)
        if found is None:  # the LSH neighbours, read by both tiers that follow
            near = self._bands.query(prepared.signature)
            found = self._repost(member, near) or self._fuzzy(member, near, labels)
        # A new story is named after its first article's link, unless that link does not
        # identify the article: the story it would name exists already.
        story = found or story_id_for(member, by_link=self._link_identifies(member))
        member.story_id = story
        self._add(member, prepared)
        return story, found is None

    def _add(self, member: Member, prepared: Prepared) -> None:
        """Put `member` in every map, as the class docstring says."""
        aid, story = member.article_id, member.story_id
        age = _age(member)
        if self._last is None or age > self._last:
            self._last = age
        elif age < self._last:
            self._ordered = False
        self._members[aid] = member
        put(self._stories, story, member)
        if member.canonical_url:
            self._by_url.setdefault(member.canonical_url, story)
        if member.guid is not None and _absolute(member.guid):
            self._by_guid.setdefault(member.guid, story)
        put(self._by_title, member.title_key, member)
        feats, day = member.feats, member.day
        for token in prepared.signals() if feats is None else feats.signals:
            by_day = self._postings[token]
            posting = by_day.get(day)
            if posting is None:
                by_day[day] = [aid]
            else:
                posting.append(aid)
        slot = self._bands.insert(aid, prepared.signature)
        # The same words either way; a filed member has them already, as a set.
        self._df.update(_content_words(prepared) if feats is None else feats.words)
        self._by_source[member.source_url].add(aid)
        member.index(slot)
        if prepared.figures:
            self._with_figures.add(aid)
            for figure in prepared.figures:
                self._by_figure[figure].add(aid)

    # -- exact tier

    def _exact(self, member: Member, held: Sequence[Member], labels: frozenset[str]) -> str | None:
        """The story of `member`'s link, guid or title (`held`: the members under its
        title; `labels`: the sources among them that use it as a label, `_labelling`)."""
        if self._link_identifies(member) and member.canonical_url in self._by_url:
            return self._by_url[member.canonical_url]
        if _absolute(member.guid) and member.guid in self._by_guid:
            return self._by_guid[member.guid]
        source, when, span = member.source_url, member.micros, self._span
        if not held or source in labels:  # held is empty for a title of few words
            return None
        skip = labels | {source}
        same = [
            m for m in held
            if m.source_url not in skip and abs(m.micros - when) <= span and _one_title(member, m)
        ]  # fmt: skip
        for story in dict.fromkeys(m.story_id for m in sorted(same, key=_age)):
            if self._may_hold(story, member):
                return story
        return None

    def _may_hold(self, story: str, member: Member) -> bool:
        """Whether `story`, which holds `member`'s title from another source, may take
        `member` by that title alone: it holds no article of `member`'s source, or only
        the same article posted before (`REPOSTS` at most, each as alike as a repost).

        Else a title that recurs ("النشرة اليومية لأخبار التقنية", a weekly column) made
        one story of every issue two sites posted: each issue joined the one before by
        the other site's copy, and the story grew by two articles a day.
        """
        source = member.source_url
        own = [m.article_id for m in _held(self._stories, story) if m.source_url == source]
        if not own:
            return True
        if len(own) > REPOSTS:
            return False
        return all(sim >= REPOST_JACCARD for sim in self._similarities(member, own))

    def _link_identifies(self, member: Member) -> bool:
        """Whether `member`'s canonical URL is its identity, as for most articles.

        Not for a source whose items share one link: a podcast that links every episode
        to its homepage, a Hugo taxonomy feed, a WordPress set-up that links every post
        to the front page. An item of the same source that had this link first makes it
        the same article only as a repost: the same title, within the window, at most
        `REPOSTS` times. Otherwise the link says nothing, and the guid and the fuzzy
        tiers decide, as for an article without a link.
        """
        url = member.canonical_url
        story = self._by_url.get(url) if url else None
        if story is None:
            return bool(url)
        source, when, span = member.source_url, member.micros, self._span
        own = [
            m
            for m in _held(self._stories, story)
            if m.source_url == source and m.canonical_url == url
        ]
        return len(own) <= REPOSTS and all(
            m.title_key == member.title_key and abs(m.micros - when) <= span for m in own
        )

    def _repost(self, member: Member, near: set[str]) -> str | None:
        """The story of an article `member`'s own source posted before, when `member` is
        that article posted again under a new link (sites repost a story they update:
        "… الرسوم الجديدة" and "… تبدأ.. … الرسوم الجديدة"): within the window, nearly
        the same title and lead (`REPOST_JACCARD`) with the same numbers in them (two
        flats of one building to let, "available June 14" and "June 22", are two
        listings), and titles that are the same words but for one added, none of it a
        figure (`_one_word_more`). A story takes at most `REPOSTS` more articles of one
        source. `near` are `member`'s LSH neighbours."""
        members, source, when, span = self._members, member.source_url, member.micros, self._span
        own = [
            a for a in near
            if (m := members[a]).source_url == source and abs(m.micros - when) <= span
        ]  # fmt: skip
        if not own:
            return None
        words = member.title_key.split()
        found = [
            m
            for a, similarity in zip(own, self._similarities(member, own), strict=True)
            if similarity >= REPOST_JACCARD
            and _one_word_more(words, (m := members[a]).title_key.split())
            and m.features().numbers() == member.features().numbers()
            and sum(o.source_url == source for o in _held(self._stories, m.story_id)) <= REPOSTS
        ]
        return min(found, key=_age).story_id if found else None

    # -- fuzzy tiers

    def _similarities(self, member: Member, aids: Sequence[str]) -> list[float]:
        """Estimated Jaccard of `member` (being filed) against each of `aids`
        (MinHash.jaccard): equal values / NUM_PERM."""
        assert member.signature is not None  # not indexed yet: its own
        if not aids:
            return []
        members = self._members
        equal = self._bands.equal_values(member.signature, [members[a].slot for a in aids])
        return [n / NUM_PERM for n in equal]

    def _candidates(self, member: Member, near: set[str]) -> set[str]:
        """The members `member` is compared with: its closest LSH neighbours (`near`), and
        those that share the most rare title tokens with it; at most MAX_CANDIDATES of each."""
        members, source = self._members, member.source_url
        first, last = member.micros - self._span, member.micros + self._span
        # LSH neighbours from another source within the window
        wire = [
            a for a in near if (m := members[a]).source_url != source and first <= m.micros <= last
        ]
        if len(wire) > MAX_CANDIDATES:  # boilerplate-heavy feeds: keep the closest copies
            sims = dict(zip(wire, self._similarities(member, wire), strict=True))
            wire.sort(key=lambda a: (-sims[a], a))
        found = set(wire[:MAX_CANDIDATES])
        # Those sharing a rare title token (one is enough), from another source and
        # within the window, as set operations: only members of the window's edge days
        # need the exact time test.
        counts, edge = self._shared_rare_tokens(member)
        kept = counts.keys() - self._by_source.get(source, _NONE)
        if edge:
            kept.difference_update([a for a in edge if not first <= members[a].micros <= last])
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

    def _shared_rare_tokens(self, member: Member) -> tuple[Counter[str], list[str]]:
        """How many of `member`'s title tokens each member shares, counting only the
        tokens rare on the member's day (posted at most RARE_CAP times) within the
        window; and the members counted from days far enough that they may lie outside
        the window."""
        day = member.day
        first, last = day - self._days, day + self._days
        sure = self._sure_days
        window = range(first, last + 1)
        width = len(window)
        shared: list[str] = []
        edge: list[str] = []
        for token in member.features().signals:
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

    def _fuzzy(
        self, member: Member, near: set[str], labels: frozenset[str] = frozenset()
    ) -> str | None:
        # In any order: only each story's best link counts. Under a label title
        # (`labels`), the members that share it are no candidates: the model would read
        # the one title as two articles' headline.
        aids = list(self._candidates(member, near))
        if labels:
            title, own = member.title_key, member.source_url in labels
            aids = [
                a for a in aids
                if (m := self._members[a]).title_key != title
                or not (own or m.source_url in labels)
            ]  # fmt: skip
        links = self._links(member, aids)
        best: dict[str, float] = {}
        members = self._members
        for aid, score in links.items():
            story = members[aid].story_id
            if score > best.get(story, 0.0):
                best[story] = score
        for story, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0])):
            if self._coheres(member, story, links):
                return story
        return None

    def _links(self, member: Member, aids: Sequence[str]) -> dict[str, float]:
        """How well `member` matches each of `aids`: > 1 for a wire copy, 0 for no link.

        Members whose figures clash with `member`'s are left out: they link 0 whatever
        their text (`_score`'s first guard, and no wire bonus either), and on a busy day
        they are most candidates ("17" against "15", "ps5" against "499").
        """
        mine, members = member.features(), self._members
        common = self._common(member)
        links: dict[str, float] = {}
        if mine.figures:  # as set operations: those without figures, or sharing one
            given = set(aids)
            kept = given - self._with_figures
            for figure in mine.figures:
                kept |= given & self._by_figure.get(figure, _NONE)
            aids = list(kept)  # in any order: each member's link is its own
        for aid, similarity in zip(aids, self._similarities(member, aids), strict=True):
            theirs = members[aid].features()
            score = _score(mine, theirs, common)
            if similarity >= WIRE_JACCARD and _wire_titles(mine, theirs):
                score += 1.0  # a wire copy
            links[aid] = score
        return links

    def _common(self, member: Member) -> frozenset[str]:
        """`member`'s words that more than `COMMON_SHARE` of the index's articles use (and
        more than `RARE_CAP`): the field's everyday words, no evidence of one story."""
        cap, df = max(RARE_CAP, COMMON_SHARE * len(self._members)), self._df
        return frozenset([w for w in member.features().words if df[w] > cap])

    def _coheres(self, member: Member, story: str, links: dict[str, float]) -> bool:
        """Whether `member` may join `story`: no member of it is from the same source
        (a source does not publish one story twice), and `member` links to its first
        member too, not only to a later one; this stops a chain A~B~C from pulling C
        into A's story when C and A are different events. Links to `CORROBORATION` of
        its members or more do as well: that is no chain. `links` are its links to
        members already scored."""
        members = _held(self._stories, story)
        if any(m.source_url == member.source_url for m in members):
            return False
        first = min(members, key=_age).article_id
        link = links.get(first)
        if link is None:
            link = self._links(member, [first]).get(first, 0.0)  # absent: no link
        return link > 0 or sum(links.get(m.article_id, 0.0) > 0 for m in members) >= CORROBORATION


def _wire_titles(mine: _Features, theirs: _Features) -> bool:
    """Whether the titles of two articles of nearly the same text let them be one wire
    copy: their figures do not clash, nor the companies they name, and they share a
    content word. (A text is nearly the same with any title when it is a feed's or a
    network's boilerplate: "تابعوا آخر الأخبار على موقعنا… اقرأ المزيد" under each
    headline made 8,000 items of 200 such sources 161 stories.)"""
    if mine.figures and theirs.figures and mine.figures.isdisjoint(theirs.figures):
        return False
    if mine.title_ids and theirs.title_ids and mine.title_ids.isdisjoint(theirs.title_ids):
        return False
    if places_differ(mine, theirs) or _figures_differ(mine, theirs):
        return False  # one template for two places or two figures: a daily series
    return bool(_shared(mine.signals, theirs.signals))


def _one_title(a: Member, b: Member) -> bool:
    """Whether the title two sources gave `a` and `b` makes them one story: unless it
    names no entity and their leads name only different ones. Two outlets' "نشرة
    التقنية اليوم" digest other news, and "إطلاق تحديث جديد" two companies' updates."""
    mine, theirs = _made(a), _made(b)  # not `features()`: most exact matches are never scored
    return bool(mine.title_ids) or not (mine.ids and theirs.ids and mine.ids.isdisjoint(theirs.ids))


def _made(member: Member) -> Prepared | _Features:
    """What `member` holds of its article: its preparation, or the features made of it."""
    made = member.feats or member.prepared
    assert made is not None  # a member holds one of the two
    return made


def _labelling(held: Sequence[Member], member: Member) -> frozenset[str]:
    """The sources among `held` (and `member`'s), all under one title, that give that
    title to items at two links: a label there ("منشور جديد على القناة"), not a headline,
    whichever pass brought each item. (`normalize.articles` finds the labels of one
    fetch; a feed that shows one item at a time shows them only across passes.)"""
    first: dict[str, str] = {}
    found = set()
    for m in (*held, member):
        url = m.canonical_url
        if url and first.setdefault(m.source_url, url) != url:
            found.add(m.source_url)
    return frozenset(found)


def _held(table: Mapping[str, Member | list[Member]], key: str) -> Sequence[Member]:
    """The members under `key` (`put`), in the order added."""
    held = table.get(key)
    if held is None:
        return ()
    return (held,) if isinstance(held, Member) else held


def _age(member: Member) -> tuple[int, str]:
    """Oldest first, ties by id: the order stories are founded and filed in."""
    return member.micros, member.article_id


def _one_word_more(a: list[str], b: list[str]) -> bool:
    """Whether two titles' words are the same, in order, but for one word that one of
    them adds, not a figure; the shorter has at least `REPOST_WORDS`."""
    if len(a) < len(b):
        a, b = b, a
    if len(b) < REPOST_WORDS or len(a) - len(b) > 1:
        return False
    if len(a) == len(b):
        return a == b
    extra = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(b))
    return a[:extra] + a[extra + 1 :] == b and not any(c.isdigit() for c in a[extra])


def _absolute(guid: str | None) -> bool:
    return guid is not None and guid.lower().startswith(("http://", "https://"))


def _most_shared(aids: list[str], counts: Mapping[str, int]) -> list[str]:
    """`aids` sorted by shared tokens, most first, ties by id (in place, and returned).

    Two sorts in C rather than one over built (count, id) tuples: the second is stable,
    so the ids' order survives among equal counts (`reverse` keeps stability too).
    """
    aids.sort()
    aids.sort(key=counts.__getitem__, reverse=True)
    return aids


@contextmanager
def collector_paused() -> Iterator[None]:
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


def assign_pending(
    stored: Iterable[Member], pending: Iterable[Member], *, window: timedelta = WINDOW
) -> list[Filed]:
    """Index `stored`, then file each of `pending` in the order given (`Filed`: the
    article, its story, and whether that story is new). A pass gives them oldest first,
    ties by id (the order the store lists them in), so the same articles make the same
    stories anywhere.

    Both may be generators, so each stored row is decoded just before it is indexed and
    each pending one just before it is filed. The collector stays paused until the index
    has been freed, so it never walks the index at all.
    """
    with collector_paused():
        index = StoryIndex(stored, window=window)
        assigned = index.file(pending)
        del index
    return assigned
