"""Full text from an article's own page, for sources whose feed gives only an excerpt.

Pure: `extract` turns page bytes into sanitized markup, or says why it could not
(`normalize.wants_page` decided from the feed's text that the page was worth
fetching). trafilatura finds the main text (it leads the English extraction benchmarks
and handles Arabic pages). Its output then goes
through the same nh3 path as feed content (`normalize.sanitize_html`: absolute URLs,
lazy images, no tracking pixels), and blocks of Arabic page furniture that extractors
keep ("اقرأ أيضاً", related posts, share bars, newsletter boxes) are dropped. The page's
own `dir` and `lang` are kept on the result. Dates come from the feed, never from the
extractor. The fetching is `pipeline._pages`'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from . import markup, normalize

#: Bytes of one article page at most (pages are not feeds: 5 MiB is a generous page).
MAX_PAGE_BYTES = 5 * 1024 * 1024

# Page furniture that extractors keep as text: the block goes (and the list a heading of
# it introduces).
_FURNITURE = re.compile(
    r"^\W*(?:(?:اقرأ|إقرأ|اقرا|شاهد|طالع)\s+(?:أيض[اًا]ً?|كذلك)|"
    r"(?:مواضيع|أخبار|مقالات|موضوعات)\s+(?:ذات\s+صلة|متعلقة|مشابهة)|قد\s+يهمك|"
    r"(?:اشترك|سجل)\s+(?:في|ب)\s*(?:النشرة|القائمة)|النشرة\s+البريدية|"
    r"شارك\s+(?:هذا|الخبر|المقال)|تابعونا\s+على|"
    r"read\s+also|related\s+(?:posts|articles|stories)|share\s+this|subscribe\s+to)",
    re.IGNORECASE,
)
_BLOCK = re.compile(r"<(p|h[1-6]|li|div|blockquote|section|aside)\b[^>]*>(.*?)</\1>", re.DOTALL)
# The page's own headline, which the item already shows as its title.
_LEAD_HEADING = re.compile(r"\A\s*<h1\b[^>]*>.*?</h1>", re.DOTALL)
_INDENT = re.compile(r">\s*\n\s*<")  # trafilatura's pretty-printing between blocks
_LIST_AFTER = re.compile(r"\A\s*<(ul|ol)\b[^>]*>.*?</\1>", re.DOTALL)
_PASSWORD = re.compile(rb"<input\b[^>]*\btype\s*=\s*[\"']?password", re.IGNORECASE)
_BASE = re.compile(rb"<base\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_HTML_TAG = re.compile(rb"<html\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(rb"\b(dir|lang)\s*=\s*[\"']?([A-Za-z-]{2,12})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Extracted:
    """An article's text from its page: `html`, or the `reason` there is none."""

    html: str = ""
    reason: str = ""


def extract(page: bytes, url: str, *, feed_text: int) -> Extracted:
    """The main text of `page` (fetched from `url`) as sanitized markup, kept only when
    it has more text than the feed's own `feed_text` characters. Relative links resolve
    against the page's URL, or its `<base href>` when that stays on the same host."""
    import trafilatura  # here: a second or so of imports that most passes never need

    if page.count(b"=") > markup.RAW_EQUALS:
        # libxml2 and jusText take time growing as the square of a tag's attributes: a
        # 2.3 MB page of one tag with 200,000 of them took 473 s. Latin-1 maps each byte
        # to one character, so the cut keeps every other byte as it was.
        page = markup.bound_attributes(page.decode("latin-1")).encode("latin-1")
    base = _base(page, url)
    # No `deduplicate`: its cache of seen paragraphs lives across calls, so a page's
    # text would depend on the pages extracted before it in the process.
    try:
        found = trafilatura.extract(
            page, url=base, output_format="html", include_images=True, include_links=True,
            include_comments=False, include_tables=True, favor_precision=True,
            deduplicate=False, with_metadata=False,
        )  # fmt: skip
    except Exception as e:  # a third party's parser on hostile input: any error
        return Extracted(reason=f"the extractor failed: {type(e).__name__}")
    if not found:
        return Extracted(reason=_refusal(page, "no article text found on the page"))
    body = _without_furniture(_LEAD_HEADING.sub("", _body_of(found), count=1))
    clean = normalize.sanitize_html(body, base)
    length = len(normalize.plain_text(clean))
    if length <= feed_text:
        why = f"less text than the feed's ({length} <= {feed_text} characters)"
        return Extracted(reason=_refusal(page, why))
    return Extracted(html=_with_direction(clean, page))


def _refusal(page: bytes, otherwise: str) -> str:
    """Why a page gave no article: a login wall when it asks for a password, else
    `otherwise`."""
    if _PASSWORD.search(page):
        return "a login wall (a password form and little text)"
    return otherwise


def _body_of(found: str) -> str:
    """trafilatura's HTML document without its <html>/<body> wrapper."""
    match = re.search(r"<body[^>]*>(.*)</body>", found, re.DOTALL | re.IGNORECASE)
    return _INDENT.sub("><", match[1] if match else found)


def _without_furniture(markup: str) -> str:
    out, last = [], 0
    for block in _BLOCK.finditer(markup):
        if block.start() < last:
            continue
        if _FURNITURE.match(normalize.plain_text(block[2])):
            out.append(markup[last : block.start()])
            last = block.end()
            if (following := _LIST_AFTER.match(markup, last)) is not None:
                last = following.end()
    out.append(markup[last:])
    return "".join(out)


def _base(page: bytes, url: str) -> str:
    """Where the page's relative links point: its `<base href>` only when that stays on
    the page's own host (a base pointing elsewhere would send every link there)."""
    found = _BASE.search(page[:65536])
    if not found:
        return url
    base = urljoin(url, found[1].decode("ascii", "replace"))
    same = urlsplit(base).hostname == urlsplit(url).hostname
    return base if same and urlsplit(base).scheme in ("http", "https") else url


def _with_direction(clean: str, page: bytes) -> str:
    tag = _HTML_TAG.search(page[:65536])
    found = dict((k.lower(), v) for k, v in _ATTR.findall(tag[1])) if tag else {}
    attrs = []
    if (direction := found.get(b"dir", b"").lower()) in (b"rtl", b"ltr"):
        attrs.append(f'dir="{direction.decode()}"')
    if lang := found.get(b"lang"):
        attrs.append(f'lang="{lang.decode("ascii").lower()}"')
    return f"<div {' '.join(attrs)}>{clean}</div>" if attrs else clean
