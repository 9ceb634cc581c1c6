"""Full text for summary-only sources (`full_text:`): the extractor on saved pages, and
whole passes against real HTTP servers on 127.0.0.1 that serve article pages, slow,
huge, endless, redirected, walled ones included."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from servers import LOOPBACK_YAML

from feeds import config, demo, fulltext, normalize, pipeline
from feeds.cli import main

PAGES = Path(__file__).parent / "data" / "pages"
ARTICLE = (PAGES / "base-elsewhere.html").read_bytes()
EXCERPT = "افتتحت إحدى الجامعات العربية أول مختبر للحوسبة الكمومية في المنطقة [&#8230;]"


# --------------------------------------------------------------------------- the extractor


@pytest.mark.parametrize(
    ("mode", "text", "wanted"),
    [
        ("false", "قصير", False),
        ("true", "نص طويل " * 200, True),
        ("auto", "نص قصير من سطرين فقط.", True),
        ("auto", "نص طويل " * 200, False),
        ("auto", "نص طويل " * 200 + "…", True),
        ("auto", "نص طويل " * 200 + " اقرأ المزيد", True),
        ("auto", "a long English text " * 50 + "Continue reading", True),
    ],
)
def test_which_articles_want_their_page(mode: Any, text: str, wanted: bool) -> None:
    assert normalize.wants_page(mode, text) is wanted


def test_a_news_cms_page_gives_its_article_without_the_furniture() -> None:
    page = (PAGES / "news-cms.html").read_bytes()
    got = fulltext.extract(page, "https://news.example/story/2026/11/22/123", feed_text=120)
    text = normalize.plain_text(got.html)
    assert got.reason == "" and got.html.startswith('<div dir="rtl" lang="ar">')
    assert "أربعة آلاف مكتب بريد" in text and "85 بالمئة" in text
    for furniture in ("اقرأ أيضا", "الجيل الخامس", "الأكثر قراءة", "مواعيد مباريات", "الرئيسية"):
        assert furniture not in text
    assert "<h1" not in got.html  # the headline is the item's title already
    assert 'src="https://news.example/images/2026/11/post-platform.jpg"' in got.html


def test_a_wordpress_page_drops_share_bars_related_posts_newsletter_and_comments() -> None:
    page = next(p for p in demo.demo_pages() if "sada-75" in p.path)
    got = fulltext.extract(page.body, "https://mudawwana.example/sada-75/", feed_text=80)
    text = normalize.plain_text(got.html)
    assert "البطارية صمدت معنا تسعة أيام" in text and "الخلاصة" in text
    for furniture in ("اقرأ أيضاً", "مواضيع ذات صلة", "النشرة البريدية", "شكرًا على الشرح", "واتساب"):
        assert furniture not in text
    assert "<script" not in got.html and "<form" not in got.html


def test_a_login_wall_is_no_article() -> None:
    got = fulltext.extract(
        (PAGES / "login-wall.html").read_bytes(), "https://p.example/a", feed_text=40
    )
    assert got.html == "" and "login wall" in got.reason


def test_a_base_on_another_host_does_not_move_the_links() -> None:
    got = fulltext.extract(ARTICLE, "https://uni.example/news/quantum/", feed_text=40)
    assert "elsewhere.example" not in got.html
    assert 'src="https://uni.example/news/quantum/images/quantum-lab.jpg"' in got.html
    assert 'href="https://uni.example/research/quantum"' in got.html


def test_the_same_page_extracts_the_same_every_time() -> None:
    # trafilatura's `deduplicate` would drop paragraphs it saw in an earlier call.
    first = fulltext.extract(ARTICLE, "https://uni.example/a/", feed_text=40)
    assert first.html and fulltext.extract(ARTICLE, "https://uni.example/b/", feed_text=40).html


def test_an_extraction_no_longer_than_the_feed_text_is_refused() -> None:
    got = fulltext.extract(ARTICLE, "https://uni.example/q/", feed_text=100_000)
    assert got.html == "" and "less text than the feed's" in got.reason


@pytest.mark.parametrize(
    "page", [b"", b"\x00\xff" * 500, b"<html><body></body></html>", b"<" * 10_000]
)
def test_garbage_pages_give_a_reason_not_an_error(page: bytes) -> None:
    got = fulltext.extract(page, "https://x.example/", feed_text=10)
    assert got.html == "" and got.reason


def test_a_tag_of_many_attributes_reaches_the_extractor_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # libxml2 and jusText take time growing as the square of one tag's attributes: a
    # 2.3 MB page of one <p> with 200,000 of them kept the extractor 473 s.
    import trafilatura

    seen: list[bytes] = []

    def spy(page: bytes, **kwargs: Any) -> None:
        seen.append(page)

    monkeypatch.setattr(trafilatura, "extract", spy)
    attrs = " ".join(f'data-a{i}="v"' for i in range(30_000))
    page = f"<html><body><p {attrs}>نص عربي طويل</p><p>ثم فقرة</p></body></html>".encode()
    assert not fulltext.extract(page, "https://x.example/a", feed_text=0).html
    [given] = seen
    assert given.count(b"=") == 256  # the first 256 attributes
    assert given.endswith("نص عربي طويل</p><p>ثم فقرة</p></body></html>".encode())
    seen.clear()
    fulltext.extract(ARTICLE, "https://x.example/a", feed_text=0)
    assert seen == [ARTICLE]  # an ordinary page is handed over as it is


# --------------------------------------------------------------------------- whole passes


Route = Callable[[BaseHTTPRequestHandler], None]


class Site:
    """A feed and its article pages on 127.0.0.1, with hit counts and peak concurrency."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()
        self.base = ""

    def html(self, path: str, body: bytes, delay: float = 0.0) -> None:
        def answer(h: BaseHTTPRequestHandler) -> None:
            time.sleep(delay)
            _send(h, 200, body, "text/html; charset=utf-8")

        self.routes[path] = answer


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
    h.send_response(status)
    h.send_header("Content-Type", kind)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@contextmanager
