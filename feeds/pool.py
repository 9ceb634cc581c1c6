"""A process pool for the CPU-bound half of a pass (parse + normalize), when it pays off.

feedparser and the normalizer are pure Python and hold the GIL, so threads cannot run
two parses at once; processes can. The pool sits behind the parse stage only: the
pipeline hands `pipeline.parse_body` to whatever `Executor` it is given (or runs it in
one thread of its own, off the event loop, when given None), so every stage stays
testable without a pool. What crosses the process boundary is `FetchResult`,
`SourceConfig`, a datetime and back `ParsedFeed`/`Article` records: frozen slots
dataclasses, which pickle.

Start method: "forkserver". A pass's process has live threads by the time the first
body arrives (the pool's own manager thread, and whatever the event loop started), and
forking a threaded process can copy a lock held by another thread into the child, where
it is never released (Python 3.12 warns about it). "spawn" is safe too but every worker
imports feedparser, nh3, ftfy and the lexicon tables from scratch, ~0.4 s of CPU each,
paid while the pass is trying to use those very cores. The forkserver imports them once
(`set_forkserver_preload`) and then forks clean, single-threaded copies of itself.

The processes start at the first parse, not when the pool is made: a warm pass, where
every source answers 304, never starts them. They start all at once and import the
parse stage while the pass is still fetching the other sources.

Threshold: below `MIN_SOURCES` sources the pool's fixed cost (the forkserver's imports
and pickling every body across) is more than a second core saves; measured in
docs/performance.md.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

__all__ = ["MIN_SOURCES", "PRELOAD", "LazyProcessPool", "parse_executor", "workers_for"]

T = TypeVar("T")

log = logging.getLogger("feeds.pool")

#: Fewest sources in a pass for which a pool is faster than parsing in-process.
MIN_SOURCES = 24
#: Modules the forkserver imports once, so forked workers start with them loaded: the
#: parse stage (`pipeline.parse_body` imports these on first use) and what it needs.
PRELOAD = (
    "feeds.pipeline",
    "feeds.parse",
    "feeds.normalize",
    "feeds.dedupe",
    "feeds.classify",
)


def workers_for(sources: int, workers: int | None = None) -> int:
    """How many worker processes a pass of `sources` sources should get (0: no pool)."""
    if workers is not None:
        return max(0, min(workers, sources))
    if sources < MIN_SOURCES:
        return 0
    cores = _usable_cores()
    return cores if cores > 1 else 0


def _usable_cores() -> int:
    # The CPUs this process may run on (taskset, cgroups' cpusets), not the machine's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def parse_executor(sources: int, *, workers: int | None = None) -> Iterator[Executor | None]:
    """A process pool for a pass of `sources` sources, or None to parse in-process.

    `workers` overrides the choice (0 or 1 give None: one worker process is slower
    than the main process doing the work itself). The processes start at the first
    parse, so a pass where every source answers 304 never pays for them. The pool is
    shut down on exit, cancelling parses not yet started.
    """
    count = workers_for(sources, workers)
    if count < 2:
        yield None
        return
    pool = LazyProcessPool(count)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class LazyProcessPool(Executor):
    """A ProcessPoolExecutor made, with all its workers started, on the first submit;
    and made again when a worker has died (a crash in a parser, the OOM killer), which
    leaves a ProcessPoolExecutor refusing all work: the sources parsed after it would
    all have failed. The futures under way when it died fail with BrokenProcessPool
    (the pass parses those once more, `Refresher._parse`)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._started = 0.0

    @property
    def started(self) -> bool:
        return self._pool is not None

    def submit(  # type: ignore[override]
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> Future[T]:
        with self._lock:
            if self._pool is None:
                self._pool = self._make()
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                broken, self._pool = self._pool, self._make()
                broken.shutdown(wait=False, cancel_futures=True)
                log.warning("a parse worker process died; the pool was started again")
                return self._pool.submit(fn, *args, **kwargs)

    def _make(self) -> ProcessPoolExecutor:
        self._started = time.monotonic()
        ctx = _context()
        pool = ProcessPoolExecutor(
            self.workers, mp_context=ctx, initializer=_warm_up, initargs=(os.getpid(),)
        )
        # ProcessPoolExecutor starts one worker per submit until it has max_workers; a
        # no-op each starts them all now, while the pass is still fetching. A worker
        # that fails to start breaks the pool, and the first real parse says so.
        for _ in range(self.workers):
            pool.submit(_noop)
        log.debug("process pool of %d workers (%s)", self.workers, ctx.get_start_method())
        return pool

    def stop_workers(self) -> None:
        """Kill the current pool's processes, now: a parse that runs away cannot be
        cancelled otherwise. The parses under way or queued in it fail with
        BrokenProcessPool, as when a worker dies; the next submit starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor.kill_workers is Python 3.14's; before, its process table.
        kill = getattr(pool, "kill_workers", None)
        if kill is not None:
            kill()
        else:
            processes = getattr(pool, "_processes", None) or {}
            for process in list(processes.values()):
                with contextlib.suppress(OSError, ValueError):  # gone already
                    process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        log.debug("parse workers killed; a new pool starts at the next parse")

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)
            log.debug("process pool used for %.2f s", time.monotonic() - self._started)
            del pool
            if wait:
                _stop_servers()


def _stop_servers() -> None:
    """Stop the forkserver and the resource tracker the workers came from.

    Both sit idle once the workers are gone, and would stay for the rest of the process:
    45 MB (PSS) of an 800-source pass's peak, in the single-process tail. Only `feeds
    run` makes a pool, for its one pass; a pool made later in the same process starts
    them again, at the cost of the forkserver's imports (`PRELOAD`, about 0.4 s of CPU).
    `_stop` is private to multiprocessing (its own tests stop them so), hence the
    getattr. The collection first lets the pool's queues unregister their semaphores.
    """
    from multiprocessing import forkserver, resource_tracker

    gc.collect()
    for server in (forkserver._forkserver, resource_tracker._resource_tracker):
        stop = getattr(server, "_stop", None)
        if stop is not None:
            stop()


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")  # Windows, and macOS without forkserver


def _noop() -> None:
    return None


def _warm_up(main_pid: int) -> None:
    """Runs once in each worker: import the parse stage, and watch the pass's process.

    A worker blocks reading its call queue, whose write end it holds itself, so it never
    sees EOF when the pass is killed (kill -9 from an operator, the OOM killer): without
    the watch it would live on, holding the pass's stderr open.
    """
    for name in PRELOAD:  # cheap when the forkserver preloaded them
        importlib.import_module(name)

    threading.Thread(target=_watch, args=(main_pid,), name="feeds-pool-watch", daemon=True).start()


def _watch(main_pid: int, every: float = 1.0) -> None:
    while _alive(main_pid):
        time.sleep(every)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether `pid` runs; a killed process that is not reaped yet (a zombie) does not."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel whether the pid exists at all
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
