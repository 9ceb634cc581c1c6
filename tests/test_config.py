"""feeds.config: validation with FILE:LINE: key messages, defaults, paths, OPML.

Each problem case is a file in tests/data/config/ with the exact expected lines beside it
(`<case>.expected`); the checks run from that folder so the file name in each line is
the case's own name.
"""

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from feeds import config
from feeds.errors import ConfigError
from feeds.types import TOPICS, FetchConfig, ScheduleConfig, ServeConfig, SourceAuth

DATA = Path(__file__).parent / "data" / "config"
ROOT = Path(__file__).parent.parent
PROBLEM_CASES = sorted(DATA.glob("*.yaml"))
OPML_OK = sorted((DATA / "opml").glob("*.expected"))
OPML_BAD = sorted((DATA / "opml").glob("*.error"))


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- problems


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=lambda p: p.stem)
def test_problem_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    monkeypatch.chdir(DATA)

    found = [str(p) for p in config.problems(case.name)]
    with pytest.raises(ConfigError) as raised:
        config.load(case.name)

    assert found == expected
    assert str(raised.value).splitlines() == expected


def test_problem_cases_cover_every_kind() -> None:
    # One case per kind of problem the brief lists; a deleted case file fails here.
    kinds = {
        "unknown_key", "syntax_error", "not_mapping", "empty", "missing_required",
        "wrong_types", "bad_urls", "duplicates", "bad_slugs", "bad_regex",
        "bad_topics_languages", "bad_numbers", "bad_interval", "bad_cron",
        "schedule_both", "bad_fetch", "bad_timezone", "unsafe_tags", "many_problems",
        "bad_allow_private", "bad_auth", "bad_huge_durations", "bad_control_chars",
    }  # fmt: skip
    assert kinds <= {p.stem for p in PROBLEM_CASES}
    assert all(p.with_suffix(".expected").is_file() for p in PROBLEM_CASES)


def test_many_problems_are_reported_in_file_order() -> None:
    found = config.problems(DATA / "many_problems.yaml")
    lines = [p.line or 0 for p in found]
    assert len(found) >= 8
    assert lines == sorted(lines)
    # Checked last (feeds) or first (title) but reported where they are in the file.
    assert found[0].key == "title" and found[1].key == "feeds[0].slug"


def test_public_api_is_sorted_and_exists() -> None:
    assert config.__all__ == sorted(config.__all__)
    assert all(callable(getattr(config, name)) for name in config.__all__)


def test_problem_keeps_line_and_key_apart() -> None:
    (problem,) = config.problems(DATA / "bad_cron.yaml")
    assert (problem.line, problem.key) == (4, "schedule.cron")
    assert problem.file == str(DATA / "bad_cron.yaml")


def test_a_database_that_is_a_folder_or_an_output_dir_that_is_a_file_is_named(
    tmp_path: Path,
) -> None:
    # Both passed check, then every pass failed: "unable to open database file" under
    # the folder's name, and "[Errno 17] File exists" for the output folder.
    (tmp_path / "store").mkdir()
    (tmp_path / "public").write_text("not a folder")
    head = "title: t\nbase_url: https://example.org/\nsources:\n  - url: https://a.example/f\n"
    feeds = "feeds:\n  - slug: all\n    title: all\n"
    for key, value, words in (
        ("database", "store", "is a folder; give the SQLite file's path in it"),
        ("output_dir", "public", "is a file, not a folder"),
    ):
        path = _write(tmp_path, f"{key}.yaml", f"{head}{key}: {value}\n{feeds}")
        (problem,) = config.problems(path)
        assert str(problem) == f"{path}:5: {key}: {tmp_path / value} {words}"


def test_missing_file_is_one_problem_without_line(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert [str(p) for p in config.problems(path)] == [
        f"{path}: cannot read the config file: No such file or directory"
    ]
    with pytest.raises(ConfigError, match="No such file"):
        config.load(path)


def test_directory_is_unreadable(tmp_path: Path) -> None:
    (problem,) = config.problems(tmp_path)
    assert problem.line is None
    assert problem.message == "cannot read the config file: Is a directory"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"title: Tech\nbase_url: https://example.org/\nname: caf\xe9\n")
    assert [str(p) for p in config.problems(path)] == [f"{path}:3: the file is not UTF-8 text"]


def test_bom_is_accepted(tmp_path: Path) -> None:
    text = (DATA / "valid" / "minimal.yaml").read_text(encoding="utf-8")
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert config.load(path).title == "Tech"


