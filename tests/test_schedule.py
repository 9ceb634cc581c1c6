"""The tick logic of `feeds serve`, in-process: lock, failures, draining, triggers.

The pass itself is replaced by a fake (the `run` argument of `Daemon`) so these tests
are about what the daemon does around a pass; tests/test_serve.py runs the real thing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feeds import config, pipeline, schedule
from feeds.errors import ConfigError, LockedError, PublishError
from feeds.store import Store
from feeds.types import Config, Outcome, PassResult, ScheduleConfig, SourceResult

RESULT = PassResult(
    sources=(SourceResult("https://a.example/feed", Outcome.OK, 200, 3, 2),),
    new_articles=2,
    stories_published=2,
    files_written=("/out/all.rss",),
)


def make_config(tmp_path: Path, **schedule_args: object) -> Config:
    return Config(
        path=str(tmp_path / "config.yaml"),
        title="t",
        base_url="http://127.0.0.1/",
        output_dir=str(tmp_path / "out"),
        database=str(tmp_path / "feeds.db"),
        schedule=ScheduleConfig(**schedule_args),  # type: ignore[arg-type]
    )


class FakePass:
    """Stands in for pipeline.run_pass_async; `gate` holds it until the test opens it."""

    def __init__(self, *, error: Exception | None = None, hold: bool = False) -> None:
        self.calls = 0
        self.finished = 0
        self.error = error
        self.gate = asyncio.Event() if hold else None
        self.started = asyncio.Event()

    async def __call__(
        self, config: Config, store: Store, *, now: Callable[[], datetime], stop: asyncio.Event
    ) -> PassResult:
        assert isinstance(store, Store)
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        self.finished += 1
        return RESULT


def lock_is_free(config: Config) -> bool:
    try:
        with pipeline.pass_lock(config):
            return True
    except LockedError:
        return False


# --------------------------------------------------------------------------- ticks


def test_a_tick_runs_one_pass_and_logs_its_summary(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, fake = make_config(tmp_path), FakePass()
    with caplog.at_level(logging.INFO, logger="feeds.schedule"):
        result = asyncio.run(schedule.Daemon(config, run=fake).tick())
    assert result is RESULT and fake.calls == 1
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("pass:")]
    assert summary == [
        "pass: 1 sources fetched: 1 ok, 0 not modified, 0 failed; 2 new articles; "
        "2 stories updated; 1 files written"
    ]
    assert lock_is_free(config)  # nothing is held between ticks


def test_a_tick_is_skipped_while_another_pass_holds_the_lock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, fake = make_config(tmp_path), FakePass()
    with caplog.at_level(logging.INFO, logger="feeds.schedule"), pipeline.pass_lock(config):
        result = asyncio.run(schedule.Daemon(config, run=fake).tick())
    assert result is None and fake.calls == 0
    assert any("tick skipped" in r.getMessage() for r in caplog.records)


def test_a_failed_pass_is_logged_and_the_next_tick_still_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path)
    failing = FakePass(error=PublishError("disk full", subject="/out/all.rss"))
    daemon = schedule.Daemon(config, run=failing)
    with caplog.at_level(logging.INFO, logger="feeds.schedule"):
        assert asyncio.run(daemon.tick()) is None
    assert "pass failed: /out/all.rss: disk full" in caplog.text
    assert lock_is_free(config)
    failing.error = None
    assert asyncio.run(daemon.tick()) is RESULT


def test_a_bug_in_the_pass_propagates(tmp_path: Path) -> None:
    daemon = schedule.Daemon(make_config(tmp_path), run=FakePass(error=KeyError("bug")))
    with pytest.raises(KeyError):
        asyncio.run(daemon.tick())


# --------------------------------------------------------------------------- stopping


def test_drain_waits_for_the_pass_in_flight(tmp_path: Path) -> None:
    config = make_config(tmp_path)

    async def scenario() -> tuple[bool, PassResult | None, PassResult | None, FakePass]:
        fake = FakePass(hold=True)
        daemon = schedule.Daemon(config, run=fake)
        tick = asyncio.create_task(daemon.tick())
        await fake.started.wait()
        draining = asyncio.create_task(daemon.drain(timeout=30))
        await asyncio.sleep(0.05)
        assert not draining.done()  # still waiting: the pass has not finished
        assert fake.gate is not None
        fake.gate.set()
        finished = await draining
        return finished, await tick, await daemon.tick(), fake

    finished, first, after, fake = asyncio.run(scenario())
    assert finished and first is RESULT
    assert after is None and fake.calls == 1  # no pass starts once stopping
    assert lock_is_free(config)


def test_drain_cancels_a_pass_that_overruns_and_releases_the_lock(tmp_path: Path) -> None:
    config = make_config(tmp_path)

    async def scenario() -> tuple[bool, PassResult | None, FakePass]:
        fake = FakePass(hold=True)  # never released
        daemon = schedule.Daemon(config, run=fake)
        tick = asyncio.create_task(daemon.tick())
        await fake.started.wait()
        finished = await daemon.drain(timeout=0.05)
        return finished, await tick, fake

    finished, result, fake = asyncio.run(scenario())
    assert not finished and result is None and fake.finished == 0
    assert lock_is_free(config)


def test_stopping_ends_a_slow_fetch_and_publishes_what_the_pass_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SIGTERM while one source trickled its body: the drain's 20 s ran out before the
    # fetch's 30 s, the pass was cancelled with nothing published, and its refreshes,
    # orphaned, died on the closed store with a traceback. Now the fetches get a
    # grace, the rest are stopped, and the pass files and publishes what it saved.
    from servers import FEED_BODY, LOOPBACK_YAML, hostile_server

    monkeypatch.setattr(schedule, "FETCH_GRACE_S", 1.0, raising=False)
    with hostile_server(lifetime=20.0) as server:
        lines = [
            "title: t", "base_url: http://127.0.0.1/", "output_dir: out", "database: feeds.db",
            LOOPBACK_YAML, "sources:", f"  - url: {server.url('/feed.xml')}",
            f"  - url: {server.url('/slow?every=0.5&n=200')}",
            "feeds:", "  - {slug: all, title: all}",
        ]  # fmt: skip
        (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        cfg = config.load(tmp_path / "config.yaml")

        async def scenario() -> tuple[bool, PassResult | None, float]:
            daemon = schedule.Daemon(cfg)
            tick = asyncio.create_task(daemon.tick())
            await asyncio.sleep(1.0)  # the quick source is saved, the slow one trickles
            loop = asyncio.get_running_loop()
            started = loop.time()
            finished = await daemon.drain(timeout=15)
            return finished, await tick, loop.time() - started

        finished, result, took = asyncio.run(scenario())
    assert finished and result is not None and took < 10
    assert [r.source_url for r in result.sources] == [server.url("/feed.xml")]
    published = json.loads((Path(cfg.output_dir) / "all.json").read_text(encoding="utf-8"))
    assert len(published["items"]) == FEED_BODY.count(b"<item>") > 0
    with pipeline.open_for(cfg) as store:  # the slow source stays due, with no error
        states = {s.url: s for s in store.sources()}
    slow = states[server.url("/slow?every=0.5&n=200")]
    assert slow.consecutive_errors == 0 and slow.last_fetch is None


def test_drain_with_nothing_in_flight_returns_at_once(tmp_path: Path) -> None:
    daemon = schedule.Daemon(make_config(tmp_path), run=FakePass())
    assert asyncio.run(daemon.drain(timeout=30)) is True


# --------------------------------------------------------------------------- triggers

#: crontab line → next run after Saturday 2026-11-28 12:01 local time, as cron reads it
#: (weekday 0 and 7 are Sunday; APScheduler's own numbering starts on Monday).
CRON = {
    "0 6 * * 1-5": "Mon 30 06:00",
    "0 6 * * 0": "Sun 29 06:00",
    "0 6 * * 7": "Sun 29 06:00",
    "30 6 * * sat": "Sat 05 06:30",
    "0 6 * * */2": "Sun 29 06:00",
    "0 13 * * 6,1": "Sat 28 13:00",
    "*/15 * * * *": "Sat 28 12:15",
    "0 0 1 * *": "Tue 01 00:00",
}


@pytest.mark.parametrize(("expr", "expected"), CRON.items(), ids=list(CRON))
def test_cron_lines_fire_when_cron_would(tmp_path: Path, expr: str, expected: str) -> None:
    start = datetime(2026, 11, 28, 12, 1).astimezone()  # local time, like cron
    trig = schedule.trigger(make_config(tmp_path, interval=None, cron=expr), start)
    fire = trig.get_next_fire_time(None, start)
    assert fire is not None
    assert fire.strftime("%a %d %H:%M") == expected


@pytest.mark.parametrize(
    "expr", ["61 * * * *", "0 6 * * 8", "0 6 * * 5-1", "0 6 * * */0", "0 6 31 2 *"]
)
def test_a_cron_line_apscheduler_refuses_is_a_config_error(tmp_path: Path, expr: str) -> None:
    with pytest.raises(ConfigError) as info:
        schedule.trigger(make_config(tmp_path, interval=None, cron=expr))
    assert info.value.problems[0].key == "schedule.cron"
    # `feeds check` says the same, where the crontab line is.
    path = tmp_path / "config.yaml"
    path.write_text(
        "title: t\nbase_url: https://e.example/\noutput_dir: p\ndatabase: d.db\n"
        f"schedule:\n  cron: '{expr}'\nsources:\n  - url: https://a.example/feed\n"
        "feeds:\n  - slug: all\n    title: all\n",
        encoding="utf-8",
    )
    (problem,) = config.problems(path)
    assert (problem.line, problem.key) == (6, "schedule.cron")
    assert problem.message == info.value.problems[0].message


def test_the_interval_trigger_has_jitter_of_a_tenth_capped(tmp_path: Path) -> None:
    short = schedule.trigger(make_config(tmp_path, interval=timedelta(seconds=30)))
    long = schedule.trigger(make_config(tmp_path, interval=timedelta(hours=2)))
    assert (short.jitter, long.jitter) == (3.0, schedule.JITTER_MAX_S)


CACHE = {
    "interval 15m": ({"interval": timedelta(minutes=15)}, 900),
    "interval 5s": ({"interval": timedelta(seconds=5)}, 5),
    "cron every 5 minutes": ({"interval": None, "cron": "*/5 * * * *"}, 300),
    "cron hourly": ({"interval": None, "cron": "7 * * * *"}, 3600),
}


@pytest.mark.parametrize(("args", "seconds"), CACHE.values(), ids=list(CACHE))
def test_max_age_is_the_time_between_two_ticks(
    tmp_path: Path, args: dict[str, object], seconds: int
) -> None:
    assert schedule.max_age(make_config(tmp_path, **args)) == seconds
