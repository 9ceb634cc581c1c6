"""The store: sources, articles and stories in SQLite (the default).

One connection per Store, WAL journal, foreign keys on, schema versioned with
``PRAGMA user_version`` and one migration function per step. Every write is one short
transaction; the pipeline never holds one across network I/O. An ``application_id``
marks the file as ours, so pointing `database:` at some other SQLite file fails cleanly
instead of being written into.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import SchemaVersionError, StorageError
from .types import Article, DateSource, SourceConfig, Validators

__all__ = ["ArticleRow", "SourceState", "Store", "StoryRow", "open_store"]

log = logging.getLogger("feeds.store")

APPLICATION_ID = 0x46454453  # "FEDS"
BUSY_TIMEOUT_MS = 10_000


def _ts(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat(timespec="seconds")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store knows about one source between passes."""

    url: str
    name: str
    fetch_url: str
    validators: Validators
    body_hash: str | None
    consecutive_errors: int
    next_due: datetime | None
    disabled_reason: str | None
    redirect_target: str | None
    redirect_seen: int
    redirect_since: datetime | None
    discovered_url: str | None
    repair: str | None
    last_fetch: datetime | None
    last_status: int | None
    last_outcome: str | None
    last_error: str | None
    items: int
    bytes: int
    duration: float
    in_config: bool


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """A stored article with the story it belongs to and its source's name."""

    article: Article
    story_id: str | None
    source_name: str


@dataclass(frozen=True, slots=True)
class StoryRow:
    id: str
    created: datetime
    updated: datetime
    topics: tuple[str, ...]
    is_tech: bool


_SCHEMA_V1 = """
CREATE TABLE sources (
    url TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    fetch_url TEXT NOT NULL,
    config_hash TEXT,
    in_config INTEGER NOT NULL DEFAULT 1,
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    last_fetch TEXT,
    last_status INTEGER,
    last_outcome TEXT,
    last_error TEXT,
    items INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    duration REAL NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    next_due TEXT,
    disabled_reason TEXT,
    redirect_target TEXT,
    redirect_seen INTEGER NOT NULL DEFAULT 0,
    redirect_since TEXT,
    discovered_url TEXT,
    repair TEXT,
    lease_owner TEXT,
    lease_until TEXT
);
CREATE TABLE stories (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    topics TEXT NOT NULL DEFAULT '[]',
    is_tech INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    source_url TEXT NOT NULL REFERENCES sources(url),
    story_id TEXT REFERENCES stories(id),
    guid TEXT,
    url TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    title TEXT NOT NULL,
    summary_html TEXT NOT NULL,
    content_html TEXT NOT NULL,
    published TEXT NOT NULL,
    date_source TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    updated TEXT NOT NULL,
    language TEXT NOT NULL,
    title_key TEXT NOT NULL,
    text_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '[]',
    image TEXT
);
CREATE INDEX articles_story ON articles(story_id);
CREATE INDEX articles_published ON articles(published);
CREATE INDEX articles_canonical ON articles(canonical_url);
CREATE INDEX stories_updated ON stories(updated);
"""


