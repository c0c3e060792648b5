"""What the sanitizer may let through, and a check that rendered HTML keeps to it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from portfolio.markdown.sanitize import MATHML_ATTRS, MATHML_TAGS

# What the sanitizer may let through: tag -> attributes. Anything else is a bug.
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
    **dict.fromkeys(MATHML_TAGS, set(MATHML_ATTRS) | {"xmlns"}),
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
