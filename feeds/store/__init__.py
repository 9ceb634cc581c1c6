"""The store: sources, articles and stories, in SQLite (the default) or PostgreSQL.

`database:` names the backend: a path opens SQLite (`_sqlite`), a ``postgresql://`` URL
opens PostgreSQL (`_postgres`, the only module importing psycopg). Both implement the
same `Store` interface over the same schema (`_schema`), so the pipeline, the CLI and the
distributed workers run unchanged on either.
"""

from __future__ import annotations

from ._base import Store, is_server_url
from ._rows import ArticleRow, MatchRow, ScoreRow, SourceState, StoryRow
from ._schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "ArticleRow",
    "MatchRow",
    "ScoreRow",
    "SourceState",
    "Store",
    "StoryRow",
    "is_server_url",
    "open_store",
]


def open_store(database: str) -> Store:
    """Open the store named by config `database:` (an SQLite path or a PostgreSQL URL)."""
    return Store(database)  # type: ignore[abstract]  # Store.__new__ picks the backend