def site() -> Iterator[Site]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            with state.lock:
                state.hits[path] += 1
                state.in_flight += 1
                state.peak = max(state.peak, state.in_flight)
            try:
                route = state.routes.get(path)
                if route is None:
                    _send(self, 404, b"no", "text/plain")
                else:
                    route(self)
            except OSError:
                pass
            finally:
                with state.lock:
                    state.in_flight -= 1

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _feed(paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>خبر رقم {n} عن مختبر جامعي جديد {n * 7919}</title><link>{p}</link>"
        f"<guid>g{n}</guid><pubDate>Mon, 23 Nov 2026 {10 + n % 10:02d}:00:00 +0000</pubDate>"
        f"<description>{EXCERPT}</description></item>"
        for n, p in enumerate(paths)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>مدونة</title>'
        f"<link>https://blog.example/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def _config(
    tmp: Path, feed_url: str, *, full_text: str = "auto", budget: int = 10, database: str = "f.db"
) -> Any:
    (tmp / "config.yaml").write_text(
        "\n".join([
            "title: t", "base_url: https://feeds.example/", "output_dir: out",
            f"database: {json.dumps(database)}",
            LOOPBACK_YAML.replace("}", f", pages_per_source: {budget}}}"),
            "sources:", f"  - {{url: {json.dumps(feed_url)}, name: مدونة, full_text: {full_text}}}",
            "feeds:", "  - {slug: all, title: الكل}",
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    return config.load(tmp / "config.yaml")


def _published(tmp: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((tmp / "out" / "all.json").read_bytes())["items"]
    return items


def _run(cfg: Any) -> None:
    with pipeline.open_for(cfg) as store:
        pipeline.run_pass(cfg, store, every=True)


def test_a_summary_only_source_publishes_the_page_text_and_fetches_it_once(tmp_path: Path) -> None:
    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/a/1"]), "application/rss+xml")
        s.html("/a/1", ARTICLE)
        cfg = _config(tmp_path, s.base + "/feed.xml")
        _run(cfg)
        [item] = _published(tmp_path)
        assert item["_feeds"]["content_from"] == "page"
        assert "برنامجًا للماجستير في الحوسبة الكمومية" in item["content_html"]
        assert "برنامجًا للماجستير" not in EXCERPT
        _run(cfg)
        _run(_config(tmp_path, s.base + "/feed.xml", full_text="true"))
        assert s.hits["/a/1"] == 1  # once, ever
        assert _published(tmp_path)[0]["_feeds"]["content_from"] == "page"


def test_the_feed_text_is_published_before_any_page_is_asked_for(tmp_path: Path) -> None:
    seen_before_page: list[str] = []
    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/a/1"]), "application/rss+xml")

        def page(h: BaseHTTPRequestHandler) -> None:
            files = tmp_path / "out" / "all.json"
            seen_before_page.append(
                _published(tmp_path)[0]["_feeds"]["content_from"] if files.exists() else ""
            )
            _send(h, 200, ARTICLE, "text/html")

        s.routes["/a/1"] = page
        _run(_config(tmp_path, s.base + "/feed.xml"))
    assert seen_before_page == ["pending"]
    assert _published(tmp_path)[0]["_feeds"]["content_from"] == "page"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ("huge", "larger than the"),  # 50 MB: refused at the page cap
        ("endless", "larger than the"),  # never ends: cut at the cap
        ("wall", "login wall"),
        ("pdf", "not an HTML page"),
        ("gone", "HTTP 404"),
    ],
)
def test_a_page_that_gives_no_article_keeps_the_feed_text_and_says_why(
    tmp_path: Path, route: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        block = b"<p>" + "كلام ".encode() * 2000 + b"</p>"
        for _ in range(100_000):
            h.wfile.write(block)

    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/p"]), "application/rss+xml")
        if route == "huge":
            s.html("/p", b"<html><body><p>" + b"x" * (50 * 1024 * 1024) + b"</p></body></html>")
        elif route == "endless":
            s.routes["/p"] = endless
        elif route == "wall":
            s.html("/p", (PAGES / "login-wall.html").read_bytes())
        elif route == "pdf":
            s.routes["/p"] = lambda h: _send(h, 200, b"%PDF-1.4", "application/pdf")
        cfg = _config(tmp_path, s.base + "/feed.xml")
        _run(cfg)
        _run(cfg)
        assert s.hits["/p"] == 1  # failed for good: not asked again
    [item] = _published(tmp_path)
    assert item["_feeds"]["content_from"] == "failed"
    assert "مختبر للحوسبة الكمومية" in item["content_html"]  # the feed's excerpt stays
    capsys.readouterr()
    assert main(["status", "-c", str(tmp_path / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert "full text: 0 from pages, 0 waiting, 1 failed (last: " in out and reason in out
    assert main(["status", "--json", "-c", str(tmp_path / "config.yaml")]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["full_text"]["failed"] == 1 and reason in row["full_text"]["last_failure"]
    from feeds import status_page

    with pipeline.open_for(cfg) as store:
        html = status_page.page(store, cfg, pipeline.utc_now()).decode()
    assert "<th>النص الكامل</th>" in html and "0 من الصفحات، 0 بالانتظار، 1 تعذّر" in html


def test_a_redirect_to_another_host_is_followed_under_the_same_rules(tmp_path: Path) -> None:
    with site() as s, site() as other:
        other.html("/real", ARTICLE)
        target = other.base.replace("127.0.0.1", "localhost") + "/real"
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/moved"]), "application/rss+xml")

        def moved(h: BaseHTTPRequestHandler) -> None:
            h.send_response(301)
            h.send_header("Location", target)
            h.send_header("Content-Length", "0")
            h.end_headers()

        s.routes["/moved"] = moved
        _run(_config(tmp_path, s.base + "/feed.xml"))
        assert other.hits["/real"] == 1
    assert _published(tmp_path)[0]["_feeds"]["content_from"] == "page"


def test_a_redirect_to_a_refused_address_is_refused(tmp_path: Path) -> None:
    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/inside"]), "application/rss+xml")

        def inside(h: BaseHTTPRequestHandler) -> None:
            h.send_response(302)
            h.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            h.send_header("Content-Length", "0")
            h.end_headers()

        s.routes["/inside"] = inside
        _run(_config(tmp_path, s.base + "/feed.xml"))
    assert _published(tmp_path)[0]["_feeds"]["content_from"] == "failed"


def test_pages_go_one_at_a_time_per_host_within_the_per_source_budget(tmp_path: Path) -> None:
    paths = [f"/a/{n}" for n in range(5)]
    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(paths), "application/rss+xml")
        for path in paths:
            s.html(path, ARTICLE, delay=0.1)
        cfg = _config(tmp_path, s.base + "/feed.xml", budget=3)
        _run(cfg)
        fetched = sum(s.hits[p] for p in paths)
        assert fetched == 3 and s.peak <= 1 + 1  # the feed's own request may overlap none
        assert sorted(i["_feeds"]["content_from"] for i in _published(tmp_path)) == [
            "page", "page", "page", "pending", "pending",
        ]  # fmt: skip
        _run(cfg)
        assert sum(s.hits[p] for p in paths) == 5 and all(s.hits[p] == 1 for p in paths)
    assert {i["_feeds"]["content_from"] for i in _published(tmp_path)} == {"page"}


def test_a_passing_failure_is_retried_then_given_up(tmp_path: Path) -> None:
    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/busy"]), "application/rss+xml")
        s.routes["/busy"] = lambda h: _send(h, 503, b"later", "text/plain")
        cfg = _config(tmp_path, s.base + "/feed.xml")
        _run(cfg)
        assert _published(tmp_path)[0]["_feeds"]["content_from"] == "pending"
        for _ in range(4):
            _run(cfg)
        assert s.hits["/busy"] == 3
    assert _published(tmp_path)[0]["_feeds"]["content_from"] == "failed"


def test_full_text_false_fetches_no_page(tmp_path: Path) -> None:
    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/a/1"]), "application/rss+xml")
        s.html("/a/1", ARTICLE)
        _run(_config(tmp_path, s.base + "/feed.xml", full_text="false"))
        assert s.hits["/a/1"] == 0
    assert _published(tmp_path)[0]["_feeds"]["content_from"] == "feed"


def test_the_demo_blog_publishes_whole_articles_right_to_left(tmp_path: Path) -> None:
    from demo_site import publish_demo

    items = json.loads((publish_demo(tmp_path) / "all.json").read_bytes())["items"]
    blog = [i for i in items if i["_feeds"]["lead"] == "مدونة المطوّر"]
    assert len(blog) == 3
    for item in blog:
        assert item["_feeds"]["content_from"] == "page"
        assert item["content_html"].startswith('<div dir="rtl" lang="ar">')
        assert len(normalize.plain_text(item["content_html"])) > 500
        assert "اقرأ أيضاً" not in item["content_html"] and "تابعونا" not in item["content_html"]


def test_a_worker_publish_fetches_the_pages_waiting(tmp_path: Path, pg_url: str) -> None:
    from datetime import timedelta

    from feeds import ops, worker

    with site() as s:
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/a/1"]), "application/rss+xml")
        s.html("/a/1", ARTICLE)
        # A pass that may fetch no page leaves the article waiting, as worker refreshes do.
        _run(_config(tmp_path, s.base + "/feed.xml", budget=0, database=pg_url))
        assert _published(tmp_path)[0]["_feeds"]["content_from"] == "pending"
        cfg = _config(tmp_path, s.base + "/feed.xml", database=pg_url)
        since = pipeline.utc_now() - timedelta(days=1)
        assert worker._publish(cfg, since, ops.Operator(cfg, metrics=False)) is not None
        assert s.hits["/a/1"] == 1
    assert _published(tmp_path)[0]["_feeds"]["content_from"] == "page"


def test_a_page_that_keeps_the_extractor_running_is_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The extractor cannot be cancelled. It ran in the loop's default executor, where
    # one that ran on held the end of the pass and the process's exit.
    release = threading.Event()

    def stuck(page: bytes, url: str, *, feed_text: int) -> fulltext.Extracted:
        release.wait(timeout=30)
        return fulltext.Extracted(reason="released")

    monkeypatch.setattr(fulltext, "extract", stuck)
    monkeypatch.setattr(pipeline._refresh, "PARSE_LIMIT", 0.5)
    try:
        with site() as s:
            s.routes["/feed.xml"] = lambda h: _send(h, 200, _feed(["/p"]), "application/rss+xml")
            s.html("/p", ARTICLE)
            cfg = _config(tmp_path, s.base + "/feed.xml")
            _run(cfg)
    finally:
        release.set()
    [item] = _published(tmp_path)
    assert item["_feeds"]["content_from"] == "failed"
    with pipeline.open_for(cfg) as store:
        [(counts, reason)] = store.full_text_report().values()
    assert counts.get("failed") == 1
    assert reason == "the extractor ran over 0 s"  # PARSE_LIMIT, 0.5 s here
