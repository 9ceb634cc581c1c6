"""The operator's keys of config.yaml: log format, metrics, status page, Telegram.

Kept apart from `_validate` (which calls these) because they describe how the program
is watched and where it reports, not what it fetches or publishes. Secrets never come
from the file: a key names the environment variable that holds one (`token_env`).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from typing import TYPE_CHECKING, Any

from feeds.types import (
    AccessConfig,
    MetricsConfig,
    StatusPageConfig,
    TelegramChannel,
    TelegramConfig,
)

if TYPE_CHECKING:
    from feeds.config._validate import _Section

TOP_KEYS = ("log_format", "metrics", "status_page", "telegram")
LOG_FORMATS = ("text", "json")
_ACCESS_KEYS = ("allow", "token_env")
METRICS_KEYS = (*_ACCESS_KEYS, "host", "port")
_STATUS_KEYS = (*_ACCESS_KEYS, "path", "serve", "stale_days")
TELEGRAM_KEYS = ("token_env", "api_url", "max_per_pass", "backlog", "min_interval", "timeout")
CHANNEL_KEYS = ("chat", "topic")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CHAT = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,}|-?[0-9]+")
_T = "tag:yaml.org,2002:"


def log_format(top: _Section) -> Any:
    def problem(value: str) -> str | None:
        return None if value in LOG_FORMATS else f"must be text or json, got {value!r}"

    return top.text("log_format", "text", check=problem)


def _network_problem(text: str) -> str | None:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"not a network like 10.0.0.0/8 or ::1/128: {text!r}"
    return None


def _env_problem(name: str) -> str | None:
    if _ENV_NAME.fullmatch(name):
        return None
    return f"must name an environment variable (letters, digits, _), got {name!r}"


def _access(s: _Section) -> AccessConfig:
    return AccessConfig(
        allow=s.texts("allow", _network_problem), token_env=s.text("token_env", check=_env_problem)
    )


def metrics(s: _Section | None) -> MetricsConfig | None:
    """`metrics:` present (even as ``{}``) turns /metrics on."""
    if s is None:
        return None
    port = s.field("port", "int")
    if port is not None and not 1 <= port <= 65535:
        s.report("port", f"must be a TCP port from 1 to 65535, got {port}")
    host = s.text("host", "127.0.0.1", check=lambda h: None if h.strip() else "must not be empty")
    return MetricsConfig(access=_access(s), host=host or "127.0.0.1", port=port)


def status_page(top: _Section) -> StatusPageConfig:
    """`status_page: PATH`, or a mapping with `path`, `serve`, `stale_days`, access.

    The path is resolved later (`resolve_status_path`), once the config's folder is known.
    """
    node = top.get("status_page")
    if node is None:
        return StatusPageConfig(path=None)
    if node.tag == _T + "str":
        return StatusPageConfig(path=top.text("status_page"))
    s = top.sub("status_page", _STATUS_KEYS)
    if s is None:
        return StatusPageConfig(path=None)
    return StatusPageConfig(
        path=s.text("path"),
        serve=s.field("serve", "bool", False),
        stale_days=s.number("stale_days", 7, 1),
        access=_access(s),
    )


def resolve_status_path(
    page: StatusPageConfig, *, explicit: bool, folder: str, database: str, output_dir: str
) -> str | None:
    """The status page's absolute path, or None when none is written.

    By default it goes beside an SQLite database, never into output_dir: the contract
    keeps every file there independent of the moment of the pass. An operator who names
    a path inside output_dir gets it there; an empty path writes none.
    """
    if explicit:
        if not page.path:
            return None
        return os.path.normpath(os.path.join(folder, os.path.expanduser(page.path)))
    if database.startswith(("postgresql://", "postgres://")):
        return None
    path = os.path.join(os.path.dirname(database), "status.html")
    inside = os.path.commonpath([os.path.abspath(path), os.path.abspath(output_dir)])
    return None if inside == os.path.abspath(output_dir) else path


def telegram(s: _Section | None, url_problem: Any) -> TelegramConfig | None:
    if s is None:
        return None
    values: dict[str, Any] = {
        "token_env": s.text("token_env", required=True, check=_env_problem),
        "api_url": s.text("api_url", check=url_problem),
        "max_per_pass": s.number("max_per_pass", None, 1),
        "backlog": s.number("backlog", None, 0),
    }
    for name in ("min_interval", "timeout"):
        values[name] = seconds = s.field(name, "number")
        if seconds is not None and not 0 <= seconds < math.inf:
            s.report(name, f"must be a number of seconds, got {seconds}")
        elif name == "timeout" and seconds == 0:  # no request can be answered in no time
            s.report(name, "must be more than 0 seconds")
    if values["api_url"]:
        values["api_url"] = values["api_url"].rstrip("/")
    values["token_env"] = values["token_env"] or ""
    return TelegramConfig(**{k: v for k, v in values.items() if v is not None})


def channel(s: _Section | None) -> TelegramChannel | None:
    """`feeds[].telegram: {chat: "@name" or a numeric id, topic: N}`."""
    if s is None:
        return None
    node = s.get("chat")
    chat: str | None = None
    if node is None:
        s.field("chat", "str", required=True)
    elif node.tag == _T + "int":
        chat = str(s.field("chat", "int"))
    else:
        chat = s.text("chat", check=_chat_problem)
    topic = s.number("topic", None, 1)
    return TelegramChannel(chat=chat or "", topic=topic)


def _chat_problem(chat: str) -> str | None:
    if _CHAT.fullmatch(chat):
        return None
    return f"must be @channelname or a numeric chat id, got {chat!r}"
