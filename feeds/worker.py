"""Distributed workers: procrastinate (a PostgreSQL task queue) runs the pipeline.

The only module that imports procrastinate. Every `feeds worker` process runs the same
procrastinate worker over the store's PostgreSQL database:

- ``feeds.tick`` (periodic, every `tick_seconds`): claims due sources in the store with a
  lease (`Store.claim_due`, FOR UPDATE SKIP LOCKED) and defers one ``feeds.refresh_source``
  job per source, with a queueing lock per source so a source is never queued twice.
  procrastinate defers a periodic job once per timestamp for all workers together.
- ``feeds.refresh_source``: restarts the lease (a job that queued past its lease and
  finds the source refreshed, or claimed again, is skipped), runs
  `pipeline.refresh_source`, exactly what a single-machine pass runs for each source,
  then gives the lease back. A worker killed mid-fetch leaves the lease to expire; the
  source is still due, so a later tick claims it again.
- ``feeds.publish`` (periodic, every `publish_seconds`): `pipeline.cluster_and_publish`,
  the single-writer end of a pass, then the article pages `full_text` sources wait for
  (`pipeline.fetch_pages`), under a PostgreSQL advisory lock, so two workers never
  cluster, publish or fetch pages at once.

What is due stays in the sources table (one source of truth, the same as on SQLite);
procrastinate only carries the work to a free worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

# A worker is long-lived: it imports the clustering and publishing stages now rather
# than on its first publish (a pass imports them on first use, see feeds.pipeline).
from . import classify, dedupe, health, logs, pipeline, sdnotify, stories  # noqa: F401
from . import publish as _renderers  # noqa: F401
from .errors import FeedsError
from .fetch import Fetcher
from .guard import redact
from .ops import Operator
from .store import ServerStore, is_server_url, open_server_store
from .types import Config, PassResult

__all__ = ["WorkerSettings", "build_app", "run"]

log = logging.getLogger("feeds.worker")

TICK, REFRESH, PUBLISH = "feeds.tick", "feeds.refresh_source", "feeds.publish"
FETCH_QUEUE, PUBLISH_QUEUE = "feeds_fetch", "feeds_publish"


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """How a worker paces itself; `from_env` reads the FEEDS_WORKER_* variables."""

    tick_seconds: int = 10  # how often due sources are claimed and queued
    publish_seconds: int = 60  # how often the merged feeds are clustered and published
    lease: timedelta = timedelta(minutes=10)  # a claimed source's lease (crash recovery)
    batch: int = 500  # sources claimed per tick
    concurrency: int = 16  # jobs one worker runs at once
    queues: tuple[str, ...] = ()  # empty: every queue (fetch and publish)

    @classmethod
    def from_env(cls, env: Mapping[str, str], config: Config) -> WorkerSettings:
        def number(name: str, default: int, low: int = 1) -> int:
            raw = env.get(f"FEEDS_WORKER_{name}", "")
            try:
                value = int(raw) if raw else default
            except ValueError:
                value = low - 1
            if value < low:
                raise FeedsError(
                    f"must be an integer >= {low}, not {raw!r}", f"FEEDS_WORKER_{name}"
                )
            return value

        queues = tuple(q for q in env.get("FEEDS_WORKER_QUEUES", "").split(",") if q.strip())
        d = _DEFAULTS
        return cls(
            tick_seconds=number("TICK", d.tick_seconds),
            publish_seconds=number("PUBLISH", d.publish_seconds, low=0),
            lease=timedelta(seconds=number("LEASE", int(d.lease.total_seconds()))),
            batch=number("BATCH", d.batch),
            concurrency=number("CONCURRENCY", config.fetch.concurrency),
            queues=tuple(q.strip() for q in queues),
        )


_DEFAULTS = WorkerSettings()


def cron_every(seconds: int) -> str:
    """A procrastinate cron for "every N seconds" (croniter's 6th field is seconds), of
    the longest period up to N that a cron step keeps even (`even_period`): "*/45" in
    the seconds field fires at :00 and :45, 45 s then 15 s, and "*/120" in the minutes
    field once an hour."""
    period = even_period(seconds)
    if period < 60:
        return f"* * * * * */{period}"
    if period < 3600:
        return f"*/{period // 60} * * * *"
    if period < 86400:
        return f"0 */{period // 3600} * * *"
    return "0 0 * * *"


#: Periods a cron step divides evenly: the divisors of a minute, of an hour (in
#: minutes), of a day (in hours), and a day.
_EVEN = sorted(
    {d for d in range(1, 61) if 60 % d == 0 and d < 60}
    | {60 * d for d in range(1, 61) if 60 % d == 0 and d < 60}
    | {3600 * d for d in range(1, 25) if 24 % d == 0 and d < 24}
    | {86400}
)


def even_period(seconds: int) -> int:
    """The longest period of `_EVEN` up to `seconds` (at least 1 s): what a worker
    runs when asked for `seconds` (90 s runs every 60 s; 7,200 every two hours)."""
    return max((p for p in _EVEN if p <= seconds), default=1)


class _Worker:
    """One process's state: its store connection, HTTP client and name."""

    def __init__(self, config: Config, settings: WorkerSettings, name: str) -> None:
        self.config, self.settings, self.name = config, settings, name
        self.store: ServerStore | None = None
        self.fetcher: Fetcher | None = None
        self.last_publish: datetime | None = None
        self.operator = Operator(config)

    def open(self) -> tuple[ServerStore, Fetcher]:
        if self.store is None:
            self.store = open_server_store(self.config.database)
        if self.fetcher is None:
            self.fetcher = Fetcher(self.config.fetch)
        return self.store, self.fetcher

    async def close(self) -> None:
        if self.fetcher is not None:
            await self.fetcher.aclose()
        if self.store is not None:
            self.store.close()

    async def tick(self, app: procrastinate.App, timestamp: int) -> int:
        store, _ = self.open()
        owner = f"{self.name}/{timestamp}"
        claimed = store.claim_due(
            pipeline.utc_now(), owner=owner, lease=self.settings.lease, limit=self.settings.batch
        )
        task = app.tasks[REFRESH]
        queued = 0
        for source in claimed:
            deferrer = task.configure(queueing_lock=f"src:{source.url}")
            try:
                await deferrer.defer_async(url=source.url, owner=owner)
                queued += 1
            except AlreadyEnqueued:  # its earlier job is still waiting: that one will do
                store.release(source.url, owner)
        log.info("tick %d: claimed %d sources, queued %d", timestamp, len(claimed), queued)
        return queued

    async def refresh(self, url: str, owner: str) -> str:
        store, fetcher = self.open()
        # The lease runs from now, not from the claim: the job may have queued past it.
        now, lease = pipeline.utc_now(), self.settings.lease
        if not store.restart_lease(url, owner=owner, now=now, lease=lease):
            log.info("%s: refreshed or claimed by another job meanwhile; skipped", redact(url))
            return "skipped"
        state = store.source(url)
        if state is None:
            return "unknown"
        try:
            result = await pipeline.refresh_source(self.config, store, state, fetcher=fetcher)
        finally:
            store.release(url, owner)
        self.operator.source_done(store, result)
        return result.outcome.value

    async def publish(self) -> int:
        started = pipeline.utc_now()
        # Stories edited since the last publish need classifying again; a worker that
        # just started does not know when that was, so it looks back a day.
        since = self.last_publish or started - timedelta(days=1)
        floor = started - timedelta(seconds=3 * max(self.settings.publish_seconds, 60))
        try:
            written = await asyncio.to_thread(
                _publish, self.config, min(since, floor), self.operator
            )
        except FeedsError as e:
            # One line, as `feeds run` and `feeds serve` give it (an unwritable output
            # folder, a full disk); the next publish tries again. Raised, procrastinate
            # logged each with its traceback and kept every failed job in its table.
            log.error("publish failed: %s", e)
            return 0
        if written is not None:
            self.last_publish = started
        return len(written or ())


def _publish(config: Config, since: datetime, operator: Operator) -> tuple[str, ...] | None:
    # Its own connection: this runs in a thread while the loop's tasks use theirs.
    pass_id = health.new_pass_id()
    with (
        logs.pass_context(pass_id),
        open_server_store(config.database) as store,
        store.publish_lock() as mine,
    ):
        if not mine:
            log.info("another worker is publishing; skipped")
            return None
        started = pipeline.utc_now()
        touched, written = pipeline.cluster_and_publish(config, store, started, since=since)
        # Article pages (full_text) under the publish lock: one worker at a time fetches
        # them, so the per-host politeness holds across machines.
        if asyncio.run(_fetch_pages(config, store)):
            again = pipeline.publish_all(config, store)
            written = tuple(dict.fromkeys((*written, *again)))
        finished = pipeline.utc_now()
        duration = (finished - started).total_seconds()
        log.info("published: %d files written", len(written), extra={"duration": duration})
        # The fetches were counted as each refresh ended (`_Worker.refresh`).
        result = PassResult((), 0, len(touched), written)
        operator.after_pass(
            store, result, pass_id=pass_id, started=started, finished=finished,
            runner=health.PUBLISH, count_sources=False,
        )  # fmt: skip
        return written


async def _fetch_pages(config: Config, store: ServerStore) -> int:
    if not any(s.full_text != "false" for s in config.sources):
        return 0
    async with Fetcher(config.fetch) as fetcher:
        return await pipeline.fetch_pages(config, store, fetcher, pipeline.utc_now())


def build_app(
    config: Config, settings: WorkerSettings, name: str
) -> tuple[procrastinate.App, _Worker]:
    """The procrastinate App with the three feeds tasks registered."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=config.database))
    worker = _Worker(config, settings, name)

    @app.periodic(cron=cron_every(settings.tick_seconds), periodic_id="tick")
    @app.task(name=TICK, queue=FETCH_QUEUE, queueing_lock=TICK)
    async def tick(timestamp: int) -> int:
        return await worker.tick(app, timestamp)

    @app.task(name=REFRESH, queue=FETCH_QUEUE)
    async def refresh_source(url: str, owner: str) -> str:
        return await worker.refresh(url, owner)

    async def publish(timestamp: int = 0) -> int:
        return await worker.publish()

    # No procrastinate `lock`: a worker killed while publishing would leave its job
    # "doing" with the lock held, and every later publish would wait behind it. The
    # store's advisory lock (`_publish`) already keeps publishing to one worker at a time
    # and is released when a dead worker's connection goes.
    task = app.task(name=PUBLISH, queue=PUBLISH_QUEUE, queueing_lock=PUBLISH)(publish)
    if settings.publish_seconds:
        app.periodic(cron=cron_every(settings.publish_seconds), periodic_id="publish")(task)
    return app, worker


async def _apply_schema(app: procrastinate.App, store: ServerStore) -> None:
    """Install procrastinate's tables once, whichever worker starts first."""
    with store.exclusive("procrastinate-schema"):
        row = await app.connector.execute_query_one_async(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
        )
        if not row["present"]:
            log.info("installing procrastinate's schema")
            await app.schema_manager.apply_schema_async()


async def run_async(config: Config, settings: WorkerSettings, *, name: str | None = None) -> None:
    name = name or f"{socket.gethostname()}:{os.getpid()}"
    app, worker = build_app(config, settings, name)
    store, _ = worker.open()
    store.sync_sources(config.sources)
    http = None
    if config.metrics is not None and config.metrics.port is not None:
        http = await worker.operator.start_http()
    notifier = sdnotify.Notifier()
    try:
        async with app.open_async():
            await _apply_schema(app, store)
            options: dict[str, Any] = {"queues": list(settings.queues)} if settings.queues else {}
            notifier.ready(f"worker {name}")
            await app.run_worker_async(
                name=name,
                concurrency=settings.concurrency,
                delete_jobs="successful",
                shutdown_graceful_timeout=25,
                **options,
            )
    finally:
        notifier.stopping()  # procrastinate took the signal and finished its jobs
        await notifier.close()
        if http is not None:
            await http.stop()
        worker.operator.close()
        await worker.close()


def run(config: Config, env: Mapping[str, str] | None = None) -> int:
    """`feeds worker`: run until SIGTERM or SIGINT, then finish the jobs in flight."""
    if not is_server_url(config.database):
        raise FeedsError("`feeds worker` needs a postgresql:// database", subject="database")
    settings = WorkerSettings.from_env(os.environ if env is None else env, config)
    asyncio.run(run_async(config, settings))
    return 0
