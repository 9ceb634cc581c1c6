"""`feeds serve`: passes on a schedule, and the HTTP server, in one event loop.

The only module that imports APScheduler. What is due lives in the store (each source's
`next_due`), not in the scheduler: there is one code-defined "tick" job in memory that
runs a pass over whatever is due, like `feeds run` from cron would (research/scale.md
§3.2). The job has ``max_instances=1`` and ``coalesce=True``, so a slow pass delays the
next tick instead of overlapping it, and ticks missed meanwhile collapse into one.

Each tick takes the store's pass lock. When someone else holds it (a cron `feeds run`,
a second daemon) the tick is skipped, not queued. Between ticks nothing is held.

On SIGTERM or SIGINT: no new tick starts; the pass in flight may finish. Its fetches
get `FETCH_GRACE_S`; those still running then are stopped (their sources stay due)
and the pass files and publishes what it saved, up to `DRAIN_S` in all; then it is
cancelled, which can only happen before its atomic writes. The HTTP server stops;
exit 0, within the 30 s systemd and the contract allow.
APScheduler 3.x cannot do this itself: ``AsyncIOExecutor.shutdown`` cancels running
coroutine jobs ("there is no way to honor wait=True").
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import health, logs, pipeline, sdnotify
from .errors import ConfigError, FeedsError, LockedError, Problem, PublishError
from .guard import redact
from .store import Store
from .types import Config, Outcome, PassResult, ScheduleConfig

if TYPE_CHECKING:
    from .ops import Operator
    from .serve import HttpServer

__all__ = ["DRAIN_S", "FETCH_GRACE_S", "Daemon", "max_age", "serve", "trigger"]

log = logging.getLogger("feeds.schedule")

#: Longest wait for the pass in flight after SIGTERM; the HTTP server then has up to
#: 5 s to finish its responses, which keeps the whole stop under 30 s.
DRAIN_S = 20.0
#: How long the fetches of the pass in flight may go on after SIGTERM: a source that
#: trickles its body for the whole `fetch.timeout` (30 s) would otherwise hold the pass
#: past `DRAIN_S`, and it was cancelled, publishing nothing of the other sources.
FETCH_GRACE_S = 5.0
#: Jitter added to each tick: a tenth of the period, at most this many seconds.
JITTER_MAX_S = 60.0
_DEFAULT = timedelta(minutes=15)
#: Crontab weekday numbers: 0 and 7 are Sunday. APScheduler 3.x numbers from Monday
#: (its from_crontab mis-reads "1-5", issue agronholm/apscheduler#286), so we pass names.
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class RunPass(Protocol):
    def __call__(
        self, config: Config, store: Store, *, now: Callable[[], datetime], stop: asyncio.Event
    ) -> Awaitable[PassResult]: ...


# --------------------------------------------------------------------------- triggers


def _cron_weekdays(field: str) -> str:
    """A crontab day-of-week field as APScheduler day names ("1-5" → "mon,…,fri")."""
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step = part.partition("/")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = _cron_day(first), _cron_day(last)
        else:
            low = high = _cron_day(span)
            high = 7 if step else high  # "1/2" runs from 1 to the end, as in Vixie cron
        if low > high or (step and not step.isdigit()) or step == "0":
            raise ValueError(f"bad day-of-week {part!r}")
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def _cron_day(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text[:3] in _CRON_DAYS:
        return _CRON_DAYS.index(text[:3])
    raise ValueError(f"bad day of week {text!r}")


def _cron(expr: str, jitter: float | None = None) -> CronTrigger:
    """A crontab line in the machine's local time, as cron itself reads it.

    One difference stays: when both day-of-month and day-of-week are restricted, cron
    runs on either and APScheduler only on days matching both.
    """
    minute, hour, day, month, weekday = expr.split()
    if weekday != "*":
        weekday = _cron_weekdays(weekday)
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, jitter=jitter
    )


def _period(schedule: ScheduleConfig, now: datetime) -> float:
    """Seconds between two ticks (for a cron line: between its next two times)."""
    if schedule.cron is None:
        return (schedule.interval or _DEFAULT).total_seconds()
    cron = _cron(schedule.cron)
    first = cron.get_next_fire_time(None, now)
    second = cron.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return max(1.0, (second - first).total_seconds()) if first and second else 86400.0


def cron_problem(expr: str, now: datetime | None = None) -> str | None:
    """Why `serve` could not run on the crontab line `expr` (a value out of range, a
    line that never fires: "* * 31 2 *"), or None. For `feeds check`."""
    try:
        cron = _cron(expr)
    except ValueError as e:
        return str(e)
    if cron.get_next_fire_time(None, now or datetime.now(UTC)) is None:
        return f"{expr!r} never runs"
    return None


def trigger(config: Config, now: datetime | None = None) -> IntervalTrigger | CronTrigger:
    """The tick's trigger; a crontab line APScheduler refuses, or one that never fires,
    is a ConfigError."""
    schedule = config.schedule
    now = now or datetime.now(UTC)
    if schedule.cron is not None and (why := cron_problem(schedule.cron, now)):
        raise ConfigError([Problem(config.path, None, "schedule.cron", why)])
    jitter = min(_period(schedule, now) / 10, JITTER_MAX_S)
    if schedule.cron is not None:
        return _cron(schedule.cron, jitter)
    seconds = (schedule.interval or _DEFAULT).total_seconds()
    return IntervalTrigger(seconds=seconds, jitter=jitter, timezone=UTC)


def max_age(config: Config, now: datetime | None = None) -> int:
    """Cache-Control max-age for the published files: nothing changes sooner."""
    try:
        return max(1, int(_period(config.schedule, now or datetime.now(UTC))))
    except ValueError:
        return int(_DEFAULT.total_seconds())


# --------------------------------------------------------------------------- the tick


class Daemon:
    """The tick job and the pass it may have in flight."""

    def __init__(
        self,
        config: Config,
        *,
        run: RunPass = pipeline.run_pass_async,
        now: Callable[[], datetime] = pipeline.utc_now,
        operator: Operator | None = None,
    ) -> None:
        from .ops import Operator

        self.config = config
        self._run, self._now = run, now
        self._inflight: asyncio.Task[PassResult | None] | None = None
        self.stopping = False
        self._stop_fetching = asyncio.Event()  # set while stopping, once the grace is over
        self.operator = operator or Operator(config, now=now)

    async def tick(self) -> PassResult | None:
        """Run one pass unless stopping or locked out; None when no pass ran."""
        if self.stopping:
            return None
        task = asyncio.create_task(self._locked_pass())
        self._inflight = task
        # The pass is its own task so stopping can wait for it, or cancel it, without
        # APScheduler's executor seeing the job itself cancelled.
        await asyncio.wait({task})
        return None if task.cancelled() else task.result()

    async def _locked_pass(self) -> PassResult | None:
        pass_id, started = health.new_pass_id(), self._now()
        try:
            with (
                logs.pass_context(pass_id),
                pipeline.pass_lock(self.config),
                pipeline.open_for(self.config) as store,
            ):
                result = await self._run(
                    self.config, store, now=self._now, stop=self._stop_fetching
                )
                finished = self._now()
                _log_result(result, (finished - started).total_seconds())
                await asyncio.to_thread(
                    self.operator.after_pass, store, result, pass_id=pass_id,
                    started=started, finished=finished, should_stop=lambda: self.stopping,
                )  # fmt: skip
        except LockedError as e:
            log.info("tick skipped: %s", e)
            return None
        except FeedsError as e:  # the next tick may work (disk full, store busy...)
            log.error("pass failed: %s", e, extra={"pass_id": pass_id})
            self.operator.failed_pass(started, self._now())
            return None
        return result

    async def drain(self, timeout: float = DRAIN_S) -> bool:
        """Stop starting passes; wait up to `timeout` s for the one in flight, then
        cancel it. True when no pass was cut short."""
        self.stopping = True
        task = self._inflight
        if task is None or task.done():
            return True
        log.info("stopping: waiting up to %g s for the pass in flight", timeout)
        grace = min(FETCH_GRACE_S, timeout)
        done, _ = await asyncio.wait({task}, timeout=grace)
        if done:
            return True
        log.info("stopping: fetches still running are stopped; their sources stay due")
        self._stop_fetching.set()  # the pass files and publishes what it has
        done, _ = await asyncio.wait({task}, timeout=timeout - grace)
        if done:
            return True
        log.warning("stopping: the pass did not finish in %g s; cancelling it", timeout)
        task.cancel()
        await asyncio.wait({task}, timeout=2.0)
        return False

    def abandon(self) -> None:
        """Cancel the pass in flight (a second signal: the operator will not wait)."""
        self.stopping = True
        if self._inflight is not None:
            self._inflight.cancel()


def _log_result(result: PassResult, duration: float | None = None) -> None:
    for r in result.sources:
        if r.outcome is Outcome.ERROR:
            status = f" (HTTP {r.status})" if r.status else ""
            extra = {"source_url": redact(r.source_url), "duration": r.elapsed}
            log.warning("%s%s: %s", redact(r.source_url), status, r.error, extra=extra)
    same = result.count(Outcome.NOT_MODIFIED) + result.count(Outcome.UNCHANGED)
    log.info(
        "pass: %d sources fetched: %d ok, %d not modified, %d failed; %d new articles; "
        "%d stories updated; %d files written",
        len(result.sources), result.count(Outcome.OK), same, result.count(Outcome.ERROR),
        result.new_articles, result.stories_published, len(result.files_written),
        extra={"duration": duration},
    )  # fmt: skip


# --------------------------------------------------------------------------- the daemon


def serve(config: Config) -> int:
    """Run passes on the schedule (and serve output_dir when `serve:` is set) until
    SIGTERM or SIGINT; 0 after a clean stop. Fatal set-up problems raise FeedsError."""
    if log.getEffectiveLevel() > logging.INFO:
        # A daemon's one line per pass is its heartbeat in the journal.
        log.setLevel(logging.INFO)
    return asyncio.run(_main(config))


def _preflight(config: Config) -> None:
    """Fail at start, with exit 1, on what no tick could get past."""
    try:
        os.makedirs(config.output_dir, exist_ok=True)
    except OSError as e:
        raise PublishError(e.strerror or str(e), subject=config.output_dir) from e
    with pipeline.open_for(config):
        pass  # opens (and migrates) the store, or raises StorageError


async def _main(config: Config) -> int:
    tick_trigger = trigger(config)
    daemon, stop = Daemon(config), asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:  # first, so a signal during start-up is a clean stop too
        loop.add_signal_handler(sig, _on_signal, stop, daemon)
    notifier = sdnotify.Notifier()
    stop_notice = loop.create_task(_notice_stop(stop, notifier))
    try:
        _preflight(config)
        servers = await _start_http(config, daemon.operator)
        notifier.ready(f"ticking every {_period(config.schedule, datetime.now(UTC)):g} s")
        try:
            await _run_ticks(config, daemon, tick_trigger, stop)
        finally:
            for http in servers:
                await http.stop()
            daemon.operator.close()
            await notifier.close()
            stop_notice.cancel()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
    log.info("stopped")
    return 0


async def _run_ticks(
    config: Config, daemon: Daemon, tick_trigger: IntervalTrigger | CronTrigger, stop: asyncio.Event
) -> None:
    """Tick until `stop` is set, then let the pass in flight end (within DRAIN_S)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    period = _period(config.schedule, datetime.now(UTC))
    scheduler.add_job(
        daemon.tick, tick_trigger, id="tick", max_instances=1, coalesce=True,
        misfire_grace_time=max(1, int(period)), next_run_time=datetime.now(UTC),
    )  # fmt: skip
    scheduler.start()
    try:
        await stop.wait()
        scheduler.pause()
        await daemon.drain()
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler.shutdown runs via call_soon: let it


async def _notice_stop(stop: asyncio.Event, notifier: sdnotify.Notifier) -> None:
    """STOPPING=1 as soon as a signal starts the clean stop (the drain may take 20 s)."""
    await stop.wait()
    notifier.stopping()


def _on_signal(stop: asyncio.Event, daemon: Daemon) -> None:
    if stop.is_set():  # a second signal: do not wait for the pass any longer
        daemon.abandon()
        return
    log.info("signal received: finishing the pass in flight, then exiting")
    stop.set()


async def _start_http(config: Config, operator: Operator) -> list[HttpServer]:
    """The servers `serve:` and `metrics.port` ask for (none, one or both)."""
    servers = []
    if config.serve is not None:
        from . import serve as http  # starlette and uvicorn load only when serving

        asgi = http.app(
            config.output_dir, max_age=max_age(config), slugs=[f.slug for f in config.feeds],
            endpoints=operator.endpoints(),
        )  # fmt: skip
        server = http.HttpServer(asgi, host=config.serve.host, port=config.serve.port)
        await server.start()
        log.info("serving %s on http://%s:%d/", config.output_dir, server.host, server.port)
        servers.append(server)
    if config.metrics is not None and config.metrics.port is not None:
        servers.append(await operator.start_http())
    return servers
