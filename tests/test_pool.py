"""The parse pool: records cross the process boundary intact, and a pass through the pool
stores exactly what an in-process pass stores."""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from servers import LOOPBACK_YAML

from feeds import config, errors, pipeline, pool
from feeds.pipeline import _refresh
from feeds.types import Article, FetchResult, Outcome, PassResult, SourceConfig, Validators

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SOURCE = SourceConfig(url="https://tech.example/feed/", name="تقنية")

STORIES = (
    ("سامسونج تطلق هاتف Galaxy S26 في السعودية", "<p>أعلنت سامسونج عن هاتفها الجديد.</p>"),
    ("OpenAI تكشف عن نموذج جديد للذكاء الاصطناعي", "<p>قالت الشركة إن النموذج أسرع.</p>"),
    ("ناسا تؤجل إطلاق مهمة أرتميس إلى القمر", "<p>أوضحت الوكالة أن <b>الموعد</b> تغير.</p>"),
)


def rss(site: str, stories: tuple[tuple[str, str], ...] = STORIES) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>https://{site}/{n}/?utm_source=rss</link>"
        f'<guid isPermaLink="false">https://{site}/?p={n}</guid>'
        f"<pubDate>Mon, 23 Nov 2026 0{n}:30:00 +0300</pubDate>"
        f"<description><![CDATA[{body}]]></description>"
        f"<content:encoded><![CDATA[{body}<script>x()</script>]]></content:encoded></item>"
        for n, (title, body) in enumerate(stories, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{site}</title><link>https://{site}/</link><language>ar</language>"
        f"{items}</channel></rss>"
    ).encode()


def fetched(body: bytes) -> FetchResult:
    return FetchResult(
        source_url=SOURCE.url,
        url=SOURCE.url,
        status=200,
        content=body,
        headers=(("content-type", "application/rss+xml; charset=UTF-8"),),
        validators=Validators(etag='"v1"'),
        fetched_at=NOW,
    )


@pytest.fixture(scope="module")
def executor() -> Iterator[Executor]:
    with pool.parse_executor(100, workers=2) as ex:
        assert isinstance(ex, pool.LazyProcessPool)
        yield ex


# --------------------------------------------------------------------------- choosing


@pytest.mark.parametrize(
    ("sources", "workers", "expected"),
    [
        pytest.param(1, None, 0, id="one-source-in-process"),
        pytest.param(pool.MIN_SOURCES - 1, None, 0, id="below-threshold-in-process"),
        pytest.param(500, 0, 0, id="workers-0-forces-in-process"),
        pytest.param(500, 3, 3, id="explicit-workers"),
        pytest.param(2, 8, 2, id="never-more-workers-than-sources"),
    ],
)
def test_workers_for(sources: int, workers: int | None, expected: int) -> None:
    assert pool.workers_for(sources, workers) == expected


def test_enough_sources_on_several_cores_get_one_worker_per_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool, "_usable_cores", lambda: 4)
    assert pool.workers_for(pool.MIN_SOURCES) == 4
    monkeypatch.setattr(pool, "_usable_cores", lambda: 1)
    assert pool.workers_for(10_000) == 0


@pytest.mark.parametrize("workers", [0, 1], ids=["zero", "one"])
def test_too_few_workers_gives_no_pool(workers: int) -> None:
    with pool.parse_executor(1000, workers=workers) as ex:
        assert ex is None


def test_pool_starts_no_process_until_the_first_parse() -> None:
    with pool.parse_executor(1000, workers=2) as ex:
        assert isinstance(ex, pool.LazyProcessPool)
        assert not ex.started
        assert ex.submit(sum, (1, 2)).result(timeout=60) == 3
        assert ex.started
    assert not ex.started  # shut down on exit


def test_small_pass_gives_no_pool() -> None:
    with pool.parse_executor(1) as ex:
        assert ex is None


# --------------------------------------------------------------------------- crossing


def test_records_survive_pickling() -> None:
    result = fetched(rss("a.example"))
    parsed = pipeline.parse_body(result, SOURCE, NOW)
    assert len(parsed.articles) == len(STORIES)
    for record in (result, SOURCE, parsed, parsed.feed, *parsed.articles):
        assert pickle.loads(pickle.dumps(record)) == record


