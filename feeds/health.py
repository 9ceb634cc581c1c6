"""Is this deployment alive and keeping up? Readiness, and what a pass leaves for it.

Readiness (``/readyz``, ``feeds health``) asks the store, not the process: the store
must answer, and some runner (`feeds run` from cron, a `feeds serve` tick, a worker's
publish) must have finished a pass within twice the schedule's period. So a container's
health check, a second process or another machine all get the same answer as the
daemon itself, and a daemon whose ticks stopped, or a cron line that was removed, reads
as not ready (the stale planet of NixOS/infra#155 would have).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from .errors import FeedsError
from .store import PassRecord, Store, is_server_url, open_store
from .types import Config, Outcome, PassResult

__all__ = [
    "PASS",
    "PUBLISH",
    "Probe",
    "Readiness",
    "check",
    "new_pass_id",
    "readiness",
    "record",
    "schedule_period",
]

PASS, PUBLISH = "pass", "publish"  # the runners that record passes

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: str  # one line, in words
    last_pass: PassRecord | None = None
    limit: timedelta | None = None  # how old the last pass may be

    def as_dict(self, now: datetime) -> dict[str, object]:
        last = self.last_pass
        return {
            "ready": self.ready,
            "reason": self.reason,
            "last_pass_finished": last.finished.isoformat() if last else None,
            "last_pass_id": last.pass_id if last else None,
            "age_seconds": round((now - last.finished).total_seconds(), 3) if last else None,
            "limit_seconds": self.limit.total_seconds() if self.limit else None,
        }


def new_pass_id() -> str:
    """A short random id that names one pass in logs, metrics and the store.

    Twelve random hex digits, as the first twelve of a uuid4 are, without the import of
    `uuid` (and `platform`, which it imports): 2 ms of every command."""
    return os.urandom(6).hex()


def schedule_period(config: Config) -> timedelta:
    """The time between two passes: the interval, or the cron line's next gap."""
    if config.schedule.cron is None:
        return config.schedule.interval or timedelta(minutes=15)
    from . import schedule  # APScheduler reads cron lines; an interval needs none of it

    return timedelta(seconds=schedule.max_age(config))


def readiness(store: Store, config: Config, now: datetime) -> Readiness:
    """Ready when the store answers and a pass finished within twice the period."""
    limit = 2 * schedule_period(config)
    try:
        store.ping()
        last = store.last_pass()
    except FeedsError as e:
        return Readiness(False, f"the store does not answer: {e}", None, limit)
    if last is None:
        return Readiness(False, "no pass has finished yet", None, limit)
    age = now - last.finished
    if age > limit:
        words = f"the last pass finished {_words(age)} ago, over the {_words(limit)} allowed"
        return Readiness(False, words, last, limit)
    return Readiness(True, f"the last pass finished {_words(age)} ago", last, limit)


def check(config: Config, now: datetime) -> Readiness:
    """`feeds health`: `readiness` through a connection of its own.

    A missing SQLite file is "not ready" rather than a new empty database.
    """
    if not is_server_url(config.database) and not os.path.exists(config.database):
        return Readiness(False, f"{config.database}: no database yet (no pass has run)")
    try:
        store = open_store(config.database)
    except FeedsError as e:
        return Readiness(False, f"the store does not answer: {e}")
    try:
        return readiness(store, config, now)
    finally:
        store.close()


def record(
    store: Store,
    result: PassResult,
    *,
    runner: str,
    pass_id: str,
    started: datetime,
    finished: datetime,
) -> PassRecord:
    """Note a finished pass, and which of its sources worked and found something."""
    fetched = [r for r in result.sources if r.outcome is not Outcome.SKIPPED]
    entry = PassRecord(
        runner, pass_id, started, finished, round((finished - started).total_seconds(), 3),
        len(fetched), sum(1 for r in fetched if r.outcome is Outcome.ERROR),
    )  # fmt: skip
    store.note_sources((r.source_url, r.new) for r in fetched if r.outcome is not Outcome.ERROR)
    store.record_pass(entry)
    return entry


def _words(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


class Probe:
    """A store connection of its own, used from one thread, for the HTTP endpoints.

    The pass's connection belongs to the pass (and to its worker thread), so answering
    /readyz or /metrics while a pass runs must not touch it. A connection that failed
    is dropped and opened again on the next request.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self._store: Store | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feeds-probe")

    async def run(self, work: Callable[[Store], _T]) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._call, work)

    def _call(self, work: Callable[[Store], _T]) -> _T:
        if self._store is None:
            self._store = open_store(self.config.database)
        try:
            return work(self._store)
        except FeedsError:
            self._drop()
            raise

    async def readiness(self, now: datetime) -> Readiness:
        try:
            return await self.run(lambda store: readiness(store, self.config, now))
        except FeedsError as e:
            limit = 2 * schedule_period(self.config)
            return Readiness(False, f"the store does not answer: {e}", None, limit)

    def _drop(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            store.close()

    def close(self) -> None:
        self._thread.submit(self._drop).result()
        self._thread.shutdown(wait=True)
