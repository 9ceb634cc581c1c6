"""Read and validate config.yaml; import and export its sources as OPML.

Validation (`_validate`) works on PyYAML's *composed* node tree rather than on loaded
Python values, because only nodes remember the line they came from, and `feeds check`
promises ``FILE:LINE: key.path: what is wrong`` for every problem at once. Building the
records by hand from nodes also means that no tag beyond YAML's plain scalars, lists and
mappings can ever turn into an object.

OPML import (`_opml`) edits the user's file with ruamel.yaml's round-trip mode instead,
since PyYAML drops comments.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from feeds.config._validate import check, selector_problem
from feeds.errors import ConfigError, Problem
from feeds.types import Config

if TYPE_CHECKING:
    from feeds.config._opml import Imported

__all__ = ["add_sources", "load", "parse_opml", "problems", "render_opml", "selector_problem"]


def load(path: str | os.PathLike[str]) -> Config:
    """Read, validate and resolve config.yaml; raise ConfigError listing every problem."""
    config, found = check(path)
    if found or config is None:
        raise ConfigError(found or [Problem(os.fspath(path), None, "", "invalid config")])
    return config


def problems(path: str | os.PathLike[str]) -> tuple[Problem, ...]:
    """Every problem with the config file, in file order (empty when it is valid).

    `feeds check` also asks APScheduler about a crontab line (`schedule.cron_problem`):
    "61 * * * *" has five well-formed fields, and `serve` refused it at start. A pass
    never reads the schedule, so `load` leaves the check (and the import) out.
    """
    return tuple(check(path, cron_check=_cron_problem)[1])


def _cron_problem(expr: str) -> str | None:
    from feeds import schedule  # only for a crontab line: APScheduler takes 45 ms

    return schedule.cron_problem(expr)


# OPML import and export load ruamel.yaml and defusedxml, which a pass never needs: they
# are imported on first use.


def parse_opml(data: bytes, *, name: str = "OPML") -> tuple[tuple[str, str], ...]:
    """(xmlUrl, text or title) of every feed outline of an OPML file (`_opml`)."""
    from feeds.config import _opml

    return _opml.parse_opml(data, name=name)


def render_opml(config: Config) -> bytes:
    """OPML 2.0 of the configured sources (`_opml`)."""
    from feeds.config import _opml

    return _opml.render_opml(config)


def add_sources(path: str | os.PathLike[str], sources: Sequence[tuple[str, str]]) -> Imported:
    """Append (url, name) pairs to the file's `sources:`, keeping its comments (`_opml`)."""
    from feeds.config import _opml

    return _opml.add_sources(path, sources)