@pytest.mark.parametrize(
    "error",
    [
        errors.ParseError("https://user:secret@tech.example/feed/", "not a feed: invalid JSON"),
        errors.FetchError("https://tech.example/", "HTTP 503", status=503, retry_after=30.0,
                          kind="http"),
        errors.ConfigError([errors.Problem("config.yaml", 4, "sources[0].url", "not http(s)")]),
        errors.StorageError("database is locked", "feeds.db"),
        errors.TelegramError("sendMessage", "Too Many Requests", kind="refused",
                             retry_after=5.0),
    ],
    ids=lambda e: type(e).__name__,
)  # fmt: skip
def test_errors_cross_the_process_boundary_whole(error: errors.FeedsError) -> None:
    # What a worker raises reaches the pass by pickle: with the default, the class was
    # called again with the message alone, which fails for every subclass.
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert (str(back), back.args, vars(back)) == (str(error), error.args, vars(error))


def test_a_source_that_fails_in_a_worker_leaves_the_pool_working(executor: Executor) -> None:
    bad = fetched(b'{"version": "https://jsonfeed.org/version/1.1", "items": [')
    with pytest.raises(errors.ParseError, match="invalid JSON"):
        executor.submit(pipeline.parse_body, bad, SOURCE, NOW).result(timeout=60)
    good = executor.submit(pipeline.parse_body, fetched(rss("b.example")), SOURCE, NOW)
    assert len(good.result(timeout=60).articles) == len(STORIES)


def test_parse_through_pool_gives_the_same_articles(executor: Executor) -> None:
    result = fetched(rss("a.example"))
    here = pipeline.parse_body(result, SOURCE, NOW)
    there = executor.submit(pipeline.parse_body, result, SOURCE, NOW).result(timeout=60)
    assert there == here
    assert all(isinstance(a, Article) for a in there.articles)
    assert {a.title for a in there.articles} == {t for t, _ in STORIES}
    assert all("<script" not in a.content_html for a in there.articles)


def test_pool_runs_parses_in_other_processes(executor: Executor) -> None:
    pids = {executor.submit(os.getpid).result(timeout=60) for _ in range(8)}
    assert os.getpid() not in pids


# --------------------------------------------------------------------------- a whole pass


def serve_feeds(
    httpserver: HTTPServer, count: int, marked: dict[int, bytes] | None = None
) -> list[str]:
    """`count` feeds of the STORIES, each its own titles; feed n gets `marked[n]` after
    its <channel>. Their URLs, in order."""
    urls = []
    for n in range(count):
        stories = tuple((f"{t} رقم {n}", b) for t, b in STORIES)
        body = rss(f"s{n}.example", stories)
        if marked and n in marked:
            body = body.replace(b"<channel>", b"<channel>" + marked[n])
        httpserver.expect_request(f"/s{n}.rss").respond_with_data(
            body, content_type="application/rss+xml"
        )
        urls.append(httpserver.url_for(f"/s{n}.rss"))
    return urls


def write_config(folder: Path, urls: list[str], fetch: str = LOOPBACK_YAML) -> Path:
    folder.mkdir()
    lines = [
        "title: test",
        "base_url: https://example.org/feeds/",
        "output_dir: out",
        "database: feeds.db",
        fetch,
        "sources:",
        *(f"  - url: {url}" for url in urls),
        "feeds:",
        "  - slug: all",
        "    title: all",
    ]
    (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "config.yaml"


def test_pass_through_pool_publishes_what_an_in_process_pass_does(
    httpserver: HTTPServer, tmp_path: Path, executor: Executor
) -> None:
    urls = serve_feeds(httpserver, 4)
    outputs = {}
    for name, ex in (("inproc", None), ("pool", executor)):
        cfg = config.load(write_config(tmp_path / name, urls))
        with pipeline.open_for(cfg) as store:
            result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW, executor=ex)
        assert result.count(Outcome.OK) == 4
        assert result.new_articles == 4 * len(STORIES)
        outputs[name] = (Path(cfg.output_dir) / "all.json").read_bytes()
    assert outputs["pool"] == outputs["inproc"]


