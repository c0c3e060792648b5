"""Render user markdown to sanitized HTML: the one way user text becomes markup.

Python-Markdown (tables, fenced code through Pygments, footnotes, table of
contents, task lists, ``$math$``) renders first; nh3 then keeps only the tags,
attributes, classes and URL schemes listed here. Raw HTML in the source is
escaped, not interpreted, so what an author types is what a reader sees, and
the sanitizer only ever has to vet markup that our own extensions produce.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import unescape as xml_unescape

import markdown
import nh3
from latex2mathml.converter import convert_to_element
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup
from pygments.formatters import HtmlFormatter
from pygments.token import STANDARD_TYPES

logger = logging.getLogger(__name__)

MAX_MARKDOWN_CHARS = 100_000
# About 50 times the text limit: room for MathML and highlighted code, not for
# a long reference link repeated ten thousand times.
MAX_HTML_CHARS = 5_000_000
DEFAULT_ID_PREFIX = "md-"
# An automatic table of contents needs this many headings: for one or two it
# only repeats them above the text.
MIN_TOC_HEADINGS = 3
_ID_PREFIX_RE = re.compile(r"[a-z][a-z0-9-]{0,39}")


class MarkdownTooLong(ValueError):
    """The text, or the HTML it would render to, is over a size limit; str() says which."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class RenderedMarkdown:
    """Sanitized body HTML and, separately, its table of contents ("" if no headings)."""

    html: Markup
    toc: Markup
    headings: int = 0  # how many headings the contents list


# --- math -------------------------------------------------------------------


def latex_to_mathml(latex: str, *, display: bool) -> str:
    """Convert LaTeX to a MathML string; raise on LaTeX that latex2mathml cannot parse."""
    root = convert_to_element(latex, display="block" if display else "inline")
    # latex2mathml stores some text pre-escaped ("&#x27E8;") and unescapes the
    # serialized XML, which would turn \text{<b>} into a raw tag. Escape raw
    # angle brackets first so that they survive that step as text.
    for el in root.iter():
        if el.text:
            el.text = el.text.replace("<", "&lt;").replace(">", "&gt;")
        if el.tail:
            el.tail = el.tail.replace("<", "&lt;").replace(">", "&gt;")
    return xml_unescape(tostring(root, encoding="unicode"))


class _MathTreeprocessor(Treeprocessor):
    """Replace arithmatex's generic math placeholders with server-rendered MathML."""

    def run(self, root: Element) -> None:
        converted: dict[tuple[str, bool], str | None] = {}  # formulas often repeat
        for el in root.iter():
            if el.get("class") != "arithmatex":
                continue
            display = el.tag == "div"
            # arithmatex escapes block math but not inline math; both are what
            # a browser would show as text, so unescape both alike.
            latex = html.unescape(el.text or "").strip()
            key = (latex, display)
            if key not in converted:
                try:
                    converted[key] = latex_to_mathml(latex, display=display)
                except Exception:  # latex2mathml raises many unrelated types, and RecursionError
                    logger.debug("Unparseable LaTeX left as text: %.80r", latex)
                    converted[key] = None
            mathml = converted[key]
            if mathml is None:
                el.set("class", "math-error")
                el.text = f"$${latex}$$" if display else f"${latex}$"
            else:
                el.set("class", "math-display" if display else "math")
                el.text = self.md.htmlStash.store(mathml)


# --- bounded cost -----------------------------------------------------------
# Python-Markdown is not written for hostile input: some 100 KB texts take
# minutes to hours (upstream issue #798). Each bound below removes one such
# case found by tests/test_markdown.py and leaves ordinary text unchanged.

_MAX_LINK_BRACKETS = 32  # "[" and "]" looked at to find where a link's text ends
_LINK_SCAN_BUDGET = 1_000_000  # characters of "(url "title")" scanned per document...
_LINK_TARGET_WIDE = 8192  # ...scanning this far for each link while the budget lasts,
_LINK_TARGET_NARROW = 128  # and only this far once a hostile text has used it up
_MAX_BLOCK_LINES = 1000  # lines in a row without a blank one
_REFERENCE_ID_WIDTH = 1000  # as CommonMark's 999-character limit on link labels
_FOOTNOTE_RE = r"\[\^([^\]]{0,200})\]"  # was [^\]]*, rescanning to the end from each "[^"
_BRACKET_RE = re.compile(r"[\[\]]")
_LINK_PATTERNS = (
    "reference",
    "link",
    "image_link",
    "image_reference",
    "short_reference",
    "short_image_ref",
)