def _run_script(db: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it COMMITs first, which would break the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_0_to_1(db: sqlite3.Connection) -> None:
    _run_script(db, _SCHEMA_V1)


#: MIGRATIONS[n] takes the schema from version n to n + 1.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migrate_0_to_1,)
SCHEMA_VERSION = len(MIGRATIONS)


def open_store(database: str) -> Store:
    """Open the store named by config `database:` (an SQLite path)."""
    if database.startswith(("postgresql://", "postgres://")):
        raise StorageError("PostgreSQL is not supported by this build", subject="database")
    return Store(database)


class Store:
    """SQLite store. Raises StorageError for anything the database refuses."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            if path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._setup()
        except (sqlite3.DatabaseError, OSError) as e:
            raise StorageError(_explain(e), subject=path) from e

    def _setup(self) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        app_id, version = self._read_ids()
        if version == 0 and app_id == 0 and self._has_foreign_tables():
            raise StorageError("not a feeds database (it holds other tables)", subject=self.path)
        if app_id not in (0, APPLICATION_ID):
            raise StorageError("not a feeds database (foreign application id)", subject=self.path)
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"schema version {version} is newer than this feeds ({SCHEMA_VERSION})",
                subject=self.path,
            )
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        for step in range(version, SCHEMA_VERSION):
            with self.transaction():
                MIGRATIONS[step](db)
                db.execute(f"PRAGMA user_version = {step + 1}")
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            log.info("migrated %s to schema version %d", self.path, step + 1)

    def _read_ids(self) -> tuple[int, int]:
        app_id = self._db.execute("PRAGMA application_id").fetchone()[0]
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        return int(app_id), int(version)

    def _has_foreign_tables(self) -> bool:
        row = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return bool(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StorageError(_explain(e), subject=self.path) from e
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            raise StorageError(_explain(e), subject=self.path) from e

    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as e:
            raise StorageError(_explain(e), subject=self.path) from e

    def _write(
        self,
        sql: str,
        rows: Iterable[Sequence[Any] | dict[str, Any]],
        *more: tuple[str, Iterable[Sequence[Any] | dict[str, Any]]],
    ) -> None:
        """Run one or more executemany statements in one transaction."""
        try:
            with self.transaction() as db:
                db.executemany(sql, rows)
                for extra_sql, extra_rows in more:
                    db.executemany(extra_sql, extra_rows)
        except sqlite3.OperationalError as e:
            raise StorageError(_explain(e), subject=self.path) from e

    # ------------------------------------------------------------------ sources

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Make the sources table match the config.

        A source whose config entry changed is re-enabled (a 410 disables a source only
        until its config changes); sources gone from the config are kept, marked out of
        config, so their articles and history stay.
        """
        with self.transaction() as db:
            db.execute("UPDATE sources SET in_config = 0")
            for src in sources:
                chash = _config_hash(src)
                db.execute(
                    """INSERT INTO sources (url, name, fetch_url, config_hash, in_config)
                       VALUES (?, ?, ?, ?, 1)
                       ON CONFLICT(url) DO UPDATE SET
                         name = excluded.name, in_config = 1,
                         disabled_reason = CASE WHEN config_hash IS excluded.config_hash
                                           THEN disabled_reason ELSE NULL END,
                         config_hash = excluded.config_hash""",
                    (src.url, src.name, src.url, chash),
                )

    def sources(self, *, only_config: bool = True) -> list[SourceState]:
        sql = "SELECT * FROM sources" + (" WHERE in_config = 1" if only_config else "")
        return [_source_state(r) for r in self._query(sql + " ORDER BY url")]

    def source(self, url: str) -> SourceState | None:
        rows = self._query("SELECT * FROM sources WHERE url = ?", (url,))
        return _source_state(rows[0]) if rows else None

    def due_sources(self, now: datetime, *, every: bool = False) -> list[SourceState]:
        """Sources in the config that are due at `now` (all enabled ones with `every`)."""
        sql = "SELECT * FROM sources WHERE in_config = 1 AND disabled_reason IS NULL"
        params: tuple[Any, ...] = ()
        if not every:
            sql += " AND (next_due IS NULL OR next_due <= ?)"
            params = (_ts(now),)
        return [_source_state(r) for r in self._query(sql + " ORDER BY url", params)]

    def update_source(self, url: str, **fields: Any) -> None:
        """Set columns of one source row; datetimes and Validators are converted."""
        values: dict[str, Any] = {}
        for key, value in fields.items():
            if isinstance(value, Validators):
                values["etag"], values["last_modified"] = value.etag, value.last_modified
            elif isinstance(value, datetime):
                values[key] = _ts(value)
            else:
                values[key] = value
        unknown = set(values) - _SOURCE_COLUMNS
        if unknown:
            raise ValueError(f"unknown source columns: {sorted(unknown)}")
        assignments = ", ".join(f"{k} = :{k}" for k in values)
        self._write(
            f"UPDATE sources SET {assignments} WHERE url = :_url", [{**values, "_url": url}]
        )

    # ------------------------------------------------------------------ articles

    def save_articles(self, articles: Sequence[Article], now: datetime) -> list[Article]:
        """Insert new articles and update changed ones; return those new or changed.

        An article keeps its first-seen time and its story when it is updated.
        """
        if not articles:
            return []
        ids = [a.id for a in articles]
        known = self._content_hashes(ids)
        changed = [a for a in articles if known.get(a.id) != a.content_hash]
        rows = [_article_params(a, now) for a in changed]
        edited = [(_ts(now), a.id) for a in changed if a.id in known]
        self._write(
            f"""INSERT INTO articles ({", ".join(_ARTICLE_COLUMNS)})
                VALUES ({", ".join(":" + c for c in _ARTICLE_COLUMNS)})
                ON CONFLICT(id) DO UPDATE SET {_UPSERT_SET}""",
            rows,
            # An edited article changes its story's item, which must be republished.
            ("UPDATE stories SET updated = ? WHERE id = "
             "(SELECT story_id FROM articles WHERE id = ?)", edited),
        )  # fmt: skip
        return changed

    def _content_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, content_hash FROM articles WHERE id IN ({marks})"
            out.update({r["id"]: r["content_hash"] for r in self._query(sql, chunk)})
        return out

    def articles_since(self, since: datetime) -> list[ArticleRow]:
        """Articles published or first seen at or after `since`, with their stories."""
        return self._article_rows(
            "WHERE a.published >= ? OR a.first_seen >= ? ORDER BY a.published, a.id",
            (_ts(since), _ts(since)),
        )

    def articles_of_stories(self, story_ids: Sequence[str]) -> list[ArticleRow]:
        out: list[ArticleRow] = []
        for chunk in _chunks(story_ids, 500):
            marks = ",".join("?" * len(chunk))
            out += self._article_rows(f"WHERE a.story_id IN ({marks}) ORDER BY a.id", chunk)
        return out

    def _article_rows(self, where: str, params: Sequence[Any]) -> list[ArticleRow]:
        sql = (
            "SELECT a.*, s.name AS source_name FROM articles a "
            "JOIN sources s ON s.url = a.source_url " + where
        )
        return [
            ArticleRow(_article(r), r["story_id"], r["source_name"])
            for r in self._query(sql, params)
        ]

    def unassigned_articles(self) -> list[Article]:
        """Articles saved but not yet put into a story, oldest first."""
        return [r.article for r in self._article_rows(
            "WHERE a.story_id IS NULL ORDER BY a.published, a.id", ()
        )]  # fmt: skip

    def stories_updated_since(self, since: datetime) -> list[str]:
        rows = self._query("SELECT id FROM stories WHERE updated >= ? ORDER BY id", (_ts(since),))
        return [r["id"] for r in rows]

    def count_articles(self) -> int:
        return int(self._query("SELECT count(*) FROM articles")[0][0])

    # ------------------------------------------------------------------ stories

    def assign(self, assignments: Sequence[tuple[str, str, bool]], now: datetime) -> None:
        """Record (article_id, story_id, created_new) decisions; touched stories get `now`."""
        if not assignments:
            return
        stamp = _ts(now)
        with self.transaction() as db:
            for article_id, story_id, _created in assignments:
                db.execute(
                    "INSERT INTO stories (id, created, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated",
                    (story_id, stamp, stamp),
                )
                db.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))

    def set_topics(self, topics: dict[str, tuple[tuple[str, ...], bool]]) -> None:
        """Set each story's (topics, is_tech)."""
        self._write(
            "UPDATE stories SET topics = ?, is_tech = ? WHERE id = ?",
            [(json.dumps(list(t)), int(tech), sid) for sid, (t, tech) in topics.items()],
        )

    def recent_stories(self, limit: int) -> list[StoryRow]:
        """The newest stories by their earliest article's publication time."""
        rows = self._query(
            """SELECT s.*, min(a.published) AS first_pub FROM stories s
               JOIN articles a ON a.story_id = s.id
               GROUP BY s.id ORDER BY first_pub DESC, s.id LIMIT ?""",
            (limit,),
        )
        return [_story_row(r) for r in rows]

    def stories_by_id(self, ids: Sequence[str]) -> list[StoryRow]:
        out: list[StoryRow] = []
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            out += [
                _story_row(r)
                for r in self._query(f"SELECT * FROM stories WHERE id IN ({marks})", chunk)
            ]
        return out


