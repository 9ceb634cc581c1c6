"""Sanitized markup, bounded and trimmed (pure): how deep its elements nest, how long it
runs, and the CMS footers ("The post … appeared first on …") cut from its end.

Works on the sanitizer's own output (`normalize.sanitize_html`), whose every element is
closed, void elements aside, so counting tags is enough: nothing is parsed again. One
bound is for the raw markup, before the sanitizer sees it (`bound_raw`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

__all__ = [
    "MAX_DEPTH", "MAX_HTML", "RAW_ATTRIBUTES", "RAW_DEPTH", "XML_FORBIDDEN", "bound_markup",
    "bound_raw", "strip_footers", "whole_elements",
]  # fmt: skip

#: What XML 1.0 cannot hold (C0 controls but tab and line breaks, U+FFFE, U+FFFF) and
#: UTF-8 cannot encode (lone surrogates): dropped from what is parsed and shown, and
#: refused in the config.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>")
VOID = frozenset({"br", "hr", "img", "wbr"})
_VOID_STARTS = frozenset({"br>", "br ", "br/", "hr>", "hr ", "hr/", "img", "wbr"})

#: The most sanitized HTML one article keeps, in characters: a long feature is 20 to
#: 60 KB, and a 5 MB description would otherwise be published whole in every format.
MAX_HTML = 200_000
#: Elements nested deeper than this are dropped, their text kept: 10,000 nested <div>s
#: survive sanitizing, and some readers' renderers recurse once per level.
MAX_DEPTH = 32
_BLOCKS = frozenset(
    {"p", "div", "li", "ul", "ol", "blockquote", "table", "figure", "pre", "h1", "h2", "h3",
     "h4", "h5", "h6", "tr"}
)  # fmt: skip
_CUT_MARK = "<p>…</p>"


#: How deep raw markup may nest when the sanitizer gets it; deeper start tags and their
#: end tags are dropped, their text kept. html5ever (under nh3) looks through its open
#: elements at every block's start, so its time grows with depth times tags: 64,000
#: nested <div>s took 7 s of CPU, and a 10 MB description of them over ten minutes.
#: 10 MB of blocks under 256 open elements takes 1.5 s (0.7 s with none open).
RAW_DEPTH = 256
#: Start tags past which raw markup is checked for depth: fewer cannot nest deeper than
#: their number, and html5ever takes about 0.01 s for 2,000 nested <div>s. A long
#: feature has about 1,500 tags, so articles never pay for the check.
RAW_TAGS = 2_000

_RAW_TAG = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9:-]*)(?:[^>"']|"[^"]*"|'[^']*')*>""")
_RAW_VOID = frozenset(
    {"area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image",
     "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"}
)  # fmt: skip
#: Start tags that end an open element of their name on top (HTML's implied end tags,
#: and <a>, which the parser closes at the next <a>): runs of them stay shallow. Only
#: on top: <li> in a list in a <li> nests, and a count that errs must err deep.
_IMPLIED = frozenset({"a", "dd", "dt", "li", "option", "p", "rb", "rp", "rt", "td", "th", "tr"})
#: How far down the open elements an end tag is looked for.
_LOOK = 4
#: Attributes kept of one raw tag, and the "=" signs past which tags are checked:
#: html5ever compares each attribute with those before it, so one <p> of 100,000
#: attributes took 2.1 s and of 500,000 a minute. 20,000 take 0.1 s; a long feature
#: has a few thousand "=" in all, links' queries included.
RAW_ATTRIBUTES = 256
RAW_EQUALS = 20_000
_RAW_ATTRIBUTE = re.compile(r"""\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]*))?""")


def bound_raw(raw: str) -> str:
    """Raw (unsanitized) markup that the sanitizer takes in time about linear in its
    length: elements nested at most `RAW_DEPTH` deep (`_flatten`) and tags of at most
    `RAW_ATTRIBUTES` attributes (`_fewer_attributes`). Markup with few tags and few "="
    signs (every real article) is returned as it is, after two counts in C.
    """
    if raw.count("<") - raw.count("</") > RAW_TAGS:
        raw = _flatten(raw, RAW_DEPTH)
    return bound_attributes(raw)


def bound_attributes(raw: str) -> str:
    """`raw` with each tag cut after its first `RAW_ATTRIBUTES` attributes: parsers
    (html5ever, libxml2) compare each attribute with the tag's others. Markup with few
    "=" signs is returned as it is, after one count in C."""
    if raw.count("=") > RAW_EQUALS:
        raw = _fewer_attributes(raw, RAW_ATTRIBUTES)
    return raw


def _fewer_attributes(raw: str, most: int) -> str:
    """Each tag of `raw` cut after its first `most` attributes."""

    def cut(tag: re.Match[str]) -> str:
        text = tag.group()
        if text.count("=") <= most:
            return text
        ends = [m.end() for m in itertools.islice(_RAW_ATTRIBUTE.finditer(text), most + 1)]
        if len(ends) <= most:
            return text
        return text[: ends[most - 1]] + ("/>" if text.endswith("/>") else ">")

    return _RAW_TAG.sub(cut, raw)


