"""Render markdown: Python-Markdown with our extensions, then the sanitizer.

Python-Markdown (tables, fenced code through Pygments, footnotes, table of
contents, task lists, ``$math$``) renders first, with raw HTML escaped and the
cost bounds of ``bounds.py``; ``sanitize.cleaner`` then vets the result.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import unescape as xml_unescape

import markdown
from latex2mathml.converter import convert_to_element
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup
from pygments.formatters import HtmlFormatter

from .bounds import (
    FOOTNOTE_RE,
    LINK_PATTERNS,
    LINK_SCAN_BUDGET,
    BlockLinesPreprocessor,
    LinkScanBudget,
    LinkText,
    table_test,
    windowed_eval_id,
)
from .sanitize import CHECKBOX_ATTRIBUTES, IMG_ATTRIBUTES, cleaner

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


# --- rendering --------------------------------------------------------------


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
                el.attrib.update(IMG_ATTRIBUTES)
            elif el.tag == "input":  # only pymdownx.tasklist makes these
                el.attrib.update(CHECKBOX_ATTRIBUTES)
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
        self.budget = LinkScanBudget()

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
        md.preprocessors.register(BlockLinesPreprocessor(md), "seasons-block-lines", 15)
        link_text = LinkText()
        for name in LINK_PATTERNS:
            pattern = md.inlinePatterns[name]
            pattern.getText = link_text.get_text  # type: ignore[attr-defined]
            if hasattr(pattern, "evalId"):  # [text][id]
                pattern.evalId = windowed_eval_id(pattern.evalId)
            else:  # [text](url "title")
                pattern.getLink = self.budget.wrap(pattern.getLink)  # type: ignore[attr-defined]
        table = md.parser.blockprocessors["table"]
        table.test = table_test(table.test)  # type: ignore[method-assign]
        footnote = md.inlinePatterns["footnote"]
        md.inlinePatterns.register(
            type(footnote)(FOOTNOTE_RE, footnote.footnotes),  # type: ignore[attr-defined]
            "footnote",
            175,  # as markdown.extensions.footnotes registers it
        )

    def reset(self) -> None:
        self.budget.remaining = LINK_SCAN_BUDGET


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
    clean = cleaner(id_prefix).clean
    return RenderedMarkdown(html=Markup(clean(body)), toc=Markup(clean(toc)), headings=headings)


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
