"""Reading config.yaml's text and composing its YAML, with a file-and-line message for
every way that fails: unreadable, too large, not UTF-8, a syntax error, nested too deep."""

from __future__ import annotations

from typing import Any

import yaml

from feeds.errors import ConfigError, Problem

#: The largest config file read. A source takes about 100 bytes, so this is room for some
#: 10,000 of them; checking a file this size takes about a second, where 50 MB took 93 s
#: and 1.2 GB of memory (issue 20).
MAX_CONFIG_BYTES = 2**20


def _compose_text(text: str) -> yaml.Node | None:
    """libyaml's composer when PyYAML has it (10x faster on a config of hundreds of
    sources); on an error, the pure-Python one again, for its messages and marks.

    The pure-Python composer recurses once per level of nesting, so a file nested a few
    hundred levels deep (libyaml stops at 1,000) ends in RecursionError there: then the
    first place nested too deep is reported instead.
    """
    node: yaml.Node | None = None
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            node = yaml.compose(text, Loader=fast)
        except yaml.YAMLError as e:
            if "nesting depth" in str(e):  # the pure-Python composer would only recurse
                raise too_deep(text) from None
    if node is None:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except RecursionError:
            raise too_deep(text) from None
    if node is not None and _deeper(node, _DEPTH):  # libyaml itself allows 1,000
        raise too_deep(text)
    return node


def _deeper(root: yaml.Node, limit: int) -> bool:
    """Whether collections nest more than `limit` levels below `root` (no recursion).
    An alias is its anchor's node again: each node is walked again only when reached
    deeper than before, so a file of aliases of aliases costs no more than its nodes
    times `limit`."""
    stack, seen = [(root, 1)], dict[int, int]()
    while stack:
        node, depth = stack.pop()
        if seen.get(id(node), 0) >= depth:
            continue
        seen[id(node)] = depth
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            continue
        if depth > limit:
            return True
        stack += [(child, depth + 1) for child in children]
    return False


#: Nesting deeper than this is reported, without libyaml, where it begins.
_DEPTH = 100


def too_deep(text: str) -> yaml.MarkedYAMLError:
    """Where `text` first nests deeper than `_DEPTH`, or the syntax error met before
    (PyYAML's event parser is a state machine, not recursive: it walks any depth)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > _DEPTH:
                    problem = f"nested more than {_DEPTH} levels deep"
                    mark: Any = event.start_mark  # a pure-Python parser's yaml.error.Mark
                    return yaml.MarkedYAMLError(problem=problem, problem_mark=mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as e:
        return e
    except yaml.YAMLError as e:
        return yaml.MarkedYAMLError(problem=str(e))
    return yaml.MarkedYAMLError(problem="nested too deeply")


def compose_text(file: str, text: str) -> yaml.Node | None:
    """The composed node tree of `text`; ConfigError naming the line of a YAML error."""
    try:
        return _compose_text(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([Problem(file, line, "", _yaml_message(e))]) from e
    except yaml.YAMLError as e:  # e.g. a control character the reader refuses
        raise ConfigError([Problem(file, None, "", f"YAML error: {e}")]) from e


def _yaml_message(e: yaml.MarkedYAMLError) -> str:
    message = f"YAML syntax error: {e.problem or 'invalid YAML'}"
    if e.context and e.context_mark:  # e.g. where the unclosed quote was opened
        return f"{message} ({e.context} on line {e.context_mark.line + 1})"
    return f"{message} ({e.context})" if e.context else message


def read_text(file: str) -> str:
    """The file's text; ConfigError when it cannot be read, is too large or not UTF-8."""
    try:
        with open(file, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        message = f"cannot read the config file: {e.strerror or e}"
        raise ConfigError([Problem(file, None, "", message)]) from e
    if len(raw) > MAX_CONFIG_BYTES:
        message = f"the config file is larger than {MAX_CONFIG_BYTES // 2**20} MiB, the limit"
        raise ConfigError([Problem(file, None, "", message)])
    try:
        return raw.decode("utf-8-sig")  # a BOM from a Windows editor is harmless
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError([Problem(file, line, "", "the file is not UTF-8 text")]) from e
