"""One pass: the only module that sequences I/O.

``run_pass`` fetches the due sources concurrently, parses and normalizes each body as
it arrives, saves articles in one short transaction per source, then clusters the new
articles into stories, classifies them and publishes. A source that fails becomes a
`SourceResult` with its error recorded on the source row; it never stops the pass.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import filelock

# The stages below the fetch (parse, normalize, dedupe, classify, stories, publish) are
# imported where they are first used: a pass where every source answers 304 needs
# none of them, and importing them (numpy, feedparser, ftfy, nh3, feedgen...) would be
# most of its time.
from . import policy, pool
from .errors import FeedsError, FetchError, LockedError, ParseError
from .store import MatchRow, SourceState, Store, is_server_url, open_store
from .types import (
    Article,
    Config,
    FetchResult,
    Outcome,
    ParsedFeed,
    PassResult,
    SourceConfig,
    SourceResult,
)

if TYPE_CHECKING:
    from . import dedupe
    from .fetch import Fetcher

__all__ = [
    "cluster",
    "cluster_and_publish",
    "open_for",
    "pass_lock",
    "publish_all",
    "refresh_source",
    "run_pass",
    "run_pass_async",
    "utc_now",
]

log = logging.getLogger("feeds.pipeline")

Clock = Callable[[], datetime]
Progress = Callable[[SourceResult], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


def lock_path(config: Config) -> str:
    """One lock per store: beside the SQLite file, or in output_dir for a server store."""
    if is_server_url(config.database):
        return os.path.join(config.output_dir, ".feeds.lock")
    return config.database + ".lock"


@contextmanager
def pass_lock(config: Config) -> Iterator[None]:
    """Hold the store's pass lock, or raise LockedError at once if another pass has it."""
    path = lock_path(config)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        lock = filelock.FileLock(path, timeout=0)
        lock.acquire()
    except filelock.Timeout as e:
        raise LockedError("another pass is running on this store", subject=path) from e
    except OSError as e:
        raise FeedsError(f"cannot create the lock file ({e.strerror})", subject=path) from e
    try:
        yield
    finally:
        lock.release()


@contextmanager
def open_for(config: Config) -> Iterator[Store]:
    store = open_store(config.database)
    try:
        yield store
    finally:
        store.close()


#: (match_features, topic_scores) of one article, as the store keeps them.
Derived = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What `parse_body` hands back (across a process boundary on a large pass)."""

    feed: ParsedFeed  # without its entries: the articles carry what is kept of them
    articles: tuple[Article, ...]
    derived: tuple[Derived, ...] = ()  # one per article, in order
    entries: int = 0  # how many entries the body had


def derive(article: Article) -> tuple[str, str]:
    """What clustering and classifying need of one article, as stored texts.

    Computed where the article is made (in the pool's processes on a large pass), so
    the single-process end of the pass only reads it back.
    """
    from . import classify, dedupe

    prepared = dedupe.Prepared.of(article.title_key, article.text_key)
    scores = classify.key_scores(article.title_key, article.text_key)
    return prepared.dumps(), classify.dumps_scores(scores)


def parse_body(result: FetchResult, source: SourceConfig, first_seen: datetime) -> _Parsed:
    """CPU-bound half of a source's refresh: bytes to Articles (runs in an executor)."""
    from . import normalize, parse

    feed = parse.parse(result)
    articles = []
    for entry in feed.entries:
        art = normalize.article(
            entry, feed, source, fetched_at=result.fetched_at, first_seen=first_seen
        )
        if art is not None:
            articles.append(art)
    derived = tuple(derive(a) for a in articles)
    # The raw entries stay here: pickling them back would double what crosses over.
    return _Parsed(replace(feed, entries=()), tuple(articles), derived, len(feed.entries))


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
) -> PassResult:
    store.sync_sources(config.sources)
    due = store.due_sources(now(), every=every)
    _prepare_pool(executor, due)
    by_url = {s.url: s for s in config.sources}
    own_fetcher = fetcher is None
    if fetcher is None:
        from .fetch import Fetcher  # here, not above: the parse workers import this module

        fetcher = Fetcher(config.fetch)
    refresher = _Refresher(config, store, fetcher, now, executor, progress)
    try:
        started = now()
        results = await refresher.refresh_all([(by_url[s.url], s) for s in due])
        _release_workers(executor)
        refresher.warmer.join()
        # In a thread: clustering and rendering are seconds of CPU that would otherwise
        # stall the event loop, and with it the HTTP server of `feeds serve`.
        touched, written = await asyncio.to_thread(
            cluster_and_publish, config, store, now(), since=started
        )
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