class _LinkText:
    """Do LinkInlineProcessor.getText without walking to the end from every "[".

    Gives up after _MAX_LINK_BRACKETS brackets, and remembers answers for the
    string at hand, since six link patterns ask about the same "[" in turn.
    """

    def __init__(self) -> None:
        self._data = ""
        self._seen: dict[int, tuple[str, int, bool]] = {}

    def get_text(self, data: str, index: int) -> tuple[str, int, bool]:
        if data is not self._data:
            self._data, self._seen = data, {}
        found = self._seen.get(index)
        if found is None:
            found = self._seen[index] = self._scan(data, index)
        return found

    @staticmethod
    def _scan(data: str, index: int) -> tuple[str, int, bool]:
        depth = 1
        for seen, m in enumerate(_BRACKET_RE.finditer(data, index)):
            if seen == _MAX_LINK_BRACKETS:
                break
            depth += 1 if m.group() == "[" else -1
            if depth == 0:
                return data[index : m.start()], m.end(), True
        return "", len(data), False


def _windowed_eval_id(eval_id: Callable[..., tuple[Any, int, bool]]) -> Callable[..., Any]:
    def bounded(data: str, index: int, text: str) -> tuple[Any, int, bool]:
        link_id, end, handled = eval_id(data[index : index + _REFERENCE_ID_WIDTH], 0, text)
        return link_id, index + end, handled

    return bounded


class _LinkScanBudget:
    """Bound LinkInlineProcessor.getLink, which walks from each "(" to its ")"."""

    def __init__(self) -> None:
        self.remaining = _LINK_SCAN_BUDGET

    def wrap(self, get_link: Callable[..., tuple[Any, Any, int, bool]]) -> Callable[..., Any]:
        def bounded(data: str, index: int) -> tuple[Any, Any, int, bool]:
            width = _LINK_TARGET_WIDE if self.remaining > 0 else _LINK_TARGET_NARROW
            window = data[index : index + width]
            href, title, end, handled = get_link(window, 0)
            self.remaining -= end if handled else len(window)
            return href, title, index + end, handled

        return bounded


def _table_test(test: Callable[[Element, str], bool]) -> Callable[[Element, str], bool]:
    """Look at a table's first two rows before TableProcessor.test splits the whole block."""

    def bounded(parent: Element, block: str) -> bool:
        first = block.find("\n")
        second = block.find("\n", first + 1)
        if first < 0 or "|" not in block[:first]:
            return False
        separator = block[first + 1 : second if second >= 0 else len(block)]
        return "|" in separator and not separator.strip(" \t|:-") and test(parent, block)

    return bounded


class _BlockLinesPreprocessor(Preprocessor):
    """Break runs of more than _MAX_BLOCK_LINES lines with a blank line.

    Several block processors rescan the rest of a block after each line they
    take (a horizontal rule, a setext heading), so 25,000 lines without a
    blank one take minutes. A longer table or list is split in two.
    """

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        run = 0
        for line in lines:
            run = run + 1 if line.strip() else 0
            if run > _MAX_BLOCK_LINES:
                out.append("")
                run = 1
            out.append(line)
        return out


class _CachedStyleHtmlFormatter(HtmlFormatter):
    """HtmlFormatter that builds its token-to-class table once per style, not per block."""

    _tables: ClassVar[dict[type, tuple[dict, dict]]] = {}

    def _create_stylesheet(self) -> None:
        tables = self._tables.get(self.style)
        if tables is None:
            super()._create_stylesheet()
            self._tables[self.style] = (self.ttype2class, self.class2style)
        else:
            self.ttype2class, self.class2style = tables