def test_sources_that_are_no_feeds_fail_alone_in_a_pass_through_the_pool(
    httpserver: HTTPServer, tmp_path: Path, executor: Executor
) -> None:
    # The saved real corpus's README.md and an empty body among real feeds broke the
    # pool for every source still parsing ("BrokenProcessPool"): 33 of 49 failed.
    urls = serve_feeds(httpserver, 6)
    for n, (body, kind) in enumerate(
        [(b"# Saved feeds\n\nNot a feed.", "text/markdown"), (b'{"items": [', "application/json")]
    ):
        httpserver.expect_request(f"/bad{n}").respond_with_data(body, content_type=kind)
        urls.insert(2 * n + 1, httpserver.url_for(f"/bad{n}"))
    cfg = config.load(write_config(tmp_path / "pass", urls))
    with pipeline.open_for(cfg) as store:
        result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW, executor=executor)
    assert result.count(Outcome.OK) == 6
    assert result.new_articles == 6 * len(STORIES)
    failed = [r for r in result.sources if r.outcome is not Outcome.OK]
    assert sorted(r.source_url for r in failed) == sorted(u for u in urls if "/bad" in u)
    assert all("BrokenProcessPool" not in (r.error or "") for r in failed)


def _die() -> None:
    os._exit(3)  # as a crash in a parser, or the OOM killer, ends a worker


def test_a_worker_that_dies_leaves_a_pool_that_works() -> None:
    with pool.parse_executor(100, workers=2) as ex:
        assert isinstance(ex, pool.LazyProcessPool)
        first = ex.submit(os.getpid).result(timeout=60)
        with pytest.raises(BrokenProcessPool):
            ex.submit(_die).result(timeout=60)
        after = ex.submit(os.getpid).result(timeout=60)  # a new pool, new workers
        assert after != first and after != os.getpid()
        good = ex.submit(pipeline.parse_body, fetched(rss("c.example")), SOURCE, NOW)
        assert len(good.result(timeout=60).articles) == len(STORIES)


class _CrashOn(pool.LazyProcessPool):
    """The pass's own pool, but a body holding `MARK` kills the worker parsing it."""

    MARK = b"<!-- kills its worker -->"
    instead = staticmethod(_die)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        job = getattr(fn, "args", ())
        if job and isinstance(job[0], FetchResult) and self.MARK in (job[0].content or b""):
            return super().submit(self.instead)
        return super().submit(fn, *args, **kwargs)


def test_a_body_that_kills_its_worker_fails_alone_in_a_pass(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    # A dead worker left the ProcessPoolExecutor refusing all work: every source parsed
    # after it failed with BrokenProcessPool. Now the pool is made again, the parses under
    # way are tried once more, and only the body that kills twice fails.
    urls = serve_feeds(httpserver, 8, marked={2: _CrashOn.MARK})
    cfg = config.load(write_config(tmp_path / "pass", urls))
    ex = _CrashOn(2)
    try:
        with pipeline.open_for(cfg) as store:
            result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW, executor=ex)
    finally:
        ex.shutdown(wait=True)
    assert result.count(Outcome.OK) == 7
    assert result.new_articles == 7 * len(STORIES)
    [failed] = [r for r in result.sources if r.outcome is not Outcome.OK]
    assert failed.source_url == urls[2]
    assert "killed the worker process" in (failed.error or "")


class _HeldParses(Executor):
    """Parses on a thread, each only once `go` is set: the pool's workers, busy."""

    workers = 1

    def __init__(self) -> None:
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.go = threading.Event()
        self._threads = ThreadPoolExecutor(max_workers=1)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        def held():  # type: ignore[no-untyped-def]
            self.go.wait(timeout=60)
            return fn(*args, **kwargs)

        return self._threads.submit(held)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)


