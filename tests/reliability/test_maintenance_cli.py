"""feeds/maintenance.py over a real store filled by a real pass: retention never drops
what a feed still shows, a JSON Lines export/import round trip loses nothing, and
doctor checks before it compacts."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harness import CorpusServer, check_output, run_feeds, write_config
from stored import stored

from feeds import config, maintenance
from feeds.errors import StorageError
from feeds.store import Store, open_store
from feeds.types import Config


def _filled(server: CorpusServer, tmp_path: Path, *, limit: int = 500) -> Config:
    path = write_config(tmp_path, server.urls(), extra="retention_days: 30\n", limit=limit)
    proc = run_feeds("run", "--all", "-c", str(path))
    assert proc.returncode == 0, proc.stderr
    return config.load(path)


def _story_ids_of_articles(store: Store) -> set[str | None]:
    return {row["story_id"] for row in store.export_rows() if row["table"] == "articles"}


def test_retention_keeps_every_story_a_feed_still_shows(
    two_generations: CorpusServer, tmp_path: Path
) -> None:
    cfg = _filled(two_generations, tmp_path, limit=5)
    published = check_output(tmp_path / "out")
    shown = [item[0] for item in published["all.json"]]
    shown_anywhere = {
        item[0].rsplit(":", 1)[1] for f in ("all.json", "ai.json") for item in published[f]
    }
    later = datetime.now(UTC) + timedelta(days=400)  # everything is old by then
    with open_store(cfg.database) as store:
        before = len(stored(store, "articles"))
        gone = maintenance.retention(store, cfg, later)
        left = len(stored(store, "articles"))
        kept_stories = _story_ids_of_articles(store)
    assert gone == before - left > 0
    assert len(shown) == 5 and kept_stories == shown_anywhere
    proc = run_feeds("run", "-c", cfg.path)  # the next pass publishes the same items
    assert proc.returncode == 0, proc.stderr
    assert [item[0] for item in check_output(tmp_path / "out")["all.json"]] == shown


def test_retention_spares_old_articles_first_seen_recently(
    two_generations: CorpusServer, tmp_path: Path
) -> None:
    cfg = _filled(two_generations, tmp_path, limit=5)  # articles published in March 2026
    with open_store(cfg.database) as store:
        before = stored(store, "articles")
        assert maintenance.retention(store, cfg, datetime.now(UTC)) == 0
        assert stored(store, "articles") == before


def test_export_import_round_trip_loses_nothing(
    two_generations: CorpusServer, tmp_path: Path
) -> None:
    cfg = _filled(two_generations, tmp_path)
    first = io.StringIO()
    with open_store(cfg.database) as store:
        count = maintenance.export_jsonl(store, first)
    assert count == len(first.getvalue().splitlines()) > 8 + 8  # sources + articles
    with open_store(str(tmp_path / "moved.db")) as moved:
        assert maintenance.import_jsonl(moved, io.StringIO(first.getvalue())) == count
        again = io.StringIO()
        maintenance.export_jsonl(moved, again)
    assert again.getvalue() == first.getvalue()


@pytest.mark.parametrize(
    "bad", ["{not json", "[1, 2]", '{"table": "nonsense"}'], ids=["syntax", "array", "table"]
)
def test_a_bad_line_names_its_number_and_imports_nothing(
    two_generations: CorpusServer, tmp_path: Path, bad: str
) -> None:
    cfg = _filled(two_generations, tmp_path)
    dump = io.StringIO()
    with open_store(cfg.database) as store:
        maintenance.export_jsonl(store, dump)
    lines = dump.getvalue().splitlines(keepends=True)
    lines.insert(2, bad + "\n")
    with open_store(str(tmp_path / "moved.db")) as moved:
        with pytest.raises(StorageError) as err:
            maintenance.import_jsonl(moved, io.StringIO("".join(lines)), name="backup.jsonl")
        assert stored(moved, "articles") == []
    assert "3" in str(err.value)  # "backup.jsonl:3: ..." or the store's "line 3: ..."


def test_doctor_checks_then_vacuums(two_generations: CorpusServer, tmp_path: Path) -> None:
    cfg = _filled(two_generations, tmp_path)
    with open_store(cfg.database) as store:
        assert maintenance.doctor(store) == []
    con = sqlite3.connect(cfg.database)  # an article pointing at a story that is gone
    con.execute("PRAGMA foreign_keys = OFF")
    con.execute("UPDATE articles SET story_id = 'missing' WHERE rowid = 1")
    con.commit()
    con.close()
    with open_store(cfg.database) as store:
        problems = maintenance.doctor(store)
    assert problems and "articles" in problems[0]


def test_export_is_json_lines_in_utf8(two_generations: CorpusServer, tmp_path: Path) -> None:
    cfg = _filled(two_generations, tmp_path)
    out = io.StringIO()
    with open_store(cfg.database) as store:
        maintenance.export_jsonl(store, out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["table"] for r in rows} >= {"sources", "stories", "articles"}
    assert "مصدر" in out.getvalue()  # not \\u escapes: readable, greppable
