"""The labelled story sets and benchmarks/storyset.py: the pairwise metric on a case
worked by hand, the command's report, the sets' shape, and a floor under today's
clustering figures on every set, so that a change that clusters worse fails here.

The sets and the scoring are the benchmark's own (read from benchmarks/, as
tests/test_dedupe.py reads clustering.jsonl), so the floor holds what the command prints.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storyset", ROOT / "benchmarks" / "storyset.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


storyset = _benchmark()

# Today's figures (precision, recall) less 0.01, rounded down: at most one pair of
# slack, so two more wrong or missed merges on a set fail. Measured with
# `python benchmarks/storyset.py` with the fitted pair scorer (docs/clustering.md):
# tune 0.954 / 0.937, heldout 0.973 / 0.901, clustering 1.000 / 0.970 (before it:
# 0.836 / 0.505, 0.830 / 0.481, 1.000 / 0.970); tune2 0.973 / 0.657 and fresh
# 0.959 / 0.864 (written later, blind to the method: 0.915 / 0.602 and 0.957 / 0.815
# for the method as it was then). Raise a floor when the method improves; lowering one
# to let a change through defeats it.
FLOORS = {
    "tune": (0.94, 0.92),
    "heldout": (0.96, 0.89),
    "clustering": (0.99, 0.96),
    "tune2": (0.96, 0.64),
    "fresh": (0.94, 0.85),
}


# --------------------------------------------------------------------------- the metric


def test_pairwise_metric_on_a_case_worked_by_hand() -> None:
    # gold: {a, b, c} and {d}: pairs ab, ac, bc. predicted: {a, b} and {c, d}: ab, cd.
    gold = {"a": "x", "b": "x", "c": "x", "d": "y"}
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2"}
    s = storyset.score(predicted, gold)
    assert (s.predicted, s.gold) == (2, 3)
    assert s.precision == pytest.approx(1 / 2)  # ab right, cd wrong
    assert s.recall == pytest.approx(1 / 3)  # ab found, ac and bc missed
    assert s.f1 == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))  # 0.4
    assert s.wrong == (("c", "d"),)
    assert s.missed == (("a", "c"), ("b", "c"))


def _figures(predicted: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    s = storyset.score(predicted, gold)
    return s.precision, s.recall, s.f1


def test_pairwise_metric_conventions() -> None:
    singletons = {"a": "1", "b": "2"}
    everything = {"a": "1", "b": "1"}
    # Nothing merged: no wrong merge (precision 1), the one gold pair missed.
    assert _figures(singletons, everything) == (1.0, 0.0, 0.0)
    # No gold pair: nothing to miss (recall 1), the one merge wrong.
    assert _figures(everything, singletons) == (0.0, 1.0, 0.0)
    assert _figures(singletons, singletons) == (1.0, 1.0, 1.0)
    # Labels are names only: the same partition under other names scores 1.
    assert _figures({"a": "s9", "b": "s9"}, everything) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="different articles"):
        storyset.score({"a": "1"}, everything)


# --------------------------------------------------------------------------- the command


def _row(ident: str, source: str, hour: int, title: str, story: str) -> dict[str, str]:
    return {
        "id": ident, "source": source, "source_url": f"https://{source}.example/feed",
        "published": f"2025-05-13T{hour:02d}:00:00Z",
        "canonical_url": f"https://{source}.example/{ident}", "title": title,
        "summary": title, "story": story,
    }  # fmt: skip


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """One wrong merge (the same title for two stories, which the exact tier joins) and
    one missed merge (one story in two titles that share nothing)."""
    same = "سامسونج تطلق هاتفا جديدا اليوم في الرياض"
    return _write(
        tmp_path / "tiny.jsonl",
        [
            _row("a1", "alpha", 8, same, "phone-a"),
            _row("b1", "beta", 9, same, "phone-b"),
            _row("c1", "gamma", 10, "ناسا تؤجل إطلاق المهمة القمرية", "moon"),
            _row("d1", "delta", 11, "تأخير رحلة أرتميس إلى الربيع المقبل", "moon"),
        ],
    )


def test_cluster_files_every_row_through_a_real_store(tiny: Path) -> None:
    rows = storyset.load(tiny)
    stories = storyset.cluster(rows)
    assert stories.keys() == {"a1", "b1", "c1", "d1"}
    assert all(s.startswith("s") for s in stories.values())  # story ids from the store
    assert stories["a1"] == stories["b1"]
    assert len({stories["a1"], stories["c1"], stories["d1"]}) == 3


def test_report_lists_every_error_with_titles_sources_and_targets(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert storyset.main(["--set", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "4 articles, 3 stories (1 told more than once), 4 sources" in out
    assert "precision 0.000  target >= 0.95  MISS" in out
    assert "recall    0.000  target >= 0.90  MISS" in out
    wrong, missed = out.split("wrong merges (1):")[1].split("missed merges (1):")
    assert "phone-a | phone-b" in wrong
    assert "alpha" in wrong and "beta" in wrong and "سامسونج تطلق هاتفا" in wrong
    assert "moon" in missed and "gamma" in missed and "delta" in missed
    assert "تأخير رحلة أرتميس" in missed and "ناسا تؤجل" in missed
    assert "targets: precision >= 0.95, recall >= 0.90" in out


def test_json_output(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert storyset.main(["--set", str(tiny), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["targets"] == {"precision": 0.95, "recall": 0.90}
    (only,) = data["sets"]
    assert (only["name"], only["articles"], only["stories"]) == ("tiny", 4, 3)
    assert (only["precision_pass"], only["recall_pass"]) == (False, False)
    assert [[s["id"] for s in pair] for pair in only["wrong"]] == [["a1", "b1"]]
    assert [[s["source"] for s in pair] for pair in only["missed"]] == [["gamma", "delta"]]


def test_a_bad_set_file_is_named_with_its_line(tmp_path: Path) -> None:
    row = _row("a1", "alpha", 8, "عنوان", "s")
    del row["story"]
    path = _write(tmp_path / "bad.jsonl", [_row("a0", "alpha", 7, "عنوان", "s"), row])
    with pytest.raises(storyset.SetError, match=r"bad\.jsonl:2: KeyError\('story'\)"):
        storyset.load(path)
    twice = _write(tmp_path / "twice.jsonl", [row | {"story": "s"}] * 2)
    with pytest.raises(storyset.SetError, match="appears twice"):
        storyset.load(twice)
    with pytest.raises(storyset.SetError, match="non-empty string"):
        storyset.load(_write(tmp_path / "empty.jsonl", [row | {"story": ""}]))
    with pytest.raises(storyset.SetError, match="no rows"):
        storyset.load(_write(tmp_path / "none.jsonl", []))
    with pytest.raises(SystemExit):
        storyset.main(["--set", "no-such-set"])


# --------------------------------------------------------------------------- the sets


def test_the_sets_are_what_issue_19_asks_for() -> None:
    sets = {name: storyset.load(path) for name, path in storyset.SETS.items()}
    tune, heldout = sets["tune"], sets["heldout"]
    new = tune + heldout
    stories = {name: {r.story for r in rows} for name, rows in sets.items()}
    assert len(new) >= 150 and len(stories["tune"] | stories["heldout"]) >= 50
    assert 0.5 <= len(tune) / len(new) <= 0.7  # about 60% to tune on, the rest held out
    # Each set tells its own stories: none is in another set.
    for a, b in itertools.combinations(stories.values(), 2):
        assert not a & b
    # The later set, split in two: about half to tune on, the rest held out.
    assert len(sets["tune2"]) + len(sets["fresh"]) >= 150
    assert len(stories["tune2"] | stories["fresh"]) >= 50
    ids = Counter(r.id for rows in sets.values() for r in rows)
    assert ids.most_common(1)[0][1] == 1
    for rows in (tune, heldout, sets["tune2"] + sets["fresh"]):
        assert len({r.source_url for r in rows}) >= 8
        by_story = defaultdict(list)
        for r in rows:
            by_story[r.story].append(r)
        assert max(len(group) for group in by_story.values()) <= 6
        assert sum(len(group) == 1 for group in by_story.values()) >= 2  # some singletons
        for group in by_story.values():
            times = [r.published for r in group]
            assert max(times) - min(times) <= timedelta(days=3)
        # One source twice in a story only for a genuine repost: one in the tuning set.
        reposts = [
            (a.id, b.id)
            for group in by_story.values()
            for a, b in itertools.combinations(group, 2)
            if a.source_url == b.source_url
        ]
        assert len(reposts) <= 1


# --------------------------------------------------------------------------- the floor


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_clustering_keeps_its_floor(name: str) -> None:
    result, _ = storyset.evaluate(name)
    precision, recall = FLOORS[name]
    got = f"precision {result.score.precision:.3f}, recall {result.score.recall:.3f}"
    assert result.score.precision >= precision, got
    assert result.score.recall >= recall, got


def test_a_backlog_is_filed_in_bounded_batches_with_the_same_quality(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A store recovering from killed passes files its backlog a batch at a time (issue
    20): no index is handed more than a batch of pending articles, and the stories come
    out as good as from one index over all of them."""
    from feeds import dedupe
    from feeds.pipeline import _cluster

    whole, _ = storyset.evaluate("tune")
    sizes: list[int] = []
    real = dedupe.StoryIndex.file

    def counting(index, pending):  # type: ignore[no-untyped-def]
        filed = real(index, pending)
        sizes.append(len(filed))
        return filed

    monkeypatch.setattr(_cluster, "BATCH", 25)
    monkeypatch.setattr(dedupe.StoryIndex, "file", counting)
    batched, _ = storyset.evaluate("tune")
    rows = sum(sizes)
    assert len(sizes) == -(-rows // 25) and max(sizes) == 25
    assert batched.score.precision >= whole.score.precision - 0.01
    assert batched.score.recall >= whole.score.recall - 0.01


@pytest.mark.parametrize("name", ["tune", "clustering"])
@pytest.mark.parametrize("seen_when_published", [False, True])
def test_batches_filed_into_one_kept_index_make_the_stories_a_fresh_index_does(
    name: str, seen_when_published: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog's batches go into the index of the batch before while it holds what a
    fresh one would (`StoryIndex.continues`): the stories are exactly those of an index
    built again from the store for every batch. Articles all first seen by one pass
    keep one index throughout; a backlog seen over months (the sets span months) needs
    some built again, and keeps the rest."""
    from feeds import dedupe
    from feeds.pipeline import _cluster

    _, rows = storyset.evaluate(name)
    monkeypatch.setattr(_cluster, "BATCH", 10)
    built: list[int] = []
    real_init = dedupe.StoryIndex.__init__

    def counting_init(index, *args, **kw):  # type: ignore[no-untyped-def]
        built.append(1)
        real_init(index, *args, **kw)

    monkeypatch.setattr(dedupe.StoryIndex, "__init__", counting_init)
    kept = storyset.cluster(rows, seen_when_published=seen_when_published)
    batches = -(-len(rows) // 10)
    if seen_when_published:
        assert 1 < len(built) < batches
    else:
        assert len(built) == 1
    monkeypatch.setattr(dedupe.StoryIndex, "continues", lambda *a, **kw: False)
    built.clear()
    fresh = storyset.cluster(rows, seen_when_published=seen_when_published)
    assert len(built) == batches
    assert kept == fresh
