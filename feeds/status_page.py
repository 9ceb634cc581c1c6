"""The operator's status page: every source, broken and stale ones first.

Unlike everything in output_dir, this page depends on the moment it is made (ages, the
next due time), so it is written outside output_dir unless the operator puts it there
(`status_page:`), and `feeds serve` can render it on request at /status. `triage` is
pure and is what `feeds status --stale` prints too.
"""

from __future__ import annotations

import enum
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from .errors import PublishError
from .guard import redact
from .store import SourceHealth, SourceState, Store
from .types import Config

__all__ = ["Line", "State", "render", "triage", "write"]


class State(enum.StrEnum):
    BROKEN = "broken"  # its last fetch failed, or it is disabled
    STALE = "stale"  # nothing new for `stale_days`
    OK = "ok"


_STATE_WORDS = {State.BROKEN: "معطّل", State.STALE: "راكد", State.OK: "سليم"}


@dataclass(frozen=True, slots=True)
class Line:
    """One source as the page shows it."""

    state: State
    source: SourceState
    last_success: datetime | None
    last_new: datetime | None

    @property
    def error_words(self) -> str:
        """The last error in words: what kind of failure, then what the fetch said."""
        s = self.source
        if s.disabled_reason:
            return f"موقوف: {s.disabled_reason}"
        if not s.consecutive_errors or not s.last_error:
            return ""
        status = s.last_status or 0
        kind = (
            "رفض الخادم الطلب" if 400 <= status < 500
            else "خطأ في خادم المصدر" if status >= 500
            else "تعذّر الجلب أو القراءة"
        )  # fmt: skip
        return f"{kind}: {s.last_error}"


def triage(
    sources: Sequence[SourceState],
    health: Mapping[str, SourceHealth],
    now: datetime,
    stale_days: int,
) -> list[Line]:
    """Every source, broken first (most consecutive errors first), then stale (longest
    without anything new first), then the rest by URL."""
    cutoff = now - timedelta(days=stale_days)
    lines = []
    for s in sources:
        h = health.get(s.url)
        last_new = h.last_new if h else None
        if s.disabled_reason or s.consecutive_errors:
            state = State.BROKEN
        elif s.last_fetch is not None and (last_new is None or last_new < cutoff):
            state = State.STALE
        else:
            state = State.OK
        lines.append(Line(state, s, h.last_success if h else None, last_new))
    order = {State.BROKEN: 0, State.STALE: 1, State.OK: 2}

    def key(line: Line) -> tuple[int, int, str, str]:
        new = line.last_new.isoformat() if line.last_new else ""
        return (order[line.state], -line.source.consecutive_errors, new, line.source.url)

    return sorted(lines, key=key)


_CSS = """
body{margin:0 auto;max-width:72rem;padding:1rem;font:.95rem/1.6 system-ui,"Noto Naskh Arabic",
"Segoe UI",Tahoma,sans-serif;color:#1b1b1b;background:#fcfcfa}
table{border-collapse:collapse;width:100%}
th,td{padding:.35rem .5rem;border-bottom:1px solid #e5e5e5;text-align:start;vertical-align:top}
th{background:#f1f1ee}
tr.broken td:first-child{border-inline-start:4px solid #c62828}
tr.stale td:first-child{border-inline-start:4px solid #f9a825}
tr.ok td:first-child{border-inline-start:4px solid #2e7d32}
.url{font-size:.8rem;color:#555}.num{text-align:end}
@media (prefers-color-scheme:dark){body{background:#161616;color:#e8e8e8}th{background:#222}
th,td{border-color:#333}.url{color:#aaa}}
""".strip()

_HEAD = (
    "المصدر", "الحالة", "آخر نجاح", "آخر جديد", "آخر خطأ", "أخطاء متتالية", "العناصر",
    "الموعد التالي", "إصلاح الترميز", "حدود طُبّقت", "النص الكامل",
)  # fmt: skip
#: A source's full-text counts (`Store.full_text_report`): by content_from, last reason.
FullText = Mapping[str, tuple[Mapping[str, int], str]]


def render(
    config: Config, lines: Sequence[Line], now: datetime, pages: FullText | None = None
) -> bytes:
    counts = {state: sum(1 for line in lines if line.state is state) for state in State}
    summary = "، ".join(f"{_STATE_WORDS[s]}: {counts[s]}" for s in State)
    rows = "\n".join(_row(line, now, (pages or {}).get(line.source.url)) for line in lines)
    head = "".join(f"<th>{h}</th>" for h in _HEAD)
    title = escape(f"حالة المصادر — {config.title}")
    page = f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{title}</h1>
<p>{len(lines)} مصدرًا ({summary}). أُعدّت في <time datetime="{_iso(now)}">{_iso(now)}</time>.</p>
<table>
<thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
    return page.encode("utf-8")


def _full_text(found: tuple[Mapping[str, int], str] | None) -> str:
    if not found:
        return "—"
    counts, reason = found
    said = (
        f"{counts.get('page', 0)} من الصفحات، {counts.get('pending', 0)} بالانتظار، "
        f"{counts.get('failed', 0)} تعذّر"
    )
    return escape(said) + (f' (<bdi dir="auto">{escape(reason)}</bdi>)' if reason else "")


def _row(line: Line, now: datetime, pages: tuple[Mapping[str, int], str] | None = None) -> str:
    s = line.source
    name = escape(s.name or redact(s.url))
    url = escape(redact(s.discovered_url or s.fetch_url))  # a source's password stays unsaid
    cells = (
        f'{name}<div class="url"><bdi dir="ltr">{url}</bdi></div>',
        _STATE_WORDS[line.state],
        _when(line.last_success, now),
        _when(line.last_new, now),
        f'<bdi dir="auto">{escape(line.error_words)}</bdi>' if line.error_words else "—",
        f'<span class="num">{s.consecutive_errors}</span>',
        f'<span class="num">{s.items}</span>',
        _when(s.next_due, now) if s.next_due and not s.disabled_reason else "—",
        f'<bdi dir="ltr">{escape(s.repair)}</bdi>' if s.repair else "—",
        f'<bdi dir="ltr">{escape(s.caps)}</bdi>' if s.caps else "—",
        _full_text(pages),
    )
    tds = "".join(f"<td>{c}</td>" for c in cells)
    return f'<tr class="{line.state.value}">{tds}</tr>'


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _when(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "أبدًا"
    seconds = int((now - when).total_seconds())
    ahead = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        words = f"{seconds} ثانية"
    elif seconds < 5400:
        words = f"{round(seconds / 60)} دقيقة"
    elif seconds < 129600:
        words = f"{round(seconds / 3600)} ساعة"
    else:
        words = f"{round(seconds / 86400)} يوم"
    rel = f"بعد {words}" if ahead else f"منذ {words}"
    return f'<time datetime="{_iso(when)}" title="{_iso(when)}">{rel}</time>'


def lines_of(store: Store, config: Config, now: datetime) -> list[Line]:
    return triage(store.sources(), store.source_health(), now, config.status_page.stale_days)


def page(store: Store, config: Config, now: datetime) -> bytes:
    return render(config, lines_of(store, config, now), now, store.full_text_report())


def write(store: Store, config: Config, now: datetime) -> str | None:
    """Write the page where `status_page.path` says (None: nowhere); returns the path.

    Written here rather than with `publish.write_atomic`: that would import every
    renderer (feedgen, lxml) into a pass that publishes nothing.
    """
    path = config.status_page.path
    if path is None:
        return None
    data = page(store, config, now)
    folder = os.path.dirname(path) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".status.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        raise PublishError(e.strerror or str(e), subject=path) from e
    return path
