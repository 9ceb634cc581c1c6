"""Conditional GET and HEAD (RFC 9110 §13): when a request's validators earn it a 304.

Pure, and without a third-party import, so both of our HTTP servers share it: `serve`
(starlette, the published files) and `demo` (http.server, the bundled sample feeds).
HTTP-dates are read by `policy.parse_http_date`, as the fetcher reads them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from .policy import parse_http_date

__all__ = ["not_modified"]

#: One member of If-None-Match: "*" or an entity tag, weak or not. A tag may hold a
#: comma, so the list is read tag by tag rather than split on commas.
_MEMBER = re.compile(r'\*|(?:W/)?"[^"]*"')


def not_modified(
    method: str,
    if_none_match: str | None,
    if_modified_since: str | None,
    *,
    etags: Collection[str],
    last_modified: datetime,
    now: datetime,
) -> bool:
    """Whether a request with these header values is answered 304 Not Modified.

    `etags` are the current representation's entity tags (any of them matches), and
    `last_modified` its modification time. Only GET and HEAD can be: for any other
    method a failed If-None-Match is a 412, which neither server answers.
    """
    if method not in ("GET", "HEAD"):
        return False
    if if_none_match is not None:
        # §13.2.2: If-None-Match, when present, is evaluated instead of If-Modified-Since;
        # §13.1.2: with GET and HEAD, by the weak comparison.
        members = {_opaque(m) for m in _MEMBER.findall(if_none_match)}
        return "*" in members or not members.isdisjoint(_opaque(t) for t in etags)
    if if_modified_since is None:
        return False
    since = parse_http_date(if_modified_since)
    # §13.1.3: an invalid date is ignored; so is one past our clock, which no
    # Last-Modified of ours can have given (RFC 2616 §14.25 called it invalid).
    if since is None or since > now:
        return False
    # Last-Modified goes out in whole seconds, so that is the resolution compared.
    return last_modified.replace(microsecond=0) <= since


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag
