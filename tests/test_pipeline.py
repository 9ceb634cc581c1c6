"""End to end: real HTTP servers on 127.0.0.1, a real SQLite file, real parsers."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from pytest_httpserver import HTTPServer
from servers import LOOPBACK_YAML
from stored import stored
from werkzeug import Request, Response

from feeds import config, demo, pipeline, pool, stories
from feeds.demo import DemoServer
from feeds.store import open_store
from feeds.types import Config, Outcome, PassResult

DATA = Path(__file__).parent / "data" / "pipeline"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class Site:
    """Serves files with ETag and 304, and counts requests per path."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.bodies: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        self.conditional: dict[str, int] = {}
        server.expect_request("").respond_with_handler(self.handle)

    def put(self, path: str, body: bytes, ctype: str = "application/rss+xml") -> str:
        self.bodies[path] = (body, ctype)
        return self.server.url_for(path)

    def handle(self, request: Request) -> Response:
        path = request.path
        self.hits[path] = self.hits.get(path, 0) + 1
        if path not in self.bodies:
            return Response("boom", status=500)
        body, ctype = self.bodies[path]
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            self.conditional[path] = self.conditional.get(path, 0) + 1
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type=ctype, headers={"ETag": etag})


@pytest.fixture
def site(httpserver: HTTPServer) -> Iterator[Site]:
    yield Site(httpserver)


def write_config(tmp_path: Path, sources: list[tuple[str, str]], extra: str = "") -> Config:
    lines = [
        'title: "أخبار تجريبية"',
        "base_url: https://example.org/feeds/",
        "output_dir: out",
        "database: data/feeds.db",
        LOOPBACK_YAML,
        "sources:",
    ]
    for url, name in sources:
        lines += [f"  - url: {json.dumps(url)}", f"    name: {json.dumps(name)}"]
    lines += [
        "feeds:",
        "  - slug: all",
        '    title: "كل الأخبار"',
        "  - slug: ai",
        '    title: "الذكاء الاصطناعي"',
        "    topics: [ai]",
    ]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return config.load(path)


def run(cfg: Config, *, every: bool = True) -> PassResult:
    with pipeline.open_for(cfg) as store:
        return pipeline.run_pass(cfg, store, every=every, now=lambda: NOW)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def two_sources(site: Site, tmp_path: Path) -> Config:
    a = site.put("/alpha.rss", (DATA / "alpha.rss").read_bytes())
    b = site.put("/beta.atom", (DATA / "beta.atom").read_bytes(), "application/atom+xml")
    return write_config(tmp_path, [(a, "ألفا تك"), (b, "بيتا نيوز")])


def test_pass_publishes_every_file_and_they_parse_back(two_sources: Config) -> None:
    result = run(two_sources)
    assert result.count(Outcome.OK) == 2
    out = Path(two_sources.output_dir)
    names = set(snapshot(out))
    for slug in ("all", "ai"):
        assert {f"{slug}.rss", f"{slug}.atom", f"{slug}.json"} <= names
    assert {"index.html", "feeds.opml"} <= names
    rss = feedparser.parse((out / "all.rss").read_bytes())
    atom = feedparser.parse((out / "all.atom").read_bytes())
    assert rss.feed.language == "ar"
    # four articles, two of them the same URL from two sources: three stories
    assert len(rss.entries) == len(atom.entries) == 3
    assert [e.id for e in rss.entries] == [e.id for e in atom.entries]
    for entry in rss.entries:
        assert entry.published_parsed is not None
        assert entry.link.startswith("https://")
        assert "<script" not in entry.get("content", [{"value": ""}])[0]["value"]