def _flatten(raw: str, max_depth: int) -> str:
    """`raw` with its elements nested at most `max_depth` deep, as far as a simple count
    of open elements can tell: deeper start tags, and the end tags that close them, are
    dropped; all text is kept. Markup that nests no deeper is returned as it is.
    """
    out: list[str] = []
    open_: list[tuple[str, bool]] = []  # the open elements: (name, written?)
    dropped = False
    pos = 0
    for m in _RAW_TAG.finditer(raw):
        closing, name = m.group(1), m.group(2).lower()
        if name in _RAW_VOID or m.group().endswith("/>"):
            continue
        if closing:
            found = _open_at(open_, name)
            if found < 0 or open_[found][1]:
                if found >= 0:
                    del open_[found:]
                continue  # written (or unknown: the sanitizer ignores it)
            del open_[found:]
        else:
            if name in _IMPLIED and open_ and open_[-1][0] == name:
                open_.pop()
            keep = len(open_) < max_depth
            open_.append((name, keep))
            if keep:
                continue
        out.append(raw[pos : m.start()])
        pos = m.end()
        dropped = True
    if not dropped:
        return raw
    out.append(raw[pos:])
    return "".join(out)


def _open_at(open_: list[tuple[str, bool]], name: str) -> int:
    """Where `name` is among the last `_LOOK` open elements (-1: not there)."""
    for i in range(len(open_) - 1, max(len(open_) - 1 - _LOOK, -1), -1):
        if open_[i][0] == name:
            return i
    return -1


def bound_markup(clean: str, max_chars: int = MAX_HTML, max_depth: int = MAX_DEPTH) -> str:
    """Sanitized markup with at most `max_depth` levels of elements and about
    `max_chars` characters: cut after the last block element that fits (or, when not
    even one does, inside the first one's text, at a space), and closed.

    Works on the sanitizer's own output, whose every element is closed (void elements
    aside), so the tags can be counted without parsing again.
    """
    if len(clean) <= max_chars and not _deeper_than(clean, max_depth):
        return clean
    out: list[str] = []
    size = 0
    kept: list[tuple[str, bool]] = []  # open elements: (name, written?)
    cut: tuple[int, tuple[str, ...]] | None = None  # (len(out), names open) at a block end
    pos = 0
    for m in TAG.finditer(clean):
        text = clean[pos : m.start()]
        if size + len(text) > max_chars:
            return _cut(out, cut, kept, text[: max_chars - size])
        out.append(text)
        size += len(text)
        pos = m.end()
        if not _keep_tag(m, kept, max_depth):
            continue
        out.append(m.group())
        size += len(m.group())
        if m.group(1) and m.group(2).lower() in _BLOCKS:
            cut = (len(out), tuple(n for n, w in kept if w))
    tail = clean[pos:]
    if size + len(tail) > max_chars:
        return _cut(out, cut, kept, tail[: max_chars - size])
    return "".join([*out, tail])


def _deeper_than(clean: str, max_depth: int) -> bool:
    """Whether sanitized markup nests elements more than `max_depth` deep.

    The quick test that every article takes: a split and a loop over the tags, about
    0.03 us per character (the full rewrite below costs ten times that).
    """
    depth = 0
    for piece in clean.split("<")[1:]:
        if piece[:1] == "/":
            depth -= 1
        elif piece[:3] not in _VOID_STARTS:
            depth += 1
            if depth > max_depth:
                return True
    return False


def _keep_tag(m: re.Match[str], open_: list[tuple[str, bool]], max_depth: int) -> bool:
    """Whether a tag is written; keeps `open_` (the open elements) up to date.

    An element is written when fewer than `max_depth` of its ancestors were; since a
    written element's ancestors are all written, that is its position in `open_`.
    """
    name = m.group(2).lower()
    if name in VOID:
        return True
    if m.group(1):  # a closing tag: written when its opening tag was
        return open_.pop()[1] if open_ else False
    write = len(open_) < max_depth
    open_.append((name, write))
    return write


def _cut(
    out: list[str],
    at: tuple[int, tuple[str, ...]] | None,
    open_: list[tuple[str, bool]],
    text: str,
) -> str:
    if at is not None:
        length, still_open = at
        kept = out[:length]
    else:  # not one block fits: the text so far, to its last whole word
        kept, still_open = [*out, text.rsplit(" ", 1)[0]], tuple(n for n, w in open_ if w)
    closers = "".join(f"</{n}>" for n in reversed(still_open))
    return "".join(kept) + closers + _CUT_MARK


def whole_elements(cut: str) -> bool:
    """Whether `cut`, the end of a sanitized document, is a run of whole elements.

    Then what remains before it is well-formed too, and needs no second sanitizing. A
    Yoast footer (`<p>The post <a>…</a> appeared first on <a>…</a>.</p>`) is; a cut
    that closes an element opened before it (`…</p></div>`) is not.
    """
    if not cut.lstrip().startswith("<"):
        return False  # the cut began inside an element's text
    depth = 0
    for m in TAG.finditer(cut):
        name = m.group(2).lower()
        if name in VOID:
            continue
        depth += -1 if m.group(1) else 1
        if depth < 0:
            return False
    return depth == 0


