"""The PostgreSQL backend (psycopg 3), for several machines sharing one store.

The only module that imports psycopg. Same tables and column meanings as SQLite (see
`_schema`); the schema version lives in a ``feeds_meta`` row, and migrations run under a
transaction-scoped advisory lock so workers starting together migrate once. The session
runs in autocommit: a read is its own statement, a write is one explicit transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ..errors import SchemaVersionError, StorageError
from . import _schema
from ._base import ServerStore
from ._rows import Params, Row, Tx

log = logging.getLogger("feeds.store")

#: Advisory lock keys (one 64-bit space per database, shared with other applications,
#: hence values that spell "feeds" rather than small integers).
MIGRATE_LOCK = 0x6665656473_01
PUBLISH_LOCK = 0x6665656473_02

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


def _dialect(sql: str) -> str:
    """qmark and :name placeholders (as sqlite3 takes them) to psycopg's."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%")).replace("?", "%s")


class _PgTx:
    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        cur = self.conn.execute(_dialect(sql), params or None)
        return list(cur.fetchall()) if cur.description else []

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        rows = list(rows)
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(_dialect(sql), rows)


class PostgresStore(ServerStore):
    """PostgreSQL store; `path` is the URL with its password hidden (for messages)."""

    _same = "IS NOT DISTINCT FROM"

    def __init__(self, url: str) -> None:
        self.path = _redact(url)
        try:
            self._conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
        except psycopg.Error as e:
            raise StorageError(f"cannot connect ({_first_line(e)})", subject=self.path) from e
        try:
            self._setup()
        except BaseException:
            self._conn.close()
            raise

    def _setup(self) -> None:
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATE_LOCK,))
            tx.execute("CREATE TABLE IF NOT EXISTS feeds_meta (key TEXT PRIMARY KEY, value TEXT)")
            rows = tx.execute("SELECT value FROM feeds_meta WHERE key = 'schema_version'")
            version = int(rows[0]["value"]) if rows else 0
            if version > _schema.SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"schema version {version} is newer than this feeds ({_schema.SCHEMA_VERSION})",
                    subject=self.path,
                )
            if version == 0 and tx.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name IN ('sources', 'stories', 'articles')"
            ):
                raise StorageError(
                    "not a feeds database (it holds other tables)", subject=self.path
                )
            for step in range(version, _schema.SCHEMA_VERSION):
                _schema.MIGRATIONS[step](tx.execute, "postgresql")
                log.info("migrated %s to schema version %d", self.path, step + 1)
            tx.execute(
                "INSERT INTO feeds_meta VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(max(version, _schema.SCHEMA_VERSION)),),
            )

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[_PgTx]:
        try:
            with self._conn.transaction():
                yield _PgTx(self._conn)
        except psycopg.Error as e:
            raise StorageError(_first_line(e), subject=self.path) from e

    def _query(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return _PgTx(self._conn).execute(sql, params)
        except psycopg.Error as e:
            raise StorageError(_first_line(e), subject=self.path) from e

    # SKIP LOCKED: concurrent claimers pass over rows another one is taking instead
    # of waiting for it, and the UPDATE re-checks nothing, so each row goes to one.
    _CLAIM_LOCK = "FOR UPDATE SKIP LOCKED"

    @contextmanager
    def publish_lock(self, *, wait: bool = False) -> Iterator[bool]:
        # A session-level advisory lock: held while this connection lives, released by
        # the server if the process dies, so a killed publisher never blocks the next.
        if wait:
            self._query("SELECT pg_advisory_lock(?)", (PUBLISH_LOCK,))
            got = True
        else:
            got = bool(
                self._query("SELECT pg_try_advisory_lock(?) AS ok", (PUBLISH_LOCK,))[0]["ok"]
            )
        try:
            yield got
        finally:
            if got:
                self._query("SELECT pg_advisory_unlock(?)", (PUBLISH_LOCK,))

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        key = _lock_key(name)
        self._query("SELECT pg_advisory_lock(?)", (key,))
        try:
            yield
        finally:
            self._query("SELECT pg_advisory_unlock(?)", (key,))

    def _serialize(self, tx: Tx, name: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_lock_key(name),))

    def check(self) -> list[str]:
        problems = []
        orphans = self._query(
            "SELECT count(*) AS n FROM articles a "
            "WHERE a.story_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM stories s WHERE s.id = a.story_id)"
        )[0]["n"]
        if orphans:
            problems.append(f"articles: {orphans} rows point to a missing story")
        bad = self._query(
            "SELECT count(*) AS n FROM sources WHERE in_config NOT IN (0, 1) "
            "OR items < 0 OR bytes < 0 OR consecutive_errors < 0"
        )[0]["n"]
        if bad:
            problems.append(f"sources: {bad} rows with impossible values")
        invalid = self._query(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT i.indisvalid ORDER BY 1"
        )
        problems += [f"index {r['relname']} is invalid: REINDEX it" for r in invalid]
        return problems

    def vacuum(self) -> None:
        for table in _schema.TABLES:
            self._query(f"VACUUM (ANALYZE) {table}")


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name (hash() is salted per run)."""
    digest = hashlib.sha1(f"feeds:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
