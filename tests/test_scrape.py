"""Sources without a feed: an HTML listing read by `scrape:` selectors, a page's
JSON-LD, a news sitemap; and `feeds try`, which shows what a source would yield. Whole
passes against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from servers import LOOPBACK_YAML
from test_fulltext import _send, site

from feeds import config, demo, pipeline
from feeds.cli import main
from feeds.errors import ConfigError

LISTING = """<!DOCTYPE html><html lang="ar"><head><meta charset="utf-8"><title>t</title>
</head><body>
<div class="card"><h2><a href="/n/1">خبر أول عن الشبكات</a></h2>
<time datetime="2026-11-23T09:00:00+03:00">اليوم</time>
<p class="s">ملخص<script>alert(1)</script> <img src="/i.png" onerror="x()"></p></div>
<div class="card"><h2><a href="https://other.example/n/2">خبر ثان عن الفضاء</a></h2>
<span class="d">الأحد 22 نوفمبر 2026</span></div>
<div class="card"><h2>بلا رابط</h2></div>
</body></html>""".encode()
SCRAPE = '{item: div.card, title: h2, link: h2 a, date: "time, .d", summary: p.s}'
SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://news.example/2026/11/23/a</loc><news:news>
  <news:publication><news:name>n</news:name><news:language>ar</news:language></news:publication>
  <news:publication_date>2026-11-23T08:00:00+03:00</news:publication_date>
  <news:title>إطلاق قمر صناعي جديد</news:title></news:news></url>
 <url><loc>https://news.example/about</loc></url>
</urlset>""".encode()


