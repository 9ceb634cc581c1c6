"""Full text: fetch the pages that articles of `full_text` sources wait for.

Runs after a pass has published what the feeds gave, so a slow or dead site never
delays a story; an article's page text is published by the pass that gets it. Each
page is fetched once, ever, keyed by its canonical URL: a page that gave its text, or
failed for good, is never asked for again (a passing failure, such as a timeout or a
503, is retried by the next passes, `RETRIES` times in all). The same fetcher as feeds
bounds every page (address checks, redirects, deadline), with a byte cap of its own.
Politeness: one page at a time per host, `fetch.pages_per_source` pages per source per
pass, and the whole stage within `STAGE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import FetchError
from ..store import PageResult, PageWanted, Store
from ..threads import in_daemon_thread
from ..types import Config, SourceConfig
from . import _refresh

if TYPE_CHECKING:
    from ..fetch import Fetcher

log = logging.getLogger("feeds.pages")

#: Attempts at a page whose failures were passing ones, before it counts as failed.
RETRIES = 3
#: Seconds the page stage of one pass may take; pages not reached wait for the next.
STAGE_SECONDS = 120.0
#: Failures worth trying again later: the site, not the page, was the trouble.
_PASSING = frozenset({"timeout", "connect", "protocol"})


async def fetch_pages(config: Config, store: Store, fetcher: Fetcher, now: datetime) -> int:
    """Fetch and extract the pages waiting; return how many articles changed text."""
    sources = {s.url: s for s in config.sources if s.full_text != "false"}
    per_source = config.fetch.pages_per_source
    if not sources or per_source < 1:
        return 0
    wanted = store.pages_wanted(sorted(sources), per_source)
    if not wanted:
        return 0
    known = store.page_outcomes(sorted({w.canonical_url for w in wanted}))
    fresh: dict[str, PageWanted] = {}
    for w in wanted:
        if w.canonical_url not in known or known[w.canonical_url][0] == "retry":
            fresh.setdefault(w.canonical_url, w)
    results = [
        # A passing failure tried `RETRIES` times is a failure for good.
        PageResult(r.url, "failed", r.detail)
        if r.outcome == "retry" and known.get(r.url, ("", 0))[1] + 1 >= RETRIES
        else r
        for r in await _fetch_all(list(fresh.values()), sources, fetcher)
    ]
    outcomes = {url: outcome for url, (outcome, _) in known.items()}
    outcomes.update((r.url, r.outcome) for r in results)
    applied = [
        (w.article_id, "page" if outcomes[w.canonical_url] == "extracted" else "failed")
        for w in wanted
        if outcomes.get(w.canonical_url, "retry") != "retry"
    ]
    store.save_pages(results, applied, now)
    got = sum(1 for _, source in applied if source == "page")
    log.info(
        "full text: %d pages fetched, %d articles with page text, %d failed",
        len(results), got, len(applied) - got,
    )  # fmt: skip
    return len(applied)


async def _fetch_all(
    wanted: Sequence[PageWanted], sources: dict[str, SourceConfig], fetcher: Fetcher
) -> list[PageResult]:
    by_host: dict[str, list[PageWanted]] = defaultdict(list)
    for w in wanted:
        by_host[urlsplit(w.url).hostname or ""].append(w)
    results: list[PageResult] = []

    async def one_host(pages: list[PageWanted]) -> None:
        for w in pages:  # one request at a time per host
            results.append(await _fetch_one(w, sources[w.source_url], fetcher))

    tasks = [asyncio.create_task(one_host(pages)) for pages in by_host.values()]
    if not tasks:
        return []
    _, late = await asyncio.wait(tasks, timeout=STAGE_SECONDS)
    for task in late:
        task.cancel()
    if late:
        await asyncio.gather(*late, return_exceptions=True)
        log.warning("full text: stage time (%g s) reached; the rest next pass", STAGE_SECONDS)
    return results


async def _fetch_one(wanted: PageWanted, source: SourceConfig, fetcher: Fetcher) -> PageResult:
    from .. import fulltext, normalize
    from ..fetch import ACCEPT_PAGE

    key = wanted.canonical_url
    try:
        got = await fetcher.fetch(
            wanted.url, source_url=wanted.url, max_bytes=fulltext.MAX_PAGE_BYTES,
            user_agent=source.user_agent, accept=ACCEPT_PAGE,
        )  # fmt: skip
    except FetchError as e:
        passing = e.kind in _PASSING or (e.status is not None and e.status in (429, 503))
        log.info("full text: %s: %s", wanted.url, e.message)
        return PageResult(key, "retry" if passing else "failed", e.message)
    kind = dict(got.headers).get("content-type", "text/html").split(";")[0].strip().lower()
    if kind not in ("text/html", "application/xhtml+xml", ""):
        return PageResult(key, "failed", f"not an HTML page ({kind})")
    feed_text = len(normalize.plain_text(wanted.feed_html))
    page = got.content or b""
    # In a daemon thread, given up at the parse limit: a page that keeps the extractor
    # running holds neither the pass nor the process's exit (`threads`).
    job = functools.partial(fulltext.extract, page, got.url, feed_text=feed_text)
    limit = _refresh.PARSE_LIMIT
    try:
        found = await asyncio.wait_for(in_daemon_thread(job, name="feeds-page"), limit)
    except TimeoutError:
        log.warning("full text: %s: the extractor ran over %.0f s", wanted.url, limit)
        return PageResult(key, "failed", f"the extractor ran over {limit:.0f} s")
    if not found.html:
        return PageResult(key, "failed", found.reason)
    return PageResult(key, "extracted", "", found.html)
