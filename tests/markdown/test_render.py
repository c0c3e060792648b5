"""render_markdown: every feature renders (tables, code, footnotes, contents, math, links)."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from portfolio.markdown import (
    pygments_css,
    render_document,
    render_markdown,
)


def test_returns_markup() -> None:
    """The result is Markup, so Jinja does not escape it a second time."""
    assert isinstance(render_markdown("*hi*"), Markup)
    assert render_markdown("*hi*") == Markup("<p><em>hi</em></p>")


def test_table_renders_with_alignment_as_attribute() -> None:
    """Tables render; column alignment uses align=, since style= is stripped."""
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |")
    assert "<table>" in html and "<th" in html and "<td" in html
    assert '<td align="left">1</td>' in html and '<td align="right">2</td>' in html
    assert "style=" not in html


def test_fenced_code_is_highlighted_with_pygments_classes() -> None:
    """Fenced code gets Pygments token classes, not inline styles."""
    html = render_markdown("```python\ndef f(x):\n    return x < 1\n```")
    assert '<div class="codehilite">' in html
    assert '<span class="k">def</span>' in html
    assert '<span class="nf">f</span>' in html
    assert "&lt;" in html
    assert "style=" not in html


def test_unknown_language_and_plain_fences_still_render() -> None:
    """A fence with an unknown or no language renders as plain code."""
    for source in ("```nosuchlang\nx = 1\n```", "```\nx = 1\n```", "    indented = 1"):
        html = render_markdown(source)
        assert "<pre>" in html and "= 1" in html


def test_footnotes_link_both_ways() -> None:
    """A footnote reference links to its note and the note links back."""
    html = render_markdown("Claim.[^src]\n\n[^src]: The source.")
    assert '<sup id="md-fnref:src"><a class="footnote-ref" href="#md-fn:src"' in html
    assert '<li id="md-fn:src">' in html
    assert 'class="footnote-backref" href="#md-fnref:src"' in html


def test_table_of_contents_is_returned_and_placed() -> None:
    """Headings get ids; the contents come back apart, at [TOC], or first with toc=True."""
    text = "# Problem\n\n## Data set\n\n# Results\n\nBody."
    doc = render_document(text)
    assert '<h2 id="md-problem">Problem</h2>' in doc.html
    assert '<h3 id="md-data-set">Data set</h3>' in doc.html
    assert '<a href="#md-results"' in doc.toc and '<div class="toc">' in doc.toc
    assert '<div class="toc">' not in doc.html

    with_marker = render_markdown("[TOC]\n\n" + text)
    assert with_marker.count('<div class="toc">') == 1
    assert with_marker.index('<div class="toc">') < with_marker.index("<h2")

    prepended = render_markdown(text, toc=True)
    assert prepended.startswith('<div class="toc">')
    assert render_markdown("[TOC]\n\n" + text, toc=True).count('<div class="toc">') == 1
    assert render_markdown("No headings.", toc=True) == Markup("<p>No headings.</p>")


def test_only_the_first_toc_marker_is_replaced() -> None:
    """A second [TOC] stays text: each copy would repeat every heading."""
    html = render_markdown("# A\n\n[TOC]\n\n[TOC]")
    assert html.count('<div class="toc">') == 1
    assert "<p>[TOC]</p>" in html


def test_headings_start_at_h2() -> None:
    """The page title is the page's only <h1>; "# x" in a write-up is <h2>."""
    assert render_markdown("# Title").startswith("<h2")


def test_inline_and_display_math_render_to_mathml() -> None:
    """$...$ and $$...$$ become MathML on the server."""
    html = render_markdown("Loss is $x^2$.\n\n$$\n\\frac{a}{b}\n$$")
    assert '<span class="math"><math xmlns="http://www.w3.org/1998/Math/MathML"' in html
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in html
    assert '<div class="math-display"><math' in html and 'display="block"' in html
    assert "<mfrac>" in html


def test_prices_and_code_are_not_math() -> None:
    """Dollar amounts and dollars in code stay as written."""
    html = render_markdown("It cost $5 and $10. `echo $HOME$` too.")
    assert "<math" not in html
    assert "$5 and $10" in html and "<code>echo $HOME$</code>" in html


def test_malformed_latex_is_escaped_text() -> None:
    r"""LaTeX that latex2mathml cannot parse shows as text and does not fail the page."""
    html = render_markdown("Broken $\\frac{$ and deep $" + "{" * 3000 + "x$ and ok $y$.")
    assert '<span class="math-error">$\\frac{$</span>' in html
    assert html.count('class="math-error"') == 2
    assert "<mi>y</mi>" in html
    block = render_markdown("$$\n\\begin{matrix} a\n$$")
    assert '<div class="math-error">' in block


def test_task_lists_render_disabled_checkboxes() -> None:
    """- [ ] and - [x] become read-only checkboxes."""
    html = render_markdown("- [ ] todo\n- [x] done\n- plain")
    assert '<ul class="task-list">' in html
    assert '<input type="checkbox" disabled=""> todo' in html
    assert '<input type="checkbox" disabled="" checked=""> done' in html
    assert "<li>plain</li>" in html


def test_links_images_and_references_keep_working() -> None:
    """The cost bounds on link parsing leave ordinary links as Python-Markdown made them."""
    html = render_markdown(
        '[a [b] c](https://x.org/p?q=1 "T (1)") ![fig [1]](img/f.png) [ref][r] [r] '
        "<https://auto.link> <me@example.org> [not a link]\n\n[r]: https://r.org"
    )
    assert (
        '<a href="https://x.org/p?q=1" title="T (1)" rel="nofollow noopener ugc">a [b] c</a>'
        in html
    )
    assert '<img alt="fig [1]"' in html and 'src="img/f.png"' in html
    assert html.count('href="https://r.org"') == 2
    assert 'href="https://auto.link"' in html and 'href="mailto:me@example.org"' in html
    assert "[not a link]" in html


def test_long_link_target_still_works() -> None:
    """A signed URL of a few thousand characters is still a link."""
    url = "https://bucket.example.org/f.png?sig=" + "a" * 3000
    assert f'href="{url}"' in render_markdown(f"[figure]({url})")


def test_id_prefix_namespaces_ids_and_fragment_links() -> None:
    """Each document on a page can have its own id prefix; in-page links follow it."""
    html = render_markdown("# Top\n\nSee [top](#top).[^1]\n\n[^1]: n", id_prefix="u42-")
    assert 'id="u42-top"' in html and 'href="#u42-top"' in html
    assert 'id="u42-fn:1"' in html and 'href="#u42-fnref:1"' in html
    with pytest.raises(ValueError):
        render_markdown("x", id_prefix='"><script>')
    with pytest.raises(ValueError):
        render_markdown("x", id_prefix="")


def test_pygments_css_has_light_and_dark_rules_scoped_to_code() -> None:
    """The stylesheet styles .codehilite in light and dark mode and nothing else."""
    css = pygments_css()
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    assert ".codehilite .k {" in light and ".codehilite .k {" in dark
    assert "#0d1117" in dark.lower()
    for line in css.splitlines():
        selector = line.split("{")[0].strip()
        if "{" in line and not selector.startswith("@media"):
            assert selector.startswith(".codehilite"), line


# --- raw HTML and XSS ---------------------------------------------------------
