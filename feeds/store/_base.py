"""The store interface, and everything in it that is the same SQL on both backends.

A backend supplies a connection (`_query`, `_tx`), its schema set-up, and the few
statements whose words differ: the atomic claim of due sources, the integrity check,
vacuum and the publish lock. SQL here is written with ``?`` and ``:name`` placeholders;
the PostgreSQL backend rewrites them for psycopg.
"""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, ClassVar, Self

from ..errors import StorageError
from ..types import Article, Filed, SourceConfig, SourceUpdate, Topics, Validators
from . import _rows, _schema
from ._ops import OpsRecords
from ._rows import (
    ArticleRow,
    MatchRow,
    PageResult,
    PageWanted,
    Params,
    Row,
    ScoreRow,
    SourceState,
    StoryRow,
    Tx,
    changed_at,
    chunks,
    ts,
)
from ._telegram import TelegramRecords

# An article's columns but the large ones an article list does not need (body, matching
# text and features), which read as empty.
# An article's published body: its page's text once extracted, else its feed's.
_BODY = "CASE WHEN p.url IS NOT NULL THEN p.content_html ELSE a.content_html END"
_LISTED = ", ".join(
    f"'' AS {c}" if c in ("content_html", "text_key") else f"a.{c}"
    for c in _schema.TABLES["articles"][1]
    if c not in ("match_features", "topic_scores")
)


