"""render_markdown: every feature renders, nothing unsafe gets through, cost stays bounded."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from portfolio import markdown as md_module
from portfolio.markdown import (
    MAX_MARKDOWN_CHARS,
    MarkdownTooLong,
    pygments_css,
    render_document,
    render_markdown,
)

# --- helpers ----------------------------------------------------------------

# What the sanitizer may let through: tag -> attributes. Anything else is a bug.
MATHML_TAGS = md_module._MATHML_TAGS
ALLOWED = {
    **dict.fromkeys("p br hr strong em b i pre blockquote ul ol tbody thead tr".split(), set()),
    **dict.fromkeys("code span div ul li a sup".split(), {"class"}),
    **dict.fromkeys("h1 h2 h3 h4 h5 h6".split(), {"id"}),
    "a": {"href", "title", "rel", "class"},
    "img": {"src", "alt", "title", "loading", "decoding", "referrerpolicy"},
    "ol": {"start"},
    "li": {"id", "class"},
    "sup": {"id"},
    "table": set(),
    "th": {"align"},
    "td": {"align"},
    "sub": set(),
    "input": {"type", "disabled", "checked"},
    **dict.fromkeys(MATHML_TAGS, set(md_module._MATHML_ATTRS) | {"xmlns"}),
}
SAFE_URL = re.compile(r"(?i)^(https?:|mailto:|#|/|\.|[^:]*$)")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.tags


def assert_safe(html: str, *, from_markdown: bool = True) -> None:
    """Fail unless every tag and attribute is allowlisted and every URL is safe."""
    assert "<script" not in html.lower()
    for tag, attrs in parse(html):
        assert tag in ALLOWED, f"tag <{tag}> in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"handler {name} in {html!r}"
            assert name in ALLOWED[tag], f"<{tag} {name}> in {html!r}"
            if name in {"href", "src"}:
                assert value is not None
                assert SAFE_URL.match(value), f"{name}={value!r} in {html!r}"
            if name == "id":
                assert value is not None and value.startswith("md-")
        if tag == "a":
            assert attrs.get("rel") == "nofollow noopener ugc"
        if tag == "input":
            assert attrs.get("type", "checkbox") == "checkbox"
            # Markdown's own checkboxes always carry both; the sanitizer alone cannot add them.
            assert not from_markdown or (attrs.get("type") == "checkbox" and "disabled" in attrs)


# --- features ---------------------------------------------------------------


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

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<p style="position:fixed;top:0">x</p>',
    '<math href="javascript:alert(1)"><mi>x</mi></math>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<a href="javascript:alert(1)">x</a>',
    "<style>body{display:none}</style>",
    '<form action="https://evil.example"><input name=q></form>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    "<!-- c --><div onclick=alert(1)>x</div>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;vascript:alert(1))",
    "[x](java&#09;script:alert(1))",
    "[x](jav&#x0A;ascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:msgbox(1))",
    "![x](javascript:alert(1))",
    "![x](JAVASCRIPT:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](&#100;ata:image/png;base64,AAAA)",
    "![x](vbscript:x)",
    '![x](" onerror="alert(1))',
    '[x](#" onclick="alert(1))',
    '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")',
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x][r]\n\n[r]: data:text/html,<script>alert(1)</script>",
    "<javascript:alert(1)>",
    '<https://ok.example/"onmouseover="alert(1)>',
    "# Title <img src=x onerror=alert(1)>",
    "- [ ] <script>alert(1)</script>",
    "| a | b |\n|---|---|\n| <script>x</script> | [y](javascript:z) |",
    "x[^1]\n\n[^1]: <img src=x onerror=alert(1)> [z](javascript:q)",
    "$\\text{<script>alert(1)</script>}$",
    "$\\text{<img src=x onerror=alert(1)>}$",
    "$\\href{javascript:alert(1)}{x}$",
    '$\\color{red" onload="alert(1)}{y}$',
    "$\\mathbin{\\style{background:url(javascript:alert(1))}{x}}$",
    "$$\n\\text{<iframe src=javascript:alert(1)>}\n$$",
    "$$\n\\rule{9999em}{9999em}\n$$",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "\x00<script>alert(1)</script>",
    "\u202e<script>alert(1)</script>",
]


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_payload_does_not_get_through(payload: str) -> None:
    """No script, handler, style, unsafe URL or unlisted tag reaches the output."""
    html = render_markdown(payload, toc=True)
    assert_safe(html)
    assert "javascript:" not in html.lower() or "&lt;" in html or "<code" in html


def test_raw_html_is_shown_as_text() -> None:
    """Raw HTML is escaped, so the reader sees what the author typed."""
    html = render_markdown('Use <kbd>Ctrl</kbd> and <b onclick="x">bold</b>.')
    assert "&lt;kbd&gt;Ctrl&lt;/kbd&gt;" in html
    assert "&lt;b onclick=" in html
    assert "<b" not in html.replace("&lt;b", "")


def test_html_in_code_stays_escaped() -> None:
    """HTML in code spans and code blocks is shown, not run."""
    assert "<code>&lt;script&gt;x&lt;/script&gt;</code>" in render_markdown("`<script>x</script>`")
    block = render_markdown("```\n<img src=x onerror=alert(1)>\n```")
    assert "&lt;img src=x onerror=alert(1)&gt;" in block and "<img" not in block


def test_script_links_lose_their_href() -> None:
    """A javascript:, data: or vbscript: link keeps its text and loses its target."""
    for scheme in ("javascript:alert(1)", "data:text/html,x", "vbscript:x", "&#106;avascript:x"):
        assert render_markdown(f"[click]({scheme})") == Markup(
            '<p><a rel="nofollow noopener ugc">click</a></p>'
        )


def test_links_allow_web_mail_and_relative_urls() -> None:
    """http(s), mailto and relative links survive; every link gets rel=nofollow noopener ugc."""
    for url in ("https://a.example/x", "http://a.example", "mailto:a@b.example", "/u/ann", "#top"):
        html = render_markdown(f"[x]({url})")
        assert 'href="' in html and 'rel="nofollow noopener ugc"' in html


def test_images_allow_only_web_and_relative_sources() -> None:
    """An image's src must be http(s) or relative; mailto: and data: are dropped."""
    assert 'src="https://a.example/p.png"' in render_markdown("![p](https://a.example/p.png)")
    assert 'src="/media/p.webp"' in render_markdown("![p](/media/p.webp)")
    for src in ("mailto:a@b.example", "data:image/png;base64,AAAA", "ftp://a.example/p.png"):
        assert "src=" not in render_markdown(f"![p]({src})")