@functools.cache
def _parse_thread() -> ThreadPoolExecutor:
    """Where parsing runs without a process pool: one thread, off the event loop.

    One, not the loop's default pool of up to 32: parsing holds the GIL, so more
    threads parse no faster and only fight over it (a 200-source pass spent twice the
    CPU doing so).
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="feeds-parse")


def _release_workers(executor: Executor | None) -> None:
    """Stop the parse pool's processes before the single-process end of the pass.

    Clustering and publishing run here alone; the idle workers would only add their
    memory to the pass's peak. A `LazyProcessPool` starts them again on its next use.
    """
    if isinstance(executor, pool.LazyProcessPool):
        executor.shutdown(wait=True)


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
    _prepare_pool(executor, [state])
    return await _Refresher(config, store, fetcher, now, executor, None).refresh(src, state)


def _prepare_pool(executor: Executor | None, due: Sequence[SourceState]) -> None:
    """Start a process pool's forkserver now if a due source was never read.

    Such a source will almost surely send a body to parse, so the forkserver's imports
    (which the first parse waits for) start before the fetcher is even made, beside its
    own imports (httpx) and the first requests. Sources all read before start nothing.
    """
    if isinstance(executor, pool.LazyProcessPool) and any(s.body_hash is None for s in due):
        executor.prepare()


def cluster_and_publish(
    config: Config, store: Store, now: datetime, *, since: datetime
) -> tuple[set[str], tuple[str, ...]]:
    """The single-writer end of a pass: cluster what is unassigned, then publish.

    Returns the stories touched at or after `since` and the files written.
    """
    touched = cluster(store, now, since=since)
    written = publish_all(config, store)
    if config.retention_days:
        from . import maintenance

        # After publishing: retention keeps exactly the stories the feeds now show.
        purged = maintenance.retention(store, config, now)
        log.info("retention: %d old articles removed", purged)
    return touched, written


class _TailWarmer:
    """Imports the end of a pass (clustering, topics, publishing) in a thread, once.

    Those modules are first imported by the single-process tail of a pass, where they
    cost about 0.15 s in which nothing else runs. A pass that saved a new article will
    cluster and publish, so as soon as one is saved, while the process pool still
    parses, their imports run in this thread on the main process's idle share of a
    core. A pass where every source answers 304 saves nothing and imports none of them.
    """

    MODULES = ("feeds.dedupe", "feeds.classify", "feeds.stories", "feeds.publish")

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the imports once (called from the pass's event loop only)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="feeds-warm-tail", daemon=True)
            self._thread.start()

    def join(self) -> None:
        """Wait for the imports, so the tail never imports beside this thread."""
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        for name in self.MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # the tail imports it again, and reports what failed
                log.debug("warming %s failed", name, exc_info=True)


class _Refresher:
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
        self.rng = random.Random()
        self.warmer = _TailWarmer()

    async def refresh_all(
        self, due: Sequence[tuple[SourceConfig, SourceState]]
    ) -> list[SourceResult]:
        tasks = {asyncio.create_task(self.refresh(src, st)): src for src, st in due}
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, timeout=self.config.fetch.pass_deadline)
        for task in pending:
            task.cancel()
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
            result = await self._fetch(src, state)
            outcome = await self._process(src, state, result)
        except (FetchError, ParseError) as e:
            outcome = self._failed(src, e, time.monotonic() - started)
        if self.progress:
            self.progress(outcome)
        return outcome

    async def _fetch(self, src: SourceConfig, state: SourceState) -> FetchResult:
        url = state.discovered_url or state.fetch_url
        return await self.fetcher.fetch(
            url,
            state.validators,
            source_url=src.url,
            max_bytes=src.max_bytes,
            user_agent=src.user_agent,
        )

    async def _process(
        self, src: SourceConfig, state: SourceState, result: FetchResult
    ) -> SourceResult:
        if result.content is None:
            return self._succeeded(src, state, result, Outcome.NOT_MODIFIED, None, 0, 0)
        body_hash = hashlib.sha256(result.content).hexdigest()
        if body_hash == state.body_hash:
            return self._succeeded(src, state, result, Outcome.UNCHANGED, None, 0, 0)
        parsed = await self._parse(result, src)
        if not parsed.entries and parsed.feed.alternates:
            result, parsed = await self._discover(src, state, parsed.feed.alternates)
            body_hash = hashlib.sha256(result.content or b"").hexdigest()
        derived = dict(zip((a.id for a in parsed.articles), parsed.derived, strict=True))
        new = self.store.save_articles(parsed.articles, self.now(), derived)
        if new and isinstance(self.executor, pool.LazyProcessPool):
            self.warmer.start()  # the main process only waits on the pool meanwhile
        fields = {"body_hash": body_hash}  # of the body parsed: the discovered feed's, if any
        return self._succeeded(
            src, state, result, Outcome.OK, parsed.feed, len(parsed.articles), len(new), **fields
        )

    async def _parse(self, result: FetchResult, src: SourceConfig) -> _Parsed:
        loop = asyncio.get_running_loop()
        executor = self.executor or _parse_thread()
        return await loop.run_in_executor(executor, parse_body, result, src, self.now())

    async def _discover(
        self, src: SourceConfig, state: SourceState, alternates: Sequence[str]
    ) -> tuple[FetchResult, _Parsed]:
        """The source URL is an HTML page: fetch the first feed it links to."""
        target = alternates[0]
        log.info("%s: HTML page, following its feed link %s", src.url, target)
        result = await self.fetcher.fetch(
            target, source_url=src.url, max_bytes=src.max_bytes, user_agent=src.user_agent
        )
        if result.content is None:
            raise ParseError(src.url, f"discovered feed {target} sent no body")
        parsed = await self._parse(result, src)
        self.store.update_source(src.url, discovered_url=target)
        return result, parsed

    def _succeeded(
        self,
        src: SourceConfig,
        state: SourceState,
        result: FetchResult,
        outcome: Outcome,
        feed: ParsedFeed | None,
        items: int,
        new: int,
        **extra: object,
    ) -> SourceResult:
        now = self.now()
        due = policy.next_due_ok(
            now,
            interval=_interval(self.config),
            headers=result.headers,
            ttl_minutes=feed.ttl_minutes if feed else None,
            limits=self.config.fetch,
            rng=self.rng,
        )
        fields: dict[str, object] = {
            "last_fetch": now, "last_status": result.status, "last_outcome": outcome.value,
            "last_error": None, "consecutive_errors": 0, "next_due": due,
            "bytes": len(result.content or b""), "duration": round(result.elapsed, 3),
            "validators": result.validators, **extra,
        }  # fmt: skip
        if feed is not None:
            fields["items"] = items
            fields["repair"] = feed.repair
        fields.update(self._redirect_fields(state, result, now))
        self.store.update_source(src.url, **fields)
        return SourceResult(
            src.url, outcome, result.status, items, new, len(result.content or b""), result.elapsed
        )

    def _redirect_fields(
        self, state: SourceState, result: FetchResult, now: datetime
    ) -> dict[str, object]:
        before = policy.RedirectTrack(
            state.redirect_target, state.redirect_seen, state.redirect_since
        )
        track, adopt = policy.track_redirect(before, result.permanent_redirect, now)
        fields: dict[str, object] = {
            "redirect_target": track.target,
            "redirect_seen": track.seen,
            "redirect_since": track.since,
        }
        if adopt and track.target:
            log.info("%s: permanently moved to %s", state.url, track.target)
            fields["fetch_url"] = track.target
        return fields

    def _failed(self, src: SourceConfig, err: FeedsError, elapsed: float) -> SourceResult:
        now = self.now()
        state = self.store.source(src.url)
        errors = (state.consecutive_errors if state else 0) + 1
        status = getattr(err, "status", None)
        fields: dict[str, object] = {
            "last_fetch": now, "last_status": status, "last_outcome": Outcome.ERROR.value,
            "last_error": err.message, "consecutive_errors": errors,
            "duration": round(elapsed, 3),
            "next_due": policy.next_due_error(
                now, error_kind=getattr(err, "kind", "parse"), status=status,
                retry_after=getattr(err, "retry_after", None), consecutive_errors=errors,
                interval=_interval(self.config), limits=self.config.fetch, rng=self.rng,
            ),
        }  # fmt: skip
        if policy.is_gone(status):
            fields["disabled_reason"] = "410 Gone: the publisher removed this feed"
        self.store.update_source(src.url, **fields)
        log.warning("%s", err)
        return SourceResult(src.url, Outcome.ERROR, status, elapsed=elapsed, error=err.message)


def _interval(config: Config) -> timedelta:
    return config.schedule.interval or timedelta(minutes=15)


def cluster(store: Store, now: datetime, *, since: datetime) -> set[str]:
    """Put every article that has no story yet into one; classify the stories touched.

    Works from the store, not from this pass's memory, so articles saved by a pass that
    was killed before this step (or by a distributed worker) are clustered by the next.
    Reads no bodies: each article's features and signature were stored beside it by the
    parse stage (`derive`); rows stored without them are computed now and backfilled.
    Returns the ids of stories created or changed at or after `since`.
    """
    pending = store.unassigned_match_rows()
    topics: dict[str, tuple[tuple[str, ...], bool]] = {}
    if pending:
        from . import dedupe

        recent = _neighbours(store, pending)
        _backfill(store, recent)
        _backfill(store, pending)
        # Each row's preparation is decoded just before it is indexed or filed, not all
        # at once; the generator lets go of `recent` once it has read it. The store lists
        # `pending` oldest first, ties by id: the order `dedupe.assign_pending` wants.
        stored = _members(recent)
        del recent
        scores = {r.id: r.topic_scores for r in pending}
        assigned = dedupe.assign_pending(stored, _members(pending), window=dedupe.WINDOW)
        del pending
        topics = _new_story_topics(assigned, scores)
        store.assign(assigned, now, topics)
    touched = set(store.stories_updated_since(since))
    # New stories got their topics with their filing (`store.assign`). The rest are a
    # later write: a pass killed before it leaves them unclassified, and the next pass
    # (with its own `since`) classifies them.
    _classify(store, sorted(touched.difference(topics).union(store.unclassified_stories())))
    return touched


def _neighbours(store: Store, pending: Sequence[MatchRow]) -> list[MatchRow]:
    """The stored articles `pending` could join: those within the fuzzy tiers' window of
    the earliest pending article, plus any, however old, with the same URL or guid.

    Only these are indexed, so a pass with a few new articles does not rebuild an index
    over days of stored ones."""
    from . import dedupe

    earliest = min(r.published for r in pending) - dedupe.WINDOW
    near = store.match_rows_since(earliest)
    ids = {r.id for r in near}
    urls = [r.canonical_url for r in pending if r.canonical_url]
    guids = [r.guid for r in pending if r.guid and r.guid.lower().startswith(("http:", "https:"))]
    same = [r for r in store.match_rows_by_identity(urls, guids) if r.id not in ids]
    return sorted([*near, *same], key=lambda r: (r.published, r.id))


def _backfill(store: Store, rows: list[MatchRow]) -> None:
    """Compute what rows stored before schema 3, or with another alias table, lack."""
    from . import dedupe

    missing = [r.id for r in rows if not dedupe.Prepared.current(r.match_features)]
    if not missing:
        return
    keys = store.article_keys(missing)
    fresh = {aid: dedupe.Prepared.of(keys[aid][1], keys[aid][2]).dumps() for aid in missing}
    store.set_derived({aid: (text, None) for aid, text in fresh.items()})
    rows[:] = [replace(r, match_features=fresh[r.id]) if r.id in fresh else r for r in rows]


def _members(rows: Iterable[MatchRow]) -> Iterator[dedupe.Member]:
    """Each row as the index's Member, its preparation decoded only when it is reached."""
    from . import dedupe  # once per pass, not once per row

    for row in rows:
        prepared = dedupe.Prepared.loads(row.match_features)
        assert prepared is not None  # `_backfill` left every row's current
        yield dedupe.Member(
            row.id, row.story_id or "", row.source_url, row.canonical_url, row.guid,
            row.title_key, row.published, prepared,
        )  # fmt: skip