def test_exact_duplicate_is_one_item_listing_both_sources(two_sources: Config) -> None:
    run(two_sources)
    doc = json.loads((Path(two_sources.output_dir) / "all.json").read_text("utf-8"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    iphone = [i for i in doc["items"] if "iphone-17-pro" in i["url"]]
    assert len(iphone) == 1
    sources = iphone[0]["_feeds"]["sources"]
    assert {s["name"] for s in sources} == {"ألفا تك", "بيتا نيوز"}
    assert "utm_source" not in iphone[0]["url"]
    for item in doc["items"]:
        assert item["id"] and item["_feeds"]["sources"]


def story_topics(cfg: Config) -> dict[str, tuple[tuple[str, ...], bool]]:
    with pipeline.open_for(cfg) as store:
        ids = store.stories_touched_since(datetime(2000, 1, 1, tzinfo=UTC))
        found = {s.id: (s.topics, s.is_tech) for s in store.recent_stories(len(ids))}
    assert sorted(found) == ids
    return found


def test_a_pass_leaves_no_story_unclassified(two_sources: Config) -> None:
    run(two_sources)
    with pipeline.open_for(two_sources) as store:
        assert store.unclassified_stories() == []
    filed = story_topics(two_sources)
    assert len(filed) == 3 and any(topics for topics, _ in filed.values())


def test_stories_a_killed_pass_left_unclassified_are_classified_by_the_next(
    two_sources: Config, site: Site, tmp_path: Path
) -> None:
    run(two_sources)
    classified = story_topics(two_sources)
    # A third source's copies join the stories; joining resets a story to unclassified
    # until its topics are summed again. A pass killed between the two writes leaves
    # the stories so: the same rows are made here by hand.
    gamma = (DATA / "alpha.rss").read_text("utf-8").replace("ألفا تك", "غاما")
    url = site.put("/gamma.rss", gamma.replace("?p=", "?gamma=").encode())
    cfg = write_config(tmp_path, [(s.url, s.name) for s in two_sources.sources] + [(url, "غاما")])
    with pipeline.open_for(cfg) as store:
        pipeline.run_pass(cfg, store, every=True, now=lambda: NOW + timedelta(hours=1))
        with store.transaction() as tx:
            tx.execute("UPDATE stories SET topics = '[]', is_tech = 1")
        assert len(store.unclassified_stories()) == 3
    later = NOW + timedelta(hours=2)  # the next pass's `since` is after every story's
    with pipeline.open_for(cfg) as store:
        pipeline.run_pass(cfg, store, every=True, now=lambda: later)
        assert store.unclassified_stories() == []
    assert story_topics(cfg) == classified  # the same articles' words: the same topics
    out = json.loads((Path(cfg.output_dir) / "all.json").read_text("utf-8"))
    assert {i["url"].rsplit("/", 2)[-2]: i.get("tags") for i in out["items"]} == {
        "iphone-17-pro": ["mobile"], "microsoft-uae": ["hardware"], "beta.example": ["mobile"],
    }  # fmt: skip


def test_second_pass_with_nothing_new_rewrites_nothing(two_sources: Config, site: Site) -> None:
    run(two_sources)
    before = snapshot(Path(two_sources.output_dir))
    mtimes = {p.name: p.stat().st_mtime_ns for p in Path(two_sources.output_dir).iterdir()}
    result = run(two_sources)
    assert result.files_written == ()
    assert result.count(Outcome.NOT_MODIFIED) == 2
    assert site.conditional == {"/alpha.rss": 1, "/beta.atom": 1}
    assert snapshot(Path(two_sources.output_dir)) == before
    assert {p.name: p.stat().st_mtime_ns for p in Path(two_sources.output_dir).iterdir()} == mtimes


def test_an_edit_within_the_second_of_the_last_publish_is_published(
    site: Site, tmp_path: Path
) -> None:
    # The publish fingerprint read the newest `updated`, written to the second: an item
    # edited (same guid, new title) within the second of the publish before it left
    # the fingerprint as it was, and the edit was stored but never published.
    def feed(title: str) -> bytes:
        return (
            '<rss version="2.0"><channel><title>t</title><item><guid>g1</guid>'
            f"<title>{title}</title><link>https://a.example/1</link>"
            "<description>أعلنت الشركة عن نموذجها الجديد.</description></item></channel></rss>"
        ).encode()

    cfg = write_config(tmp_path, [(site.put("/a.rss", feed("OpenAI تطلق GPT-5 رسميا")), "أ")])
    run(cfg)
    site.put("/a.rss", feed("OpenAI تطلق GPT-5 (تحديث)"))
    with pipeline.open_for(cfg) as store:  # 0.4 s later
        pipeline.run_pass(cfg, store, every=True, now=lambda: NOW + timedelta(seconds=0.4))
    doc = json.loads((Path(cfg.output_dir) / "all.json").read_text(encoding="utf-8"))
    assert [item["title"] for item in doc["items"]] == ["OpenAI تطلق GPT-5 (تحديث)"]


def test_a_pass_just_after_another_counts_no_story_it_did_not_touch(
    two_sources: Config,
) -> None:
    # "5 stories updated; 0 files written" for a pass that brought nothing: stories were
    # counted as touched when their `updated` fell in the same second as its start.
    run(two_sources)
    with pipeline.open_for(two_sources) as store:
        again = pipeline.run_pass(
            two_sources, store, every=True, now=lambda: NOW + timedelta(seconds=0.3)
        )
    assert (again.new_articles, again.stories_published, again.files_written) == (0, 0, ())


def test_a_podcasts_episode_is_published_with_its_audio(site: Site, tmp_path: Path) -> None:
    # An episode's enclosure was dropped (only pictures were kept): a podcast source's
    # items reached readers without the one thing they are for.
    body = (
        '<rss version="2.0"><channel><title>بودكاست</title><item><guid>ep12</guid>'
        "<title>الحلقة 12: مستقبل الذكاء الاصطناعي</title><link>https://pod.example/12</link>"
        "<description>نقاش مع ضيوف الحلقة.</description>"
        '<enclosure url="https://cdn.pod.example/ep 12.mp3" length="34567890" '
        'type="audio/mpeg"/></item></channel></rss>'
    ).encode()
    cfg = write_config(tmp_path, [(site.put("/pod.rss", body), "بودكاست")])
    run(cfg)
    out = Path(cfg.output_dir)
    url = "https://cdn.pod.example/ep%2012.mp3"
    (item,) = json.loads((out / "all.json").read_text(encoding="utf-8"))["items"]
    assert item["attachments"] == [
        {"url": url, "mime_type": "audio/mpeg", "size_in_bytes": 34567890}
    ]
    rss_entry = feedparser.parse((out / "all.rss").read_bytes()).entries[0]
    assert rss_entry.enclosures == [{"href": url, "length": "34567890", "type": "audio/mpeg"}]
    atom = feedparser.parse((out / "all.atom").read_bytes())
    assert not atom.bozo
    assert atom.entries[0].enclosures == [{"href": url, "length": "34567890", "type": "audio/mpeg"}]
    page = (out / "all.html").read_text(encoding="utf-8")
    assert f'<a href="{url}">▶ الحلقة الصوتية</a>' in page  # the page plays nothing itself


def test_an_episodes_new_file_is_published_and_a_file_alone_is_an_episode(
    site: Site, tmp_path: Path
) -> None:
    # The file was no part of what tells an edit, so a new URL for it stayed unpublished;
    # and an item with only a guid and its file was no article at all.
    def feed(file: str) -> bytes:
        return (
            '<rss version="2.0"><channel><title>بودكاست</title>'
            "<item><guid>ep1</guid><title>الحلقة الأولى</title><link>https://pod.example/1</link>"
            f'<enclosure url="{file}" length="10" type="audio/mpeg"/></item>'
            '<item><guid>only</guid><enclosure url="https://cdn.example/a/ep%202.mp3" '
            'length="5" type="audio/mpeg"/></item></channel></rss>'
        ).encode()

    cfg = write_config(tmp_path, [(site.put("/pod.rss", feed("https://cdn.example/1.mp3")), "ب")])
    run(cfg)
    site.put("/pod.rss", feed("https://cdn2.example/1-v2.mp3"))
    with pipeline.open_for(cfg) as store:
        pipeline.run_pass(cfg, store, every=True, now=lambda: NOW + timedelta(minutes=30))
    doc = json.loads((Path(cfg.output_dir) / "all.json").read_text(encoding="utf-8"))
    files = {i["title"]: i["attachments"][0]["url"] for i in doc["items"]}
    assert files == {
        "الحلقة الأولى": "https://cdn2.example/1-v2.mp3",
        "ep 2.mp3": "https://cdn.example/a/ep%202.mp3",
    }


def test_ids_stay_when_a_story_grows(two_sources: Config, site: Site, tmp_path: Path) -> None:
    run(two_sources)
    first = json.loads((Path(two_sources.output_dir) / "all.json").read_text("utf-8"))
    ids = {i["url"]: i["id"] for i in first["items"]}
    gamma = (DATA / "alpha.rss").read_text("utf-8").replace("ألفا تك", "غاما")
    gamma = gamma.replace("?p=", "?gamma=").replace("microsoft-uae", "ms-uae-copy")
    url = site.put("/gamma.rss", gamma.encode())
    cfg = write_config(
        tmp_path,
        [(s.url, s.name) for s in two_sources.sources] + [(url, "غاما")],
    )
    run(cfg)
    second = json.loads((Path(cfg.output_dir) / "all.json").read_text("utf-8"))
    for item in second["items"]:
        if item["url"] in ids:
            assert item["id"] == ids[item["url"]]
    iphone = next(i for i in second["items"] if "iphone-17-pro" in i["url"])
    assert len(iphone["_feeds"]["sources"]) == 3


def test_failing_source_does_not_break_the_pass(site: Site, tmp_path: Path) -> None:
    good = site.put("/alpha.rss", (DATA / "alpha.rss").read_bytes())
    broken = site.server.url_for("/missing.rss")
    cfg = write_config(tmp_path, [(good, "ألفا"), (broken, "معطل")])
    result = run(cfg)
    outcomes = {r.source_url: r for r in result.sources}
    assert outcomes[good].outcome is Outcome.OK
    assert outcomes[broken].outcome is Outcome.ERROR
    assert outcomes[broken].status == 500
    assert len(feedparser.parse((Path(cfg.output_dir) / "all.rss").read_bytes()).entries) == 2
    with open_store(cfg.database) as store:
        state = store.source(broken)
    assert state is not None
    assert state.consecutive_errors == 1
    assert state.next_due is not None and state.next_due > NOW


def test_pass_without_every_skips_sources_not_due(two_sources: Config, site: Site) -> None:
    run(two_sources)
    hits = dict(site.hits)
    result = run(two_sources, every=False)
    assert result.sources == ()
    assert site.hits == hits


def test_lock_refuses_a_second_pass(two_sources: Config) -> None:
    from feeds.errors import LockedError

    with (
        pipeline.pass_lock(two_sources),
        pytest.raises(LockedError, match="another pass"),
        pipeline.pass_lock(two_sources),
    ):
        pass


# --------------------------------------------------------------------------- determinism


def demo_config(folder: Path, server: DemoServer) -> Config:
    """The demo's config, its output and store in `folder`."""
    text = demo.config_text(
        server.base_url, server.sources(),
        output_dir=str(folder / "out"), database=str(folder / "feeds.db"),
    )  # fmt: skip
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    return config.load(folder / "config.yaml")


def demo_pass(tmp_path: Path, name: str, server: DemoServer, workers: int) -> dict[str, bytes]:
    folder = tmp_path / name
    folder.mkdir()
    cfg = demo_config(folder, server)
    with pipeline.open_for(cfg) as store, pool.parse_executor(99, workers=workers) as ex:
        assert (ex is not None) is (workers > 1)
        pipeline.run_pass(cfg, store, every=True, now=lambda: NOW, executor=ex)
    return snapshot(folder / "out")


def test_cold_passes_publish_identical_bytes_in_process_and_in_a_pool(
    tmp_path: Path, _backend: str
) -> None:
    with DemoServer() as server:
        first = demo_pass(tmp_path, "a", server, workers=0)
        pooled = demo_pass(tmp_path, "b", server, workers=2)
    assert {"all.rss", "all.json"} <= set(first)
    assert pooled == first


def test_a_store_without_derived_texts_publishes_the_same_bytes(tmp_path: Path) -> None:
    """Rows stored before schema 3 (no match features, no topic scores) are computed
    again from their keys when clustering, and must come out the same."""
    with DemoServer() as server:
        first = demo_pass(tmp_path, "a", server, workers=0)
    cfg = config.load(tmp_path / "a" / "config.yaml")
    with pipeline.open_for(cfg) as store:
        with store.transaction() as tx:
            tx.execute("UPDATE articles SET match_features = NULL, topic_scores = NULL")
            tx.execute("UPDATE articles SET story_id = NULL")
            tx.execute("DELETE FROM stories")
        for name in os.listdir(cfg.output_dir):
            os.remove(os.path.join(cfg.output_dir, name))
        pipeline.cluster_and_publish(cfg, store, NOW, since=NOW)
    assert snapshot(Path(cfg.output_dir)) == first


def test_retention_removes_old_articles_no_feed_shows(site: Site, tmp_path: Path) -> None:
    a = site.put("/alpha.rss", (DATA / "alpha.rss").read_bytes())
    path = tmp_path / "config.yaml"
    path.write_text(
        'title: "ت"\nbase_url: https://example.org/\noutput_dir: out\ndatabase: feeds.db\n'
        f'{LOOPBACK_YAML}\nretention_days: 1\nsources:\n  - url: "{a}"\n'
        'feeds:\n  - slug: all\n    title: "الكل"\n    limit: 1\n',
        encoding="utf-8",
    )
    cfg = config.load(path)
    later = datetime(2026, 12, 24, tzinfo=UTC)  # both articles are a month old by then
    with pipeline.open_for(cfg) as store:
        pipeline.run_pass(cfg, store, every=True, now=lambda: later)
        # an old article seen for the first time is kept: retention counts first-seen too
        assert len(stored(store, "articles")) == 2
        pipeline.run_pass(cfg, store, every=True, now=lambda: later + timedelta(days=2))
        remaining = stored(store, "articles")
    # the newest story is shown (limit 1) and kept; the other, old and unshown, is gone
    assert [r["title"][:4] for r in remaining] == ["آبل "]
    shown = feedparser.parse((Path(cfg.output_dir) / "all.rss").read_bytes())
    assert [e.link for e in shown.entries] == [remaining[0]["url"]]


def test_unchanged_pass_skips_rendering_but_restores_a_deleted_file(
    two_sources: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(two_sources)
    out = Path(two_sources.output_dir)
    rendered: list[int] = []
    real = stories.select
    monkeypatch.setattr(stories, "select", lambda *a: rendered.append(1) or real(*a))
    assert run(two_sources).files_written == ()
    assert rendered == []  # nothing changed: not even rendered
    (out / "all.atom").unlink()
    assert [Path(p).name for p in run(two_sources).files_written] == ["all.atom"]
    assert rendered == [1]


def test_a_pass_with_nothing_new_imports_no_parsing_or_rendering_code(
    two_sources: Config,
) -> None:
    run(two_sources)
    # Every source answers 304 now: such a pass must not pay for importing the stages
    # below the fetch (most of a warm pass's time would be imports).
    code = (
        "import dataclasses, sys; from feeds import config, pipeline\n"
        f"cfg = config.load({two_sources.path!r})\n"
        f"cfg = dataclasses.replace(cfg, database={two_sources.database!r})\n"
        "with pipeline.open_for(cfg) as store:\n"
        "    result = pipeline.run_pass(cfg, store, every=True)\n"
        "print(result.new_articles, result.files_written)\n"
        "heavy = ('feedparser', 'numpy', 'nh3', 'feedgen', 'datasketch', 'feeds.parse',\n"
        "         'ruamel.yaml', 'defusedxml')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out == ["0 ()", "[]"]


def test_a_guid_reposted_long_after_joins_its_old_story(site: Site, tmp_path: Path) -> None:
    a = site.put("/alpha.rss", (DATA / "alpha.rss").read_bytes())
    cfg = write_config(tmp_path, [(a, "ألفا تك")])
    run(cfg)
    # A mirror re-posts it under its own URL, keeping the original's guid as its id.
    late = (DATA / "beta.atom").read_text("utf-8")
    late = late.replace("2026-11-23", "2026-12-09").replace("2026-11-21", "2026-12-08")
    late = late.replace("tag:beta.example,2026:1", "https://alpha.example/?p=101")
    late = late.replace("https://alpha.example/2026/11/iphone-17-pro/", "https://mirror.example/a")
    b = site.put("/late.atom", late.encode(), "application/atom+xml")
    cfg = write_config(tmp_path, [(a, "ألفا تك"), (b, "بيتا نيوز")])
    with pipeline.open_for(cfg) as store:
        pipeline.run_pass(cfg, store, every=True, now=lambda: datetime(2026, 12, 10, tzinfo=UTC))
    doc = json.loads((Path(cfg.output_dir) / "all.json").read_text("utf-8"))
    iphone = [i for i in doc["items"] if "آيفون 17" in i["title"]]
    assert len(iphone) == 1  # sixteen days later, far outside the fuzzy window
    assert {s["name"] for s in iphone[0]["_feeds"]["sources"]} == {"ألفا تك", "بيتا نيوز"}


def test_refresh_source_makes_a_new_refresh_each_call(tmp_path: Path) -> None:
    # A distributed worker calls it once per task: a cache on it (left there by a
    # removed helper's decorator) handed identical calls the coroutine already
    # awaited, and kept every task's arguments for the life of the worker.
    cfg = config.load(_write_minimal_config(tmp_path))
    with pipeline.open_for(cfg) as store:
        store.sync_sources(cfg.sources)
        [state] = store.sources()
        calls = [
            pipeline.refresh_source(cfg, store, state, fetcher=None)  # type: ignore[arg-type]
            for _ in range(2)
        ]
        for call in calls:
            call.close()  # never run: only made
    assert calls[0] is not calls[1]


def _write_minimal_config(folder: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text(
        "title: t\nbase_url: https://example.org/feeds/\noutput_dir: out\n"
        f"database: feeds.db\n{LOOPBACK_YAML}\nsources:\n  - url: http://127.0.0.1:9/f.rss\n"
        "feeds:\n  - slug: all\n    title: all\n",
        encoding="utf-8",
    )
    return path
