"""`make bench`: feeds against feedparser alone and against reader, on the same bytes.

For each corpus size, in one run: a seeded corpus (benchmarks/corpus.py) is served from
loopback addresses, then each contender runs in a fresh process so its wall time and
peak memory are its own:

* feedparser alone: one process parses every body from disk (the floor for parsing);
* reader: lemon24/reader's ``update_feeds(workers=8)`` fetching, parsing and storing;
* ``feeds run --all`` on an empty store (cold), then again with nothing changed (warm:
  every source answers 304);
* ``feeds run`` cold with the parse kept in-process, to show what the pool buys;
* ``feeds --help``, the start-up cost every command pays.

Peak memory is the peak of the *sum* of the proportional set sizes (PSS) of the process
and all its descendants (the pool's workers and forkserver included), sampled every
0.25 s, or the main process's own peak when that is higher: a pool that trades memory
for time has to show the memory. Each measured process is started by a small launcher
process (`_Launcher`), so that no figure includes this process's corpus. Run ``--help``
for the options.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (a sibling script, not a package)

PYTHON = sys.executable
FEEDS = [PYTHON, "-m", "feeds"]
TARGET_SIZE = (200, 40)
RSS_LIMIT_MB = 300.0
HELP_LIMIT_S = 0.3


@dataclass
class Run:
    """One measured process."""

    name: str
    wall: float
    cpu: float  # user + system seconds of the process and the children it waited for
    rss_mb: float  # peak of the process tree's summed PSS
    rss_max_one_mb: float  # largest single process (wait4's ru_maxrss)
    inner: dict[str, object] = field(default_factory=dict)
    ok: bool = True
    note: str = ""


@dataclass
class Size:
    sources: int
    items: int
    megabytes: float
    corpus: str = "generated, default shape"
    runs: dict[str, Run] = field(default_factory=dict)
    checks: list[tuple[str, str, bool]] = field(default_factory=list)
    # cold / feedparser alone and cold / reader within each repeat: the machine's speed
    # drifts between repeats, and the best of each row may come from different ones
    paired: dict[str, list[float]] = field(default_factory=dict)


# --------------------------------------------------------------------------- measuring


#: Seconds between two samples of a run's memory. Each sample reads each process's
#: memory map (smaps_rollup), which costs the kernel time in proportion to the mapping,
#: about 7 ms for a feeds pass (three processes of 50 to 190 MB) against 2 ms for
#: reader's one. Every 10 ms, as before, the sampler took 4.5 s of CPU during a 12 s
#: feeds pass, a third of a core taken from the run it measured (and 1.3 to 1.8 s of its
#: wall time); every 0.25 s it takes about 0.3 s. A pass's memory peaks last seconds,
#: and the main process's own peak (ru_maxrss) is counted whatever the sampling.
SAMPLE_EVERY = 0.25


def _tree_rss_kb(root: int) -> int:
    """Summed PSS of `root` and its descendants, in KiB, from /proc (Linux).

    PSS, not RSS: forked pool workers share their parent's pages copy-on-write, and
    summing RSS would count those pages once per process.
    """
    return sum(_pss_kb(pid) for pid in _tree(root))


def _tree(root: int) -> list[int]:
    """`root` and its descendants, from each thread's `children` list (Linux 3.5+), or
    else from every process's parent in /proc."""
    if not os.path.exists(f"/proc/{root}/task/{root}/children"):
        return _tree_by_scan(root)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                    stack.extend(int(child) for child in fh.read().split())
            except (OSError, ValueError):
                continue
    return found


