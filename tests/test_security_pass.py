"""Whole passes through the command line: nothing refused is published, and source
credentials are sent but never shown or published (issue 20, sections 1 and 2).

The refused server is on 127.0.0.1; the allowed one on 127.0.0.2 (``allow_private:
[127.0.0.2/32]``), on the same port, so only the address tells them apart.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from servers import HostileServer

from feeds import guard

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cret-pw"
PUBLISHED = ("all.rss", "all.atom", "all.json", "index.html", "feeds.opml")


def feeds(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def write_config(folder: Path, allow: list[str], sources: list[str]) -> Path:
    lines = [
        'title: "أخبار"',
        "base_url: https://example.org/feeds/",
        "output_dir: out",
        "database: data/feeds.db",
        f"fetch: {{allow_private: {json.dumps(allow)}}}",
        "sources:",
        *sources,
        "feeds:",
        '  - {slug: all, title: "الكل"}',
    ]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def source(url: str, *extra: str) -> str:
    return "\n".join([f"  - url: {json.dumps(url)}", *(f"    {line}" for line in extra)])


def published(folder: Path) -> str:
    return "".join((folder / "out" / name).read_text(encoding="utf-8") for name in PUBLISHED)


# --------------------------------------------------------------------------- SSRF


def test_a_pass_publishes_nothing_from_a_refused_address(
    inside: HostileServer, allowed: HostileServer, tmp_path: Path
) -> None:
    feed = inside.url("/relative")  # "Relative one": must not be published
    sources = [
        allowed.url("/feed.xml"),  # "One": allowed, published
        feed,  # refused directly
        allowed.url(f"/page?feed={feed}"),  # an allowed page's feed link points inside
        allowed.url(f"/redirect?to={feed}"),  # an allowed server redirects inside
        feed.replace("127.0.0.1", "localhost"),  # a name that resolves inside
    ]
    path = write_config(tmp_path, ["127.0.0.2/32"], [source(u) for u in sources])
    before = sum(inside.hits.values())
    run = feeds("run", "-c", str(path))
    assert run.returncode == 0, run.stderr
    errors = run.stderr.splitlines()
    assert len(errors) == 4, run.stderr
    assert all("refused to connect" in line and "127.0.0.1" in line for line in errors)
    assert all("kind" not in line and "Traceback" not in line for line in errors)
    assert sum(inside.hits.values()) == before
    text = published(tmp_path)
    assert "One" in text
    assert "Relative one" not in text and "/a/1" not in text
    status = json.loads(feeds("status", "--json", "-c", str(path)).stdout)
    outcomes = {row["url"]: (row["outcome"], row["last_error"] or "") for row in status}
    assert outcomes[allowed.url("/feed.xml")] == ("ok", "")
    assert all(o == "error" and "refused" in e for u, (o, e) in outcomes.items() if u != sources[0])


# --------------------------------------------------------------------------- credentials


def test_credentials_are_sent_but_never_shown_or_published(
    inside: HostileServer, tmp_path: Path
) -> None:
    host = inside.base.removeprefix("http://")
    url = f"http://reader:{SECRET}@{host}/relative?probe=userinfo"
    sources = [source(url), source(f"http://reader:{SECRET}@{host}/gone")]
    path = write_config(tmp_path, ["127.0.0.0/8"], sources)

    run = feeds("run", "-v", "-c", str(path))
    assert run.returncode == 0, run.stderr
    sent = [r.headers for r in inside.requests if r.query.get("probe") == ["userinfo"]]
    assert (
        sent[-1]["authorization"]
        == "Basic " + base64.b64encode(f"reader:{SECRET}".encode()).decode()
    )
    # Relative links are joined against the URL without its userinfo.
    text = published(tmp_path)
    assert f"{inside.base}/a/1" in text and f"{inside.base}/i.png" in text
    assert SECRET not in text and "reader:" not in text
    # Shown everywhere with the password masked: the error line, -v's log lines,
    # status in both forms, and opml export (which drops the userinfo).
    assert f"http://reader:***@{host}/gone: HTTP 410 Gone" in run.stderr
    status = feeds("status", "-c", str(path))
    status_json = feeds("status", "--json", "-c", str(path))
    exported = feeds("opml", "export", "-c", str(path))
    for shown in (run.stderr, run.stdout, status.stdout, status_json.stdout, exported.stdout):
        assert SECRET not in shown
    assert "reader:***@" in status.stdout
    assert {r["url"] for r in json.loads(status_json.stdout)} == {
        f"http://reader:***@{host}/relative?probe=userinfo",
        f"http://reader:***@{host}/gone",
    }
    assert f'xmlUrl="{inside.base}/relative?probe=userinfo"' in exported.stdout


def test_credentials_from_environment_variables(inside: HostileServer, tmp_path: Path) -> None:
    auth = "auth: {username_env: FEEDS_TEST_USER, password_env: FEEDS_TEST_PASS}"
    path = write_config(
        tmp_path, ["127.0.0.0/8"], [source(inside.url("/feed.xml?probe=env"), auth)]
    )
    env = {"FEEDS_TEST_USER": "reader", "FEEDS_TEST_PASS": SECRET}

    missing = feeds("check", "-c", str(path), env={"FEEDS_TEST_PASS": SECRET})
    assert missing.returncode == 1
    assert missing.stdout.splitlines() == [
        f"{path}:8: sources[0].auth.username_env: environment variable FEEDS_TEST_USER is not set"
    ]
    assert SECRET not in missing.stderr + missing.stdout

    run = feeds("run", "-c", str(path), env=env)
    assert run.returncode == 0, run.stderr
    sent = [r.headers for r in inside.requests if r.query.get("probe") == ["env"]]
    expected = base64.b64encode(f"reader:{SECRET}".encode()).decode()
    assert sent[-1]["authorization"] == f"Basic {expected}"
    assert SECRET not in feeds("check", "-c", str(path), env=env).stdout


# --------------------------------------------------------------------------- file modes


def test_the_store_is_private_and_the_published_files_are_not(
    inside: HostileServer, tmp_path: Path
) -> None:
    # The store's -wal and -shm files are gone once the pass ends; test_store checks them.
    path = write_config(tmp_path, ["127.0.0.0/8"], [source(inside.url("/feed.xml"))])
    old = os.umask(0o022)  # the usual umask, whatever the test runner's is
    try:
        run = feeds("run", "-c", str(path))
    finally:
        os.umask(old)
    assert run.returncode == 0, run.stderr
    assert stat.S_IMODE((tmp_path / "data" / "feeds.db").stat().st_mode) == 0o600
    for name in PUBLISHED:
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o644, name


# --------------------------------------------------------------------------- opml import

OPML = """<?xml version="1.0"?>
<opml version="2.0"><head><title>t</title></head><body>
  <outline text="a" xmlUrl="http://127.0.0.1:8080/feed"/>
  <outline text="b" xmlUrl="http://localhost/rss"/>
  <outline text="c" xmlUrl="http://2130706433/feed"/>
  <outline text="d" xmlUrl="http://metadata.google.internal/computeMetadata/v1/"/>
  <outline text="e" xmlUrl="http://169.254.169.254/latest/meta-data/"/>
  <outline text="f" xmlUrl="http://reader:pa55@10.0.0.5/feed"/>
  <outline text="g" xmlUrl="https://example.com/feed"/>
