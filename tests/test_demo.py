"""The bundled demo: sample feeds that exercise every quirk, and the server that serves them."""

from __future__ import annotations

import calendar
import http.client
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml

from feeds import demo

DATA = Path(demo.__file__).parent / "demo_data"
FILES = demo.demo_files()
BY_PATH = {f.path: f for f in FILES}
#: The sample feeds; the other sources are sites without one (a listing read by
#: selectors, a page with JSON-LD), tested in tests/test_scrape.py.
FEEDS = {path: f for path, f in BY_PATH.items() if not path.endswith(".html")}
ARABIC = re.compile("[\u0621-\u064a]")

#: Stories that several sources tell in their own words: the words every telling shares,
#: and how many of the sample files tell it.
STORIES = {
    "phone-launch": (("S27",), 5),
    "ai-model": (("Gemini 4",), 4),
    "chrome-zero-day": (("CVE-2026-13370",), 4),
    "funding-round": (("قمرة",), 3),
    "os-update": (("iOS 26.2",), 3),
    "datacenter-chips": (("Rubin",), 4),
    "satellite-launch": (("نجمة-1",), 3),
    "messaging-usernames": (("أسماء المستخدمين",), 3),
    "huawei-flagship": (("Mate 90",), 3),
}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def server() -> Iterator[demo.DemoServer]:
    with demo.DemoServer() as running:
        yield running


def request(
    server: demo.DemoServer, path: str, method: str = "GET", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(urlsplit(server.base_url).netloc, timeout=10)
    try:
        conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def parsed(file: demo.DemoFile) -> Any:
    return feedparser.parse(file.body, response_headers={"content-type": file.content_type})


PARSED = {path: parsed(f) for path, f in FEEDS.items()}


def entry_text(entry: Any) -> str:
    parts = [entry.get("title", ""), entry.get("summary", "")]
    parts += [c.value for c in entry.get("content", ())]
    return "\n".join(parts)


def entry_time(entry: Any) -> datetime | None:
    # RSS 1.0 has only dc:date, which feedparser 6 reports as `updated`.
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None


# --------------------------------------------------------------------------- the data


def test_manifest_lists_every_sample_file_and_the_folder_stays_small() -> None:
    on_disk = {p.name for p in DATA.iterdir() if p.is_file() and p.name != "sources.json"}
    assert on_disk == set(BY_PATH)
    pages = {f"pages/{p.name}" for p in (DATA / "pages").iterdir()}
    assert pages == {p.path for p in demo.demo_pages()} and len(pages) == 3
    assert 6 <= len(FEEDS) <= 9 and len(FILES) - len(FEEDS) == 2
    assert sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file()) < 200 * 1024


@pytest.mark.parametrize("path", sorted(FEEDS))
def test_each_sample_parses_with_its_entries_and_no_fatal_error(path: str) -> None:
    result = PARSED[path]
    allowed = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    assert not result.bozo or isinstance(result.bozo_exception, allowed), result.bozo_exception
    # The summary-only blog links its pages relatively, on the demo server itself.
    blog = bool(BY_PATH[path].options) and dict(BY_PATH[path].options).get("full_text") == "auto"
    assert (3 if blog else 8) <= len(result.entries) <= 15
    for entry in result.entries:
        assert ARABIC.search(entry.title), entry.title
        link = r"pages/[a-z0-9-]+\.html" if blog else r"https://[a-z.-]+\.example/"
        assert re.match(link, entry.link), entry.link
        assert entry.get("id") and entry.get("summary")


def test_the_formats_are_mixed() -> None:
    versions = {path: result.version for path, result in PARSED.items()}
    assert {"rss20", "atom10", "rss10"} <= set(versions.values())
    assert "text/xml" in {f.content_type for f in FILES}  # served with no charset


def test_the_windows_1256_sample_is_real_cp1256_that_decodes_to_arabic() -> None:
    file = BY_PATH["khaleej-tech.xml"]
    assert file.body.startswith(b'<?xml version="1.0" encoding="windows-1256"?>')
    assert file.content_type.endswith("charset=windows-1256")
    with pytest.raises(UnicodeDecodeError):
        file.body.decode("utf-8")
    result = PARSED[file.path]
    assert result.encoding == "windows-1256"
    assert all(len(ARABIC.findall(e.title)) > 10 for e in result.entries)
    assert any("سامسونج" in e.title for e in result.entries)


@pytest.mark.parametrize("path", sorted(set(FEEDS) - {"sham-tech.xml"}))
def test_machine_dates_fall_in_the_week_before_the_demo_day(path: str) -> None:
    for entry in PARSED[path].entries:
        when = entry_time(entry)
        assert when is not None, entry.title
        assert datetime(2026, 11, 17, tzinfo=UTC) <= when < datetime(2026, 11, 24, tzinfo=UTC)


