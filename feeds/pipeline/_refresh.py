"""One source's refresh: fetch, parse (in the pool's processes on a large pass), save,
and record the outcome on its row (what `policy.after_fetch`/`after_error` decide)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .. import policy
from ..errors import FeedsError, FetchError, ParseError
from ..guard import credentials, redact
from ..store import SourceState, Store
from ..threads import in_daemon_thread
from ..types import (
    Article,
    Config,
    FetchConfig,
    FetchResult,
    Outcome,
    ParsedFeed,
    SourceConfig,
    SourceResult,
    Validators,
)
from ._paths import utc_now

if TYPE_CHECKING:
    from ..fetch import Fetcher

log = logging.getLogger("feeds.pipeline")

Clock = Callable[[], datetime]
Progress = Callable[[SourceResult], None]

#: Seconds one body's parse may run (in a pool worker, or on a thread of its own) before
#: it is given up and its source fails: a 10 MB feed of 4,000 items parses in about 3 s.
#: A parse cannot be cancelled; a worker running over is killed (`_parse_bounded`).
PARSE_LIMIT = 60.0
#: How often a pooled parse is looked at against PARSE_LIMIT, in seconds.
PARSE_CHECK = 1.0
#: Seconds the sources cancelled at the pass deadline get to end (`refresh_all`).
CANCEL_WAIT = 5.0

#: (match_features, topic_scores) of one article, as the store keeps them.
Derived = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class Parsed:
    """What `parse_body` hands back (across a process boundary on a large pass)."""

    feed: ParsedFeed  # without its entries: the articles carry what is kept of them
    articles: tuple[Article, ...]
    derived: tuple[Derived, ...] = ()  # one per article, in order
    entries: int = 0  # how many entries the body had
    caps: str | None = None  # the limits applied to it, in words (`caps_words`)


def derive(article: Article) -> tuple[str, str]:
    """What clustering and classifying need of one article, as stored texts.

    Computed where the article is made (in the pool's processes on a large pass), so
    the single-process end of the pass only reads it back.
    """
    from .. import classify, dedupe

    prepared = dedupe.Prepared.of(article.title_key, article.text_key)
    scores = classify.key_scores(article.title_key, article.text_key)
    return prepared.dumps(), classify.dumps_scores(scores)


def parse_body(
    result: FetchResult,
    source: SourceConfig,
    first_seen: datetime,
    max_items: int = FetchConfig().max_items,
) -> Parsed:
    """CPU-bound half of a source's refresh: bytes to Articles (runs in an executor).

    Only the `max_items` newest entries are normalized (`fetch.max_items`): a feed of
    100,000 items costs a pass its parse, not 100,000 articles to store and cluster.
    """
    from .. import normalize, parse

    feed = parse.parse(result, source.scrape)
    taken = normalize.newest(feed.entries, max_items, source.default_tz, result.fetched_at)
    articles = normalize.articles(
        taken, feed, source, fetched_at=result.fetched_at, first_seen=first_seen
    )
    derived = tuple(derive(a) for a in articles)
    caps = caps_words(len(feed.entries), len(taken), sum(a.trimmed for a in articles))
    # The raw entries stay here: pickling them back would double what crosses over.
    return Parsed(replace(feed, entries=()), tuple(articles), derived, len(feed.entries), caps)


async def try_source(config: Config, source: SourceConfig, fetcher: Fetcher) -> Parsed:
    """What one source would yield now (`feeds try`): fetched, parsed and normalized as a
    pass would (the feed an HTML page links to, its selectors, JSON-LD), nothing stored."""
    result = await fetch_for(fetcher, source, source.url)
    now = result.fetched_at
    parsed = await asyncio.to_thread(parse_body, result, source, now, config.fetch.max_items)
    if not parsed.articles and parsed.feed.alternates and source.scrape is None:
        result = await fetch_for(fetcher, source, parsed.feed.alternates[0])
        parsed = await asyncio.to_thread(parse_body, result, source, now, config.fetch.max_items)
    return parsed


async def fetch_for(
    fetcher: Fetcher,
    src: SourceConfig,
    url: str,
    validators: Validators = Validators(),  # noqa: B008 - frozen
) -> FetchResult:
    """GET `url` for source `src`, with its limits, User-Agent and credentials; errors
    name the source."""
    return await fetcher.fetch(
        url, validators, source_url=src.url, max_bytes=src.max_bytes,
        user_agent=src.user_agent, auth=credentials(src.auth, os.environ),
    )  # fmt: skip


def caps_words(entries: int, taken: int, trimmed: int) -> str | None:
    """What `feeds status` says of the limits one parse applied; None when none did."""
    from ..markup import MAX_DEPTH, MAX_HTML

    said = []
    if taken < entries:
        said.append(f"kept the newest {taken:,} of {entries:,} items (fetch.max_items)")
    if trimmed:
        said.append(
            f"cut the content of {trimmed:,} item{'s' * (trimmed != 1)} to "
            f"{MAX_HTML:,} characters / {MAX_DEPTH} levels"
        )
    return "; ".join(said) or None


async def refresh_source(
    config: Config,
    store: Store,
    state: SourceState,
    *,
    fetcher: Fetcher,
    now: Clock = utc_now,
    executor: Executor | None = None,
) -> SourceResult:
    """Refresh one source exactly as a pass does: fetch, parse, save, record the outcome.

    What a distributed worker's task runs for each source it was handed.
    """
    src = next((s for s in config.sources if s.url == state.url), None)
    if src is None:  # left the config since it was claimed
        return SourceResult(state.url, Outcome.SKIPPED)
    return await Refresher(config, store, fetcher, now, executor, None).refresh(src, state)


async def _until_done(
    tasks: set[asyncio.Task[SourceResult]], timeout: float | None, stop: asyncio.Event | None
) -> None:
    """Wait for every one of `tasks`, at most `timeout` s, and no longer than until `stop`
    is set. Cancels none of them (`asyncio.wait` does not)."""
    waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(asyncio.wait(tasks))}
    if stop is not None:
        waiters.add(asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _host(src: SourceConfig, state: SourceState) -> str:
    """The host of the URL the source is fetched from ("" for one that does not parse:
    its fetch reports it)."""
    try:
        return urlsplit(state.discovered_url or state.fetch_url or src.url).hostname or ""
    except ValueError:  # "http://[::1/"
        return ""


class Refresher:
    """Fetches, parses and saves each due source; records every outcome on its row."""

    def __init__(
        self,
        config: Config,
        store: Store,
        fetcher: Fetcher,
        now: Clock,
        executor: Executor | None,
        progress: Progress | None,
    ) -> None:
        self.config, self.store, self.fetcher, self.now = config, store, fetcher, now
        self.executor, self.progress = executor, progress
        # Parses tried again after their worker died go one at a time (`_parse`).
        self.retrying = asyncio.Lock()
        # Without a pool, one parse at a time, each on a daemon thread of its own:
        # parsing holds the GIL, so more threads parse no faster and only fight over it
        # (a 200-source pass spent twice the CPU so), and a parse given up at
        # PARSE_LIMIT runs on where it holds nothing the pass, or its exit, waits for.
        self.parsing = asyncio.Lock()
        # Sources between the start of their fetch and the end of their save, at most:
        # enough to keep every fetch slot and every parse worker busy, and no more, so
        # that a first pass does not hold the bodies fetched ahead of the parse (fetching
        # outruns parsing: 800 sources held 60 MB of them, 3,200 held 260 MB).
        workers = getattr(executor, "workers", 1)
        self.in_hand = asyncio.Semaphore(2 * config.fetch.concurrency + 4 * workers)
        # A source takes its place in hand only once its host may fetch it (`refresh`):
        # a host that hangs or holds many sources keeps `fetch.per_host` places, not all.
        # (The store lists sources by URL, so one site's feeds come together: with the
        # place taken first, 2,107 sources on 32 hosts took 23.5 s instead of 5.2 s.)
        self.host_turns: dict[str, asyncio.Semaphore] = {}
        self.rng = random.Random()
        self.interval = config.schedule.interval or timedelta(minutes=15)

    async def refresh_all(
        self, due: Sequence[tuple[SourceConfig, SourceState]], stop: asyncio.Event | None = None
    ) -> list[SourceResult]:
        """Refresh every due source, until all are done, `fetch.pass_deadline` passes, or
        `stop` is set (a daemon stopping: what was saved is still filed and published).
        A source cut short by the deadline counts as a failed fetch; one cut short by
        `stop` is left as it was, due, and is in no result."""
        tasks = {asyncio.create_task(self.refresh(src, st)): src for src, st in due}
        if not tasks:
            return []
        try:
            await _until_done(set(tasks), self.config.fetch.pass_deadline, stop)
        except asyncio.CancelledError:
            # The pass itself is cancelled: its refreshes go with it, before the store
            # and the fetcher they use are closed (else each ended on a closed store).
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=CANCEL_WAIT)
            raise
        done = {t for t in tasks if t.done()}
        pending = tasks.keys() - done
        for task in pending:
            task.cancel()
        if pending:  # let them end: a parse still running gets its workers killed
            await asyncio.wait(pending, timeout=CANCEL_WAIT)
        if stop is not None and stop.is_set():
            log.info("stopping: %d fetches cut short; their sources stay due", len(pending))
            pending = set()
        # Every failure is retrieved, else asyncio prints each unretrieved one with its
        # traceback at exit, under the error that ended the pass (a full disk: one per source).
        failures = [e for t in done if (e := t.exception()) is not None]
        if failures:
            raise failures[0]
        results = [t.result() for t in done]
        for task in pending:
            src = tasks[task]
            err = FetchError(
                src.url, "pass deadline reached before the fetch ended", kind="timeout"
            )
            results.append(self._failed(src, err, 0.0))
        results.sort(key=lambda r: r.source_url)
        return results

    async def refresh(self, src: SourceConfig, state: SourceState) -> SourceResult:
        started = time.monotonic()
        try:
            # Its host's turn first, then a place in hand: a source waiting for a busy
            # or hung host holds no place, so other hosts' sources are not held back.
            # The place is kept from the start of the fetch to the end of the save.
            turn = self.host_turns.setdefault(
                _host(src, state), asyncio.Semaphore(self.config.fetch.per_host)
            )
            async with turn:
                await self.in_hand.acquire()
                try:
                    started = time.monotonic()
                    result = await self._fetch(src, state)
                except BaseException:
                    self.in_hand.release()
                    raise
            try:
                outcome = await self._process(src, state, result)
            finally:
                self.in_hand.release()
        except (FetchError, ParseError) as e:
            outcome = self._failed(src, e, time.monotonic() - started)
        if self.progress:
            self.progress(outcome)
        return outcome

    async def _fetch(self, src: SourceConfig, state: SourceState) -> FetchResult:
        url = state.discovered_url or state.fetch_url
        return await fetch_for(self.fetcher, src, url, state.validators)

    async def _process(
        self, src: SourceConfig, state: SourceState, result: FetchResult
    ) -> SourceResult:
        if result.content is None:
            return self._succeeded(src, state, policy.Fetched(result, Outcome.NOT_MODIFIED))
        body_hash = hashlib.sha256(result.content).hexdigest()
        if body_hash == state.body_hash:
            return self._succeeded(src, state, policy.Fetched(result, Outcome.UNCHANGED))
        parsed, discovered = await self._parse(result, src), None
        if not parsed.entries and parsed.feed.alternates:
            discovered = parsed.feed.alternates[0]
            result, parsed = await self._discover(src, discovered)
            body_hash = hashlib.sha256(result.content or b"").hexdigest()
        derived = dict(zip((a.id for a in parsed.articles), parsed.derived, strict=True))
        new = self.store.save_articles(parsed.articles, self.now(), derived)
        # The body hash is of the body parsed: the discovered feed's, if any.
        fetched = policy.Fetched(
            result, Outcome.OK, parsed.feed, len(parsed.articles), body_hash, discovered,
            parsed.caps,
        )  # fmt: skip
        return self._succeeded(src, state, fetched, len(new))

    async def _parse(self, result: FetchResult, src: SourceConfig) -> Parsed:
        job = functools.partial(parse_body, result, src, self.now(), self.config.fetch.max_items)
        try:
            try:
                return await self._parse_bounded(job)
            except BrokenProcessPool:
                # A worker died while this parse was under way or queued, of this body
                # or of another one (or was killed for running over): once more, in the
                # pool made again, and one such parse at a time, so that the body that
                # kills its worker does not take the others' second tries with it. A
                # second death is its own failure.
                log.warning("%s: its parse worker died; parsing it once more", redact(src.url))
                async with self.retrying:
                    return await self._parse_bounded(job)
        except BrokenProcessPool as e:
            raise ParseError(src.url, "its parse killed the worker process, twice") from e
        except TimeoutError as e:
            log.warning("%s: its parse ran over %.0f s; given up", redact(src.url), PARSE_LIMIT)
            raise ParseError(
                src.url, f"its parse ran over {PARSE_LIMIT:.0f} s and was given up"
            ) from e
        except (ParseError, FeedsError, asyncio.CancelledError, MemoryError):
            raise
        except Exception as e:
            # A body that trips a bug or a library's limit (deep recursion...) is this
            # source's failure, never the pass's: one broken source never breaks a pass.
            log.error(
                "%s: parsing failed: %s",
                redact(src.url),
                e,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            raise ParseError(src.url, f"could not be parsed ({type(e).__name__}: {e})") from e

    async def _parse_bounded(self, job: Callable[[], Parsed]) -> Parsed:
        """`job`'s result, or TimeoutError once it has run PARSE_LIMIT seconds.

        In a pool, the limit counts from when a worker takes the job (its future runs),
        not from the submit: a parse queued behind others has not started. One running
        over, or still running when the pass gives up on it (the pass deadline), gets
        the pool's workers killed, else they would hold the pool's shutdown; the other
        parses under way in them are tried again (BrokenProcessPool, `_parse`).
        """
        if self.executor is None:
            async with self.parsing:
                work = in_daemon_thread(job, name="feeds-parse")
                return await asyncio.wait_for(work, PARSE_LIMIT)
        future = self.executor.submit(job)
        waiting = asyncio.wrap_future(future)
        started: float | None = None
        try:
            while True:
                done, _ = await asyncio.wait((waiting,), timeout=PARSE_CHECK)
                if done:
                    return waiting.result()
                clock = time.monotonic()
                if started is None and future.running():
                    started = clock
                if started is not None and clock - started >= PARSE_LIMIT:
                    raise TimeoutError
        except BaseException:
            queued = future.cancel()
            waiting.cancel()  # nobody reads its outcome now
            if not queued and not future.done():  # running: only a kill stops it
                stop = getattr(self.executor, "stop_workers", None)
                if stop is not None:
                    stop()
            raise

    async def _discover(self, src: SourceConfig, target: str) -> tuple[FetchResult, Parsed]:
        """The source URL is an HTML page: fetch the first feed it links to."""
        log.info("%s: HTML page, following its feed link %s", redact(src.url), target)
        result = await fetch_for(self.fetcher, src, target)
        if result.content is None:
            raise ParseError(src.url, f"discovered feed {target} sent no body")
        return result, await self._parse(result, src)

    def _succeeded(
        self, src: SourceConfig, state: SourceState, fetched: policy.Fetched, new: int = 0
    ) -> SourceResult:
        redirect = policy.RedirectTrack(
            state.redirect_target, state.redirect_seen, state.redirect_since
        )
        update = policy.after_fetch(
            fetched, redirect, now=self.now(), interval=self.interval,
            limits=self.config.fetch, rng=self.rng,
        )  # fmt: skip
        if isinstance(update.fetch_url, str):
            log.info("%s: permanently moved to %s", redact(state.url), update.fetch_url)
        self.store.update_source(src.url, update)
        result = fetched.result
        size = len(result.content or b"")
        return SourceResult(
            src.url, fetched.outcome, result.status, fetched.items, new, size, result.elapsed
        )

    def _failed(self, src: SourceConfig, err: FeedsError, elapsed: float) -> SourceResult:
        state = self.store.source(src.url)
        update = policy.after_error(
            err, state.consecutive_errors if state else 0, elapsed, now=self.now(),
            interval=self.interval, limits=self.config.fetch, rng=self.rng,
        )  # fmt: skip
        self.store.update_source(src.url, update)
        log.warning("%s", err)
        status = update.last_status if isinstance(update.last_status, int) else None
        return SourceResult(src.url, Outcome.ERROR, status, elapsed=elapsed, error=err.message)
