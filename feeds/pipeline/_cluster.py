"""Clustering the store's unfiled articles into stories, and classifying the stories.

Works from the store, not from a pass's memory, so articles saved by a pass that was
killed before this step (or by a distributed worker) are clustered by the next. Reads no
bodies: each article's preparation and topic scores were stored beside it by the parse
stage (`derive`); rows stored without them, or with stale ones, are computed again from
the stored keys and written back (`_backfill`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ..store import MatchRow, Store

if TYPE_CHECKING:
    from .. import dedupe


#: Pending articles filed per index. Same stories as one index over all of them, but for
#: the rare-word counts of the specificity guard (`dedupe`), which see one batch's window.
BATCH = 4_000


def cluster(store: Store, now: datetime, *, since: datetime) -> set[str]:
    """Put every article that has no story yet into one; classify the stories touched.

    Returns the ids of stories created or changed at or after `since`. A backlog (a
    store recovering from killed passes, a first pass over many sources) is filed in
    batches of `BATCH`, oldest first, each against what the earlier ones filed: the
    stored rows in memory are one batch's, not the whole backlog's (`_Filer`).
    """
    # Ids first, rows batch by batch: a backlog's stored preparations (a few KB each)
    # are never all in memory at once.
    pending = store.unassigned_ids()
    if pending:  # else dedupe (and numpy) is never imported: a warm pass
        from .. import dedupe

        filer = _Filer(store, now)
        with dedupe.collector_paused():  # the index may outlive a batch
            for start in range(0, len(pending), BATCH):
                filer.file(store.match_rows_of(pending[start : start + BATCH]))
            del filer
    del pending
    touched = set(store.stories_touched_since(since))
    # Filing leaves every story it touches unclassified; a pass killed before this
    # write leaves them so, and the next pass (with its own `since`) classifies them.
    # One way to sum topics (issue 18): a second, summing the new stories' in memory for
    # the filing write, gave the same topics and no gain worth keeping two paths
    # identical for. benchmarks/clustering.py's stores, the cluster step's CPU, median of
    # five interleaved runs: 0.97 s with it and 0.93 s without (1,000 new articles
    # against 100,000), 1.94 and 1.95 s (8,000 into an empty store).
    classify_stories(store, sorted(touched.union(store.unclassified_stories())))
    return touched


class _Filer:
    """Files pending rows batch by batch (oldest first), each against the stored
    articles near it, earlier batches' included, and writes where each went.

    A batch is filed into the index of the one before when that index holds what one
    built afresh would (`dedupe.StoryIndex.continues`): a first pass's batches all lie
    in one window, and building each batch's index again from the store cost an
    800-source pass 112,000 stored rows read and indexed instead of none.
    """

    def __init__(self, store: Store, now: datetime) -> None:
        self.store, self.now = store, now
        self.index: dedupe.StoryIndex | None = None

    def file(self, batch: list[MatchRow]) -> None:
        from .. import dedupe

        store = self.store
        since = min(r.published for r in batch) - dedupe.WINDOW
        same = _same_identity(store, batch)
        index, self.index = self.index, None
        if index is not None:
            wanted = store.match_ids_since(since).union(r.id for r in same)
            if not index.continues(wanted, batch[0].published, batch[0].id):
                index = None  # let it go before the next is built
        recent = [] if index is not None else _neighbours(store, since, same)
        _backfill(store, recent)
        _backfill(store, batch)
        # The reads filled the page cache (32 MB) with pages filing never reads: let them
        # go before the index grows. `store.assign` reads the rows it writes again.
        store.release_memory()
        # Each row's preparation is decoded just before it is indexed or filed, not all
        # at once, and each row let go once it is: the generators empty `recent` and
        # `batch` as they go. The batch is oldest first, ties by id: the order
        # `StoryIndex.file` wants, so the same articles make the same stories anywhere.
        shared: dict[Hashable, Hashable] = {}
        if index is None:
            index = dedupe.StoryIndex(_members(recent, shared), window=dedupe.WINDOW)
        del recent
        store.assign(index.file(_members(batch, shared)), self.now)
        self.index = index


def _same_identity(store: Store, pending: Sequence[MatchRow]) -> list[MatchRow]:
    """The stored articles, however old, with the URL or guid of one of `pending`: the
    exact tier joins a re-posted URL to its story at any age."""
    urls = [r.canonical_url for r in pending if r.canonical_url]
    guids = [r.guid for r in pending if r.guid and r.guid.lower().startswith(("http:", "https:"))]
    return store.match_rows_by_identity(urls, guids)


def _neighbours(store: Store, since: datetime, same: Sequence[MatchRow]) -> list[MatchRow]:
    """The stored articles a batch could join: those dated at or after `since` (the
    fuzzy tiers' window before its earliest article), plus `same` (`_same_identity`).

    Only these are indexed, so a pass with a few new articles does not rebuild an index
    over days of stored ones."""
    near = store.match_rows_since(since)
    ids = {r.id for r in near}
    return sorted([*near, *(r for r in same if r.id not in ids)], key=lambda r: (r.published, r.id))


def _backfill(store: Store, rows: list[MatchRow]) -> None:
    """Compute what rows stored before schema 3, or with another alias table, lack."""
    from .. import dedupe

    missing = [r.id for r in rows if not dedupe.Prepared.current(r.match_features)]
    if not missing:
        return
    keys = store.article_keys(missing)
    fresh = {aid: dedupe.Prepared.of(keys[aid][1], keys[aid][2]).dumps() for aid in missing}
    store.set_derived({aid: (text, None) for aid, text in fresh.items()})
    rows[:] = [replace(r, match_features=fresh[r.id]) if r.id in fresh else r for r in rows]


def _members(rows: list[MatchRow], shared: dict[Hashable, Hashable]) -> Iterator[dedupe.Member]:
    """Each row as the index's Member, in order, its preparation decoded only when it is
    reached (equal sets once, through `shared`: `Prepared.loads`). Empties `rows` as it
    goes: a row's stored text is let go once its member is made."""
    from .. import dedupe  # once per pass, not once per row

    rows.reverse()
    while rows:
        row = rows.pop()
        prepared = dedupe.Prepared.loads(row.match_features, shared)
        assert prepared is not None  # `_backfill` left every row's current
        yield dedupe.Member(
            row.id, row.story_id or "", dedupe.origin(row.source_url, row.outlet),
            row.canonical_url, row.guid,
            row.title_key, row.published, prepared,
        )  # fmt: skip


def classify_stories(store: Store, story_ids: Sequence[str]) -> None:
    """A story's topics from its articles' stored scores (`classify.combine`)."""
    from .. import classify

    rows = store.score_rows(story_ids)
    scores = {r.id: classify.loads_scores(r.topic_scores) for r in rows}
    missing = [aid for aid, s in scores.items() if s is None]
    if missing:
        keys = store.article_keys(missing)
        fresh = {aid: classify.key_scores(keys[aid][1], keys[aid][2]) for aid in missing}
        store.set_derived({aid: (None, classify.dumps_scores(s)) for aid, s in fresh.items()})
        scores.update(fresh)
    by_story: dict[str, list[Mapping[str, float]]] = {}
    for row in rows:  # by story, then article id: the same sums on every run
        by_story.setdefault(row.story_id, []).append(scores[row.id] or {})
    store.set_topics({sid: classify.combine(arts) for sid, arts in by_story.items()})