def test_the_levantine_feed_has_arabic_dates_only_the_raw_string_can_give() -> None:
    entries = PARSED["sham-tech.xml"].entries
    assert all(e.get("published_parsed") is None for e in entries)
    raw = [e.published for e in entries]
    assert "الإثنين، 23 تشرين الثاني 2026 10:30" in raw
    assert any("تشرين الثاني/نوفمبر" in d for d in raw)
    assert any("٢٠٢٦" in d for d in raw)  # Arabic-Indic digits
    text = "".join(entry_text(e) for e in entries)
    assert "غوغل" in text and "سامسونغ" in text and "غالاكسي" in text
    assert BY_PATH["sham-tech.xml"].options == (("default_tz", "Asia/Damascus"),)


def test_atom_relative_links_resolve_against_xml_base() -> None:
    entries = PARSED["hardware-arabi.atom"].entries
    assert b'xml:base="https://hardware-arabi.example/"' in BY_PATH["hardware-arabi.atom"].body
    assert b'href="news/2026/11/' in BY_PATH["hardware-arabi.atom"].body
    links = {e.link for e in entries}
    assert "https://hardware-arabi.example/reviews/huawei-mate-90-pro-first-look" in links
    for entry in entries:
        assert 'src="https://hardware-arabi.example/media/2026/11/' in entry.content[0].value


@pytest.mark.parametrize("path", ["bawaba-tech.xml", "aalam-raqmi.xml"])
def test_wordpress_items_carry_full_content_an_image_and_the_yoast_footer(path: str) -> None:
    site = PARSED[path].feed.title
    for entry in PARSED[path].entries:
        content = entry.content[0].value
        assert content.count("<p>") >= 2 and "/wp-content/uploads/2026/11/" in content
        for html in (content, entry.summary):
            assert re.search(rf"ظهرت المقالة .+ أولاً على <a [^>]+>{site}</a>\.", html)
        assert "?p=" in entry.id


@pytest.mark.parametrize(("story", "words", "expected"), [(k, *v) for k, v in STORIES.items()])
def test_a_story_is_told_by_several_sources(
    story: str, words: tuple[str, ...], expected: int
) -> None:
    telling = {
        path
        for path, result in PARSED.items()
        for entry in result.entries
        if any(word in entry_text(entry) for word in words)
    }
    assert len(telling) == expected >= 2, sorted(telling)


def test_there_are_at_least_eight_cross_source_stories() -> None:
    assert len(STORIES) >= 8


@pytest.mark.parametrize("key", ["link", "id"])
def test_syndicated_copies_share_an_exact_url_or_guid(key: str) -> None:
    owners: dict[str, set[str]] = {}
    for path, result in PARSED.items():
        for entry in result.entries:
            owners.setdefault(entry[key], set()).add(path)
    shared = {value: paths for value, paths in owners.items() if len(paths) > 1}
    assert len(shared) >= 2, shared  # one WordPress ?p= guid and one Atom tag: id


def test_one_title_ends_with_its_site_name() -> None:
    suffixed = [
        entry.title
        for result in PARSED.values()
        for entry in result.entries
        if entry.title.endswith(" | " + result.feed.title)
    ]
    assert len(suffixed) == 1


def test_one_item_is_hostile_so_the_demo_shows_sanitizing() -> None:
    body = BY_PATH["aalam-raqmi.xml"].body
    for needle in (b"<script>", b"onclick=", b"javascript:", b'width="1" height="1"', b"<iframe"):
        assert body.count(needle) == 1, needle


def test_the_general_paper_mixes_tech_with_sport_and_weather() -> None:
    file = BY_PATH["akhbar-alyawm.xml"]
    sections = {entry.tags[0].term for entry in PARSED[file.path].entries}
    assert {"تكنولوجيا", "رياضة", "طقس"} <= sections
    assert file.options == (("filter_topics", True),)


# --------------------------------------------------------------------------- the server


@pytest.mark.parametrize("path", sorted(BY_PATH))
def test_the_server_serves_each_file_with_its_type_and_bytes(
    server: demo.DemoServer, path: str
) -> None:
    status, headers, body = request(server, "/" + path)
    assert status == 200
    assert body == (DATA / path).read_bytes()
    assert headers["content-type"] == BY_PATH[path].content_type
    assert headers["content-length"] == str(len(body))
    assert headers["etag"] == BY_PATH[path].etag
    assert headers["last-modified"].endswith(" GMT")

    status, head_headers, head_body = request(server, "/" + path, "HEAD")
    assert (status, head_body, head_headers["etag"]) == (200, b"", headers["etag"])


def test_sources_are_the_manifest_files_on_the_server(server: demo.DemoServer) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.base_url)
    assert server.sources() == tuple((server.base_url + f.path, f.name) for f in FILES)
    assert dict(server.sources())[server.base_url + "khaleej-tech.xml"] == "تقنية الخليج"