def _config(tmp: Path, sources: list[str]) -> Any:
    lines = [
        "title: t", "base_url: https://feeds.example/", "output_dir: out", "database: f.db",
        LOOPBACK_YAML, "sources:", *(sources or ["  - {url: https://x.example/feed}"]),
        "feeds:", "  - {slug: all, title: الكل}",
    ]  # fmt: skip
    (tmp / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config.load(tmp / "config.yaml")


def _run(cfg: Any) -> Any:
    with pipeline.open_for(cfg) as store:
        return pipeline.run_pass(cfg, store, every=True)


def _items(tmp: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((tmp / "out" / "all.json").read_bytes())["items"]
    return items


def test_a_listing_page_is_followed_through_its_selectors(tmp_path: Path) -> None:
    with site() as s:
        s.html("/news", LISTING)
        url = s.base + "/news"
        cfg = _config(tmp_path, [f"  - {{url: {json.dumps(url)}, scrape: {SCRAPE}}}"])
        result = _run(cfg)
        assert result.new_articles == 2  # the card without a link is no item
        again = _run(cfg)
    assert again.new_articles == 0 and again.sources[0].outcome.value == "unchanged"
    by_url = {i["url"]: i for i in _items(tmp_path)}
    first = by_url[s.base + "/n/1"]
    assert first["title"] == "خبر أول عن الشبكات"
    assert first["date_published"] == "2026-11-23T06:00:00Z"  # <time datetime>, exactly
    assert "<script" not in first["content_html"] and "onerror" not in first["content_html"]
    assert f'src="{s.base}/i.png"' in first["content_html"]
    second = by_url["https://other.example/n/2"]
    assert second["date_published"].startswith("2026-11-22")  # an Arabic date, read


def test_an_item_without_a_title_selector_is_titled_by_its_words_apart(
    tmp_path: Path,
) -> None:
    # lxml's text_content ran "خبر عن الشبكات" and "اليوم" together, script and all.
    page = (
        '<html><body><div class="n"><script>var x=1</script><h2><a href="/n/1">خبر عن'
        " الشبكات</a></h2><time>اليوم</time></div></body></html>"
    ).encode()
    with site() as s:
        s.html("/list", page)
        url = json.dumps(s.base + "/list")
        _run(_config(tmp_path, [f"  - {{url: {url}, scrape: {{item: div.n}}}}"]))
    assert [i["title"] for i in _items(tmp_path)] == ["خبر عن الشبكات اليوم"]


def test_a_listing_page_is_read_in_the_charset_its_header_names(tmp_path: Path) -> None:
    # No <meta charset>: lxml, given the bytes alone, read them as Latin-1.
    page = '<html><body><div class="n"><a href="/n/1">تحديث مهم لنظام الهاتف</a></div>'
    with site() as s:
        for name, charset in (("/utf8", "utf-8"), ("/arabic", "windows-1256")):
            body, kind = page.encode(charset), f"text/html; charset={charset}"
            s.routes[name] = lambda h, b=body, k=kind: _send(h, 200, b, k)
        urls = [json.dumps(s.base + p) for p in ("/utf8", "/arabic")]
        scrape = "{item: div.n, title: a}"
        _run(_config(tmp_path, [f"  - {{url: {u}, scrape: {scrape}}}" for u in urls]))
    # Read as Latin-1, "م" (d9 85) held U+0085, white space to Python: the title's
    # spaces were tidied through it, and no repair could put the letter back.
    assert [i["title"] for i in _items(tmp_path)] == ["تحديث مهم لنظام الهاتف"]  # one story


def test_selectors_that_find_nothing_are_a_source_error_not_zero_items(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with site() as s:
        s.html("/news", b"<html><body><p>redesigned</p></body></html>")
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _rss(), "application/rss+xml")
        news, feed = json.dumps(s.base + "/news"), json.dumps(s.base + "/feed.xml")
        cfg = _config(tmp_path, [f"  - {{url: {news}, scrape: {SCRAPE}}}", f"  - {{url: {feed}}}"])
        capsys.readouterr()
        assert main(["run", "--all", "-c", str(tmp_path / "config.yaml")]) == 0
    err = capsys.readouterr().err
    assert "scrape.item 'div.card' matches nothing on the page" in err
    assert [i["title"] for i in _items(tmp_path)] == ["خبر من خلاصة عادية"]  # the other one
    assert main(["status", "--json", "-c", str(cfg.path)]) == 0
    rows = {r["url"]: r for r in json.loads(capsys.readouterr().out)}
    assert "matches nothing" in rows[s.base + "/news"]["last_error"]


def _rss() -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>c</title>'
        "<link>https://c.example/</link><description>d</description><item><title>خبر من خلاصة"
        " عادية</title><link>https://c.example/1</link><guid>1</guid></item></channel></rss>"
    ).encode()


def test_a_page_with_json_ld_and_no_feed_needs_no_selectors(tmp_path: Path) -> None:
    page = next(f for f in demo.demo_files() if f.path == "nabd-jsonld.html")
    with site() as s:
        s.html("/", page.body)
        _run(_config(tmp_path, [f"  - {{url: {json.dumps(s.base + '/')}}}"]))
    items = _items(tmp_path)
    assert sorted(i["url"] for i in items) == [
        "https://nabd-ibtikar.example/2026/11/22/palm-disease-app",
        "https://nabd-ibtikar.example/2026/11/23/installments-startup",
    ]
    assert {i["date_published"] for i in items} == {"2026-11-23T05:15:00Z", "2026-11-22T10:40:00Z"}
    assert all(i["summary"] for i in items)


def test_json_ld_is_read_in_the_charset_the_header_names(tmp_path: Path) -> None:
    article = {"@type": "NewsArticle", "headline": "تحديث مهم لنظام الهاتف", "url": "/n/1"}
    block = json.dumps(article, ensure_ascii=False)
    page = f'<html><script type="application/ld+json">{block}</script></html>'
    with site() as s:
        body, kind = page.encode("windows-1256"), "text/html; charset=windows-1256"
        s.routes["/page"] = lambda h: _send(h, 200, body, kind)
        _run(_config(tmp_path, [f"  - {{url: {json.dumps(s.base + '/page')}}}"]))
    assert [i["title"] for i in _items(tmp_path)] == ["تحديث مهم لنظام الهاتف"]


def test_a_news_sitemap_is_read_as_a_feed(tmp_path: Path) -> None:
    with site() as s:
        s.routes["/sitemap.xml"] = lambda h: _send(h, 200, SITEMAP, "application/xml")
        _run(_config(tmp_path, [f"  - {{url: {json.dumps(s.base + '/sitemap.xml')}}}"]))
    [item] = _items(tmp_path)  # the <url> without <news:news> is not an article
    assert item["title"] == "إطلاق قمر صناعي جديد"
    assert item["date_published"] == "2026-11-23T05:00:00Z"


@pytest.mark.parametrize(
    ("scrape", "said"),
    [
        ("{title: h2}", "sources[0].scrape.item: required key is missing"),
        ('{item: "div[["}', "sources[0].scrape.item: not a CSS selector"),
        ("{item: div, colour: red}", "sources[0].scrape.colour: unknown key"),
    ],
)
def test_bad_selectors_are_named_with_their_line(tmp_path: Path, scrape: str, said: str) -> None:
    with pytest.raises(ConfigError) as e:
        _config(tmp_path, [f"  - {{url: https://x.example/, scrape: {scrape}}}"])
    assert f"config.yaml:7: {said}" in str(e.value)


def test_feeds_try_shows_the_first_items(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with site() as s:
        s.html("/news", LISTING)
        cfg = _config(tmp_path, [])
        capsys.readouterr()
        code = main(["try", s.base + "/news", "--item", "div.card", "--title", "h2",
                     "--date", "time, .d", "-n", "1", "-c", cfg.path])  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0
        assert out.splitlines()[0] == f"{s.base}/news: scrape, 2 items, 2 kept"
        assert "2026-11-23T06:00+00:00  خبر أول عن الشبكات" in out
        assert f"{s.base}/n/1" in out and "خبر ثان" not in out  # -n 1
        assert main(["try", s.base + "/news", "--item", "ul.none", "-c", cfg.path]) == 1
        assert "matches nothing" in capsys.readouterr().err
        assert not (tmp_path / "f.db").exists() or _untouched(tmp_path)


def _untouched(tmp: Path) -> bool:
    with pipeline.open_for(config.load(tmp / "config.yaml")) as store:
        return not store.sources()


def test_feeds_try_refuses_a_private_address_without_allow_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = "sources:\n  - {url: https://x.example/f}\nfeeds:\n  - {slug: all, title: t}\n"
    (tmp_path / "c.yaml").write_text(f"title: t\nbase_url: https://x.example/\n{plain}")
    with site() as s:
        s.html("/news", LISTING)
        assert main(["try", s.base + "/news", "-c", str(tmp_path / "c.yaml")]) == 1
    assert "refused to connect" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--title", "h2"], "try: --item is needed with the other selectors"),
        (["--item", "div["], "try: --item: not a CSS selector"),
        (["-c", "/nowhere/config.yaml"], "try: /nowhere/config.yaml: no such config file"),
    ],
)
def test_feeds_try_calls_bad_usage_bad_usage(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Exit 1 and a fatal-looking line before; and a -c file that is not there was passed
    # over, its allow_private with it, so loopback was refused for a reason not given.
    assert main(["try", "https://x.example/news", *args]) == 2
    assert capsys.readouterr().err.startswith(f"feeds: {said}")


def test_the_demo_follows_one_site_by_selectors_and_one_by_json_ld(tmp_path: Path) -> None:
    from demo_site import publish_demo

    items = json.loads((publish_demo(tmp_path) / "all.json").read_bytes())["items"]
    named = {s["name"] for i in items for s in i["_feeds"]["sources"]}
    assert {"واحة التقنية", "نبض الابتكار"} <= named
    wahat = [i for i in items if i["url"].startswith("https://wahat-tech.example/")]
    assert len(wahat) == 3 and all(i["_feeds"]["lead"] == "واحة التقنية" for i in wahat)
    # Read from the listing's Arabic dates, in the source's default_tz (Asia/Riyadh).
    assert {i["date_published"] for i in wahat} == {
        "2026-11-23T06:20:00Z", "2026-11-22T13:45:00Z", "2026-11-21T08:00:00Z",
    }  # fmt: skip


def test_a_body_nested_too_deep_or_tripping_a_bug_fails_its_source_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feeds import normalize

    deep_ld = b'<html><script type="application/ld+json">' + b"[" * 100_000 + b"</script></html>"
    deep_json = b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000
    real = normalize.article

    def buggy(entry: Any, feed: Any, source: Any, **kw: Any) -> Any:
        if source.url.endswith("/bug.xml"):
            raise IndexError("a bug in normalize")
        return real(entry, feed, source, **kw)

    monkeypatch.setattr(normalize, "article", buggy)
    with site() as s:
        s.html("/deep-ld", deep_ld)
        s.routes["/deep.json"] = lambda h: _send(h, 200, deep_json, "application/feed+json")
        s.routes["/bug.xml"] = lambda h: _send(h, 200, _rss(), "application/rss+xml")
        s.routes["/feed.xml"] = lambda h: _send(h, 200, _rss(), "application/rss+xml")
        paths = ["/deep-ld", "/deep.json", "/bug.xml", "/feed.xml"]
        cfg = _config(tmp_path, [f"  - {{url: {json.dumps(s.base + p)}}}" for p in paths])
        result = _run(cfg)
    errors = {r.source_url.rsplit("/", 1)[1]: r.error for r in result.sources}
    assert errors["feed.xml"] is None and result.new_articles == 1
    assert "not a feed" in str(errors["deep-ld"])
    assert "nested too deep" in str(errors["deep.json"])
    assert "could not be parsed (IndexError: a bug in normalize)" in str(errors["bug.xml"])