def test_a_pass_fetches_only_a_few_sources_ahead_of_the_parse(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    # Fetching outruns parsing; every body fetched ahead waited in memory, so a first
    # pass of 3,200 sources held 260 MB of them. Now a source's fetch waits for a place
    # among the sources in hand (fetched and not yet saved).
    import threading
    import time

    urls = serve_feeds(httpserver, 60)
    cfg = config.load(write_config(tmp_path / "pass", urls))
    in_hand = 2 * cfg.fetch.concurrency + 4 * _HeldParses.workers
    assert in_hand < len(urls)
    ex = _HeldParses()
    results = []

    def pass_() -> None:
        with pipeline.open_for(cfg) as store:
            results.append(pipeline.run_pass(cfg, store, every=True, now=lambda: NOW, executor=ex))

    thread = threading.Thread(target=pass_)
    thread.start()
    deadline = time.monotonic() + 30
    while len(httpserver.log) < in_hand and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # time enough to fetch all 60, were nothing holding them back
    assert len(httpserver.log) == in_hand
    ex.go.set()
    thread.join(timeout=60)
    ex.shutdown()
    [result] = results
    assert result.count(Outcome.OK) == len(urls)
    assert result.new_articles == len(urls) * len(STORIES)


class _Served:
    """pytest-httpserver handlers that note, in order, which kind of source each request
    was for (from the server's threads)."""

    def __init__(self) -> None:
        import threading

        self.order: list[str] = []
        self._lock = threading.Lock()

    def handler(self, label: str, body: bytes, pause: float = 0.0, *, on_arrival: bool = False):  # type: ignore[no-untyped-def]
        """Answers `body` after `pause` seconds, noted once answered (or on arrival: for
        an answer past the fetch's time-out, which nobody reads)."""
        import time

        from werkzeug import Request, Response

        def handle(request: Request) -> Response:
            if on_arrival:
                self._note(label)
            time.sleep(pause)
            if not on_arrival:
                self._note(label)
            return Response(body, content_type="application/rss+xml")

        return handle

    def _note(self, label: str) -> None:
        with self._lock:
            self.order.append(label)

    def before_last(self, label: str, other: str) -> int:
        """How many `other` requests were noted before the last `label` one."""
        last = len(self.order) - 1 - self.order[::-1].index(label)
        return self.order[:last].count(other)


@contextlib.contextmanager
def _second_host() -> Iterator[HTTPServer]:
    """A threaded server on 127.0.0.2: its URLs sort before the fixture's localhost."""
    server = HTTPServer(host="127.0.0.2", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def test_one_host_s_many_sources_do_not_hold_back_the_others(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    # The store lists due sources by URL, so one site's feeds come together. Started in
    # that order, 60 sources of one host, which the per-host limit fetches two at a
    # time, took every place in hand, and another host's sources waited for most of
    # them: 2,107 sources on 32 hosts took 23.5 s instead of 5.2 s. Now a source waits
    # for its host's turn without a place, and the other host's are fetched among the
    # first.
    log = _Served()
    with _second_host() as many:
        urls = []
        for n in range(60):
            stories = tuple((f"{t} رقم {n}", b) for t, b in STORIES)
            many.expect_request(f"/a{n:02d}.rss").respond_with_handler(
                log.handler("a", rss(f"a{n}.example", stories), 0.02)
            )
            urls.append(many.url_for(f"/a{n:02d}.rss"))
        for n in range(8):
            stories = tuple((f"{t} عدد {n}", b) for t, b in STORIES)
            httpserver.expect_request(f"/b{n}.rss").respond_with_handler(
                log.handler("b", rss(f"b{n}.example", stories))
            )
            urls.append(httpserver.url_for(f"/b{n}.rss"))
        assert sorted(urls) == urls
        cfg = config.load(write_config(tmp_path / "pass", urls))
        assert 2 * cfg.fetch.concurrency + 4 < 60  # more of host a than places in hand
        with pipeline.open_for(cfg) as store:
            result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW)
    assert result.count(Outcome.OK) == len(urls)
    # Host a serves two at a time; host b's eight were all served before a's 16th
    # (with places taken first, not before its 25th).
    assert log.order.count("b") == 8
    assert log.before_last("b", "a") < 16


def test_a_hung_host_keeps_only_its_own_places(httpserver: HTTPServer, tmp_path: Path) -> None:
    # A source holds a place in hand from the start of its fetch. Had it taken the place
    # before its host's turn, a host that hangs would fill every place with sources
    # waiting for it, and the other hosts' sources would wait for its time-outs, one
    # host fetch at a time. Now they wait for their host without a place.
    log = _Served()
    with _second_host() as hung:
        urls = []
        for n in range(12):
            hang = log.handler("hung", b"", 1.0, on_arrival=True)  # past fetch.timeout
            hung.expect_request(f"/h{n}.rss").respond_with_handler(hang)
            urls.append(hung.url_for(f"/h{n}.rss"))
        for n in range(12):
            stories = tuple((f"{t} عدد {n}", b) for t, b in STORIES)
            httpserver.expect_request(f"/b{n:02d}.rss").respond_with_handler(
                log.handler("ok", rss(f"b{n}.example", stories))
            )
            urls.append(httpserver.url_for(f"/b{n:02d}.rss"))
        fetch = (
            'fetch: {allow_private: [127.0.0.0/8, "::1/128"], concurrency: 2, per_host: 1,'
            " timeout: 0.25}"
        )
        cfg = config.load(write_config(tmp_path / "pass", urls, fetch))
        assert 2 * cfg.fetch.concurrency + 4 < 12  # more hung sources than places in hand
        with pipeline.open_for(cfg) as store:
            result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW)
    ok = [r for r in result.sources if r.outcome is Outcome.OK]
    assert len(ok) == 12 and all("/b" in r.source_url for r in ok)
    assert log.order.count("hung") == 12  # one at a time, each to its time-out
    # Every other source was served while the first hung request or two waited (one,
    # in five runs), not after the places had filled with the hung host's sources
    # (after 5 or 6 when a source took its place before its host's turn).
    assert log.before_last("ok", "hung") <= 2


# --------------------------------------------------------------------------- runaway parses


def _hang() -> None:
    time.sleep(30)  # a parse that runs away: far past the limit the tests set


class _HangOn(_CrashOn):
    """The pass's own pool, but a body holding `MARK` hangs the worker parsing it."""

    MARK = b"<!-- hangs its worker -->"
    instead = staticmethod(_hang)


def _run_bounded(cfg: config.Config, ex: pool.LazyProcessPool) -> tuple[PassResult, float]:
    started = time.monotonic()
    try:
        with pipeline.open_for(cfg) as store:
            result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW, executor=ex)
    finally:
        ex.shutdown(wait=True)  # waits for a worker still parsing: it must be gone
    return result, time.monotonic() - started