def _new_story_topics(
    assigned: Sequence[tuple[str, str, bool]], scores: Mapping[str, str | None]
) -> dict[str, tuple[tuple[str, ...], bool]]:
    """(topics, is_tech) of the stories this filing created, from their articles' stored
    scores (`scores`, by article id), as `_classify` would compute them.

    A created story holds only articles filed now, all in `assigned`. One with an
    article whose scores are missing or stale is left out, for `_classify`.
    """
    from . import classify

    created = {sid for _, sid, new in assigned if new}
    members: dict[str, list[str]] = {}
    for aid, sid, _ in assigned:
        if sid in created:
            members.setdefault(sid, []).append(aid)
    out: dict[str, tuple[tuple[str, ...], bool]] = {}
    for sid, aids in members.items():
        # By article id: the order `_classify` sums in, so the same floats come out.
        per_article = [classify.loads_scores(scores.get(aid)) for aid in sorted(aids)]
        if all(s is not None for s in per_article):
            out[sid] = classify.combine(s for s in per_article if s is not None)
    return out


def _classify(store: Store, story_ids: Sequence[str]) -> None:
    """A story's topics from its articles' stored scores (`classify.combine`)."""
    from . import classify

    rows = store.score_rows(story_ids)
    scores = {r.id: classify.loads_scores(r.topic_scores) for r in rows}
    missing = [aid for aid, s in scores.items() if s is None]
    if missing:
        keys = store.article_keys(missing)
        fresh = {aid: classify.key_scores(keys[aid][1], keys[aid][2]) for aid in missing}
        store.set_derived({aid: (None, classify.dumps_scores(s)) for aid, s in fresh.items()})
        scores.update(fresh)
    by_story: dict[str, list[Mapping[str, float]]] = {}
    for row in rows:  # by story, then article id: the same sums on every run
        by_story.setdefault(row.story_id, []).append(scores[row.id] or {})
    store.set_topics({sid: classify.combine(arts) for sid, arts in by_story.items()})