# --------------------------------------------------------------------------- valid files


def test_shipped_config_loads() -> None:
    path = ROOT / "config.yaml"
    assert config.problems(path) == ()
    loaded = config.load(path)

    assert loaded.title == "أخبار التقنية العربية"
    assert loaded.base_url == "https://example.org/feeds/"
    assert loaded.output_dir == str(ROOT / "public")
    assert loaded.database == str(ROOT / "data" / "feeds.db")
    assert loaded.schedule == ScheduleConfig(interval=timedelta(minutes=15))
    assert loaded.serve == ServeConfig("127.0.0.1", 8080)
    assert 15 <= len(loaded.sources) <= 25
    assert all(s.url.startswith("https://") for s in loaded.sources)
    assert all(re.search("[\u0600-\u06ff]", s.name) for s in loaded.sources)


def test_shipped_config_feeds() -> None:
    feeds = {f.slug: f for f in config.load(ROOT / "config.yaml").feeds}
    assert {"all", "ai", "mobile", "security", "gaming"} <= feeds.keys()
    assert feeds["all"].topics == ()
    assert feeds["ai"].exclude == ("(?i)sponsored", "إعلان")
    assert all(set(f.topics) <= set(TOPICS) for f in feeds.values())
    assert all(re.search("[\u0600-\u06ff]", f.title) for f in feeds.values())


def test_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    shutil.copy(DATA / "valid" / "minimal.yaml", path)
    loaded = config.load(path)

    assert loaded.path == str(path)
    assert loaded.base_url == "https://example.org/feeds/"  # the final slash is added
    assert loaded.output_dir == str(tmp_path / "public")
    assert loaded.database == str(tmp_path / "data" / "feeds.db")
    assert loaded.schedule == ScheduleConfig(interval=timedelta(minutes=15), cron=None)
    assert loaded.serve is None
    assert loaded.fetch == FetchConfig()
    assert (loaded.websub_hub, loaded.retention_days, loaded.language) == (None, None, "ar")
    (source,) = loaded.sources
    assert (source.name, source.max_bytes, source.filter_topics) == ("", 10 * 2**20, False)
    assert (source.priority, source.default_tz) == (0, None)
    (feed,) = loaded.feeds
    assert (feed.slug, feed.title, feed.description, feed.limit) == ("all", "All", "", 100)
    assert feed.topics == feed.include == feed.exclude == feed.languages == ()


def test_every_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDS_TEST_B_USER", "reader")
    monkeypatch.setenv("FEEDS_TEST_B_PASS", "")  # set, even if empty, is enough
    path = tmp_path / "conf" / "config.yaml"
    path.parent.mkdir()
    shutil.copy(DATA / "valid" / "full.yaml", path)
    loaded = config.load(path)

    assert loaded.output_dir == str(tmp_path / "site" / "out")
    assert loaded.database == "postgresql://feeds@db.example/feeds"  # a URL is not a path
    assert loaded.schedule == ScheduleConfig(interval=None, cron="*/10 * * * 1-5")
    assert loaded.serve == ServeConfig("0.0.0.0", 9000)
    assert loaded.fetch == FetchConfig(
        timeout=12.5,
        pass_deadline=300,
        concurrency=4,
        per_host=1,
        max_bytes=512 * 1024,
        min_interval=timedelta(seconds=90),
        max_interval=timedelta(hours=1, minutes=30),
        user_agent="feeds-test/1.0",
        allow_private=("10.0.0.0/8", "fd00::/8", "192.168.1.10"),
    )
    assert (loaded.websub_hub, loaded.retention_days, loaded.language) == (
        "https://hub.example/",
        30,
        "en",
    )
    first, second = loaded.sources
    assert (first.name, first.max_bytes, first.filter_topics) == ("A", 5_000_000, True)
    assert (first.priority, first.default_tz) == (3, "Asia/Riyadh")
    assert (first.user_agent, second.user_agent) == ("Mozilla/5.0 (compatible; feeds)", "")
    assert second.max_bytes == 512 * 1024  # inherits fetch.max_bytes
    assert (first.auth, second.auth) == (None, SourceAuth("FEEDS_TEST_B_USER", "FEEDS_TEST_B_PASS"))
    assert "reader" not in repr(loaded)  # the config names the variables, never holds them
    (feed,) = loaded.feeds
    assert feed.topics == ("ai", "science") and feed.include == ("(?i)openai",)
    assert feed.exclude == ("(?i)sponsored", "إعلان")
    assert (feed.languages, feed.limit, feed.description) == (("ar", "en"), 20, "Only AI")