_SOURCE_COLUMNS = {
    "name", "fetch_url", "etag", "last_modified", "body_hash", "last_fetch", "last_status",
    "last_outcome", "last_error", "items", "bytes", "duration", "consecutive_errors",
    "next_due", "disabled_reason", "redirect_target", "redirect_seen", "redirect_since",
    "discovered_url", "repair", "lease_owner", "lease_until",
}  # fmt: skip

_ARTICLE_COLUMNS = (
    "id", "source_url", "guid", "url", "canonical_url", "title", "summary_html",
    "content_html", "published", "date_source", "first_seen", "updated", "language",
    "title_key", "text_key", "content_hash", "authors", "categories", "image",
)  # fmt: skip
# first_seen and story_id survive an update; everything the source may edit is replaced.
_ARTICLE_UPDATE = tuple(c for c in _ARTICLE_COLUMNS if c not in ("id", "source_url", "first_seen"))
# An undated article keeps the date it was first given, so an edit does not move it up.
_UPSERT_SET = ", ".join(
    "published = CASE WHEN excluded.date_source = 'first_seen' THEN articles.published "
    "ELSE excluded.published END"
    if c == "published"
    else f"{c} = excluded.{c}"
    for c in _ARTICLE_UPDATE
)


def _article_params(a: Article, now: datetime) -> dict[str, Any]:
    return {
        "id": a.id,
        "source_url": a.source_url,
        "guid": a.guid,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "title": a.title,
        "summary_html": a.summary_html,
        "content_html": a.content_html,
        "published": _ts(a.published),
        "date_source": a.date_source.value,
        "first_seen": _ts(a.first_seen),
        "updated": _ts(now),
        "language": a.language,
        "title_key": a.title_key,
        "text_key": a.text_key,
        "content_hash": a.content_hash,
        "authors": json.dumps(list(a.authors), ensure_ascii=False),
        "categories": json.dumps(list(a.categories), ensure_ascii=False),
        "image": a.image,
    }


