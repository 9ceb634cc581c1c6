"""The SQLite backend (the default): one file, one connection per Store.

WAL journal, foreign keys on, schema versioned with ``PRAGMA user_version``. Every write
is one short ``BEGIN IMMEDIATE`` transaction, so writers queue on the busy timeout
instead of failing mid-transaction; the pipeline never holds one across network I/O. An
``application_id`` marks the file as ours, so pointing `database:` at some other SQLite
file fails cleanly instead of being written into.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from ..errors import SchemaVersionError, StorageError
from . import _schema
from ._base import Store
from ._rows import Params, Row, Tx

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
                _create_private(path)
            self._db = _connect(path)
            self._db.row_factory = sqlite3.Row
            self._setup()
        except (sqlite3.DatabaseError, OSError) as e:
            raise StorageError(_explain(e), subject=path) from e
        except UnicodeDecodeError as e:  # a scribbled schema page: its SQL text is not UTF-8
            raise StorageError(
                _explain(sqlite3.DatabaseError(f"malformed schema: {e}")), subject=path
            ) from e

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
        # Set here, once the page size is known: set before a new file's `page_size`, it
        # was counted in pages of the default size and grew four times larger (an
        # 800-source pass held 60 MB more by the end of its parse phase).
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        for step in range(version, _schema.SCHEMA_VERSION):
            with self.transaction() as tx:
                _schema.MIGRATIONS[step](tx.execute, "sqlite")
                tx.execute(f"PRAGMA user_version = {step + 1}")
                tx.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            log.info("migrated %s to schema version %d", self.path, step + 1)

    def close(self) -> None:
        self._db.close()

    def release_memory(self) -> None:
        self._db.execute("PRAGMA shrink_memory")

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
            _rollback(self._db)
            raise StorageError(_explain(e), subject=self.path) from e
        except BaseException:
            _rollback(self._db)
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            _rollback(self._db)
            raise StorageError(_explain(e), subject=self.path) from e

    def _query(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as e:
            raise StorageError(_explain(e), subject=self.path) from e

    # SQLite has one writer at a time: BEGIN IMMEDIATE takes the write lock before
    # the SELECT inside the UPDATE runs, so two claimers can never pick one row.
    _CLAIM_LOCK = ""

    def _serialize(self, tx: Tx, name: str) -> None:
        pass  # BEGIN IMMEDIATE already runs every writer one at a time

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


def _create_private(path: str) -> None:
    """Make a new database file readable by its owner only (0600).

    It holds the source URLs, credentials included (issue 20). SQLite gives its -wal
    and -shm files the mode of the database file, so they are private too. A file
    that already exists keeps the mode its operator gave it.
    """
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _connect(path: str) -> sqlite3.Connection:
    """A connection with the settings that do not depend on the file (all but its cache)."""
    # check_same_thread off: a pass hands the store to a worker thread for its CPU-heavy
    # end (so `feeds serve` keeps answering HTTP); it is never used by two threads at once.
    db = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back what is still open. SQLite itself ends the transaction on some errors
    (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM: "Response To Errors Within A Transaction"),
    and ROLLBACK then fails with "no transaction is active", which used to hide the
    error that mattered (a full disk)."""
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.DatabaseError:
            log.debug("rollback failed after an error", exc_info=True)


def _explain(e: BaseException) -> str:
    text = str(e)
    if getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in text:
        return f"the disk is full: cannot write the database ({text})"
    if "file is not a database" in text or "malformed" in text:
        return f"corrupt or not an SQLite database ({text}); not touched — restore a backup"
    if "locked" in text or "busy" in text:
        return f"database is locked by another process ({text})"
    if "readonly" in text or "unable to open" in text:
        return f"cannot write the database ({text})"
    return text
