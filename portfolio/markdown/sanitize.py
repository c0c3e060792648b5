"""The sanitizer: nh3 keeps only the tags, attributes, classes and URL schemes listed here.

Raw HTML in the source is escaped before rendering (``render.py``), so this only ever
has to vet markup that our own extensions produce; it stops hostile HTML alone too.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from pygments.token import STANDARD_TYPES

# Fixed attributes that render._FinishTreeprocessor sets (and the only values allowed).
IMG_ATTRIBUTES = {"loading": "lazy", "decoding": "async", "referrerpolicy": "no-referrer"}
CHECKBOX_ATTRIBUTES = {"type": "checkbox", "disabled": "disabled"}

MATHML_TAGS = frozenset(
    "math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mstyle "
    "mtable mtr mtd mover munder munderover mpadded mphantom menclose merror".split()
)
MATHML_ATTRS = frozenset(
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
    *MATHML_TAGS,
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "li": {"id"},
    "sup": {"id"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
    **dict.fromkeys(MATHML_TAGS, MATHML_ATTRS),
}
# Fixed values, set by render._FinishTreeprocessor. (nh3's set_tag_attribute_values
# would also do, but emits them in a random order, so the same text would give
# different HTML, and different ETags, in different processes.)
_TAG_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "center", "right"}},
    "td": {"align": {"left", "center", "right"}},
    "input": {"type": {"checkbox"}, "disabled": {"", "disabled"}, "checked": {"", "checked"}},
    "img": {name: {value} for name, value in IMG_ATTRIBUTES.items()},
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
        if tag in MATHML_TAGS:
            if attr in _MATHML_LENGTH_ATTRS and not _MATHML_LENGTH_RE.fullmatch(value):
                return None
            if attr in {"mathcolor", "mathbackground"} and not _MATHML_COLOR_RE.fullmatch(value):
                return None
        return value

    return attribute_filter


@lru_cache(maxsize=64)
def cleaner(id_prefix: str) -> nh3.Cleaner:
    """Return the sanitizer for documents whose ids start with ``id_prefix``."""
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
