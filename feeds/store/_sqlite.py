"""The SQLite backend (the default): one file, one connection per Store.

WAL journal, foreign keys on, schema versioned with ``PRAGMA user_version``. Every write
is one short ``BEGIN IMMEDIATE`` transaction, so writers queue on the busy timeout
instead of failing mid-transaction; the pipeline never holds one across network I/O. An
``application_id`` marks the file as ours, so pointing `database:` at some other SQLite
file fails cleanly instead of being written into.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..errors import SchemaVersionError, StorageError
from . import _schema
from ._base import STORY_TOUCHED, Filing, Params, Store, Topics
from ._rows import Row, topics_text, ts

log = logging.getLogger("feeds.store")

APPLICATION_ID = 0x46454453  # "FEDS"
BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 32 * 1024  # the page cache's ceiling, per connection
# Pages of a new file. An article's row is 5 to 8 KB (its HTML, its matching key and its
# stored preparation): at SQLite's default 4 KB each row spilled onto overflow pages,
# which every read walks and every update of the row (filing it into a story) frees and
# writes again. 16 KB pages hold two rows whole (docs/performance.md); an existing file
# keeps the size it was made with.
PAGE_SIZE = 16 * 1024


class _SqliteTx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        return self.db.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self.db.executemany(sql, rows)


class SqliteStore(Store):
    """SQLite store."""

    _db: sqlite3.Connection

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            if path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # check_same_thread off: a pass hands the store to a worker thread for its
            # CPU-heavy end (so `feeds serve` keeps answering HTTP); it is never used by
            # two threads at once.
            self._db = _connect(path)
            self._db.row_factory = sqlite3.Row
            self._setup()
        except (sqlite3.DatabaseError, OSError) as e:
            raise StorageError(_explain(e), subject=path) from e

    def _setup(self) -> None:
        db = self._db
        app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if (
            version == 0
            and app_id == 0
            and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        ):
            raise StorageError("not a feeds database (it holds other tables)", subject=self.path)
        if app_id not in (0, APPLICATION_ID):
            raise StorageError("not a feeds database (foreign application id)", subject=self.path)
        if version == 0 and app_id == 0:  # a new file: nothing written to it yet
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if version > _schema.SCHEMA_VERSION:
            raise SchemaVersionError(
                f"schema version {version} is newer than this feeds ({_schema.SCHEMA_VERSION})",
                subject=self.path,
            )
        db.execute("PRAGMA journal_mode = WAL")
        # A page cache of up to 32 MB (SQLite's default is 2 MB): filing a cold pass's
        # articles rewrites every article row, in date order rather than row order, and
        # with the default cache half of those pages were written out and read back
        # before the commit (docs/performance.md). The cache grows only as pages are used.
        _cache(db, CACHE_KIB)
        for step in range(version, _schema.SCHEMA_VERSION):
            with self.transaction() as tx:
                _schema.MIGRATIONS[step](tx.execute, "sqlite")
                tx.execute(f"PRAGMA user_version = {step + 1}")
                tx.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            log.info("migrated %s to schema version %d", self.path, step + 1)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def filing(self, now: datetime) -> Iterator[Filing]:
        """Filing decisions written from a thread as they are made (`_FilingThread`),
        where this SQLite can run each batch as one statement; else as the base does."""
        if not _JSON_WRITES or self.path == ":memory:":  # a second connection: a new DB
            with super().filing(now) as plain:
                yield plain
            return
        writer = _FilingThread(self, now)
        try:
            yield writer
        finally:
            writer.stop(quiet=True)  # after `finish`, nothing is left to do

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTx]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StorageError(_explain(e), subject=self.path) from e
        try:
            yield _SqliteTx(self._db)
        except sqlite3.DatabaseError as e:
            self._db.execute("ROLLBACK")
            raise StorageError(_explain(e), subject=self.path) from e
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            raise StorageError(_explain(e), subject=self.path) from e

    def _query(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as e:
            raise StorageError(_explain(e), subject=self.path) from e

    # SQLite has one writer at a time: BEGIN IMMEDIATE takes the write lock before
    # the SELECT inside the UPDATE runs, so two claimers can never pick one row.
    _CLAIM_LOCK = ""

    @contextmanager
    def publish_lock(self) -> Iterator[bool]:
        # One machine: the CLI's pass lock already keeps publishers apart.
        yield True

    def check(self) -> list[str]:
        problems = [str(r[0]) for r in self._raw("PRAGMA integrity_check")]
        if problems == ["ok"]:
            problems = []
        for table, rowid, parent, _ in self._raw("PRAGMA foreign_key_check"):
            problems.append(f"{table} row {rowid}: no matching row in {parent}")
        return problems

    def _raw(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return [tuple(r) for r in self._db.execute(sql)]
        except sqlite3.DatabaseError as e:
            raise StorageError(_explain(e), subject=self.path) from e

    def vacuum(self) -> None:
        try:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.DatabaseError as e:
            raise StorageError(_explain(e), subject=self.path) from e


def _connect(path: str) -> sqlite3.Connection:
    """A connection with the settings every connection of ours has (but its cache)."""
    # check_same_thread off: a pass hands the store to a worker thread for its CPU-heavy
    # end (so `feeds serve` keeps answering HTTP); it is never used by two threads at once.
    db = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _cache(db: sqlite3.Connection, kib: int) -> None:
    """A page cache of up to `kib` KiB. Set once the file's page size is known: set
    before a new file's `page_size`, it was counted in pages of the default size and
    grew four times larger (an 800-source pass held 60 MB more by the end of its
    parse phase)."""
    db.execute(f"PRAGMA cache_size = -{kib}")


# Filing decisions reach SQLite as one JSON text per batch ([[article id, story id], ...]),
# so each batch is two statements that SQLite runs whole without taking Python's GIL
# (json_each, UPDATE ... FROM and ->>: SQLite 3.38). A thread can then write while the
# main thread, holding the GIL, goes on filing; row by row (executemany) it would wait
# for the GIL after every row.
_JSON_WRITES = sqlite3.sqlite_version_info >= (3, 38, 0)
FILING_BATCH = 1000  # decisions per transaction
# The filing thread's page cache: a batch's rows (about 340 pages of 16 KB), not the
# main connection's 32 MB, which a cold pass's filing would fill a second time.
FILING_CACHE_KIB = 8 * 1024
_NEW_STORIES = (
    "INSERT INTO stories (id, created, updated) SELECT value ->> 1, ?1, ?1 "
    "FROM json_each(?2) WHERE true " + STORY_TOUCHED
)
_FILE_ARTICLES = (
    "UPDATE articles SET story_id = j.value ->> 1 FROM json_each(?1) AS j "
    "WHERE articles.id = j.value ->> 0"
)
# The topics of stories created by this filing (`created` is its time): a story that
# already existed was left unclassified by STORY_TOUCHED, as in `Store.assign`.
_NEW_TOPICS = (
    "UPDATE stories SET topics = j.value ->> 1, is_tech = j.value ->> 2 "
    "FROM json_each(?2) AS j WHERE stories.id = j.value ->> 0 AND stories.created = ?1"
)


class _FilingThread(Filing):
    """Writes filing decisions from a thread, `FILING_BATCH` per transaction, while the
    main thread goes on filing; the new stories' topics last.

    The same rows as `Store.assign` in the end, in several transactions rather than one:
    a pass killed in between leaves the oldest articles filed and the rest not, a state
    any pass may find (the next files the rest against the stored ones, as it files new
    articles); stories whose topics were not written yet stay unclassified for it
    (`unclassified_stories`).
    """

    def __init__(self, store: SqliteStore, now: datetime) -> None:
        super().__init__(store, now)
        self.path = store.path  # the thread opens its own connection to it
        self._stamp = ts(now)
        self._queue: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="feeds-filing", daemon=True)
        self._thread.start()

    def add(self, item: tuple[str, str, bool]) -> None:
        self.items.append(item)
        if len(self.items) >= FILING_BATCH:
            self._send()

    def finish(self, topics: Topics) -> None:
        self._send()
        rows = [[sid, topics_text(names), int(tech)] for sid, (names, tech) in topics.items()]
        self._queue.put(("topics", json.dumps(rows)))
        self.stop(quiet=False)

    def stop(self, *, quiet: bool) -> None:
        """Let the thread write what it was sent, and end; raise what it met unless
        `quiet` (leaving after another exception, which is the one to see)."""
        if self._thread.is_alive():
            self._queue.put(("end", ""))
            self._thread.join()
        if self._error is not None and not quiet:
            error, self._error = self._error, None
            if isinstance(error, sqlite3.DatabaseError):
                raise StorageError(_explain(error), subject=self.path) from error
            raise error

    def _send(self) -> None:
        if self.items:
            batch = [[aid, sid] for aid, sid, _ in self.items]
            self._queue.put(("batch", json.dumps(batch)))
            self.items = []

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            db = _connect(self.path)
            _cache(db, FILING_CACHE_KIB)
            while (message := self._queue.get())[0] != "end":
                kind, payload = message
                db.execute("BEGIN IMMEDIATE")
                try:
                    if kind == "batch":
                        db.execute(_NEW_STORIES, (self._stamp, payload))
                        db.execute(_FILE_ARTICLES, (payload,))
                    else:
                        db.execute(_NEW_TOPICS, (self._stamp, payload))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except BaseException as e:  # handed to the main thread by `stop`
            self._error = e
            while self._queue.get()[0] != "end":  # nothing more is written
                pass
        finally:
            if db is not None:
                db.close()


def _explain(e: BaseException) -> str:
    text = str(e)
    if "file is not a database" in text or "malformed" in text:
        return f"corrupt or not an SQLite database ({text}); not touched — restore a backup"
    if "locked" in text or "busy" in text:
        return f"database is locked by another process ({text})"
    if "readonly" in text or "unable to open" in text:
        return f"cannot write the database ({text})"
    return text
