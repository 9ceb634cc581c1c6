"""The operator's side: /healthz, /readyz, `feeds health`, /metrics, JSON logs, the
status page and `feeds status --stale`, each after real passes over real HTTP sources
on 127.0.0.1 (tests/test_schedule.py fakes the pass; here it is the real one)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer
from test_cli import feeds
from test_cli import write_config as cli_config

from feeds import config, health, logs, ops, pipeline, schedule, serve, status_page
from feeds.errors import FetchError
from feeds.types import Config, Outcome, PassResult

DATA = Path(__file__).parent / "data" / "pipeline"


def write_config(folder: Path, urls: list[str], extra: str = "") -> Path:
    """tests/test_cli.py's config, every 10 minutes, with `extra` keys."""
    path = cli_config(folder, urls)
    path.write_text(path.read_text("utf-8") + "schedule: {interval: 10m}\n" + extra, "utf-8")
    return path


@pytest.fixture
def two(httpserver: HTTPServer, tmp_path: Path) -> tuple[Config, str, str]:
    """One source that works and one that answers 503."""
    httpserver.expect_request("/alpha.rss").respond_with_data(
        (DATA / "alpha.rss").read_bytes(), content_type="application/rss+xml"
    )
    httpserver.expect_request("/broken.rss").respond_with_data("no", status=503)
    good, bad = httpserver.url_for("/alpha.rss"), httpserver.url_for("/broken.rss")
    cfg = config.load(write_config(tmp_path, [good, bad], "metrics: {}\n"))
    return cfg, good, bad


