"""Render user markdown to sanitized HTML: the one way user text becomes markup.

Python-Markdown (tables, fenced code through Pygments, footnotes, table of
contents, task lists, ``$math$``) renders first; nh3 then keeps only the tags,
attributes, classes and URL schemes listed here. Raw HTML in the source is
escaped, not interpreted, so what an author types is what a reader sees, and
the sanitizer only ever has to vet markup that our own extensions produce.

The package is split by concern: ``render`` (Python-Markdown and our extensions, the
public functions), ``bounds`` (what keeps hostile text cheap) and ``sanitize`` (nh3's
allow-lists). Import from ``portfolio.markdown``.
"""

from .render import (
    DEFAULT_ID_PREFIX,
    MAX_HTML_CHARS,
    MAX_MARKDOWN_CHARS,
    MIN_TOC_HEADINGS,
    MarkdownTooLong,
    RenderedMarkdown,
    latex_to_mathml,
    pygments_css,
    render_document,
    render_markdown,
)

__all__ = [
    "DEFAULT_ID_PREFIX",
    "MAX_HTML_CHARS",
    "MAX_MARKDOWN_CHARS",
    "MIN_TOC_HEADINGS",
    "MarkdownTooLong",
    "RenderedMarkdown",
    "latex_to_mathml",
    "pygments_css",
    "render_document",
    "render_markdown",
]
