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
from dataclasses import dataclass
from functools import lru_cache
from xml.etree.ElementTree import Element, tostring
from xml.sax.saxutils import unescape as xml_unescape

import markdown
import nh3
from latex2mathml.converter import convert_to_element
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup
from pygments.formatters import HtmlFormatter
from pygments.token import STANDARD_TYPES

logger = logging.getLogger(__name__)

MAX_MARKDOWN_CHARS = 100_000
DEFAULT_ID_PREFIX = "md-"
_ID_PREFIX_RE = re.compile(r"[a-z][a-z0-9-]{0,39}")


class MarkdownTooLong(ValueError):
    """The markdown text is longer than MAX_MARKDOWN_CHARS."""

    def __init__(self, length: int, limit: int = MAX_MARKDOWN_CHARS) -> None:
        super().__init__(
            f"The text is {length:,} characters long; the limit is {limit:,}. "
            "Shorten it or split it into several parts."
        )
        self.length = length
        self.limit = limit


@dataclass(frozen=True)
class RenderedMarkdown:
    """Sanitized body HTML and, separately, its table of contents ("" if no headings)."""

    html: Markup
    toc: Markup


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
        for el in root.iter():
            if el.get("class") != "arithmatex":
                continue
            display = el.tag == "div"
            # arithmatex escapes block math but not inline math; both are what
            # a browser would show as text, so unescape both alike.
            latex = html.unescape(el.text or "").strip()
            try:
                mathml = latex_to_mathml(latex, display=display)
            except Exception:  # latex2mathml raises many unrelated types, and RecursionError
                logger.debug("Unparseable LaTeX left as text: %.80r", latex)
                el.set("class", "math-error")
                el.text = f"$${latex}$$" if display else f"${latex}$"
                continue
            el.set("class", "math-display" if display else "math")
            el.text = self.md.htmlStash.store(mathml)


class _MathExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After inline patterns (20), before toc (5) so headings see the math.
        md.treeprocessors.register(_MathTreeprocessor(md), "seasons-math", 15)


# --- markdown ---------------------------------------------------------------

_EXTENSIONS = [
    "tables",
    "fenced_code",
    "codehilite",
    "footnotes",
    "toc",
    "pymdownx.tasklist",
    "pymdownx.arithmatex",
    _MathExtension(),
]
_EXTENSION_CONFIGS = {
    # guess_lang off: guessing is slow and often wrong; unlabelled code stays plain.
    "codehilite": {"css_class": "codehilite", "guess_lang": False, "noclasses": False},
    # align="" instead of style="text-align: …", since the sanitizer drops style.
    "tables": {"use_align_attribute": True},
    # The page title is the only <h1>: "# Heading" in a write-up becomes <h2>.
    "toc": {"baselevel": 2, "slugify": slugify_unicode, "toc_depth": "2-4"},
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
            extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS, output_format="html"
        )
        # Escape raw HTML instead of passing it through (Python-Markdown's
        # documented replacement for the removed safe_mode).
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
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
_TAG_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "center", "right"}},
    "td": {"align": {"left", "center", "right"}},
    "input": {"checked": {"", "checked"}},
    "math": {"xmlns": {"http://www.w3.org/1998/Math/MathML"}},
}
_SET_TAG_ATTRIBUTE_VALUES = {
    # Whatever produced the <input>, it is a read-only checkbox.
    "input": {"type": "checkbox", "disabled": ""},
    "img": {"loading": "lazy", "decoding": "async", "referrerpolicy": "no-referrer"},
}
_PYGMENTS_CLASSES = {cls for cls in STANDARD_TYPES.values() if cls}
_ALLOWED_CLASSES = {
    "div": {"codehilite", "footnote", "toc", "math-display", "math-error"},
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
        set_tag_attribute_values=_SET_TAG_ATTRIBUTE_VALUES,
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
        raise MarkdownTooLong(len(text))
    if not _ID_PREFIX_RE.fullmatch(id_prefix):
        raise ValueError(f"id_prefix must match {_ID_PREFIX_RE.pattern}: {id_prefix!r}")
    md = _markdown()
    try:
        body = md.convert(text)
        toc = md.toc if md.toc_tokens else ""  # type: ignore[attr-defined]
    finally:
        md.reset()
    cleaner = _cleaner(id_prefix)
    return RenderedMarkdown(html=Markup(cleaner.clean(body)), toc=Markup(cleaner.clean(toc)))


def render_markdown(text: str, *, toc: bool = False, id_prefix: str = DEFAULT_ID_PREFIX) -> Markup:
    """Render markdown to sanitized HTML; with ``toc``, put the contents first.

    A ``[TOC]`` line in the text places the contents there instead. Raises
    MarkdownTooLong above MAX_MARKDOWN_CHARS.
    """
    doc = render_document(text, id_prefix=id_prefix)
    if toc and doc.toc and '<div class="toc">' not in doc.html:
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