def test_paths_resolve_against_the_config_folder_not_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _write(
        tmp_path,
        "site/config.yaml",
        (DATA / "valid" / "minimal.yaml").read_text(encoding="utf-8")
        + "output_dir: out/feeds\ndatabase: ../db/feeds.db\n",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    loaded = config.load(os.path.relpath(site, elsewhere))

    assert loaded.path == str(site)
    assert loaded.output_dir == str(tmp_path / "site" / "out" / "feeds")
    assert loaded.database == str(tmp_path / "db" / "feeds.db")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_intervals(tmp_path: Path, text: str, expected: timedelta) -> None:
    base = (DATA / "valid" / "minimal.yaml").read_text(encoding="utf-8")
    path = _write(tmp_path, "c.yaml", base + f"schedule: {{interval: {text}}}\n")
    assert config.load(path).schedule == ScheduleConfig(interval=expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", 1234),
        ("10MiB", 10 * 2**20),
        ("512KiB", 512 * 2**10),
        ("5MB", 5 * 10**6),
        ("2 gib", 2 * 2**30),
        ("700kb", 700_000),
        ("64B", 64),
    ],
)
def test_sizes(tmp_path: Path, text: str, expected: int) -> None:
    base = (DATA / "valid" / "minimal.yaml").read_text(encoding="utf-8")
    path = _write(tmp_path, "c.yaml", base + f"fetch: {{max_bytes: {text}}}\n")
    assert config.load(path).fetch.max_bytes == expected


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u:p@h:5432/db"])
def test_postgres_urls_are_kept(tmp_path: Path, url: str) -> None:
    base = (DATA / "valid" / "minimal.yaml").read_text(encoding="utf-8")
    path = _write(tmp_path, "c.yaml", base + f"database: {url}\n")
    assert config.load(path).database == url


# --------------------------------------------------------------------------- OPML


@pytest.mark.parametrize("case", OPML_OK, ids=lambda p: p.stem)
def test_parse_opml(case: Path) -> None:
    lines = case.read_text(encoding="utf-8").splitlines()
    expected = [tuple(line.split("\t")) for line in lines]
    assert list(config.parse_opml(case.with_suffix(".opml").read_bytes())) == expected


@pytest.mark.parametrize("case", OPML_BAD, ids=lambda p: p.stem)
def test_parse_opml_refuses(case: Path) -> None:
    opml = case.with_suffix(".opml")
    with pytest.raises(ConfigError) as raised:
        config.parse_opml(opml.read_bytes(), name=opml.name)
    assert str(raised.value) == case.read_text(encoding="utf-8").strip()


def test_render_opml_parses_back() -> None:
    loaded = config.load(ROOT / "config.yaml")
    rendered = config.render_opml(loaded)

    root = ET.fromstring(rendered)
    assert rendered.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == loaded.title
    assert config.parse_opml(rendered) == tuple((s.url, s.name) for s in loaded.sources)
    assert config.render_opml(loaded) == rendered  # deterministic: no dateCreated


def test_render_opml_names_a_nameless_source_by_its_url(tmp_path: Path) -> None:
    path = shutil.copy(DATA / "valid" / "minimal.yaml", tmp_path / "c.yaml")
    rendered = config.render_opml(config.load(path))
    assert config.parse_opml(rendered) == (("https://a.example/feed", "https://a.example/feed"),)


def test_add_sources_keeps_comments_and_skips_duplicates(tmp_path: Path) -> None:
    original = (DATA / "valid" / "with_comments.yaml").read_text(encoding="utf-8")
    path = _write(tmp_path, "config.yaml", original)

    done = config.add_sources(
        path,
        [
            ("HTTPS://A.Example/feed", "same as the first, different case and no slash"),
            ("https://new.example/rss", "عالم جديد"),
            ("ftp://old.example/feed", "not http"),
            ("https://b.example/feed/", "same as the second, with a slash"),
            ("https://new.example/rss/", "a duplicate within the import"),
            ("https://plain.example/feed", ""),
        ],
    )

    text = path.read_text(encoding="utf-8")
    assert done.added == ("https://new.example/rss", "https://plain.example/feed")
    assert done.present == 3
    assert [url for url, _ in done.refused] == ["ftp://old.example/feed"]
    assert "must be an http(s) URL" in done.refused[0][1]
    comments = [line.strip() for line in original.splitlines() if "#" in line]
    assert all(c in [line.strip() for line in text.splitlines()] for c in comments)
    assert 'title: "Tech"' in text and "name: 'A'" in text  # quoting kept
    # The new entries go inside the list, above the heading comment of `feeds:`.
    assert text.index("plain.example") < text.index("# The merged feeds.")
    assert "  - url: https://new.example/rss\n    name: عالم جديد\n" in text
    loaded = config.load(path)
    assert [(s.url, s.name) for s in loaded.sources][-2:] == [
        ("https://new.example/rss", "عالم جديد"),
        ("https://plain.example/feed", ""),
    ]


