"""`log_format: json`: one JSON object per log line, for a log shipper.

Each object has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, and,
where known, ``pass_id`` (the pass the line belongs to, from `pass_context`),
``source_url`` (given as ``extra=`` or found among the message's arguments as a
`SourceError`) and ``duration`` (seconds, given as ``extra=``); a traceback goes in
``exception``. ``text`` keeps the usual human format.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from .errors import SourceError
from .guard import redact

__all__ = ["JsonFormatter", "configure", "current_pass", "pass_context"]

_PASS_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("feeds_pass", default=None)


@contextmanager
def pass_context(pass_id: str) -> Iterator[None]:
    """Tag every line logged meanwhile (in this task, and tasks and threads it starts
    with the context copied, as asyncio does) with `pass_id`."""
    token = _PASS_ID.set(pass_id)
    try:
        yield
    finally:
        _PASS_ID.reset(token)


def current_pass() -> str | None:
    return _PASS_ID.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        pass_id = getattr(record, "pass_id", None) or _PASS_ID.get()
        if pass_id:
            entry["pass_id"] = pass_id
        source = getattr(record, "source_url", None) or _source_in(record.args)
        if source:
            entry["source_url"] = redact(source)  # userinfo of a source URL is a secret
        duration = getattr(record, "duration", None)
        if isinstance(duration, int | float):
            entry["duration"] = round(float(duration), 3)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _source_in(args: object) -> str | None:
    values = args if isinstance(args, tuple) else (args,)
    return next((a.url for a in values if isinstance(a, SourceError)), None)


def configure(log_format: str) -> None:
    """Switch the root logger's handlers to `log_format` ("text" leaves them)."""
    if log_format != "json":
        return
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())