_IMG_ATTRIBUTES = {"loading": "lazy", "decoding": "async", "referrerpolicy": "no-referrer"}
_CHECKBOX_ATTRIBUTES = {"type": "checkbox", "disabled": "disabled"}


class _FinishTreeprocessor(Treeprocessor):
    """Place the contents at the first [TOC], set fixed attributes, refuse oversized output."""

    def run(self, root: Element) -> None:
        # The toc extension puts the contents at every marker: [TOC] a thousand
        # times after a thousand headings is a million list items.
        for parent in root.iter():
            for child in parent:
                if child.tag == "p" and not len(child) and (child.text or "").strip() == "[TOC]":
                    child.text = self.md.htmlStash.store(self.md.toc)  # type: ignore[attr-defined]
                    break
            else:
                continue
            break
        _wrap_tables(root)
        size = sum(len(block) for block in self.md.htmlStash.rawHtmlBlocks)
        for el in root.iter():
            if el.tag == "img":
                el.attrib.update(_IMG_ATTRIBUTES)
            elif el.tag == "input":  # only pymdownx.tasklist makes these
                el.attrib.update(_CHECKBOX_ATTRIBUTES)
            size += 2 * len(el.tag) + len(el.text or "") + len(el.tail or "")
            size += sum(len(k) + len(v) + 4 for k, v in el.attrib.items())
        if size > MAX_HTML_CHARS:
            raise MarkdownTooLong(
                f"The text would make about {size:,} characters of HTML; the limit is "
                f"{MAX_HTML_CHARS:,}. A long link or formula repeated many times does this.",
                size=size,
                limit=MAX_HTML_CHARS,
            )


def _wrap_tables(root: Element) -> None:
    """Put each table in a horizontally scrolling box, so a wide one never widens the page."""
    for parent in list(root.iter()):
        for index, child in enumerate(list(parent)):
            if child.tag == "table":
                box = Element("div", {"class": "table-wrap"})
                box.append(child)
                box.tail, child.tail = child.tail, None
                parent[index] = box


def _count_headings(tokens: list[dict[str, Any]]) -> int:
    return sum(1 + _count_headings(token.get("children", [])) for token in tokens)


class _SeasonsExtension(Extension):
    """Escape raw HTML, render math to MathML, and bound the cost of hostile text."""

    def __init__(self) -> None:
        super().__init__()
        self.budget = _LinkScanBudget()

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.registerExtension(self)
        # Raw HTML is escaped, not passed through (Python-Markdown's documented
        # replacement for the removed safe_mode).
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        # After inline patterns (20), before toc (5) so headings see the math.
        md.treeprocessors.register(_MathTreeprocessor(md), "seasons-math", 15)
        md.treeprocessors.register(_FinishTreeprocessor(md), "seasons-finish", 4)
        # After fenced code is set aside (25), so long code blocks stay whole.
        md.preprocessors.register(_BlockLinesPreprocessor(md), "seasons-block-lines", 15)
        link_text = _LinkText()
        for name in _LINK_PATTERNS:
            pattern = md.inlinePatterns[name]
            pattern.getText = link_text.get_text  # type: ignore[attr-defined]
            if hasattr(pattern, "evalId"):  # [text][id]
                pattern.evalId = _windowed_eval_id(pattern.evalId)
            else:  # [text](url "title")
                pattern.getLink = self.budget.wrap(pattern.getLink)  # type: ignore[attr-defined]
        table = md.parser.blockprocessors["table"]
        table.test = _table_test(table.test)  # type: ignore[method-assign]
        footnote = md.inlinePatterns["footnote"]
        md.inlinePatterns.register(
            type(footnote)(_FOOTNOTE_RE, footnote.footnotes),  # type: ignore[attr-defined]
            "footnote",
            175,  # as markdown.extensions.footnotes registers it
        )

    def reset(self) -> None:
        self.budget.remaining = _LINK_SCAN_BUDGET


# --- markdown ---------------------------------------------------------------