def test_add_sources_without_anything_new_leaves_the_file_alone(tmp_path: Path) -> None:
    path = _write(tmp_path, "config.yaml", (DATA / "valid" / "with_comments.yaml").read_text())
    before = path.read_bytes()
    os.utime(path, (0, 0))

    assert config.add_sources(path, [("https://a.example/feed", "A again")]) == ((), 1, ())
    assert path.read_bytes() == before
    assert path.stat().st_mtime == 0
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]  # no temp file left


def test_add_sources_to_the_shipped_config(tmp_path: Path) -> None:
    original = (ROOT / "config.yaml").read_text(encoding="utf-8")
    path = _write(tmp_path, "config.yaml", original)

    assert config.add_sources(path, [("https://tbreak.com/feed/", "tbreak")]).added == (
        "https://tbreak.com/feed/",
    )

    text = path.read_text(encoding="utf-8")
    assert [line for line in original.splitlines() if line.lstrip().startswith("#")] == [
        line for line in text.splitlines() if line.lstrip().startswith("#")
    ]
    assert config.problems(path) == ()
    assert len(config.load(path).sources) == len(config.load(ROOT / "config.yaml").sources) + 1


def test_add_sources_creates_the_list_when_absent(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "# only a title so far\ntitle: T\n")
    assert config.add_sources(path, [("https://a.example/feed", "A")]).added == (
        "https://a.example/feed",
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# only a title so far\n")
    assert "sources:\n  - url: https://a.example/feed\n    name: A\n" in text


def test_add_sources_reports_a_broken_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "title: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        config.add_sources(path, [("https://a.example/feed", "A")])
    with pytest.raises(ConfigError, match="cannot read"):
        config.add_sources(tmp_path / "missing.yaml", [("https://a.example/feed", "A")])


# --------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize(
    ("nesting", "line"),
    [
        ("[" * 50_000, 2),
        ("[" * 150 + "]" * 150, 2),  # libyaml composes up to 1,000 levels
        ("\n" + "".join("  " * i + "-\n" for i in range(1, 600)), 102),
    ],
    ids=["50000-flow", "150-flow", "600-block"],
)
def test_deep_nesting_is_one_problem_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, libyaml: bool, nesting: str, line: int
) -> None:
    if not libyaml:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    path = _write(tmp_path, "deep.yaml", "# line 1\ntitle: " + nesting + "\n")
    found = [str(p) for p in config.problems(path)]
    assert found == [f"{path}:{line}: YAML syntax error: nested more than 100 levels deep"]
    with pytest.raises(ConfigError):
        config.load(path)


@pytest.mark.parametrize(
    ("nesting", "line"),
    [("[" * 50_000, 2), ("\n" + "".join("  " * i + "-\n" for i in range(1, 600)), 102)],
    ids=["50000-flow", "600-block"],
)
def test_opml_import_into_a_deeply_nested_file_is_a_problem(
    tmp_path: Path, nesting: str, line: int
) -> None:
    path = _write(tmp_path, "deep.yaml", "title: t\nx: " + nesting + "\n")
    with pytest.raises(ConfigError) as raised:
        config.add_sources(path, [("https://a.example/feed", "A")])
    problem = "YAML syntax error: nested more than 100 levels deep"
    assert str(raised.value) == f"{path}:{line}: {problem}"


