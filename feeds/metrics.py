"""Prometheus metrics (opt-in, `metrics:`); the only module that imports prometheus-client.

Two kinds, rendered into one text:

- counters of what this process did (passes and their durations, fetches by status
  class, bytes, new articles, stories published), kept in a registry of its own;
- gauges read from the store at each scrape (`Snapshot`): sources failing by
  consecutive errors, each source's last success, the last pass of any runner, and
  the age of each published file. The store knows these whichever process or machine
  did the work, so every scrape of every worker tells the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from .guard import redact
from .store import PassRecord, SourceHealth, SourceState, Store
from .types import Config, Outcome, PassResult, SourceResult

__all__ = ["CONTENT_TYPE", "Metrics", "Snapshot", "snapshot", "status_class"]

#: The classic text format, which `generate_latest` writes and every Prometheus reads
#: (prometheus-client 0.22+ calls "latest" a 1.0.0 that Prometheus 2 does not know).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Buckets of consecutive errors for `feeds_sources_failing` (the last one is open).
ERROR_BUCKETS = ((1, 1), (2, 4), (5, 9), (10, None))
_PASS_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


def status_class(result: SourceResult) -> str:
    """ "2xx", "3xx" (304), "4xx", "5xx", or "none" when no HTTP answer came."""
    return f"{result.status // 100}xx" if result.status else "none"


def pass_outcome(result: PassResult) -> str:
    """ "ok", or "partial" when a source failed (which does not fail a pass)."""
    return "partial" if result.count(Outcome.ERROR) else "ok"


class Metrics:
    """This process's counters; `render` adds the store's gauges of the moment."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.pass_seconds = Histogram(
            "feeds_pass_duration_seconds", "Duration of a pass (worker: of a publish)",
            ["outcome"], buckets=_PASS_BUCKETS, registry=r,
        )  # fmt: skip
        self.passes = Counter(
            "feeds_passes", "Passes run, by outcome (ok, partial, failed)", ["outcome"], registry=r
        )
        self.fetches = Counter(
            "feeds_fetches", "Source fetches, by HTTP status class", ["status_class"], registry=r
        )
        self.bytes = Counter("feeds_fetched_bytes", "Body bytes fetched", registry=r)
        self.articles = Counter("feeds_articles_new", "New or changed articles saved", registry=r)
        self.stories = Counter(
            "feeds_stories_published", "Stories created or changed by a pass", registry=r
        )
        self.telegram = Counter(
            "feeds_telegram_messages", "Telegram messages, by what became of them",
            ["action"], registry=r,
        )  # fmt: skip
        self.last_pass = Gauge(
            "feeds_process_last_pass_timestamp_seconds",
            "When this process last finished a pass",
            registry=r,
        )

    def observe_telegram(self, counts: Any) -> None:
        """A pass's `telegram.Counts`."""
        for action in ("sent", "edited", "failed", "unknown"):
            self.telegram.labels(action).inc(getattr(counts, action))

    def observe_source(self, result: SourceResult) -> None:
        if result.outcome is Outcome.SKIPPED:
            return
        self.fetches.labels(status_class(result)).inc()
        self.bytes.inc(result.bytes)
        self.articles.inc(result.new)

    def observe_pass(
        self, result: PassResult | None, seconds: float, finished: datetime, *, sources: bool
    ) -> None:
        """A pass that ended (`result` None: it failed). `sources`: count its fetches
        here (a worker counts each fetch as its task ends instead)."""
        outcome = "failed" if result is None else pass_outcome(result)
        self.passes.labels(outcome).inc()
        self.pass_seconds.labels(outcome).observe(seconds)
        if result is None:
            return
        self.last_pass.set(finished.timestamp())
        self.stories.inc(result.stories_published)
        if sources:
            for r in result.sources:
                self.observe_source(r)

    def render(self, snap: Snapshot | None) -> bytes:
        text = generate_latest(self.registry)
        if snap is None:
            return text
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_SnapshotCollector(snap))
        return text + generate_latest(scrape)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the store and output_dir say at one scrape."""

    now: datetime
    sources: Sequence[SourceState]
    health: dict[str, SourceHealth]
    last_pass: PassRecord | None
    file_mtimes: dict[str, float]


def snapshot(store: Store, config: Config, now: datetime) -> Snapshot:
    from .pipeline import publish_names

    mtimes = {}
    for name in publish_names(config):
        try:
            mtimes[name] = os.stat(os.path.join(config.output_dir, name)).st_mtime
        except OSError:
            continue  # not published yet: no age to tell
    return Snapshot(now, store.sources(), store.source_health(), store.last_pass(), mtimes)


class _SnapshotCollector:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        snap = self.snap
        failing = GaugeMetricFamily(
            "feeds_sources_failing", "Sources whose last fetches failed, by consecutive errors",
            labels=["consecutive_errors"],
        )  # fmt: skip
        for low, high in ERROR_BUCKETS:
            count = sum(
                1 for s in snap.sources
                if s.consecutive_errors >= low and (high is None or s.consecutive_errors <= high)
            )  # fmt: skip
            label = f"{low}+" if high is None else (str(low) if low == high else f"{low}-{high}")
            failing.add_metric([label], count)
        yield failing
        errors = GaugeMetricFamily(
            "feeds_source_consecutive_errors", "Consecutive failed fetches of a source",
            labels=["source"],
        )  # fmt: skip
        success = GaugeMetricFamily(
            "feeds_source_last_success_timestamp_seconds",
            "When a source was last fetched successfully",
            labels=["source"],
        )
        for s in snap.sources:
            label = redact(s.url)  # a source URL's user:password@ never reaches a scrape
            errors.add_metric([label], s.consecutive_errors)
            seen = snap.health.get(s.url)
            if seen is not None and seen.last_success is not None:
                success.add_metric([label], seen.last_success.timestamp())
        yield errors
        yield success
        yield from self._passes_and_files()

    def _passes_and_files(self) -> Iterator[Metric]:
        snap = self.snap
        if snap.last_pass is not None:
            yield GaugeMetricFamily(
                "feeds_last_pass_timestamp_seconds",
                "When a pass (any runner, any machine) last finished",
                value=snap.last_pass.finished.timestamp(),
            )
        ages = GaugeMetricFamily(
            "feeds_feed_file_age_seconds", "Seconds since a published file last changed",
            labels=["file"],
        )  # fmt: skip
        for name, mtime in sorted(snap.file_mtimes.items()):
            ages.add_metric([name], max(0.0, snap.now.timestamp() - mtime))
        yield ages
