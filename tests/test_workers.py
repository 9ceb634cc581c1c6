"""Distributed workers: real `feeds worker` processes, a real PostgreSQL, a local server.

Every source is a distinct path on one threaded HTTP server on 127.0.0.1 that counts its
requests, so "fetched exactly once" is checked where it happens: at the server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from stored import stored

from feeds import config, pipeline, worker
from feeds.errors import FeedsError
from feeds.store import open_server_store, open_store
from feeds.types import Config

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

_A = "ابتثجحخدذر"
_B = "زسشصضطظعغف"


def word(n: int, letters: str) -> str:
    """A token no other article shares, so no two test articles are one story."""
    return "".join(letters[int(d)] for d in f"{n:05d}")


def rss(n: int) -> bytes:
    title = f"{word(n, _A)} {word(n, _B)} {word(n * 7 + 3, _A)}"
    day = 1 + n % 27
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>مصدر {n}</title><link>http://s{n}.test/</link>
<item><title>{title}</title><link>http://s{n}.test/a/{n}</link><guid>g{n}</guid>
<description>{title} {word(n + 50000, _B)}</description>
<pubDate>{day:02d} Oct 2026 {n % 24:02d}:{n % 60:02d}:00 GMT</pubDate></item>
</channel></rss>""".encode()


class FeedServer:
    """Serves /f/N (N < count) as a one-item RSS feed; counts hits per path."""

    def __init__(self, count: int, delay: float = 0.0) -> None:
        self.count, self.delay = count, delay
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner.lock:
                    owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                n = int(self.path.rsplit("/", 1)[1])
                time.sleep(owner.delay)
                body = rss(n)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a killed worker's connection: the test counts hits, not replies

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def write_config(tmp_path: Path, database: str, server: FeedServer) -> Config:
    lines = [
        "title: اختبار",
        "base_url: https://example.org/feeds/",
        "output_dir: out",
        f"database: {json.dumps(database)}",
        "fetch: {concurrency: 16, per_host: 16, timeout: 20, allow_private: [127.0.0.0/8]}",
        "sources:",
    ]
    lines += [f"  - url: {server.base}/f/{n}" for n in range(server.count)]
    lines += ["feeds:", "  - slug: all", "    title: الكل", f"    limit: {server.count + 10}"]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config.load(path)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []

    def start(cfg: Config, *, verbose: bool = False, **settings: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, **{f"FEEDS_WORKER_{k.upper()}": v for k, v in settings.items()}}
        path = tmp_path / f"worker{len(started)}.log"
        log = open(path, "wb")  # noqa: SIM115
        logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "feeds", *(["-v"] if verbose else []), "worker", "-c", cfg.path],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        LOGS[proc.pid] = path
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for log in logs:
        log.close()


LOGS: dict[int, Path] = {}  # a worker's pid: the file its output goes to


def tails(procs: list[Any], lines: int = 60) -> str:
    """The last lines each worker wrote, for a failure message."""
    out = []
    for p in procs:
        path = LOGS.get(p.pid)
        text = path.read_text(encoding="utf-8", errors="replace") if path else ""
        out.append(f"--- worker {p.pid} ({path}):\n" + "\n".join(text.splitlines()[-lines:]))
    return "\n".join(out)