def _article(r: sqlite3.Row) -> Article:
    return Article(
        id=r["id"],
        source_url=r["source_url"],
        guid=r["guid"],
        url=r["url"],
        canonical_url=r["canonical_url"],
        title=r["title"],
        summary_html=r["summary_html"],
        content_html=r["content_html"],
        published=datetime.fromisoformat(r["published"]),
        date_source=DateSource(r["date_source"]),
        first_seen=datetime.fromisoformat(r["first_seen"]),
        language=r["language"],
        title_key=r["title_key"],
        text_key=r["text_key"],
        content_hash=r["content_hash"],
        authors=tuple(json.loads(r["authors"])),
        categories=tuple(json.loads(r["categories"])),
        image=r["image"],
    )


def _story_row(r: sqlite3.Row) -> StoryRow:
    return StoryRow(
        id=r["id"],
        created=datetime.fromisoformat(r["created"]),
        updated=datetime.fromisoformat(r["updated"]),
        topics=tuple(json.loads(r["topics"])),
        is_tech=bool(r["is_tech"]),
    )


def _source_state(r: sqlite3.Row) -> SourceState:
    return SourceState(
        url=r["url"],
        name=r["name"],
        fetch_url=r["fetch_url"],
        validators=Validators(r["etag"], r["last_modified"]),
        body_hash=r["body_hash"],
        consecutive_errors=r["consecutive_errors"],
        next_due=_dt(r["next_due"]),
        disabled_reason=r["disabled_reason"],
        redirect_target=r["redirect_target"],
        redirect_seen=r["redirect_seen"],
        redirect_since=_dt(r["redirect_since"]),
        discovered_url=r["discovered_url"],
        repair=r["repair"],
        last_fetch=_dt(r["last_fetch"]),
        last_status=r["last_status"],
        last_outcome=r["last_outcome"],
        last_error=r["last_error"],
        items=r["items"],
        bytes=r["bytes"],
        duration=r["duration"],
        in_config=bool(r["in_config"]),
    )


def _config_hash(src: SourceConfig) -> str:
    import hashlib

    return hashlib.sha1(repr(src).encode()).hexdigest()[:16]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _explain(e: BaseException) -> str:
    text = str(e)
    if "file is not a database" in text or "malformed" in text:
        return f"corrupt or not an SQLite database ({text}); not touched — restore a backup"
    if "locked" in text or "busy" in text:
        return f"database is locked by another process ({text})"
    if "readonly" in text or "unable to open" in text:
        return f"cannot write the database ({text})"
    return text