</body></opml>
"""


@pytest.mark.parametrize(
    ("allow", "warned"),
    [
        ([], "abcdef"),
        (["127.0.0.0/8"], "def"),
        (["127.0.0.0/8", "10.0.0.0/8", "169.254.169.254"], "d"),  # a name: always said
    ],
)
def test_opml_import_warns_about_refused_urls(
    tmp_path: Path, allow: list[str], warned: str
) -> None:
    path = write_config(tmp_path, allow, [source("https://already.example/feed")])
    (tmp_path / "in.opml").write_text(OPML, encoding="utf-8")
    done = feeds("opml", "import", str(tmp_path / "in.opml"), "-c", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}: added 7 sources, skipped 0 already present\n"
    lines = {
        "a": "http://127.0.0.1:8080/feed: warning: 127.0.0.1 is a loopback address",
        "b": "http://localhost/rss: warning: localhost is a loopback name",
        "c": "http://2130706433/feed: warning: 2130706433 is a loopback address",
        "d": "http://metadata.google.internal/computeMetadata/v1/: warning: "
        "metadata.google.internal is a local network name",
        "e": "http://169.254.169.254/latest/meta-data/: warning: "
        "169.254.169.254 is a link-local address",
        "f": "http://reader:***@10.0.0.5/feed: warning: 10.0.0.5 is a private address",
    }
    tail = ": not fetched unless fetch.allow_private allows it"
    assert done.stderr.splitlines() == [f"feeds: {lines[k]}{tail}" for k in warned]


@pytest.mark.postgres
def test_a_database_password_is_masked_too(pg_url: str, tmp_path: Path) -> None:
    bare, credentials = guard.split_userinfo(pg_url)
    user, password = credentials or ("postgres", "")
    if not password:  # the test server trusts local connections: any password will do
        password = "db-s3cret"
        pg_url = bare.replace("://", f"://{user}:{password}@", 1)
    path = write_config(tmp_path, [], [source("https://a.example/feed")])
    text = path.read_text(encoding="utf-8").replace("data/feeds.db", json.dumps(pg_url))
    path.write_text(text, encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    done = feeds("import", str(tmp_path / "empty.jsonl"), "-c", str(path))
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr
    assert f"{user}:***@" in done.stdout


def test_opml_import_names_refused_urls_masked(tmp_path: Path) -> None:
    path = write_config(tmp_path, [], [source("https://already.example/feed")])
    opml = OPML.replace("https://example.com/feed", "ftp://reader:pa55@x.example/feed")
    (tmp_path / "in.opml").write_text(opml, encoding="utf-8")
    done = feeds("opml", "import", "-v", str(tmp_path / "in.opml"), "-c", str(path))
    assert done.returncode == 0, done.stderr
    assert "not added: must be an http(s) URL, got 'ftp://reader:***@x.example/feed'" in (
        done.stderr
    )
    assert "pa55" not in done.stderr + done.stdout