def wait_for(what: str, check: Callable[[], bool], timeout: float, procs: list[Any]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        dead = [p.args for p in procs if p.poll() is not None and p.returncode not in (0, -9)]
        assert not dead, f"a worker died: {dead}\n{tails(procs)}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{tails(procs)}"
        time.sleep(0.25)


def fetched(cfg: Config) -> int:
    """Sources whose last fetch succeeded (a second fetch of the same bytes: unchanged)."""
    with open_store(cfg.database) as store:
        return sum(1 for s in store.sources() if s.last_outcome in ("ok", "unchanged"))


def items(path: Path) -> list[dict[str, Any]]:
    """The JSON Feed's items minus the times that depend on when the pass ran."""
    if not path.exists():
        return []
    feed = json.loads(path.read_text(encoding="utf-8"))
    return [{k: v for k, v in it.items() if k != "date_modified"} for it in feed["items"]]


def test_three_workers_fetch_each_source_once_and_publish_as_one_pass(
    pg_url: str, tmp_path: Path, workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    server = FeedServer(2000)
    try:
        (tmp_path / "pg").mkdir()
        cfg = write_config(tmp_path / "pg", pg_url, server)
        procs = [workers(cfg, tick="1", publish="3", lease="120", batch="400") for _ in range(3)]
        wait_for("every source fetched", lambda: fetched(cfg) == 2000, 150, procs)
        assert len(server.hits) == 2000
        assert set(server.hits.values()) == {1}, "a source was fetched more than once"
        out = Path(cfg.output_dir) / "all.json"
        wait_for("the publish after the last fetch", lambda: len(items(out)) == 2000, 60, procs)

        (tmp_path / "one").mkdir()
        single = write_config(tmp_path / "one", str(tmp_path / "one.db"), server)
        with pipeline.open_for(single) as store:
            pipeline.run_pass(single, store, every=True)
        assert items(out) == items(Path(single.output_dir) / "all.json")
    finally:
        server.close()


def test_killed_worker_sources_are_refreshed_after_the_lease(
    pg_url: str, tmp_path: Path, workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    server = FeedServer(40, delay=1.0)
    try:
        cfg = write_config(tmp_path, pg_url, server)
        victim = workers(cfg, tick="1", publish="2", lease="4", concurrency="8")
        survivor = workers(cfg, verbose=True, tick="1", publish="2", lease="4", concurrency="8")
        wait_for("fetches in flight", lambda: sum(server.hits.values()) >= 12, 60, [victim])
        victim.kill()  # SIGKILL: no cleanup, its leases and jobs are left as they were
        victim.wait()
        wait_for("every source fetched", lambda: fetched(cfg) == 40, 90, [survivor])
        with open_store(cfg.database) as store:
            assert len(stored(store, "articles")) == 40
        assert set(server.hits) == {f"/f/{n}" for n in range(40)}
        again = [p for p, n in server.hits.items() if n > 1]
        assert again, "nothing the killed worker was fetching was fetched again"
        assert max(server.hits.values()) == 2
        out = Path(cfg.output_dir) / "all.json"
        wait_for("everything published", lambda: len(items(out)) == 40, 30, [survivor])
    finally:
        server.close()


def test_a_pass_files_only_once_no_worker_is_publishing(pg_url: str, tmp_path: Path) -> None:
    # `feeds run` on a PostgreSQL store clustered without the workers' publish lock: a
    # worker filing the same batch at once made every story twice, the last write of
    # each article's story winning. The pass now waits for the lock to file.
    server = FeedServer(2)
    try:
        cfg = write_config(tmp_path, pg_url, server)
        done = threading.Event()

        def one_pass() -> None:
            with pipeline.open_for(cfg) as store:
                pipeline.run_pass(cfg, store, every=True)
            done.set()

        with open_server_store(pg_url) as worker_store, worker_store.publish_lock() as held:
            assert held
            runner = threading.Thread(target=one_pass)
            runner.start()
            articles = lambda: stored(worker_store, "articles")  # noqa: E731
            wait_for("the pass to save its articles", lambda: len(articles()) == 2, 30, [])
            assert not done.wait(2)  # saved, and waiting to file
            assert [a["story_id"] for a in articles()] == [None, None]
        runner.join(60)
        assert done.is_set()
        with open_server_store(pg_url) as store:
            assert not store.unassigned_match_rows()
    finally:
        server.close()


def test_a_failed_publish_is_one_line_and_no_failed_job(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An unwritable output folder raised out of the publish job: procrastinate logged
    # each failure with its traceback (522 lines for 9) and kept every job as failed.
    server = FeedServer(1)
    try:
        cfg = write_config(tmp_path, pg_url, server)
        Path(cfg.output_dir).write_text("a file, not a folder")
        one = worker._Worker(cfg, worker.WorkerSettings(), "w")
        with open_server_store(pg_url):  # the schema, as a worker's start applies it
            pass

        async def publish() -> int:
            try:
                return await one.publish()
            finally:
                await one.close()

        with caplog.at_level(logging.ERROR, logger="feeds.worker"):
            assert asyncio.run(publish()) == 0
    finally:
        server.close()
    (record,) = [r for r in caplog.records if r.name == "feeds.worker"]
    assert record.getMessage().startswith("publish failed: ") and record.exc_info is None
    assert cfg.output_dir in record.getMessage()


def test_worker_refuses_an_sqlite_database(tmp_path: Path) -> None:
    server = FeedServer(1)
    try:
        cfg = write_config(tmp_path, str(tmp_path / "feeds.db"), server)
    finally:
        server.close()
    with pytest.raises(FeedsError, match="postgresql://"):
        worker.run(cfg)


@pytest.mark.parametrize(
    ("env", "message"),
    [({"FEEDS_WORKER_TICK": "0"}, "FEEDS_WORKER_TICK"), ({"FEEDS_WORKER_LEASE": "x"}, "LEASE")],
    ids=["zero-tick", "bad-lease"],
)
def test_bad_worker_settings_are_named(env: dict[str, str], message: str) -> None:
    cfg = Config(path="c", title="t", base_url="b", output_dir="o", database="postgresql://x")
    with pytest.raises(FeedsError, match=message):
        worker.WorkerSettings.from_env(env, cfg)


def test_cron_every() -> None:
    assert worker.cron_every(2) == "* * * * * */2"
    assert worker.cron_every(300) == "*/5 * * * *"
    # Steps that do not divide their field fire unevenly, or once: the longest even
    # period up to the one asked for is taken instead.
    assert worker.cron_every(45) == "* * * * * */30"
    assert worker.cron_every(90) == "*/1 * * * *"
    assert worker.cron_every(7200) == "0 */2 * * *"
    assert worker.cron_every(86400 * 3) == "0 0 * * *"


@pytest.mark.parametrize("seconds", [1, 7, 45, 60, 90, 150, 3600, 7200, 10000, 86400])
def test_a_worker_period_fires_at_even_intervals(seconds: int) -> None:
    from croniter import croniter

    start = datetime(2026, 12, 8, 5, 0, 7, tzinfo=UTC)
    times = croniter(worker.cron_every(seconds), start, second_at_beginning=False)
    fires = [times.get_next(datetime) for _ in range(6)]
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(fires)}
    assert gaps == {worker.even_period(seconds)} and worker.even_period(seconds) <= seconds


def test_a_worker_serves_health_and_metrics_on_its_own_port(
    pg_url: str, tmp_path: Path, workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    import http.client
    import socket

    from prometheus_client.parser import text_string_to_metric_families

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = FeedServer(5)
    try:
        cfg = write_config(tmp_path, pg_url, server)
        Path(cfg.path).write_text(
            Path(cfg.path).read_text("utf-8") + f"metrics: {{port: {port}}}\n", "utf-8"
        )
        cfg = config.load(cfg.path)
        procs = [workers(cfg, tick="1", publish="2")]

        def get(path: str) -> tuple[int, str]:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", path)
                reply = conn.getresponse()
                return reply.status, reply.read().decode()
            except OSError:
                return 0, ""
            finally:
                conn.close()

        def metrics() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            status, text = get("/metrics")
            assert status in (0, 200)
            return {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }

        ok_fetches = ("feeds_fetches_total", (("status_class", "2xx"),))
        wait_for("/readyz after a publish", lambda: get("/readyz")[0] == 200, 60, procs)
        assert get("/healthz") == (200, "ok\n")
        # The five sources may be leased over more than one tick: wait for the last.
        wait_for("five fetches counted", lambda: metrics().get(ok_fetches) == 5, 60, procs)
        found = metrics()
        assert found[("feeds_passes_total", (("outcome", "ok"),))] >= 1
        assert found[("feeds_sources_failing", (("consecutive_errors", "1"),))] == 0
    finally:
        server.close()