_EXTENSIONS = [
    "tables",
    "fenced_code",
    "codehilite",
    "footnotes",
    "toc",
    "pymdownx.tasklist",
    "pymdownx.arithmatex",
]
_EXTENSION_CONFIGS = {
    # guess_lang off: guessing is slow and often wrong; unlabelled code stays plain.
    "codehilite": {
        "css_class": "codehilite",
        "guess_lang": False,
        "noclasses": False,
        "pygments_formatter": _CachedStyleHtmlFormatter,
    },
    # align="" instead of style="text-align: …", since the sanitizer drops style.
    "tables": {"use_align_attribute": True},
    # The page title is the only <h1>: "# Heading" in a write-up becomes <h2>.
    # marker "" because _FinishTreeprocessor places the contents itself.
    "toc": {"baselevel": 2, "slugify": slugify_unicode, "toc_depth": "2-4", "marker": ""},
    "pymdownx.tasklist": {"custom_checkbox": False, "clickable_checkbox": False},
    "pymdownx.arithmatex": {
        "generic": True,
        "tex_inline_wrap": ["", ""],
        "tex_block_wrap": ["", ""],
        "inline_syntax": ["dollar"],
        "block_syntax": ["dollar"],
        "smart_dollar": True,  # "$5 and $10" stays text
    },
}

_local = threading.local()


def _markdown() -> markdown.Markdown:
    """Return this thread's Markdown instance (instances are not thread-safe)."""
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(
            extensions=[*_EXTENSIONS, _SeasonsExtension()],
            extension_configs=_EXTENSION_CONFIGS,
            output_format="html",
        )
        _local.md = md
    return md


# --- sanitizer --------------------------------------------------------------

_MATHML_TAGS = frozenset(
    "math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mstyle "
    "mtable mtr mtd mover munder munderover mpadded mphantom menclose merror".split()
)
_MATHML_ATTRS = frozenset(
    "display mathvariant mathsize mathcolor mathbackground stretchy fence separator form "
    "lspace rspace largeop movablelimits symmetric minsize maxsize accent accentunder "
    "displaystyle scriptlevel width height depth voffset linebreak linethickness notation "
    "columnalign rowalign columnspacing rowspacing columnlines rowlines frame".split()
)
# Lengths such as "0.5em", "-0.5width", "thinmathspace"; under 100 units so that
# \rule{9999em}{9999em} cannot paint over the page.
_MATHML_LENGTH_RE = re.compile(r"[+-]?(?:\d{1,2}(?:\.\d*)?|\.\d+)?[a-z%]*")
_MATHML_LENGTH_ATTRS = frozenset(
    "mathsize lspace rspace minsize maxsize width height depth voffset".split()
)
_MATHML_COLOR_RE = re.compile(r"#?[A-Za-z0-9]{1,20}")

