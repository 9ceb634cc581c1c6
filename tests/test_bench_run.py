"""benchmarks/run.py's `measure`: what it reports is the measured process's own.

The benchmark holds its whole corpus in memory; a process it started itself would report
that memory as its own peak (Linux counts the parent's peak until exec in ru_maxrss).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

RUN_PY = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"

#: A child that loads run.py, makes its launcher, then holds 200 MB as the benchmark
#: holds its corpus, and measures three commands.
CHILD = textwrap.dedent(
    """
    import importlib.util, json, sys
    spec = importlib.util.spec_from_file_location("bench_run", sys.argv[1])
    run = sys.modules["bench_run"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    run.launcher()
    held = bytearray(200 * 1024 * 1024)
    for i in range(0, len(held), 4096):
        held[i] = 1
    python = sys.executable
    rows = [
        run.measure("pass", [python, "-c", "print('{\\"x\\": 1}')"]),
        run.measure("fails", [python, "-c", "import sys; print('bad'); sys.exit(3)"]),
        run.measure("hangs", [python, "-c", "import time; time.sleep(60)"], timeout=1.0),
    ]
    print(json.dumps([[r.name, r.wall, r.rss_mb, r.rss_max_one_mb, r.inner, r.ok, r.note]
                      for r in rows]))
    """
)


def test_measure_reports_the_process_own_memory_exit_and_timeout() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(RUN_PY)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = {row[0]: row[1:] for row in json.loads(done.stdout.splitlines()[-1])}

    wall, rss, one, inner, ok, note = rows["pass"]
    assert ok and note == ""
    assert inner == {"x": 1}  # the last line of output, read as JSON
    assert 0 < wall < 30
    # An interpreter that does nothing peaks near 10 MB; started from the 200-MB
    # process it reported more than 200.
    assert one < 100 and rss < 100

    _, _, _, _, ok, note = rows["fails"]
    assert not ok and note.startswith("exit 3") and "bad" in note

    wall, _, _, _, ok, note = rows["hangs"]
    assert not ok and "exit -9" in note
    assert wall < 30