def publish_all(config: Config, store: Store) -> tuple[str, ...]:
    """Render every configured feed from the store and write the files that changed.

    Most passes find nothing new. When neither the store nor the publishing config has
    changed since the last publish, and every file is still there, rendering would give
    the same bytes: skip it (it reads thousands of stories). The fingerprint is written
    last, so a pass killed mid-publish renders everything again next time.
    """
    stamp = _publish_fingerprint(config, store)
    marker = fingerprint_path(config)
    if _read(marker) == stamp and all(
        os.path.exists(os.path.join(config.output_dir, name)) for name in publish_names(config)
    ):
        return ()
    from . import publish, stories

    written = publish.publish(config, stories.select(config, store))
    publish.write_atomic(marker, stamp)
    return written


def fingerprint_path(config: Config) -> str:
    """Where the digest of what was last published is kept: beside the pass lock."""
    return lock_path(config).removesuffix(".lock") + ".published"


def publish_names(config: Config) -> tuple[str, ...]:
    feeds = (f"{f.slug}.{ext}" for f in config.feeds for ext in ("rss", "atom", "json"))
    return (*feeds, "index.html", "feeds.opml")


def _publish_fingerprint(config: Config, store: Store) -> bytes:
    # Everything of the config that reaches a published byte (all but fetch/schedule).
    relevant = (
        config.title, config.base_url, config.language, config.websub_hub,
        config.feeds, [(s.url, s.name, s.priority, s.filter_topics) for s in config.sources],
    )  # fmt: skip
    text = f"{_renderer_digest()}\n{relevant!r}\n{store.change_marker()}"
    return hashlib.sha256(text.encode()).hexdigest().encode() + b"\n"


@functools.cache
def _renderer_digest() -> str:
    """A digest of the code that turns stories into bytes: an upgrade republishes.

    Read from the files, without importing them: a pass that publishes nothing never
    imports the renderers."""
    here = os.path.dirname(__file__)
    folder = os.path.join(here, "publish")
    files = [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".py")]
    digest = hashlib.sha256()
    for path in (*files, os.path.join(here, "stories.py")):
        digest.update(_read(path) or b"")
    return digest.hexdigest()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None