class Store(OpsRecords, TelegramRecords, abc.ABC):
    """Sources, articles and stories: SQLite (a path) or PostgreSQL (a URL).

    `feeds.store.open_store` opens the backend a `database:` value names. Every method
    raises StorageError for anything the database refuses.
    """

    path: str
    #: How the dialect says "equal, NULLs included".
    _same = "IS"

    # ------------------------------------------------------------------ backend

    @abc.abstractmethod
    def close(self) -> None: ...

    def release_memory(self) -> None:
        """Let go of pages the connection caches in this process (SQLite's page cache)."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Tx]:
        """One write transaction; rolls back on any exception."""

    @abc.abstractmethod
    def _query(self, sql: str, params: Params = ()) -> list[Row]: ...

    #: What makes the claim's inner SELECT safe against concurrent claimers; each
    #: backend says what it needs.
    _CLAIM_LOCK: ClassVar[str]

    def claim_due(
        self, now: datetime, *, owner: str, lease: timedelta, limit: int
    ) -> list[SourceState]:
        """Atomically lease up to `limit` due sources whose lease is free or expired.

        Nobody else can claim them until `now + lease`; a worker that dies holding them
        loses them then, and they fall due again with nothing lost.
        """
        params: dict[str, Any] = {
            "now": ts(now), "owner": owner, "until": ts(now + lease), "limit": limit,
        }  # fmt: skip
        with self.transaction() as tx:
            rows = tx.execute(
                f"""UPDATE sources SET lease_owner = :owner, lease_until = :until
                    WHERE url IN (SELECT url FROM sources WHERE {self._CLAIMABLE}
                                  ORDER BY COALESCE(next_due, ''), url LIMIT :limit
                                  {self._CLAIM_LOCK})
                    RETURNING *""",
                params,
            )
        return sorted((_rows.source_state(r) for r in rows), key=lambda s: s.url)

    @abc.abstractmethod
    def check(self) -> list[str]:
        """Problems found by the database's own consistency checks; empty when fine."""

    @abc.abstractmethod
    def vacuum(self) -> None: ...

    @abc.abstractmethod
    def _serialize(self, tx: Tx, name: str) -> None:
        """Make concurrent transactions of kind `name`, `tx` among them, run one after
        the other."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, rows: Iterable[Params], *more: tuple[str, Iterable[Params]]) -> None:
        """Run one or more executemany statements in one transaction."""
        with self.transaction() as tx:
            tx.executemany(sql, rows)
            for extra_sql, extra_rows in more:
                tx.executemany(extra_sql, extra_rows)

    # ------------------------------------------------------------------ sources

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Make the sources table match the config.

        A source whose config entry changed is re-enabled (a 410 disables a source only
        until its config changes); sources gone from the config are kept, marked out of
        config, so their articles and history stay.
        """
        with self.transaction() as tx:
            # Workers starting together would otherwise lock rows in different orders.
            self._serialize(tx, "sync_sources")
            tx.execute("UPDATE sources SET in_config = 0 WHERE in_config = 1")
            tx.executemany(
                f"""INSERT INTO sources (url, name, fetch_url, config_hash, in_config)
                    VALUES (?, ?, ?, ?, 1)
                    ON CONFLICT(url) DO UPDATE SET
                      name = excluded.name, in_config = 1,
                      disabled_reason = CASE
                        WHEN sources.config_hash {self._same} excluded.config_hash
                        THEN sources.disabled_reason ELSE NULL END,
                      config_hash = excluded.config_hash""",
                [(s.url, s.name, s.url, _rows.config_hash(s)) for s in sources],
            )

    def sources(self, *, only_config: bool = True) -> list[SourceState]:
        sql = "SELECT * FROM sources" + (" WHERE in_config = 1" if only_config else "")
        return [_rows.source_state(r) for r in self._query(sql + " ORDER BY url")]

    def source(self, url: str) -> SourceState | None:
        rows = self._query("SELECT * FROM sources WHERE url = ?", (url,))
        return _rows.source_state(rows[0]) if rows else None

    def due_sources(self, now: datetime, *, every: bool = False) -> list[SourceState]:
        """Sources in the config that are due at `now` (all enabled ones with `every`),
        but none a `feeds worker` holds the lease of: it is fetching that one now, and a
        pass beside it fetched it a second time (only a server store has leases)."""
        sql = (
            "SELECT * FROM sources WHERE in_config = 1 AND disabled_reason IS NULL"
            " AND (lease_until IS NULL OR lease_until <= ?)"
        )
        params: tuple[Any, ...] = (ts(now),)
        if not every:
            sql += " AND (next_due IS NULL OR next_due <= ?)"
            params = (ts(now), ts(now))
        return [_rows.source_state(r) for r in self._query(sql + " ORDER BY url", params)]

    #: Due, enabled and in the config: what a claim, or a claim's restart, requires.
    _DUE = """in_config = 1 AND disabled_reason IS NULL
        AND (next_due IS NULL OR next_due <= :now)"""
    _LEASE_FREE = "(lease_until IS NULL OR lease_until <= :now)"
    #: The claim's filter: due, and not leased to anyone now.
    _CLAIMABLE = f"{_DUE} AND {_LEASE_FREE}"

    def restart_lease(self, url: str, *, owner: str, now: datetime, lease: timedelta) -> bool:
        """Hold `url`'s lease for `owner` from `now` on, just before its refresh starts.

        A queued job can wait longer than the lease it was claimed with; another worker
        may then have claimed the source again, or refreshed it already. False when the
        source is no longer claimable by `owner` (not due, or leased to someone else):
        the job is then skipped, so a slow queue costs no second fetch.
        """
        params: dict[str, Any] = {
            "url": url, "owner": owner, "now": ts(now), "until": ts(now + lease),
        }  # fmt: skip
        with self.transaction() as tx:
            rows = tx.execute(
                f"""UPDATE sources SET lease_owner = :owner, lease_until = :until
                    WHERE url = :url AND {self._DUE}
                      AND ({self._LEASE_FREE} OR lease_owner = :owner)
                    RETURNING url""",
                params,
            )
        return bool(rows)

    def release(self, url: str, owner: str) -> None:
        """Give back a lease `owner` holds (a no-op when it is gone or someone else's)."""
        self._write(
            "UPDATE sources SET lease_owner = NULL, lease_until = NULL "
            "WHERE url = ? AND lease_owner = ?",
            [(url, owner)],
        )

    def update_source(self, url: str, update: SourceUpdate) -> None:
        """Write what a refresh decided (`policy.after_fetch` / `after_error`) on one
        source row; the fields left at `KEEP` keep their columns."""
        values: dict[str, Any] = {}
        for key, value in update.changes().items():
            if isinstance(value, Validators):
                values["etag"], values["last_modified"] = value.etag, value.last_modified
            elif isinstance(value, datetime):
                values[key] = ts(value)
            else:
                values[key] = value
        unknown = set(values) - _schema.SOURCE_COLUMNS
        if unknown:
            raise ValueError(f"unknown source columns: {sorted(unknown)}")
        assignments = ", ".join(f"{k} = :{k}" for k in values)
        self._write(
            f"UPDATE sources SET {assignments} WHERE url = :_url", [{**values, "_url": url}]
        )

    # ------------------------------------------------------------------ articles

    def save_articles(
        self,
        articles: Sequence[Article],
        now: datetime,
        derived: Mapping[str, tuple[str | None, str | None]] | None = None,
    ) -> list[Article]:
        """Insert new articles and update changed ones; return those new or changed.

        An article keeps its first-seen time and its story when it is updated.
        `derived` maps an article id to its (match_features, topic_scores) texts; an
        article without them stores NULLs, which clustering computes from the keys.
        """
        derived = derived or {}
        if not articles:
            return []
        known = self._content_hashes([a.id for a in articles])
        stored = self._stored_items(articles, known)
        changed = [a for a in articles if a.id not in stored and known.get(a.id) != a.content_hash]
        cols = _schema.ARTICLE_COLUMNS
        self._write(
            f"""INSERT INTO articles ({", ".join(cols)})
                VALUES ({", ".join(":" + c for c in cols)})
                ON CONFLICT(id) DO UPDATE SET {_schema.UPSERT_SET}""",
            [_rows.article_params(a, now, derived.get(a.id, (None, None))) for a in changed],
            # An edited article changes its story's item, which must be republished.
            ("UPDATE stories SET updated = ? WHERE id = "
             "(SELECT story_id FROM articles WHERE id = ?)",
             [(changed_at(now), a.id) for a in changed if a.id in known]),
        )  # fmt: skip
        return changed

    def _stored_items(self, articles: Sequence[Article], known: Collection[str]) -> set[str]:
        """The ids of `articles` (one source's fetch) not stored under them that are a
        stored article of theirs under a new guid: the same source, canonical link, title
        and content, the stored one absent from this fetch. They have nothing to write.

        Some feeds make their guids afresh on every request (a timestamp or a random
        UUID in them). Each pass then brought every item as a new article, and once a
        story held more than `REPOSTS` copies of one source the next copy was a story of
        its own: the item was published twice, then again. The content must be the same
        too: a podcast that links every episode to its homepage under one label title
        ("الحلقة") would otherwise have each new episode taken for an old one that left
        the feed. (An item edited as its guid changes is a new article, once.)
        """
        fresh = [a for a in articles if a.id not in known and a.canonical_url]
        if not fresh:
            return set()
        present = {a.id for a in articles}
        left: Counter[tuple[str, ...]] = Counter()  # each stored article matches once
        for source, group in _by_source(fresh).items():
            for chunk in chunks(sorted({a.canonical_url for a in group}), 500):
                marks = ",".join("?" * len(chunk))
                sql = (
                    f"SELECT id, {', '.join(_SAME_ITEM)} FROM articles "
                    f"WHERE source_url = ? AND canonical_url IN ({marks})"
                )
                for r in self._query(sql, (source, *chunk)):
                    if r["id"] not in present:
                        left[(source, *(r[c] for c in _SAME_ITEM))] += 1
        found = set()
        for a in fresh:
            key = (a.source_url, *(getattr(a, c) for c in _SAME_ITEM))
            if left[key] > 0:
                left[key] -= 1
                found.add(a.id)
        return found

    def _content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        return self._column_by_id("content_hash", ids)

    def _column_by_id(self, column: str, ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, {column} FROM articles WHERE id IN ({marks})"
            out.update({r["id"]: r[column] for r in self._query(sql, chunk)})
        return out

    def articles_of_stories(
        self, story_ids: Sequence[str], *, bodies: bool = True
    ) -> list[ArticleRow]:
        """The articles of these stories; with `bodies=False`, their `content_html` and
        `text_key` are left empty (publishing reads the few bodies it shows afterwards,
        with `article_bodies`, instead of holding thousands)."""
        out: list[ArticleRow] = []
        for chunk in chunks(story_ids, 500):
            marks = ",".join("?" * len(chunk))
            where = f"WHERE a.story_id IN ({marks}) ORDER BY a.id"
            out += self._article_rows(where, chunk, columns="a.*" if bodies else _LISTED)
        return out

    def article_bodies(self, ids: Sequence[str]) -> dict[str, str]:
        """The published body of each of these articles, by id: its page's extracted text
        where it has one (`content_from = 'page'`), else its feed's `content_html`."""
        return {k: str(v) for k, v in self._bodies(_BODY, ids).items()}

    def content_lengths(self, ids: Sequence[str]) -> dict[str, int]:
        """The length in characters of each of these articles' published body, by id."""
        return {k: int(v or 0) for k, v in self._bodies(f"length({_BODY})", ids).items()}

    def _bodies(self, expression: str, ids: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT a.id, {expression} AS v FROM articles a LEFT JOIN pages p "
                f"ON p.url = a.canonical_url AND a.content_from = 'page' WHERE a.id IN ({marks})"
            )
            out.update({r["id"]: r["v"] for r in self._query(sql, chunk)})
        return out

    # ------------------------------------------------------------------ article pages

    def pages_wanted(self, sources: Sequence[str], per_source: int) -> list[PageWanted]:
        """Up to `per_source` articles of each of these sources waiting for their page,
        newest first."""
        out = []
        for source in sources:
            rows = self._query(
                "SELECT id, url, canonical_url, summary_html, content_html "
                "FROM articles WHERE source_url = ? AND content_from = 'pending' "
                "ORDER BY published DESC, id LIMIT ?",
                (source, per_source),
            )
            out += [
                PageWanted(r["id"], source, r["url"], r["canonical_url"], _feed_html(r))
                for r in rows
            ]
        return out

    def page_outcomes(self, urls: Sequence[str]) -> dict[str, tuple[str, int]]:
        """(outcome, attempts) of each of these pages already fetched, by canonical URL."""
        out: dict[str, tuple[str, int]] = {}
        for chunk in chunks(urls, 500):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT url, outcome, attempts FROM pages WHERE url IN ({marks})"
            out.update({r["url"]: (r["outcome"], r["attempts"]) for r in self._query(sql, chunk)})
        return out

    def save_pages(
        self, results: Sequence[PageResult], applied: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """Record fetched pages, and set each (article id, content_from) of `applied`; the
        articles whose text changed are marked updated, so the next publish shows it."""
        self._write(
            "INSERT INTO pages (url, fetched_at, outcome, detail, content_html, attempts) "
            "VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT(url) DO UPDATE SET "
            "fetched_at = excluded.fetched_at, outcome = excluded.outcome, "
            "detail = excluded.detail, content_html = excluded.content_html, "
            "attempts = pages.attempts + 1",
            [(r.url, ts(now), r.outcome, r.detail, r.content_html) for r in results],
            ("UPDATE articles SET content_from = ?, updated = ? WHERE id = ?",
             [(source, changed_at(now), article_id) for article_id, source in applied]),
        )  # fmt: skip

    def full_text_report(self) -> dict[str, tuple[dict[str, int], str]]:
        """For each source with articles wanting or having page text: how many of its
        articles are "pending", "page" and "failed", and its latest failure's reason."""
        counts: dict[str, dict[str, int]] = {}
        for r in self._query(
            "SELECT source_url, content_from, count(*) AS n FROM articles "
            "WHERE content_from <> 'feed' GROUP BY source_url, content_from"
        ):
            counts.setdefault(r["source_url"], {})[r["content_from"]] = int(r["n"])
        latest: dict[str, str] = {}
        # Only the articles that wanted page text (the partial index `articles_page_text`):
        # every pass asks, and without it SQLite read every article to join the pages
        # (1.8 s on a store of 128,000 articles).
        for r in self._query(
            "SELECT a.source_url, p.detail FROM articles a JOIN pages p ON p.url = a.canonical_url "
            "WHERE a.content_from <> 'feed' AND p.outcome <> 'extracted' "
            "ORDER BY p.fetched_at DESC, p.url"
        ):
            latest.setdefault(r["source_url"], r["detail"])
        return {url: (found, latest.get(url, "")) for url, found in counts.items()}

    def _article_rows(self, where: str, params: Params, columns: str = "a.*") -> list[ArticleRow]:
        sql = (
            f"SELECT {columns}, s.name AS source_name FROM articles a "
            "JOIN sources s ON s.url = a.source_url " + where
        )
        return [
            ArticleRow(_rows.article(r), r["story_id"], r["source_name"])
            for r in self._query(sql, params)
        ]

    # The three reads clustering and classifying use: no bodies, so a cold pass of
    # thousands of articles does not hold every body in memory while it matches.
    _MATCH = (
        "SELECT id, story_id, source_url, canonical_url, guid, title_key, published, "
        "first_seen, match_features, outlet FROM articles "
    )

    def unassigned_match_rows(self) -> list[MatchRow]:
        """`MatchRow`s of the articles not yet in a story, oldest first."""
        return self.match_rows_of(self.unassigned_ids())

    def unassigned_ids(self) -> list[str]:
        """Ids of the articles not yet in a story, oldest first: a backlog's rows can be
        read batch by batch (`match_rows_of`), not all at once with their stored
        preparations. Sorted by the date as read: a row whose stored date cannot be
        right reads as its first-seen time (`_rows.article_date`)."""
        sql = "SELECT id, published, first_seen FROM articles WHERE story_id IS NULL"
        rows = self._query(sql)
        return [r["id"] for r in sorted(rows, key=lambda r: (_rows.article_date(r), r["id"]))]

    def match_rows_of(self, ids: Sequence[str]) -> list[MatchRow]:
        """`MatchRow`s of these articles, oldest first."""
        out: list[MatchRow] = []
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            out += map(_rows.match_row, self._query(self._MATCH + f"WHERE id IN ({marks})", chunk))
        return sorted(out, key=lambda r: (r.published, r.id))

    def match_rows_since(self, since: datetime) -> list[MatchRow]:
        """`MatchRow`s of articles in a story, published or first seen at or after `since`."""
        rows = map(_rows.match_row, self._query(_since(self._MATCH), _since_params(since)))
        return sorted(rows, key=lambda r: (r.published, r.id))

    def match_ids_since(self, since: datetime) -> set[str]:
        """The ids of the articles `match_rows_since` lists, and nothing else read."""
        rows = self._query(_since("SELECT id FROM articles "), _since_params(since))
        return {r["id"] for r in rows}

    def match_rows_by_identity(self, urls: Sequence[str], guids: Sequence[str]) -> list[MatchRow]:
        """`MatchRow`s of articles in a story with one of these canonical URLs or guids,
        however old: the exact tier joins a re-posted URL to its story at any age."""
        out: dict[str, MatchRow] = {}
        for column, values in (("canonical_url", urls), ("guid", guids)):
            for chunk in chunks(sorted(set(values)), 500):
                marks = ",".join("?" * len(chunk))
                sql = self._MATCH + f"WHERE story_id IS NOT NULL AND {column} IN ({marks})"
                out.update((r.id, r) for r in map(_rows.match_row, self._query(sql, chunk)))
        return sorted(out.values(), key=lambda r: (r.published, r.id))

    def score_rows(self, story_ids: Sequence[str]) -> list[ScoreRow]:
        """Each story's articles' stored topic scores, by story then article id."""
        out: list[ScoreRow] = []
        for chunk in chunks(story_ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT id, story_id, topic_scores FROM articles WHERE story_id IN ({marks})",
                chunk,
            )
            out += [ScoreRow(r["id"], r["story_id"], r["topic_scores"]) for r in rows]
        out.sort(key=lambda r: (r.story_id, r.id))
        return out

    def article_keys(self, ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """(title, title_key, text_key) by article id, to compute what was not stored."""
        out: dict[str, tuple[str, str, str]] = {}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, title, title_key, text_key FROM articles WHERE id IN ({marks})"
            out.update({r["id"]: (r["title"], r["title_key"], r["text_key"])
                        for r in self._query(sql, chunk)})  # fmt: skip
        return out

    def set_derived(self, derived: Mapping[str, tuple[str | None, str | None]]) -> None:
        """Backfill (match_features, topic_scores) of stored articles; None keeps a value."""
        self._write(
            "UPDATE articles SET match_features = COALESCE(?, match_features), "
            "topic_scores = COALESCE(?, topic_scores) WHERE id = ?",
            [(m, t, aid) for aid, (m, t) in sorted(derived.items())],
        )

    def stories_touched_since(self, since: datetime) -> list[str]:
        # Sorted here: "ORDER BY id" makes SQLite walk the whole primary key instead of
        # the `updated` index.
        # To the microsecond, as `updated` is written (`changed_at`): to the second, a
        # pass just after another counted the stories the first had touched.
        rows = self._query("SELECT id FROM stories WHERE updated >= ?", (changed_at(since),))
        return sorted(r["id"] for r in rows)

    def unclassified_stories(self) -> list[str]:
        """Stories still at the schema's defaults (no topics, `is_tech` 1), sorted.

        Classifying never writes that pair (no topics means not tech), so these are the
        stories a pass filed and was then killed before it classified them.
        """
        rows = self._query("SELECT id FROM stories WHERE topics = '[]' AND is_tech = 1")
        return sorted(r["id"] for r in rows)

    def change_marker(self) -> str:
        """A short text that changes whenever anything a published feed shows may change.

        Every write of an article sets its `updated`, every story change sets the story's,
        and a purge changes the counts; source names come from the config, not from here.
        The counts of articles by where their text comes from (`content_from`, read off
        its partial index) change when article pages give their text, which is often
        within the second of the publish before it.
        """
        rows = self._query(
            "SELECT (SELECT count(*) FROM articles) AS a, (SELECT max(updated) FROM articles)"
            " AS au, (SELECT count(*) FROM stories) AS s, (SELECT max(updated) FROM stories)"
            " AS su"
        )
        r = rows[0]
        texts = self._query(
            "SELECT content_from, count(*) AS n FROM articles WHERE content_from <> 'feed' "
            "GROUP BY content_from ORDER BY content_from"
        )
        sources = ",".join(f"{t['content_from']}:{t['n']}" for t in texts)
        return f"{r['a']}|{r['au']}|{r['s']}|{r['su']}|{sources}"

    # ------------------------------------------------------------------ stories

    def assign(self, assignments: Sequence[Filed], now: datetime) -> None:
        """Record clustering's decisions; the stories they touch get `now`, and are left
        at the unclassified defaults (no topics, `is_tech` 1) for `set_topics` to fill.

        One transaction, the one way filing is written on every backend. A second way,
        an SQLite thread writing JSON batches while filing went on, took 0.19 s off the
        cluster step of an 8,000-article cold pass (1.57 to 1.38 s, median of five
        interleaved runs of benchmarks/clustering.py's "cold pass", issue 18): 4 % of a
        4.8 s 200-source cold pass (docs/performance.md), under the 10 % that would pay
        for keeping two writers of the same rows identical.
        """
        if not assignments:
            return
        created, stamp = ts(now), changed_at(now)
        stories = dict.fromkeys(sid for _, sid, _ in assignments)
        self._write(
            # A story that exists already is touched, and left unclassified (the schema's
            # defaults) until its topics are summed again over all its articles.
            "INSERT INTO stories (id, created, updated, topics, is_tech) "
            "VALUES (?, ?, ?, '[]', 1) "
            "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, topics = '[]', "
            "is_tech = 1",
            [(sid, created, stamp) for sid in stories],
            ("UPDATE articles SET story_id = ? WHERE id = ?",
             [(sid, aid) for aid, sid, _ in assignments]),
        )  # fmt: skip

    def set_topics(self, topics: Mapping[str, Topics]) -> None:
        """Set each story's topics and whether it is tech news."""
        self._write(
            "UPDATE stories SET topics = ?, is_tech = ? WHERE id = ?",
            [(_rows.topics_text(t), int(tech), sid) for sid, (t, tech) in topics.items()],
        )

    def recent_stories(self, limit: int) -> list[StoryRow]:
        """The newest stories by their earliest article's publication time."""
        rows = self._query(
            """SELECT s.*, min(a.published) AS first_pub FROM stories s
               JOIN articles a ON a.story_id = s.id
               GROUP BY s.id ORDER BY first_pub DESC, s.id LIMIT ?""",
            (limit,),
        )
        return [_rows.story_row(r) for r in rows]

    # ------------------------------------------------------------------ maintenance

    def purge(self, before: datetime, keep_story_ids: Collection[str]) -> int:
        """Delete articles first seen and published before `before`, except those of
        the kept stories (the ones still published); then stories left empty, and the
        old article pages no article links to any more.

        Returns how many articles went. Both dates must be old: an old article seen for
        the first time yesterday is news to our readers (CONTRACT: no default age filter).
        """
        stamp = ts(before)
        keep = set(keep_story_ids)
        with self.transaction() as tx:
            old = tx.execute(
                "SELECT id, story_id FROM articles WHERE first_seen < ? AND published < ?",
                (stamp, stamp),
            )
            gone = [(r["id"],) for r in old if r["story_id"] not in keep]
            tx.executemany("DELETE FROM articles WHERE id = ?", gone)
            tx.execute(
                "DELETE FROM stories WHERE NOT EXISTS "
                "(SELECT 1 FROM articles a WHERE a.story_id = stories.id)"
            )
            # Article pages (full text) fetched before `before` that no article links to
            # any more: the cache would otherwise grow with every page ever fetched.
            tx.execute(
                "DELETE FROM pages WHERE fetched_at < ? AND NOT EXISTS "
                "(SELECT 1 FROM articles a WHERE a.canonical_url = pages.url)",
                (stamp,),
            )
        return len(gone)

    def export_rows(self) -> Iterator[dict[str, Any]]:
        """Every row of every table as a JSON-able dict with its "table", parents first.

        Values are the stored column values, which mean the same on both backends, so an
        export from SQLite imported into PostgreSQL exports identically.
        """
        for table, (key, columns) in _schema.TABLES.items():
            sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}"
            for row in self._query(sql):
                yield {"table": table, **{c: row[c] for c in columns}}

    def import_rows(self, rows: Iterable[dict[str, Any]]) -> int:
        """Upsert exported rows in one transaction; returns how many.

        An unknown table or column, or a row the database refuses (a required column
        missing, a story that is not there), refuses the whole import, naming its line
        (1-based) and table.
        """
        count, line, table, inserting = 0, 0, "", False
        try:
            with self.transaction() as tx:
                for line, row in enumerate(rows, start=1):
                    table, values = _rows.checked_import_row(line, row)
                    key = _schema.TABLES[table][0]
                    cols = list(values)
                    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != key)
                    inserting = True
                    tx.execute(
                        f"INSERT INTO {table} ({', '.join(cols)}) "
                        f"VALUES ({', '.join(':' + c for c in cols)}) ON CONFLICT({key}) "
                        + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING"),
                        values,
                    )
                    inserting = False
                    count += 1
        except StorageError as e:
            if not inserting:
                raise  # a line the reader or `checked_import_row` refused, and named
            # The database refused this row: say which, not only the database's path.
            raise StorageError(f"{table} row refused: {e.message}", subject=f"line {line}") from e
        return count


def _feed_html(r: Row) -> str:
    return str(r["content_html"] or r["summary_html"])


class ServerStore(Store):
    """A store on a database server, which processes on several machines share: it has
    the locks they take turns by. One machine needs none, its passes being kept apart
    by the CLI's pass lock."""

    @abc.abstractmethod
    def publish_lock(self, *, wait: bool = False) -> AbstractContextManager[bool]:
        """Try to become the one publisher; yields False when another holds the lock.
        With `wait`, waits for it instead (a `feeds run` beside workers must publish)."""

    @abc.abstractmethod
    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Wait for the lock named `name`, shared by every process using this database."""


def _since(select: str) -> str:
    """`select` of the articles in a story published or first seen at or after a time
    (`_since_params`): two range scans on their own indexes, as "published >= ? OR
    first_seen >= ?" in one query is a scan of every article."""
    return (
        select + "WHERE story_id IS NOT NULL AND published >= ? UNION ALL "
        + select + "WHERE story_id IS NOT NULL AND first_seen >= ? AND published < ?"
    )  # fmt: skip


def _since_params(since: datetime) -> tuple[str | None, ...]:
    return (ts(since),) * 3


#: What a stored article and one under a new guid share to be one item (`_stored_items`).
_SAME_ITEM = ("canonical_url", "title_key", "content_hash")


def _by_source(articles: Iterable[Article]) -> dict[str, list[Article]]:
    out: dict[str, list[Article]] = {}
    for a in articles:
        out.setdefault(a.source_url, []).append(a)
    return out