def test_math_cannot_carry_links_or_huge_sizes() -> None:
    r"""\href is dropped from MathML and a huge \rule loses its size."""
    html = render_markdown("$\\href{https://evil.example}{x}$ $\\rule{9999em}{2em}$")
    assert "href" not in html
    assert "9999em" not in html and 'height="2em"' in html


SANITIZER_CORPUS = [
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)"><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<math><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml>',
    '<math><mstyle mathbackground="url(javascript:alert(1))" mathsize="9999em">x</mstyle></math>',
    "<svg onload=alert(1)><a xlink:href=javascript:alert(1)>x</a></svg>",
    '<p style="x" onclick="y" class="btn-primary">t</p><div id="csrf_token">z</div>',
    "<input type=text name=q><input type=checkbox checked onclick=x>",
    '<a href="jav&#x09;ascript:alert(1)">x</a><a href="//evil.example">p</a>',
    '<img src="https://ok.example/x.png" onerror=x width=9999 style=x>',
]


@pytest.mark.parametrize("html", SANITIZER_CORPUS)
def test_sanitizer_alone_stops_hostile_html(html: str) -> None:
    """Even HTML that markdown never emits is cut down to the allowlist."""
    cleaned = md_module._cleaner("md-").clean(html)
    assert_safe(cleaned, from_markdown=False)
    assert "btn-primary" not in cleaned and "9999" not in cleaned
    assert 'type="text"' not in cleaned


# --- size and cost ------------------------------------------------------------


def test_text_over_the_limit_is_refused_with_a_clear_message() -> None:
    """Text past MAX_MARKDOWN_CHARS raises MarkdownTooLong, a ValueError that says why."""
    render_markdown("a" * MAX_MARKDOWN_CHARS)
    with pytest.raises(MarkdownTooLong) as raised:
        render_markdown("a" * (MAX_MARKDOWN_CHARS + 1))
    assert isinstance(raised.value, ValueError)
    assert "100,001 characters" in str(raised.value) and "100,000" in str(raised.value)
    assert raised.value.size == MAX_MARKDOWN_CHARS + 1


def test_output_amplification_is_refused() -> None:
    """A long reference used thousands of times is refused, not rendered to 800 MB."""
    text = "[r]: https://x.example/" + "a" * 50_000 + "\n\n" + "[r]" * 16_000
    with pytest.raises(MarkdownTooLong, match="characters of HTML"):
        render_markdown(text)