def test_a_config_over_the_size_limit_is_refused_at_once(tmp_path: Path) -> None:
    minimal = (DATA / "valid" / "minimal.yaml").read_text(encoding="utf-8")
    padding = "# " + "x" * 98 + "\n"
    path = _write(tmp_path, "huge.yaml", minimal + padding * (50 * 2**20 // 100))
    assert [str(p) for p in config.problems(path)] == [
        f"{path}: the config file is larger than 1 MiB, the limit"
    ]
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        config.add_sources(path, [("https://a.example/feed", "A")])


def test_a_config_just_under_the_size_limit_loads(tmp_path: Path) -> None:
    head = "title: t\nbase_url: https://example.org/\nfeeds:\n  - {slug: all, title: All}\n"
    line = "  - {url: 'https://s%05d.example/feed', name: 'مصدر %05d'}\n"
    count = (2**20 - len(head) - 9) // len((line % (0, 0)).encode())
    sources = "".join(line % (i, i) for i in range(count))
    path = _write(tmp_path, "big.yaml", head + "sources:\n" + sources)
    assert path.stat().st_size <= 2**20
    assert len(config.load(path).sources) == count


YAML_1_1_WORDS = ["On", "No", "yes", "off", "null", "~", "1e3", "2024-01-01", "0x1F", "12:30", "="]


def test_opml_names_yaml_would_not_read_as_text_are_quoted(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", (DATA / "valid" / "minimal.yaml").read_text())
    pairs = [(f"https://n{i}.example/feed", name) for i, name in enumerate(YAML_1_1_WORDS)]
    assert len(config.add_sources(path, pairs).added) == len(pairs)
    assert config.problems(path) == ()
    names = [s.name for s in config.load(path).sources[1:]]
    assert names == YAML_1_1_WORDS
    assert "    name: Plain name\n" in _added_plainly(tmp_path)


def _added_plainly(tmp_path: Path) -> str:
    """A name YAML reads as text stays unquoted, as the user would write it."""
    path = _write(tmp_path, "plain.yaml", (DATA / "valid" / "minimal.yaml").read_text())
    config.add_sources(path, [("https://plain.example/feed", "Plain name")])
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- output_dir

HEAD = "title: t\nbase_url: https://example.org/\n"
TAIL = "sources:\n  - url: https://a.example/feed\nfeeds:\n  - {slug: all, title: All}\n"
REFUSED_OUTPUT = [
    ("root", "/", "feeds.db", "/ is a system folder"),
    *(
        (
            path.strip("/").replace("/", "-"),
            path,
            "feeds.db",
            f"{path.rstrip('/')} is a system folder",
        )
        for path in ("/etc", "/etc/feeds", "/usr/", "/var", "/sys/kernel", "/usr/lib/python3")
    ),
    ("config-folder", ".", "data/feeds.db", "{conf} holds the config file"),
    ("config-parent", "..", "data/feeds.db", "{top} is above the config file"),
    ("database-folder", "data", "data/feeds.db", "{conf}/data holds the database"),
    ("database-below", "srv", "srv/data/feeds.db", "{conf}/srv holds the database"),
    ("home", "'~'", "feeds.db", "{top}/home is the home folder"),
    ("link-to-config", "link", "feeds.db", "{conf}/link (= {conf}) holds the config file"),
]


def _output_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, db: str) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    conf = tmp_path / "conf"
    conf.mkdir(exist_ok=True)
    (conf / "link").symlink_to(conf)
    return _write(conf, "config.yaml", f"{HEAD}output_dir: {out}\ndatabase: {db}\n{TAIL}")


@pytest.mark.parametrize(
    ("out", "db", "message"), [c[1:] for c in REFUSED_OUTPUT], ids=[c[0] for c in REFUSED_OUTPUT]
)
def test_dangerous_output_dirs_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, db: str, message: str
) -> None:
    path = _output_case(tmp_path, monkeypatch, out, db)
    (problem,) = config.problems(path)
    assert (problem.line, problem.key) == (3, "output_dir")
    expected = message.format(conf=tmp_path / "conf", top=tmp_path)
    assert problem.message.startswith(expected), problem.message
    with pytest.raises(ConfigError, match="output_dir"):
        config.load(path)


@pytest.mark.parametrize(
    ("out", "db"),
    [
        ("public", "data/feeds.db"),  # the shipped config's layout
        ("out/feeds", "../db/feeds.db"),
        ("data/public", "data/feeds.db"),  # below the database's folder, not holding it
        ("/var/www/html", "feeds.db"),
        ("/srv/feeds", "feeds.db"),
        ("public", "postgresql://feeds@db.example/feeds"),  # its lock is in output_dir
        ("~/public", "feeds.db"),
    ],
)
def test_ordinary_output_dirs_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str, db: str
) -> None:
    path = _output_case(tmp_path, monkeypatch, out, db)
    assert config.problems(path) == ()


def test_output_dir_that_is_absent_defaults_to_a_safe_subfolder(tmp_path: Path) -> None:
    path = _write(tmp_path, "config.yaml", HEAD + "database: public/feeds.db\n" + TAIL)
    (problem,) = config.problems(path)
    assert (problem.line, problem.key) == (1, "output_dir")
    assert "holds the database" in problem.message