# --------------------------------------------------------------------------- footers

_IN_PARAGRAPH = r"(?:(?!<p[\s>]).)"
_FOOTER = re.compile(
    rf"(?:<p[^>]*>\s*)?(?:The post\b{_IN_PARAGRAPH}*?\bappeared first on\b"
    rf"|ظهرت المقالة{_IN_PARAGRAPH}*?[أا]ول[اًٌ]{{1,2}}\s+على){_IN_PARAGRAPH}*?(?:</p>\s*)?\Z",
    re.DOTALL,
)
_FOOTER_OPENINGS = ("The post", "ظهرت المقالة")  # where each alternative starts
_READ_ALSO = re.compile(r"[اإأ]قر[أا]\s+[أا]يض[اًٌ]{1,2}")
# The opening tags right before the phrase belong to the block that goes with it.
_OPENING_RUN = re.compile(r"(?:<(?:p|h[1-6]|div|li|strong|b|em|span)\b[^>]*>\s*)+\Z")
_LINK = re.compile(r"<a\b.*?</a>", re.DOTALL)
_TAIL = 3000


#: What opens a block of links to the site's other articles, wherever it sits.
_RELATED = (
    r"(?:[اإأ]قر[أا]|شاهد|طالع|تابع)\s+(?:[أا]يض[اًٌ]{1,2}|كذلك)"
    r"|(?:مواضيع|[أا]خبار|مقالات|روابط)\s+ذات\s+صلة|ذات\s+صلة|Read\s+(?:also|more)|Related"
)
_INLINE = r"(?:<(?:strong|b|em|i|span)\b[^>]*>\s*)*"
_CLOSE_INLINE = r"(?:\s*</(?:strong|b|em|i|span)>)*"
# A paragraph or list item (which never nest in sanitized markup) that opens with the
# phrase; and the phrase alone in a paragraph or heading, with the list right after it.
_RELATED_BLOCK = re.compile(
    rf"<(p|li|h[2-6])\b[^>]*>\s*{_INLINE}(?:{_RELATED})\s*[:：.\-–—]*{_CLOSE_INLINE}(.*?)</\1>"
    r"(\s*<(ul|ol)\b[^>]*>(?:(?!<[uo]l[\s>]).)*?</\4>)?",
    re.DOTALL | re.IGNORECASE,
)


def drop_related(markup: str, plain_text: Callable[[str], str]) -> str:
    """`markup` (sanitized, so well-formed) without the blocks of links a site puts in an
    article to its other articles: "<p>اقرأ أيضًا: <a>…</a></p>", or "<p><b>اقرأ أيضا:</b>
    </p><ul><li><a>…</a></li>…</ul>". Only a block whose text past the phrase is all
    link text goes; "اقرأ أيضا ما قاله الوزير" is prose and stays. Another story's
    headline in an article's opening lines made it look like that story to clustering.
    """
    if not _RELATED_START.search(markup):
        return markup

    def drop(m: re.Match[str]) -> str:
        rest = m.group(2) + (m.group(3) or "")
        if "<a" not in rest or not whole_elements(m.group(0)):
            return m.group(0)  # no links; or an item that holds a list, cut at its first </li>
        leftover = plain_text(_LINK.sub(" ", rest)).strip(" :：-–—.،|•")
        return "" if len(leftover) <= 20 else m.group(0)

    return _RELATED_BLOCK.sub(drop, markup)


_RELATED_START = re.compile(_RELATED, re.IGNORECASE)


def strip_footers(markup: str, plain_text: Callable[[str], str]) -> str:
    # The footer is searched for only near the end, where it sits (the window keeps the
    # lazy regex linear on long articles), and from the paragraph where its opening
    # words first appear: trying the regex at each of 3,000 positions cost more than
    # the rest of sanitizing.
    window = max(0, len(markup) - _TAIL)
    found = [i for i in (markup.find(w, window) for w in _FOOTER_OPENINGS) if i >= 0]
    if found:
        first = min(found)
        paragraph = markup.rfind("<p", window, first)
        footer = _FOOTER.search(markup, paragraph if paragraph >= 0 else first)
        if footer:
            markup = markup[: footer.start()].rstrip()
    matches = list(_READ_ALSO.finditer(markup))
    if not matches:
        return markup
    last = matches[-1]
    opening = _OPENING_RUN.search(markup, max(0, last.start() - 200), last.start())
    start = opening.start() if opening else last.start()
    tail = markup[last.end() :]
    # Only a related-links block goes: what is left once links are removed is punctuation.
    if len(plain_text(_LINK.sub(" ", tail)).strip(" :：-–—.،")) <= 20:
        return markup[:start].rstrip()
    return markup


# --------------------------------------------------------------------------- URLs
