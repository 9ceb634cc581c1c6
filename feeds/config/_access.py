"""What sources may reach and how they log in: `fetch.allow_private` and `auth:`.

Kept apart from `_validate` so that every key touching network access is checked in one
place. Credentials are never read into the Config: `auth:` names environment variables,
checked here to exist (so `feeds check` catches a unit file that forgot them), and read
again when a fetch needs them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from feeds import guard
from feeds.types import SourceAuth

if TYPE_CHECKING:
    from feeds.config._validate import _Section

_AUTH_KEYS = ("username_env", "password_env")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def network_problem(text: str) -> str | None:
    """Why `text` is not a network in CIDR form, or None."""
    try:
        guard.network(text)
    except ValueError as e:
        return f"not a network in CIDR form like 10.0.0.0/8 or fd00::/8 ({e})"
    return None


def source_auth(
    s: _Section, url: str | None, environ: Mapping[str, str] = os.environ
) -> SourceAuth | None:
    """A source's `auth:`, each variable it names checked to be set (never shown)."""
    a = s.sub("auth", _AUTH_KEYS)
    if a is None:
        return None
    names = [a.text(key, required=True, check=_variable_problem) for key in _AUTH_KEYS]
    for key, name in zip(_AUTH_KEYS, names, strict=True):
        if name is not None and name not in environ:
            a.report(key, f"environment variable {name} is not set")
    if url is not None and guard.split_userinfo(url)[1] is not None:
        s.report("auth", "the url holds credentials already (user:password@): give them once")
    if None in names:
        return None
    return SourceAuth(username_env=names[0], password_env=names[1])


def _variable_problem(name: str) -> str | None:
    if _VARIABLE.fullmatch(name):
        return None
    return f"must be an environment variable name like FEEDS_SITE_USER, got {name!r}"