def _tree_by_scan(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    # "pid (comm) state ppid ...": comm may hold spaces, so split after ")"
                    parents[int(entry.name)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, stack, seen = [], [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        found.append(pid)
        stack.extend(p for p, pp in parents.items() if pp == pid)
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


#: The launcher's program: for each job read from stdin (JSON: argv, cwd, out), start
#: the command with its output in `out`, answer its pid, wait for it, answer its figures.
_LAUNCHER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    job = json.loads(line)
    with open(job["out"], "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(job["argv"], stdout=out, stderr=subprocess.STDOUT, cwd=job["cwd"])
        print(json.dumps({"pid": proc.pid}), flush=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "exit": os.waitstatus_to_exitcode(status),
                      "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}),
          flush=True)
"""


class _Launcher:
    """A small process that starts every measured command, made before any corpus is.

    Linux counts in a process's peak RSS (wait4's ru_maxrss) the peak of the memory it
    ran in until exec: its parent's, when started by fork or vfork. This process holds
    the corpus (329 MB at 3,200 sources) and the server's threads, so every command it
    started itself peaked at no less than that: `feeds --help` at 343 MB, feedparser
    alone and the warm pass at 48 MB for the 200-source corpus. The launcher stays at
    about 10 MB.
    """

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [PYTHON, "-c", _LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._lock = threading.Lock()

    def run(self, argv: list[str], out: Path, started: Callable[[int], None]) -> dict[str, float]:
        """Run `argv` to its end, output to `out`; `started(pid)` is called once it runs."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        with self._lock:
            self._proc.stdin.write(json.dumps({"argv": argv, "cwd": str(ROOT), "out": str(out)}))
            self._proc.stdin.write("\n")
            self._proc.stdin.flush()
            started(json.loads(self._proc.stdout.readline())["pid"])
            answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError("the benchmark's launcher process died")
        figures: dict[str, float] = json.loads(answer)
        return figures


@functools.cache
def launcher() -> _Launcher:
    """The one launcher; `main` makes it first, before any corpus is generated."""
    return _Launcher()


def measure(name: str, argv: list[str], *, timeout: float = 900.0) -> Run:
    """Run argv in a fresh process; its output's last line, if JSON, is kept as `inner`."""
    peak = 0
    done = threading.Event()
    timers: list[threading.Timer] = []
    samplers: list[threading.Thread] = []

    def sample(pid: int) -> None:
        nonlocal peak
        while not done.wait(SAMPLE_EVERY):
            peak = max(peak, _tree_rss_kb(pid))

    def started(pid: int) -> None:
        samplers.append(threading.Thread(target=sample, args=(pid,), daemon=True))
        samplers[0].start()
        timers.append(threading.Timer(timeout, os.kill, (pid, signal.SIGKILL)))
        timers[0].start()

    with tempfile.TemporaryDirectory(prefix="feeds-bench-out-") as tmp:
        out = Path(tmp) / "out"
        try:
            figures = launcher().run(argv, out, started)
        finally:
            done.set()
            for timer in timers:
                timer.cancel()
            for sampler in samplers:
                sampler.join()
        text = out.read_bytes().decode("utf-8", "replace").strip()
    last = text.splitlines()[-1] if text else ""
    inner: dict[str, object] = json.loads(last) if last.startswith("{") else {}
    code = int(figures["exit"])
    one = figures["maxrss_kb"] / 1024
    return Run(
        name, figures["wall"], figures["cpu"], max(peak / 1024, one), one, inner, code == 0,
        "" if code == 0 else f"exit {code}: {text[-400:]}",
    )  # fmt: skip


def best(runs: list[Run]) -> Run:
    """The fastest of repeated runs: on a shared machine, noise only ever adds time."""
    return min(runs, key=lambda r: (not r.ok, r.wall))


# --------------------------------------------------------------------------- children


def child_feedparser(folder: str) -> None:
    """Parse every body in `folder` with feedparser, in this one process."""
    import feedparser

    # feedparser as installed: importing feeds.parse would give it faster paths.
    assert not any(m.split(".")[0] == "feeds" for m in sys.modules), "feeds is imported"
    bodies = [p.read_bytes() for p in sorted(Path(folder).glob("*.xml"))]
    started = time.perf_counter()
    entries = sum(len(feedparser.parse(b).entries) for b in bodies)
    print(json.dumps({"parse_s": round(time.perf_counter() - started, 3), "entries": entries}))


def child_reader(urls_file: str, db: str) -> None:
    """lemon24/reader: add every feed, then one update_feeds(workers=8) into a new DB."""
    from reader import make_reader

    urls = Path(urls_file).read_text().split()
    reader = make_reader(db)
    for url in urls:
        reader.add_feed(url)
    started = time.perf_counter()
    reader.update_feeds(workers=8)
    took = time.perf_counter() - started
    counts = reader.get_entry_counts()
    reader.close()
    print(json.dumps({"update_s": round(took, 3), "entries": counts.total}))


def child_feeds_pass(config_path: str, workers: int | None) -> None:
    """One `feeds run --all` pass with an explicit pool size (0: parse in-process)."""
    from feeds import config, pipeline, pool

    cfg = config.load(config_path)
    started = time.perf_counter()
    with (
        pipeline.pass_lock(cfg),
        pipeline.open_for(cfg) as store,
        pool.parse_executor(len(cfg.sources), workers=workers) as ex,
    ):
        result = pipeline.run_pass(cfg, store, every=True, executor=ex)
    print(json.dumps({"pass_s": round(time.perf_counter() - started, 3),
                      "new": result.new_articles, "pool": ex is not None}))  # fmt: skip


def child_profile(config_path: str, out_path: str) -> None:
    """A cold pass under pyinstrument, parse in-process so every cost is on one stack."""
    from pyinstrument import Profiler

    from feeds import config, pipeline

    cfg = config.load(config_path)
    profiler = Profiler(interval=0.001)
    with pipeline.open_for(cfg) as store:
        profiler.start()
        pipeline.run_pass(cfg, store, every=True)
        profiler.stop()
    Path(out_path).write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    print(json.dumps({"profile": out_path}))


# --------------------------------------------------------------------------- one size


def write_config(folder: Path, urls: list[str]) -> Path:
    lines = [
        'title: "أخبار التقنية (قياس)"',
        "base_url: https://example.org/feeds/",
        f"output_dir: {folder / 'public'}",
        f"database: {folder / 'feeds.db'}",
        # The corpus is served on 127.0.0.1 to 127.0.0.32, which fetches refuse by default.
        "fetch: {timeout: 60, pass_deadline: 900, allow_private: [127.0.0.0/8]}",
        "sources:",
        *(f"  - url: {url}\n    name: مصدر {n}" for n, url in enumerate(urls)),
        "feeds:",
        "  - slug: all",
        "    title: كل الأخبار",
    ]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fresh_store(folder: Path) -> None:
    for name in ("feeds.db", "feeds.db-wal", "feeds.db-shm", "feeds.db.lock"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "public", ignore_errors=True)


def bodies_for(sources: int, items: int, args: argparse.Namespace) -> tuple[dict[str, bytes], str]:
    """The corpus to serve, and what it is: generated in the shape the options give
    (`corpus.Shape`), or the saved real feeds of `--real`, repeated to `sources`."""
    if args.real:
        notes = (".tsv", ".md")  # the folder's MANIFEST.tsv and README.md are no feeds
        saved = sorted(p.read_bytes() for p in Path(args.real).iterdir() if p.suffix not in notes)
        bodies = {f"/feed/{n}.xml": saved[n % len(saved)] for n in range(sources)}
        return bodies, f"the {len(saved)} real feeds of {args.real}, repeated"
    shape = corpus.Shape(args.vocabulary, args.length, args.near_dup, args.format)
    if shape == corpus.Shape():
        return corpus.generate(sources, items, seed=args.seed), "generated, default shape"
    described = (
        f"generated: vocabulary {shape.vocabulary}, {shape.length} items, "
        f"{shape.near_dup:.0%} near-duplicates, {shape.format}"
    )
    return corpus.generate(sources, items, seed=args.seed, shape=shape), described


def bench_size(sources: int, items: int, args: argparse.Namespace) -> Size:
    bodies, described = bodies_for(sources, items, args)
    size = Size(sources, items, sum(map(len, bodies.values())) / 1e6, described)
    me = [PYTHON, str(Path(__file__).resolve())]
    with (
        tempfile.TemporaryDirectory(prefix="feeds-bench-") as tmp,
        corpus.CorpusServer(bodies, hosts=min(sources, 32)) as server,
    ):
        folder = Path(tmp)
        (folder / "bodies").mkdir()
        for path, body in bodies.items():
            (folder / "bodies" / Path(path).name).write_bytes(body)
        urls = list(server.urls())
        (folder / "urls.txt").write_text("\n".join(urls))
        cfg = write_config(folder, urls)
        runs = size.runs
        _log(f"{sources} sources x {items} items ({size.megabytes:.1f} MB)")
        feeds_run = [*FEEDS, "run", "--all", "-c", str(cfg)]
        tries: dict[str, list[Run]] = {}
        for _ in range(args.repeat):
            # The cold pass runs right after feedparser alone and right before reader
            # (the warm pass, under a second, between them): the machine's speed drifts
            # by the minute, and each pair is compared within its repeat.
            _try(tries, measure("feedparser alone", [*me, "--child", "feedparser",
                                                     str(folder / "bodies")]))  # fmt: skip
            fresh_store(folder)
            server.reset_counts()
            _try(tries, measure("feeds run --all, cold", feeds_run), server=server)
            _try(tries, measure("feeds run --all, warm", feeds_run), server=server)
            if not args.skip_reader:
                (folder / "reader.sqlite").unlink(missing_ok=True)
                _try(tries, measure("reader update_feeds(workers=8)", [
                    *me, "--child", "reader", str(folder / "urls.txt"),
                    str(folder / "reader.sqlite")]))  # fmt: skip
            _pair(size, tries)
            if args.passes_only:
                continue
            fresh_store(folder)
            _try(tries, measure(_KEYS["pool"], [*me, "--child", "feeds-pass", str(cfg)]))
            fresh_store(folder)
            _try(tries, measure(_KEYS["inproc"], [*me, "--child", "feeds-pass", str(cfg), "0"]))
        for key, name in _KEYS.items():
            if name in tries:
                runs[key] = best(tries[name])
        if args.profile and (sources, items) == TARGET_SIZE:
            fresh_store(folder)
            out = Path(args.profile_dir) / f"feeds-profile-{sources}x{items}.txt"
            measure("profile", [*me, "--child", "profile", str(cfg), str(out)])
            _log(f"profile written to {out}")
    check(size)
    return size


_KEYS = {
    "feedparser": "feedparser alone",
    "reader": "reader update_feeds(workers=8)",
    "cold": "feeds run --all, cold",
    "warm": "feeds run --all, warm",
    "pool": "feeds pass cold, feeds.pool default",
    "inproc": "feeds pass cold, parse in-process",
}


def _pair(size: Size, tries: dict[str, list[Run]]) -> None:
    """Note this repeat's cold pass against its own feedparser and reader runs."""
    cold = tries[_KEYS["cold"]][-1]
    for key in ("feedparser", "reader"):
        if _KEYS[key] in tries and cold.ok:
            size.paired.setdefault(key, []).append(cold.wall / tries[_KEYS[key]][-1].wall)


def _try(tries: dict[str, list[Run]], run: Run, server: corpus.CorpusServer | None = None) -> None:
    """Keep one attempt; with `server`, note what HTTP answers it got (and reset the count)."""
    if server is not None:
        run.inner["http"] = dict(server.counts)
        server.reset_counts()
    tries.setdefault(run.name, []).append(run)
    _log(f"  {run.name}: {run.wall:.2f} s, {run.rss_mb:.0f} MB" + ("" if run.ok else " FAILED"))
    if not run.ok:
        _log(f"    {run.note}")


#: (share of feedparser alone, share of reader, warm share of cold): issue 7's targets
#: first, then issue 24's.
TARGETS = ((1.0, 0.8, 0.10), (0.5, 0.4, 0.05))


def check(size: Size) -> None:
    r = size.runs
    cold, warm, fp = r["cold"], r["warm"], r["feedparser"]
    for of_fp, of_reader, of_cold in TARGETS:
        limit = of_fp * fp.wall
        size.checks.append((f"cold <= {of_fp:g} x feedparser alone ({limit:.2f} s)", "cold",
                            cold.ok and cold.wall <= limit))  # fmt: skip
        if "reader" in r:
            limit = of_reader * r["reader"].wall
            size.checks.append((f"cold <= {of_reader:g} x reader ({limit:.2f} s)", "cold",
                                cold.ok and cold.wall <= limit))  # fmt: skip
        size.checks.append((f"warm <= {of_cold:.0%} of cold ({of_cold * cold.wall:.2f} s)",
                            "warm", warm.ok and warm.wall <= of_cold * cold.wall))  # fmt: skip
    for key in ("cold", "warm"):
        size.checks.append((f"{key} peak RSS <= {RSS_LIMIT_MB:.0f} MB", key,
                            r[key].rss_mb <= RSS_LIMIT_MB))  # fmt: skip
    warm_http = r["warm"].inner.get("http", {})
    if isinstance(warm_http, dict):
        size.checks.append((f"warm pass saw only 304s ({warm_http})", "warm",
                            warm_http.get(200, 0) == 0 and warm_http.get(304, 0) > 0))  # fmt: skip


def bench_help(runs: int) -> tuple[list[float], Run]:
    times = []
    last = None
    for _ in range(runs):
        last = measure("feeds --help", [*FEEDS, "--help"])
        times.append(last.wall)
    assert last is not None
    return times, last


# --------------------------------------------------------------------------- report


def report(sizes: list[Size], help_times: list[float], help_run: Run) -> None:
    print()
    print(_machine())
    for s in sizes:
        marker = "  <- target size" if (s.sources, s.items) == TARGET_SIZE else ""
        print(f"\n== {s.sources} sources x {s.items} items, {s.megabytes:.1f} MB{marker}")
        print(f"corpus: {s.corpus}")
        print(
            f"{'what':<36} {'wall s':>7} {'CPU s':>6} {'peak RSS MB':>12} {'1 proc MB':>10}  detail"
        )
        for run in s.runs.values():
            detail = ", ".join(f"{k}={v}" for k, v in run.inner.items())
            if not run.ok:
                detail = "FAILED " + run.note
            print(f"{run.name:<36} {run.wall:>7.2f} {run.cpu:>6.2f} {run.rss_mb:>12.0f} "
                  f"{run.rss_max_one_mb:>10.0f}  {detail}")  # fmt: skip
        for text, _, passed in s.checks:
            print(f"   {'PASS' if passed else 'MISS'}  {text}")
        for key, ratios in s.paired.items():
            each = ", ".join(f"{x:.2f}x" for x in ratios)
            print(f"   cold / {key} within each repeat: {each} "
                  f"(median {statistics.median(ratios):.2f}x)")  # fmt: skip
    median = statistics.median(help_times)
    print(f"\nfeeds --help: median {median:.3f} s, best {min(help_times):.3f} s over "
          f"{len(help_times)} runs, peak RSS {help_run.rss_mb:.0f} MB   "
          f"{'PASS' if median < HELP_LIMIT_S else 'MISS'}  < {HELP_LIMIT_S} s")  # fmt: skip


def _machine() -> str:
    mem = "?"
    try:
        with open("/proc/meminfo") as fh:
            mem = f"{int(fh.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    try:
        import reader

        rv = reader.__version__
    except ImportError:
        rv = "not installed"
    import feedparser

    return (f"machine: {os.cpu_count()} cores, {mem} RAM, Python {sys.version.split()[0]}, "
            f"feedparser {feedparser.__version__}, reader {rv}")  # fmt: skip


def _log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sources", default="50,200,800", help="comma-separated sizes (50,200,800)")
    p.add_argument("--items", type=int, default=40, help="items per feed (40)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="one small size: 50 sources x 20 items")
    p.add_argument("--skip-reader", action="store_true", help="leave reader out")
    p.add_argument("--profile", action="store_true",
                   help="also profile a cold 200x40 pass (pyinstrument)")  # fmt: skip
    p.add_argument("--profile-dir", default=tempfile.gettempdir(),
                   help="folder for --profile's output (temp folder)")  # fmt: skip
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--help-runs", type=int, default=7)
    p.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept (1)")
    p.add_argument("--passes-only", action="store_true",
                   help="only feedparser alone, reader, cold and warm")  # fmt: skip
    default = corpus.Shape()
    shape = p.add_argument_group("corpus", "the generated corpus's shape (benchmarks/corpus.py)")
    shape.add_argument("--vocabulary", type=int, default=default.vocabulary)
    shape.add_argument("--length", choices=sorted(corpus.LENGTHS), default=default.length)
    shape.add_argument("--near-dup", type=float, default=default.near_dup,
                       help="share of items retelling another source's story")  # fmt: skip
    shape.add_argument("--format", choices=(*corpus.FORMATS, "mixed"), default=default.format)
    shape.add_argument("--real", metavar="DIR",
                       help="instead: the saved real feeds in DIR, repeated")  # fmt: skip
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return _child(args.child)
    launcher()  # first: the commands it starts must not start from this process's memory
    if args.quick:
        args.sources, args.items, args.help_runs = "50", 20, 3
    compile_package()
    sizes = [bench_size(int(n), args.items, args) for n in args.sources.split(",")]
    help_times, help_run = bench_help(args.help_runs)
    report(sizes, help_times, help_run)
    if args.json:
        data = {"machine": _machine(), "help_s": help_times,
                "sizes": [asdict(s) for s in sizes]}  # fmt: skip
        Path(args.json).write_text(json.dumps(data, indent=2, default=str))
    return 0


def compile_package() -> None:
    """Write feeds' bytecode first, as `pip install` does for an installed package: an
    editable checkout run with PYTHONDONTWRITEBYTECODE set would otherwise compile every
    module again in every measured process."""
    import compileall

    compileall.compile_dir(str(ROOT / "feeds"), quiet=1)


def _child(argv: list[str]) -> int:
    kind, rest = argv[0], argv[1:]
    if kind == "feedparser":
        child_feedparser(rest[0])
    elif kind == "reader":
        child_reader(rest[0], rest[1])
    elif kind == "feeds-pass":
        child_feeds_pass(rest[0], int(rest[1]) if len(rest) > 1 else None)
    elif kind == "profile":
        child_profile(rest[0], rest[1])
    else:
        raise SystemExit(f"unknown child {kind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