def _write_up(size: int) -> str:
    section = (
        "## Results\n\nWe trained a *small* **CNN** with `lr=3e-4` for [20 epochs]"
        "(https://wandb.ai/x/y/runs/abc). Loss fell as $L = \\sum_i (y_i - \\hat y_i)^2$.\n\n"
        "| run | lr | val/acc |\n|---|---:|---:|\n"
        "| base | 0.01 | 0.81 |\n| best | 0.003 | 0.93 |\n\n"
        "```python\nfor epoch in range(20):\n    loss = train(model, data)\n```\n\n"
        "- [x] baseline\n- [ ] ablation[^n]\n\n[^n]: Next season.\n\n"
    )
    return (section * (size // len(section) + 1))[:size]


@pytest.mark.timeout(60)
def test_a_realistic_100k_write_up_renders_whole() -> None:
    """A write-up at the size limit renders every construct (its speed is benchmarked).

    The timeout only tells a hang from a render; how fast it is belongs in a benchmark,
    not in an assertion on a shared two-core machine.
    """
    text = _write_up(MAX_MARKDOWN_CHARS)
    html = render_markdown(text, toc=True)
    assert "<table>" in html and "<math" in html and 'class="codehilite"' in html


N = MAX_MARKDOWN_CHARS
# Each of these took from tens of seconds to hours before the bound named beside it.
HOSTILE = {
    "unclosed brackets (link text scan)": "[" * N,
    "unclosed images": "![" * (N // 2),
    "words and brackets": "a[" * (N // 2),
    "unclosed footnote refs (footnote regex)": "[^" * (N // 2),
    "unclosed link targets (link target scan)": "[a](" * (N // 4),
    "nested link targets": "[](" * (N // 3 - 1) + ")",
    "unclosed reference ids (reference id window)": "[a][" * (N // 4),
    "rules without blank lines (block lines)": "---\n" * (N // 4),
    "setext headings without blank lines": "a\n=\n" * (N // 4),
    "repeated [TOC] (first marker only)": "# h\n\n[TOC]\n\n" * (N // 13),
    "thousands of code blocks (formatter cache)": "```py\n```\n" * (N // 10),
    "backslash escapes in one line": "\\" * N,
    "emphasis runs": "*_" * (N // 2),
}


# Unbounded, these took minutes to hours; the timeout (pytest-timeout fails the test)
# only tells seconds from minutes, it is no speed claim.
@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_renders_in_bounded_time(text: str) -> None:
    """Text shaped to hit Python-Markdown's slow paths still renders, and safely."""
    assert len(text) <= MAX_MARKDOWN_CHARS
    assert_safe(render_markdown(text, toc=True))


# --- fuzzing ------------------------------------------------------------------

MARKDOWN_ALPHABET = st.sampled_from(
    list("[]()!*_`$<>&#|:-\\^~\"' \n\t=+{}xa1")
    + ["javascript:", "data:", "<script>", "onerror=", "http://", "[TOC]", "\\frac", "- [ ] "]
    + ["```", "$$\n", "[^1]", "\n\n", "    ", "&#106;", "<img ", "<svg ", " on", "style="]
)
LATEX_ALPHABET = st.sampled_from(
    ["$", "$$\n", "\\frac", "\\text{", "\\href{", "\\begin{matrix}", "\\end{matrix}", "{", "}"]
    + ["\\newcommand{\\a}{", "\\a", "^", "_", "&", "\\\\", "<", ">", '"', "x", " ", "\n"]
    + ["\\left(", "\\right", "\\color{", "\\sqrt[", "]", "\\rule{", "em}", "#1", "\\sum"]
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _render_or_refuse(text: str) -> None:
    try:
        html = render_markdown(text, toc=True)
    except MarkdownTooLong:
        return
    assert_safe(html)


@FUZZ
@given(st.text(max_size=2000))
def test_fuzz_random_text_is_safe(text: str) -> None:
    """Random text never raises (other than MarkdownTooLong) and never yields unsafe HTML."""
    _render_or_refuse(text)


@FUZZ
@given(st.lists(MARKDOWN_ALPHABET, max_size=400).map("".join))
def test_fuzz_markdown_shaped_text_is_safe(text: str) -> None:
    """Text built from markdown syntax and attack fragments is always safe."""
    _render_or_refuse(text)


@FUZZ
@given(st.lists(LATEX_ALPHABET, max_size=200).map("".join))
def test_fuzz_latex_is_safe(text: str) -> None:
    """Any LaTeX, however broken, renders as MathML or as escaped text."""
    _render_or_refuse(text)
