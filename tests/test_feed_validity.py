"""Every published format passes a strict check (tests/feedcheck.py: the W3C feed
validator's rules for RSS 2.0, RFC 4287 and JSON Feed 1.1) and reads back through
feedparser without a complaint, for the demo's real pass and for the publish cases
(hostile titles, missing links, dates of year 1 and 9999, many sources)."""

from __future__ import annotations

import json
from pathlib import Path

import feedcheck
import feedparser
import pytest
from demo_site import publish_demo
from test_publish import STORIES, _all_feeds, _config

from feeds import publish


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = publish_demo(tmp_path_factory.mktemp("valid"))
    return {p.name: p.read_bytes() for p in out.iterdir() if p.suffix in (".rss", ".atom", ".json")}


def _feeds(files: dict[str, bytes]) -> list[str]:
    return sorted({name.rsplit(".", 1)[0] for name in files})


def test_the_demo_publishes_four_feeds_in_three_formats(demo_files: dict[str, bytes]) -> None:
    assert len(_feeds(demo_files)) >= 4 and len(demo_files) == 3 * len(_feeds(demo_files))


def test_every_demo_file_passes_the_strict_check(demo_files: dict[str, bytes]) -> None:
    problems = {name: feedcheck.check(name, data) for name, data in demo_files.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_every_demo_feed_reads_back_the_same_items_in_each_format(
    demo_files: dict[str, bytes],
) -> None:
    for stem in _feeds(demo_files):
        items = json.loads(demo_files[f"{stem}.json"])["items"]
        assert items, stem
        for ext in (".rss", ".atom"):
            read = feedparser.parse(demo_files[stem + ext])
            assert read.bozo == 0, (stem + ext, read.get("bozo_exception"))
            assert read.version == ("rss20" if ext == ".rss" else "atom10")
            assert [e.id for e in read.entries] == [i["id"] for i in items], stem + ext
            assert [e.title for e in read.entries] == [i["title"] for i in items], stem + ext
            assert all(e.link == i["url"] for e, i in zip(read.entries, items, strict=True))


def test_the_publish_cases_pass_the_strict_check(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    files = publish.render_all(cfg, _all_feeds(STORIES))
    checked = [
        (Path(name).name, data) for name, data in files if name.endswith((".rss", ".atom", ".json"))
    ]
    assert len(checked) == 9
    assert {name: feedcheck.check(name, data) for name, data in checked} == {
        name: [] for name, _ in checked
    }


# ----------------------------------------------------------- the check itself can fail

BROKEN = [
    ("all.rss", '<guid isPermaLink="false">', "<guid>", "permalink guid is not a URL"),
    ("all.rss", "<pubDate>Mon, 23 Nov 2026", "<pubDate>Mon, 23 Nov 26", "RFC 822"),
    ("all.rss", "<pubDate>Mon, 23 Nov 2026", "<pubDate>Tue, 23 Nov 2026", "wrong weekday"),
    ("all.rss", "<link>https://", "<link>/relative/https://", "not absolute"),
    ("all.rss", "<dc:creator>عمر الزهراني</dc:creator>", "<author>عمر</author>", "e-mail"),
    ("all.atom", "<updated>2026-11-23T10:00:00+00:00</updated>", "", "need exactly one"),
    ("all.atom", "<id>urn:feeds:story:", "<id>story:", "repeated"),  # see below
    ("all.atom", '<link href="https://', '<link href="//', "not absolute"),
    ("all.json", '"version": "https://jsonfeed.org/version/1.1"', '"version": "1"', "version"),
    ("all.json", '"content_html"', '"contents_html"', "unknown key"),
    (
        "all.json",
        '"date_published": "2026-11-23T10:00:00',
        '"date_published": "23/11/2026',
        "RFC 3339",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "said"), BROKEN)
def test_a_broken_document_is_caught(
    demo_files: dict[str, bytes], name: str, old: str, new: str, said: str
) -> None:
    text = demo_files[name].decode("utf-8")
    assert old in text, old
    broken = text.replace(old, new, 1)
    if said == "repeated":  # the second entry's id made the first's
        first, second = (part.split("<")[0] for part in text.split(old)[1:3])
        broken = text.replace(second, first)
    found = feedcheck.check(name, broken.encode("utf-8"))
    assert found and any(said in problem for problem in found), found