def test_conditional_requests_get_304(server: demo.DemoServer) -> None:
    _, headers, _ = request(server, "/oloum.rdf")
    etag, modified = headers["etag"], headers["last-modified"]
    older = format_datetime(datetime(2026, 11, 1, tzinfo=UTC), usegmt=True)
    when = parsedate_to_datetime(modified)
    asctime = f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"  # no zone: UTC
    tomorrow = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    cases = [
        ({"If-None-Match": etag}, 304),
        ({"If-None-Match": f'"other", W/{etag}'}, 304),
        ({"If-None-Match": "*"}, 304),
        ({"If-Modified-Since": modified}, 304),
        ({"If-Modified-Since": older}, 200),
        ({"If-Modified-Since": "yesterday"}, 200),
        ({"If-Modified-Since": asctime}, 304),
        ({"If-Modified-Since": tomorrow}, 200),  # past the server's clock: ignored
        ({"If-None-Match": '"other"', "If-Modified-Since": modified}, 200),  # ETag wins
    ]
    for (conditions, expected), method in itertools.product(cases, ("GET", "HEAD")):
        status, answer, body = request(server, "/oloum.rdf", method, **conditions)
        assert status == expected, (method, conditions)
        assert answer["etag"] == etag
        assert body == b"" if method == "HEAD" else (body == b"") is (expected == 304)


@pytest.mark.parametrize("path", ["/", "/sources.json", "/nope.xml", "/../demo.py", "/OLOUM.RDF"])
def test_anything_else_is_404(server: demo.DemoServer, path: str) -> None:
    status, _, _ = request(server, path)
    assert status == 404


def test_the_server_is_quiet_and_stops(capfd: pytest.CaptureFixture[str]) -> None:
    with demo.DemoServer() as running:
        request(running, "/bawaba-tech.xml")
        request(running, "/missing")
        url = running.base_url
    assert capfd.readouterr() == ("", "")
    with pytest.raises(OSError):
        http.client.HTTPConnection(urlsplit(url).netloc, timeout=2).connect()


def test_base_url_needs_a_running_server() -> None:
    with pytest.raises(RuntimeError):
        _ = demo.DemoServer().base_url


# --------------------------------------------------------------------------- config.yaml


def test_config_text_is_yaml_with_the_expected_keys() -> None:
    base = "http://127.0.0.1:5555/"
    sources = tuple((base + f.path, f.name) for f in FILES)
    text = demo.config_text(base, sources, output_dir="/srv/out", database="/srv/demo.db")
    config = yaml.safe_load(text)
    assert config["title"] == "أخبار التقنية العربية — عرض تجريبي"
    assert config["base_url"].startswith("http://")
    assert (config["output_dir"], config["database"]) == ("/srv/out", "/srv/demo.db")
    assert config["schedule"] == {"interval": "15m"}
    # Loopback is refused unless allowed: the demo allows its own server's address only.
    assert config["fetch"] == {"allow_private": ["127.0.0.1/32"]}
    assert [(s["url"], s["name"]) for s in config["sources"]] == list(sources)
    extra = {s["url"]: s for s in config["sources"]}
    assert extra[base + "sham-tech.xml"]["default_tz"] == "Asia/Damascus"
    assert extra[base + "akhbar-alyawm.xml"]["filter_topics"] is True
    feeds = {f["slug"]: f for f in config["feeds"]}
    assert list(feeds) == ["all", "ai", "mobile", "security"]
    assert all(ARABIC.search(f["title"]) for f in feeds.values())
    assert [feeds[s]["topics"] for s in ("ai", "mobile", "security")] == [
        ["ai"],
        ["mobile"],
        ["security"],
    ]
    assert re.search(feeds["all"]["exclude"][0], "Sponsored: deals")
    assert any(re.search(p, "محتوى مدعوم: عروض") for p in feeds["all"]["exclude"])


def test_config_text_quotes_awkward_strings_safely() -> None:
    awkward = 'C:\\out "x": #y\n- [z] \u2028 \ufeff end'
    text = demo.config_text(
        "http://h/", [("http://h/a?x=1&y=2#f", awkward)], output_dir=awkward, database="@db: *"
    )
    config = yaml.safe_load(text)
    assert config["output_dir"] == awkward
    assert config["database"] == "@db: *"
    assert config["sources"] == [{"url": "http://h/a?x=1&y=2#f", "name": awkward}]


def test_config_text_without_sources_is_an_empty_list() -> None:
    text = demo.config_text("http://h/", (), output_dir="/o", database="/d")
    assert yaml.safe_load(text)["sources"] == []
    assert "fetch" not in yaml.safe_load(text)  # a name, not an address: nothing to allow


def test_the_sample_week_ends_before_the_demo_day() -> None:
    # Last-Modified comes from the manifest, so it never moves between runs.
    assert all(f.last_modified < datetime(2026, 11, 24, tzinfo=UTC) for f in FILES)


@pytest.mark.parametrize("out", ["/etc", "a-file"])
def test_a_bad_out_folder_is_named_as_the_out_option(
    out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The error named the demo's temporary config ("/tmp/feeds-demo-…/config.yaml:5:
    # output_dir: …"), a file the operator never wrote and that was already gone.
    from feeds.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    assert main(["demo", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"feeds: demo: --out {out}: ") and "config.yaml" not in err
