"""Store upkeep for operators: retention, JSON Lines export/import, and `feeds doctor`.

Thin helpers over the Store's maintenance methods, so the same code runs on SQLite and
PostgreSQL. The CLI (or the end of a pass, for retention) calls them; they never print.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, Any

from . import stories
from .errors import StorageError
from .store import Store
from .types import Config

__all__ = ["doctor", "export_jsonl", "import_jsonl", "retention"]

log = logging.getLogger("feeds.maintenance")


def retention(store: Store, config: Config, now: datetime) -> int:
    """Delete articles older than `retention_days`, except those of stories still shown
    in a published feed (a reader may follow their links or refetch the feed); returns
    how many went. Does nothing when `retention_days` is not set."""
    if config.retention_days is None:
        return 0
    shown = {story.id for _, selected in stories.select(config, store) for story in selected}
    gone = store.purge(now - timedelta(days=config.retention_days), shown)
    log.info("retention: %d articles older than %d days removed", gone, config.retention_days)
    return gone


def export_jsonl(store: Store, out: IO[str]) -> int:
    """Write every row of the store as one JSON object per line; returns how many.

    Rows come parents first (sources, stories, articles), so importing the file in order
    never breaks a foreign key. Non-ASCII stays as is: the file is UTF-8 text.
    """
    count = 0
    for row in store.export_rows():
        out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def import_jsonl(store: Store, inp: IO[str], *, name: str = "<input>") -> int:
    """Upsert the rows of an `export_jsonl` file in one transaction; returns how many.

    A bad line stops the import before anything is committed, with an error naming
    ``NAME:LINE``. Blank lines are refused too, so the store's row numbers (used in its
    own errors) stay equal to line numbers.
    """
    try:
        return store.import_rows(_rows(inp, name))
    except StorageError as e:
        if e.subject and e.subject.startswith("line "):  # the store numbers rows from 1
            raise StorageError(e.message, subject=f"{name}:{e.subject[5:]}") from e
        raise


def _rows(inp: IO[str], name: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(inp, start=1):
        try:
            row = json.loads(line)
        except ValueError as e:  # json.JSONDecodeError, or a lone surrogate escape
            raise StorageError(f"not JSON ({e})", subject=f"{name}:{number}") from e
        if not isinstance(row, dict):
            raise StorageError("not a JSON object", subject=f"{name}:{number}")
        yield row


def doctor(store: Store) -> list[str]:
    """The store's integrity problems; when there are none, also compact it (VACUUM).

    A damaged database is left exactly as it is: rewriting it could lose what a
    recovery tool would still find.
    """
    problems = store.check()
    if problems:
        log.warning("integrity check found %d problems; not vacuuming", len(problems))
        return problems
    store.vacuum()
    return []
