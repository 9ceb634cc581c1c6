"""The store: sources, articles and stories, in SQLite (the default) or PostgreSQL.

`database:` names the backend: a path opens SQLite (`_sqlite`), a ``postgresql://`` URL
opens PostgreSQL (`_postgres`, the only module importing psycopg). Both implement the
same `Store` interface over the same schema (`_schema`), so the pipeline, the CLI and the
distributed workers run unchanged on either; only the distributed workers need what a
`ServerStore` adds (the locks of processes on several machines).
"""

from __future__ import annotations

from ._base import ServerStore, Store
from ._ops import PassRecord, SourceHealth
from ._rows import ArticleRow, MatchRow, PageResult, PageWanted, ScoreRow, SourceState, StoryRow
from ._schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "ArticleRow",
    "MatchRow",
    "PageResult",
    "PageWanted",
    "PassRecord",
    "ScoreRow",
    "ServerStore",
    "SourceHealth",
    "SourceState",
    "Store",
    "StoryRow",
    "is_server_url",
    "open_server_store",
    "open_store",
]


def is_server_url(database: str) -> bool:
    """Whether config `database:` names a PostgreSQL server rather than an SQLite file."""
    return database.startswith(("postgresql://", "postgres://"))


def open_store(database: str) -> Store:
    """Open the store named by config `database:` (an SQLite path or a PostgreSQL URL)."""
    if is_server_url(database):
        return open_server_store(database)
    # Imported here, like psycopg below: a process opens one backend, and pays for one.
    from ._sqlite import SqliteStore

    return SqliteStore(database)


def open_server_store(url: str) -> ServerStore:
    """Open the PostgreSQL store at `url` (what `feeds worker` needs)."""
    from ._postgres import PostgresStore

    return PostgresStore(url)
