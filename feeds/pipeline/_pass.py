"""The sequencer of one pass: refresh the due sources, cluster and publish, then fetch
the article pages full-text sources wait for and publish what they gave."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from .. import pool
from ..store import ServerStore, Store
from ..types import Config, PassResult
from ._cluster import cluster
from ._pages import fetch_pages
from ._paths import utc_now
from ._publish import publish_all
from ._refresh import Clock, Progress, Refresher

if TYPE_CHECKING:
    from ..fetch import Fetcher

log = logging.getLogger("feeds.pipeline")


def run_pass(
    config: Config,
    store: Store,
    *,
    every: bool = False,
    now: Clock = utc_now,
    fetcher: Fetcher | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> PassResult:
    """Run one pass to the end (fetch, store, cluster, publish) and return what it did."""
    return asyncio.run(
        run_pass_async(
            config, store, every=every, now=now, fetcher=fetcher, executor=executor,
            progress=progress,
        )
    )  # fmt: skip


async def run_pass_async(
    config: Config,
    store: Store,
    *,
    every: bool = False,
    now: Clock = utc_now,
    fetcher: Fetcher | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> PassResult:
    """`run_pass` in a running loop; `stop`, once set, ends the fetches still running
    (their sources stay due) and the pass goes on to file and publish what it saved."""
    store.sync_sources(config.sources)
    due = store.due_sources(now(), every=every)
    by_url = {s.url: s for s in config.sources}
    own_fetcher = fetcher is None
    if fetcher is None:
        from ..fetch import Fetcher  # here, not above: the parse workers import this module

        fetcher = Fetcher(config.fetch)
    try:
        started = now()
        refresher = Refresher(config, store, fetcher, now, executor, progress)
        results = await refresher.refresh_all([(by_url[s.url], s) for s in due], stop)
        _release_workers(executor)
        if any(r.new for r in results):  # a warm pass parsed nothing: nothing to return
            _return_freed_memory()
        # In a thread: clustering and rendering are seconds of CPU that would otherwise
        # stall the event loop, and with it the HTTP server of `feeds serve`.
        touched, written = await asyncio.to_thread(
            _as_the_writer, store, lambda: cluster_and_publish(config, store, now(), since=started)
        )
        # After publishing what the feeds gave: pages never delay a story.
        if await fetch_pages(config, store, fetcher, now()):
            again = await asyncio.to_thread(
                _as_the_writer, store, lambda: publish_all(config, store)
            )
            written = tuple(dict.fromkeys((*written, *again)))
        if config.websub_hub:  # WebSub: tell the hub which feeds just changed
            names = (os.path.basename(path) for path in written)
            topics = [config.base_url + n for n in names if n.endswith((".rss", ".atom", ".json"))]
            await fetcher.ping_hub(config.websub_hub, topics)
    finally:
        if own_fetcher:
            await fetcher.aclose()
    log.info("pass done: %d stories touched", len(touched))
    return PassResult(
        sources=tuple(results),
        new_articles=sum(r.new for r in results),
        stories_published=len(touched),
        files_written=written,
    )


T = TypeVar("T")


def _as_the_writer(store: Store, work: Callable[[], T]) -> T:
    """`work` (clustering, publishing) as the one writer of the store's stories.

    On one machine the CLI's pass lock makes a pass that; on a database server,
    `feeds worker`s on other machines cluster and publish too, and two filings of one
    batch at once made every story twice ("a story id per filer", the last assignment
    winning): the pass waits for the workers' publish lock first.
    """
    if isinstance(store, ServerStore):
        with store.publish_lock(wait=True):
            return work()
    return work()


def _release_workers(executor: Executor | None) -> None:
    """Stop the parse pool's processes before the single-process end of the pass.

    Clustering and publishing run here alone; the idle workers (and the forkserver they
    came from) would only add their memory to the pass's peak. A `LazyProcessPool`
    starts them again on its next use.
    """
    if isinstance(executor, pool.LazyProcessPool):
        executor.shutdown(wait=True)


def _return_freed_memory() -> None:
    """Give the heap the fetch and parse phase freed back to the OS (glibc only).

    That phase allocates and frees the bodies and records of every source; glibc keeps
    what was freed mapped, and the tail (clustering, in another thread) did not reuse
    it: an 800-source cold pass held 67 MB of it to the end, on top of its peak.
    """
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:  # no C library to load this way (Windows)
        return
    if trim is not None:
        trim(0)


def cluster_and_publish(
    config: Config, store: Store, now: datetime, *, since: datetime
) -> tuple[set[str], tuple[str, ...]]:
    """The single-writer end of a pass: cluster what is unassigned, then publish.

    Returns the stories touched at or after `since` and the files written.
    """
    touched = cluster(store, now, since=since)
    written = publish_all(config, store)
    if config.retention_days:
        from .. import maintenance

        # After publishing: retention keeps exactly the stories the feeds now show.
        purged = maintenance.retention(store, config, now)
        log.info("retention: %d old articles removed", purged)
    return touched, written