def get(app: Any, path: str, client: str = "127.0.0.1", **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://feeds") as c:
            return await c.get(path, headers=headers)

    return asyncio.run(go())


def tick(daemon: schedule.Daemon) -> PassResult:
    result = asyncio.run(daemon.tick())
    assert result is not None
    return result


def operator_app(cfg: Config, now: Callable[[], datetime] | None = None) -> tuple[Any, Any]:
    operator = ops.Operator(cfg, now=now or pipeline.utc_now)
    app = serve.app(cfg.output_dir, max_age=60, endpoints=operator.endpoints())
    return operator, app


# --------------------------------------------------------------------------- health


def test_readyz_waits_for_a_pass_and_goes_stale_after_twice_the_interval(
    two: tuple[Config, str, str],
) -> None:
    cfg = two[0]
    clock = {"now": datetime.now(UTC)}
    operator, app = operator_app(cfg, lambda: clock["now"])
    try:
        assert get(app, "/healthz").status_code == 200
        before = get(app, "/readyz")
        assert before.status_code == 503, before.text
        assert before.json()["reason"] == "no pass has finished yet"
        tick(schedule.Daemon(cfg, operator=operator))
        ready = get(app, "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["ready"] is True and ready.json()["limit_seconds"] == 1200
        clock["now"] += timedelta(minutes=21)  # twice the 10 min interval, and a bit
        late = get(app, "/readyz")
        assert late.status_code == 503 and "over the 20 min allowed" in late.json()["reason"]
        assert late.headers["cache-control"] == "no-store"
    finally:
        operator.close()


def test_feeds_health_exits_1_until_a_pass_ran_then_0(two: tuple[Config, str, str]) -> None:
    path = two[0].path
    before = feeds("health", "-c", path)
    assert before.returncode == 1 and "not ready" in before.stdout
    assert not os.path.exists(two[0].database)  # the check made no empty database
    assert feeds("run", "-c", path).returncode == 0
    after = feeds("health", "-c", path)
    assert after.returncode == 0 and after.stdout.startswith("feeds: ready"), after.stdout


def test_a_failed_store_is_not_ready(tmp_path: Path) -> None:
    cfg = config.load(write_config(tmp_path, ["https://a.example/feed"]))
    os.makedirs(os.path.dirname(cfg.database))
    Path(cfg.database).write_bytes(b"not a database, not at all" * 100)
    ready = health.check(cfg, datetime.now(UTC))
    assert not ready.ready and "does not answer" in ready.reason


# --------------------------------------------------------------------------- metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_metrics_parse_and_hold_what_a_real_pass_did(two: tuple[Config, str, str]) -> None:
    cfg, good, bad = two
    operator, app = operator_app(cfg)
    try:
        result = tick(schedule.Daemon(cfg, operator=operator))
        reply = get(app, "/metrics")
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
        got = samples(reply.text)
    finally:
        operator.close()
    ok = next(r for r in result.sources if r.source_url == good)
    assert ok.outcome is Outcome.OK and ok.bytes > 0 and result.new_articles > 0
    assert got[("feeds_fetches_total", (("status_class", "2xx"),))] == 1
    assert got[("feeds_fetches_total", (("status_class", "5xx"),))] == 1
    assert got[("feeds_fetched_bytes_total", ())] == sum(r.bytes for r in result.sources)
    assert got[("feeds_articles_new_total", ())] == result.new_articles
    assert got[("feeds_stories_published_total", ())] == result.stories_published
    assert got[("feeds_passes_total", (("outcome", "partial"),))] == 1
    assert got[("feeds_pass_duration_seconds_count", (("outcome", "partial"),))] == 1
    assert got[("feeds_sources_failing", (("consecutive_errors", "1"),))] == 1
    assert got[("feeds_sources_failing", (("consecutive_errors", "2-4"),))] == 0
    assert got[("feeds_source_consecutive_errors", (("source", bad),))] == 1
    with pipeline.open_for(cfg) as store:
        state = store.source(good)
        last = store.last_pass()
    assert state is not None and state.last_fetch is not None and last is not None
    stamp = got[("feeds_source_last_success_timestamp_seconds", (("source", good),))]
    assert stamp == state.last_fetch.timestamp()
    assert ("feeds_source_last_success_timestamp_seconds", (("source", bad),)) not in got
    assert got[("feeds_last_pass_timestamp_seconds", ())] == last.finished.timestamp()
    age = got[("feeds_feed_file_age_seconds", (("file", "all.rss"),))]
    assert 0 <= age < 60


def test_metrics_are_off_unless_configured(tmp_path: Path) -> None:
    cfg = config.load(write_config(tmp_path, ["https://a.example/feed"]))
    operator, app = operator_app(cfg)
    assert get(app, "/metrics").status_code == 404
    assert get(app, "/status").status_code == 404
    operator.close()


@pytest.mark.parametrize(
    ("client", "header", "status"),
    [
        ("10.1.2.3", "Bearer s3cret", 200),
        ("10.1.2.3", "", 401),
        ("10.1.2.3", "Bearer wrong", 401),
        ("192.168.1.1", "Bearer s3cret", 403),
    ],
    ids=["allowed", "no-token", "wrong-token", "other-network"],
)
def test_metrics_can_require_a_network_and_a_bearer_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: str, header: str, status: int
) -> None:
    monkeypatch.setenv("FEEDS_TEST_METRICS_TOKEN", "s3cret")
    extra = "metrics: {allow: [10.0.0.0/8], token_env: FEEDS_TEST_METRICS_TOKEN}\n"
    cfg = config.load(write_config(tmp_path, ["https://a.example/feed"], extra))
    operator, app = operator_app(cfg)
    headers = {"Authorization": header} if header else {}
    try:
        assert get(app, "/metrics", client=client, **headers).status_code == status
    finally:
        operator.close()


def test_a_token_named_but_unset_refuses_everyone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEEDS_TEST_UNSET", raising=False)
    extra = "metrics: {token_env: FEEDS_TEST_UNSET}\n"
    cfg = config.load(write_config(tmp_path, ["https://a.example/feed"], extra))
    operator, app = operator_app(cfg)
    assert get(app, "/metrics", Authorization="Bearer ").status_code == 403
    operator.close()


# --------------------------------------------------------------------------- logs


def test_json_logs_are_one_object_per_line_with_source_pass_and_duration() -> None:
    record = logging.LogRecord("feeds.pipeline", logging.WARNING, __file__, 1, "%s", None, None)
    record.args = (FetchError("https://u:secret@a.example/feed", "HTTP 503"),)
    record.duration = 1.23456
    with logs.pass_context("abc123"):
        line = logs.JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["source_url"] == "https://u:***@a.example/feed"
    assert entry["pass_id"] == "abc123" and entry["duration"] == 1.235
    assert entry["level"] == "warning"


def test_feeds_run_with_json_logs(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/broken.rss").respond_with_data("no", status=503)
    bad = httpserver.url_for("/broken.rss")
    path = write_config(tmp_path, [bad], "log_format: json\n")
    proc = feeds("run", "-c", str(path))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    [failure] = [e for e in lines if e.get("source_url") == bad]
    assert failure["level"] == "warning" and "HTTP 503" in failure["message"]
    assert len(failure["pass_id"]) == 12 and failure["duration"] >= 0
    with pipeline.open_for(config.load(path)) as store:
        last = store.last_pass()
    assert last is not None and last.pass_id == failure["pass_id"]


# --------------------------------------------------------------------------- status page


def test_status_page_lists_the_failing_source_first_outside_output_dir(
    two: tuple[Config, str, str],
) -> None:
    cfg, good, bad = two
    # The failing source sorts after the good one by URL: only its state puts it first.
    assert good < bad
    tick(schedule.Daemon(cfg))
    path = cfg.status_page.path
    assert path == os.path.join(os.path.dirname(cfg.database), "status.html")
    assert not os.path.exists(os.path.join(cfg.output_dir, "status.html"))
    html = Path(path).read_text("utf-8")
    assert '<html lang="ar" dir="rtl">' in html
    assert html.index(bad) < html.index(good)
    row = html[html.index('<tr class="broken">') : html.index("</tr>", html.index(bad))]
    assert bad in row and "خطأ في خادم المصدر: HTTP 503" in row
    assert '<tr class="ok">' in html


def test_status_page_goes_inside_output_dir_only_when_configured(tmp_path: Path) -> None:
    inside = config.load(
        write_config(tmp_path, ["https://a.example/feed"], "status_page: out/status.html\n")
    )
    assert inside.status_page.path == os.path.join(inside.output_dir, "status.html")
    off = config.load(write_config(tmp_path, ["https://a.example/feed"], 'status_page: ""\n'))
    assert off.status_page.path is None
    # A database under output_dir (config refuses its own folder) does not drag the
    # default page in with it.
    from feeds.config import _ops
    from feeds.types import StatusPageConfig

    out = str(tmp_path / "out")
    default = _ops.resolve_status_path(
        StatusPageConfig(), explicit=False, folder=str(tmp_path),
        database=os.path.join(out, "data", "feeds.db"), output_dir=out,
    )  # fmt: skip
    assert default is None


def test_status_is_served_when_asked(two: tuple[Config, str, str]) -> None:
    cfg, good, bad = two
    text = Path(cfg.path).read_text("utf-8") + "status_page: {serve: true}\n"
    Path(cfg.path).write_text(text, "utf-8")
    cfg = config.load(cfg.path)
    assert cfg.status_page.path is None  # a mapping without a path writes no file
    operator, app = operator_app(cfg)
    try:
        tick(schedule.Daemon(cfg, operator=operator))
        page = get(app, "/status")
    finally:
        operator.close()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.index(bad) < page.text.index(good)


def test_triage_orders_broken_then_stale_then_ok() -> None:
    from feeds.store import SourceHealth

    now = datetime(2026, 11, 24, tzinfo=UTC)
    sources = [_state("https://a.example/", 0), _state("https://b.example/", 3),
               _state("https://c.example/", 0), _state("https://d.example/", 1)]  # fmt: skip
    old, fresh = now - timedelta(days=30), now - timedelta(days=1)
    seen = {"https://a.example/": SourceHealth("https://a.example/", fresh, fresh),
            "https://c.example/": SourceHealth("https://c.example/", fresh, old)}  # fmt: skip
    lines = status_page.triage(sources, seen, now, stale_days=7)
    assert [(line.source.url[8], line.state.value) for line in lines] == [
        ("b", "broken"), ("d", "broken"), ("c", "stale"), ("a", "ok"),
    ]  # fmt: skip


def _state(url: str, errors: int) -> Any:
    from feeds.store import SourceState
    from feeds.types import Validators

    when = datetime(2026, 11, 23, tzinfo=UTC)
    return SourceState(
        url, "", url, Validators(), None, errors, None, None, None, 0, None, None, None, when,
        503 if errors else 200, "error" if errors else "ok", "HTTP 503" if errors else None,
        0, 0, 0.0, True,
    )  # fmt: skip


def test_feeds_status_stale_lists_failing_sources_first(two: tuple[Config, str, str]) -> None:
    cfg, good, bad = two
    assert feeds("run", "-c", cfg.path).returncode == 0
    proc = feeds("status", "--stale", "-c", cfg.path, "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["url"], r["state"]) for r in rows] == [(bad, "broken")]  # good found news
    text = feeds("status", "-c", cfg.path, "--stale", "3")
    assert text.returncode == 0 and bad in text.stdout and good not in text.stdout
    assert feeds("status", "-c", cfg.path, "--stale", "0").returncode == 2


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("log_format: xml\n", "log_format: must be text or json, got 'xml'"),
        ("metrics: {allow: [nope]}\n", "metrics.allow[0]: not a network like 10.0.0.0/8"),
        ('metrics: {token_env: "a b"}\n', "metrics.token_env: must name an environment variable"),
        ("metrics: {port: 0}\n", "metrics.port: must be a TCP port from 1 to 65535, got 0"),
        ("status_page: {stale_days: 0}\n", "status_page.stale_days: must be at least 1, got 0"),
        ("status_page: {serve: yes please}\n", "status_page.serve: expected true or false"),
    ],
    ids=["log-format", "network", "token-env", "port", "stale-days", "serve"],
)
def test_operator_keys_are_checked(tmp_path: Path, extra: str, problem: str) -> None:
    path = write_config(tmp_path, ["https://a.example/feed"], extra)
    found = [str(p) for p in config.problems(path)]
    assert len(found) == 1 and problem in found[0], found


def test_a_source_password_reaches_neither_the_status_page_nor_the_metrics(
    tmp_path: Path,
) -> None:
    from feeds import metrics

    secret = "https://reader:hunter2@a.example/feed"
    cfg = config.load(write_config(tmp_path, ["https://a.example/other"], "metrics: {}\n"))
    when = datetime(2026, 11, 24, tzinfo=UTC)
    state = _state(secret, 2)
    page = status_page.render(cfg, status_page.triage([state], {}, when, 7), when).decode()
    snap = metrics.Snapshot(when, [state], {}, None, {})
    text = metrics.Metrics().render(snap).decode()
    for shown in (page, text):
        assert "hunter2" not in shown and "a.example/feed" in shown