_TAGS = {
    *"p br hr h1 h2 h3 h4 h5 h6 strong em b i code pre blockquote".split(),
    *"ul ol li a img table thead tbody tr th td div span sup sub input".split(),
    *_MATHML_TAGS,
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "li": {"id"},
    "sup": {"id"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
    **dict.fromkeys(_MATHML_TAGS, _MATHML_ATTRS),
}
# Fixed values, set by _FinishTreeprocessor. (nh3's set_tag_attribute_values
# would also do, but emits them in a random order, so the same text would give
# different HTML, and different ETags, in different processes.)
_TAG_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "center", "right"}},
    "td": {"align": {"left", "center", "right"}},
    "input": {"type": {"checkbox"}, "disabled": {"", "disabled"}, "checked": {"", "checked"}},
    "img": {name: {value} for name, value in _IMG_ATTRIBUTES.items()},
    "math": {"xmlns": {"http://www.w3.org/1998/Math/MathML"}},
}
_PYGMENTS_CLASSES = {cls for cls in STANDARD_TYPES.values() if cls}
_ALLOWED_CLASSES = {
    "div": {"codehilite", "footnote", "toc", "math-display", "math-error", "table-wrap"},
    "span": {"math", "math-error", *_PYGMENTS_CLASSES},
    "ul": {"task-list"},
    "li": {"task-list-item"},
    "a": {"footnote-ref", "footnote-backref"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_SCHEME_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_URL_JUNK_RE = re.compile(r"[\x00-\x20\x7f]")  # browsers ignore these inside a scheme


def _make_attribute_filter(id_prefix: str):
    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr == "id":
            # A fixed prefix keeps ids off the page's own ids and off window.* names.
            return id_prefix + value
        if attr == "href" and value.startswith("#"):
            return "#" + id_prefix + value[1:]
        if tag == "img" and attr == "src":
            scheme = _SCHEME_RE.match(_URL_JUNK_RE.sub("", value))
            if scheme and scheme.group(1).lower() not in {"http", "https"}:
                return None
        if tag in _MATHML_TAGS:
            if attr in _MATHML_LENGTH_ATTRS and not _MATHML_LENGTH_RE.fullmatch(value):
                return None
            if attr in {"mathcolor", "mathbackground"} and not _MATHML_COLOR_RE.fullmatch(value):
                return None
        return value

    return attribute_filter


@lru_cache(maxsize=64)
def _cleaner(id_prefix: str) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=_make_attribute_filter(id_prefix),
        strip_comments=True,
        link_rel="nofollow noopener ugc",
        tag_attribute_values=_TAG_ATTRIBUTE_VALUES,
        url_schemes=_URL_SCHEMES,
        allowed_classes=_ALLOWED_CLASSES,
    )


# --- public API -------------------------------------------------------------


def render_document(text: str, *, id_prefix: str = DEFAULT_ID_PREFIX) -> RenderedMarkdown:
    """Render markdown to sanitized HTML plus its table of contents.

    ``id_prefix`` is put before every id and in-page link; give each document
    shown on one page its own (e.g. "u42-") so footnotes do not collide.
    """
    if len(text) > MAX_MARKDOWN_CHARS:
        raise MarkdownTooLong(
            f"The text is {len(text):,} characters long; the limit is {MAX_MARKDOWN_CHARS:,}.",
            size=len(text),
            limit=MAX_MARKDOWN_CHARS,
        )
    if not _ID_PREFIX_RE.fullmatch(id_prefix):
        raise ValueError(f"id_prefix must match {_ID_PREFIX_RE.pattern}: {id_prefix!r}")
    md = _markdown()
    try:
        body = md.convert(text)
        toc = md.toc if md.toc_tokens else ""  # type: ignore[attr-defined]
        headings = _count_headings(md.toc_tokens)  # type: ignore[attr-defined]
    finally:
        md.reset()
    cleaner = _cleaner(id_prefix)
    return RenderedMarkdown(
        html=Markup(cleaner.clean(body)), toc=Markup(cleaner.clean(toc)), headings=headings
    )


def render_markdown(text: str, *, toc: bool = False, id_prefix: str = DEFAULT_ID_PREFIX) -> Markup:
    """Render markdown to sanitized HTML; with ``toc``, put the contents first.

    The contents come first only for MIN_TOC_HEADINGS headings or more; a
    ``[TOC]`` line in the text places them there instead, whatever the count
    (the author asked for them). Raises MarkdownTooLong above MAX_MARKDOWN_CHARS.
    """
    doc = render_document(text, id_prefix=id_prefix)
    if toc and doc.headings >= MIN_TOC_HEADINGS and '<div class="toc">' not in doc.html:
        return doc.toc + doc.html
    return doc.html


def pygments_css(*, light: str = "default", dark: str = "github-dark") -> str:
    """Return CSS for highlighted code: the light style, and the dark one for dark mode."""

    def rules(style: str) -> str:
        formatter = HtmlFormatter(style=style)
        # Background and token rules only: get_style_defs() also styles every <pre>.
        return "\n".join(
            [
                *formatter.get_background_style_defs(".codehilite"),
                *formatter.get_token_style_defs(".codehilite"),
            ]
        )

    dark_rules = "\n".join("  " + line for line in rules(dark).splitlines())
    return (
        f"/* Pygments {light} / {dark}; generated by portfolio.markdown.pygments_css */\n"
        f"{rules(light)}\n"
        f"@media (prefers-color-scheme: dark) {{\n{dark_rules}\n}}\n"
    )
