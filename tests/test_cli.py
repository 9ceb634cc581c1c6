"""The command line as users and cron see it: a real subprocess, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from servers import LOOPBACK_YAML

from feeds import cli

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "pipeline"


def feeds(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "feeds", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def write_config(tmp_path: Path, urls: list[str]) -> Path:
    sources = "".join(f'  - url: "{u}"\n    name: "مصدر {i}"\n' for i, u in enumerate(urls))
    path = tmp_path / "config.yaml"
    path.write_text(
        'title: "تجربة"\nbase_url: https://example.org/\noutput_dir: out\n'
        f"database: db/feeds.db\n{LOOPBACK_YAML}\nsources:\n"
        + sources
        + 'feeds:\n  - slug: all\n    title: "الكل"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def served(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/alpha.rss").respond_with_data(
        (DATA / "alpha.rss").read_bytes(), content_type="application/rss+xml"
    )
    httpserver.expect_request("/broken.rss").respond_with_data("no", status=503)
    return httpserver.url_for("/alpha.rss")


def test_run_exits_0_and_prints_a_summary_even_with_a_failed_source(
    served: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, [served, httpserver.url_for("/broken.rss")])
    proc = feeds("run", "-c", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "2 sources fetched: 1 ok, 0 not modified, 1 failed" in proc.stdout
    assert "broken.rss: HTTP 503 Service Unavailable\n" in proc.stderr  # status said once
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "out" / "all.rss").stat().st_size > 0


def test_run_exits_75_when_another_pass_holds_the_lock(served: str, tmp_path: Path) -> None:
    import filelock

    cfg = write_config(tmp_path, [served])
    (tmp_path / "db").mkdir()
    with filelock.FileLock(str(tmp_path / "db" / "feeds.db.lock"), timeout=0):
        proc = feeds("run", "-c", str(cfg))
    assert proc.returncode == 75
    assert proc.stderr.count("\n") == 1
    assert "another pass is running" in proc.stderr


def test_check_reports_file_line_and_key_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        'title: "x"\nbase_url: https://example.org/\nsources:\n  - url: ftp://x.example/feed\n'
        'feeds:\n  - slug: all\n    titel: "x"\n',
        encoding="utf-8",
    )
    proc = feeds("check", "-c", str(path))
    assert proc.returncode == 1
    assert f"{path}:4: sources[0].url:" in proc.stdout
    assert f"{path}:7: feeds[0].titel:" in proc.stdout


def test_check_accepts_the_shipped_config() -> None:
    proc = feeds("check", "-c", str(ROOT / "config.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout


def test_run_with_invalid_config_exits_1_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("title: [unclosed\n", encoding="utf-8")
    proc = feeds("run", "-c", str(path))
    assert proc.returncode == 1
    assert str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_config_exits_1_naming_the_file(tmp_path: Path) -> None:
    proc = feeds("run", "-c", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 1
    assert "nope.yaml" in proc.stderr


@pytest.mark.parametrize("before", [True, False], ids=["before-command", "after-command"])
def test_config_and_verbose_options_work_before_or_after_the_command(
    tmp_path: Path, before: bool
) -> None:
    options = ["-v", "-c", str(tmp_path / "nope.yaml")]
    proc = feeds(*options, "check") if before else feeds("check", *options)
    assert proc.returncode == 1
    assert "nope.yaml" in proc.stdout + proc.stderr  # not ./config.yaml, which would pass
    args = cli._parser().parse_args([*options, "run"] if before else ["run", *options])
    assert (args.config, args.verbose) == (str(tmp_path / "nope.yaml"), True)
    assert (cli._parser().parse_args(["run"]).config, args.command) == ("config.yaml", "run")


def test_bad_usage_exits_2() -> None:
    assert feeds("frobnicate").returncode == 2
    assert feeds("run", "--no-such-flag").returncode == 2


def test_unusable_output_folder_exits_1(served: str, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [served])
    (tmp_path / "out").write_text("a file where the folder should be")
    proc = feeds("run", "-c", str(cfg))
    assert proc.returncode == 1
    assert "out" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_database_exits_1_and_is_not_recreated(served: str, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [served])
    (tmp_path / "db").mkdir()
    junk = b"garbage" * 1000
    (tmp_path / "db" / "feeds.db").write_bytes(junk)
    proc = feeds("run", "-c", str(cfg))
    assert proc.returncode == 1
    assert "feeds.db" in proc.stderr
    assert (tmp_path / "db" / "feeds.db").read_bytes() == junk


def test_status_json_lists_every_source(
    served: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, [served, httpserver.url_for("/broken.rss")])
    assert feeds("run", "-c", str(cfg)).returncode == 0
    proc = feeds("status", "-c", str(cfg), "--json")
    assert proc.returncode == 0
    rows = {r["url"]: r for r in json.loads(proc.stdout)}
    assert rows[served]["status"] == 200 and rows[served]["items"] == 2
    broken = rows[httpserver.url_for("/broken.rss")]
    assert broken["status"] == 503 and broken["consecutive_errors"] == 1
    assert broken["last_error"] and broken["next_due"]
    text = feeds("status", "-c", str(cfg))
    assert text.returncode == 0 and served in text.stdout and "last error" in text.stdout
    # one column for each field: the sources' URLs differ in length
    head, *lines = text.stdout.splitlines()
    column = head.index("HTTP")
    codes = [line[column:].split()[0] for line in lines if not line.startswith(" ")]
    assert sorted(codes) == ["200", "503"]


def test_status_lists_the_sources_of_the_config_as_it_is_now(
    served: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    # It listed the store's sources as of the last pass: one added since was missing,
    # one removed since was still there.
    cfg = write_config(tmp_path, [served, httpserver.url_for("/broken.rss")])
    assert feeds("run", "-c", str(cfg)).returncode == 0
    added = httpserver.url_for("/added.rss")
    write_config(tmp_path, [served, added])
    proc = feeds("status", "-c", str(cfg), "--json")
    rows = {r["url"]: r for r in json.loads(proc.stdout)}
    assert sorted(rows) == sorted([served, added])
    assert rows[added]["last_fetch"] is None and rows[served]["status"] == 200
    assert "never" in feeds("status", "-c", str(cfg)).stdout


def test_opml_round_trip_keeps_comments(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, ["https://a.example/feed"])
    cfg.write_text("# my sources, curated by hand\n" + cfg.read_text("utf-8"), encoding="utf-8")
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        '<outline text="تقنية"><outline text="جديد" type="rss" xmlUrl="https://b.example/feed"/>'
        '<outline text="مكرر" type="rss" xmlUrl="https://a.example/feed"/>'
        '<outline text="js" type="rss" xmlUrl="javascript:alert(1)"/></outline>'
        "</body></opml>",
        encoding="utf-8",
    )
    proc = feeds("opml", "import", str(opml), "-c", str(cfg))
    assert proc.returncode == 0, proc.stderr
    # Each refused outline has a line of its own, and is not counted as already present.
    assert "added 1 sources, skipped 1 already present, refused 1" in proc.stdout
    assert proc.stderr.count("not added") == 1 and "javascript:alert(1)" in proc.stderr
    assert cfg.read_text("utf-8").startswith("# my sources, curated by hand")
    export = feeds("opml", "export", "-c", str(cfg))
    assert export.returncode == 0
    assert export.stdout.count("xmlUrl=") == 2


def test_opml_names_like_on_and_no_round_trip_through_check(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, ["https://a.example/feed"])
    names = ["On", "No", "yes", "null", "1e3", "~"]
    outlines = "".join(
        f'<outline text="{n}" type="rss" xmlUrl="https://n{i}.example/feed"/>'
        for i, n in enumerate(names)
    )
    opml = tmp_path / "in.opml"
    opml.write_text(f'<opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
    assert feeds("opml", "import", str(opml), "-c", str(cfg)).returncode == 0
    check = feeds("check", "-c", str(cfg))
    assert check.returncode == 0, check.stdout + check.stderr
    export = feeds("opml", "export", "-c", str(cfg))
    assert all(f'text="{n}"' in export.stdout for n in names)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("title: " + "[" * 50_000 + "\n", ":1: YAML syntax error: nested more than 100 levels"),
        ("# x\n" * (2**20 // 4 + 1), ": the config file is larger than 1 MiB, the limit"),
    ],
    ids=["deep", "huge"],
)
def test_check_refuses_a_hostile_config_in_one_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text, encoding="utf-8")
    for command in ("check", "run"):
        proc = feeds(command, "-c", str(cfg))
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        assert (proc.stdout + proc.stderr).strip().count("\n") == 0
        assert f"{cfg}{problem}" in proc.stdout + proc.stderr


@pytest.mark.parametrize("output_dir", ["/", "/etc", "..", "db"])
def test_every_command_refuses_a_dangerous_output_dir(tmp_path: Path, output_dir: str) -> None:
    cfg = write_config(tmp_path, ["https://a.example/feed"])
    cfg.write_text(cfg.read_text("utf-8").replace("output_dir: out", f"output_dir: {output_dir}"))
    for command in ("check", "run", "status", "doctor"):
        proc = feeds(command, "-c", str(cfg))
        assert proc.returncode == 1, (command, proc.stdout, proc.stderr)
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        assert len(lines) == 1 and f"{cfg}:3: output_dir: " in lines[0], (command, lines)
    assert sorted(os.listdir(tmp_path)) == ["config.yaml"]  # nothing was created


def test_help_lists_every_contract_command() -> None:
    proc = feeds("--help")
    assert proc.returncode == 0
    for command in ("run", "serve", "check", "status", "opml", "demo", "worker", "doctor",
                    "export", "import"):  # fmt: skip
        assert command in proc.stdout


def test_readme_documents_every_command() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    commands = (
        "feeds run", "feeds serve", "feeds check", "feeds status", "feeds opml import",
        "feeds opml export", "feeds demo", "feeds worker", "feeds doctor", "feeds export",
        "feeds import", "make demo", "make test",
    )  # fmt: skip
    for command in commands:
        assert command in readme, command


def test_doctor_export_import_round_trip(served: str, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [served])
    assert feeds("run", "-c", str(cfg)).returncode == 0
    doctor = feeds("doctor", "-c", str(cfg))
    assert doctor.returncode == 0, doctor.stderr
    assert "OK" in doctor.stdout
    dump = tmp_path / "backup.jsonl"
    exported = feeds("export", "-c", str(cfg), "-o", str(dump))
    assert exported.returncode == 0 and "exported" in exported.stderr
    other = tmp_path / "other"
    other.mkdir()
    cfg2 = write_config(other, [served])
    imported = feeds("import", str(dump), "-c", str(cfg2))
    assert imported.returncode == 0, imported.stderr
    again = feeds("export", "-c", str(cfg2))
    assert again.returncode == 0
    assert again.stdout == dump.read_text("utf-8")
    assert again.stdout.count("\n") >= 4  # sources, stories and articles


def test_import_of_a_bad_line_names_it_and_exits_1(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, ["https://a.example/feed"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"table": "sources"}\nnot json\n', encoding="utf-8")
    proc = feeds("import", str(bad), "-c", str(cfg))
    assert proc.returncode == 1
    assert "bad.jsonl:" in proc.stderr
    assert "Traceback" not in proc.stderr


def _command(body: str) -> subprocess.CompletedProcess[str]:
    """`cli.command()` in a subprocess, with `main` replaced by `body`'s `fake_main`."""
    code = (
        "import atexit, sys, threading, time\n"
        "from feeds import cli\n"
        f"{body}\n"
        "cli.main = fake_main\n"
        "cli.command()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_executable_runs_atexit_handlers_flushes_output_and_keeps_the_code() -> None:
    done = _command(
        "def fake_main():\n"
        "    atexit.register(print, 'atexit ran')\n"
        "    sys.stdout.write('x' * 100000)  # buffered: a pipe is not a terminal\n"
        "    sys.stderr.write('to stderr')\n"
        "    return 3\n"
    )
    assert done.returncode == 3
    assert done.stdout.startswith("x" * 100000)
    assert done.stdout.endswith("atexit ran\n")
    assert done.stderr == "to stderr"


def test_the_executable_waits_for_a_thread_still_running() -> None:
    done = _command(
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('thread finished')\n"
        "def fake_main():\n"
        "    threading.Thread(target=late).start()\n"
        "    return 4\n"
    )
    assert done.returncode == 4
    assert done.stdout == "thread finished\n"
