"""Cost stays bounded: size limits, hostile texts in bounded time, fuzzed text stays safe."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.markdown import (
    MAX_MARKDOWN_CHARS,
    MarkdownTooLong,
    render_markdown,
)

from .safety import assert_safe


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
