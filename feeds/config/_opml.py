"""OPML import and export of the configured sources.

Import keeps the user's comments: the file is edited with ruamel.yaml's round-trip mode.
OPML from elsewhere is untrusted XML, so it is read with defusedxml (the one module
besides `feeds.parse` that imports it).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat
import tempfile
import xml.etree.ElementTree as ET  # writing only; reading OPML goes through defusedxml
from collections.abc import Sequence
from typing import NamedTuple

import defusedxml
import defusedxml.ElementTree as SafeET
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.error import YAMLError as RoundTripError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from feeds.config._validate import url_key, url_problem
from feeds.config._yaml import compose_text, read_text, too_deep
from feeds.errors import ConfigError, Problem
from feeds.guard import redact, strip_userinfo
from feeds.types import Config

log = logging.getLogger("feeds.config")


class Imported(NamedTuple):
    """What `add_sources` did with each URL it was given."""

    added: tuple[str, ...]  # in order
    present: int  # configured already, or listed before in the same import
    refused: tuple[tuple[str, str], ...]  # (URL, why): not an http(s) URL


def parse_opml(data: bytes, *, name: str = "OPML") -> tuple[tuple[str, str], ...]:
    """(xmlUrl, text or title) of every feed outline, nested ones included, in order.

    `name` (the OPML file's name) is what a Problem about malformed OPML names.
    """
    try:
        root = SafeET.fromstring(data)
    except ET.ParseError as e:
        message = str(e).rsplit(": line ", 1)[0]
        raise ConfigError([Problem(name, e.position[0], "", f"malformed OPML: {message}")]) from e
    except defusedxml.DefusedXmlException as e:
        # Its repr, "EntitiesForbidden(name='a', system_id=None, ...)", says little.
        what = {
            "EntitiesForbidden": "it declares entities (<!ENTITY ...>)",
            "DTDForbidden": "it has a DTD (<!DOCTYPE ... [...]>)",
            "ExternalReferenceForbidden": "it refers to an external file or URL",
        }.get(type(e).__name__, str(e))
        problem = f"refused OPML: {what}, which untrusted XML may not"
        raise ConfigError([Problem(name, None, "", problem)]) from e
    body = root.find("body") if root.tag == "opml" else None
    if body is None:
        raise ConfigError([Problem(name, None, "", "not an OPML document (no <opml><body>)")])
    found: list[tuple[str, str]] = []
    for outline in body.iter("outline"):
        # OPML 2.0 spells it xmlUrl, but exporters in the wild also write xmlurl.
        attrs = {k.lower(): (v or "").strip() for k, v in outline.attrib.items()}
        if attrs.get("xmlurl"):
            found.append((attrs["xmlurl"], attrs.get("text") or attrs.get("title") or ""))
    return tuple(found)


def render_opml(config: Config) -> bytes:
    """OPML 2.0 of the configured sources; deterministic (no dateCreated)."""
    opml = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(opml, "head"), "title").text = config.title
    body = ET.SubElement(opml, "body")
    for s in config.sources:
        url = strip_userinfo(s.url)  # credentials stay in the config (issue 20)
        # `text` is the one attribute OPML 2.0 requires on every outline.
        name = s.name or url
        ET.SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=url)
    ET.indent(opml)
    xml = ET.tostring(opml, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}\n'.encode()


def add_sources(path: str | os.PathLike[str], sources: Sequence[tuple[str, str]]) -> Imported:
    """Append (url, name) pairs to `sources:` keeping the file's comments; say which
    were added, how many were there already, and which were refused and why.

    URLs already configured (compared as the duplicate check does) and non-http(s) URLs
    are skipped. The file is rewritten atomically, and only when something was added.
    """
    file = os.fspath(path)
    text = read_text(file)
    compose_text(file, text)  # libyaml names a syntax error or deep nesting, fast
    rt = _round_trip(text)
    try:
        data = rt.load(text)
    except RoundTripError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([Problem(file, line, "", f"YAML syntax error: {e}")]) from e
    except RecursionError:  # ruamel's composer recurses once per level of nesting
        deep = too_deep(text)
        line = deep.problem_mark.line + 1 if deep.problem_mark is not None else None
        raise ConfigError([Problem(file, line, "", f"YAML syntax error: {deep.problem}")]) from None
    if not isinstance(data, CommentedMap):
        raise ConfigError([Problem(file, None, "", "the top level must be a mapping")])
    if data.get("sources") is None:
        data["sources"] = CommentedSeq()
    seq = data["sources"]
    if not isinstance(seq, CommentedSeq):
        raise ConfigError([Problem(file, None, "sources", "expected a list")])
    done = _append_sources(seq, sources)
    if done.added:
        out = io.StringIO()
        rt.dump(data, out)
        _write_atomic(file, out.getvalue())
    return done


# --------------------------------------------------------------------------- round trip


def _round_trip(text: str) -> YAML:
    rt = YAML()  # round-trip mode: comments, key order and quoting survive
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap a long line the user wrote
    # ruamel applies one indentation to the whole file; copy the file's own list offset.
    first_item = re.search(r"^( *)- ", text, re.MULTILINE)
    offset = len(first_item[1]) if first_item else 2
    rt.indent(mapping=2, sequence=offset + 2, offset=offset)
    return rt


def _append_sources(seq: CommentedSeq, sources: Sequence[tuple[str, str]]) -> Imported:
    seen = {url_key(s["url"]) for s in seq if isinstance(s, dict) and isinstance(s.get("url"), str)}
    added: list[str] = []
    refused: list[tuple[str, str]] = []
    present = 0
    for url, name in sources:
        url = url.strip()
        if problem := url_problem(url):
            refused.append((url, problem))
            continue
        if url_key(url) in seen:
            log.info("not adding %s: already configured", redact(url))
            present += 1
            continue
        seen.add(url_key(url))
        entry = CommentedMap(url=_text(url))
        if name.strip():
            entry["name"] = _text(name.strip())
        _move_trailing_comment(seq, entry)
        seq.append(entry)
        added.append(url)
    return Imported(tuple(added), present, tuple(refused))


_PLAIN = yaml.resolver.Resolver()


def _text(value: str) -> str:
    """`value`, quoted when `check` would read it plain as something else than text.

    ruamel writes YAML 1.2, where `On`, `no` and `yes` are plain strings; the config is
    read by PyYAML, which follows YAML 1.1 and reads them as booleans, so a feed titled
    "On" made the next run exit 1.
    """
    tag = _PLAIN.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return value if tag == "tag:yaml.org,2002:str" else DoubleQuotedScalarString(value)


def _move_trailing_comment(seq: CommentedSeq, entry: CommentedMap) -> None:
    """Keep the comment lines that followed the list (say, a heading above `feeds:`) after it.

    ruamel attaches them, together with any end-of-line comment, to the last key of the
    last item, so an appended item would otherwise land below them. The end-of-line
    comment stays where it is.
    """
    last = seq[-1] if seq else None
    if not isinstance(last, CommentedMap) or not last:
        return
    slot = last.ca.items.get(list(last.keys())[-1])
    token = slot[2] if slot and len(slot) > 2 else None
    if token is None:
        return
    eol, newline, rest = token.value.partition("\n")
    if eol.strip().startswith("#"):  # an end-of-line comment: keep it, move what follows
        if not rest.strip():
            return
        token.value = eol + newline
        moved = CommentToken(newline + rest, CommentMark(0), None)
    else:
        slot[2], moved = None, token
    entry.ca.items[list(entry.keys())[-1]] = [None, None, moved, None]


def _write_atomic(file: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(file))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".config-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(os.stat(file).st_mode))
        os.replace(tmp, file)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ConfigError([Problem(file, None, "", f"cannot write the config file: {e}")]) from e
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
