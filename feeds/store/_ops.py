"""What the store keeps for the operator: the last pass of each runner, and each
source's last success and last new article (tables `pass_log`, `source_health`).

A source's own row holds only its latest attempt; once it fails, when it last worked is
gone from there. `note_sources` copies that moment over after each successful fetch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ._rows import Row, dt, ts

#: Outcomes that count as a successful fetch (`types.Outcome` values).
_SUCCESS = "('ok', 'not_modified', 'unchanged')"


class _Db(Protocol):
    def _query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Row]: ...

    def _write(self, sql: str, rows: Iterable[Sequence[Any] | dict[str, Any]]) -> None: ...


@dataclass(frozen=True, slots=True)
class PassRecord:
    """One runner's last finished pass (`feeds run`/`serve`: "pass"; a worker: "publish")."""

    runner: str
    pass_id: str
    started: datetime
    finished: datetime
    duration: float
    sources: int
    failed: int


@dataclass(frozen=True, slots=True)
class SourceHealth:
    url: str
    last_success: datetime | None
    last_new: datetime | None


class OpsRecords:
    """Mixed into `Store`: the operator's records, the same SQL on both backends."""

    def ping(self: _Db) -> None:
        """One round trip: raises StorageError when the database does not answer."""
        self._query("SELECT 1 AS one")

    def record_pass(self: _Db, record: PassRecord) -> None:
        self._write(
            """INSERT INTO pass_log (runner, pass_id, started, finished, duration, sources,
                                     failed) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (runner) DO UPDATE SET pass_id = excluded.pass_id,
                 started = excluded.started, finished = excluded.finished,
                 duration = excluded.duration, sources = excluded.sources,
                 failed = excluded.failed""",
            [(record.runner, record.pass_id, ts(record.started), ts(record.finished),
              record.duration, record.sources, record.failed)],
        )  # fmt: skip

    def last_pass(self: _Db) -> PassRecord | None:
        """The most recently finished pass of any runner."""
        rows = self._query("SELECT * FROM pass_log ORDER BY finished DESC, runner LIMIT 1")
        if not rows:
            return None
        r = rows[0]
        started, finished = dt(r["started"]), dt(r["finished"])
        assert started is not None and finished is not None
        return PassRecord(
            r["runner"], r["pass_id"], started, finished, float(r["duration"]),
            int(r["sources"]), int(r["failed"]),
        )  # fmt: skip

    def note_sources(self: _Db, new_by_url: Iterable[tuple[str, int]]) -> None:
        """After fetches: each (source URL, new articles) whose row says it succeeded
        gets its fetch time as its last success, and as its last new article if any."""
        self._write(
            f"""INSERT INTO source_health (url, last_success, last_new)
                SELECT url, last_fetch, CASE WHEN ? > 0 THEN last_fetch END FROM sources
                WHERE url = ? AND last_outcome IN {_SUCCESS} AND last_fetch IS NOT NULL
                ON CONFLICT (url) DO UPDATE SET last_success = excluded.last_success,
                  last_new = COALESCE(excluded.last_new, source_health.last_new)""",
            [(new, url) for url, new in new_by_url],
        )

    def source_health(self: _Db) -> dict[str, SourceHealth]:
        rows = self._query("SELECT url, last_success, last_new FROM source_health")
        return {
            r["url"]: SourceHealth(r["url"], dt(r["last_success"]), dt(r["last_new"])) for r in rows
        }
