"""index.html in a real browser: Debian's headless Chromium, driven by Playwright.

A real pass over tests/data/pipeline publishes the page, which is then served from
127.0.0.1 and opened with JavaScript switched off (the page must not need it). The
screenshots land in test-output/ for a human to look at.

CI installs the browser (`apt-get install -y chromium`); without it this test fails
with that instruction rather than skipping, so a missing browser cannot pass unseen.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from demo_site import publish_demo
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_httpserver import HTTPServer
from servers import LOOPBACK_YAML

from feeds import config, pipeline, serve

CHROMIUM = "/usr/bin/chromium"
DATA = Path(__file__).parent / "data" / "pipeline"
OUTPUT = Path(__file__).parent.parent / "test-output"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWPORTS = {"desktop": (1280, 900), "mobile": (375, 812)}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The URL of a freshly published index.html and the titles of the "all" feed."""
    folder = tmp_path_factory.mktemp("browser")
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        server.expect_request("/alpha.rss").respond_with_data((DATA / "alpha.rss").read_bytes())
        server.expect_request("/beta.atom").respond_with_data((DATA / "beta.atom").read_bytes())
        lines = [
            'title: "أخبار التقنية العربية"',
            "base_url: http://127.0.0.1/feeds/",
            "output_dir: out",
            "database: feeds.db",
            LOOPBACK_YAML,
            "sources:",
            f"  - {{url: {json.dumps(server.url_for('/alpha.rss'))}, name: ألفا تك}}",
            f"  - {{url: {json.dumps(server.url_for('/beta.atom'))}, name: بيتا}}",
            "feeds:",
            '  - {slug: all, title: "كل الأخبار"}',
            '  - {slug: ai, title: "الذكاء الاصطناعي", topics: [ai]}',
        ]
        (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        cfg = config.load(folder / "config.yaml")
        with pipeline.open_for(cfg) as store:
            pipeline.run_pass(cfg, store, every=True)
        feed = json.loads((folder / "out" / "all.json").read_bytes())
        titles = [item["title"] for item in feed["items"]]
        page = (folder / "out" / "index.html").read_bytes()
        server.expect_request("/index.html").respond_with_data(
            page, content_type="text/html; charset=utf-8"
        )
        # As `feeds serve` sends it: with the Content-Security-Policy that allows the
        # page's own script by its hash, and nothing else.
        server.expect_request("/served/index.html").respond_with_data(
            page, content_type="text/html; charset=utf-8", headers=serve.security_headers("a.html")
        )
        yield server.url_for("/index.html"), titles
    finally:
        server.clear()
        server.stop()


@pytest.fixture(scope="module")
def long_words(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of a pass over headlines and excerpts with words longer than a
    phone's width: a URL, a run of tatweel, a product code without spaces; the site's
    and the feeds' titles too (the header, the menu and the section headings)."""
    folder = tmp_path_factory.mktemp("long-words")
    words = ["https://tech.example/" + "a/" * 60, "ا" + "ـ" * 150 + "ب", "X" * 150]
    items = "".join(
        f"<item><title>خبر {n} {word} رسميا</title><link>https://tech.example/{n}</link>"
        f"<description>وصف {word} للخبر</description>"
        "<pubDate>Mon, 07 Dec 2026 10:00:00 GMT</pubDate></item>"
        for n, word in enumerate(words)
    )
    feed = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        server.expect_request("/long.rss").respond_with_data(feed.encode())
        site, section = "TechNews.ArabWorld/الأخبار_التقنية_العربية_الشاملة", "AI/" * 30
        lines = [
            f'title: "{site}"', "base_url: http://127.0.0.1/feeds/", "output_dir: out",
            "database: feeds.db", LOOPBACK_YAML, "sources:",
            f"  - {{url: {json.dumps(server.url_for('/long.rss'))}, name: طويل}}",
            "feeds:", f'  - {{slug: all, title: "{section}"}}',
            f'  - {{slug: ai, title: "{section}x"}}',
        ]  # fmt: skip
        (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        cfg = config.load(folder / "config.yaml")
        with pipeline.open_for(cfg) as store:
            pipeline.run_pass(cfg, store, every=True)
    finally:
        server.clear()
        server.stop()
    return folder / "out"


@pytest.fixture(scope="module")
def browser(
    published: tuple[str, list[str]], demo_site: Path, long_words: Path
) -> Iterator[Browser]:
    # Depends on `published` so the pass (asyncio.run) happens before Playwright's sync
    # API starts its own event loop in this thread.
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's browser with "
            "`apt-get install -y chromium` (CI does this in .ci/run)"
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@contextmanager
def open_page(browser: Browser, url: str, name: str, *, screenshot: bool = True) -> Iterator[Page]:
    """A page at one of VIEWPORTS, JavaScript off; screenshotted when the test passes."""
    width, height = VIEWPORTS[name]
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=False
    )
    try:
        page = context.new_page()
        response = page.goto(url)
        assert response is not None and response.status == 200
        yield page
        if screenshot:
            OUTPUT.mkdir(exist_ok=True)
            page.screenshot(path=str(OUTPUT / f"index-{name}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("name", list(VIEWPORTS))
def test_index_reads_right_to_left_and_shows_the_stories(
    published: tuple[str, list[str]], browser: Browser, name: str
) -> None:
    url, titles = published
    assert len(titles) >= 3
    with open_page(browser, url, name) as page:
        direction = page.evaluate("getComputedStyle(document.documentElement).direction")
        assert direction == "rtl"
        assert page.evaluate("document.documentElement.lang") == "ar"
        for title in titles:
            link = page.locator("h3 a", has_text=title).first
            assert link.is_visible(), title
            box = link.bounding_box()
            assert box is not None and box["width"] > 0 and box["height"] > 0
        # Responsive: nothing forces a sideways scroll, even at a phone's width.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px of horizontal overflow at {name} width"


@pytest.mark.parametrize("name", ["index.html", "all.html"])
def test_a_word_longer_than_the_screen_wraps(browser: Browser, long_words: Path, name: str) -> None:
    with open_page(browser, (long_words / name).as_uri(), "mobile", screenshot=False) as page:
        assert page.locator("h3 a").count() == 3
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px of horizontal overflow"


def test_the_page_needs_no_script(published: tuple[str, list[str]], browser: Browser) -> None:
    with open_page(browser, published[0], "desktop", screenshot=False) as page:
        assert page.locator("script").count() == 1  # the relative times, and only them
        assert page.locator('link[rel="alternate"][type="application/rss+xml"]').count() == 2
        # Without the script every time is the absolute date, as published.
        first = page.locator(".meta time").first
        assert re.fullmatch(r"\d{1,2} \S+ \d{4}، \d\d:\d\d", first.inner_text())
        assert first.get_attribute("title") is None


#: Seconds after a card's time, and what the page then says of it ("" = the absolute
#: date): Arabic counts one, two (the dual), 3-10 (plural) and 11 up (singular).
AGO = [
    (30, "الآن"), (60, "منذ دقيقة"), (120, "منذ دقيقتين"), (300, "منذ 5 دقائق"),
    (900, "منذ 15 دقيقة"), (3600, "منذ ساعة"), (7200, "منذ ساعتين"),
    (10800, "منذ 3 ساعات"), (46800, "منذ 13 ساعة"), (86400, "منذ يوم"),
    (172800, "منذ يومين"), (518400, "منذ 6 أيام"), (691200, ""),
]  # fmt: skip


def test_times_read_relatively_under_the_served_security_policy(
    published: tuple[str, list[str]], browser: Browser
) -> None:
    url = published[0].replace("/index.html", "/served/index.html")
    context = browser.new_context()  # JavaScript on, as readers have it
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        # Learn the newest card time from the page, then reopen it with the clock there.
        page.goto(url)
        stamps = page.locator(".meta time").evaluate_all(
            "ts => ts.map(t => t.getAttribute('datetime'))"
        )
        newest = max(stamps, key=lambda s: datetime.fromisoformat(s))
        start = datetime.fromisoformat(newest)
        page.clock.install(time=start)
        page.goto(url)
        shown = page.locator(f'.meta time[datetime="{newest}"]').first
        absolute = shown.get_attribute("title")
        assert absolute and re.fullmatch(r"\d{1,2} \S+ \d{4}، \d\d:\d\d", absolute)
        elapsed = 0
        for seconds, wanted in AGO:
            page.clock.fast_forward((seconds - elapsed) * 1000)  # fires the minute timer
            elapsed = seconds
            assert shown.inner_text() == (wanted or absolute), seconds
        assert problems == []  # a blocked script is a console error
    finally:
        context.close()


# --------------------------------------------------------------------------- the demo's pages

#: A 1×1 PNG answered for every remote picture: the test sends nothing off the machine.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
#: Where the first character (or first isolated run) of each Arabic headline is drawn,
#: against the right edge of its heading (where a right-to-left first line starts);
#: and its computed direction.
FIRST_GLYPH = """a => {
  const first = a.firstChild, range = document.createRange();
  if (first.nodeType === Node.TEXT_NODE) { range.setStart(first, 0); range.setEnd(first, 1); }
  else { range.selectNodeContents(first); }
  const glyph = range.getClientRects()[0], line = a.closest("h3").getBoundingClientRect();
  return {text: a.textContent, direction: getComputedStyle(a).direction,
          gap: Math.abs(line.right - glyph.right)};
}"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's output folder (what `make demo` writes), published by a real pass."""
    return publish_demo(tmp_path_factory.mktemp("demo"))


@contextmanager
def demo_page(browser: Browser, folder: Path, name: str, viewport: str) -> Iterator[Page]:
    """A demo page opened from disk; remote pictures answered locally; console errors and
    failed requests fail the test."""
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.route(
        re.compile(r"^https?://"), lambda route: route.fulfill(body=PIXEL, content_type="image/png")
    )
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.goto((folder / name).as_uri(), wait_until="load")
        yield page
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT / f"demo-{name}-{viewport}.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", ["index.html", "all.html"])
def test_no_arabic_headline_is_laid_out_left_to_right(
    browser: Browser, demo_site: Path, name: str, viewport: str
) -> None:
    with demo_page(browser, demo_site, name, viewport) as page:
        links = page.locator('article[lang="ar"] h3 a')
        assert links.count() >= 10
        starts_latin = 0
        for i in range(links.count()):
            found = links.nth(i).evaluate(FIRST_GLYPH)
            assert found["direction"] == "rtl", found["text"]
            assert found["gap"] <= 2, found  # its first word is at the right end
            starts_latin += found["text"][0].isascii()
        if name == "all.html":  # every story; the front page may hold none of them
            assert starts_latin >= 1  # the case dir="auto" got wrong is among them
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0


def test_pictures_have_sizes_and_go_without_a_referrer(browser: Browser, demo_site: Path) -> None:
    with demo_page(browser, demo_site, "index.html", "desktop") as page:
        images = page.locator("img")
        assert images.count() >= 10
        for i in range(images.count()):
            image = images.nth(i)
            assert image.get_attribute("width") and image.get_attribute("height")
            assert image.get_attribute("loading") == "lazy"
            assert image.get_attribute("referrerpolicy") == "no-referrer"


def test_front_page_repeats_no_story_and_feed_pages_show_their_whole_feed(
    browser: Browser, demo_site: Path
) -> None:
    with demo_page(browser, demo_site, "index.html", "desktop") as page:
        hrefs = page.locator("article h3 a").evaluate_all("links => links.map(a => a.href)")
        assert len(hrefs) == len(set(hrefs))
        assert page.locator("header nav a").count() >= 2
        assert page.locator("main, header, footer, nav").count() == 4
    items = json.loads((demo_site / "all.json").read_bytes())["items"]
    with demo_page(browser, demo_site, "all.html", "mobile") as page:
        assert page.locator("article h3 a").count() == len(items)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", ["index.html", "all.html"])
def test_axe_finds_no_serious_accessibility_violation(
    browser: Browser, demo_site: Path, name: str, viewport: str
) -> None:
    """axe-core (the engine of browsers' accessibility audits) in the same browser:
    landmarks, headings, contrast in light and dark mode, names of links and images,
    `lang` on every block."""
    for scheme in ("light", "dark"):
        with demo_page(browser, demo_site, name, viewport) as page:
            page.emulate_media(color_scheme=scheme)
            found = Axe().run(page).response["violations"]
            serious = [
                f"{v['id']} ({v['impact']}): {v['help']}; e.g. {v['nodes'][0]['html'][:120]}"
                for v in found
                if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], (scheme, serious)