def test_a_parse_that_runs_away_in_a_worker_fails_alone(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A parse cannot be cancelled: one that ran away held its worker, then the pool's
    # shutdown, and the pass never ended. Now its worker is killed at the limit, the
    # parses it took with it are tried again, and only the runaway's source fails.
    monkeypatch.setattr(_refresh, "PARSE_LIMIT", 1.0)
    monkeypatch.setattr(_refresh, "PARSE_CHECK", 0.05)
    urls = serve_feeds(httpserver, 8, marked={3: _HangOn.MARK})
    cfg = config.load(write_config(tmp_path / "pass", urls))
    result, took = _run_bounded(cfg, _HangOn(2))
    assert result.count(Outcome.OK) == 7
    assert result.new_articles == 7 * len(STORIES)
    [failed] = [r for r in result.sources if r.outcome is not Outcome.OK]
    assert failed.source_url == urls[3]
    assert "its parse ran over 1 s and was given up" in (failed.error or "")
    assert took < 25  # not the 30 s the runaway would have run


def test_a_pass_deadline_stops_the_workers_still_parsing(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pass deadline cancels the sources still under way; a parse in a worker ran on
    # regardless, and the pool's shutdown at the end of the pass waited for it.
    monkeypatch.setattr(_refresh, "PARSE_CHECK", 0.05)
    urls = serve_feeds(httpserver, 4, marked={1: _HangOn.MARK})
    fetch = LOOPBACK_YAML.replace("fetch: {", "fetch: {pass_deadline: 2, ", 1)
    assert fetch != LOOPBACK_YAML
    cfg = config.load(write_config(tmp_path / "pass", urls, fetch))
    result, took = _run_bounded(cfg, _HangOn(2))
    assert result.count(Outcome.OK) == 3
    [failed] = [r for r in result.sources if r.outcome is not Outcome.OK]
    assert failed.source_url == urls[1] and "pass deadline" in (failed.error or "")
    assert took < 25


def test_a_parse_that_runs_away_without_a_pool_fails_alone(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a pool the parse runs on a daemon thread of its own: given up at the
    # limit, it runs on where neither the pass nor the process's exit waits for it.
    release = threading.Event()
    real = _refresh.parse_body

    def parse_body(result: FetchResult, *args: Any) -> pipeline.Parsed:
        if _HangOn.MARK in (result.content or b""):
            release.wait(timeout=30)
        return real(result, *args)

    monkeypatch.setattr(_refresh, "parse_body", parse_body)
    monkeypatch.setattr(_refresh, "PARSE_LIMIT", 1.0)
    urls = serve_feeds(httpserver, 3, marked={0: _HangOn.MARK})
    cfg = config.load(write_config(tmp_path / "pass", urls))
    try:
        started = time.monotonic()
        with pipeline.open_for(cfg) as store:
            result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW)
        took = time.monotonic() - started
        stuck = [t for t in threading.enumerate() if t.name == "feeds-parse"]
    finally:
        release.set()
    assert result.count(Outcome.OK) == 2
    [failed] = [r for r in result.sources if r.outcome is not Outcome.OK]
    assert failed.source_url == urls[0] and "ran over 1 s" in (failed.error or "")
    assert took < 25
    assert stuck and all(t.daemon for t in stuck)  # the given-up parse, still waiting
