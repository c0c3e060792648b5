"""Nothing unsafe gets through: hostile markdown and hostile HTML end up allowlisted."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from portfolio.markdown import (
    render_markdown,
)
from portfolio.markdown.sanitize import cleaner

from .safety import assert_safe

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
    cleaned = cleaner("md-").clean(html)
    assert_safe(cleaned, from_markdown=False)
    assert "btn-primary" not in cleaned and "9999" not in cleaned
    assert 'type="text"' not in cleaned


# --- size and cost ------------------------------------------------------------
