"""One pass over every kind of hostile source at once: the pass completes, the good
source still publishes, and the store says what happened to each bad one."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from pytest_httpserver import HTTPServer
from servers import HostileServer, hostile_server

from feeds import config, pipeline
from feeds.store import SourceState, open_store
from feeds.types import Config, Outcome

DATA = Path(__file__).parent / "data" / "pipeline"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

HOSTILE = (
    "/slow?every=1&n=50",
    "/endless",
    "/gzip-bomb",
    "/brotli-bomb",
    "/loop/a",
    "/to-file",
    "/moved",
    "/gone",
    "/ratelimited",
    "/error",
    "/reset",
    "/empty",
    "/garbage",
)


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with hostile_server(endless_bytes=200 * 1024 * 1024, lifetime=60.0) as srv:
        yield srv


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text("TOP-SECRET-TOKEN")
    return path


@pytest.fixture(scope="module")
def local(secret: Path) -> Iterator[HTTPServer]:
    httpserver = HTTPServer(host="127.0.0.1", port=0)
    httpserver.start()
    _serve_local(httpserver, secret)
    yield httpserver
    httpserver.clear()
    httpserver.stop()


def _serve_local(httpserver: HTTPServer, secret: Path) -> None:
    httpserver.expect_request("/good.rss").respond_with_data(
        (DATA / "alpha.rss").read_bytes(), content_type="application/rss+xml"
    )
    page = '<html><head><link rel="alternate" type="application/atom+xml" href="/beta.atom">'
    httpserver.expect_request("/page.html").respond_with_data(
        page + "</head><body>مدونة</body></html>", content_type="text/html"
    )
    httpserver.expect_request("/beta.atom").respond_with_data(
        (DATA / "beta.atom").read_bytes(), content_type="application/atom+xml"
    )
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>x</title><item><title>سر &xxe;</title>'
        "<link>https://xxe.example/1</link></item></channel></rss>"
    )
    httpserver.expect_request("/xxe.rss").respond_with_data(xxe, content_type="application/xml")
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">'
        + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
        + ']><rss version="2.0"><channel><title>x</title><item><title>&l9;</title>'
        "<link>https://lol.example/1</link></item></channel></rss>"
    )
    httpserver.expect_request("/laughs.rss").respond_with_data(laughs, content_type="text/xml")


def make_config(tmp_path: Path, urls: list[str]) -> Config:
    sources = "".join(f"  - url: {json.dumps(u)}\n" for u in urls)
    path = tmp_path / "config.yaml"
    path.write_text(
        'title: "تجربة"\nbase_url: https://example.org/\noutput_dir: out\ndatabase: feeds.db\n'
        "fetch:\n  timeout: 3\n  max_bytes: 1MiB\n  per_host: 8\n  allow_private: [127.0.0.0/8]\n"
        "sources:\n" + sources + 'feeds:\n  - slug: all\n    title: "الكل"\n',
        encoding="utf-8",
    )
    return config.load(path)


@pytest.fixture(scope="module")
def passed(
    hostile: HostileServer, local: HTTPServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, dict[str, SourceState], float]:
    tmp_path = tmp_path_factory.mktemp("pass")
    urls = [hostile.url(p) for p in HOSTILE]
    urls += [local.url_for(p) for p in ("/good.rss", "/page.html", "/xxe.rss", "/laughs.rss")]
    cfg = make_config(tmp_path, urls)
    started = time.monotonic()
    with pipeline.open_for(cfg) as store:
        result = pipeline.run_pass(cfg, store, every=True, now=lambda: NOW)
    elapsed = time.monotonic() - started
    assert len(result.sources) == len(urls)
    with open_store(cfg.database) as store:
        states = {s.url: s for s in store.sources()}
    return cfg, states, elapsed


def test_pass_completes_within_its_bounds(passed: tuple[Config, dict, float]) -> None:
    _, _, elapsed = passed
    # every fetch has a 3 s total deadline and they run concurrently
    assert elapsed < 20


def test_good_sources_still_publish(passed: tuple[Config, dict, float], local: HTTPServer) -> None:
    cfg, states, _ = passed
    doc = feedparser.parse((Path(cfg.output_dir) / "all.rss").read_bytes())
    links = {e.link for e in doc.entries}
    assert "https://alpha.example/2026/11/microsoft-uae/" in links
    assert "https://beta.example/android-17-beta" in links  # found through the HTML page
    assert states[local.url_for("/good.rss")].last_outcome == Outcome.OK.value


def test_html_page_leads_to_its_feed(passed: tuple[Config, dict, float], local: HTTPServer) -> None:
    _, states, _ = passed
    page = states[local.url_for("/page.html")]
    assert page.discovered_url == local.url_for("/beta.atom")
    assert page.items == 2


def test_xml_attacks_read_no_file_and_do_not_explode(
    passed: tuple[Config, dict, float], local: HTTPServer
) -> None:
    cfg, states, _ = passed
    for path in Path(cfg.output_dir).iterdir():
        text = path.read_text("utf-8")
        assert "TOP-SECRET-TOKEN" not in text
        assert "lollollollollol" not in text
    assert states[local.url_for("/laughs.rss")].consecutive_errors <= 1


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/slow?every=1&n=50", "within 3 s"),
        ("/endless", "cap"),
        ("/gzip-bomb", "cap"),
        ("/brotli-bomb", "cap"),
        ("/loop/a", "redirect"),
        ("/to-file", "file"),
        ("/error", "500"),
        ("/reset", ""),
        ("/empty", ""),
        ("/garbage", ""),
    ],
)
def test_each_failure_is_recorded_with_a_reason(
    passed: tuple[Config, dict, float], hostile: HostileServer, path: str, words: str
) -> None:
    _, states, _ = passed
    state = states[hostile.url(path)]
    assert state.last_outcome == Outcome.ERROR.value
    assert state.consecutive_errors == 1
    assert state.last_error and words.lower() in state.last_error.lower()
    assert state.next_due is not None and state.next_due > NOW
    assert state.disabled_reason is None


def test_gone_disables_until_the_config_changes(
    passed: tuple[Config, dict, float], hostile: HostileServer
) -> None:
    _, states, _ = passed
    gone = states[hostile.url("/gone")]
    assert gone.last_status == 410
    assert gone.disabled_reason and "410" in gone.disabled_reason


def test_retry_after_is_honoured(
    passed: tuple[Config, dict, float], hostile: HostileServer
) -> None:
    _, states, _ = passed
    limited = states[hostile.url("/ratelimited")]
    assert limited.last_status == 429
    assert limited.next_due is not None
    # Retry-After: 120 s, bounded below by the configured minimum interval (5 min)
    assert NOW + timedelta(seconds=120) <= limited.next_due <= NOW + timedelta(hours=24)


def test_permanent_redirect_is_tracked_not_adopted_at_once(
    passed: tuple[Config, dict, float], hostile: HostileServer
) -> None:
    _, states, _ = passed
    moved = states[hostile.url("/moved")]
    assert moved.last_outcome == Outcome.OK.value
    assert moved.redirect_target == hostile.url("/feed.xml")
    assert moved.redirect_seen == 1
    assert moved.fetch_url == hostile.url("/moved")


def test_permanent_redirect_seen_over_a_day_is_adopted(
    hostile: HostileServer, tmp_path: Path
) -> None:
    cfg = make_config(tmp_path, [hostile.url("/moved")])
    for hours in (0, 13, 26):
        with pipeline.open_for(cfg) as store:
            pipeline.run_pass(cfg, store, every=True, now=lambda h=hours: NOW + timedelta(hours=h))
    with open_store(cfg.database) as store:
        state = store.source(hostile.url("/moved"))
    assert state is not None
    assert state.url == hostile.url("/moved")  # status shows the original...
    assert state.fetch_url == hostile.url("/feed.xml")  # ...and the URL now fetched
