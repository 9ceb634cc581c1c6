"""Which story an article belongs to (pure).

Tiers, cheapest first (research/arabic.md 5c):

1. Exact: the same canonical URL, the same guid when it is an absolute URL (a WordPress
   "?p=123" guid is only unique within its site), or the same title key from another
   source within the window, into a story holding none of this source's articles
   but reposts of this one (a daily digest's title is not one story), and never by a
   title a source gives to items at two links (its label, `_labelling`). A link shared
   by several items of one source (a podcast's homepage, a Hugo taxonomy page) is no
   identity for that source: a second item of the source joins by link only as a
   repost (same title, within the window, `REPOSTS` at most), and a story it starts
   is named after its article, not the link.
   Reposts under a new link: an article whose own source posted nearly the same title
   and lead within the window (estimated Jaccard >= `REPOST_JACCARD`, the same numbers,
   the titles the same words but for one added) joins that story, `REPOSTS` at most.
2. Wire copies: MinHash LSH over character 5-grams of the title key plus lead; an
   estimated Jaccard >= `WIRE_JACCARD` links two articles whose titles share a
   content word and clash in no figure or company (a network's boilerplate makes any
   two of its texts alike).
3. Rewrites: candidates from the LSH and from shared rare title tokens (day-bucketed
   postings, so "rare" means rare around that date) are scored by a logistic pair
   model (`_pairs`, weights fitted offline and shipped in pair_weights.tsv) over text
   overlap, shared entities (aliases.tsv folded to one id), figures read as values
   (`feeds.arabic.numbers`), which company each title leads with, and what each title
   claims (`feeds.arabic.modality`). Guards: model numbers in the titles must agree
   when both titles have some, brand/product entities must overlap when both sides
   have some, a leak never links with an announcement, and a pair must share
   something specific (two companies, a model token, a fact-like amount, or a word
   that few articles of the index use).

The fuzzy tiers never link two articles of the same source, or two articles further
apart than the window. An article joins the story whose member it matches best, and
only if it also matches the story's first member, or three of its members
(`CORROBORATION`); this stops a chain A~B~C from pulling C into A's story when C and A
are different events.

An article's shapes here: `Prepared` (what matching needs of it, from its keys alone),
`Member` (its place in a `StoryIndex`: ids, source, date, signature as an integer, and
the preparation until scoring replaces it by `_Features`, the overlaps compared).

`Prepared` is a cache. The parse stage computes it (`Prepared.of`, from the title and
text keys) and the store keeps it beside the article (`articles.match_features`, the
JSON text of `Prepared.dumps`), so rebuilding the index from stored articles recomputes
none of it. A stored text is valid while it starts with the tag `_features._tag`: a
digest of the format version ("prep5"), `NUM_PERM`, `SHINGLE`, `LEAD_CHARS`, the MinHash
scheme and the whole alias table. `Prepared.current` checks the tag, `Prepared.loads`
refuses a text without it, and the pass recomputes any missing or stale text from the
stored keys and writes it back before clustering (`pipeline`'s backfill). So editing
aliases.tsv invalidates every stored text on its own; a change to the code that makes a
`Prepared` (`_canon`, the figures, the lead, the shingles) must change the version.

A story's id is set when the story is created (`story_id_for` of its first article) and
never changes; later articles only join.
"""

from __future__ import annotations

from ._features import (
    LEAD_CHARS,
    NUM_PERM,
    SHINGLE,
    Prepared,
    entities,
    figures,
)
from ._index import (
    LSH_THRESHOLD,
    WINDOW,
    WIRE_JACCARD,
    StoryIndex,
    assign_pending,
    collector_paused,
)
from ._member import Member, origin, story_id_for
from ._representative import Candidate, representative

__all__ = [
    "LEAD_CHARS",
    "LSH_THRESHOLD",
    "NUM_PERM",
    "SHINGLE",
    "WINDOW",
    "WIRE_JACCARD",
    "Candidate",
    "Member",
    "Prepared",
    "StoryIndex",
    "assign_pending",
    "collector_paused",
    "entities",
    "figures",
    "origin",
    "representative",
    "story_id_for",
]
