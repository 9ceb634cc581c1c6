"""The command line: the only module that prints and picks exit codes.

Exit status: 0 the pass completed (failed sources are reported, not fatal); 1 a fatal
error (invalid config, unusable store or output folder); 2 bad usage; 75 another pass
holds the lock (EX_TEMPFAIL, so cron wrappers can tell "busy" from "broken").
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

from . import __version__
from .errors import ConfigError, FeedsError, LockedError
from .guard import redact

__all__ = ["command", "main"]

EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 75
DEMO_PORT = 8765

log = logging.getLogger("feeds.cli")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except LockedError as e:
        _err(str(e))
        return EXIT_LOCKED
    except ConfigError as e:
        for problem in e.problems or (e.message,):
            _err(str(problem))
        return EXIT_FATAL
    except FeedsError as e:
        if args.verbose:
            log.exception("fatal error")
        _err(str(e))
        return EXIT_FATAL
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


def command() -> NoReturn:
    """The `feeds` executable (and `python -m feeds`): `main`, and its status."""
    sys.exit(main())


def _parser() -> argparse.ArgumentParser:
    def options(config: object, verbose: object) -> argparse.ArgumentParser:
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("-c", "--config", default=config, metavar="FILE",
                            help="config file (default: ./config.yaml)")  # fmt: skip
        common.add_argument("-v", "--verbose", action="store_true", default=verbose,
                            help="debug logs and tracebacks")  # fmt: skip
        return common

    # -c and -v work before or after the command: a command's own copies have no default,
    # so they never overwrite what was given before the command (`feeds -v run`).
    common = options(argparse.SUPPRESS, argparse.SUPPRESS)
    p = argparse.ArgumentParser(
        prog="feeds",
        description="Merged Arabic tech-news feeds: fetch, clean, cluster, publish.",
        parents=[options(_DEFAULT_CONFIG, False)],
    )
    p.add_argument("--version", action="version", version=f"feeds {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> Any:
        cmd = sub.add_parser(name, parents=[common], help=help, description=help)
        cmd.set_defaults(handler=handler)
        return cmd

    run = add("run", _cmd_run, "one pass: fetch the due sources, store, cluster, publish; exit")
    run.add_argument("--all", action="store_true", help="fetch every source, due or not")
    add("serve", _cmd_serve, "long-running: run passes on the schedule and serve output_dir")
    add("check", _cmd_check, "validate the config; print every problem with file, line and key")
    status = add("status", _cmd_status, "one row per source: last fetch, status, errors, due")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--stale", nargs="?", type=_days, const=-1, default=None, metavar="DAYS",
                        help="only failing sources and those with nothing new in DAYS days "
                             "(default: status_page.stale_days), failing first")  # fmt: skip
    try_ = add(
        "try",
        _cmd_try,
        "show what a source URL would yield: its first items with "
        "title, link and date (feed, HTML page with selectors, JSON-LD, news sitemap)",
    )
    try_.add_argument("url", metavar="URL", help="the source to try (a configured one keeps "
                      "its options)")  # fmt: skip
    for key in ("item", "title", "link", "date", "summary"):
        try_.add_argument(f"--{key}", metavar="CSS", help=f"scrape.{key} selector to try")
    try_.add_argument("-n", type=int, default=10, metavar="N", help="items shown (10)")
    add("health", _cmd_health, "exit 0 when ready (the store answers, a pass ran lately), else 1")
    opml = add("opml", _no_subcommand(p), "import sources from OPML, or export them as OPML")
    opml_sub = opml.add_subparsers(dest="opml_command", required=True, metavar="ACTION")
    imp = opml_sub.add_parser("import", parents=[common], help="add an OPML file's feeds")
    imp.add_argument("file", metavar="FILE", help="OPML file to import")
    imp.set_defaults(handler=_cmd_opml_import)
    exp = opml_sub.add_parser("export", parents=[common], help="print the sources as OPML 2.0")
    exp.set_defaults(handler=_cmd_opml_export)
    demo = add("demo", _cmd_demo, "run a pass over bundled sample feeds served on 127.0.0.1")
    demo.add_argument("--out", default="public", metavar="DIR", help="output folder (public)")
    add("worker", _cmd_worker, "one of many distributed workers (needs a postgresql:// database)")
    add("doctor", _cmd_doctor, "check the store's integrity, then compact it (VACUUM)")
    export = add("export", _cmd_export, "write the whole store as JSON Lines (a backup)")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    imp_store = add("import", _cmd_import, "load a JSON Lines export into the store")
    imp_store.add_argument("file", metavar="FILE", help="JSON Lines file from `feeds export`")
    return p


def _no_subcommand(p: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        p.print_usage(sys.stderr)
        return EXIT_USAGE

    return handler


def _setup_logging(verbose: bool) -> None:
    # Debug logs carry the time: they are read to tell when a daemon or worker stalled.
    debug = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format=debug if verbose else "feeds: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        # Per-source failures are reported once, by the summary, not by the pipeline's log.
        logging.getLogger("feeds.pipeline").setLevel(logging.ERROR)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _err(message: str) -> None:
    print(f"feeds: {message}", file=sys.stderr)


def _usage(message: str) -> int:
    """Bad usage found past argparse: one line, exit 2."""
    _err(message)
    return EXIT_USAGE


_DEFAULT_CONFIG = "config.yaml"


# --------------------------------------------------------------------------- commands


def _cmd_check(args: argparse.Namespace) -> int:
    from . import config

    problems = config.problems(args.config)
    for problem in problems:
        print(problem)
    if problems:
        return EXIT_FATAL
    cfg = config.load(args.config)
    print(f"{args.config}: OK ({len(cfg.sources)} sources, {len(cfg.feeds)} feeds)")
    return EXIT_OK


def _load(args: argparse.Namespace) -> Any:
    """The config, with its `log_format` applied to the logs from now on."""
    from . import config, logs

    cfg = config.load(args.config)
    logs.configure(cfg.log_format)
    return cfg


def _cmd_run(args: argparse.Namespace) -> int:
    from . import health, logs, ops, pipeline, pool

    cfg = _load(args)
    pass_id = health.new_pass_id()
    with (
        logs.pass_context(pass_id),
        pipeline.pass_lock(cfg),
        pipeline.open_for(cfg) as store,
        pool.parse_executor(len(cfg.sources)) as executor,
    ):
        started = pipeline.utc_now()
        result = pipeline.run_pass(
            cfg, store, every=args.all, progress=_progress(), executor=executor
        )
        ops.Operator(cfg, metrics=False).after_pass(
            store, result, pass_id=pass_id, started=started, finished=pipeline.utc_now()
        )
    with logs.pass_context(pass_id):
        _report(result, json_logs=cfg.log_format == "json")
    return EXIT_OK


def _progress() -> Callable[[Any], None] | None:
    if not sys.stderr.isatty():
        return None
    count = 0

    def show(result: Any) -> None:
        nonlocal count
        count += 1
        url = redact(result.source_url)
        print(f"\r[{count}] {result.outcome.value:<12} {url[:60]:<60}",
              end="", file=sys.stderr, flush=True)  # fmt: skip

    return show


def _report(result: Any, *, json_logs: bool = False) -> None:
    from .types import Outcome

    if sys.stderr.isatty() and result.sources:
        print(file=sys.stderr)
    for r in result.sources:
        if r.outcome is Outcome.ERROR:
            # no "(HTTP 503)" before an error that starts by saying it
            said = r.error and r.error.startswith(f"HTTP {r.status}")
            status = f" (HTTP {r.status})" if r.status and not said else ""
            if json_logs:  # a log line like the daemon's, so one parser reads both
                extra = {"source_url": redact(r.source_url), "duration": r.elapsed}
                log.warning("%s%s: %s", redact(r.source_url), status, r.error, extra=extra)
            else:
                _err(f"{redact(r.source_url)}{status}: {r.error}")
    ok = result.count(Outcome.OK)
    same = result.count(Outcome.NOT_MODIFIED) + result.count(Outcome.UNCHANGED)
    failed = result.count(Outcome.ERROR)
    print(
        f"feeds: {len(result.sources)} sources fetched: {ok} ok, {same} not modified, "
        f"{failed} failed; {result.new_articles} new articles; "
        f"{result.stories_published} stories updated; {len(result.files_written)} files written"
    )


def _cmd_status(args: argparse.Namespace) -> int:
    from . import config, pipeline

    cfg = config.load(args.config)
    with pipeline.open_for(cfg) as store:
        if args.stale is not None:
            rows = _stale_rows(cfg, store, args.stale)
        else:
            rows = _configured_rows(cfg, store)
        pages = {redact(url): found for url, found in store.full_text_report().items()}
    for row in rows:
        counts, reason = pages.get(row["url"], ({}, ""))
        row["full_text"] = (
            {k: counts.get(k, 0) for k in ("page", "pending", "failed")} | {"last_failure": reason}
            if counts
            else None
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    _print_status(rows)
    return EXIT_OK


def _configured_rows(cfg: Any, store: Any) -> list[dict[str, Any]]:
    """A row for each source of the config as it is now, by URL: what the store knows of
    it, or a row of a source never fetched. The store's list is the last pass's: a
    source added since was missing, one removed since still listed."""
    from .store import SourceState
    from .types import Validators

    known = {s.url: s for s in store.sources(only_config=False)}
    rows = []
    for src in sorted(cfg.sources, key=lambda s: s.url):
        state = known.get(src.url) or SourceState(
            url=src.url, name=src.name, fetch_url=src.url, validators=Validators(),
            body_hash=None, consecutive_errors=0, next_due=None, disabled_reason=None,
            redirect_target=None, redirect_seen=0, redirect_since=None, discovered_url=None,
            repair=None, last_fetch=None, last_status=None, last_outcome=None,
            last_error=None, items=0, bytes=0, duration=0.0, in_config=True,
        )  # fmt: skip
        rows.append(_status_row(state))
    return rows


def _status_row(s: Any) -> dict[str, Any]:
    def ts(dt: datetime | None) -> str | None:
        return dt.astimezone(UTC).isoformat(timespec="seconds") if dt else None

    return {
        "url": redact(s.url),
        "current_url": redact(s.discovered_url or s.fetch_url),
        "name": s.name,
        "last_fetch": ts(s.last_fetch),
        "status": s.last_status,
        "outcome": s.last_outcome,
        "items": s.items,
        "bytes": s.bytes,
        "duration": s.duration,
        "consecutive_errors": s.consecutive_errors,
        "next_due": ts(s.next_due),
        "disabled": s.disabled_reason,
        "last_error": s.last_error,
        "encoding_repair": s.repair,
        "caps": s.caps,
    }


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of days >= 1, not {text!r}")
    return days


def _stale_rows(cfg: Any, store: Any, days: int) -> list[dict[str, Any]]:
    """`status --stale`: the failing sources, then those with nothing new in `days`."""
    from . import status_page

    days = cfg.status_page.stale_days if days < 0 else days
    lines = status_page.triage(store.sources(), store.source_health(), datetime.now(UTC), days)
    rows = []
    for line in lines:
        if line.state is status_page.State.OK:
            continue
        last_new = line.last_new.isoformat(timespec="seconds") if line.last_new else None
        rows.append({**_status_row(line.source), "state": line.state.value, "last_new": last_new})
    return rows


#: What `feeds try` says of a date that the feed's parser did not read as given.
_DATE_SAID = {
    "fallback": " (read from its text)",
    "first_seen": " (no date: now)",
    "rejected": " (impossible date: now)",
}


def _cmd_try(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses
    import os

    from . import config, pipeline
    from .fetch import Fetcher
    from .types import Config, Scrape, SourceConfig

    given = {k: getattr(args, k) for k in ("item", "title", "link", "date", "summary")}
    if any(given.values()):  # bad usage, as argparse's own errors are: exit 2
        problems = [(k, p) for k, v in given.items() if v and (p := config.selector_problem(v))]
        if not given["item"]:
            return _usage("try: --item is needed with the other selectors")
        if problems:
            return _usage(f"try: --{problems[0][0]}: {problems[0][1]}")
    # The default ./config.yaml may be absent (a URL tried before any config exists); a
    # file named with -c must be there, or its fetch settings (allow_private) are lost.
    if os.path.exists(args.config):
        cfg = config.load(args.config)
    elif args.config != _DEFAULT_CONFIG:
        return _usage(f"try: {args.config}: no such config file")
    else:
        cfg = Config("", "", "", "", "")
    source = next((s for s in cfg.sources if s.url == args.url), SourceConfig(url=args.url))
    if any(given.values()):
        source = dataclasses.replace(source, scrape=Scrape(**given))

    async def fetch() -> Any:
        async with Fetcher(cfg.fetch) as fetcher:
            return await pipeline.try_source(cfg, source, fetcher)

    parsed = asyncio.run(fetch())
    kind = parsed.feed.version or "unknown"
    print(f"{redact(args.url)}: {kind}, {parsed.entries} items, {len(parsed.articles)} kept")
    for a in parsed.articles[: max(args.n, 0)]:
        when = a.published.astimezone(UTC).isoformat(timespec="minutes")
        dated = _DATE_SAID.get(a.date_source.value, "")
        print(f"  {when}{dated}  {a.title}\n      {a.url}")
    if parsed.caps:
        print(f"  capped: {parsed.caps}")
    return EXIT_OK


def _cmd_health(args: argparse.Namespace) -> int:
    from . import config, health

    cfg = config.load(args.config)
    ready = health.check(cfg, datetime.now(UTC))
    print(f"feeds: {'ready' if ready.ready else 'not ready'}: {ready.reason}")
    return EXIT_OK if ready.ready else EXIT_FATAL


def _status_cells(r: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        r["url"], r["last_fetch"] or "never", str(r["status"] or "-"), str(r["items"]),
        str(r["bytes"]), f"{r['duration']:.2f}", str(r["consecutive_errors"]),
        r["next_due"] or "now",
    )  # fmt: skip


def _print_status(rows: Sequence[dict[str, Any]]) -> None:
    head = ("SOURCE", "LAST FETCH", "HTTP", "ITEMS", "BYTES", "SECS", "ERRS", "NEXT DUE")
    table = [_status_cells(r) for r in rows]
    widths = [max(map(len, column)) for column in zip(head, *table, strict=True)]

    def aligned(cells: Sequence[str]) -> str:  # the last column unpadded
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    print(aligned(head))
    for r, cells in zip(rows, table, strict=True):
        print(aligned(cells))
        if r["current_url"] != r["url"]:
            print(f"    now fetched from {r['current_url']}")
        if "state" in r:
            print(f"    {r['state']}: last new article {r['last_new'] or 'never'}")
        if r["disabled"]:
            print(f"    disabled: {r['disabled']}")
        if r["last_error"]:
            print(f"    last error: {r['last_error']}")
        if r["caps"]:
            print(f"    capped: {r['caps']}")
        if pages := r.get("full_text"):
            line = (
                f"{pages['page']} from pages, {pages['pending']} waiting, {pages['failed']} failed"
            )
            why = f" (last: {pages['last_failure']})" if pages["last_failure"] else ""
            print(f"    full text: {line}{why}")


def _cmd_opml_import(args: argparse.Namespace) -> int:
    from . import config

    try:
        with open(args.file, "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise FeedsError(e.strerror or str(e), subject=args.file) from e
    found = config.parse_opml(data, name=args.file)
    done = config.add_sources(args.config, found)
    for _url, why in done.refused:  # `why` shows the URL, credentials redacted
        _err(f"{args.file}: a source not added: {why}")
    _warn_refused(args.config, done.added)
    refused = f", refused {len(done.refused)}" if done.refused else ""
    added, present = len(done.added), done.present
    print(f"{args.config}: added {added} sources, skipped {present} already present{refused}")
    return EXIT_OK


def _warn_refused(path: str, urls: Sequence[str]) -> None:
    """One line per imported URL that the fetch would refuse, judged without DNS."""
    from . import config, guard

    try:
        allowed = guard.networks(config.load(path).fetch.allow_private)
    except ConfigError:  # `check` will say why; warn as if nothing were allowed
        allowed = ()
    for url in urls:
        why = guard.url_refusal(url, allowed)
        if why:
            _err(f"{redact(url)}: warning: {why}: not fetched unless fetch.allow_private allows it")


def _cmd_opml_export(args: argparse.Namespace) -> int:
    from . import config

    cfg = config.load(args.config)
    sys.stdout.buffer.write(config.render_opml(cfg))
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from . import config, demo, pipeline

    out = os.path.abspath(args.out)
    with _demo_server() as server, tempfile.TemporaryDirectory(prefix="feeds-demo-") as tmp:
        path = os.path.join(tmp, "config.yaml")
        text = demo.config_text(
            server.base_url, server.sources(), output_dir=out,
            database=os.path.join(tmp, "demo.db"),
        )  # fmt: skip
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            cfg = config.load(path)
        except ConfigError as e:  # the config is the demo's, in a temporary folder: the
            # operator gave only --out ("/etc is a system folder", "is a file")
            said = [p.message for p in e.problems if p.key == "output_dir"]
            if said:
                return _usage(f"demo: --out {args.out}: {said[0]}")
            raise
        with pipeline.open_for(cfg) as store:
            result = pipeline.run_pass(cfg, store, every=True)
    _report(result)
    print(f"feeds: demo published {len(cfg.feeds)} feeds into {out}/")
    for feed in cfg.feeds:
        print(f"  {out}/{feed.slug}.rss  {feed.slug}.atom  {feed.slug}.json  {feed.slug}.html")
    print(f"  {out}/index.html  (open it in a browser)")
    # The demo's self links and OPML name this address: serving the folder there makes
    # every one of them work.
    print(f"to view it as a reader would: python3 -m http.server -b 127.0.0.1 -d {out} 8080")
    print("  then open http://127.0.0.1:8080/index.html")
    return EXIT_OK


@contextmanager
def _demo_server() -> Iterator[Any]:
    """The demo server on a fixed port when it is free, so item ids (which hash the
    source URL) are the same from one `make demo` to the next; any free port otherwise."""
    from . import demo

    try:
        server = demo.DemoServer(port=DEMO_PORT).__enter__()
    except OSError:
        server = demo.DemoServer().__enter__()
    try:
        yield server
    finally:
        server.__exit__(None, None, None)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from . import config, maintenance, pipeline

    cfg = config.load(args.config)
    with pipeline.pass_lock(cfg), pipeline.open_for(cfg) as store:
        problems = maintenance.doctor(store)
    for problem in problems:
        _err(f"{redact(cfg.database)}: {problem}")
    if problems:
        return EXIT_FATAL
    print(f"{redact(cfg.database)}: OK (integrity check passed, vacuumed)")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from . import config, maintenance, pipeline
    from .publish import write_atomic

    cfg = config.load(args.config)
    with pipeline.open_for(cfg) as store:
        if args.output is None:
            count = maintenance.export_jsonl(store, sys.stdout)
        else:
            buffer = io.StringIO()
            count = maintenance.export_jsonl(store, buffer)
            write_atomic(args.output, buffer.getvalue().encode("utf-8"))
    _err(f"exported {count} rows")
    return EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from . import config, maintenance, pipeline

    cfg = config.load(args.config)
    try:
        fh = open(args.file, encoding="utf-8")  # noqa: SIM115  (closed below)
    except OSError as e:
        raise FeedsError(e.strerror or str(e), subject=args.file) from e
    with fh, pipeline.pass_lock(cfg), pipeline.open_for(cfg) as store:
        count = maintenance.import_jsonl(store, fh, name=args.file)
    print(f"{redact(cfg.database)}: imported {count} rows from {args.file}")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from . import schedule

    cfg = _load(args)
    return schedule.serve(cfg)


def _cmd_worker(args: argparse.Namespace) -> int:
    from . import worker

    return worker.run(_load(args))
